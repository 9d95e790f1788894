"""Baseline forecasts every result is shown against.

Each baseline is a walk-forward one-step forecast of the last ``test_size``
observations using only values observed before the forecast time; models with
parameters (AR, exponential smoothing) fit them on the training part only and
keep them fixed through the test, as the LSTM does.

- persistence, seasonal naive (period ``m``), the training mean;
- AR(p): a linear autoregression with intercept on the lag-1 differences (the
  LSTM's inputs), least squares (``statsmodels`` ``AutoReg``), ``p`` the
  study's lags, and ``p`` chosen by AIC up to ``min(12, n_train // 4)``;
- exponential smoothing: ``statsmodels``' state-space exponential smoothing
  with a damped additive trend, and additive seasonality when ``m`` is known
  and the training part holds two full seasons; one-step forecasts through the
  test come from filtering the whole series with the training fit's parameters.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings

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


def persistence_rmse(values: np.ndarray, test_size: int) -> float:
    """RMSE of :func:`persistence` on the last ``test_size`` observations."""
    values = np.asarray(values, dtype=np.float64)
    return float(metrics.rmse(values[-test_size:], persistence(values, test_size)))


def training_mean(values: np.ndarray, test_size: int) -> np.ndarray:
    """Forecast every test value by the mean of the training observations."""
    train = np.asarray(values[: len(values) - test_size], dtype=np.float64)
    return np.full(test_size, train.mean())


def autoregression(values: np.ndarray, test_size: int, p: int | None) -> tuple[np.ndarray, int]:
    """AR(p) on the lag-1 differences, fit on the training part, walk-forward over the test.

    Args:
      values: the series, ``(n,)``.
      test_size: observations forecast.
      p: the order; None chooses it by AIC (``statsmodels`` ``ar_select_order``).

    Returns:
      ``(forecast, p)``: forecasts in original units ``(test_size,)`` and the order used.
    """
    from statsmodels.tsa.ar_model import AutoReg, ar_select_order

    values = np.asarray(values, dtype=np.float64)
    diffs = np.diff(values)
    train = diffs[: len(diffs) - test_size]
    if p is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = max(1, max(ar_select_order(train, maxlag=max(1, min(12, len(train) // 4)), trend="c").ar_lags or [1]))
    if len(train) < p + 2:
        raise LstmtuneError(f"AR({p}) needs at least {p + 2} training differences, have {len(train)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rank-deficient designs (e.g. a constant stretch) still give least squares
        params = AutoReg(train, lags=p, trend="c").fit().params  # [c, phi_1 .. phi_p]
    out = np.empty(test_size)
    for j in range(test_size):
        t = len(train) + j  # index in diffs of the difference forecast
        past = diffs[t - p : t][::-1]  # observed differences, most recent first
        out[j] = values[t] + params[0] + params[1:] @ past  # values[t] is the observation before the target
    return out, p


def exponential_smoothing(values: np.ndarray, test_size: int, period: int | None) -> tuple[np.ndarray, str]:
    """Damped-trend (and seasonal) exponential smoothing fit on the training part; one-step forecasts.

    Returns:
      ``(forecast, description)``.
    """
    from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing

    values = np.asarray(values, dtype=np.float64)
    train = values[: len(values) - test_size]
    seasonal = period if period and period > 1 and len(train) >= 2 * period + 2 else None
    kwargs = dict(trend=True, damped_trend=True, seasonal=seasonal, initialization_method="estimated")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short series: the fit is still used
        fitted = ExponentialSmoothing(train, **kwargs).fit(disp=False)
        whole = fitted.apply(values)  # the same parameters, filtered through every observation
        forecast = np.asarray(whole.predict(start=len(train), end=len(values) - 1), dtype=np.float64)
    what = "damped additive trend" + (f", additive seasonality m={seasonal}" if seasonal else "")
    return forecast, what


def for_study(spec, series, holdout: int) -> list[Baseline]:
    """The baselines of a study's split: its period (given, else inferred from the dates) and lags."""
    period = spec.data.period if spec.data.period is not None else series.period
    return list(_evaluate_cached(tuple(np.asarray(series.values, dtype=np.float64).tolist()), holdout, period, spec.transforms.lags))


@functools.lru_cache(maxsize=64)
def _evaluate_cached(values: tuple[float, ...], test_size: int, period: int | None, lags: int) -> tuple[Baseline, ...]:
    """A study asks for the same split's baselines from several places: fit them once."""
    return tuple(evaluate_all(np.asarray(values), test_size=test_size, period=period, lags=lags))


def best(baselines: list[Baseline]) -> Baseline:
    """The baseline with the lowest RMSE."""
    return min(baselines, key=lambda b: b.scores["rmse"])


def evaluate_all(values: np.ndarray, test_size: int = 12, period: int | None = 12, lags: int = 1) -> list[Baseline]:
    """Score persistence, seasonal naive, the training mean, AR(p) and exponential smoothing.

    Args:
      values: the series in original units, shape ``(n,)``.
      test_size: number of final observations forecast.
      period: the seasonal period (None or 1: none; the seasonal naive is then left out).
      lags: the study's lags: the order of the first AR baseline.

    Returns:
      One :class:`Baseline` per method that could be fitted, persistence first.
    """
    values = np.asarray(values, dtype=np.float64)
    if not 1 <= test_size < len(values):
        raise LstmtuneError(f"test_size must be between 1 and {len(values) - 1}, got {test_size}")
    actual = values[-test_size:]
    train = values[:-test_size]
    candidates = [
        ("persistence", "previous observation", persistence(values, test_size)),
    ]
    if period and period > 1 and len(values) - test_size - period >= 0:
        candidates.append((f"seasonal naive (m={period})", f"observation {period} steps earlier", seasonal_naive(values, test_size, period)))
    candidates.append(("training mean", "mean of the training observations", training_mean(values, test_size)))
    if np.ptp(train) > 0:  # models of a constant training series are degenerate
        orders = {lags, None}
        for p in sorted(orders, key=lambda x: (x is None, x or 0)):
            try:
                forecast, used = autoregression(values, test_size, p)
            except (LstmtuneError, ValueError, np.linalg.LinAlgError):
                continue
            name = f"AR({used})" + (" AIC" if p is None else "")
            if any(c[0].split(" ")[0] == f"AR({used})" for c in candidates):
                continue  # the AIC's choice is the study's order
            candidates.append((name, f"linear autoregression of order {used} on the differences", forecast))
        try:
            forecast, what = exponential_smoothing(values, test_size, period)
            candidates.append(("exponential smoothing", what, forecast))
        except (ValueError, np.linalg.LinAlgError):
            pass
    out = []
    for name, description, forecast in candidates:
        scores = {k: float(v) for k, v in metrics.all_metrics(actual, forecast, train, m=1).items()}
        out.append(Baseline(name=name, description=description, forecast=forecast, scores=scores))
    return out
