"""LSTM ensemble candidates: recursive one-step networks over a space that knows seasons.

Each candidate is one configuration trained as a seed ensemble (:func:`lstmtune.forecast.
forecaster.fit`) and rolled out recursively over the horizon. Its intervals are split-conformal
on its own backtest errors (a few seeds' spread is no predictive interval): absolute errors
divided by the square root of their step, pooled over steps, give the quantile ``q`` of each
level, and the band at step ``h`` is the mean +- ``q * sqrt(h)``. A backtest window's band uses
the errors of the other windows only; the final forecast's uses every window's. The space, by season length
``m``: differencing at lag 1 or ``m``, and lags reaching at least ``m`` and at least the
order an autoregression picks on the differenced series (a cycle of ten years needs about
ten lags, not one).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from lstmtune.errors import LstmtuneError

LEVELS = (80, 95)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Training settings shared by every LSTM candidate (the budget's knobs)."""

    units: int = 4
    epochs: int = 300
    batch_size: int = 8
    seeds: int = 5
    seed: int = 0


def space(y: np.ndarray, season: int, settings: Settings) -> list[tuple[str, object]]:
    """``(name, Config)`` of each LSTM candidate for a series ``y`` of season length ``season``."""
    from lstmtune.selection.baselines import ar_order
    from lstmtune.study import spec as spec_mod

    m = max(int(season), 1)
    diffs = np.diff(y)
    try:
        p = ar_order(diffs) if len(diffs) > 8 else 1
    except Exception:  # noqa: BLE001 - statsmodels refusing a short or odd series: one lag
        p = 1
    lags = max(m, p, 1)
    intervals = (1, m) if m > 1 else (1,)
    out = []
    for interval in intervals:
        raw = {
            "name": "auto",
            "seed": settings.seed,
            "model": {"units": settings.units, "epochs": settings.epochs, "batch_size": settings.batch_size, "stateful": False, "shuffle": True},
            "transforms": {"interval": interval, "lags": lags},
        }
        config = spec_mod.expand(spec_mod.from_dict(raw, "auto"))[0].config
        out.append((f"LSTM(d={interval},lags={lags})", config))
    return out


def _seeds(settings: Settings, name: str) -> list[int]:
    from lstmtune.selection.stats import stream_seed

    base = stream_seed(settings.seed, name)
    return [base + i for i in range(settings.seeds)]


def _fit_forecast(history: pd.Series, horizon: int, name: str, config, settings: Settings) -> pd.DataFrame:
    from lstmtune.forecast import forecaster

    model = forecaster.fit(history, config, seeds=_seeds(settings, name), horizon=horizon, calibrate=False)
    return model.forecast(horizon, calibrated=False)


def _columns(table: pd.DataFrame, name: str) -> dict[str, np.ndarray]:
    cols = {name: table["mean"].to_numpy()}
    for level in LEVELS:
        cols[f"{name}-lo-{level}"] = table[f"lower_{level}"].to_numpy()
        cols[f"{name}-hi-{level}"] = table[f"upper_{level}"].to_numpy()
    return cols


def conformal_quantiles(errors: np.ndarray, steps: np.ndarray) -> dict[int, float] | None:
    """Per level, the finite-sample conformal quantile of ``|error| / sqrt(step)``; None without errors."""
    scores = np.abs(np.asarray(errors, dtype=np.float64)) / np.sqrt(np.asarray(steps, dtype=np.float64))
    scores = scores[np.isfinite(scores)]
    if scores.size == 0:
        return None
    n = scores.size
    return {level: float(np.quantile(scores, min(1.0, np.ceil((n + 1) * level / 100) / n), method="higher")) for level in LEVELS}


def _band(columns: dict, name: str, q: dict[int, float] | None) -> dict:
    """Replace the ensemble's bands by conformal ones (kept as they are without errors to calibrate on)."""
    if q is None:
        return columns
    mean = columns[name]
    root = np.sqrt(np.arange(1, len(mean) + 1))
    for level in LEVELS:
        columns[f"{name}-lo-{level}"] = mean - q[level] * root
        columns[f"{name}-hi-{level}"] = mean + q[level] * root
    return columns


def backtest(frame: pd.DataFrame, cutoffs, horizon: int, name: str, config, settings: Settings) -> pd.DataFrame:
    """The candidate's forecasts from each cutoff (trained on the observations up to it):
    ``ds, cutoff`` and the columns ``name``, ``name-lo-80``, ... (statsforecast's shape).

    Raises:
      LstmtuneError: the series is too short for the configuration before a cutoff, or
        every replica diverged.
    """
    windows = []
    for cutoff in cutoffs:
        past = frame[frame["ds"] <= cutoff]
        future = frame[frame["ds"] > cutoff].head(horizon)
        table = _fit_forecast(pd.Series(past["y"].to_numpy(), index=pd.DatetimeIndex(past["ds"])), horizon, name, config, settings)
        if len(future) != horizon:
            raise LstmtuneError(f"cutoff {cutoff}: fewer than {horizon} observations after it")
        windows.append((cutoff, future, _columns(table, name)))
    errors = [future["y"].to_numpy(dtype=np.float64) - cols[name] for _, future, cols in windows]
    steps = np.arange(1, horizon + 1)
    parts = []
    for k, (cutoff, future, cols) in enumerate(windows):
        others = [e for j, e in enumerate(errors) if j != k]
        q = conformal_quantiles(np.concatenate(others), np.tile(steps, len(others))) if others else None
        parts.append(pd.DataFrame({"ds": future["ds"].to_numpy(), "cutoff": cutoff, **_band(cols, name, q)}))
    return pd.concat(parts, ignore_index=True)


def forecast(frame: pd.DataFrame, horizon: int, name: str, config, settings: Settings, backtests: pd.DataFrame | None = None) -> pd.DataFrame:
    """The candidate trained on every observation: ``ds`` and its columns for ``horizon`` steps,
    its bands conformal on ``backtests``' errors (``cutoff, y`` and the candidate's column)."""
    table = _fit_forecast(pd.Series(frame["y"].to_numpy(), index=pd.DatetimeIndex(frame["ds"])), horizon, name, config, settings)
    q = None
    if backtests is not None and name in backtests.columns:
        steps = backtests.groupby("cutoff").cumcount().to_numpy() + 1
        q = conformal_quantiles(backtests["y"].to_numpy(dtype=np.float64) - backtests[name].to_numpy(dtype=np.float64), steps)
    return pd.DataFrame({"ds": pd.DatetimeIndex(table["date"]), **_band(_columns(table, name), name, q)})


__all__ = ["LEVELS", "Settings", "backtest", "forecast", "space"]
