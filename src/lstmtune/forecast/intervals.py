"""Prediction intervals from a seed ensemble, calibrated on backtest residuals, and the backtest table.

Method: conformalized quantile regression (Romano, Patterson & Candes 2019,
"Conformalized Quantile Regression") applied per horizon, a split-conformal
method. The ensemble's central quantiles ``[lo, hi]`` at level ``1 - a`` are
the raw interval; on rolling-origin backtest forecasts the conformity score of
an outcome ``y`` is ``E = max(lo - y, y - hi)``, and the calibrated interval is
``[lo - q, hi + q]`` with ``q`` the ``ceil((n + 1)(1 - a))``-th smallest of
the ``n`` scores of that horizon. Why this one: it keeps the ensemble's shape
(asymmetry, growth with the horizon) and only corrects its width, which seed
ensembles get wrong (they measure model uncertainty, not the noise); per
horizon because errors grow with it. Guarantee: marginal coverage >= 1 - a
when scores are exchangeable, which rolling origins of one series only
approximate (overlapping windows are correlated).

With fewer than ``1 / a - 1`` origins the rank exceeds ``n``: the largest
score is used and the table marks the horizon ``exact = False``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from lstmtune.selection import metrics

LEVELS = (0.80, 0.95)


def ensemble_bounds(paths: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The ensemble's central ``level`` interval: quantiles over replicas (axis 0, linear interpolation)."""
    lo, hi = np.quantile(paths, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi


def scores(paths: np.ndarray, actual: np.ndarray, level: float) -> np.ndarray:
    """Conformity scores ``max(lo - y, y - hi)``; ``paths (P, R, H)``, ``actual (R, H)`` (NaN: not observed)."""
    lo, hi = ensemble_bounds(paths, level)
    return np.maximum(lo - actual, actual - hi)


def conformal_quantile(s: np.ndarray, level: float) -> tuple[float, bool]:
    """The split-conformal quantile of scores ``s`` (NaN ignored) and whether the rank was within ``n``."""
    s = np.sort(s[np.isfinite(s)])
    n = len(s)
    if n == 0:
        return float("nan"), False
    rank = math.ceil((n + 1) * level)
    return float(s[min(rank, n) - 1]), rank <= n


@dataclasses.dataclass(frozen=True)
class Calibration:
    """Per-horizon widening of the ensemble's intervals.

    Attributes:
      widen: level (e.g. ``"0.8"``) -> ``q`` per horizon 1..H (may be negative: narrowing).
      exact: level -> per horizon, whether enough origins gave the conformal rank.
      origins: per horizon, the number of backtest origins scored.
    """

    widen: dict[str, list[float]]
    exact: dict[str, list[bool]]
    origins: list[int]

    @property
    def horizons(self) -> int:
        return len(self.origins)

    @property
    def levels(self) -> tuple[float, ...]:
        """The levels calibrated (fractions, e.g. 0.8), narrowest first."""
        return tuple(sorted(float(k) for k in self.widen))

    def widening(self, level: float, horizon: int) -> np.ndarray:
        """``q`` for steps 1..horizon; beyond the calibrated horizons the last one's ``q`` is reused."""
        return _steps(self.widen[_key(level)], horizon, np.float64)

    def exactness(self, level: float, horizon: int) -> np.ndarray:
        """Whether steps 1..horizon had enough origins for ``level``'s conformal rank (beyond the
        calibrated horizons, the last one's)."""
        return _steps(self.exact[_key(level)], horizon, bool)

    def scored(self, horizon: int) -> np.ndarray:
        """Origins scored at steps 1..horizon (beyond the calibrated horizons, the last one's; none without any)."""
        return _steps(self.origins, horizon, np.int64) if len(self.origins) else np.zeros(horizon, dtype=np.int64)

    def to_dict(self) -> dict:
        return {"method": "conformalized quantile regression, split-conformal per horizon", **dataclasses.asdict(self)}

    @staticmethod
    def none(horizons: int) -> "Calibration":
        """No widening (the ensemble's own quantiles)."""
        return Calibration({_key(a): [0.0] * horizons for a in LEVELS}, {_key(a): [False] * horizons for a in LEVELS}, [0] * horizons)


def _steps(per_step, horizon: int, dtype) -> np.ndarray:
    """A per-step list for steps 1..horizon, its last value repeated beyond its length."""
    a = np.asarray(per_step, dtype=dtype)
    return np.concatenate([a, np.full(horizon - len(a), a[-1], dtype=dtype)]) if horizon > len(a) else a[:horizon]


def _key(level: float) -> str:
    return repr(float(level))


def calibrate(paths: np.ndarray, actual: np.ndarray) -> Calibration:
    """Calibrate from backtest forecasts ``paths (P, R, H)`` of outcomes ``actual (R, H)`` (NaN: unobserved)."""
    widen, exact = {}, {}
    origins = [int(np.isfinite(actual[:, h]).sum()) for h in range(actual.shape[1])]
    for level in LEVELS:
        s = scores(paths, actual, level)
        qs = [conformal_quantile(s[:, h], level) for h in range(s.shape[1])]
        last_exact = None
        for h in range(len(qs)):
            if qs[h][1]:
                last_exact = qs[h][0]
            elif h and origins[h] == 0:  # a step no origin reached (a horizon longer than the held-back part): the last scored step's, as beyond H
                qs[h] = (qs[h - 1][0], False)
            elif last_exact is not None:  # too few origins for the level's rank (1 or 2 at the longest steps): never
                qs[h] = (max(qs[h][0], last_exact), False)  # narrower than the last step that had enough (it shrank several-fold there)
        widen[_key(level)] = [q for q, _ in qs]
        exact[_key(level)] = [e for _, e in qs]
    return Calibration(widen, exact, origins)


def interval_score(lower: np.ndarray, upper: np.ndarray, actual: np.ndarray, level: float) -> np.ndarray:
    """The interval score of central ``level`` intervals (Gneiting & Raftery 2007, eq. 43;
    Winkler 1972): width plus ``2 / alpha`` times the miss, ``alpha = 1 - level``. Lower is
    better; a proper score, so it cannot be improved by widening or narrowing dishonestly."""
    alpha = 1.0 - level
    return (upper - lower) + (2.0 / alpha) * (np.maximum(lower - actual, 0.0) + np.maximum(actual - upper, 0.0))


def leave_one_out_bands(paths: np.ndarray, actual: np.ndarray, levels=None) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """Each origin's calibrated band at each level, its widening taken from the other origins'
    scores, as :func:`summarize` would draw it from that calibration.

    Args:
      paths: ``(P, R)`` forecasts of one horizon from R >= 2 origins; ``actual``: ``(R,)`` outcomes.
      levels: fractions (default :data:`LEVELS`).

    Returns:
      level -> ``(lower, upper)``, each ``(R,)``: the ensemble's quantiles widened by the
      conformal quantile of the other origins' scores, never narrowed past the median, each
      containing the narrower level's band, and reaching at least that band scaled by the
      ratio of their normal quantiles where the other origins were too few for the level's
      conformal rank (:func:`_nested`).
    """
    med = np.median(paths, axis=0)
    inner_lo = inner_hi = med
    out, narrower = {}, None
    for level in sorted(LEVELS if levels is None else levels):
        lo, hi = ensemble_bounds(paths, level)
        s = np.maximum(lo - actual, actual - hi)
        q, exact = map(np.array, zip(*(conformal_quantile(np.delete(s, i), level) for i in range(len(s)))))
        lower, upper = _nested(lo - q, hi + q, med, inner_lo, inner_hi, None if narrower is None else (~exact, _z(level) / _z(narrower)))
        out[level] = (inner_lo, inner_hi) = (lower, upper)
        narrower = level
    return out


def _nested(lower, upper, med, inner_lo, inner_hi, short=None):
    """A level's band (``lower``, ``upper``) made to contain the narrower level's (``inner_lo``,
    ``inner_hi``; the median for the narrowest). ``short``: ``(where, ratio)``, the steps or
    origins whose level had too few scores for its conformal rank (its quantile is then the
    largest error seen, often the narrower level's too, and the two bands would coincide):
    there the band reaches at least the narrower band scaled about the median by ``ratio``,
    the ratio of their normal quantiles (1.53 from 80% to 95%)."""
    lower, upper = np.minimum(lower, inner_lo), np.maximum(upper, inner_hi)
    if short is not None:
        where, ratio = short
        lower = np.where(where, np.minimum(lower, med - (med - inner_lo) * ratio), lower)
        upper = np.where(where, np.maximum(upper, med + (inner_hi - med) * ratio), upper)
    return lower, upper


def seasonal_naive_paths(histories: list[np.ndarray], horizon: int, period: int) -> np.ndarray:
    """``(R, H)``: step k repeats the observation ``period * ceil(k / period)`` steps before its target."""
    k = np.arange(1, horizon + 1)
    back = period * np.ceil(k / period).astype(int)
    return np.stack([np.asarray(h)[len(h) - 1 + k - back] for h in histories])


def _scaled(value, scale) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(value) / scale)


def backtest_table(paths: np.ndarray, actual: np.ndarray, histories: list[np.ndarray], train: np.ndarray, period: int | None) -> pd.DataFrame:
    """Per model and horizon: RMSE, MAE, MASE of the point forecast and interval coverage.

    Args:
      paths: the ensemble's forecasts ``(P, R, H)`` from R rolling origins.
      actual: outcomes ``(R, H)``, NaN where beyond the data.
      histories: the observations before each origin (for the baselines).
      train: observations before the first origin (the MASE scale, lag-1 naive).
      period: seasonal period for the seasonal-naive baseline (None: omitted).

    Returns:
      Columns ``model, horizon, origins, rmse, mae, mase``, then per level (80, 95)
      ``coverage_*, width_*, msis_*`` of the calibrated intervals, each origin
      calibrated on the others (leave one origin out, :func:`leave_one_out_bands`),
      then ``coverage_*_ensemble, msis_*_ensemble`` of the raw ensemble quantiles.
      ``msis`` is the mean interval score (:func:`interval_score`) scaled like MASE
      (by the in-sample mean absolute lag-1 difference; M4's MSIS), so coverage bought
      with width shows. The LSTM point forecast is the ensemble mean. Baselines have
      no intervals (NaN).
    """
    H = actual.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):  # a constant training part has no scale
        scale = metrics.naive_scale(train)  # MSIS is scaled as MASE is
    candidates = {"lstm": paths.mean(axis=0), "persistence": np.stack([np.full(H, h[-1]) for h in histories])}
    if period and min(len(h) for h in histories) >= period:
        candidates["seasonal_naive"] = seasonal_naive_paths(histories, H, period)
    rows = []
    for name, point in candidates.items():
        for h in range(H):
            ok = np.isfinite(actual[:, h])
            y, f = actual[ok, h], point[ok, h]
            row = {"model": name, "horizon": h + 1, "origins": int(ok.sum())}
            bands = leave_one_out_bands(paths[:, ok, h], y) if name == "lstm" and len(y) > 1 else {}
            if ok.any():  # a step no origin reached (a horizon longer than the held-back part) has no errors: NaN
                row.update(rmse=float(metrics.rmse(y, f)), mae=float(metrics.mae(y, f)), mase=float(metrics.mase(y, f, train)))
            else:
                row.update(rmse=float("nan"), mae=float("nan"), mase=float("nan"))
            for level in LEVELS:
                pct = int(round(level * 100))
                row.update({f"{k}_{pct}": float("nan") for k in ("coverage", "width", "msis")})
                row.update({f"{k}_{pct}_ensemble": float("nan") for k in ("coverage", "msis")})
                if name == "lstm" and len(y) > 1:
                    lo, hi = bands[level]
                    raw_lo, raw_hi = ensemble_bounds(paths[:, ok, h], level)
                    row[f"coverage_{pct}"] = float(np.mean((lo <= y) & (y <= hi)))
                    row[f"width_{pct}"] = float(np.mean(hi - lo))
                    row[f"msis_{pct}"] = _scaled(np.mean(interval_score(lo, hi, y, level)), scale)
                    row[f"coverage_{pct}_ensemble"] = float(np.mean((raw_lo <= y) & (y <= raw_hi)))
                    row[f"msis_{pct}_ensemble"] = _scaled(np.mean(interval_score(raw_lo, raw_hi, y, level)), scale)
            rows.append(row)
    pcts = [int(round(level * 100)) for level in sorted(LEVELS)]
    cols = ["model", "horizon", "origins", "rmse", "mae", "mase"]
    cols += [f"{k}_{p}" for p in pcts for k in ("coverage", "width", "msis")] + [f"{k}_{p}_ensemble" for p in pcts for k in ("coverage", "msis")]
    return pd.DataFrame(rows)[cols]


def summarize(paths: np.ndarray, dates, calibration: Calibration | None, levels=None) -> pd.DataFrame:
    """Ensemble paths ``(P, H)`` -> the forecast table: ``date, mean, median`` and each level's
    ensemble quantile band widened by ``calibration`` (None: the raw ensemble quantiles).
    ``levels`` (fractions): the calibration's, else :data:`LEVELS`."""
    H = paths.shape[1]
    out = {"date": dates, "mean": paths.mean(axis=0), "median": np.median(paths, axis=0)}
    med = inner_lo = inner_hi = out["median"]
    if levels is None:
        levels = calibration.levels if calibration is not None else LEVELS
    narrower = None
    for level in sorted(levels):
        lo, hi = ensemble_bounds(paths, level)
        q = calibration.widening(level, H) if calibration is not None else np.zeros(H)
        pct = int(round(level * 100))
        # q < 0 narrows an ensemble that was too wide, but never past the median, and a
        # wider level's band always contains a narrower one's (levels calibrated apart
        # on few origins could cross); see _nested for the levels short of origins.
        short = None
        if calibration is not None and narrower is not None:
            where = ~calibration.exactness(level, H) & (calibration.scored(H) > 0)  # no origin at all: no calibration, the raw quantiles
            short = (where, _z(level) / _z(narrower))
        lower, upper = _nested(lo - q, hi + q, med, inner_lo, inner_hi, short)
        out[f"lower_{pct}"] = inner_lo = lower
        out[f"upper_{pct}"] = inner_hi = upper
        narrower = level
    return pd.DataFrame(out)


def _z(level: float) -> float:
    """The standard normal quantile of a central ``level`` interval's upper end."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2)
