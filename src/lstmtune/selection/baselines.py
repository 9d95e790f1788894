"""Baseline forecasts every result is shown against.

Each baseline is a walk-forward one-step forecast of the last ``test_size``
observations using only values observed before the forecast time; models with
parameters (AR, exponential smoothing) fit them on the training part only and
keep them fixed through the test, as the LSTM does. All are scored in original
units. A study scored at ``[evaluation] horizon = H > 1`` gets the same baselines
forecasting H steps from every origin of the holdout where H steps fit (AR
recursively on its differences, exponential smoothing filtered up to the origin,
the seasonal naive repeating the last season observed).

- persistence, seasonal naive (period ``m``: ``[data] period``, else inferred
  from the dates, :func:`lstmtune.data.series.infer_period`), the training mean;
- AR(p): a linear autoregression with intercept on the lag-1 differences (the
  LSTM's inputs before scaling; an affine scaling changes nothing in a least
  squares fit with intercept), ``statsmodels`` ``AutoReg``; ``p`` the study's
  lags, and ``p`` chosen by AIC in ``1..min(12, n_train // 4)``;
- exponential smoothing (``statsmodels`` state-space ETS, fit by maximum likelihood):
  damped additive trend, plus additive seasonality when ``m`` is known; each
  part only when the training part holds at least twice as many observations
  as the model has parameters (seasonal: ``2 (m + 6)``, so always two full
  seasons; damped trend: 10; else level only, at least 4).
  The one-step forecasts through the test filter the whole series with the
  training fit's parameters and initial states (no refit).

A baseline that cannot be computed on a split (no seasonal period, a constant
or too short training part, a failed fit) is an :class:`Unavailable` with its
reason (:func:`evaluate`), never a traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import re
import warnings
from typing import Any

import numpy as np

from lstmtune.selection import metrics
from lstmtune.errors import LstmtuneError


@dataclasses.dataclass(frozen=True)
class Baseline:
    """One baseline's forecasts of the test observations and their scores.

    Attributes:
      name: e.g. ``"seasonal naive (m=12)"``, ``"AR(3) AIC"``.
      description: how it forecasts, in words.
      forecast: read-only ``(test_size,)`` forecasts in original units.
      scores: metric name -> value (:func:`lstmtune.selection.metrics.all_metrics`).
    """

    name: str
    description: str
    forecast: np.ndarray
    scores: dict[str, float]


@dataclasses.dataclass(frozen=True)
class Unavailable:
    """A baseline that could not be computed on a split, and why (one line)."""

    name: str
    reason: str


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


def persistence_rmse(values: np.ndarray, test_size: int, horizon: int = 1) -> float:
    """RMSE of :func:`persistence` on the last ``test_size`` observations: one step ahead, or with
    ``horizon`` H > 1 from every origin with H observations after it, as :func:`evaluate` scores a
    study's ``[evaluation] horizon``."""
    values = np.asarray(values, dtype=np.float64)
    if horizon == 1:
        return float(metrics.rmse(values[-test_size:], persistence(values, test_size)))
    origins = range(len(values) - test_size, len(values) - horizon + 1)
    actual = np.concatenate([values[o:o + horizon] for o in origins])
    return float(metrics.rmse(actual, np.concatenate([np.repeat(values[o - 1], horizon) for o in origins])))


def check_scoreable(values: np.ndarray, test_size: int, *, name: str, split: str = "test") -> None:
    """Refuse a holdout that persistence forecasts exactly: with its RMSE 0, skill
    (``1 - RMSE / persistence RMSE``) is undefined, and so is MASE on a constant series.

    ``lstmtune run`` checks every holdout before training; ``lstmtune baseline`` the test set.

    Args:
      values: the series, ``(n,)``.
      test_size: the holdout's last observations.
      name: the data's name (file path or built-in name), for the message.
      split: the holdout's name, for the message.

    Raises:
      DataError: the holdout and the observation before it are all equal.
    """
    from lstmtune.errors import DataError

    if np.ptp(np.asarray(values[-test_size - 1 :], dtype=np.float64)) == 0.0:
        raise DataError(
            f"{name}: the series is constant over the last {test_size} observations of the {split} split, so persistence "
            "forecasts them exactly (RMSE 0) and skill is undefined; use more varied data or another split"
        )


def training_mean(values: np.ndarray, test_size: int) -> np.ndarray:
    """Forecast every test value by the mean of the training observations."""
    train = np.asarray(values[: len(values) - test_size], dtype=np.float64)
    return np.full(test_size, train.mean())


@contextlib.contextmanager
def _quiet_fit():
    """Silence what ``statsmodels`` says while fitting short or degenerate series, and nothing else.

    The fit is still used: ``ConvergenceWarning`` (the optimizer stopped at its
    iteration limit), ``SingularMatrixWarning`` (a rank-deficient AR design, e.g.
    a straight line's constant differences: least squares still gives the
    minimum-norm solution) and NumPy's floating-point warnings (the log of a zero
    residual variance in the AIC, overflow in a diverging trial of the optimizer).
    """
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, SingularMatrixWarning

    with warnings.catch_warnings(), np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        warnings.filterwarnings("ignore", category=SingularMatrixWarning)
        yield


def ar_order(train_diffs: np.ndarray) -> int:
    """The AR order minimising the AIC, in ``1..min(12, len // 4)`` (``statsmodels`` ``ar_select_order``;
    all orders are compared on the same observations).

    Args:
      train_diffs: the training part's lag-1 differences, ``(n,)``.

    Raises:
      LstmtuneError: fewer than 4 differences.
    """
    from statsmodels.tsa.ar_model import ar_select_order

    if len(train_diffs) < 4:
        raise LstmtuneError(f"choosing an AR order needs at least 4 training differences, have {len(train_diffs)}")
    with _quiet_fit():
        lags = ar_select_order(train_diffs, maxlag=max(1, min(12, len(train_diffs) // 4)), ic="aic", trend="c").ar_lags
    return max(lags) if lags else 1  # the AIC may prefer no lag (drift only): the smallest AR is the closest


def ar_min_differences(p: int) -> int:
    """Training differences an AR(p) fit needs: p + 1 parameters from len - p equations, one left over at least."""
    return 2 * p + 2


def autoregression(values: np.ndarray, test_size: int, p: int | None) -> tuple[np.ndarray, int]:
    """AR(p) on the lag-1 differences, fit on the training part, walk-forward over the test.

    Args:
      values: the series, ``(n,)``.
      test_size: observations forecast.
      p: the order; None chooses it by AIC (:func:`ar_order`).

    Returns:
      ``(forecast, p)``: forecasts in original units ``(test_size,)`` and the order used.

    Raises:
      LstmtuneError: fewer than ``2 p + 2`` training differences (statsmodels' fit is then exact,
        with a warning that its covariance has no degrees of freedom).
    """
    values = np.asarray(values, dtype=np.float64)
    diffs = np.diff(values)
    n_train = len(diffs) - test_size  # differences of training observations only
    params, p = _ar_fit(diffs[:n_train], p)
    # Row j: the p observed differences before difference n_train + j, most recent first.
    past = np.lib.stride_tricks.sliding_window_view(diffs[n_train - p : len(diffs) - 1], p)[:, ::-1]
    return values[n_train : len(diffs)] + params[0] + past @ params[1:], p  # last observation + predicted change


def _ar_fit(train_diffs: np.ndarray, p: int | None) -> tuple[np.ndarray, int]:
    """``([c, phi_1 .. phi_p], p)``: AR(p) with intercept fit on the training differences (p by AIC when None)."""
    from statsmodels.tsa.ar_model import AutoReg

    if p is None:
        p = ar_order(train_diffs)
    if len(train_diffs) < ar_min_differences(p):
        raise LstmtuneError(f"AR({p}) needs at least {ar_min_differences(p)} training differences, have {len(train_diffs)}")
    with _quiet_fit():
        return np.asarray(AutoReg(train_diffs, lags=p, trend="c").fit().params, dtype=np.float64), p


def autoregression_paths(values: np.ndarray, test_size: int, p: int | None, origins, horizon: int) -> tuple[np.ndarray, int]:
    """AR(p) on the lag-1 differences, fit on the training part, forecast ``horizon`` steps
    recursively from each origin (each predicted difference fed back, the level rebuilt from
    the last observation before the origin).

    Returns:
      ``(forecasts (origins, horizon), p)``.
    """
    values = np.asarray(values, dtype=np.float64)
    diffs = np.diff(values)
    params, p = _ar_fit(diffs[: len(diffs) - test_size], p)
    out = np.empty((len(origins), horizon))
    for i, o in enumerate(origins):
        past = list(diffs[: o - 1])  # differences observed before the origin
        level = values[o - 1]
        for h in range(horizon):
            change = params[0] + np.dot(params[1:], past[: -p - 1 : -1])  # most recent first
            past.append(change)
            level = level + change
            out[i, h] = level
    return out, p


LONG_SEASON = 24  # longer seasonal periods get heuristic initial states (:func:`exponential_smoothing`)


def exponential_smoothing(values: np.ndarray, test_size: int, period: int | None) -> tuple[np.ndarray, str]:
    """Exponential smoothing (ETS, additive errors) fit on the training part; one-step forecasts of the test.

    ``statsmodels``' state-space ``ExponentialSmoothing``, fit by maximum
    likelihood with estimated initial states. Damped additive trend (an
    undamped trend extrapolates too far on short series) and additive
    seasonality of period ``period``, each only with at least twice as many
    training observations as the model has parameters: ``2 (period + 6)`` for
    the seasonal model (always two full seasons), 10 for the damped trend, 4
    for the level-only (simple) model. Seasons longer than ``LONG_SEASON`` take
    their initial states from the first cycles instead of estimating them.

    Maximum likelihood (statsmodels' state-space model, fitted on the
    standardized training part so that the optimum found does not depend on the
    data's units). On shampoo's 24 training months both it and Holt-Winters'
    least squares end near the no-smoothing corner, a damped straight line
    (``alpha = beta = 0.0001``): test RMSE 182.1, worse than persistence.
    Fitted in the data's own units, statsmodels' optimizer had stopped at its
    starting values there (RMSE 92.8, at a lower likelihood).

    Args:
      values: the series, ``(n,)``.
      test_size: observations forecast.
      period: the seasonal period, or None.

    Returns:
      ``(forecast, description)``: ``(test_size,)`` forecasts in original units and the model in words.

    Raises:
      LstmtuneError: fewer than 4 training observations, or non-finite forecasts.
    """
    values = np.asarray(values, dtype=np.float64)
    fitted, what = _ets_fit(values[: len(values) - test_size], period)
    n = len(values) - test_size
    with _quiet_fit():
        whole = fitted.model.apply(fitted.scaled(values))  # the training fit's parameters and initial states, filtered through every observation
        # The prediction at t is the one-step forecast from the observations before t.
        forecast = fitted.unscaled(np.asarray(whole.predict(start=n, end=len(values) - 1), dtype=np.float64))
    if not np.isfinite(forecast).all():
        raise LstmtuneError("exponential smoothing: the fit gives non-finite forecasts")
    return forecast, what


def exponential_smoothing_paths(values: np.ndarray, test_size: int, period: int | None, origins, horizon: int) -> tuple[np.ndarray, str]:
    """:func:`exponential_smoothing`'s model, fit on the training part, forecasting ``horizon``
    steps from each origin (its parameters and initial states filtered through the
    observations before the origin).

    Returns:
      ``(forecasts (origins, horizon), description)``.
    """
    values = np.asarray(values, dtype=np.float64)
    fitted, what = _ets_fit(values[: len(values) - test_size], period)
    with _quiet_fit():
        out = fitted.unscaled(np.stack([np.asarray(fitted.model.apply(fitted.scaled(values[:o])).forecast(horizon), dtype=np.float64) for o in origins]))
    if not np.isfinite(out).all():
        raise LstmtuneError("exponential smoothing: the fit gives non-finite forecasts")
    return out, what


@dataclasses.dataclass(frozen=True)
class _Standardized:
    """A model fitted on ``(y - loc) / scale``: ``scaled`` takes values there, ``unscaled`` brings
    forecasts back."""

    model: Any
    loc: float
    scale: float

    def scaled(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values, dtype=np.float64) - self.loc) / self.scale

    def unscaled(self, forecast: np.ndarray) -> np.ndarray:
        return forecast * self.scale + self.loc


def _ets_fit(train: np.ndarray, period: int | None) -> tuple[_Standardized, str]:
    """``(fitted, description)``: :func:`exponential_smoothing`'s model fit on ``train``, standardized
    (its mean and standard deviation): statsmodels' optimizer stopped in other places for the same
    data in other units (shampoo's test RMSE 182.4 in thousands, 92.8 in units and 93.2 in
    thousandths; the likelihood of the first the highest: a probe). An additive model's
    forecasts move with the data's units and origin, and so do these (tested)."""
    from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing

    n = len(train)
    if n < 4:
        raise LstmtuneError(f"exponential smoothing needs at least 4 training observations, have {n}")
    seasonal = period if period is not None and period > 1 and n >= 2 * (period + 6) else None
    trend = n >= 10
    # Long seasons: m - 1 initial seasonal states estimated by likelihood take tens of
    # seconds (m = 52 on 1,000 weeks: ~30 s); they are then set from the first cycles.
    init = "heuristic" if seasonal is not None and seasonal > LONG_SEASON else "estimated"
    loc, scale = float(np.mean(train)), float(np.std(train))
    scale = scale if scale > 0 else 1.0
    with _quiet_fit():
        fitted = ExponentialSmoothing((train - loc) / scale, trend=trend, damped_trend=trend, seasonal=seasonal, initialization_method=init).fit(disp=False)
    what = "damped additive trend" if trend else "level only (simple)"
    if seasonal:
        what += f", additive seasonality m={seasonal}" + (" (initial states from the first cycles)" if init == "heuristic" else "")
    elif period is not None and period > 1:
        what += f" (no seasonality: {n} training observations are too few for m={period})"
    return _Standardized(fitted, loc, scale), what


def for_study(spec, series, holdout: int) -> list[Baseline]:
    """The baselines of a study's split: its period (``[data] period``, else inferred from the dates) and lags.

    Args:
      spec: the :class:`lstmtune.study.spec.StudySpec`.
      series: the :class:`lstmtune.data.series.Series` split (its last ``holdout`` observations forecast).
      holdout: observations forecast.

    Returns:
      The available baselines, persistence first (as :func:`evaluate_all`), scored at the
      study's ``[evaluation] horizon``.
    """
    period = spec.data.period if spec.data.period is not None else series.period
    values = tuple(np.asarray(series.values, dtype=np.float64).tolist())
    return list(_evaluate_cached(values, holdout, period, spec.transforms.lags, spec.evaluation.horizon, spec.evaluation.baselines)[0])


@functools.lru_cache(maxsize=64)
def _evaluate_cached(values: tuple[float, ...], test_size: int, period: int | None, lags: int, horizon: int = 1,
                     models: str = "statsmodels") -> tuple[tuple[Baseline, ...], tuple[Unavailable, ...]]:
    """A study asks for the same split's baselines from several places: fit them once."""
    available, unavailable = evaluate(np.asarray(values), test_size=test_size, period=period, lags=lags, horizon=horizon, models=models)
    return tuple(available), tuple(unavailable)


AIC_AR = "AR(p) AIC"
"""The autoregression whose order the AIC chooses, as a procedure: on each split its row is
named by the order chosen there (``AR(3) AIC``), or merged into the study's order's row
(``AR(1)``, "also the AIC's choice") where the AIC chose that."""


def procedure(name: str) -> str:
    """The procedure a baseline's row names, the same on every split (:data:`AIC_AR` for ``AR(3) AIC``)."""
    return AIC_AR if re.fullmatch(r"AR\(\d+\) AIC", name) else name


def row_of(name: str, names, lags: int) -> str | None:
    """The row of ``names`` (another split's baselines) holding the procedure of ``name``'s row
    (None: not there). The AIC's autoregression is another order's row on another split, or the
    study's order ``AR(lags)`` where the AIC chose that there."""
    names = list(names)
    if name in names and procedure(name) != AIC_AR:
        return name
    if procedure(name) == AIC_AR:
        aic = [n for n in names if procedure(n) == AIC_AR]
        return aic[0] if aic else (f"AR({lags})" if f"AR({lags})" in names else None)
    return None


def best_baseline(baselines: list[Baseline]) -> Baseline:
    """The baseline with the lowest RMSE (the first of equals, so persistence on a tie)."""
    return min(baselines, key=lambda b: b.scores["rmse"])


def evaluate_all(values: np.ndarray, test_size: int = 12, period: int | None = None, lags: int = 1) -> list[Baseline]:
    """The baselines that could be computed, persistence first (:func:`evaluate` without the reasons)."""
    return evaluate(values, test_size=test_size, period=period, lags=lags)[0]


def evaluate(values: np.ndarray, test_size: int = 12, period: int | None = None, lags: int = 1, horizon: int = 1,
             models: str = "statsmodels") -> tuple[list[Baseline], list[Unavailable]]:
    """Score persistence, seasonal naive, the training mean, AR(p) and exponential smoothing
    (``models="statsforecast"``: statsforecast's AutoETS and AutoARIMA instead of the last two;
    ``[evaluation] baselines``).

    Args:
      values: the series in original units, shape ``(n,)``.
      test_size: number of final observations forecast.
      period: the seasonal period (None: none known; 1: none, seasonal naive would be persistence).
      lags: the study's lags: the order of the first AR baseline.
      horizon: 1 (walk-forward one-step forecasts), or H > 1: from every origin of the
        test part with H observations after it, H-step forecasts, scored together
        (``[evaluation] horizon``; each :attr:`Baseline.forecast` is then origin by origin).

    Returns:
      ``(available, unavailable)``: one :class:`Baseline` per method computed, in the
      order persistence, seasonal naive, training mean, AR(lags), AR(p by AIC) when
      another order, exponential smoothing (or AutoETS, AutoARIMA); and one
      :class:`Unavailable` per method that could not be, with its reason.

    Raises:
      LstmtuneError: ``test_size`` is not in ``1..n-1``.
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if not 1 <= test_size < n:
        raise LstmtuneError(f"test_size must be between 1 and {n - 1}, got {test_size}")
    if not 1 <= horizon <= test_size:
        raise LstmtuneError(f"horizon must be between 1 and test_size {test_size}, got {horizon}")
    train = values[:-test_size]
    origins = list(range(n - test_size, n - horizon + 1))  # unused when horizon is 1
    actual = values[-test_size:] if horizon == 1 else np.concatenate([values[o : o + horizon] for o in origins])

    def multistep(paths):  # (origins, horizon) -> origin by origin
        return np.asarray(paths, dtype=np.float64).reshape(-1)

    need = period or 0  # the seasonal naive reads back at most one season before the origin
    candidates = [("persistence", "previous observation", persistence(values, test_size) if horizon == 1 else multistep([np.repeat(values[o - 1], horizon) for o in origins]))]
    unavailable = []
    if period is None:
        unavailable.append(Unavailable("seasonal naive", "no seasonal period: the dates are yearly, irregular or absent; set [data] period (or --period)"))
    elif period == 1:
        unavailable.append(Unavailable("seasonal naive (m=1)", "period 1: it would be persistence"))
    elif n - test_size - need < 0:
        unavailable.append(Unavailable(f"seasonal naive (m={period})", f"needs at least {test_size + need} observations, have {n}"))
    elif horizon == 1:
        candidates.append((f"seasonal naive (m={period})", f"observation {period} steps earlier", seasonal_naive(values, test_size, period)))
    else:  # step h (1-based) repeats the last observed season: the value ceil(h / m) seasons before it
        steps = np.arange(1, horizon + 1)
        back = period * -(-steps // period)
        candidates.append((f"seasonal naive (m={period})", "observation of the last season observed", multistep([values[o + steps - 1 - back] for o in origins])))
    candidates.append(("training mean", "mean of the training observations", training_mean(values, test_size) if horizon == 1 else np.full(len(actual), train.mean())))
    if models not in ("statsmodels", "statsforecast"):
        raise LstmtuneError(f"baselines must be statsmodels or statsforecast, got {models!r}")
    fitted = [f"AR({lags})", "exponential smoothing"] if models == "statsmodels" else [f"{name} (statsforecast)" for name in STATSFORECAST]
    if np.ptp(train) == 0:  # every model of a constant training part forecasts persistence
        reason = "the training observations are constant: the fitted model is persistence"
        unavailable += [Unavailable(name, reason) for name in fitted]
    elif models == "statsforecast":
        _add_statsforecast(values, test_size, period, candidates, unavailable, None if horizon == 1 else (origins, horizon))
    else:
        _add_models(values, test_size, period, lags, candidates, unavailable, None if horizon == 1 else (origins, horizon))
    available = []
    for name, description, forecast in candidates:
        forecast.flags.writeable = False  # shared through the cache
        scores = {k: float(v) for k, v in metrics.all_metrics(actual, forecast, train, m=1).items()}
        available.append(Baseline(name=name, description=description, forecast=forecast, scores=scores))
    return available, unavailable


STATSFORECAST = ("AutoETS", "AutoARIMA")
"""The baselines ``[evaluation] baselines = "statsforecast"`` fits: the statistical candidates of
``lstmtune auto`` (:mod:`lstmtune.selection.statistical`) that search their own models."""


def _add_statsforecast(values: np.ndarray, test_size: int, period: int | None, candidates: list, unavailable: list, paths: tuple | None = None) -> None:
    """Append statsforecast's AutoETS and AutoARIMA to ``candidates`` (or their reasons to
    ``unavailable``): each fitted on the training part (season length ``period`` when above 1),
    then applied with those parameters to the series up to each origin (statsforecast's
    ``forward``), one step ahead through the test, or ``paths = (origins, horizon)`` steps from
    each origin: what statsforecast's own ``cross_validation(refit=False)`` gives (tested). The
    models are built as ``auto`` builds them (:func:`lstmtune.selection.statistical.instances`),
    and fitted as ``auto`` fits them, in units of the training part's size
    (:func:`lstmtune.selection.statistical.size_of`), their forecasts given back in the data's units."""
    from lstmtune.selection import statistical

    n = len(values)
    size = statistical.size_of(values[: n - test_size])
    values = np.asarray(values, dtype=np.float64) / size
    season = period if period is not None and period > 1 else 1
    origins, horizon = paths if paths is not None else (list(range(n - test_size, n)), 1)
    for name, model in zip(STATSFORECAST, statistical.instances(STATSFORECAST, season, n - test_size)):
        label = f"{name} (statsforecast)"
        try:
            with warnings.catch_warnings(), np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                warnings.simplefilter("ignore")  # statsforecast's fits on short or flat series warn; the fit is still used
                model = model.fit(np.asarray(values[: n - test_size]))
                forecast = np.concatenate([np.asarray(model.forward(y=np.asarray(values[:o]), h=horizon)["mean"], dtype=np.float64) for o in origins]) * size
        except Exception as err:  # noqa: BLE001 - statsforecast raises several kinds on unfittable data: the baseline is unavailable, said why
            unavailable.append(Unavailable(label, f"{type(err).__name__}: {err}"))
            continue
        if not np.all(np.isfinite(forecast)):
            unavailable.append(Unavailable(label, "the fitted model forecast non-finite values"))
            continue
        offered = f"; season length {season} offered" if season > 1 else ""
        candidates.append((label, f"statsforecast {name} (chose {_chosen(name, model)}{offered}), fitted on the training part", forecast))


def _chosen(name: str, model) -> str:
    """The model statsforecast's search chose, as it names it (e.g. ``ETS(A,N,N)``, ``ARIMA(1,1,0)``)."""
    try:
        if name == "AutoARIMA":
            from statsforecast.arima import arima_string

            return arima_string(model.model_).strip()
        return str(model.model_["method"])
    except Exception:  # noqa: BLE001 - only a description
        return "its model"


def _add_models(values: np.ndarray, test_size: int, period: int | None, lags: int, candidates: list, unavailable: list, paths: tuple | None = None) -> None:
    """Append AR(lags), AR(p by AIC) and exponential smoothing to ``candidates``, or their reasons to ``unavailable``
    (``paths``: ``(origins, horizon)`` for multi-step forecasts, origin by origin)."""
    failures = (LstmtuneError, ValueError, np.linalg.LinAlgError)  # statsmodels raises ValueError/LinAlgError on unfittable data

    def ar_forecast(p):
        if paths is None:
            return autoregression(values, test_size, p)
        out, used = autoregression_paths(values, test_size, p, *paths)
        return out.reshape(-1), used

    def ets_forecast():
        if paths is None:
            return exponential_smoothing(values, test_size, period)
        out, what = exponential_smoothing_paths(values, test_size, period, *paths)
        return out.reshape(-1), what

    ar = []
    for p in (lags, None):
        name = f"AR({lags})" if p is not None else "AR(p) AIC"
        try:
            forecast, used = ar_forecast(p)
        except failures as err:
            unavailable.append(Unavailable(name, str(err)))
            continue
        if p is None and used in ar:  # the AIC chose the study's order: one row, saying so
            i = next(i for i, c in enumerate(candidates) if c[0] == f"AR({used})")
            candidates[i] = (candidates[i][0], candidates[i][1] + " (also the AIC's choice)", candidates[i][2])
            continue
        ar.append(used)
        name = f"AR({used})" + (" AIC" if p is None else "")
        candidates.append((name, f"linear autoregression of order {used} on the differences", forecast))
    try:
        forecast, what = ets_forecast()
        candidates.append(("exponential smoothing", what, forecast))
    except failures as err:
        unavailable.append(Unavailable("exponential smoothing", str(err)))
