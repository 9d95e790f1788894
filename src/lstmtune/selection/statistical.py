"""Statistical forecasting candidates from statsforecast (the field's own implementations):
AutoETS, AutoARIMA, AutoTheta and SeasonalNaive, with their prediction intervals; for an
intermittent series (at least :data:`INTERMITTENT_ZEROS` of its values zero) also Croston
(optimized) and TSB (smoothing 0.2 for demand and probability, statsforecast's example
values: statsforecast fits no TSB parameters), whose intervals are statsforecast's conformal
ones; for a series with a second season (daily data: weekly and yearly; hourly: daily and
weekly) and two cycles of the longer one, MSTL (its trend by AutoETS without a season).

Both entry points take a long frame (``unique_id, ds, y``) and return statsforecast's own
shapes: :func:`backtest` its ``cross_validation`` table (``unique_id, ds, cutoff, y`` and a
column per model and interval bound), :func:`forecast` its ``forecast`` table.
"""

from __future__ import annotations

import functools
import os
import warnings

import numpy as np
import pandas as pd

MODELS = ("AutoETS", "AutoARIMA", "AutoTheta", "SeasonalNaive")
INTERMITTENT = ("CrostonOptimized", "TSB")
MULTIPLE = ("MSTL",)
INTERMITTENT_ZEROS = 0.3
"""Share of zero values from which a series counts as intermittent."""
APPROXIMATE_ABOVE = 150
"""AutoARIMA searches its orders with the conditional-sum-of-squares approximation on a series
of more observations than this, or with a season longer than 12: the default of R's
``auto.arima`` (Hyndman and Khandakar, 2008), which statsforecast leaves off. Measured (2-core
machine, benchmarks/RESULTS.md): about 4x faster on long monthly series, the same accuracy."""
SECOND_SEASON = {"D": 365, "h": 168, "H": 168, "bh": 40}  # business hours: a week's 5 x 8
"""The longer season of a frequency whose :func:`lstmtune.data.series.infer_period` season is the shorter one."""


def second_season(freq: str | None, season: int) -> int | None:
    """The longer season beside ``season`` for data of frequency ``freq`` (None: none known, or
    ``season`` is not shorter than it: ``--season-length 168`` on hourly data gave MSTL the
    seasons 168 and 168, a probe)."""
    from lstmtune.data.series import frequency_parts

    parts = frequency_parts(freq)
    if parts is None or season <= 1:
        return None
    n, unit = parts
    longer = SECOND_SEASON.get(unit)
    return longer // n if longer is not None and longer % n == 0 and longer // n > season else None


def models_for(y, freq: str | None = None, season: int = 1) -> tuple[str, ...]:
    """The candidates for a series with values ``y``: :data:`MODELS`, plus Croston and TSB when
    intermittent, plus MSTL when its frequency has a second season and ``y`` two cycles of it."""
    import numpy as np

    y = np.asarray(y, dtype=np.float64)
    out = MODELS
    if y.size and np.mean(y == 0) >= INTERMITTENT_ZEROS and np.all(y >= 0):
        out = out + INTERMITTENT
    longer = second_season(freq, season)
    if longer is not None and y.size >= 2 * longer:
        out = out + MULTIPLE
    return out


def _models(season: int, names=MODELS, horizon: int = 1, freq: str | None = None, approximation: bool = False):
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    from statsforecast.models import MSTL, TSB, AutoARIMA, AutoETS, AutoTheta, CrostonOptimized, SeasonalNaive
    from statsforecast.utils import ConformalIntervals

    m = max(int(season), 1)
    conformal = lambda: ConformalIntervals(h=horizon, n_windows=2)  # noqa: E731
    make = {
        "AutoETS": lambda: AutoETS(season_length=m),
        "AutoARIMA": lambda: AutoARIMA(season_length=m, approximation=approximation),
        "AutoTheta": lambda: AutoTheta(season_length=m),
        "SeasonalNaive": lambda: SeasonalNaive(season_length=m),
        "CrostonOptimized": lambda: CrostonOptimized(prediction_intervals=conformal()),
        "TSB": lambda: TSB(alpha_d=0.2, alpha_p=0.2, prediction_intervals=conformal()),
        "MSTL": lambda: MSTL(season_length=[m, second_season(freq, m)], trend_forecaster=AutoETS(model="ZZN")),
    }
    return [make[n]() for n in names]


def instances(names, season: int, n: int) -> list:
    """statsforecast's models ``names`` as ``auto`` fits them on a series of ``n`` observations
    (AutoARIMA approximating its search per :func:`approximates`)."""
    return _models(season, names, approximation=approximates(n, season))


def approximates(n: int, season: int) -> bool:
    """Whether AutoARIMA approximates its search on a series of ``n`` observations (:data:`APPROXIMATE_ABOVE`)."""
    return n > APPROXIMATE_ABOVE or season > 12


def _run(frame: pd.DataFrame, freq: str, season: int, call, names=MODELS, horizon: int = 1, n_jobs: int = 1, windows: int | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Run ``call(StatsForecast, frame, windows)`` with every model; where that fails, model by
    model, leaving out (and naming) the models that fail. When AutoARIMA is among the models,
    what approximates its search goes in calls of its own (:func:`approximates`): series by their
    length, or with ``windows`` (backtests), each window by the observations up to its cutoff, as
    a forecast from that cutoff would; rows come by series (and cutoff), as from one call.
    Bands are put in order (:func:`ordered_bands`). Each series is fitted in units of its own
    size (:func:`sizes`), its forecasts given back in its units."""
    size = sizes(frame, horizon * (windows or 0))
    per_row = frame["unique_id"].map(size).to_numpy(dtype=np.float64)
    table, failed = _run_ordered(frame.assign(y=frame["y"].to_numpy(dtype=np.float64) / per_row), freq, season, call, names, horizon, n_jobs, windows)
    back = table["unique_id"].map(size).to_numpy(dtype=np.float64)
    values = [c for c in table.columns if c not in ("unique_id", "ds", "cutoff")]
    table[values] = table[values].to_numpy(dtype=np.float64) * back[:, None]  # powers of two: y and every forecast exactly as fitted
    table, collapsed = without_collapsed_bands(table)
    return ordered_bands(table), failed + collapsed


FITTED_SIZE = 1024.0
"""The mean magnitude each series is brought near before the statistical models fit it
(:func:`sizes`). Measured on the four development sets (benchmarks/RESULTS.md, twenty-seventh
session; each model's mean held-out MASE): near 1, AutoTheta forecast worse than on the units
given (development 2.032 against 1.988, short 2.600 against 2.456); near 1024, every model as
well as on the units given or better (AutoTheta 1.987 / 2.421 / 1.033 / 0.828 against 1.988 /
2.456 / 1.034 / 0.829; AutoARIMA 1.871 against 1.888 on the development panel, the same
elsewhere; AutoETS the same to the last digit)."""


def size_of(values) -> float:
    """:func:`sizes` of one series' values (all of them)."""
    frame = pd.DataFrame({"unique_id": 0, "y": np.asarray(values, dtype=np.float64)})
    return float(sizes(frame).iloc[0]) if len(frame) else 1.0


def sizes(frame: pd.DataFrame, held: int = 0) -> pd.Series:
    """Per series (``unique_id``), the power of two that brings its mean magnitude over the
    observations before the last ``held`` (its backtest windows: no window's scale depends on
    what follows its first cutoff) nearest :data:`FITTED_SIZE`; where those observations are all 0
    (a product launched inside the backtest windows), its mean magnitude over all of them (the one
    way the scale of a window depends on later data: a power of two, to which the models' fits are
    all but indifferent); 1 where that too is 0 or not finite.

    statsforecast's models are fitted with fixed tolerances: AutoARIMA's orders and AutoTheta's
    fit changed with the data's units (a monthly series of values about 100 and the same divided
    by 1e6 chose AutoETS and AutoARIMA; AutoTheta's backtest MASE 0.339 and 0.452 at 1e-3 of the
    units; a probe). Fitted on the series divided by its size, each sees values of about the same
    magnitude whatever the units. A power of two divides and multiplies back exactly: the
    observations and a seasonal naive forecast are unchanged, and a series already of that
    magnitude is fitted exactly as statsforecast fits it."""
    y = frame["y"].to_numpy(dtype=np.float64)
    position = frame.groupby("unique_id", sort=False).cumcount().to_numpy()
    count = frame.groupby("unique_id", sort=False)["y"].transform("size").to_numpy()
    early = pd.Series(np.where(position < count - held, np.abs(y), np.nan), index=frame.index)
    mean = early.groupby(frame["unique_id"].to_numpy(), sort=False).mean()
    whole = pd.Series(np.abs(y), index=frame.index).groupby(frame["unique_id"].to_numpy(), sort=False).mean()
    mean = mean.where(mean > 0, whole)  # zeros before the first window (a product launched inside them): the whole series' size
    with np.errstate(divide="ignore", invalid="ignore"):
        power = np.round(np.log2(mean.to_numpy(dtype=np.float64) / FITTED_SIZE))
    ok = np.isfinite(power) & (np.abs(power) < 1000)
    return pd.Series(np.where(ok, np.exp2(np.where(ok, power, 0.0)), 1.0), index=mean.index)


def model_of(column: str) -> str:
    """The model a column of statsforecast's tables belongs to: ``AutoETS-lo-80`` -> ``AutoETS``."""
    return column.split("-lo-")[0].split("-hi-")[0]


def without_models(table: pd.DataFrame, gone) -> pd.DataFrame:
    """``table`` without the columns of the models ``gone``."""
    return table.drop(columns=[c for c in table.columns if model_of(c) in gone])


def without_collapsed_bands(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``table`` without the models one of whose bands has no width and misses the model's own
    point forecast, and why each was left out.

    statsforecast computes AutoTheta's bands in float32: on a series of a high level and a small
    spread (1e6 plus noise of 0.005), every bound of every level was the one float32 value
    1000000.0625, above the forecast it should surround; widened to hold it, the delivered band was
    one-sided and 0.013 wide, and covered 42% of the backtests at 95% (a probe). A band of no
    width that holds its forecast (an exact season) is kept."""
    gone = []
    for lo_col in [c for c in table.columns if "-lo-" in c]:
        name, level = lo_col.split("-lo-")
        hi_col = f"{name}-hi-{level}"
        if name in gone or name not in table.columns or hi_col not in table.columns:
            continue
        point = table[name].to_numpy(dtype=np.float64)
        lo, hi = table[lo_col].to_numpy(dtype=np.float64), table[hi_col].to_numpy(dtype=np.float64)
        if ((lo == hi) & (lo != point) & np.isfinite(point)).any():
            gone.append(name)
    if not gone:
        return table, []
    why = [f"{name}: its bands have no width and miss its own forecasts (computed in float32, which cannot resolve this series' spread at its level): left out"
           for name in gone]
    return without_models(table, gone), why


def ordered_bands(table: pd.DataFrame) -> pd.DataFrame:
    """Each model's bands widened, where needed, to hold its point forecast and every narrower
    level's band: ``lo-L <= point <= hi-L`` and ``lo-95 <= lo-80``, ``hi-80 <= hi-95``.

    AutoTheta's bands are quantiles of simulated paths, centred on their median, not on its point
    forecast: a narrow level's band (``--level 1``) missed the forecast it surrounds, and 4 of 5
    steps of a monthly series had ``lower_1`` above the point. At 80% and 95% no model's bands
    were seen to need it, and statsforecast's values are kept as they are (tested).
    """
    bands = [c for c in table.columns if "-lo-" in c]
    for lo_col in bands:
        name, level = lo_col.split("-lo-")
        hi_col = f"{name}-hi-{level}"
        if name not in table.columns or hi_col not in table.columns:
            continue
        point = table[name].to_numpy(dtype=np.float64)
        lo, hi = table[lo_col].to_numpy(dtype=np.float64), table[hi_col].to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            if (lo > point).any() or (hi < point).any():
                table[lo_col], table[hi_col] = np.fmin(lo, point), np.fmax(hi, point)
    for name in {c.split("-lo-")[0] for c in bands}:
        levels = sorted(int(c.split("-lo-")[1]) for c in bands if c.startswith(f"{name}-lo-") and f"{name}-hi-{c.split('-lo-')[1]}" in table.columns)
        for narrow, wide in zip(levels, levels[1:]):
            for side, keep in (("lo", np.fmin), ("hi", np.fmax)):
                inner, outer = table[f"{name}-{side}-{narrow}"].to_numpy(dtype=np.float64), table[f"{name}-{side}-{wide}"].to_numpy(dtype=np.float64)
                held = keep(outer, inner)
                if not np.array_equal(held, outer, equal_nan=True):
                    table[f"{name}-{side}-{wide}"] = held
    return table


def _parts(frame: pd.DataFrame, season: int, horizon: int, windows: int | None) -> dict:
    """``(windows, approximation) -> [(unique_id, observations dropped from its end)]``: the calls
    AutoARIMA's search needs (``windows`` None: forecasts from the last observation). A series
    whose earlier backtest windows have at most :data:`APPROXIMATE_ABOVE` observations before
    their cutoff and whose later ones have more is split: its earlier windows backtested on the
    series without the later windows' observations."""
    calls: dict = {}
    for uid, n in frame.groupby("unique_id", sort=False)["y"].size().items():
        if windows is None:
            calls.setdefault((None, approximates(int(n), season)), []).append((uid, 0))
            continue
        exact = sum(not approximates(int(n) - horizon * j, season) for j in range(1, windows + 1))  # the earliest windows
        if exact:
            calls.setdefault((exact, False), []).append((uid, horizon * (windows - exact)))
        if exact < windows:
            calls.setdefault((windows - exact, True), []).append((uid, 0))
    return calls


def _run_ordered(frame, freq, season, call, names, horizon, n_jobs, windows=None) -> tuple[pd.DataFrame, list[str]]:
    if "AutoARIMA" not in names:
        return _run_group(frame, freq, season, lambda sf, df: call(sf, df, windows), names, horizon, n_jobs, False)
    calls = _parts(frame, season, horizon, windows)
    if len(calls) == 1:
        (count, flag), _ = next(iter(calls.items()))
        return _run_group(frame, freq, season, lambda sf, df: call(sf, df, count), names, horizon, n_jobs, flag)
    parts, failed = [], []
    for (count, flag), members in calls.items():
        drop = dict(members)
        sub = frame[frame["unique_id"].isin(drop)]
        if any(drop.values()):
            keep = sub.groupby("unique_id", sort=False).cumcount(ascending=False) >= sub["unique_id"].map(drop)
            sub = sub[keep]
        part, why = _run_group(sub, freq, season, lambda sf, df, count=count: call(sf, df, count), names, horizon, n_jobs, flag)
        parts.append(part)
        failed += [w for w in why if w not in failed]
    gone = {w.split(":", 1)[0] for w in failed}  # a model that failed on any part is left out of all, as from one call
    parts = [without_models(part, gone) for part in parts]
    out = pd.concat(parts, ignore_index=True)  # in statsforecast's order, as one call would give: by series (by cutoff), then as it wrote them
    return out.sort_values(["unique_id", "cutoff"] if "cutoff" in out.columns else "unique_id", kind="stable", ignore_index=True), failed


@functools.cache
def _statsforecast():
    """statsforecast's ``StatsForecast`` whose ``n_jobs`` processes are :class:`lstmtune.selection.processes.Pool`'s."""
    from statsforecast import StatsForecast

    from lstmtune.selection import processes

    class _StatsForecast(StatsForecast):
        def _get_pool(self):
            return processes.Pool, {}

    return _StatsForecast


def _run_group(frame, freq, season, call, names, horizon, n_jobs, approximation) -> tuple[pd.DataFrame, list[str]]:
    StatsForecast = _statsforecast()

    def once(models):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call(StatsForecast(models=models, freq=freq, n_jobs=n_jobs), frame)

    try:
        return once(_models(season, names, horizon, freq, approximation)), []
    except Exception:  # noqa: BLE001 - a model that cannot fit this series: retried alone below
        pass
    out, failed = None, []
    for name in names:
        try:
            part = once(_models(season, (name,), horizon, freq, approximation))
        except Exception as err:  # noqa: BLE001
            failed.append(f"{name}: {type(err).__name__}: {err}"[:200])
            continue
        keys = [c for c in ("unique_id", "ds", "cutoff", "y") if c in part.columns]
        out = part if out is None else out.merge(part, on=keys)
    if out is None:
        raise ValueError("no statistical model fits this series: " + "; ".join(failed))
    return out, failed


def backtest(frame: pd.DataFrame, horizon: int, windows: int, freq: str, season: int, levels=(80, 95), names=MODELS, n_jobs: int = 1) -> tuple[pd.DataFrame, list[str]]:
    """Rolling-origin forecasts: ``windows`` origins ``horizon`` apart, the last ``horizon``
    observations forecast from the last origin; each model refitted at each origin.

    ``frame`` may hold several series (statsforecast fits each alone; ``n_jobs`` processes).

    Returns:
      statsforecast's cross-validation table, and the models that failed (named, with why).
    """
    return _run(frame, freq, season, lambda sf, df, count: sf.cross_validation(df=df, h=horizon, step_size=horizon, n_windows=count, level=list(levels)), names, horizon, n_jobs, windows)


def forecast(frame: pd.DataFrame, horizon: int, freq: str, season: int, levels=(80, 95), names=MODELS, n_jobs: int = 1) -> tuple[pd.DataFrame, list[str]]:
    """Each model fitted on all of ``frame`` (one series or several), forecasting ``horizon`` steps with intervals."""
    return _run(frame, freq, season, lambda sf, df, _: sf.forecast(df=df, h=horizon, level=list(levels)), names, horizon, n_jobs)


__all__ = ["APPROXIMATE_ABOVE", "FITTED_SIZE", "INTERMITTENT", "INTERMITTENT_ZEROS", "MODELS", "MULTIPLE", "approximates", "backtest", "forecast", "models_for", "second_season", "model_of", "size_of", "sizes", "without_collapsed_bands", "without_models"]
