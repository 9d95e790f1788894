"""Quantiles of many columns at once, NumPy only (the report's figures import it: a process
that only draws need not import SciPy or pandas)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lstmtune.errors import LstmtuneError


def column_percentiles(values, q: Sequence[float]) -> np.ndarray:
    """``np.nanpercentile(values, q, axis=0)`` (linear interpolation; NaN ignored; a column
    of NaN gives NaN), computed for every column at once.

    NumPy's own loops over the columns in Python once NaN is allowed: about 30x slower on
    a study's per-epoch curves (30 repeats x 6000 epochs), where it took most of the time
    of a report's bands. Same arithmetic as NumPy's (virtual index ``(n - 1) q``, its
    two-sided interpolation), so the same numbers (tests/selection/test_stats.py).

    Args:
      values: shape ``(rows, columns)``.
      q: percentiles in [0, 100].

    Returns:
      shape ``(len(q), columns)``.
    """
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 2:
        raise LstmtuneError(f"expected a 2-D array (rows, columns), got shape {a.shape}")
    quantiles = np.true_divide(np.asarray(q, dtype=np.float64), 100)[:, None]
    ordered = np.sort(a, axis=0)  # NaN last
    n = np.sum(~np.isnan(a), axis=0)
    virtual = (np.maximum(n, 1) - 1) * quantiles
    below = np.floor(virtual)
    gamma = virtual - below
    lo = below.astype(np.intp)
    hi = np.minimum(lo + 1, np.maximum(n, 1) - 1)
    a_lo = np.take_along_axis(ordered, lo, axis=0)
    a_hi = np.take_along_axis(ordered, hi, axis=0)
    diff = np.subtract(a_hi, a_lo)
    out = np.add(a_lo, diff * gamma)
    np.subtract(a_hi, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    out[:, n == 0] = np.nan
    return out


__all__ = ["column_percentiles"]
