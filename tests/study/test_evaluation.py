"""The evaluation protocol: validation and backtest selection never see the test set;
the test set scores the selected configuration once."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from lstmtune.study import evaluation
from lstmtune.study import spec
from lstmtune.workflow import study
from lstmtune.data.series import load
from lstmtune.errors import SpecError
from lstmtune.store import open_store

BASE = {
    "name": "ev",
    "seed": 5,
    "model": {"batch_size": 4, "epochs": 12},
    "runs": {"mode": "both", "repeats": 3, "diagnostic_repeats": 2},
    "grid": {"units": [1, 2, 3]},
}


def _spec(**evaluation_):
    return spec.from_dict({**BASE, "evaluation": evaluation_}, "ev")


def _run(s, series, tmp_path, name="db"):
    with open_store(f"sqlite:///{tmp_path / (name + '.db')}") as store:
        return study.execute(s, series, store)


@pytest.fixture(scope="module")
def shampoo():
    return load("shampoo")


# --------------------------------------------------------------------------- the phases
def test_validation_phase_ends_before_the_test_set(shampoo):
    s = _spec(selection="validation", validation_size=6)
    (ph,) = evaluation.selection_phases(s, shampoo)
    assert len(ph.series) == 36 - 12
    assert ph.spec.data.test_size == 6
    np.testing.assert_array_equal(ph.series.values, shampoo.values[:24])
    t = evaluation.test_phase(s, shampoo, ph.points[:1])
    assert (len(t.series), t.spec.data.test_size, t.score_last) == (36, 12, None)
    assert t.spec.runs.mode == "summary"


def test_backtest_folds_roll_back_by_the_validation_size(shampoo):
    s = _spec(selection="backtest", validation_size=4, folds=3)
    phases = evaluation.selection_phases(s, shampoo)
    assert [ph.name for ph in phases] == ["fold1", "fold2", "fold3"]
    assert [len(ph.series) for ph in phases] == [24, 20, 16]
    assert {ph.spec.data.test_size for ph in phases} == {4}


def test_without_refit_the_test_phase_scores_only_the_test_part(shampoo):
    s = _spec(selection="validation", validation_size=6, refit=False)
    t = evaluation.test_phase(s, shampoo, evaluation.selection_phases(s, shampoo)[0].points[:1])
    assert (len(t.series), t.spec.data.test_size, t.score_last) == (36, 18, 12)


def test_windows_that_leave_no_training_rows_are_refused(shampoo):
    with pytest.raises(SpecError, match="validation_size"):
        evaluation.selection_phases(_spec(selection="backtest", validation_size=8, folds=3), shampoo)


def test_the_tutorial_protocol_is_one_phase(shampoo):
    s = _spec(selection="test")
    (ph,) = evaluation.selection_phases(s, shampoo)
    assert ph.series is shampoo and ph.spec is s
    assert evaluation.test_phase(s, shampoo, ph.points) is None


def test_evaluation_keys_are_checked():
    with pytest.raises(SpecError, match="folds"):
        _spec(selection="validation", folds=4)
    with pytest.raises(SpecError, match="validation_size"):
        _spec(selection="test", validation_size=6)


# --------------------------------------------------------------------------- selection
def test_select_takes_the_lowest_mean_and_skips_diverged(shampoo):
    points = spec.expand(_spec())
    keys = [p.config.key for p in points]
    runs = pd.DataFrame(
        {
            "config": [keys[0]] * 2 + [keys[1]] * 2 + [keys[2]] * 2,
            "validation_rmse": [3.0, 5.0, 2.0, np.nan, np.nan, np.nan],
        }
    )
    chosen = evaluation.select(runs, points, "validation_rmse")
    assert chosen["ev"].label == "units=2"  # mean 2.0 over its finite repeat


def test_combine_folds_means_each_metric_and_propagates_divergence():
    a = pd.DataFrame({"config": ["k", "k"], "repeat": [0, 1], "seed": [1, 2], "train_rmse": [1.0, 2.0], "diverged": [False, False],
                      **{f"test_{m}": [1.0, 3.0] for m in evaluation.METRICS}})
    b = a.copy()
    for m in evaluation.METRICS:
        b[f"test_{m}"] = [3.0, np.nan]
    b["diverged"] = [False, True]
    out = evaluation.combine_folds([a, b])
    assert out["validation_rmse"].tolist()[0] == 2.0
    assert np.isnan(out["validation_rmse"].tolist()[1]) and out["diverged"].tolist() == [False, True]
    assert "test_rmse" not in out


# --------------------------------------------------------------------------- end to end
@pytest.mark.slow  # 2 s in the full run, end to end: kept out of the fast subset
def test_perturbing_the_test_set_changes_nothing_that_selects(shampoo, tmp_path):
    """Test-blindness: validation scores and the selection are bit-identical when only
    the test observations change; the selected configuration's test score changes."""
    s = _spec(selection="validation", validation_size=6)
    values = shampoo.values.copy()
    values[-12:] = values[-12:] * 1.7 + np.arange(12) * 13.0
    perturbed = dataclasses.replace(shampoo, values=values)
    a = _run(s, shampoo, tmp_path, "a")
    b = _run(s, perturbed, tmp_path, "b")
    cols = [f"validation_{m}" for m in evaluation.METRICS] + ["train_rmse"]
    pd.testing.assert_frame_equal(a.runs[["config", "repeat", *cols]], b.runs[["config", "repeat", *cols]], check_exact=True)
    assert a.selected == b.selected
    assert a.selection_metric == "validation_rmse"
    tested_a = a.runs[a.runs["tested"]]
    tested_b = b.runs[b.runs["tested"]]
    assert set(tested_a["config"]) == {p.config.key for p in a.points if p.label == a.selected["ev"]}
    assert not np.allclose(tested_a["test_rmse"].to_numpy(), tested_b["test_rmse"].to_numpy())
    # only the selected configuration is scored on the test set
    assert a.runs.loc[~a.runs["tested"], "test_rmse"].isna().all()


@pytest.mark.slow  # two studies
def test_the_best_baseline_a_test_score_is_compared_with_is_chosen_on_the_selection_holdout(shampoo, tmp_path):
    """The baseline a selected configuration's test score is set against is the one best on the
    selection holdout, as the configuration is chosen there: before, it was the baseline best on
    the test points (an oracle). Test values made equal to the training mean must not make the
    training mean that baseline."""
    from lstmtune.study import analysis

    s = _spec(selection="validation", validation_size=6)
    values = shampoo.values.copy()
    values[-12:] = values[:-12].mean() + np.where(np.arange(12) % 2, 1.0, -1.0)
    plain, flat = _run(s, shampoo, tmp_path, "a"), _run(s, dataclasses.replace(shampoo, values=values), tmp_path, "b")
    a, b = analysis.analyse(plain), analysis.analyse(flat)
    chosen = min(flat.selection_baselines, key=lambda n: flat.selection_baselines[n]["rmse"])
    assert min(flat.baselines, key=lambda n: flat.baselines[n]["rmse"]) == "training mean"  # the test points' own best
    assert chosen != "training mean"
    assert a.best_baseline[0] == b.best_baseline[0] == chosen and a.best_baseline_on == b.best_baseline_on == "selection"
    assert b.best_baseline[1] == flat.baselines[chosen]["rmse"]  # its test RMSE
    # a run directory stored before the selection's baselines were (read back as the test's): said so
    old = analysis.analyse(dataclasses.replace(flat, selection_baselines=flat.baselines))
    assert old.best_baseline == ("training mean", flat.baselines["training mean"]["rmse"]) and old.best_baseline_on == "test"


def test_the_test_phase_refits_with_the_same_seeds_on_more_rows(shampoo, tmp_path):
    s = _spec(selection="validation", validation_size=6, test_all=True)
    r = _run(s, shampoo, tmp_path)
    assert r.runs["tested"].all() and r.runs["test_rmse"].notna().all()
    # test-phase runs are the tutorial protocol's runs of the same configurations and seeds
    tut = _run(s.model_copy(update={"evaluation": spec.EvaluationSpec(selection="test")}), shampoo, tmp_path, "tut")
    merged = r.runs.merge(tut.runs, on=["config", "repeat"], suffixes=("", "_tut"))
    assert (merged["seed"] == merged["seed_tut"]).all()
    np.testing.assert_array_equal(merged["test_rmse"].to_numpy(), merged["test_rmse_tut"].to_numpy())
    # ...and differ from the validation scores (other rows, other data)
    assert not np.allclose(r.runs["validation_rmse"], r.runs["test_rmse"])


def test_without_refit_the_selection_model_walks_on_into_the_test(shampoo, tmp_path):
    s = _spec(selection="validation", validation_size=6, refit=False, test_all=True)
    r = _run(s, shampoo, tmp_path)
    refit = _run(_spec(selection="validation", validation_size=6, test_all=True), shampoo, tmp_path, "refit")
    # same training rows for selection and test: same validation scores, other test scores than a refit
    np.testing.assert_array_equal(r.runs["validation_rmse"], refit.runs["validation_rmse"])
    assert not np.allclose(r.runs["test_rmse"], refit.runs["test_rmse"])


@pytest.mark.slow  # 3 s in the full run, end to end: kept out of the fast subset
def test_backtest_validation_is_the_mean_over_folds(shampoo, tmp_path):
    s = _spec(selection="backtest", validation_size=4, folds=2)
    r = _run(s, shampoo, tmp_path)
    folds = []
    for k, ph in enumerate(evaluation.selection_phases(s, shampoo)):
        one = _run(ph.spec.model_copy(update={"evaluation": spec.EvaluationSpec(selection="test")}), ph.series, tmp_path, f"f{k}")
        folds.append(one.runs.set_index(["config", "repeat"])["test_rmse"])
    expected = (folds[0] + folds[1]) / 2
    got = r.runs.set_index(["config", "repeat"])["validation_rmse"]
    np.testing.assert_allclose(got.loc[expected.index].to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- search never sees the test set
def test_search_judges_trials_without_the_test_set(shampoo, tmp_path):
    from lstmtune.workflow import search

    s = spec.from_dict(
        {
            "name": "srch",
            "seed": 2,
            "model": {"batch_size": 4, "epochs": 10},
            "runs": {"repeats": 2},
            "evaluation": {"selection": "validation", "validation_size": 6},
            "search": {"sampler": "random", "trials": 3, "batch": 3, "space": {"units": {"type": "int", "low": 1, "high": 4}}},
        },
        "srch",
    )
    values = shampoo.values.copy()
    values[-12:] = values[-12:][::-1] * 2.0
    perturbed = dataclasses.replace(shampoo, values=values)
    outcomes = []
    for name, series in (("a", shampoo), ("b", perturbed)):
        url = f"sqlite:///{tmp_path / (name + '.db')}"
        with open_store(url) as store:
            outcomes.append(search.run_search(s, series, store, url))
    a, b = outcomes
    assert a.metric == "validation_rmse"
    pd.testing.assert_frame_equal(a.trials, b.trials, check_exact=True)  # same values, same ranking
    assert a.test["trial"] == b.test["trial"]
    assert np.isfinite(a.test["test_rmse"]).all()
    assert not np.allclose(a.test["test_rmse"], b.test["test_rmse"])  # scored once, on the (changed) test set


def test_a_metric_undefined_in_one_fold_is_undefined_for_the_run():
    # MAPE is NaN where a holdout holds a 0; pandas' mean skipped that fold and gave the other
    # folds' mean as the run's validation MAPE, while the baselines' fold means gave NaN
    import numpy as np
    import pandas as pd

    from lstmtune.selection import metrics
    from lstmtune.study.evaluation import combine_folds

    scores = {f"test_{m}": [1.0, 2.0] for m in metrics.NAMES}
    first = pd.DataFrame({"config": ["a", "b"], "repeat": [0, 0], **scores, "diverged": [False, False], "train_rmse": [1.0, 1.0]})
    second = first.copy()
    second.loc[0, "test_mape"] = np.nan
    combined = combine_folds([first, second]).set_index("config")
    assert np.isnan(combined.loc["a", "validation_mape"]) and combined.loc["a", "validation_rmse"] == 1.0
    assert combined.loc["b", "validation_mape"] == 2.0


def test_a_gap_before_the_test_split_is_filled_without_reading_the_test(tmp_path):
    """``missing = "interpolate"``: a gap just before the test split was filled from the first
    test observation, so every validation score read the test set (a search's probe). The values
    before the split are now the same whatever the test holds; a gap inside the test still reads
    the values around it."""
    from lstmtune.data import panel
    from lstmtune.workflow.study import load_series

    base = load("shampoo")
    frames = []
    for k, factor in enumerate((1.0, 3.0)):
        y = base.values.copy()
        y[-12:] = y[-12:] * factor + 100 * k
        cells = [f"{v:.1f}" for v in y]
        cells[-13] = ""  # the last observation before the test split
        cells[-5] = ""  # one inside it
        path = tmp_path / f"s{k}.csv"
        path.write_text("month,sales\n" + "\n".join(f"{d},{c}" for d, c in zip(pd.DatetimeIndex(base.dates).strftime("%Y-%m"), cells)) + "\n")
        s = spec.from_dict({**BASE, "data": {"source": str(path), "test_size": 12, "missing": "interpolate"}}, "gap")
        frames.append(load_series(s).values)
    a, b = frames
    np.testing.assert_array_equal(a[:-12], b[:-12])
    assert a[-13] == a[-14]  # held: the value before it
    assert a[-5] == pytest.approx((a[-6] + a[-4]) / 2, rel=1e-2)  # inside the test: between its neighbours (in time)
    # a panel's series, as `run --data` fills it
    for k, y in enumerate(frames):
        f = pd.DataFrame({"unique_id": "s", "ds": pd.DatetimeIndex(base.dates), "y": y})
        f.loc[len(f) - 13, "y"] = np.nan
        frames[k] = panel.interpolate(f, apart=12)["y"].to_numpy()
    np.testing.assert_array_equal(frames[0][:-12], frames[1][:-12])


def test_the_aic_autoregression_is_matched_across_splits_by_its_procedure():
    """The AIC's autoregression is named by the order it chose on each split: AR(3) AIC on the
    validation part, AR(4) AIC on the test. The best baseline on the selection holdout was
    then looked for among the test's names, not found, and silently replaced by the next best
    (found by a report probe: "persistence 7.729" where AR(3) AIC beat it on validation)."""
    from types import SimpleNamespace

    from lstmtune.study import analysis
    from lstmtune.workflow.study import _mean_scores

    def results(selection, test):
        return SimpleNamespace(selection_baselines=selection, baselines=test, selection_metric="validation_rmse",
                               spec=SimpleNamespace(transforms=SimpleNamespace(lags=1)))

    sel = {"persistence": {"rmse": 7.037}, "AR(1)": {"rmse": 7.2}, "AR(3) AIC": {"rmse": 6.499}}
    test = {"persistence": {"rmse": 7.729}, "AR(1)": {"rmse": 7.9}, "AR(4) AIC": {"rmse": 7.781}}
    assert analysis._best_baseline(results(sel, test)) == ("AR(4) AIC", 7.781, "selection")
    # on the test the AIC chose the study's order: its row is AR(1) ("also the AIC's choice")
    merged = {"persistence": {"rmse": 7.729}, "AR(1)": {"rmse": 7.9}}
    assert analysis._best_baseline(results(sel, merged)) == ("AR(1)", 7.9, "selection")
    # backtest folds: the AIC's order differs by fold, or is the study's order in one
    folds = [{"persistence": {"rmse": 2.0}, "AR(1)": {"rmse": 3.0}, "AR(3) AIC": {"rmse": 1.0}},
             {"persistence": {"rmse": 4.0}, "AR(1)": {"rmse": 5.0}, "AR(2) AIC": {"rmse": 2.0}},
             {"persistence": {"rmse": 6.0}, "AR(1)": {"rmse": 4.0}}]
    assert _mean_scores(folds, 1) == {"persistence": {"rmse": 4.0}, "AR(1)": {"rmse": 4.0}, "AR(p) AIC": {"rmse": 7.0 / 3}}
    assert _mean_scores(folds[:1] * 2, 1) == {"persistence": {"rmse": 2.0}, "AR(1)": {"rmse": 3.0}, "AR(3) AIC": {"rmse": 1.0}}
    assert analysis._best_baseline(results(_mean_scores(folds, 1), test)) == ("AR(4) AIC", 7.781, "selection")
