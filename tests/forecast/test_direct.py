"""The direct multi-step LSTM ensemble: its windows, its inversion, its directory, its refusals."""

import numpy as np
import pandas as pd
import pytest

from lstmtune.errors import LstmtuneError
from lstmtune.forecast import direct


def _series(n=72, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 50 + 0.3 * t + 8 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)
    return pd.Series(y, index=pd.date_range("2015-01-01", periods=n, freq="MS"))


def test_windows_are_pandas_shifts_of_the_differences():
    y = _series().to_numpy()
    spec = direct.Spec(interval=12, lags=5, horizon=4)
    prob = direct.problem_for(y, spec)
    z = pd.Series(y).diff(12).dropna().reset_index(drop=True)
    scaled = (z - z.min()) / (z.max() - z.min()) * 2 - 1
    frame = pd.concat({f"x{k}": scaled.shift(-k) for k in range(5)} | {f"y{h}": scaled.shift(-5 - h) for h in range(4)}, axis=1).dropna()
    np.testing.assert_allclose(prob.train_x[:, 0, :], frame[[f"x{k}" for k in range(5)]].to_numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(prob.train_y, frame[[f"y{h}" for h in range(4)]].to_numpy(), rtol=0, atol=1e-12)
    # the first output is scored in the program as a one-step forecast: its previous value and actual
    first = np.arange(len(frame)) + 5 + 12
    np.testing.assert_array_equal(prob.train_actual, y[first])
    np.testing.assert_array_equal(prob.train_prev, y[first - 12])


@pytest.mark.parametrize("interval", [1, 3])
def test_perfect_differences_give_back_the_future_exactly(monkeypatch, interval):
    """Steps beyond the differencing lag build on forecast values: fed the true future
    differences, the forecast is the true future."""
    from lstmtune.data import transforms

    s = _series(60)
    past, future, full = s.iloc[:-6], s.iloc[-6:].to_numpy(), s.to_numpy()
    scaler = transforms.fit_scaler(np.diff(past.to_numpy(), interval)[:, None])
    model = direct.DirectForecaster(direct.Spec(interval=interval, lags=4, horizon=6), (0, 1), scaler, None,
                                    np.asarray(past.index, dtype="datetime64[ns]"), past.to_numpy(), "MS", "s")
    z_future = full[-6:] - full[-6 - interval : len(full) - interval]
    scaled = transforms.scale(scaler, z_future[:, None])[:, 0]
    monkeypatch.setattr(direct, "_predict", lambda params, units, x: np.stack([scaled, scaled])[:, None, :])
    paths, last, _ = model.paths(6)
    np.testing.assert_allclose(paths, np.stack([future, future]), rtol=1e-12)
    assert last == np.datetime64(past.index[-1])


@pytest.fixture(scope="module")
def fitted():
    return direct.fit(_series(), direct.Spec(interval=12, lags=12, horizon=6, epochs=30), seeds=[3, 4, 5], series_name="s")


def test_fit_is_reproducible_and_a_replica_does_not_depend_on_the_others(fitted):
    again = direct.fit(_series(), direct.Spec(interval=12, lags=12, horizon=6, epochs=30), seeds=[4], series_name="s")
    np.testing.assert_array_equal(fitted.paths(6)[0][1], again.paths(6)[0][0])


def test_the_directory_round_trips_and_refuses_a_changed_file(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    assert direct.is_direct(tmp_path / "m")
    back = direct.load(tmp_path / "m")
    pd.testing.assert_frame_equal(back.forecast(6), fitted.forecast(6), check_exact=True)
    raw = bytearray((tmp_path / "m" / direct.WEIGHTS).read_bytes())
    raw[-1] ^= 1
    (tmp_path / "m" / direct.WEIGHTS).write_bytes(bytes(raw))
    with pytest.raises(LstmtuneError, match="checksum"):
        direct.load(tmp_path / "m")


def test_bands_are_ordered_and_dates_follow_the_series(fitted):
    t = fitted.forecast(6)
    assert list(t["date"]) == list(pd.date_range("2021-01-01", periods=6, freq="MS"))
    assert (t["lower_95"] <= t["lower_80"]).all() and (t["lower_80"] <= t["median"]).all() and (t["median"] <= t["upper_80"]).all() and (t["upper_80"] <= t["upper_95"]).all()


@pytest.mark.parametrize("horizon", [0, 7, 2.5, True])
def test_a_horizon_beyond_the_trained_one_is_refused(fitted, horizon):
    with pytest.raises(LstmtuneError, match="from 1 to 6"):
        fitted.paths(horizon)


def test_a_short_series_is_refused_with_what_it_needs():
    with pytest.raises(LstmtuneError, match="needs at least 43"):
        direct.fit(_series(30), direct.Spec(interval=12, lags=12, horizon=12, epochs=2), seeds=[0])
