"""lstmtune run --data PANEL.csv: the study on every series, a choice per series, the panel's
pooled choice and the one selected most often; a series that cannot run is named."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lstmtune.cli.app import app
from lstmtune.data.series import load

pytestmark = pytest.mark.slow  # trains a study on two series

# The default study's settings, smaller (the default study itself on a panel: test_study.py)
SMALL = """name = "units"
seed = 1
[data]
test_size = 12
[model]
batch_size = 4
epochs = 200
[runs]
mode = "both"
repeats = 6
diagnostic_repeats = 3
[evaluation]
selection = "validation"
validation_size = 6
test_all = true
[grid]
units = [1, 2, 3]
"""


def _panel(path):
    s = load("shampoo")
    parts = [pd.DataFrame({"unique_id": uid, "ds": pd.DatetimeIndex(s.dates), "y": s.values * k}) for uid, k in (("a", 1.0), ("b", 3.0))]
    parts.append(pd.DataFrame({"unique_id": "short", "ds": pd.DatetimeIndex(s.dates)[:10], "y": s.values[:10]}))
    pd.concat(parts).to_csv(path, index=False)


def test_a_panel_runs_the_study_per_series_and_pools_the_choice(tmp_path):
    _panel(tmp_path / "p.csv")
    (tmp_path / "s.toml").write_text(SMALL)
    res = CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--data", str(tmp_path / "p.csv"), "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 3, res.output  # one series could not run
    assert "series short not run" in " ".join(res.output.split()) and "no training rows" in res.output
    out = tmp_path / "o"
    summary = pd.read_csv(out / "panel_summary.csv").set_index("unique_id")
    assert list(summary["status"]) == ["ok", "ok", "failed"]
    # min-max scaling makes a series times 3 train identically: its errors are 3 times as large
    np.testing.assert_allclose(summary.loc["b", "score"], 3 * summary.loc["a", "score"], rtol=1e-5)
    assert summary.loc["a", "config"] == summary.loc["b", "config"]
    results = pd.read_csv(out / "results.csv")
    configs = pd.read_csv(out / "panel_configs.csv")
    persistence = {uid: json.loads((out / summary.loc[uid, "report"]).with_name("environment.json").read_text())["selection_baselines"]["persistence"]["rmse"]
                   for uid in ("a", "b")}  # each series' persistence on its selection points
    for _, row in configs.iterrows():
        part = results[results["config"] == row["config"]]
        assert row["wins"] == int(part["selected"].sum())
        scaled = [r["validation_rmse_mean"] / persistence[r["unique_id"]] for _, r in part.iterrows()]
        np.testing.assert_allclose(row["pooled_scaled_error"], np.mean(scaled), rtol=1e-9)
    assert configs["pooled_scaled_error"].is_monotonic_increasing
    from lstmtune.study import spec as spec_mod
    from lstmtune.workflow.study import load_series

    for uid, k in (("a", 1.0), ("b", 3.0)):
        assert (out / summary.loc[uid, "report"]).is_file()
        assert f"<h1>lstmtune report: units on {uid}</h1>" in (out / summary.loc[uid, "report"]).read_text()  # every series' report was titled alike (a probe)
        own = spec_mod.load((out / summary.loc[uid, "report"]).with_name("study.toml"))  # names its own data: rerunnable alone
        np.testing.assert_allclose(load_series(own).values, load("shampoo").values * k)
    page = (out / "index.html").read_text()
    assert "series/" in page and "<p>2 of 3 series ran; the pooled choice is over those.</p>" in page
    # each series' scores beside its choice (the page named the choice only: a probe)
    assert "<th>selection score</th>" in page and f"<td>{summary.loc['b', 'score']:.4g}</td>" in page and f"<td>{summary.loc['a', 'skill_%']:.4g}</td>" in page
    # a rerun resumes series by series: nothing retrained; a finished series is read back, its files untouched
    written = {uid: (out / summary.loc[uid, "report"]).with_name("environment.json").stat().st_mtime_ns for uid in ("a", "b")}
    again = CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--data", str(tmp_path / "p.csv"), "--out", str(out), "-q"])
    assert again.exit_code == 3
    for uid in ("a", "b"):
        assert (out / summary.loc[uid, "report"]).with_name("environment.json").stat().st_mtime_ns == written[uid]
    import os

    os.utime(out / summary.loc["a", "report"], ns=(0, 0))  # a file of a touched: its study runs again, from the store (nothing retrained)
    assert CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--data", str(tmp_path / "p.csv"), "--out", str(out), "-q"]).exit_code == 3
    timings = json.loads((out / summary.loc["a", "report"]).with_name("environment.json").read_text())["timings"]
    assert timings["runs_trained_now"] == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "panel_configs.csv"), configs)

    # fit every series (its selected configuration), then forecast them all from the models' folder;
    # a folder inside the run, or one holding other files, is refused before anything is written
    inside = CliRunner().invoke(app, ["fit", str(out), "--out", str(out / "series")])
    assert inside.exit_code == 2 and "inside the panel's run directory" in " ".join(inside.output.split())
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    taken = CliRunner().invoke(app, ["fit", str(out), "--out", str(tmp_path / "notes")])
    assert taken.exit_code == 2 and (tmp_path / "notes" / "keep.txt").read_text() == "mine"
    fitted = CliRunner().invoke(app, ["fit", str(out), "--out", str(tmp_path / "models"), "--repeats", "3", "--horizon", "3"])
    assert fitted.exit_code == 3, fitted.output  # the series whose study failed is named, the others fitted
    assert "not fitted: series 'short'" in " ".join(fitted.output.split())
    index = pd.read_csv(tmp_path / "models" / "index.csv")
    assert list(index["unique_id"]) == ["a", "b"]
    # a folder is replaced only when it holds what fit wrote there: an index.csv beside a user's
    # files, auto's models/, a model directory beside other files or another manifest.json: refused, kept
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "index.csv").write_text("unique_id,folder,model\n")
    (tmp_path / "mine" / "notes.txt").write_text("precious")
    (tmp_path / "auto_out" / "models").mkdir(parents=True)
    (tmp_path / "auto_out" / ".lstmtune-auto").write_text("")
    (tmp_path / "auto_out" / "models" / "index.csv").write_text("unique_id,folder,model\n")
    import shutil

    shutil.copytree(tmp_path / "models", tmp_path / "extra")
    (tmp_path / "extra" / index["folder"][0] / "my.csv").write_text("x")
    for folder, needle in (("mine", "it holds 'notes.txt'"), ("auto_out/models", "lstmtune auto's output folder"), ("extra", f"it holds {index['folder'][0]!r}")):
        said = CliRunner().invoke(app, ["fit", str(out), "--out", str(tmp_path / folder), "--repeats", "3", "--horizon", "3"])
        assert said.exit_code == 2 and needle in " ".join(said.output.split()), (folder, said.output)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "precious" and (tmp_path / "extra" / index["folder"][0] / "my.csv").is_file()
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "manifest.json").write_text('{"name": "app"}')
    (tmp_path / "web" / "index.html").write_text("<html>")
    single = CliRunner().invoke(app, ["fit", str(out / summary.loc["a", "report"].rsplit("/", 1)[0]), "--out", str(tmp_path / "web")])
    assert single.exit_code == 2 and "not a model directory lstmtune fit wrote (it holds 'index.html')" in " ".join(single.output.split()), single.output
    assert (tmp_path / "web" / "index.html").read_text() == "<html>"
    again = CliRunner().invoke(app, ["fit", str(out), "--out", str(tmp_path / "models"), "--repeats", "3", "--horizon", "3"])
    assert again.exit_code == 3, again.output  # fit's own folder: replaced
    fc = CliRunner().invoke(app, ["forecast", str(tmp_path / "models"), "--horizon", "3", "--out", str(tmp_path / "fc.csv"), "-q"])
    assert fc.exit_code == 0, fc.output
    table = pd.read_csv(tmp_path / "fc.csv")
    from lstmtune.workflow import studyfit

    alone = studyfit.fit_source(out / summary.loc["a", "report"].rsplit("/", 1)[0], repeats=3, horizon=3).forecast(3)
    np.testing.assert_allclose(table.loc[table["unique_id"] == "a", "mean"], alone["mean"], rtol=1e-6)  # as fitting that series' run alone
    np.testing.assert_allclose(table.loc[table["unique_id"] == "b", "mean"], 3 * alone["mean"].to_numpy(), rtol=1e-4)
    pooled = CliRunner().invoke(app, ["fit", str(out), "--out", str(tmp_path / "pooled"), "--repeats", "3", "--horizon", "3", "--config", "pooled"])
    assert pooled.exit_code == 3, pooled.output
    assert set(pd.read_csv(tmp_path / "pooled" / "index.csv")["model"]) == {f"LSTM {configs.iloc[0]['config']}"}
    # status and report read one series' run directory: said so (they said "not a run directory"), naming one
    for command in ("status", "report"):
        said = CliRunner().invoke(app, [command, str(out)])
        assert said.exit_code == 2 and "a panel's run directory" in " ".join(said.output.split()) and "series/a-" in said.output, said.output
    # a damaged panel table is one line naming it (it raised EmptyDataError, AttributeError, UnicodeDecodeError)
    import shutil

    for name, content, argv in (("panel_summary.csv", b"", []), ("panel_summary.csv", b"x\n1\n", []), ("panel_summary.csv", b"\xff\xfe", []),
                                ("panel_configs.csv", b"x\n1\n", ["--config", "pooled"])):
        shutil.rmtree(tmp_path / "damaged", ignore_errors=True)
        shutil.copytree(out, tmp_path / "damaged")
        (tmp_path / "damaged" / name).write_bytes(content)
        said = CliRunner().invoke(app, ["fit", str(tmp_path / "damaged"), "--out", str(tmp_path / "m2"), *argv])
        assert said.exit_code == 2 and f"{name}: not the table `lstmtune run --data` writes" in " ".join(said.output.split()), said.output
        assert not (tmp_path / "m2").exists()
    # a series twice in the panel's summary, or in a models folder's index (fit said "fitted 3 series";
    # forecast gave series a twice, the second time with b's forecasts): one line naming it
    shutil.rmtree(tmp_path / "damaged")
    shutil.copytree(out, tmp_path / "damaged")
    lines = (tmp_path / "damaged" / "panel_summary.csv").read_text().splitlines()
    (tmp_path / "damaged" / "panel_summary.csv").write_text("\n".join([*lines, lines[1]]) + "\n")
    said = CliRunner().invoke(app, ["fit", str(tmp_path / "damaged"), "--out", str(tmp_path / "m2")])
    assert said.exit_code == 2 and "(series 'a' twice)" in said.output and not (tmp_path / "m2").exists(), said.output
    shutil.copytree(tmp_path / "models", tmp_path / "models_dup")
    with open(tmp_path / "models_dup" / "index.csv", "a") as f:
        f.write(f"a,{index['folder'][1]},LSTM x\n")
    said = CliRunner().invoke(app, ["forecast", str(tmp_path / "models_dup"), "--horizon", "2", "--out", str(tmp_path / "dup.csv")])
    assert said.exit_code == 2 and "index.csv: line 4, column 'unique_id': 'a' again (first at line 2)" in " ".join(said.output.split()), said.output


def test_an_id_column_that_is_not_there_is_named(tmp_path):
    _panel(tmp_path / "p.csv")
    res = CliRunner().invoke(app, ["run", "--data", str(tmp_path / "p.csv"), "--id-column", "sku", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "--id-column sku" in res.output and not (tmp_path / "o").exists()
    # run and search name their columns in the study file: the messages said "--value-column", an option they lack
    pd.read_csv(tmp_path / "p.csv").rename(columns={"y": "value"}).to_csv(tmp_path / "v.csv", index=False)
    (tmp_path / "s.toml").write_text(SMALL)
    for argv, needle in ((["--data", str(tmp_path / "v.csv")], "no column 'y' (name it with the study file's [data] value_column)"),
                         (["--data", str(tmp_path / "p.csv"), "--id-column", "ds"], "--id-column and the study file's [data] date_column both name 'ds'")):
        res = CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), *argv, "--out", str(tmp_path / "o")])
        assert res.exit_code == 2 and needle in " ".join(res.output.split()) and not (tmp_path / "o").exists(), res.output
    # a panel as a study's [data] source: said so, pointing to --data (plan, run and fit said "duplicate date")
    (tmp_path / "in.toml").write_text(SMALL.replace("[data]\n", f'[data]\nsource = "{tmp_path / "p.csv"}"\n'))
    for argv in (["plan", str(tmp_path / "in.toml")], ["run", str(tmp_path / "in.toml"), "--out", str(tmp_path / "o")],
                 ["fit", str(tmp_path / "in.toml"), "--out", str(tmp_path / "o")]):
        res = CliRunner().invoke(app, argv)
        assert res.exit_code == 2 and "a long panel (it has a unique_id column)" in " ".join(res.output.split()) and "--data" in res.output, (argv, res.output)


def test_a_configuration_not_scored_on_every_series_gets_no_pooled_error():
    from lstmtune.workflow.panelstudy import pooled_configs

    results = pd.DataFrame({"unique_id": ["a", "a", "b", "b"], "config": ["u1", "u2", "u1", "u2"], "metric": "validation_rmse",
                            "validation_rmse_skill_%": [10.0, 20.0, 30.0, float("nan")], "selected": [False, True, True, False]})
    table = pooled_configs(results).set_index("config")
    assert table.loc["u1", "pooled_scaled_error"] == pytest.approx(0.8) and table.loc["u1", "series"] == 2
    assert np.isnan(table.loc["u2", "pooled_scaled_error"]) and table.loc["u2", "series"] == 1 and table.loc["u2", "wins"] == 1


def test_a_panel_file_with_a_byte_order_mark_is_a_panel(tmp_path):
    from lstmtune.data.panel import is_panel_file

    (tmp_path / "p.csv").write_text("unique_id,ds,y\na,2020-01-01,1\n", encoding="utf-8-sig")
    assert is_panel_file(tmp_path / "p.csv", None) and is_panel_file(tmp_path / "p.csv", "unique_id")



SMALL_STUDY = """name = "small"
seed = 1
[data]
test_size = 6
[model]
batch_size = 2
epochs = 5
[runs]
mode = "summary"
repeats = 2
[grid]
units = [1]
"""


def test_a_study_file_runs_on_every_series_of_a_panel_and_a_value_no_network_can_train_on_is_named_at_its_line(tmp_path):
    # inf and 1e40 parse as numbers: each such series is named at its line, as a single file's would
    # be, and the others run (the panel study once stopped with a traceback on an inf)
    dates = pd.date_range("2010-01-01", periods=30, freq="MS")
    y = 100.0 + np.arange(30) + np.arange(30) % 7
    frame = pd.concat([pd.DataFrame({"unique_id": uid, "ds": dates.strftime("%Y-%m-%d"), "y": y.astype(str)}) for uid in ("good", "inf", "huge")], ignore_index=True)
    frame.loc[30 + 3, "y"] = "inf"  # the file's line 35
    frame.loc[60 + 5, "y"] = "1e40"  # line 67
    frame.to_csv(tmp_path / "p.csv", index=False)
    (tmp_path / "s.toml").write_text(SMALL_STUDY)
    res = CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--data", str(tmp_path / "p.csv"), "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 3, res.output
    summary = pd.read_csv(tmp_path / "o" / "panel_summary.csv").set_index("unique_id")
    assert summary.loc["good", "status"] == "ok" and summary.loc["good", "config"] == "units=1"
    assert "line 35, column 'y': 'inf' is not a finite number" in summary.loc["inf", "reason"]
    assert "line 67, column 'y': '1e40' is beyond 1e+30" in summary.loc["huge", "reason"]
    # a single series' CSV beside a study file is still refused: its data goes in the study's [data] source
    frame[frame["unique_id"] == "good"][["ds", "y"]].to_csv(tmp_path / "one.csv", index=False)
    one = CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--data", str(tmp_path / "one.csv"), "--out", str(tmp_path / "o1")])
    assert one.exit_code == 2 and "[data] source" in one.output and not (tmp_path / "o1").exists()


def test_a_frame_given_from_python_names_a_missing_or_infinite_value_by_its_date(tmp_path):
    from lstmtune.workflow.panelstudy import _each_series

    dates = pd.date_range("2010-01-01", periods=12, freq="MS")
    frame = pd.concat([pd.DataFrame({"unique_id": uid, "ds": dates, "y": np.arange(12.0)}) for uid in ("a", "b", "c")], ignore_index=True)
    frame.loc[12 + 4, "y"] = np.inf
    frame.loc[24 + 2, "y"] = np.nan
    ran = []
    rows, failures = _each_series(frame, tmp_path, lambda uid, f, where: ran.append(uid) or {"config": "x"})
    assert ran == ["a"]
    assert failures == {"b": "the value inf at 2010-05-01 is not a finite number",
                        "c": "1 missing value at 2010-03-01 (fill or drop them first, or set the study's [data] missing to interpolate or drop)"}
    # read from a file: named at its line, as every other panel error is (by date before: a probe)
    from lstmtune.data import panel as panel_mod

    path = tmp_path / "p.csv"
    frame.assign(y=frame["y"].replace(np.inf, 1.0)).loc[[0, 1, *range(24, 36), *range(2, 24)]].to_csv(path, index=False)  # c's rows before most of a's
    rows, failures = _each_series(panel_mod.read(path), tmp_path, lambda uid, f, where: {"config": "x"})
    assert failures == {"c": f"1 missing value at line 6 of {path} (fill or drop them first, or set the study's [data] missing to interpolate or drop)"}


@pytest.mark.parametrize("command", ["run", "search"])
def test_a_panel_whose_every_series_fails_leaves_no_run_directory_and_names_each_once(tmp_path, command):
    # it once left --out holding only its marker (and a search's copies of the data), and said "D: D: ..."
    dates = pd.date_range("2010-01-01", periods=30, freq="MS").strftime("%Y-%m-%d")
    pd.concat([pd.DataFrame({"unique_id": uid, "ds": dates, "y": v}) for uid, v in (("D", 5.0), ("E", 7.0))]).to_csv(tmp_path / "p.csv", index=False)
    study = SMALL_STUDY + ('[search]\nsampler = "random"\ntrials = 2\nbatch = 2\n[search.space.units]\ntype = "int"\nlow = 1\nhigh = 2\n' if command == "search" else "")
    (tmp_path / "s.toml").write_text(study)
    res = CliRunner().invoke(app, [command, str(tmp_path / "s.toml"), "--data", str(tmp_path / "p.csv"), "--out", str(tmp_path / "o"), "-q"])
    text = " ".join(res.output.split())
    assert res.exit_code == 2 and "no series of the panel could" in text, res.output
    assert "every series (2): the series is constant" in text and "D: D:" not in text and str(tmp_path / "o") not in text  # one reason, said once
    assert not (tmp_path / "o").exists()


def test_a_study_files_data_keys_apply_to_the_panel_it_runs_on(tmp_path):
    # its date_format and missing were ignored: every series failed on dd/mm/yyyy dates or a blank value
    dates = pd.date_range("2010-01-01", periods=30, freq="MS")
    y = 100.0 + np.arange(30) + np.arange(30) % 7
    frame = pd.concat([pd.DataFrame({"unique_id": uid, "when": dates.strftime("%d/%m/%Y"), "sales": y.astype(str)}) for uid in ("a", "b")], ignore_index=True)
    frame.loc[30 + 10, "sales"] = ""
    frame.to_csv(tmp_path / "p.csv", index=False)
    (tmp_path / "s.toml").write_text(SMALL_STUDY.replace("[data]\n", '[data]\ndate_format = "%d/%m/%Y"\ndate_column = "when"\nvalue_column = "sales"\nmissing = "interpolate"\n'))
    res = CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--data", str(tmp_path / "p.csv"), "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 0, res.output
    # said, as a single file's interpolation is (nothing was said: a probe)
    assert f"series b: 1 missing value interpolated linearly in time (at line 42 of {tmp_path / 'p.csv'})" in " ".join(res.output.split()), res.output
    summary = pd.read_csv(tmp_path / "o" / "panel_summary.csv").set_index("unique_id")
    assert list(summary["status"]) == ["ok", "ok"]
    from lstmtune.workflow.study import load_series
    from lstmtune.study import spec as spec_mod

    own = spec_mod.load((tmp_path / "o" / summary.loc["b", "report"]).with_name("study.toml"))
    # interpolated linearly in time, as a single file's are (by position before: a probe): 31 of 61 days
    np.testing.assert_allclose(load_series(own).values[10], y[9] + (y[11] - y[9]) * 31 / 61, rtol=1e-12)
    alone = frame[frame["unique_id"] == "b"].drop(columns="unique_id")
    alone.to_csv(tmp_path / "b.csv", index=False)
    from lstmtune.data.series import load

    np.testing.assert_array_equal(load_series(own).values, load(tmp_path / "b.csv", date_format="%d/%m/%Y", value_column="sales", missing="interpolate").values)


@pytest.mark.figures
def test_a_panel_run_prints_each_series_notes_as_a_single_study_does(tmp_path):
    """Absent dates in a series, and data changed since a rerun's stored runs: `run` says so for one
    series; `run --data` said nothing."""
    rows = []
    for uid in ("A", "B"):
        d = pd.date_range("2000-01-01", periods=40, freq="MS")
        if uid == "B":
            d = d.delete([20, 21])
        rows.append(pd.DataFrame({"unique_id": uid, "ds": d.strftime("%Y-%m-%d"), "y": np.sin(np.arange(len(d))) + np.arange(len(d))}))
    pd.concat(rows).to_csv(tmp_path / "p.csv", index=False)
    (tmp_path / "s.toml").write_text('name = "q"\n[data]\ntest_size = 6\n[model]\nepochs = 2\nbatch_size = 1\n[runs]\nrepeats = 2\nmode = "summary"\n')
    argv = ["run", str(tmp_path / "s.toml"), "--data", str(tmp_path / "p.csv"), "--out", str(tmp_path / "o"), "-q"]
    res = CliRunner().invoke(app, argv)
    said = " ".join(res.output.split())
    assert res.exit_code == 0 and "note: series B: the dates are MS-regular but 2 are missing (2001-09-01, 2001-10-01)" in said, res.output
    assert "series A: the dates" not in said
    frame = pd.read_csv(tmp_path / "p.csv")
    frame.loc[0, "y"] = 5.5
    frame.to_csv(tmp_path / "p.csv", index=False)
    said = " ".join(CliRunner().invoke(app, argv).output.split())
    assert "note: series A: study 'q' (validation phase): the data changed since results were stored" in said


def test_a_series_with_several_sub_studies_counts_one_choice_the_one_its_report_names():
    """Each sub-study selects a configuration: the panel counted every one as a win (6 wins for
    3 series) and named the first sub-study's, while the series' report names the one of
    lowest mean selection score (a report probe)."""
    from lstmtune.workflow import panelstudy

    def summary(uid, u1, u2, l1, l2):  # sub-study "u" (units) and "l" (learning rate); validation RMSE means
        rows = [("u", "units=1", u1), ("u", "units=2", u2), ("l", "learning_rate=0.001", l1), ("l", "learning_rate=0.01", l2)]
        table = pd.DataFrame([{"study": st, "config": c, "metric": "validation_rmse", "validation_rmse_mean": v,
                               "validation_rmse_skill_%": 100 * (1 - v / 10.0)} for st, c, v in rows])
        table["selected"] = table.groupby("study")["validation_rmse_mean"].transform("min") == table["validation_rmse_mean"]
        return table.assign(unique_id=uid)

    a, b, c = summary("A", 7.6, 7.357, 7.6, 7.262), summary("B", 8.0, 8.5, 8.0, 8.4), summary("C", 9.5, 9.0, 9.5, 9.2)
    assert [panelstudy._selected(t)["config"] for t in (a, b, c)] == ["learning_rate=0.01", "units=1", "units=2"]
    wins = panelstudy.pooled_configs(pd.concat([a, b, c], ignore_index=True)).set_index("config")["wins"]
    assert wins.sum() == 3 and wins.to_dict() == {"units=1": 1, "units=2": 1, "learning_rate=0.001": 0, "learning_rate=0.01": 1}


TINY_PANEL = """name = "tiny"
seed = 1
[data]
test_size = 6
[model]
batch_size = 4
epochs = 10
[runs]
mode = "summary"
repeats = 2
[grid]
units = [1]
"""


@pytest.mark.parametrize("command", ["run", "search"])
def test_a_rerun_removes_the_results_of_series_no_longer_run_and_says_so(tmp_path, command):
    """A series dropped from the panel, or failing now, kept its earlier run directory (and a
    search its data copy) beside the panel's outputs, as if finished; the index page said "nan"
    for a failed series' configuration, and a constant series was named twice (a probe)."""
    s = load("shampoo")
    ds = pd.DatetimeIndex(s.dates)
    part = lambda uid, k: pd.DataFrame({"unique_id": uid, "ds": ds, "y": s.values * k})  # noqa: E731
    study = TINY_PANEL + ("" if command == "run" else '[search]\nsampler = "random"\ntrials = 1\nbatch = 1\n[search.space.units]\ntype = "int"\nlow = 1\nhigh = 2\n')
    (tmp_path / "s.toml").write_text(study.replace("[grid]\nunits = [1]\n", "") if command == "search" else study)
    pd.concat([part("a", 1.0), part("b", 2.0), part("c", 3.0)]).to_csv(tmp_path / "p1.csv", index=False)
    flat = pd.DataFrame({"unique_id": "c", "ds": ds, "y": 5.0})  # c fails now (constant), b is gone, d is new
    pd.concat([part("a", 1.0), flat, part("d", 4.0)]).to_csv(tmp_path / "p2.csv", index=False)
    runner = CliRunner()
    args = lambda data, out: [command, str(tmp_path / "s.toml"), "--data", str(tmp_path / data), "--out", str(tmp_path / out), "-q"]  # noqa: E731
    assert runner.invoke(app, args("p1.csv", "o")).exit_code == 0
    res = runner.invoke(app, args("p2.csv", "o"))
    assert res.exit_code == 3, res.output
    said = " ".join(res.output.split())
    assert "removed an earlier run's results of 2 series not run now" in said, said
    assert "series c not run: c:" not in said and "series c not searched: c:" not in said
    assert runner.invoke(app, args("p2.csv", "fresh")).exit_code == 3
    for folder in ("series", "data"):
        mine, fresh = tmp_path / "o" / folder, tmp_path / "fresh" / folder
        assert sorted(p.name for p in mine.iterdir()) == sorted(p.name for p in fresh.iterdir()) if fresh.exists() else not mine.exists()
    assert ">nan<" not in (tmp_path / "o" / "index.html").read_text()
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "o" / "panel_summary.csv"), pd.read_csv(tmp_path / "fresh" / "panel_summary.csv"))


def test_a_finished_panel_rerun_reads_its_unchanged_series_back_and_runs_a_changed_one(tmp_path, monkeypatch):
    """A finished panel's rerun rewrote every series' outputs (4-6 s for 4 series, a probe): now
    a series whose data, settings, lstmtune and files are unchanged is read back, untouched."""
    from lstmtune.workflow import panelstudy, study
    from lstmtune.study import spec as spec_mod
    import tomllib

    s = load("shampoo")
    ds = pd.DatetimeIndex(s.dates)
    panel = pd.concat([pd.DataFrame({"unique_id": u, "ds": ds, "y": s.values * k}) for u, k in (("a", 1.0), ("b", 2.0))])
    spec = spec_mod.from_dict(tomllib.loads(TINY_PANEL))
    first = panelstudy.run(spec, panel, tmp_path / "o")
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "o" / "series").rglob("*") if p.is_file()}
    real, ran = study.run, []
    monkeypatch.setattr(study, "run", lambda *a, **k: ran.append(a[0].name) or real(*a, **k))
    again = panelstudy.run(spec, panel, tmp_path / "o")
    assert ran == []
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "o" / "series").rglob("*") if p.is_file()} == before  # nothing rewritten
    pd.testing.assert_frame_equal(again.summary, first.summary)
    pd.testing.assert_frame_equal(again.configs, first.configs)
    changed = panel.assign(y=np.where((panel["unique_id"] == "b") & (panel["ds"] == ds[3]), 1.0, panel["y"]))
    fresh = panelstudy.run(spec, changed, tmp_path / "fresh")
    ran.clear()
    redone = panelstudy.run(spec, changed, tmp_path / "o")
    assert len(ran) == 1  # b alone
    pd.testing.assert_frame_equal(redone.summary.drop(columns="report"), fresh.summary.drop(columns="report"))


def test_a_tie_for_the_configuration_selected_most_often_is_said():
    """"selected most often: units=1" where units=1 and units=2 were selected once each (a probe)."""
    from lstmtune.workflow.panelstudy import PanelOutcome

    configs = pd.DataFrame({"config": ["units=2", "units=1", "units=3"], "wins": [1, 1, 0], "pooled_scaled_error": [0.8, 0.9, 1.0], "series": [2, 2, 2]})
    tied = PanelOutcome(Path("o"), pd.DataFrame(), configs, {})
    assert tied.most_wins == "units=2" and tied.wins_said == "units=2 (tied with 1 other at 1 series; the lower pooled error)"
    alone = PanelOutcome(Path("o"), pd.DataFrame(), configs.assign(wins=[2, 0, 0]), {})
    assert alone.wins_said == "units=2"


@pytest.mark.parametrize("command", ["run", "search"])
def test_a_moved_panel_run_directory_resumes_without_training_again(tmp_path, monkeypatch, command):
    """Each series' study named its data by absolute path, and its stored runs were keyed by
    that path: a panel's run directory moved elsewhere (copied from a cluster's scratch, say)
    and rerun trained every series again (a probe). Now its finished series are read back, and
    with their stamps gone (another lstmtune, say) their stored runs serve without training."""
    from lstmtune.study import executor
    from lstmtune.workflow import finished

    s = load("shampoo")
    ds = pd.DatetimeIndex(s.dates)
    pd.concat([pd.DataFrame({"unique_id": u, "ds": ds, "y": s.values * k}) for u, k in (("a", 1.0), ("b", 2.0))]).to_csv(tmp_path / "p.csv", index=False)
    study = TINY_PANEL if command == "run" else TINY_PANEL.replace("[grid]\nunits = [1]\n", "") + (
        '[search]\nsampler = "random"\ntrials = 1\nbatch = 1\n[search.space.units]\ntype = "int"\nlow = 1\nhigh = 2\n')
    (tmp_path / "s.toml").write_text(study)
    args = lambda out: [command, str(tmp_path / "s.toml"), "--data", str(tmp_path / "p.csv"), "--out", str(out), "-q"]  # noqa: E731
    runner = CliRunner()
    assert runner.invoke(app, args(tmp_path / "scratch" / "o")).exit_code == 0
    first = pd.read_csv(tmp_path / "scratch" / "o" / "panel_summary.csv")
    (tmp_path / "scratch" / "o").rename(tmp_path / "home")
    trained = []
    real = executor.LocalExecutor.run
    monkeypatch.setattr(executor.LocalExecutor, "run", lambda self, pop, *a, **k: trained.append(pop.size) or real(self, pop, *a, **k))
    res = runner.invoke(app, args(tmp_path / "home"))
    assert res.exit_code == 0, res.output
    assert trained == []
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "home" / "panel_summary.csv"), first)
    for stamp in (tmp_path / "home").rglob(finished.STAMP):
        stamp.unlink()
    res = runner.invoke(app, args(tmp_path / "home"))
    assert res.exit_code == 0, res.output
    assert trained == []
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "home" / "panel_summary.csv"), first)


def test_a_panel_whose_every_series_diverges_keeps_its_runs_as_a_single_study_does(tmp_path):
    # the whole run directory was deleted, every series' training and report with it (a probe)
    s = load("shampoo")
    pd.concat([pd.DataFrame({"unique_id": uid, "ds": pd.DatetimeIndex(s.dates), "y": s.values * k}) for uid, k in (("a", 1.0), ("b", 2.0))]).to_csv(tmp_path / "p.csv", index=False)
    (tmp_path / "s.toml").write_text(SMALL_STUDY.replace("[model]\n", '[model]\noptimizer = "sgd"\nlearning_rate = 100000.0\n'))
    res = CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--data", str(tmp_path / "p.csv"), "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 3, res.output
    summary = pd.read_csv(tmp_path / "o" / "panel_summary.csv")
    assert list(summary["status"]) == ["failed", "failed"] and set(summary["reason"]) == {"every run diverged"}
    assert all((tmp_path / "o" / r).is_file() for r in summary["report"]) and (tmp_path / "o" / "index.html").is_file()


def test_a_setting_every_series_refuses_is_said_once_and_a_fourth_series_is_counted():
    from lstmtune.workflow.panelstudy import _reasons

    same = {u: f"{u}: evaluation: horizon 7 exceeds data.test_size 6" for u in "ABCD"}
    assert _reasons(same) == "every series (4): evaluation: horizon 7 exceeds data.test_size 6"
    assert _reasons({"A": "x", "B": "y", "C": "z", "D": "w"}) == "A: x; B: y; C: z; and 1 more"


def test_a_panel_whose_series_column_has_another_name_is_pointed_to_id_column(tmp_path):
    # the message sent users to the study file's [data] source, never naming --id-column (a probe)
    _panel(tmp_path / "p.csv")
    text = (tmp_path / "p.csv").read_text().replace("unique_id", "item", 1)
    (tmp_path / "q.csv").write_text(text)
    (tmp_path / "s.toml").write_text(SMALL_STUDY)
    res = CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--data", str(tmp_path / "q.csv"), "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 2 and "give it with --id-column" in " ".join(res.output.split()), res.output


def test_the_panel_summarys_columns_keep_one_order_whichever_series_fails():
    from lstmtune.workflow.panelstudy import _tidy

    failed = {"unique_id": "a", "status": "failed", "reason": "x", "report": ""}
    ok = {"unique_id": "b", "status": "ok", "reason": "", "config": "units=1", "metric": 1.0, "report": "b/report.html"}
    assert list(_tidy([failed, ok]).columns) == list(_tidy([ok, failed]).columns) == ["unique_id", "status", "reason", "config", "metric", "report"]
