"""The tutorial pipeline on shampoo: counts, scaler fit on training rows only, exact inversion."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from lstmtune.data import transforms
from lstmtune.data.series import load
from lstmtune.errors import LstmtuneError
from lstmtune.data.problem import Counts, Framing, minimum_length, prepare


@pytest.fixture(scope="module")
def shampoo():
    return load("shampoo")


def _tutorial_frame(values: np.ndarray) -> pd.DataFrame:
    """The tutorial's supervised frame built independently with pandas: x = diff(t-1), y = diff(t)."""
    diffs = pd.Series(values).diff().dropna().reset_index(drop=True)
    return pd.DataFrame({"x": diffs.shift(1), "y": diffs}).dropna().reset_index(drop=True)


@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_tutorial_counts_with_trim_2(shampoo, batch_size):
    problem = prepare(shampoo, Framing(trim=2), batch_size=batch_size)
    assert problem.counts == Counts(values=36, differences=35, pairs=34, train=22, test=12, trimmed=2, train_used=20)
    assert dataclasses.asdict(problem.counts) == {
        "values": 36,
        "differences": 35,
        "pairs": 34,
        "train": 22,
        "test": 12,
        "trimmed": 2,
        "train_used": 20,
    }
    assert problem.train_x.shape == (20, 1, 1)
    assert problem.train_y.shape == (20,)
    assert problem.test_x.shape == (12, 1, 1)
    assert problem.test_y.shape == (12,)


def test_default_trim_batch_1_uses_all_training_rows(shampoo):
    problem = prepare(shampoo, Framing(trim=None), batch_size=1)
    assert problem.counts.trimmed == 0
    assert problem.counts.train_used == 22
    assert problem.train_x.shape == (22, 1, 1)


@pytest.mark.parametrize("batch_size, trimmed", [(3, 1), (4, 2), (5, 2)])
def test_default_trim_drops_fewest(shampoo, batch_size, trimmed):
    problem = prepare(shampoo, Framing(), batch_size=batch_size)
    assert problem.counts.trimmed == trimmed
    assert problem.counts.train_used == 22 - trimmed
    assert problem.counts.train_used % batch_size == 0


def test_trim_drops_the_oldest_rows(shampoo):
    full = prepare(shampoo, Framing(trim=0), batch_size=1)
    trimmed = prepare(shampoo, Framing(trim=2), batch_size=4)
    assert np.array_equal(trimmed.train_x, full.train_x[2:])
    assert np.array_equal(trimmed.train_y, full.train_y[2:])
    assert np.array_equal(trimmed.train_actual, full.train_actual[2:])
    assert np.array_equal(trimmed.test_y, full.test_y)


def test_fixed_trim_not_divisible_raises(shampoo):
    with pytest.raises(LstmtuneError, match="batch_size 3"):
        prepare(shampoo, Framing(trim=2), batch_size=3)


def test_supervised_content_matches_pandas_framing(shampoo):
    problem = prepare(shampoo, Framing(trim=0), batch_size=1)
    frame = _tutorial_frame(shampoo.values)
    assert len(frame) == 34
    unscaled_x = transforms.unscale(problem.scaler, np.c_[problem.train_x.reshape(-1), problem.train_y])
    assert np.allclose(unscaled_x[:, 0], frame["x"].iloc[:22], rtol=0, atol=1e-9)
    assert np.allclose(unscaled_x[:, 1], frame["y"].iloc[:22], rtol=0, atol=1e-9)
    unscaled_test = transforms.unscale(problem.scaler, np.c_[problem.test_x.reshape(-1), problem.test_y])
    assert np.allclose(unscaled_test, frame.iloc[22:].to_numpy(), rtol=0, atol=1e-9)


@pytest.mark.parametrize("trim, batch_size", [(2, 4), (None, 1), (None, 3)])
def test_scaler_fitted_on_all_training_rows_only(shampoo, trim, batch_size):
    problem = prepare(shampoo, Framing(trim=trim), batch_size=batch_size)
    frame = _tutorial_frame(shampoo.values)
    train = frame.iloc[:22]
    assert np.array_equal(problem.scaler.data_min, train.min().to_numpy())
    assert np.array_equal(problem.scaler.data_max, train.max().to_numpy())
    assert np.allclose(problem.scaler.data_min, [-157.1, -157.1], rtol=0, atol=1e-9)
    assert np.allclose(problem.scaler.data_max, [213.6, 213.6], rtol=0, atol=1e-9)
    # fitting on every row (train + test) would give other extremes: the test would catch it
    assert not np.allclose(problem.scaler.data_min, frame.min().to_numpy())
    assert not np.allclose(problem.scaler.data_max, frame.max().to_numpy())
    assert np.allclose(frame.min().to_numpy(), -206.7) and np.allclose(frame.max().to_numpy(), 274.4)


def test_scaler_includes_the_trimmed_rows():
    # the largest and smallest differences sit in the two oldest training rows, which trim=2 drops:
    # the scaler must still see them (fitted before trimming, as in the tutorial)
    diffs = np.r_[0.0, 50.0, -40.0, np.tile([1.0, -1.0, 2.0, -2.0], 10)]
    values = np.cumsum(np.r_[100.0, diffs])
    problem = prepare(values, Framing(trim=2, test_size=12), batch_size=4)
    frame = _tutorial_frame(values)
    n_train = problem.counts.train
    assert problem.counts.trimmed == 2
    assert np.array_equal(problem.scaler.data_min, frame.iloc[:n_train].min().to_numpy())
    assert np.array_equal(problem.scaler.data_max, frame.iloc[:n_train].max().to_numpy())
    assert problem.scaler.data_max.tolist() == [50.0, 50.0]
    assert problem.scaler.data_min.tolist() == [-40.0, -40.0]
    used = frame.iloc[2:n_train]
    # a fit on the used rows only would give data_max [2, 2] and a target-column minimum of -2
    assert used.max().tolist() == [2.0, 2.0]
    assert used["y"].min() == -2.0


def test_scaled_training_rows_span_feature_range(shampoo):
    problem = prepare(shampoo, Framing(trim=0), batch_size=1)
    assert np.isclose(problem.train_y.min(), -1.0) and np.isclose(problem.train_y.max(), 1.0)
    assert np.isclose(problem.train_x.min(), -1.0) and np.isclose(problem.train_x.max(), 1.0)
    # test rows use the training fit and leave the range (larger swings in year 3)
    assert problem.test_y.max() > 1.0


@pytest.mark.parametrize("trim, batch_size", [(2, 4), (None, 1)])
def test_invert_recovers_observations(shampoo, trim, batch_size):
    problem = prepare(shampoo, Framing(trim=trim), batch_size=batch_size)
    values = shampoo.values
    assert np.allclose(problem.invert(problem.test_y, "test"), values[-12:], rtol=0, atol=1e-9)
    assert np.array_equal(problem.test_actual, values[-12:])
    assert np.allclose(problem.invert(problem.train_y, "train"), problem.train_actual, rtol=0, atol=1e-9)
    assert np.array_equal(problem.test_prev, values[-13:-1])
    used = problem.counts.train_used
    # train targets are observations 2 .. 23 (0-based), the last `used` of them
    assert np.array_equal(problem.train_actual, values[24 - used : 24])
    assert np.array_equal(problem.train_prev, values[23 - used : 23])


def test_invert_accepts_leading_batch_axis(shampoo):
    problem = prepare(shampoo, Framing(trim=2), batch_size=4)
    batch = np.stack([problem.test_y, problem.test_y])
    out = problem.invert(batch, "test")
    assert out.shape == (2, 12)
    assert np.allclose(out, shampoo.values[-12:][None, :], rtol=0, atol=1e-9)


def test_invert_walk_forward_adds_observed_previous_value(shampoo):
    problem = prepare(shampoo, Framing(trim=2), batch_size=4)
    zero_diff = transforms.scale(problem.scaler, np.zeros((1, 2)))[0, -1]  # a forecast of "no change"
    out = problem.invert(np.full(12, zero_diff), "test")
    assert np.allclose(out, shampoo.values[-13:-1], rtol=0, atol=1e-9)  # == persistence


def test_prepare_accepts_plain_array(shampoo):
    a = prepare(shampoo.values, Framing(trim=2), batch_size=4)
    b = prepare(shampoo, Framing(trim=2), batch_size=4)
    assert a.counts == b.counts
    assert np.array_equal(a.train_x, b.train_x) and np.array_equal(a.test_y, b.test_y)


def test_lags_and_timesteps_counts(shampoo):
    problem = prepare(shampoo, Framing(lags=2, timesteps=3, trim=None), batch_size=1)
    # 35 differences, span 4 -> 31 pairs, 19 training
    assert problem.counts.pairs == 31
    assert problem.counts.train == 19
    assert problem.train_x.shape == (19, 3, 2)
    assert np.allclose(problem.invert(problem.test_y, "test"), shampoo.values[-12:], rtol=0, atol=1e-9)
    assert np.array_equal(problem.test_prev, shampoo.values[-13:-1])


def test_minimum_length_formula():
    assert minimum_length(Framing(), 4) == 1 + 1 + 12 + 4
    assert minimum_length(Framing(trim=2), 4) == 1 + 1 + 12 + 4 + 2
    assert minimum_length(Framing(interval=2, lags=2, timesteps=3, test_size=5), 2) == 2 + 4 + 5 + 2


def test_minimum_length_is_accepted_and_one_less_is_not():
    framing = Framing(trim=2)
    need = minimum_length(framing, 4)
    values = np.arange(float(need)) ** 1.5
    problem = prepare(values, framing, batch_size=4)
    assert problem.counts.train_used == 4
    with pytest.raises(LstmtuneError, match="too short"):
        prepare(values[:-1], framing, batch_size=4)


def test_too_short_series_raises_with_needed_count():
    with pytest.raises(LstmtuneError) as info:
        prepare(np.arange(17.0), Framing(), batch_size=4)
    message = str(info.value)
    assert "too short" in message
    assert "series of 17 observations" in message
    assert "needs at least 18" in message


def test_too_short_message_mentions_trim():
    with pytest.raises(LstmtuneError, match=r"\+ trim 2 needs at least 20"):
        prepare(np.arange(19.0), Framing(trim=2), batch_size=4)


def test_bad_test_size_raises():
    with pytest.raises(LstmtuneError, match="test_size must be >= 1, got 0"):
        prepare(np.arange(40.0), Framing(test_size=0), batch_size=1)
