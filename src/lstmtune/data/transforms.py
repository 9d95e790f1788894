"""Pure, exactly invertible transforms: differencing, supervised framing, min-max scaling.

Each forward function has an inverse, and ``inverse(forward(x)) == x`` up to
float64 rounding (property-tested). Nothing here knows about models or studies.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lstmtune.errors import LstmtuneError


def difference(values: np.ndarray, interval: int = 1) -> np.ndarray:
    """``d[i] = x[i + interval] - x[i]``; the result is ``interval`` shorter.

    Args:
      values: shape ``(n,)``.
      interval: the lag of the difference, >= 1.

    Returns:
      Differences, shape ``(n - interval,)``.
    """
    if interval < 1:
        raise LstmtuneError(f"difference interval must be >= 1, got {interval}")
    values = np.asarray(values, dtype=np.float64)
    return values[interval:] - values[:-interval]


def inverse_difference(history: np.ndarray, diffs: np.ndarray, interval: int = 1) -> np.ndarray:
    """Rebuild a series from its first ``interval`` values and its differences.

    Args:
      history: the first ``interval`` observed values, shape ``(interval,)``.
      diffs: differences as returned by :func:`difference`, shape ``(m,)``.
      interval: the lag used by :func:`difference`.

    Returns:
      The series, shape ``(interval + m,)``.
    """
    out = np.empty(interval + len(diffs), dtype=np.float64)
    out[:interval] = history[:interval]
    for i, d in enumerate(diffs):
        out[i + interval] = out[i] + d
    return out


def frame(values: np.ndarray, lags: int = 1, timesteps: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Frame a series as supervised learning: windows of lagged values -> next value.

    Sample ``j`` predicts ``values[t]`` with ``t = lags + timesteps - 1 + j``.
    Its input is a sequence of ``timesteps`` steps; step ``s`` holds the ``lags``
    values ending just before ``t - (timesteps - 1 - s)``, oldest first. With
    ``lags = timesteps = 1`` this is the tutorial's framing (input ``t-1`` ->
    target ``t``), and pairs whose input would be missing are dropped, not
    zero-filled.

    Args:
      values: shape ``(n,)``.
      lags: features per step, >= 1.
      timesteps: steps per input sequence, >= 1.

    Returns:
      ``(inputs, targets)`` with shapes ``(m, timesteps, lags)`` and ``(m,)``,
      ``m = n - lags - timesteps + 1``.
    """
    if lags < 1 or timesteps < 1:
        raise LstmtuneError(f"lags and timesteps must be >= 1, got lags={lags}, timesteps={timesteps}")
    values = np.asarray(values, dtype=np.float64)
    span = lags + timesteps - 1
    m = len(values) - span
    if m < 1:
        raise LstmtuneError(f"a series of {len(values)} values is too short to frame with lags={lags}, timesteps={timesteps}")
    # window[j] = values[j : j + span], the span values before target t = j + span.
    window = np.lib.stride_tricks.sliding_window_view(values, span)[:m]
    steps = np.lib.stride_tricks.sliding_window_view(window, lags, axis=1)  # (m, timesteps, lags)
    return np.ascontiguousarray(steps), values[span:].copy()


class MinMaxScaler(NamedTuple):
    """Per-column affine map onto ``feature_range``, as scikit-learn's MinMaxScaler.

    ``scaled = x * scale + min`` with ``scale = (hi - lo) / (data_max - data_min)``
    and ``min = lo - data_min * scale``; a constant column's range counts as 1
    (so ``scale = hi - lo`` and the column maps to ``lo``), as scikit-learn does.
    """

    scale: np.ndarray
    min: np.ndarray
    data_min: np.ndarray
    data_max: np.ndarray


def fit_scaler(matrix: np.ndarray, feature_range: tuple[float, float] = (-1.0, 1.0)) -> MinMaxScaler:
    """Fit a per-column min-max scaler on ``matrix`` (shape ``(rows, columns)``)."""
    lo, hi = feature_range
    if not lo < hi:
        raise LstmtuneError(f"feature_range must have low < high, got {feature_range}")
    matrix = np.asarray(matrix, dtype=np.float64)
    data_min = matrix.min(axis=0)
    data_max = matrix.max(axis=0)
    data_range = data_max - data_min
    # scikit-learn's _handle_zeros_in_scale: a constant column is left unscaled.
    data_range = np.where(data_range == 0.0, 1.0, data_range)
    scale = (hi - lo) / data_range
    return MinMaxScaler(scale=scale, min=lo - data_min * scale, data_min=data_min, data_max=data_max)


def scale(scaler: MinMaxScaler, matrix: np.ndarray) -> np.ndarray:
    """Apply a fitted scaler column-wise."""
    return np.asarray(matrix, dtype=np.float64) * scaler.scale + scaler.min


def unscale(scaler: MinMaxScaler, matrix: np.ndarray) -> np.ndarray:
    """Invert :func:`scale` column-wise."""
    return (np.asarray(matrix, dtype=np.float64) - scaler.min) / scaler.scale


def trim_count(rows: int, batch_size: int, trim: int | None = None) -> int:
    """How many of the oldest training rows to drop so the rest divides into batches.

    Args:
      rows: training rows before trimming.
      batch_size: the stateful batch size.
      trim: a fixed count (the tutorial drops 2), or None for the fewest rows
        that make ``rows - trim`` divisible by ``batch_size``.

    Returns:
      The number of rows to drop.

    Raises:
      LstmtuneError: a fixed count leaves a length not divisible by the batch
        size, or nothing is left.
    """
    if batch_size < 1:
        raise LstmtuneError(f"batch_size must be >= 1, got {batch_size}")
    count = rows % batch_size if trim is None else trim
    if count < 0:
        raise LstmtuneError(f"trim must be >= 0, got {trim}")
    kept = rows - count
    if kept < batch_size:
        raise LstmtuneError(
            f"only {rows} training rows: too few for batch_size {batch_size} after dropping {count}"
        )
    if kept % batch_size:
        raise LstmtuneError(
            f"trim={trim} leaves {kept} training rows, not a multiple of batch_size {batch_size}; "
            f"use a trim that makes it divisible, or the default (fewest rows)"
        )
    return count
