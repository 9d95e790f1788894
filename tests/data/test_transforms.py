"""Differencing, framing, scaling and trimming: exact inverses and hand-checked content."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lstmtune.data import transforms
from lstmtune.errors import LstmtuneError

FINITE = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def _atol(*arrays: np.ndarray) -> float:
    """Absolute tolerance scaled to the magnitude of the data (float64 rounding)."""
    scale = max(1.0, *(float(np.max(np.abs(a))) if np.size(a) else 0.0 for a in arrays))
    return 1e-9 * scale


# --- differencing -----------------------------------------------------------------


@st.composite
def series_and_interval(draw):
    interval = draw(st.integers(min_value=1, max_value=5))
    n = draw(st.integers(min_value=max(2, interval + 1), max_value=60))
    x = draw(hnp.arrays(np.float64, n, elements=FINITE))
    return x, interval


@settings(max_examples=200, deadline=None)
@given(series_and_interval())
def test_inverse_difference_rebuilds_the_series(data):
    x, interval = data
    d = transforms.difference(x, interval)
    assert d.shape == (len(x) - interval,)
    rebuilt = transforms.inverse_difference(x[:interval], d, interval)
    assert rebuilt.shape == x.shape
    assert np.allclose(rebuilt, x, rtol=1e-12, atol=_atol(x))
    # the first `interval` values are copied, not recomputed
    assert np.array_equal(rebuilt[:interval], x[:interval])


@settings(max_examples=100, deadline=None)
@given(series_and_interval())
def test_difference_matches_definition(data):
    x, interval = data
    d = transforms.difference(x, interval)
    expected = np.array([x[i + interval] - x[i] for i in range(len(x) - interval)])
    assert np.array_equal(d, expected)


def test_difference_small_example():
    x = np.array([1.0, 4.0, 9.0, 16.0, 25.0])
    assert transforms.difference(x, 1).tolist() == [3.0, 5.0, 7.0, 9.0]
    assert transforms.difference(x, 2).tolist() == [8.0, 12.0, 16.0]
    assert transforms.inverse_difference(x[:2], np.array([8.0, 12.0, 16.0]), 2).tolist() == x.tolist()


@pytest.mark.parametrize("interval", [0, -1])
def test_difference_rejects_bad_interval(interval):
    with pytest.raises(LstmtuneError, match="interval must be >= 1"):
        transforms.difference(np.arange(5.0), interval)


# --- scaling ----------------------------------------------------------------------


def _reference_minmax(train: np.ndarray, lo: float = -1.0, hi: float = 1.0):
    """scikit-learn MinMaxScaler, written out independently: returns (scale, min, data_min, data_max)."""
    data_min = np.array([min(col) for col in train.T], dtype=np.float64)
    data_max = np.array([max(col) for col in train.T], dtype=np.float64)
    data_range = data_max - data_min
    # sklearn's _handle_zeros_in_scale: a zero range is replaced by 1
    data_range = np.array([1.0 if r == 0.0 else r for r in data_range])
    scale = (hi - lo) / data_range
    min_ = lo - data_min * scale
    return scale, min_, data_min, data_max


matrices = st.integers(min_value=1, max_value=4).flatmap(
    lambda cols: st.integers(min_value=1, max_value=30).flatmap(
        lambda rows: hnp.arrays(np.float64, (rows, cols), elements=FINITE)
    )
)


@settings(max_examples=200, deadline=None)
@given(matrices)
def test_unscale_inverts_scale(m):
    s = transforms.fit_scaler(m)
    back = transforms.unscale(s, transforms.scale(s, m))
    assert back.shape == m.shape
    assert np.allclose(back, m, rtol=1e-12, atol=_atol(m))


@settings(max_examples=200, deadline=None)
@given(matrices)
def test_scaler_matches_sklearn_semantics(m):
    s = transforms.fit_scaler(m)
    scale, min_, data_min, data_max = _reference_minmax(m)
    assert np.array_equal(s.data_min, data_min)
    assert np.array_equal(s.data_max, data_max)
    assert np.allclose(s.scale, scale, rtol=1e-12, atol=0)
    assert np.allclose(s.min, min_, rtol=1e-12, atol=1e-12)
    # transform by the reference formula
    expected = m * scale + min_
    assert np.allclose(transforms.scale(s, m), expected, rtol=1e-12, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(matrices)
@example(np.array([[-999999.9999999999], [-1e6]]))  # found by Hypothesis: a range of 1.2e-10 at 1e6, scaled to 0 and 2 by rounding
def test_training_rows_map_into_feature_range(m):
    s = transforms.fit_scaler(m)
    scaled = transforms.scale(s, m)
    # x * scale + min (scikit-learn's formula, kept for the tutorial's bits) rounds at the size of
    # its terms: a nearly constant column of large values has both near 1e16, and the rows land
    # in [-1, 1] only up to that rounding
    tol = 1e-9 + 4 * np.finfo(np.float64).eps * (np.abs(m) * s.scale + np.abs(s.min)).max(axis=0)
    assert np.all(scaled >= -1.0 - tol) and np.all(scaled <= 1.0 + tol)
    for c in range(m.shape[1]):
        col = m[:, c]
        if col.max() == col.min():
            # constant column: range counted as 1, so it maps onto the low end
            assert s.scale[c] == 2.0
            assert np.allclose(scaled[:, c], -1.0, atol=tol[c])
        else:
            assert np.isclose(scaled[np.argmin(col), c], -1.0, atol=tol[c])
            assert np.isclose(scaled[np.argmax(col), c], 1.0, atol=tol[c])


def test_scaler_hand_example():
    m = np.array([[0.0, 5.0, 3.0], [10.0, 5.0, -1.0], [5.0, 5.0, 1.0]])
    s = transforms.fit_scaler(m)
    assert s.data_min.tolist() == [0.0, 5.0, -1.0]
    assert s.data_max.tolist() == [10.0, 5.0, 3.0]
    assert np.allclose(s.scale, [0.2, 2.0, 0.5])
    assert np.allclose(s.min, [-1.0, -11.0, -0.5])
    assert np.allclose(transforms.scale(s, m), [[-1.0, -1.0, 1.0], [1.0, -1.0, -1.0], [0.0, -1.0, 0.0]])
    # unseen rows are mapped by the same affine map (may leave the range)
    assert np.allclose(transforms.scale(s, np.array([[20.0, 6.0, 7.0]])), [[3.0, 1.0, 3.0]])


def test_scaler_custom_feature_range():
    m = np.array([[2.0], [4.0], [6.0]])
    s = transforms.fit_scaler(m, feature_range=(0.0, 1.0))
    assert np.allclose(transforms.scale(s, m).ravel(), [0.0, 0.5, 1.0])


@pytest.mark.parametrize("rng", [(1.0, 1.0), (1.0, -1.0)])
def test_scaler_rejects_bad_feature_range(rng):
    with pytest.raises(LstmtuneError, match="feature_range must have low < high"):
        transforms.fit_scaler(np.ones((3, 1)), feature_range=rng)


# --- framing ----------------------------------------------------------------------


def _naive_frame(values, lags, timesteps):
    span = lags + timesteps - 1
    xs, ys = [], []
    for t in range(span, len(values)):
        sample = []
        for s in range(timesteps):
            end = t - (timesteps - 1 - s)  # step s ends right before this index
            sample.append([values[i] for i in range(end - lags, end)])
        xs.append(sample)
        ys.append(values[t])
    return np.array(xs, dtype=np.float64).reshape(len(ys), timesteps, lags), np.array(ys, dtype=np.float64)


@st.composite
def frame_case(draw):
    lags = draw(st.integers(min_value=1, max_value=4))
    timesteps = draw(st.integers(min_value=1, max_value=4))
    n = draw(st.integers(min_value=lags + timesteps, max_value=40))
    values = draw(hnp.arrays(np.float64, n, elements=FINITE))
    return values, lags, timesteps


@settings(max_examples=200, deadline=None)
@given(frame_case())
def test_frame_matches_naive_loop(case):
    values, lags, timesteps = case
    x, y = transforms.frame(values, lags, timesteps)
    m = len(values) - lags - timesteps + 1
    assert x.shape == (m, timesteps, lags)
    assert y.shape == (m,)
    ex, ey = _naive_frame(values, lags, timesteps)
    assert np.array_equal(x, ex)
    assert np.array_equal(y, ey)
    # the last step of each sample ends right before its target
    span = lags + timesteps - 1
    for j in range(m):
        t = span + j
        assert y[j] == values[t]
        assert np.array_equal(x[j, -1], values[t - lags : t])


def test_frame_tutorial_drops_missing_pair():
    values = np.array([10.0, 20.0, 30.0, 40.0])
    x, y = transforms.frame(values, 1, 1)
    # input t-1 -> target t; the first value has no input and is dropped, not zero-filled
    assert x.shape == (3, 1, 1)
    assert x.ravel().tolist() == [10.0, 20.0, 30.0]
    assert y.tolist() == [20.0, 30.0, 40.0]
    assert 0.0 not in x


def test_frame_known_layout():
    values = np.arange(7.0)  # 0..6
    x, y = transforms.frame(values, lags=2, timesteps=3)
    assert x.shape == (3, 3, 2)
    assert x[0].tolist() == [[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]]
    assert x[2].tolist() == [[2.0, 3.0], [3.0, 4.0], [4.0, 5.0]]
    assert y.tolist() == [4.0, 5.0, 6.0]


def test_frame_returns_independent_arrays():
    values = np.arange(6.0)
    x, y = transforms.frame(values, 2, 2)
    x[0, 0, 0] = 99.0
    y[0] = 99.0
    assert values.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_frame_rejects_bad_settings():
    with pytest.raises(LstmtuneError, match="lags and timesteps must be >= 1"):
        transforms.frame(np.arange(5.0), 0, 1)
    with pytest.raises(LstmtuneError, match="lags and timesteps must be >= 1"):
        transforms.frame(np.arange(5.0), 1, 0)
    with pytest.raises(LstmtuneError, match="too short to frame with lags=2, timesteps=3"):
        transforms.frame(np.arange(4.0), 2, 3)


# --- trimming ---------------------------------------------------------------------


@pytest.mark.parametrize("batch_size, expected", [(4, 2), (3, 1), (1, 0), (2, 0), (5, 2), (22, 0)])
def test_trim_default_drops_fewest_rows(batch_size, expected):
    count = transforms.trim_count(22, batch_size)
    assert count == expected
    assert (22 - count) % batch_size == 0


@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_trim_fixed_tutorial_count(batch_size):
    assert transforms.trim_count(22, batch_size, trim=2) == 2


def test_trim_fixed_not_divisible_raises():
    with pytest.raises(LstmtuneError, match="batch_size 3") as info:
        transforms.trim_count(22, 3, trim=2)
    assert "trim=2 leaves 20 training rows" in str(info.value)


def test_trim_too_few_rows_raises():
    with pytest.raises(LstmtuneError, match="too few for batch_size 8"):
        transforms.trim_count(7, 8)
    with pytest.raises(LstmtuneError, match="too few for batch_size 4 after dropping 2"):
        transforms.trim_count(5, 4, trim=2)


def test_trim_rejects_bad_arguments():
    with pytest.raises(LstmtuneError, match="batch_size must be >= 1, got 0"):
        transforms.trim_count(22, 0)
    with pytest.raises(LstmtuneError, match="trim must be >= 0, got -1"):
        transforms.trim_count(22, 1, trim=-1)
