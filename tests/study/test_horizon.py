"""``[evaluation] horizon = H``: studies scored, and configurations chosen, on recursive H-step
forecasts from every origin of each holdout, checked against the forecaster's own backtests
(an independent retrain-and-forecast path) and statsmodels' multi-step predictions."""

import numpy as np
import pytest

from lstmtune.data.series import load
from lstmtune.errors import SpecError
from lstmtune.forecast import forecaster
from lstmtune.selection import baselines, metrics
from lstmtune.store import MemoryStore
from lstmtune.study import evaluation, identity, planner, spec
from lstmtune.workflow import study

BASE = {
    "name": "h",
    "seed": 5,
    "model": {"batch_size": 4, "epochs": 12},
    "runs": {"mode": "summary", "repeats": 2},
    "grid": {"units": [1, 2], "epochs": [8, 12]},
}


def _spec(**evaluation_):
    return spec.from_dict({**BASE, "evaluation": evaluation_}, "h")


@pytest.fixture(scope="module")
def shampoo():
    return load("shampoo")


@pytest.fixture(scope="module")
def results(shampoo):
    return study.execute(_spec(selection="validation", validation_size=6, horizon=3, test_all=True), shampoo, MemoryStore())


def _paths_rmse(series, config, seeds, horizon, held):
    """RMSE per replica of the forecaster's backtest (trained afresh on all but ``held``), full paths only."""
    paths, actual, _, _ = forecaster.backtest(series, config, seeds, (-1.0, 1.0), horizon, held)
    full = held - horizon + 1
    return metrics.rmse(actual[:full].reshape(-1), paths[:, :full, :].reshape(len(seeds), -1))


@pytest.mark.slow  # 3 s in the full run, end to end: kept out of the fast subset
def test_validation_and_test_scores_are_h_step_forecasts_from_every_origin(results, shampoo):
    configs = {p.config.key: p.config for p in results.points}
    assert len(configs) == 4  # two epoch counts: each trained as its own population, weights read at the end
    for key, config in configs.items():
        rows = results.runs[results.runs["config"] == key].sort_values("repeat")
        seeds = rows["seed"].tolist()
        np.testing.assert_allclose(rows["validation_rmse"], _paths_rmse(shampoo.head(24), config, seeds, 3, 6), rtol=1e-9)
        np.testing.assert_allclose(rows["test_rmse"], _paths_rmse(shampoo, config, seeds, 3, 12), rtol=1e-9)


@pytest.mark.parametrize("protocol", ["refit=false", "backtest"])
def test_the_other_protocols_score_the_same_origins(protocol, shampoo):
    """Without refit the selection model walks on through the validation rows and only the test
    is scored; with backtest folds every fold is an H-step holdout (the mean is the score)."""
    ev = {"selection": "validation", "validation_size": 6, "horizon": 3, "refit": False, "test_all": True} if protocol == "refit=false" else \
        {"selection": "backtest", "validation_size": 4, "folds": 2, "horizon": 3}
    r = study.execute(spec.from_dict({**BASE, "grid": {"units": [1]}, "evaluation": ev}, "h"), shampoo, MemoryStore())
    (point,) = r.points
    rows = r.runs.sort_values("repeat")
    seeds = rows["seed"].tolist()
    if protocol == "refit=false":  # trained on the 18 rows before validation; the test's origins 24..33 scored
        paths, actual, _, _ = forecaster.backtest(shampoo, point.config, seeds, (-1.0, 1.0), 3, 18)
        expected = metrics.rmse(actual[6:16].reshape(-1), paths[:, 6:16, :].reshape(len(seeds), -1))
        np.testing.assert_allclose(rows["test_rmse"], expected, rtol=1e-9)
    else:  # folds end 0 and 4 observations before the test
        folds = [_paths_rmse(shampoo.head(24 - 4 * k), point.config, seeds, 3, 4) for k in range(2)]
        np.testing.assert_allclose(rows["validation_rmse"], np.mean(folds, axis=0), rtol=1e-9)


def test_one_step_studies_keep_their_populations_and_fingerprints(shampoo):
    one, three = _spec(selection="validation", validation_size=6), _spec(selection="validation", validation_size=6, horizon=3)
    assert len(planner.plan(one).populations) == 2 and len(planner.plan(three).populations) == 4
    assert "horizon" not in identity.settings(one)
    assert identity.fingerprint(one, shampoo) != identity.fingerprint(three, shampoo)


def test_the_baselines_are_scored_at_the_same_horizon(results, shampoo):
    values = shampoo.values
    base = baselines.for_study(results.spec, shampoo, 12)
    by_name = {b.name: b for b in base}
    origins = range(24, 34)
    actual = np.concatenate([values[o : o + 3] for o in origins])
    persistence = np.concatenate([np.repeat(values[o - 1], 3) for o in origins])
    assert by_name["persistence"].scores["rmse"] == pytest.approx(float(metrics.rmse(actual, persistence)), rel=1e-12)
    assert results.baselines["persistence"] == by_name["persistence"].scores


def test_multistep_baselines_match_statsmodels_and_their_first_step_is_the_one_step_forecast(shampoo):
    from statsmodels.tsa.ar_model import AutoReg

    values, test, H = shampoo.values, 12, 4
    origins = list(range(len(values) - test, len(values) - H + 1))
    ar, p = baselines.autoregression_paths(values, test, 2, origins, H)
    diffs = np.diff(values)
    params = AutoReg(diffs[: len(diffs) - test], lags=2, trend="c").fit().params
    for i, o in enumerate(origins):
        model = AutoReg(diffs[: o - 1], lags=2, trend="c")
        changes = model.predict(params, start=o - 1, end=o - 2 + H)
        np.testing.assert_allclose(ar[i], values[o - 1] + np.cumsum(changes), rtol=1e-10)
    one_step, _ = baselines.autoregression(values, test, 2)
    np.testing.assert_allclose(ar[:, 0], one_step[: len(origins)], rtol=1e-10)
    ets, _ = baselines.exponential_smoothing_paths(values, test, None, origins, H)
    ets_one, _ = baselines.exponential_smoothing(values, test, None)
    np.testing.assert_allclose(ets[:, 0], ets_one[: len(origins)], rtol=1e-8)
    seasonal = {b.name: b for b in baselines.evaluate(values, test, period=3, horizon=H)[0]}["seasonal naive (m=3)"].forecast
    expected = np.concatenate([[values[o - 3], values[o - 2], values[o - 1], values[o - 3]] for o in origins])
    np.testing.assert_array_equal(seasonal, expected)


def test_a_horizon_longer_than_a_holdout_is_refused_in_one_line(shampoo):
    with pytest.raises(SpecError, match="evaluation.horizon 7 is longer than evaluation.validation_size 6"):
        evaluation.selection_phases(_spec(selection="validation", validation_size=6, horizon=7), shampoo)
    with pytest.raises(SpecError, match="evaluation.horizon 13 is longer than data.test_size 12"):
        evaluation.selection_phases(_spec(selection="test", horizon=13), shampoo)
    with pytest.raises(SpecError, match="horizon"):
        _spec(horizon=0)


def test_the_command_line_sets_the_horizon_and_refuses_one_too_long(tmp_path):
    from typer.testing import CliRunner

    from lstmtune.cli.app import app

    (tmp_path / "s.toml").write_text('name = "c"\nseed = 1\n[model]\nbatch_size = 4\nepochs = 10\n[runs]\nmode = "summary"\nrepeats = 2\n[evaluation]\nvalidation_size = 6\n')
    bad = CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--horizon", "9", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "evaluation.horizon 9 is longer than evaluation.validation_size 6" in " ".join(bad.output.split())
    assert not (tmp_path / "bad").exists()
    ok = CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--horizon", "3", "--out", str(tmp_path / "ok"), "-q"])
    assert ok.exit_code == 0, ok.output
    assert spec.load(tmp_path / "ok" / "study.toml").evaluation.horizon == 3
    assert "3-step forecasts" in " ".join(ok.output.split())


def test_the_multistep_seasonal_naive_needs_one_season_before_the_first_origin():
    values = np.arange(1.0, 14.0) ** 1.5  # 13 observations, the last 8 forecast: 5 before the first origin
    base = {b.name: b for b in baselines.evaluate(values, test_size=8, period=3, horizon=4)[0]}
    origins = range(5, 10)
    expected = np.concatenate([[values[o - 3], values[o - 2], values[o - 1], values[o - 3]] for o in origins])
    np.testing.assert_array_equal(base["seasonal naive (m=3)"].forecast, expected)


def test_a_rerun_with_another_horizon_names_it_as_what_changed(shampoo):
    """Runs stored under another horizon are not reused, and the note says why: the horizon, with
    its old and new value (a probe: the note listed "data source, content, split, ..." and not the
    horizon, the one setting changed); data changed under the same settings are named as such."""
    small = {**BASE, "grid": {"units": [1]}, "model": {"batch_size": 4, "epochs": 3}}
    store = MemoryStore()
    for horizon in (3, 2):
        done = study.execute(spec.from_dict({**small, "evaluation": {"horizon": horizon}}, "h"), shampoo, store)
    said = " ".join(done.notices)
    assert "the settings changed since results were stored (evaluation.horizon 3 -> 2)" in said, said
    # the data and a setting that does not key stored runs (each epoch count is its own configuration)
    other = {**small, "model": {"batch_size": 4, "epochs": 4}, "evaluation": {"horizon": 2}}
    again = study.execute(spec.from_dict(other, "h"), shampoo.head(34), store)
    assert "the data changed since results were stored" in " ".join(again.notices), again.notices


def test_a_model_fitted_from_a_multi_step_study_says_what_it_was_chosen_for(tmp_path):
    """``lstmtune fit`` from a study selected on 3-step forecasts: ``describe`` and the manifest
    say so (a probe: nothing a fitted model carried named the selection's horizon)."""
    from lstmtune.workflow import studyfit

    small = {**BASE, "grid": {"units": [1, 2]}, "model": {"batch_size": 4, "epochs": 3}}
    study.run(spec.from_dict({**small, "evaluation": {"horizon": 3}}, "h"), tmp_path / "run")
    model = studyfit.fit_source(tmp_path / "run", repeats=2)
    assert "(selected on its 3-step forecasts)" in model.describe()[0], model.describe()
    assert model.info["selection_horizon"] == 3
