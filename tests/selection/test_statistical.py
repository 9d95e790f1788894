"""The statistical candidates: AutoARIMA approximates its search on long series, as R's
auto.arima does by default; each series gets what statsforecast gives it alone."""

import os
import sys

import numpy as np
import pandas as pd
import pytest

from lstmtune.selection import statistical


def _series(uid, n, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 100 + 0.3 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, n).cumsum() * 0.5
    return pd.DataFrame({"unique_id": uid, "ds": pd.date_range("2000-01-01", periods=n, freq="MS"), "y": y})


def test_the_rule_is_r_auto_arimas():
    assert not statistical.approximates(150, 12) and statistical.approximates(151, 12)
    assert statistical.approximates(40, 52) and not statistical.approximates(40, 12)


@pytest.mark.slow  # AutoARIMA's search on the windows of a long series, and from each cutoff
def test_each_backtest_window_is_forecast_as_from_its_cutoff_whatever_follows_it():
    """AutoARIMA approximates its search on more than 150 observations. A backtest window is
    forecast as a forecast from its cutoff would be: by the observations up to the cutoff, not by
    the series' whole length (before, a 158-month series approximated in both windows, though its
    first has 146 months before its cutoff: a window depended on how many observations came
    after it)."""
    frame = pd.concat([_series("a", 158, 4), _series("b", 48, 5)], ignore_index=True)  # "a" straddles 150, "b" never does
    names = ("AutoARIMA", "SeasonalNaive")
    bt, failed = statistical.backtest(frame, 6, 2, "MS", 12, names=names)
    assert failed == [] and list(bt["unique_id"].unique()) == ["a", "b"]
    for uid in ("a", "b"):
        part = bt[bt["unique_id"] == uid]
        cutoffs = sorted(part["cutoff"].unique())
        assert list(part["cutoff"]) == [c for c in cutoffs for _ in range(6)]  # by cutoff, as one call orders them
        series = frame[frame["unique_id"] == uid]
        for cutoff in cutoffs:
            want, _ = statistical.forecast(series[series["ds"] <= cutoff], 6, "MS", 12, names=names)
            got = part[part["cutoff"] == cutoff].reset_index(drop=True)
            for col in ("AutoARIMA", "AutoARIMA-lo-95", "AutoARIMA-hi-80", "SeasonalNaive"):
                np.testing.assert_allclose(got[col].to_numpy(), want[col].to_numpy(), rtol=1e-9, err_msg=f"{uid} {cutoff} {col}")


@pytest.mark.filterwarnings("ignore::UserWarning")  # statsforecast's own convergence notes, in the reference calls
@pytest.mark.slow  # statsforecast over long series, together and alone
def test_long_and_short_series_in_one_frame_get_what_statsforecast_gives_each_alone():
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA

    frame = pd.concat([_series("a_short", 60, 1), _series("z_long", 170, 2)], ignore_index=True)  # the long group goes first
    names = ("AutoARIMA", "SeasonalNaive")
    got, failed = statistical.forecast(frame, 12, "MS", 12, names=names)
    assert failed == [] and list(got["unique_id"].unique()) == ["a_short", "z_long"]  # by series, as one call orders them
    for uid, approximation in (("z_long", True), ("a_short", False)):
        alone, size = _sized(frame[frame["unique_id"] == uid])
        want = StatsForecast(models=[AutoARIMA(season_length=12, approximation=approximation)], freq="MS").forecast(df=alone, h=12, level=[80, 95])
        mine = got[got["unique_id"] == uid].reset_index(drop=True)
        for col in ("AutoARIMA", "AutoARIMA-lo-95", "AutoARIMA-hi-80"):
            np.testing.assert_array_equal(mine[col].to_numpy(), want[col].to_numpy() * size)
    long, size = _sized(frame[frame["unique_id"] == "z_long"])
    other = StatsForecast(models=[AutoARIMA(season_length=12, approximation=False)], freq="MS").forecast(df=long, h=12)
    assert not np.array_equal(got.loc[got["unique_id"] == "z_long", "AutoARIMA"].to_numpy(), other["AutoARIMA"].to_numpy() * size)  # the setting matters here


def _sized(frame):
    """A series as the statistical models are fitted on it (statistical.sizes): divided by the
    power of two nearest its mean magnitude over 1024; and that power."""
    size = 2.0 ** np.round(np.log2(np.mean(np.abs(frame["y"].to_numpy())) / statistical.FITTED_SIZE))
    assert statistical.sizes(frame).tolist() == [size]
    return frame.assign(y=frame["y"] / size), size


def test_the_statistical_models_give_the_same_forecasts_in_any_units():
    """AutoARIMA's orders and AutoTheta's fit changed with the data's units (a monthly series of
    values about 100 and the same times 1e-6 chose different orders; a probe). Fitted in units of
    each series' size: the same series times 2**-20 forecasts exactly 2**-20 times as much; times
    1e-6 (not a power of two) within a fraction of a percent."""
    frame = _series("a", 96, 4)
    names = ("AutoETS", "AutoARIMA", "AutoTheta", "SeasonalNaive")
    ref, failed = statistical.backtest(frame, 6, 2, "MS", 12, names=names)
    assert failed == []
    small, _ = statistical.backtest(frame.assign(y=frame["y"] * 2.0**-20), 6, 2, "MS", 12, names=names)
    tiny, _ = statistical.backtest(frame.assign(y=frame["y"] * 1e-6), 6, 2, "MS", 12, names=names)
    for col in [c for c in ref.columns if c.split("-")[0] in names]:
        np.testing.assert_array_equal(small[col].to_numpy(), ref[col].to_numpy() * 2.0**-20)
        np.testing.assert_allclose(tiny[col].to_numpy(), ref[col].to_numpy() * 1e-6, rtol=5e-3)
    np.testing.assert_array_equal(ref["y"].to_numpy(), frame.set_index("ds").loc[ref["ds"], "y"].to_numpy())  # the observations, exactly


def test_a_model_that_fails_on_one_group_is_left_out_of_both(monkeypatch):
    frame = pd.concat([_series("short", 60, 1), _series("long", 170, 2)], ignore_index=True)
    real = statistical._models

    def failing_on_long(season, names=statistical.MODELS, horizon=1, freq=None, approximation=False):
        models = real(season, names, horizon, freq, approximation)
        if approximation and "AutoARIMA" in names:
            def boom(*a, **k):
                raise ValueError("cannot fit")
            for m in models:
                if type(m).__name__ == "AutoARIMA":
                    m.fit = m.forecast = boom
        return models

    monkeypatch.setattr(statistical, "_models", failing_on_long)
    got, failed = statistical.forecast(frame, 12, "MS", 12, names=("AutoARIMA", "SeasonalNaive"))
    assert [f.split(":")[0] for f in failed] == ["AutoARIMA"]
    assert not any(c.startswith("AutoARIMA") for c in got.columns) and got["SeasonalNaive"].notna().all() and len(got) == 24


@pytest.mark.slow  # 5 s in the full run, end to end: kept out of the fast subset
def test_backtests_of_long_and_short_series_come_in_one_calls_order():
    frame = pd.concat([_series("a_short", 60, 1), _series("z_long", 170, 2)], ignore_index=True)
    got, failed = statistical.backtest(frame, 6, 2, "MS", 12, names=("AutoARIMA", "SeasonalNaive"))
    assert failed == [] and list(got["unique_id"]) == ["a_short"] * 12 + ["z_long"] * 12
    for _, part in got.groupby("unique_id"):
        assert part["cutoff"].is_monotonic_increasing and part["ds"].is_monotonic_increasing and part["AutoARIMA"].notna().all()


class _Finalized:
    """Cyclic garbage whose finalizer marks the process it runs in."""

    def __init__(self, folder):
        self.folder, self.me = folder, self

    def __del__(self):
        import os

        (self.folder / f"finalized-in-{os.getpid()}").touch()


def _collect_and_report():
    import gc
    import os

    gc.collect()
    return os.getpid()


def _die():
    import os

    os._exit(1)


@pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")  # JAX's, where this worker imported it
def test_statsforecast_workers_neither_hang_when_one_dies_nor_finalize_this_process_objects(tmp_path):
    # A CI run hung: a forked statsforecast worker ran TensorFlow's finalizers from the parent's
    # garbage, aborted, and multiprocessing.Pool waited for its task for ever.
    import gc
    import os
    from concurrent.futures.process import BrokenProcessPool

    from lstmtune.selection import processes

    with processes.Pool(2) as pool, pytest.raises(BrokenProcessPool):
        pool.apply_async(_die).get(timeout=60)
    enabled = gc.isenabled()
    gc.disable()  # the garbage below must still be there at the fork
    try:
        _Finalized(tmp_path)
        with processes.Pool(2) as pool:
            child = pool.apply_async(_collect_and_report).get(timeout=60)
        assert child != os.getpid() and not (tmp_path / f"finalized-in-{child}").exists()
    finally:
        if enabled:
            gc.enable()
    gc.collect()
    assert (tmp_path / f"finalized-in-{os.getpid()}").exists()  # given back to this process's collector


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a parent-death signal is Linux's (prctl)")
def test_statsforecast_workers_die_with_a_command_killed_by_sigkill(tmp_path):
    """After `kill -9` of `lstmtune auto`, its two statsforecast workers stayed for ever, blocked
    on their pipe, holding about 225 MB each (a probe)."""
    import signal
    import subprocess
    import time

    script = tmp_path / "parent.py"
    script.write_text(
        "import os, sys, time\n"
        "from lstmtune.selection import processes\n"
        "pool = processes.Pool(2)\n"
        "futures = [pool.apply_async(time.sleep, (600,)) for _ in range(2)]\n"
        "time.sleep(1.0)\n"
        "print(' '.join(str(p) for p in pool._executor._processes), flush=True)\n"
        "time.sleep(600)\n")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    workers = [int(p) for p in parent.stdout.readline().split()]
    assert len(workers) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=30)

    def alive(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().split(")")[-1].split()[0] != "Z"  # a zombie has died
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 30
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in workers if alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert not left, f"workers {left} outlived their parent"


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_bands_hold_their_point_and_the_narrower_bands_and_are_statsforecasts_where_they_do():
    """AutoTheta's bands are quantiles of simulated paths: at a narrow level (1%) they missed
    its point forecast (lower_1 above it at most steps), a band that does not hold its own
    median. They are widened just enough; at 80% and 95% statsforecast's values are kept."""
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    from statsforecast import StatsForecast
    from statsforecast.models import AutoTheta

    frame = _series("a", 60, 3)
    got, failed = statistical.forecast(frame, 6, "MS", 12, levels=(1, 80, 95), names=("AutoTheta",))
    assert failed == []
    point = got["AutoTheta"]
    for level in (1, 80, 95):
        assert (got[f"AutoTheta-lo-{level}"] <= point).all() and (point <= got[f"AutoTheta-hi-{level}"]).all()
    assert (got["AutoTheta-lo-95"] <= got["AutoTheta-lo-80"]).all() and (got["AutoTheta-lo-80"] <= got["AutoTheta-lo-1"]).all()
    sized, size = _sized(frame)
    want = StatsForecast(models=[AutoTheta(season_length=12)], freq="MS").forecast(df=sized, h=6, level=[1, 80, 95])
    assert (want["AutoTheta-lo-1"] > want["AutoTheta"]).any()  # the case: statsforecast's own bands miss the point
    for col in ("AutoTheta", "AutoTheta-lo-80", "AutoTheta-hi-80", "AutoTheta-lo-95", "AutoTheta-hi-95"):
        np.testing.assert_array_equal(got[col].to_numpy(), want[col].to_numpy() * size)
    bt, _ = statistical.backtest(frame, 6, 2, "MS", 12, levels=(1, 80), names=("AutoTheta",))
    assert (bt["AutoTheta-lo-1"] <= bt["AutoTheta"]).all() and (bt["AutoTheta"] <= bt["AutoTheta-hi-1"]).all()


def test_a_model_whose_band_has_no_width_and_misses_its_forecast_is_left_out():
    """AutoTheta's bands are float32: at a level of 1e6 with a spread of 0.005 every bound was
    1000000.0625, above its forecast; widened, the band delivered was one-sided and 0.013 wide
    (a probe). Such a model is left out, named; a band of no width on its forecast is kept."""
    table = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2020-01-01", periods=3, freq="MS"),
                          "AutoTheta": [1e6 + 0.01, 1e6 + 0.02, 1e6 + 0.03], "AutoTheta-lo-80": 1e6 + 0.0625, "AutoTheta-hi-80": 1e6 + 0.0625,
                          "SeasonalNaive": [5.0, 6.0, 7.0], "SeasonalNaive-lo-80": [5.0, 6.0, 7.0], "SeasonalNaive-hi-80": [5.0, 6.0, 7.0]})
    kept, why = statistical.without_collapsed_bands(table)
    assert list(kept.columns) == ["unique_id", "ds", "SeasonalNaive", "SeasonalNaive-lo-80", "SeasonalNaive-hi-80"]
    assert len(why) == 1 and why[0].startswith("AutoTheta: its bands have no width and miss its own forecasts")
    same, none = statistical.without_collapsed_bands(table.drop(columns=["AutoTheta", "AutoTheta-lo-80", "AutoTheta-hi-80"]))
    assert none == [] and same.equals(kept)


@pytest.mark.slow
def test_auto_on_a_high_level_with_a_small_spread_delivers_no_collapsed_band():
    from lstmtune.auto.run import auto

    r = np.random.default_rng(7)
    t = np.arange(96)
    y = 1e6 + 0.05 * np.sin(2 * np.pi * t / 12) + 0.0005 * t + r.normal(0, 0.005, 96)
    frame = pd.DataFrame({"unique_id": "offset", "ds": pd.date_range("2015-01-01", periods=96, freq="MS"), "y": np.round(y, 6)})
    result = auto(frame, 6, candidates=("stats",))
    assert "AutoTheta" not in set(result.leaderboard["candidate"])
    reason = result.leaderboard["reason"].iloc[0]
    assert "AutoTheta: its bands have no width" in reason
    assert "unscaled" not in reason  # a spread of 1e-8 of the level is error, not rounding (score.ROUNDING)
    f = result.forecasts
    assert ((f["lower_80"] < f["mean"]) & (f["mean"] < f["upper_80"]) & (f["upper_95"] - f["lower_95"] > 0.01)).all()


def test_a_series_of_zeros_before_its_first_window_is_sized_on_the_whole_series():
    """A product launched inside the backtest windows: zeros before the first cutoff gave a size
    of 1, and its windows were fitted in the data's units again (AutoTheta 1.5% apart between
    units; a probe)."""
    y = np.r_[np.zeros(48), 100 + 5 * np.arange(12.0)]
    frame = pd.DataFrame({"unique_id": "launch", "ds": pd.date_range("2015-01-01", periods=60, freq="MS"), "y": y})
    assert statistical.sizes(frame, 12).tolist() == [2.0 ** np.round(np.log2(np.mean(np.abs(y)) / statistical.FITTED_SIZE))]
    assert statistical.sizes(frame.assign(y=0.0), 12).tolist() == [1.0]
