"""Statistical forecasting candidates from statsforecast (the field's own implementations):
AutoETS, AutoARIMA, AutoTheta and SeasonalNaive, with their prediction intervals; for an
intermittent series (at least :data:`INTERMITTENT_ZEROS` of its values zero) also Croston
(optimized), whose intervals are statsforecast's conformal ones.

Both entry points take a long frame (``unique_id, ds, y``) and return statsforecast's own
shapes: :func:`backtest` its ``cross_validation`` table (``unique_id, ds, cutoff, y`` and a
column per model and interval bound), :func:`forecast` its ``forecast`` table.
"""

from __future__ import annotations

import os
import warnings

import pandas as pd

MODELS = ("AutoETS", "AutoARIMA", "AutoTheta", "SeasonalNaive")
INTERMITTENT = ("CrostonOptimized",)
INTERMITTENT_ZEROS = 0.3
"""Share of zero values from which a series counts as intermittent."""


def models_for(y) -> tuple[str, ...]:
    """The candidates for a series with values ``y``: :data:`MODELS`, plus Croston when intermittent."""
    import numpy as np

    y = np.asarray(y, dtype=np.float64)
    return MODELS + INTERMITTENT if y.size and np.mean(y == 0) >= INTERMITTENT_ZEROS and np.all(y >= 0) else MODELS


def _models(season: int, names=MODELS, horizon: int = 1):
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, CrostonOptimized, SeasonalNaive
    from statsforecast.utils import ConformalIntervals

    m = max(int(season), 1)
    make = {
        "AutoETS": lambda: AutoETS(season_length=m),
        "AutoARIMA": lambda: AutoARIMA(season_length=m),
        "AutoTheta": lambda: AutoTheta(season_length=m),
        "SeasonalNaive": lambda: SeasonalNaive(season_length=m),
        "CrostonOptimized": lambda: CrostonOptimized(prediction_intervals=ConformalIntervals(h=horizon, n_windows=2)),
    }
    return [make[n]() for n in names]


def _run(frame: pd.DataFrame, freq: str, season: int, call, names=MODELS, horizon: int = 1) -> tuple[pd.DataFrame, list[str]]:
    """Run ``call(StatsForecast)`` with every model; where that fails, model by model, leaving
    out (and naming) the models that fail on this series."""
    from statsforecast import StatsForecast

    def once(models):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call(StatsForecast(models=models, freq=freq, n_jobs=1))

    try:
        return once(_models(season, names, horizon)), []
    except Exception:  # noqa: BLE001 - a model that cannot fit this series: retried alone below
        pass
    out, failed = None, []
    for name in names:
        try:
            part = once(_models(season, (name,), horizon))
        except Exception as err:  # noqa: BLE001
            failed.append(f"{name}: {type(err).__name__}: {err}"[:200])
            continue
        keys = [c for c in ("unique_id", "ds", "cutoff", "y") if c in part.columns]
        out = part if out is None else out.merge(part, on=keys)
    if out is None:
        raise ValueError("no statistical model fits this series: " + "; ".join(failed))
    return out, failed


def backtest(frame: pd.DataFrame, horizon: int, windows: int, freq: str, season: int, levels=(80, 95), names=MODELS) -> tuple[pd.DataFrame, list[str]]:
    """Rolling-origin forecasts: ``windows`` origins ``horizon`` apart, the last ``horizon``
    observations forecast from the last origin; each model refitted at each origin.

    Returns:
      statsforecast's cross-validation table, and the models that failed (named, with why).
    """
    return _run(frame, freq, season, lambda sf: sf.cross_validation(df=frame, h=horizon, step_size=horizon, n_windows=windows, level=list(levels)), names, horizon)


def forecast(frame: pd.DataFrame, horizon: int, freq: str, season: int, levels=(80, 95), names=MODELS) -> tuple[pd.DataFrame, list[str]]:
    """Each model fitted on all of ``frame``, forecasting ``horizon`` steps with intervals."""
    return _run(frame, freq, season, lambda sf: sf.forecast(df=frame, h=horizon, level=list(levels)), names, horizon)


__all__ = ["INTERMITTENT", "INTERMITTENT_ZEROS", "MODELS", "backtest", "forecast", "models_for"]
