"""The report's forecasts of the test period (issue 12, item 6)."""

import numpy as np
import pandas as pd
import pytest

from lstmtune.study import spec as spec_mod
from lstmtune.workflow import study
from lstmtune.forecast import testpaths


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    spec = spec_mod.from_dict(
        {"name": "tp", "model": {"units": 1, "batch_size": 4}, "grid": {"epochs": [15, 40]}, "runs": {"mode": "summary", "repeats": 4}}
    )
    out = tmp_path_factory.mktemp("tp") / "run"
    return study.run(spec, out)


def test_one_step_forecasts_are_the_ones_the_test_rmse_scored(finished):
    study_name, label, _ = finished.analysis.best_overall()
    paths = testpaths.compute(finished.results, study_name, label)
    runs = finished.results.runs
    key = next(p.config.key for p in finished.results.points if p.label == label)
    scored = runs[runs["config"] == key].sort_values("repeat")["test_rmse"].to_numpy()
    # Retrained with the study's seeds: the same float32 program, so the same forecasts.
    np.testing.assert_allclose(paths.rmse(), scored, rtol=1e-6)
    assert paths.one_step.shape == paths.multi_step.shape == (4, 12)
    # Both start from the state after the training rows with the last observed inputs: equal first step.
    np.testing.assert_allclose(paths.multi_step[:, 0], paths.one_step[:, 0], rtol=1e-9)
    assert not np.allclose(paths.multi_step[:, 1:], paths.one_step[:, 1:])  # later steps feed forecasts back


def test_run_writes_the_table_and_the_figure_and_report_reads_them_back(finished, monkeypatch):
    out = finished.directory
    table = pd.read_csv(out / "test_forecasts.csv")
    runs = pd.read_csv(out / "results.csv")
    params = list(runs.columns[3 : runs.columns.get_loc("repeat")]) + list(runs.columns[runs.columns.get_loc("repeat") + 1 : runs.columns.get_loc("seed")])
    assert list(table.columns) == ["config", "label", "study", *params, "date", "actual", "repeat", "seed", "one_step", "multi_step"]
    # Tidy: its configuration columns join results.csv's rows of the same configuration and repeat.
    joined = table.drop(columns=["seed"]).merge(runs, on=["config", "label", "study", "repeat", *params], how="left")
    assert len(joined) == len(table) and joined["test_rmse"].notna().all() and table["epochs"].nunique() == 1
    assert len(table) == 4 * 12 and (out / "plots" / "test_forecasts.png").is_file()
    assert "Forecasts of the test period" in (out / "report.html").read_text()

    def no_retraining(*args, **kwargs):
        raise AssertionError("report retrained the configuration")

    monkeypatch.setattr(testpaths, "compute", no_retraining)
    study.report(out)
    again = pd.read_csv(out / "test_forecasts.csv")
    pd.testing.assert_frame_equal(again, table)
    assert "Forecasts of the test period" in (out / "report.html").read_text()


def test_a_redrawn_report_reuses_figures_drawn_from_the_same_data(finished, monkeypatch):
    from lstmtune.report import figures

    out = finished.directory
    before = {p.name: p.read_bytes() for p in (out / "plots").iterdir()}
    drawn = []
    for name in ("series_plot", "box_plot", "diagnostic_lines", "diagnostic_band", "median_curves", "test_forecasts"):
        stub = lambda *a, name=name, **k: drawn.append(name)  # noqa: E731
        stub.__name__ = name  # the figure's key names its drawing function
        monkeypatch.setattr(figures, name, stub)
    study.report(out)
    assert drawn == []  # nothing changed: every figure copied
    assert {p.name: p.read_bytes() for p in (out / "plots").iterdir()} == before
    import json

    keys = json.loads((out / "plots" / ".keys.json").read_text())
    (out / "plots" / ".keys.json").write_text(json.dumps({**keys, "series.png": "stale"}))
    with pytest.raises(FileNotFoundError):  # a stale key: that figure is drawn again (by the stub, which writes nothing)
        study.report(out)
    assert drawn == ["series_plot"]


@pytest.mark.slow  # 2 s in the full run, end to end: kept out of the fast subset
def test_a_rerun_of_the_same_study_reads_its_test_forecasts_back_and_a_changed_one_recomputes(tmp_path, monkeypatch):
    raw = {"name": "rr", "model": {"units": 1, "batch_size": 4}, "grid": {"epochs": [15]}, "runs": {"mode": "summary", "repeats": 2}}
    first = study.run(spec_mod.from_dict(raw), tmp_path / "run")
    table = pd.read_csv(tmp_path / "run" / "test_forecasts.csv")
    real = testpaths.compute

    def no_retraining(*args, **kwargs):
        raise AssertionError("a rerun of the same study retrained its configuration")

    monkeypatch.setattr(testpaths, "compute", no_retraining)
    study.run(spec_mod.from_dict(raw), tmp_path / "run")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "run" / "test_forecasts.csv"), table, check_exact=True)
    calls = []
    monkeypatch.setattr(testpaths, "compute", lambda *a, **k: calls.append(1) or real(*a, **k))
    study.run(spec_mod.from_dict({**raw, "seed": 7}), tmp_path / "run")  # another seed: other networks, computed afresh
    assert calls == [1]
    assert first.analysis is not None
    # other repeats, whether more or fewer: the table holds the study's repeats now, as a fresh
    # run's (a rerun kept the old table of 8 repeats' forecasts beside 10 runs; a probe)
    for repeats in (3, 1):
        changed = {**raw, "seed": 7, "runs": {"mode": "summary", "repeats": repeats}}
        study.run(spec_mod.from_dict(changed), tmp_path / "run")
        study.run(spec_mod.from_dict(changed), tmp_path / f"fresh{repeats}")
        again = pd.read_csv(tmp_path / "run" / "test_forecasts.csv")
        assert sorted(again["repeat"].unique()) == list(range(repeats))
        pd.testing.assert_frame_equal(again, pd.read_csv(tmp_path / f"fresh{repeats}" / "test_forecasts.csv"), check_exact=True)
    assert calls == [1] * 5  # each rerun with other repeats computed, as each fresh run


@pytest.mark.parametrize("selection", ["validation", "test"])
def test_the_weights_the_study_trained_give_the_retrained_forecasts_bit_for_bit(selection, monkeypatch):
    import dataclasses

    from lstmtune.data.series import load
    from lstmtune.forecast import forecaster
    from lstmtune.store import MemoryStore

    raw = {"name": "kw", "model": {"batch_size": 4, "epochs": 20}, "grid": {"units": [1, 2]}, "runs": {"mode": "summary", "repeats": 3},
           "evaluation": {"selection": selection}}
    results = study.execute(spec_mod.from_dict(raw), load("shampoo"), MemoryStore())
    label = results.selected["kw"]
    key = next(p.config.key for p in results.points if p.label == label)
    assert sorted(results.trained[key]) == [0, 1, 2]
    real_fit = forecaster.fit

    def no_training(*args, **kwargs):
        raise AssertionError("the test forecasts trained again although the study kept its weights")

    monkeypatch.setattr(forecaster, "fit", no_training)
    kept = testpaths.compute(results, "kw", label)
    monkeypatch.setattr(forecaster, "fit", real_fit)
    retrained = testpaths.compute(dataclasses.replace(results, trained={}), "kw", label)
    np.testing.assert_array_equal(kept.one_step, retrained.one_step)
    np.testing.assert_array_equal(kept.multi_step, retrained.multi_step)


def test_weights_are_kept_only_at_the_epochs_a_population_ended_on():
    from lstmtune.data.series import load
    from lstmtune.store import MemoryStore

    raw = {"name": "ke", "model": {"units": 1, "batch_size": 4}, "grid": {"epochs": [10, 20]}, "runs": {"mode": "summary", "repeats": 2},
           "evaluation": {"selection": "test"}}
    results = study.execute(spec_mod.from_dict(raw), load("shampoo"), MemoryStore())
    epochs = {p.config.key: p.config.epochs for p in results.points}
    assert [epochs[k] for k in results.trained] == [20]  # the 10-epoch configuration is a checkpoint of the same run


def test_a_study_whose_test_part_lost_a_row_to_missing_drop_still_draws_its_test_forecasts(tmp_path):
    # the forecaster's check on a history with absent dates once refused the study's own series
    # here, and the report lost its test-period section without a word
    s = pd.Series(100 + np.arange(40.0) + 5 * np.sin(np.arange(40)), index=pd.date_range("2010-01-01", periods=40, freq="MS"))
    frame = pd.DataFrame({"date": s.index.strftime("%Y-%m-%d"), "value": s.to_numpy().astype(object)})
    frame.loc[36, "value"] = ""
    frame.to_csv(tmp_path / "gap.csv", index=False)
    spec = spec_mod.from_dict({"name": "g", "data": {"source": str(tmp_path / "gap.csv"), "test_size": 6, "missing": "drop"},
                               "model": {"units": 1, "batch_size": 2, "epochs": 5}, "runs": {"mode": "summary", "repeats": 2}})
    outcome = study.run(spec, tmp_path / "run")
    assert (tmp_path / "run" / "test_forecasts.csv").is_file() and (tmp_path / "run" / "plots" / "test_forecasts.png").is_file()
    assert not [n for n in outcome.results.notices if "test period" in n or "absent" in n]  # only the loader's own notes


def test_without_refit_the_forecasts_are_those_of_the_model_the_test_scored(tmp_path):
    """``refit = false``: the test scored the selection's model (trained before the validation
    rows) walking on through them; the forecasts drawn and saved are that model's, not a model
    retrained on every observation before the test (a probe: 124.0 / 120.7 / 118.1 drawn
    against 141.9 / 131.6 / 123.2 scored)."""
    spec = spec_mod.from_dict(
        {"name": "nr", "model": {"units": 1, "batch_size": 4, "epochs": 30}, "runs": {"mode": "summary", "repeats": 3},
         "evaluation": {"selection": "validation", "validation_size": 6, "refit": False}}
    )
    done = study.run(spec, tmp_path / "run")
    study_name, label, _ = done.analysis.best_overall()
    paths = testpaths.compute(done.results, study_name, label)
    runs = done.results.runs
    scored = runs[runs["test_rmse"].notna()].sort_values("repeat")["test_rmse"].to_numpy()
    np.testing.assert_allclose(paths.rmse(), scored, rtol=1e-5)
    table = pd.read_csv(tmp_path / "run" / "test_forecasts.csv")
    np.testing.assert_allclose(np.sqrt(((table["one_step"] - table["actual"]) ** 2).groupby(table["repeat"]).mean()).to_numpy(), scored, rtol=1e-5)


def test_a_saved_table_the_scores_did_not_come_from_is_drawn_again(finished, monkeypatch, tmp_path):
    """A ``test_forecasts.csv`` whose one-step forecasts are not those the test scored (written
    before ``refit = false`` drew the scored model) is computed again, not read back."""
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(finished.directory, out)
    table = pd.read_csv(out / "test_forecasts.csv")
    good = table.copy()
    table["one_step"] = table["one_step"] + 5.0
    table.to_csv(out / "test_forecasts.csv", index=False)
    study.report(out)
    again = pd.read_csv(out / "test_forecasts.csv")
    np.testing.assert_allclose(again["one_step"], good["one_step"], rtol=1e-9)
