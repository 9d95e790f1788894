"""A study end to end: the run directory, the self-contained report, regenerating the
report from stored results, reading results back, the CLI, and atomic writes."""

import os
import re
import shutil

import markupsafe
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lstmtune.report import planned
from lstmtune.study import planner
from lstmtune.study import results_io
from lstmtune.study import spec
from lstmtune.workflow import study
from lstmtune.cli.app import app
from lstmtune.errors import LstmtuneError

pytestmark = pytest.mark.slow  # the fast subset (pytest -m 'not slow') leaves this module out; the full run keeps it

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

TINY = {
    "name": "tiny",
    "seed": 3,
    "transforms": {"trim": 2},
    "model": {"batch_size": 4, "epochs": 5},
    "runs": {"mode": "both", "repeats": 3, "diagnostic_repeats": 2},
    # the tutorial's protocol (choose and score on the test set); the honest default is tested below
    "evaluation": {"selection": "test"},
    "grids": {"u": {"units": [1, 2]}, "e": {"epochs": [5, 10]}},
}
# (sub-study, label, units, epochs); units=1 @ 5 epochs is in both sub-studies (trained once)
POINTS = [("u", "units=1", 1, 5), ("u", "units=2", 2, 5), ("e", "epochs=5", 1, 5), ("e", "epochs=10", 1, 10)]


@pytest.fixture(scope="module")
def tiny_spec():
    return spec.from_dict(TINY, "tiny")


@pytest.fixture(scope="module")
def outcome(tiny_spec, tmp_path_factory):
    return study.run(tiny_spec, tmp_path_factory.mktemp("study") / "out")


def _strip_images(html: str) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png;base64,IMG", html)


# --------------------------------------------------------------------------- the run directory
def test_run_directory_layout(outcome):
    d = outcome.directory
    assert d.is_dir()
    expected = {
        "study.toml", "results.csv", "results.parquet", "curves.npz", "summary.csv",
        "series.csv", "environment.json", "report.html", "plots", "study.db", ".lstmtune-run", "curves.parquet", "test_forecasts.csv",
    }
    assert {p.name for p in d.iterdir()} == expected
    plots = {p.name for p in (d / "plots").iterdir()}
    want = {"series.png", "test_forecasts.png", ".keys.json"}
    for sub in ("u", "e"):
        want |= {f"box_{sub}.png", f"median_{sub}.png"}
    for sub, label, _, _ in POINTS:
        if (sub, label) == ("e", "epochs=5"):
            continue  # a checkpoint of the epochs=10 run: marked on its figure, not drawn alone
        slug = label.replace("=", "-")
        want |= {f"diag_{sub}_{slug}.png", f"band_{sub}_{slug}.png"}
    assert plots == want
    # the count the drawing helpers are started for, before anything trains
    assert len([n for n in plots if n.endswith(".png")]) == planned.figures(planner.plan(outcome.results.spec))
    for name in plots:
        if name.endswith(".png"):
            assert (d / "plots" / name).read_bytes()[:8] == PNG_MAGIC, name
    # no temporary folders left beside it
    assert [p.name for p in d.parent.iterdir()] == ["out"]


def test_stored_spec_is_the_study(outcome, tiny_spec):
    assert spec.load(outcome.directory / "study.toml") == tiny_spec


def test_results_csv_one_row_per_config_and_repeat(outcome):
    runs = pd.read_csv(outcome.directory / "results.csv")
    assert len(runs) == 3 * 3  # 3 distinct configurations x 3 repeats
    counts = runs.groupby(["units", "epochs"])["repeat"].apply(lambda r: sorted(r.tolist()))
    assert counts.to_dict() == {(1, 5): [0, 1, 2], (1, 10): [0, 1, 2], (2, 5): [0, 1, 2]}
    np.testing.assert_allclose(runs["test_rmse"].to_numpy(), outcome.results.runs["test_rmse"].to_numpy(), rtol=1e-12)


def test_summary_csv_one_row_per_sub_study_config(outcome):
    summary = pd.read_csv(outcome.directory / "summary.csv")
    assert list(zip(summary["study"], summary["config"])) == [(s, label) for s, label, _, _ in POINTS]
    summary = summary.rename(columns=lambda c: c.removeprefix("test_rmse_"))
    for col in ("mean", "std", "mean_ci_low", "mean_ci_high", "skill_%", "count", "selected", "indistinguishable_from_best"):
        assert col in summary.columns, col
    runs = outcome.results.runs
    persistence = outcome.analysis.persistence_rmse
    assert persistence == pytest.approx(136.761, abs=5e-4)
    for (_, row), (_, _, units, epochs) in zip(summary.iterrows(), POINTS):
        scores = runs[(runs["units"] == units) & (runs["epochs"] == epochs)]["test_rmse"].to_numpy()
        assert row["count"] == 3
        assert row["mean"] == pytest.approx(scores.mean(), rel=1e-12)
        assert row["std"] == pytest.approx(scores.std(ddof=1), rel=1e-9)
        assert row["mean_ci_low"] <= row["mean"] <= row["mean_ci_high"]
        assert row["skill_%"] == pytest.approx(100 * (1 - scores.mean() / persistence), rel=1e-9)
    # exactly one best per sub-study, and it has the lowest mean there
    for sub, frame in summary.groupby("study"):
        assert frame["selected"].sum() == 1
        assert frame.loc[frame["selected"], "mean"].iloc[0] == frame["mean"].min()


# --------------------------------------------------------------------------- the report
def test_report_html_contents(outcome):
    html = (outcome.directory / "report.html").read_text()
    for _, label, _, _ in POINTS:
        assert f"<td>{label}</td>" in html
    assert "136.761" in html
    for sub in outcome.analysis.substudies:
        assert str(markupsafe.escape(sub.comparison.sentence())) in html
        assert f"Study: {sub.name}" in html
    study_name, best_label, best_mean = outcome.analysis.best_overall()
    assert f"<b>{best_label}</b> ({study_name}), {best_mean:.2f}" in html
    # self-contained: 1 series + per sub-study box and median + 2 figures per configuration
    images = re.findall(r'<img src="([^"]*)"', html)
    assert len(images) == 1 + 1 + 2 * 2 + 2 * (len(POINTS) - 1)  # series, test forecasts, box + median per sub-study, 2 per family
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert '<img src="data:image/png;base64,' in html
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"<(script|link)\b", html)


def test_report_regenerates_from_stored_results(outcome, tmp_path, monkeypatch):
    d = tmp_path / "copy"
    shutil.copytree(outcome.directory, d)
    old = (d / "report.html").read_text()
    (d / "report.html").unlink()
    shutil.rmtree(d / "plots")
    path = study.report(d)
    assert path == d / "report.html"
    assert path.is_file()
    assert {p.name for p in (d / "plots").iterdir()} == {p.name for p in (outcome.directory / "plots").iterdir()}
    new = path.read_text()
    _, _, best_mean = outcome.analysis.best_overall()
    assert f"{best_mean:.2f}" in new
    # same numbers, tables, verdicts and timings: everything but (possibly) the PNG bytes
    assert _strip_images(new) == _strip_images(old)
    # `lstmtune report` in a process that trained nothing (JAX not imported): the run's own
    # devices and versions, not "n, o, t,  , q, u, e, r, i, e, d" (the text joined letter by letter)
    from lstmtune.study import results_io

    monkeypatch.setattr(results_io, "environment", lambda: {"python": "0", "platform": "elsewhere", "devices": "not queried: nothing was trained by this process", "versions": {}})
    assert _strip_images(study.report(d).read_text()) == _strip_images(old)


def test_report_command_and_missing_directory(outcome, tmp_path):
    d = tmp_path / "copy"
    shutil.copytree(outcome.directory, d)
    (d / "report.html").unlink()
    result = CliRunner().invoke(app, ["report", str(d)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    assert (d / "report.html").is_file()

    with pytest.raises(LstmtuneError, match="no such run directory"):
        study.report(tmp_path / "nowhere")
    (d / "curves.npz").unlink()
    result = CliRunner().invoke(app, ["report", str(d)])
    assert result.exit_code == 2
    assert "missing curves.npz" in result.output


def test_results_io_read_round_trip(outcome):
    results, meta = results_io.read(outcome.directory)
    pd.testing.assert_frame_equal(results.runs, outcome.results.runs, check_exact=True)
    assert set(results.curves) == set(outcome.results.curves)
    for k, c in outcome.results.curves.items():
        np.testing.assert_array_equal(results.curves[k], c)
    assert results.spec == outcome.results.spec
    assert results.points == outcome.results.points
    assert results.baselines == outcome.results.baselines
    np.testing.assert_array_equal(results.series.values, outcome.results.series.values)
    np.testing.assert_array_equal(results.series.dates, outcome.results.series.dates)
    assert results.timings["wall_s"] == pytest.approx(outcome.wall_s)
    assert "versions" in meta["environment"]


# --------------------------------------------------------------------------- CLI
def test_cli_run_quiet_prints_summary(outcome, tiny_spec, tmp_path):
    study_file = tmp_path / "s.toml"
    study_file.write_text(spec.dumps(tiny_spec))
    out = tmp_path / "o"
    result = CliRunner().invoke(app, ["run", str(study_file), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Best configuration" in text
    assert "persistence" in text
    assert "136.761" in text
    assert str(out / "report.html") in text.replace("\n", "")
    assert (out / "report.html").is_file()
    # the same study file reproduces the library run exactly
    study_name, label, mean = outcome.analysis.best_overall()
    assert f"Best configuration: {label} ({study_name}), mean test RMSE {mean:.2f}" in text
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), outcome.results.runs, check_exact=True)


# --------------------------------------------------------------------------- atomicity
def _boom(*args, **kwargs):
    raise RuntimeError("render failed")


def test_failed_report_leaves_no_half_written_outputs(tiny_spec, tmp_path, monkeypatch):
    # The trained runs are kept in the store (so a rerun resumes), but no derived
    # output (table, figure, report) and no temporary folder is left behind.
    monkeypatch.setattr("lstmtune.report.html.render", _boom)
    out = tmp_path / "runs" / "out"
    with pytest.raises(RuntimeError, match="render failed"):
        study.run(tiny_spec, out)
    assert sorted(p.name for p in out.iterdir()) == [".lstmtune-run", "study.db"]
    monkeypatch.undo()
    outcome = study.run(tiny_spec, out)
    assert outcome.results.timings["populations_trained"] == 0  # resumed: nothing recomputed
    assert (out / "report.html").is_file()


def test_a_failure_while_the_figures_are_drawn_stops_them_and_leaves_no_outputs(tiny_spec, tmp_path, monkeypatch):
    import threading

    from lstmtune.report import drawing

    monkeypatch.setattr(drawing, "MIN_JOBS", 2)  # a helper draws this tiny report's figures while the tables are written
    monkeypatch.setenv("LSTMTUNE_DRAW_PROCESSES", "2")
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr("lstmtune.study.results_io.write", _boom)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="failed"):
        study.run(tiny_spec, out)
    assert sorted(p.name for p in out.iterdir()) == [".lstmtune-run", "study.db"]
    assert not [t for t in threading.enumerate() if t.name == "lstmtune-draw-helper"]  # stopped, their helper process closed


def test_failed_rerun_keeps_the_previous_outputs(tiny_spec, tmp_path, monkeypatch):
    out = tmp_path / "out"
    study.run(tiny_spec, out)
    before = (out / "report.html").read_bytes()
    monkeypatch.setattr("lstmtune.report.html.render", _boom)
    with pytest.raises(RuntimeError):
        study.run(tiny_spec, out)
    assert (out / "report.html").read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.startswith(".outputs.")]


# --------------------------------------------------------------------------- the honest default
HONEST = {**{k: v for k, v in TINY.items() if k != "evaluation"}, "name": "honest", "transforms": {}}


@pytest.mark.figures
def test_honest_study_selects_on_validation_and_tests_once(tmp_path, monkeypatch):
    from lstmtune.report import figures

    told = []  # what each curve figure was told its orange line scores
    for name in ("diagnostic_lines", "diagnostic_band"):
        real = getattr(figures, name)
        monkeypatch.setattr(figures, name, lambda *a, real=real, **k: (told.append(k.get("holdout")), real(*a, **k))[1])
    s = spec.from_dict(HONEST, "honest")
    assert s.evaluation.selection == "validation"  # the default for new studies
    out = tmp_path / "h"
    result = CliRunner().invoke(app, ["run", str(_write(s, tmp_path)), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    text = result.output.replace("\n", " ")
    runs = pd.read_csv(out / "results.csv")
    summary = pd.read_csv(out / "summary.csv")
    assert {"validation_rmse", "validation_mae", "test_rmse", "tested"} <= set(runs.columns)
    assert {"validation_rmse_mean", "selected", "test_rmse_mean"} <= set(summary.columns)
    for sub, frame in summary.groupby("study"):
        assert frame["selected"].sum() == 1
        chosen = frame[frame["selected"]].iloc[0]
        assert chosen["validation_rmse_mean"] == frame["validation_rmse_mean"].min()
        # only the selected configuration has test statistics
        assert frame["test_rmse_mean"].notna().sum() == 1 and np.isfinite(chosen["test_rmse_mean"])
        assert "Selected on validation" in text and "(scored once" in text
        assert f"{chosen['test_rmse_mean']:.2f} (scored once" in text
    # one test score per configuration tested, from its own (refit) runs
    tested = runs[runs["tested"]]
    assert tested["test_rmse"].notna().all() and runs.loc[~runs["tested"], "test_rmse"].isna().all()
    # the last line counts every training, as `plan` does: it left out the test's refits (a docs probe)
    assert f"{len(runs) + len(tested)} runs ({len(runs)} to select, {len(tested)} refit to test);" in text
    html = (out / "report.html").read_text()
    assert "Selected on validation" in html and "scored each selected configuration once" in html
    assert "Best mean test RMSE" not in html
    assert told and set(told) == {"validation"}  # the curves score the validation part: they were labelled "test"


def _write(s, tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(spec.dumps(s))
    return f


def test_the_report_is_refreshed_while_a_study_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(study, "REFRESH_S", 0.0)
    seen = []

    def look(done, total, pop):
        page = tmp_path / "out" / "report.html"
        seen.append(page.read_text() if page.exists() else None)

    s = spec.from_dict({**TINY, "name": "watched", "grids": {"u": {"units": [1, 2, 3]}}})
    study.run(s, tmp_path / "out", on_population=look)
    progress = [p for p in seen if p is not None]
    assert progress and all("watched: in progress" in p for p in progress)
    assert re.search(r"units=\d", progress[-1]) and "mean RMSE so far" in progress[-1]  # the populations finished so far
    final = (tmp_path / "out" / "report.html").read_text()
    assert "in progress" not in final and "lstmtune report: watched" in final
    assert not list((tmp_path / "out").glob(".report.html.*"))


def test_run_data_runs_the_default_study_on_a_csv(tmp_path):
    """`lstmtune run --data FILE.csv`: the default study on a user's CSV, no study file."""
    import pandas as pd
    from typer.testing import CliRunner

    from lstmtune.cli.app import app
    from lstmtune.data.series import load

    s = load("shampoo")
    f = tmp_path / "mine.csv"
    pd.DataFrame({"month": pd.DatetimeIndex(s.dates).strftime("%Y-%m"), "sales": s.values * 2}).to_csv(f, index=False)
    res = CliRunner().invoke(app, ["run", "--data", str(f), "--out", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 0, res.output
    series = pd.read_csv(tmp_path / "o" / "series.csv")
    assert series.iloc[:, -1].tolist() == (s.values * 2).tolist()  # the user's data, not shampoo
    assert "source = " in (tmp_path / "o" / "study.toml").read_text() and "mine.csv" in (tmp_path / "o" / "study.toml").read_text()
    bad = CliRunner().invoke(app, ["run", str(tmp_path / "o" / "study.toml"), "--data", str(f), "--out", str(tmp_path / "p")])
    assert bad.exit_code == 2 and "--data" in bad.output


def test_the_configuration_selected_is_the_one_the_summary_ranks_first_with_more_diagnostic_repeats(tmp_path):
    """With diagnostic_repeats above repeats every configuration trains more repeats; the choice
    was made on their mean while summary.csv, its table and the test score use the first
    `repeats`: units=1 was tested although the table ranked units=3 first (a probe, seed 2)."""
    s = spec.from_dict({"name": "dr2", "seed": 2, "model": {"units": 1, "batch_size": 4, "epochs": 50},
                        "runs": {"mode": "both", "repeats": 2, "diagnostic_repeats": 5}, "grid": {"units": [1, 2, 3]}})
    study.run(s, tmp_path / "o")
    summary = pd.read_csv(tmp_path / "o" / "summary.csv")
    assert (summary["validation_rmse_count"] == 2).all()
    assert summary.loc[summary["selected"], "config"].item() == summary.loc[summary["validation_rmse_mean"].idxmin(), "config"]


def test_a_diagnostic_study_selects_on_the_repeats_its_summary_ranks(tmp_path):
    """Under mode = "diagnostic" the summary ranks diagnostic_repeats runs, but the choice was
    made on the first `repeats` of them (a setting that mode does not run): units=3 was tested
    although the table ranked units=1 first (a review, seed 2)."""
    s = spec.from_dict({"name": "dm", "seed": 2, "model": {"units": 1, "batch_size": 4, "epochs": 30},
                        "runs": {"mode": "diagnostic", "repeats": 2, "diagnostic_repeats": 4}, "grid": {"units": [1, 2, 3]}})
    study.run(s, tmp_path / "o")
    summary = pd.read_csv(tmp_path / "o" / "summary.csv")
    assert (summary["validation_rmse_count"] == 4).all()
    assert summary.loc[summary["selected"], "config"].item() == summary.loc[summary["validation_rmse_mean"].idxmin(), "config"] == "units=1"


def test_the_curves_figures_draw_persistence_on_the_holdout_the_curves_score(tmp_path, monkeypatch):
    """Under backtest selection the per-epoch curves are one-step errors on the latest fold, but
    their figures drew persistence averaged over the folds (and at H steps with a horizon):
    81.8 beside curves of a fold whose persistence is 98.3 (a report probe)."""
    from lstmtune.report import figures

    drawn = {}
    for name in ("diagnostic_lines", "diagnostic_band", "median_curves", "box_plot"):
        real = getattr(figures, name)
        monkeypatch.setattr(figures, name, lambda *a, real=real, name=name, **k: (drawn.setdefault(name, set()).add(round(k["baseline"], 6)), real(*a, **k))[1])
    raw = {**{k: v for k, v in TINY.items() if k not in ("evaluation", "grids", "transforms")}, "name": "bt",
           "evaluation": {"selection": "backtest", "folds": 2, "validation_size": 6, "horizon": 2}, "grid": {"units": [1]}}
    s = spec.from_dict(raw, "bt")
    outcome = study.run(s, tmp_path / "bt")
    values = outcome.results.series.values[:-s.data.test_size]
    latest_fold = values[-7:]  # its 6 points and the one before them
    one_step = float(np.sqrt(np.mean(np.diff(latest_fold) ** 2)))
    assert drawn["diagnostic_lines"] == drawn["diagnostic_band"] == drawn["median_curves"] == {round(one_step, 6)}
    assert drawn["box_plot"] == {round(outcome.analysis.persistence_rmse, 6)} != {round(one_step, 6)}  # the selection scores' own
    page = " ".join((tmp_path / "bt" / "report.html").read_text().split())  # and the captions say which fold (a report probe)
    assert "on the latest of the 2 backtest folds, the one just before the test" in page and "(the latest backtest fold)" in page


def test_sub_studies_whose_names_slug_alike_each_get_their_own_figures(tmp_path, monkeypatch):
    """[grids."a<b"] and [grids."a>b"] shared box_a-b.png and median_a-b.png: one section showed
    the other's runs, and `lstmtune report` drew the other one (a probe)."""
    from lstmtune.report import figures, html

    drawn = {}
    real = figures.box_plot
    monkeypatch.setattr(figures, "box_plot", lambda groups, path, **k: (drawn.__setitem__(path.name, k["title"]), real(groups, path, **k))[1])
    raw = {**{k: v for k, v in TINY.items() if k != "grids"}, "name": "coll", "grids": {"a<b": {"units": [1, 2]}, "a>b": {"units": [1, 3]}}}
    study.run(spec.from_dict(raw, "coll"), tmp_path / "o")
    assert len(drawn) == 2 and sorted(t.split(":")[0] for t in drawn.values()) == ["a<b", "a>b"], drawn
    page = (tmp_path / "o" / "report.html").read_text()
    assert all(html.pages.inline(tmp_path / "o" / "plots", name) in page for name in drawn)
    assert html._slugs(["a<b", "a>b", "units"])["units"] == "units" and len(set(html._slugs(["small_units", "Small-Units"]).values())) == 2


def test_scores_of_data_of_a_small_scale_are_printed_with_their_digits(tmp_path):
    """Shampoo divided by 100,000: every score of the terminal's tables read 0.00 (CIs 0.0–0.0),
    the baselines 0.001-0.003 and the figures' persistence 0.0 (a probe)."""
    from typer.testing import CliRunner

    from lstmtune.cli.app import app
    from lstmtune.data import series as data
    from lstmtune.report import pages

    s = data.load("shampoo")
    pd.DataFrame({"date": s.dates, "value": s.values / 100000}).to_csv(tmp_path / "tiny.csv", index=False)
    (tmp_path / "s.toml").write_text('name = "t"\nseed = 1\n[data]\nsource = "tiny.csv"\n[model]\nepochs = 5\n[runs]\nrepeats = 3\ndiagnostic_repeats = 1\n')
    res = CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "persistence 0.001368" in text and " 0.00 " not in text and "0.0–0.0" not in text, text  # persistence 136.761 / 100,000
    assert pages.short(0.00136761) == "0.00137" and pages.short(98.33) == "98.3" and pages.short(136.76) == "136.8"
    assert pages.number(136.761, 136.761, 3) == "136.761" and pages.number(0.00136761, 0.00136761, 3) == "0.001368"


def test_a_multi_step_studys_test_figure_does_not_call_its_one_step_forecasts_scored(tmp_path, monkeypatch):
    """Under horizon = 3 the legend said "one-step walk-forward (as scored)" beside a test RMSE of
    3-step forecasts (a report probe)."""
    from matplotlib.axes import Axes

    labels = []
    real = Axes.plot
    monkeypatch.setattr(Axes, "plot", lambda self, *a, **k: (labels.append(k.get("label")), real(self, *a, **k))[1])
    from lstmtune.report import figures

    t = np.arange(6.0)
    dates = pd.date_range("2020-01-01", periods=6, freq="MS")
    for horizon, expected in ((1, "one-step walk-forward (as scored)"), (3, "one-step walk-forward (the test RMSE scored 3-step forecasts)")):
        labels.clear()
        figures.test_forecasts(dates[:3], t[:3], dates[3:], t[3:], np.tile(t[3:], (4, 1)), np.tile(t[3:], (4, 1)), tmp_path / f"h{horizon}.png", label="x", horizon=horizon)
        assert any(str(lab).startswith(expected + ":") for lab in labels), labels


def test_report_on_an_auto_output_folder_says_what_it_is(tmp_path):
    from typer.testing import CliRunner

    from lstmtune.cli.app import app

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / ".lstmtune-auto").write_text("")
    res = CliRunner().invoke(app, ["report", str(tmp_path / "a")])
    assert res.exit_code == 2 and "lstmtune auto's output folder; its report is report.html" in " ".join(res.output.split()), res.output


def test_the_test_forecasts_of_a_study_of_several_sub_studies_name_theirs(tmp_path):
    """The section drew one sub-study's selection without saying which (a report probe)."""
    raw = {**{k: v for k, v in TINY.items() if k not in ("evaluation",)}, "name": "two"}
    study.run(spec.from_dict(raw, "two"), tmp_path / "o")
    page = " ".join((tmp_path / "o" / "report.html").read_text().split())
    assert "of sub-study <b>" in page and "of the 2 sub-studies' selections, the one of lowest selection score" in page


@pytest.mark.parametrize("refit", [True, False])
def test_the_last_line_counts_every_phases_runs_as_plan_does(tmp_path, refit):
    """Under backtests the last line counted the first fold's runs alone, and without refit it
    left the test phase out ("6 runs" where `plan` said 18), so a resumed study's reuse went
    unsaid (a probe)."""
    s = spec.from_dict({"name": "folds", "seed": 2, "data": {"test_size": 6}, "model": {"batch_size": 2, "epochs": 6},
                        "runs": {"mode": "summary", "repeats": 2},
                        "evaluation": {"selection": "backtest", "validation_size": 4, "folds": 2, "refit": refit, "test_all": True},
                        "grids": {"a": {"epochs": [3, 6]}, "b": {"units": [1, 2]}}})
    f = _write(s, tmp_path)
    runner = CliRunner()
    planned_runs = int(re.search(r"runs: (\d+)", " ".join(runner.invoke(app, ["plan", str(f)]).output.split())).group(1))
    res = runner.invoke(app, ["run", str(f), "--out", str(tmp_path / "a"), "--storage", f"sqlite:///{tmp_path / 'shared.db'}", "-q"])
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    verb = "refit to test" if refit else "to test"
    assert f"{planned_runs} runs ({2 * planned_runs // 3} to select over 2 folds, {planned_runs // 3} {verb});" in said, said
    res = runner.invoke(app, ["run", str(f), "--out", str(tmp_path / "b"), "--storage", f"sqlite:///{tmp_path / 'shared.db'}", "-q"])
    said = " ".join(res.output.split())
    assert res.exit_code == 0 and f"{verb}) (0 trained now, the rest already stored);" in said, said


def test_the_reports_lead_counts_every_phases_runs_and_a_shared_configuration_once(tmp_path):
    """"16 runs of 5 configurations": two sub-studies sharing units=1 at 60 epochs counted it
    twice, and the test phase's refits were left out (32 trained); with a horizon above 1 "which
    end before the test set" followed the multi-step clause, as if said of the curves (a probe)."""
    import html as html_mod

    s = spec.from_dict({"name": "lead", "seed": 3, "data": {"test_size": 12}, "model": {"batch_size": 4, "epochs": 6},
                        "runs": {"mode": "summary", "repeats": 2},
                        "evaluation": {"selection": "validation", "validation_size": 6, "test_all": True, "horizon": 2},
                        "grids": {"units": {"units": [1, 2]}, "epochs": {"epochs": [3, 6]}}})
    res = CliRunner().invoke(app, ["run", str(_write(s, tmp_path)), "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 0, res.output
    runs = pd.read_csv(tmp_path / "o" / "results.csv")
    assert runs["config"].nunique() == 3  # units 1 at 6 epochs is in both sub-studies
    text = " ".join(html_mod.unescape(re.sub(r"<[^>]+>", " ", (tmp_path / "o" / "report.html").read_text())).split())
    assert "12 runs (6 to select, 6 refit to test) of 3 configurations on" in text, text[:300]
    assert "which end before the test set" not in text
