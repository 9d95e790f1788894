"""Forecast accuracy metrics, in original units, float64.

``mase`` scales by the in-sample mean absolute error of the seasonal naive
forecast with period ``m`` on the training observations (Hyndman & Koehler 2006).
All functions accept a leading batch axis: errors are reduced over the last axis.
"""

from __future__ import annotations

import numpy as np


def rmse(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    err = np.asarray(forecast, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return np.sqrt(np.mean(err**2, axis=-1))


def mae(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    err = np.asarray(forecast, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return np.mean(np.abs(err), axis=-1)


def mape(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """Mean absolute percentage error, in percent; NaN (undefined) where an actual value is 0.

    (A zero actual once gave inf, or NaN where the forecast was 0 too: rows of one table
    disagreed about the same data.)"""
    actual = np.asarray(actual, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 100.0 * np.mean(np.abs((np.asarray(forecast) - actual) / actual), axis=-1)
    return np.where(np.any(actual == 0.0, axis=-1), np.nan, value)[()]  # a NumPy float for one series


def smape(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """Symmetric MAPE in percent: mean of 2|F - A| / (|A| + |F|), a term with A = F = 0 counting
    0 (no error; utilsforecast's ``smape`` does the same), not 0/0."""
    actual = np.asarray(actual, dtype=np.float64)
    forecast = np.asarray(forecast, dtype=np.float64)
    scale = np.abs(actual) + np.abs(forecast)
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(scale == 0.0, 0.0, 2.0 * np.abs(forecast - actual) / scale)
    return 100.0 * np.mean(terms, axis=-1)


def naive_scale(train: np.ndarray, m: int = 1) -> np.float64:
    """MASE's scale: the in-sample mean absolute error of the seasonal naive (period ``m``);
    a NumPy float, so dividing by a zero scale gives inf/NaN as NumPy does."""
    train = np.asarray(train, dtype=np.float64)
    return np.mean(np.abs(train[m:] - train[:-m]))


def mase(actual: np.ndarray, forecast: np.ndarray, train: np.ndarray, m: int = 1) -> np.ndarray:
    """Mean absolute scaled error against the in-sample seasonal naive (period ``m``)."""
    scale = naive_scale(train, m)
    with np.errstate(divide="ignore", invalid="ignore"):  # a constant training series has no scale: NaN (or inf)
        return mae(actual, forecast) / scale


NAMES = ("rmse", "mae", "mape", "smape", "mase")
"""Every metric a run is scored by, in the order of results' columns (``test_rmse``, ...)."""


def all_metrics(actual: np.ndarray, forecast: np.ndarray, train: np.ndarray, m: int = 1) -> dict[str, np.ndarray]:
    """Every metric of :data:`NAMES` at once, keyed by name."""
    return {name: (mase(actual, forecast, train, m) if name == "mase" else globals()[name](actual, forecast)) for name in NAMES}
