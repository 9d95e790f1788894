"""The global direct LSTM: one network over many series' windows, each series scaled by its own."""

import numpy as np
import pandas as pd
import pytest

from lstmtune.errors import LstmtuneError
from lstmtune.forecast import batch, direct, pooled


def _series(n, seed, level=50.0, scale=1.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = level + scale * (0.3 * t + 8 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n))
    return pd.Series(y, index=pd.date_range("2015-01-01", periods=n, freq="MS"))


SPEC = direct.Spec(interval=1, lags=3, units=2, epochs=6, batch_size=8, horizon=4)


def test_the_pooled_rows_are_each_series_own_windows_scaled_by_its_own_range():
    a, b = _series(40, 1), _series(30, 2, level=5000.0, scale=100.0)
    problem, members = pooled.problem_for([a.to_numpy(), b.to_numpy()], SPEC)
    own = [direct.problem_for(s.to_numpy(), SPEC) for s in (a, b)]
    np.testing.assert_array_equal(problem.train_x, np.concatenate([p.train_x for p in own]))
    np.testing.assert_array_equal(problem.train_y, np.concatenate([p.train_y for p in own]))
    assert [m.windows for m in members] == [len(p.train_y) for p in own]
    for m, p in zip(members, own):
        np.testing.assert_array_equal(m.scaler.scale, p.scaler.scale)
    assert np.abs(problem.train_x).max() <= 1.0 + 1e-12  # both on [-1, 1] whatever their levels


def test_one_network_for_every_series_trained_as_the_engine_trains_the_pooled_rows():
    from lstmtune.engine import trainer as engine

    a, b = _series(40, 1), _series(30, 2, level=5000.0, scale=100.0)
    job = pooled.PooledJob((a, b), SPEC, (7, 8), ("a", "b"))
    alone = direct.fit(_series(50, 3), SPEC, seeds=[9])  # trained beside it in one stacked population
    models, other = batch.fit_many([job, batch.Job(_series(50, 3), SPEC, (9,), 4)])
    assert [m.series_name for m in models] == ["a", "b"]
    for leaf_a, leaf_b in zip(np.asarray(models[0].params.dense.kernel), np.asarray(models[1].params.dense.kernel)):
        np.testing.assert_array_equal(leaf_a, leaf_b)
    problem, _ = pooled.problem_for([a.to_numpy(), b.to_numpy()], SPEC)
    ref = engine.train_population(problem, direct.architecture(SPEC), engine.Schedule.for_checkpoints([SPEC.epochs]), seeds=[7, 8])
    np.testing.assert_array_equal(np.asarray(models[0].params.dense.kernel), np.asarray(ref.params.dense.kernel))
    np.testing.assert_array_equal(np.asarray(models[0].params.layers[0].kernel), np.asarray(ref.params.layers[0].kernel))
    np.testing.assert_array_equal(other.paths(4)[0], alone.paths(4)[0])  # the local job beside it is untouched
    # each series forecast from its own last values, in its own units
    fb = models[1].forecast(4)
    assert 4000 < fb["mean"].mean() < 20000 and models[0].forecast(4)["mean"].mean() < 200
    assert models[0].info["pooled_series"] == 2 and models[0].info["pooled_windows"] == len(problem.train_y)


def test_a_series_without_a_window_of_its_own_is_still_forecast_and_a_too_short_one_is_named():
    a, b = _series(40, 1), _series(30, 2)
    short = _series(6, 3)  # 5 differences: no window of 3 + 4, but inputs to read
    tiny = _series(3, 4)  # fewer observations than the inputs read
    models = batch.fit_many([pooled.PooledJob((a, b, short, tiny), SPEC, (1,), ("a", "b", "short", "tiny"))])[0]
    assert models[2].info["training_windows"] == 0 and np.isfinite(models[2].forecast(4)["mean"]).all()
    assert isinstance(models[3], LstmtuneError) and "3 observations" in str(models[3])


def test_too_few_windows_over_all_series_are_refused_in_one_line():
    with pytest.raises(LstmtuneError, match="training windows over 2 series"):
        pooled.problem_for([_series(8, 1).to_numpy(), _series(8, 2).to_numpy()], SPEC)


def test_a_global_model_round_trips_through_its_directory_and_says_it_is_global(tmp_path):
    a, b = _series(40, 1), _series(30, 2)
    model = batch.fit_many([pooled.PooledJob((a, b), SPEC, (1, 2), ("a", "b"))])[0][1]
    model.save(tmp_path / "m")
    back = direct.load(tmp_path / "m")
    pd.testing.assert_frame_equal(back.forecast(4), model.forecast(4), check_exact=True)
    assert any("global network" in line and "2 series" in line for line in back.describe())
