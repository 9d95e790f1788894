"""Baseline forecasts every result is shown against.

Each baseline is a walk-forward one-step forecast of the last ``test_size``
observations using only values observed before the forecast time.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lstmtune import metrics
from lstmtune.errors import LstmtuneError


@dataclasses.dataclass(frozen=True)
class Baseline:
    name: str
    description: str
    forecast: np.ndarray
    scores: dict[str, float]


def persistence(values: np.ndarray, test_size: int) -> np.ndarray:
    """Forecast each test value by the observation just before it."""
    n = len(values)
    return np.asarray(values[n - test_size - 1 : n - 1], dtype=np.float64)


def seasonal_naive(values: np.ndarray, test_size: int, period: int) -> np.ndarray:
    """Forecast each test value by the observation ``period`` steps before it."""
    n = len(values)
    if period < 1 or n - test_size - period < 0:
        raise LstmtuneError(f"seasonal period {period} needs at least {test_size + period} observations, have {n}")
    return np.asarray(values[n - test_size - period : n - period], dtype=np.float64)


def training_mean(values: np.ndarray, test_size: int) -> np.ndarray:
    """Forecast every test value by the mean of the training observations."""
    train = np.asarray(values[: len(values) - test_size], dtype=np.float64)
    return np.full(test_size, train.mean())


def evaluate_all(values: np.ndarray, test_size: int = 12, period: int = 12) -> list[Baseline]:
    """Score persistence, seasonal naive (when the series is long enough) and the training mean.

    Args:
      values: the series in original units, shape ``(n,)``.
      test_size: number of final observations forecast.
      period: the seasonal naive period.

    Returns:
      One :class:`Baseline` per method, in that order.
    """
    values = np.asarray(values, dtype=np.float64)
    if not 1 <= test_size < len(values):
        raise LstmtuneError(f"test_size must be between 1 and {len(values) - 1}, got {test_size}")
    actual = values[-test_size:]
    train = values[:-test_size]
    candidates = [
        ("persistence", "previous observation", persistence(values, test_size)),
    ]
    if len(values) - test_size - period >= 0:
        candidates.append((f"seasonal naive (m={period})", f"observation {period} steps earlier", seasonal_naive(values, test_size, period)))
    candidates.append(("training mean", "mean of the training observations", training_mean(values, test_size)))
    out = []
    for name, description, forecast in candidates:
        scores = {k: float(v) for k, v in metrics.all_metrics(actual, forecast, train, m=1).items()}
        out.append(Baseline(name=name, description=description, forecast=forecast, scores=scores))
    return out
