"""LSTM ensemble candidates over a space that knows seasons: recursive one-step networks and
direct multi-step ones.

Each candidate is one configuration trained as a seed ensemble: a recursive one
(:func:`lstmtune.forecast.forecaster.fit`) rolled out step by step over the horizon, or a
direct one (:func:`lstmtune.forecast.direct.fit`, MQ-RNN style) whose Dense(H) head outputs
every step at once, trained on the H-step windows it is used for (no errors fed back). Its intervals are split-conformal
on its own backtest errors (a few seeds' spread is no predictive interval): absolute errors
divided by the square root of their step, pooled over steps, give the quantile ``q`` of each
level, and the band at step ``h`` is the mean +- ``q * sqrt(h)``. A backtest window's band uses
the errors of the other windows only; the final forecast's uses every window's. The space, by season length
``m``: differencing at lag 1 or ``m``, and lags reaching at least ``m`` and at least the
order an autoregression picks on the differenced series (a cycle of ten years needs about
ten lags, not one); and, for a positive series whose spread grows with its level (Guerrero's
Box-Cox lambda below 0.5), each again on its Box-Cox transform with that lambda (the
logarithm with ``Settings(boxcox=False)``), its forecasts and bands transformed back (the point forecast is then the ensemble's median: the back-transform of a
mean is not a mean).

Hybrids (family ``hybrid``, after ES-RNN): where the series has a season, an LSTM ensemble
forecasts what a statistical decomposition leaves: STL (statsmodels, robust) removes the
seasonal component of the series (or of its logarithm), the network forecasts the seasonally
adjusted series (differenced and scaled as every candidate is), and the last cycle's seasonal
component is added back. Everything is fitted on the observations before each cutoff only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from lstmtune.errors import LstmtuneError
from lstmtune.forecast import direct
from lstmtune.forecast.composite import Transform, Transformed, history_of

@dataclasses.dataclass(frozen=True)
class Settings:
    """Training settings shared by every LSTM candidate (the budget's knobs)."""

    units: int = 4
    epochs: int = 300
    batch_size: int = 8
    seeds: int = 5
    seed: int = 0
    levels: tuple[int, ...] = (80, 95)  # interval levels, percent
    calendar: bool = True  # also recursive networks reading the date of each step (month, quarter or weekday)
    boxcox: bool = True  # Box-Cox with Guerrero's lambda instead of the logarithm, where the spread grows with the level
    space: str = "default"
    """``"default"``: one network per series, :func:`default_network` (and the hybrids);
    ``"full"``: every configuration of the grid (:func:`space`), chosen among on the backtests."""

    @property
    def fractions(self) -> tuple[float, ...]:
        return tuple(level / 100 for level in sorted(self.levels))


LOG_LAMBDA = 0.5
"""A positive series whose Guerrero Box-Cox lambda is below this gets candidates on its logarithm too."""


def wants_log(y: np.ndarray, season: int) -> bool:
    """Whether the spread grows with the level enough to try the logarithm (positive series only)."""
    if len(y) < 2 * max(season, 2) or not np.all(y > 0):
        return False
    from lstmtune.forecast.composite import guerrero_lambda

    try:
        return bool(guerrero_lambda(y, season) < LOG_LAMBDA)
    except (ValueError, ZeroDivisionError):
        return False


CALENDAR = {("M", 12): "month", ("MS", 12): "month", ("ME", 12): "month", ("Q", 4): "quarter", ("QS", 4): "quarter", ("QE", 4): "quarter", ("D", 7): "dayofweek"}
"""The calendar input that names the season, by frequency alias (without its anchor) and season length."""


def calendar_kind(freq: str | None, season: int) -> str | None:
    """``month``, ``quarter`` or ``dayofweek`` where the dates name the season (monthly data with
    season 12, quarterly with 4, daily with 7), else None."""
    from lstmtune.data.series import frequency_parts

    parts = frequency_parts(freq)
    if parts is None or parts[0] != 1:  # every other month's dates do not name a 12-month season
        return None
    return CALENDAR.get((parts[1], int(season)))


def harmonics_for(y: np.ndarray, dates, kind: str) -> int:
    """How many harmonics of calendar input ``kind``'s cycle a calendar network reads for the
    series ``y`` observed at ``dates``: the K (1 to half the cycle's period) whose Fourier terms,
    regressed with an intercept on the lag-1 differences by least squares (statsmodels' OLS),
    give the lowest AICc, as a dynamic harmonic regression chooses its K (Hyndman and
    Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., 10.5). A season that is one
    smooth wave keeps the one (sin, cos) pair; one of sharper shape (CO2's, El Nino's) gets more.
    1 where the differences are too few to compare the fits.

    Measured on the four development sets (benchmarks/RESULTS.md, twenty-ninth session): the
    LSTMs alone 8% better on the short seasonal series, `auto` better or equal on every set."""
    import pandas as pd
    import statsmodels.api as sm
    from statsmodels.tools.eval_measures import aicc

    from lstmtune.data.problem import CALENDAR_PERIODS, calendar_features, calendar_input, calendar_phase

    period = CALENDAR_PERIODS[kind]
    d = np.diff(np.asarray(y, dtype=np.float64))
    phase = calendar_phase(pd.DatetimeIndex(dates), kind)[1:]  # difference t's date is observation t + 1's
    finite = np.isfinite(d)
    d, phase = d[finite], phase[finite]
    best, chosen = np.inf, 1
    for count in range(1, period // 2 + 1):
        x = np.column_stack([np.ones_like(d), *calendar_features(phase, calendar_input(kind, count))])
        if len(d) - x.shape[1] - 2 <= 0:
            break
        score = aicc(sm.OLS(d, x).fit().llf, len(d), x.shape[1] + 1)  # the regressors and the variance
        if score < best:
            best, chosen = score, count
    return chosen


def space(y: np.ndarray, season: int, settings: Settings, freq: str | None = None, dates=None) -> list[tuple[str, object, str | None, str]]:
    """``(name, config, transform, family)`` of each LSTM and hybrid candidate for a series ``y``
    of season length ``season`` and frequency ``freq``: ``config`` a recursive network's Config
    (a :class:`~lstmtune.forecast.batch.Calendared` one where it reads the calendar) or a
    direct one's :class:`~lstmtune.forecast.direct.Spec` (the same differencing, lags and
    training); ``transform`` is None, ``"log"``, ``"stl"`` or ``"log+stl"``.

    Where the dates name the season (:func:`calendar_kind`), recursive networks also read the
    date each step forecasts (its month, quarter or weekday as sin/cos pairs, as DeepAR's
    time features do; as many harmonics of the cycle as :func:`harmonics_for` chooses from
    ``y`` and its ``dates``, one where no dates are given) over the lag-1 differences, with
    only the lags the autoregression picks: the season comes from the date, so a short series
    keeps enough windows to train on.

    With ``settings.space == "default"`` (the default) only :func:`default_network` and the
    hybrids are returned; ``"full"`` returns the whole grid."""
    from lstmtune.data.problem import calendar_input
    from lstmtune.forecast.batch import Calendared
    from lstmtune.selection.baselines import ar_order
    from lstmtune.study import spec as spec_mod

    m = max(int(season), 1)
    diffs = np.diff(y)
    try:
        p = ar_order(diffs) if len(diffs) > 8 else 1
    except Exception:  # noqa: BLE001 - statsmodels refusing a short or odd series (ValueError, LinAlgError, MissingDataError, ...): one lag
        p = 1
    lags = max(m, p, 1)
    log = wants_log(y, m)
    bent = "boxcox" if settings.boxcox else "log"
    plain = [(tr, i) for tr in ((None, bent) if log else (None,)) for i in ((1, m) if m > 1 else (1,))]
    hybrid = [("log+stl" if log else "stl", 1)] if m > 1 and len(y) >= 3 * m else []
    out = []

    def recursive(interval: int, k: int):  # a stateless recursive network's Config, as a study would expand it
        raw = {
            "name": "auto",
            "seed": settings.seed,
            "model": {"units": settings.units, "epochs": settings.epochs, "batch_size": settings.batch_size, "stateful": False, "shuffle": True},
            "transforms": {"interval": interval, "lags": k},
        }
        return spec_mod.expand(spec_mod.from_dict(raw, "auto"))[0].config

    def prefix(transform: str | None) -> str:
        return f"{transform}," if transform else ""

    for transform, interval in plain:
        spec = direct.Spec(interval=interval, lags=lags, units=settings.units, epochs=settings.epochs, batch_size=settings.batch_size)
        out.append((f"DirectLSTM({prefix(transform)}d={interval},lags={lags})", spec, transform, "lstm"))
    for transform, interval in plain + hybrid:
        if transform in ("stl", "log+stl"):
            name, family = f"Hybrid({'log,' if transform == 'log+stl' else ''}STL+LSTM,lags={lags})", "hybrid"
        else:
            name, family = f"LSTM({prefix(transform)}d={interval},lags={lags})", "lstm"
        out.append((name, recursive(interval, lags), transform, family))
    kind = calendar_kind(freq, m) if settings.calendar else None
    if kind is not None:
        reads = calendar_input(kind, harmonics_for(y, dates, kind) if dates is not None else 1)
        for transform in (None, bent) if log else (None,):  # (the name, which seeds the ensemble, names the cycle, not the harmonics)
            out.append((f"LSTM({prefix(transform)}d=1,lags={max(p, 1)},{kind})", Calendared(recursive(1, max(p, 1)), (reads,)), transform, "lstm"))
    if settings.space == "default":
        return [default_network(out), *(c for c in out if c[3] == "hybrid")]
    return out


SPACES = ("default", "full")
"""The LSTM spaces of :attr:`Settings.space`."""


def check_space(value, what: str = "settings.space") -> None:
    """Refuse an LSTM space that is not one of :data:`SPACES`, naming ``what`` gave it."""
    if value not in SPACES:
        raise LstmtuneError(f"{what} must be one of {', '.join(SPACES)}, got {value!r}")


def default_network(candidates: list) -> tuple:
    """The one LSTM candidate of the default space among :func:`space`'s full grid: the
    recursive network on the lag-1 differences that reads the calendar (``LSTM(d=1,lags=p,month)``)
    where the dates name the season, else the recursive ``LSTM(d=1,lags=L)``, on the series' own
    scale. Measured on four development sets (benchmarks/RESULTS.md, twentieth session): this one
    network forecast better than the network chosen among the grid's ten or so on two backtest
    windows, on every set, both alone and within ``auto``'s choice among families: with so few
    windows, the grid's choice fits the backtests' noise."""
    from lstmtune.forecast.batch import Calendared

    plain = [c for c in candidates if c[2] is None and c[3] == "lstm" and c[0].startswith("LSTM(d=1,")]
    return next((c for c in plain if isinstance(c[1], Calendared)), plain[0])


def _seeds(settings: Settings, name: str) -> list[int]:
    from lstmtune.selection.stats import stream_seed

    base = stream_seed(settings.seed, name)
    return [base + i for i in range(settings.seeds)]


def _fit(history: pd.Series, horizon: int, name: str, config, settings: Settings):
    from lstmtune.forecast import forecaster
    from lstmtune.forecast.batch import unwrapped

    if isinstance(config, direct.Spec):
        return direct.fit(history, dataclasses.replace(config, horizon=horizon), seeds=_seeds(settings, name), info={"source": "lstmtune auto", "label": name})
    config, calendar = unwrapped(config)
    return forecaster.fit(history, config, seeds=_seeds(settings, name), horizon=horizon, calibrate=False, info={"source": "lstmtune auto", "label": name}, calendar=calendar)


def _transformed_past(frame: pd.DataFrame, cutoff, transform: str | None, m: int) -> tuple[Transform, pd.Series, pd.DataFrame]:
    """``(transform fitted before cutoff, the transformed past as a Series, the future frame)``."""
    past = frame[frame["ds"] <= cutoff]
    tr = Transform.fit(transform, past["y"].to_numpy(dtype=np.float64), m)
    return tr, pd.Series(tr.forward(past["y"].to_numpy(dtype=np.float64)), index=pd.DatetimeIndex(past["ds"])), frame[frame["ds"] > cutoff]


def backtest_jobs(frame: pd.DataFrame, cutoffs, horizon: int, name: str, config, settings: Settings, transform: str | None = None, m: int = 1) -> list:
    """The fits :func:`backtest` needs, one :class:`~lstmtune.forecast.batch.Job` per cutoff
    (to train many candidates and series together: :func:`lstmtune.forecast.batch.fit_many`)."""
    from lstmtune.forecast import batch

    cfg = dataclasses.replace(config, horizon=horizon) if isinstance(config, direct.Spec) else config
    return [batch.Job(_transformed_past(frame, c, transform, m)[1], cfg, tuple(_seeds(settings, name)), horizon, {"source": "lstmtune auto", "label": name}) for c in cutoffs]


def _columns(table: pd.DataFrame, name: str, levels) -> dict[str, np.ndarray]:
    cols = {name: table["mean"].to_numpy(), f"{name}-median": table["median"].to_numpy()}
    for level in sorted(levels):
        cols[f"{name}-lo-{level}"] = table[f"lower_{level}"].to_numpy()
        cols[f"{name}-hi-{level}"] = table[f"upper_{level}"].to_numpy()
    return cols


def pooled_calibration(scores: np.ndarray, horizon: int):
    """A :class:`~lstmtune.forecast.intervals.Calibration` from conformity scores pooled over steps.

    ``scores``: level (a fraction) -> ``(windows, horizon)`` scores ``max(lo - y, y - hi)`` of the ensemble's
    raw band, each divided by the square root of its step; the split-conformal quantile ``q``
    of the pooled scores widens step ``h`` by ``q * sqrt(h)``. None without scores.
    """
    from lstmtune.forecast import intervals

    widen, exact = {}, {}
    root = np.sqrt(np.arange(1, horizon + 1))
    for level in sorted(scores):
        s = np.asarray(scores[level], dtype=np.float64).ravel()
        if not np.isfinite(s).any():
            return None
        q, ok = intervals.conformal_quantile(s, level)
        widen[repr(float(level))] = list(q * root)
        exact[repr(float(level))] = [ok] * horizon
    n = int(np.asarray(next(iter(scores.values()))).shape[0])
    return intervals.Calibration(widen, exact, [n] * horizon)


def _scores(paths: np.ndarray, actual: np.ndarray, fractions=(0.8, 0.95)) -> dict:
    """The raw ensemble band's conformity scores over one window (``paths``: ``(P, horizon)``),
    divided by sqrt(step): level -> (horizon,)."""
    from lstmtune.forecast import intervals

    root = np.sqrt(np.arange(1, paths.shape[1] + 1))
    return {level: intervals.scores(paths, actual, level) / root for level in fractions}


def _calibrated(model, calibration, horizon: int, fractions=(0.8, 0.95), rolled=None) -> pd.DataFrame:
    """The model's table with ``calibration``'s bands (its raw ensemble bands at ``fractions`` without one);
    ``rolled``: ``model.paths(horizon)``, where already computed."""
    paths, _, dates = model.paths(horizon) if rolled is None else rolled
    if calibration is None:
        return model.summarize(paths, model.future_dates(horizon, dates), calibrated=False, levels=fractions)
    return dataclasses.replace(model, calibration=calibration).summarize(paths, model.future_dates(horizon, dates))


def backtest(frame: pd.DataFrame, cutoffs, horizon: int, name: str, config, settings: Settings, transform: str | None = None, m: int = 1,
             fitted: Sequence | None = None) -> tuple[pd.DataFrame, dict]:
    """The candidate's forecasts from each cutoff (trained on the observations up to it):
    ``ds, cutoff`` and the columns ``name``, ``name-lo-80``, ... (statsforecast's shape), and
    the conformity scores of every window (level -> ``(windows, horizon)``), which calibrate
    the final forecast. A window's bands are calibrated on the other windows' scores only.
    ``fitted``: the models of :func:`backtest_jobs`, already trained (else each is fitted here).

    Raises:
      LstmtuneError: the series is too short for the configuration before a cutoff, or
        every replica diverged.
    """

    windows = []
    for k, cutoff in enumerate(cutoffs):
        tr, past, future = _transformed_past(frame, cutoff, transform, m)
        future = future.head(horizon)
        if len(future) != horizon:
            raise LstmtuneError(f"cutoff {cutoff}: fewer than {horizon} observations after it")
        model = fitted[k] if fitted is not None else _fit(past, horizon, name, config, settings)
        if isinstance(model, Exception):
            raise model
        rolled = model.paths(horizon)  # once: the window's scores and its table
        windows.append((cutoff, future, (model, tr, rolled), _scores(rolled[0], tr.forward_future(future["y"].to_numpy(dtype=np.float64)), settings.fractions)))
    scores = {level: np.stack([w[3][level] for w in windows]) for level in settings.fractions}
    parts = []
    for k, (cutoff, future, (model, tr, rolled), _) in enumerate(windows):
        others = {level: np.delete(s, k, axis=0) for level, s in scores.items()}
        calibration = pooled_calibration(others, horizon) if len(windows) > 1 else None
        table = tr.back(_calibrated(model, calibration, horizon, settings.fractions, rolled))
        parts.append(pd.DataFrame({"ds": future["ds"].to_numpy(), "cutoff": cutoff, **_columns(table, name, settings.levels)}))
    return pd.concat(parts, ignore_index=True), scores


def forecast_job(frame: pd.DataFrame, horizon: int, name: str, config, settings: Settings, transform: str | None = None, m: int = 1):
    """The fit :func:`forecast` needs, as a :class:`~lstmtune.forecast.batch.Job` (trained with others by ``fit_many``)."""
    from lstmtune.forecast import batch

    tr = Transform.fit(transform, frame["y"].to_numpy(dtype=np.float64), m)
    cfg = dataclasses.replace(config, horizon=horizon) if isinstance(config, direct.Spec) else config
    history = pd.Series(tr.forward(frame["y"].to_numpy(dtype=np.float64)), index=pd.DatetimeIndex(frame["ds"]))
    return batch.Job(history, cfg, tuple(_seeds(settings, name)), horizon, {"source": "lstmtune auto", "label": name})


def forecast(frame: pd.DataFrame, horizon: int, name: str, config, settings: Settings, scores: dict | None = None, transform: str | None = None, m: int = 1,
             fitted=None):
    """The candidate trained on every observation: ``(table, model)``, the table holding ``ds``
    and its columns for ``horizon`` steps; the model, the fitted forecaster, its intervals
    calibrated on every backtest window's ``scores`` (so ``lstmtune forecast`` on its saved
    directory gives the same bands; on a transformed series, a
    :class:`~lstmtune.forecast.composite.Transformed` around it)."""
    tr = Transform.fit(transform, frame["y"].to_numpy(dtype=np.float64), m)
    model = fitted if fitted is not None else _fit(pd.Series(tr.forward(frame["y"].to_numpy(dtype=np.float64)), index=pd.DatetimeIndex(frame["ds"])), horizon, name, config, settings)
    if isinstance(model, Exception):
        raise model
    if "unique_id" in frame and dataclasses.is_dataclass(model) and hasattr(model, "series_name"):  # its directory names the series
        model = dataclasses.replace(model, series_name=str(frame["unique_id"].iloc[0]))  # (a recursive one said "series": models/ refused it)
    calibration = pooled_calibration(scores, horizon) if scores is not None else None
    if calibration is not None:
        windows = int(np.asarray(next(iter(scores.values()))).shape[0])
        how = f"conformalized quantile regression on the {windows} backtest windows of lstmtune auto, scores pooled over steps (widening q * sqrt(step))"
        model = dataclasses.replace(model, calibration=calibration, info={**model.info, "calibration": how})
    table = tr.back(_calibrated(model, calibration, horizon, settings.fractions))
    y = frame["y"].to_numpy(dtype=np.float64)
    if transform is not None or np.nanmin(y) >= 0:  # a transform, or clipping at zero, goes with the model
        model = Transformed(model, tr, str(frame["unique_id"].iloc[0]) if "unique_id" in frame else "", {"source": "lstmtune auto", "label": name, "nonnegative": bool(np.nanmin(y) >= 0)},
                            history_of(frame["ds"].to_numpy(), y))
    return pd.DataFrame({"ds": pd.DatetimeIndex(table["date"]), **_columns(table, name, settings.levels)}), model


__all__ = ["CALENDAR", "LOG_LAMBDA", "SPACES", "calendar_kind", "check_space", "default_network", "harmonics_for", "Settings", "Transform", "backtest", "backtest_jobs", "forecast", "forecast_job", "pooled_calibration", "space", "wants_log"]
