"""Statistical forecasting candidates from statsforecast (the field's own implementations):
AutoETS, AutoARIMA, AutoTheta and SeasonalNaive, with their prediction intervals.

Both entry points take a long frame (``unique_id, ds, y``) and return statsforecast's own
shapes: :func:`backtest` its ``cross_validation`` table (``unique_id, ds, cutoff, y`` and a
column per model and interval bound), :func:`forecast` its ``forecast`` table.
"""

from __future__ import annotations

import os
import warnings

import pandas as pd

MODELS = ("AutoETS", "AutoARIMA", "AutoTheta", "SeasonalNaive")


def _models(season: int, names=MODELS):
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, SeasonalNaive

    m = max(int(season), 1)
    make = {
        "AutoETS": lambda: AutoETS(season_length=m),
        "AutoARIMA": lambda: AutoARIMA(season_length=m),
        "AutoTheta": lambda: AutoTheta(season_length=m),
        "SeasonalNaive": lambda: SeasonalNaive(season_length=m),
    }
    return [make[n]() for n in names]


def _run(frame: pd.DataFrame, freq: str, season: int, call, names=MODELS) -> tuple[pd.DataFrame, list[str]]:
    """Run ``call(StatsForecast)`` with every model; where that fails, model by model, leaving
    out (and naming) the models that fail on this series."""
    from statsforecast import StatsForecast

    def once(models):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call(StatsForecast(models=models, freq=freq, n_jobs=1))

    try:
        return once(_models(season, names)), []
    except Exception:  # noqa: BLE001 - a model that cannot fit this series: retried alone below
        pass
    out, failed = None, []
    for name in names:
        try:
            part = once(_models(season, (name,)))
        except Exception as err:  # noqa: BLE001
            failed.append(f"{name}: {type(err).__name__}: {err}"[:200])
            continue
        keys = [c for c in ("unique_id", "ds", "cutoff", "y") if c in part.columns]
        out = part if out is None else out.merge(part, on=keys)
    if out is None:
        raise ValueError("no statistical model fits this series: " + "; ".join(failed))
    return out, failed


def backtest(frame: pd.DataFrame, horizon: int, windows: int, freq: str, season: int, levels=(80, 95)) -> tuple[pd.DataFrame, list[str]]:
    """Rolling-origin forecasts: ``windows`` origins ``horizon`` apart, the last ``horizon``
    observations forecast from the last origin; each model refitted at each origin.

    Returns:
      statsforecast's cross-validation table, and the models that failed (named, with why).
    """
    return _run(frame, freq, season, lambda sf: sf.cross_validation(df=frame, h=horizon, step_size=horizon, n_windows=windows, level=list(levels)))


def forecast(frame: pd.DataFrame, horizon: int, freq: str, season: int, levels=(80, 95), names=MODELS) -> tuple[pd.DataFrame, list[str]]:
    """Each model fitted on all of ``frame``, forecasting ``horizon`` steps with intervals."""
    return _run(frame, freq, season, lambda sf: sf.forecast(df=frame, h=horizon, level=list(levels)), names)


__all__ = ["MODELS", "backtest", "forecast"]
