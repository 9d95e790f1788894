"""What training a panel's LSTM candidates and fitting its statistical models will cost, from
the series' plans alone (nothing trained): shared by ``lstmtune plan``
(:mod:`lstmtune.auto.plan`) and by ``auto``'s time budget, which trains fewer seeds and
epochs when the full settings would not fit (:func:`within`).

The unit of training work is the *minibatch step* of one network (replicas x epochs x
minibatches per epoch). Every LSTM and hybrid candidate is counted at every backtest cutoff,
plus one final fit per series (the chosen one is not known yet). The constants were measured on
the 2-core development machine (docs/AUTO.md): an order of magnitude to plan by, not a promise.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence

import pandas as pd

from lstmtune.auto import lstm

SECONDS_PER_STEP = 4.9e-6
"""Wall seconds per replica-minibatch step of the stacked LSTM populations (2-core machine;
refitted 2026-12-05 after populations were bucketed by length and split across the cores: the
20-series synthetic panel's `auto --candidates lstm`, 41.4 s for 7.04e6 steps)."""
FIT_SECONDS = {"AutoARIMA": 0.5, "AutoETS": 0.1, "AutoTheta": 0.017, "MSTL": 0.2, "CrostonOptimized": 0.015}
"""Seconds per fit of one statistical model on one series of 72-240 monthly points (one core;
measured on the 20-series synthetic panel, 2026-12-05: AutoARIMA, approximating above 150
points, 30.1 s for 60 fits; AutoETS 6.3 s; AutoTheta 1.0 s); models not named cost :data:`OTHER_FIT`."""
OTHER_FIT = 0.01
ARIMA_SEASON_24 = 0.2
"""AutoARIMA's seconds per fit per 100 observations with a season of 13 to 24 (hourly data)."""
ARIMA_LONG_SEASON = 0.45
"""AutoARIMA's seconds per fit per (100 observations) squared with a season over 24.

Seasonal ARIMA's state grows with the season and its search with the series, so these fits
cost far more than :data:`FIT_SECONDS`' monthly 0.5 s. Measured on one core of the 2-core
development machine (2026-12-07, approximating as ``auto`` does; sine seasons on random walks,
2-3 seeds each): season 24, 0.2-0.7 s at 150 observations, 0.3-2.3 s at 600, 0.9-2.0 s at 1,200;
season 48, 0.4-0.8 s at 150, 2.2-4.3 s at 300, 12.7-18.4 s at 600; season 96, 3.3-5.0 s at 300,
4.0-6.2 s at 600; season 168, 2.8-4.1 s at 400, 25-26 s at 672. Half-hourly readings took 23-165 s
at 600-700 (docs/AUTO.md). An order of magnitude: the search's path decides each fit."""
SERIES_SECONDS = 0.05
"""Scoring, choosing and writing one series."""

LADDER = ((1.0, 1.0), (1.0, 2 / 3), (0.6, 1.0), (0.6, 2 / 3), (0.6, 0.5), (0.4, 0.5), (0.4, 1 / 3), (0.2, 1 / 3))
"""The budget's steps down from the given settings, as (share of the seeds, share of the
epochs), in order of preference: fewer epochs first (300 and 200 were within 2% of each other
on the development sets, docs/AUTO.md), then fewer seeds."""


def rows(config, n: int, horizon: int) -> int:
    """Training rows (windows) of a network on ``n`` observations."""
    from lstmtune.forecast import direct

    if isinstance(config, direct.Spec):
        return max(n - config.interval - config.lags - horizon + 1, 0)
    return max(n - config.interval - config.lags, 0)


def trainable(config, n: int, horizon: int) -> bool:
    """Whether ``auto`` can train ``config`` on ``n`` observations (the fits' own length rules:
    a direct network's windows, a recursive one's framing and batch)."""
    from lstmtune.data.problem import minimum_length
    from lstmtune.forecast import batch, direct, forecaster

    config, _ = batch.unwrapped(config)
    if isinstance(config, direct.Spec):
        return n >= config.minimum_length(horizon)
    return n >= minimum_length(forecaster.framing_for(config, n, (-1.0, 1.0)), config.batch_size if config.stateful else 1)


def networks(frame: pd.DataFrame, plan, horizon: int) -> Iterator[tuple[object, int]]:
    """``(config, training rows)`` of every network of one series' plan: each LSTM and hybrid
    candidate that can be trained before the first cutoff (a candidate too long for it is left
    out at every cutoff, as auto leaves it out) at each backtest cutoff, and one final fit on every
    observation (of the first such candidate: the chosen one is not known yet)."""
    ends = [int((frame["ds"] <= c).sum()) for c in plan.cutoffs]
    kept = [config for _, config, _, _ in plan.neural if trainable(config, min(ends, default=len(frame)), horizon)]
    for k, config in enumerate(kept):
        for n in ends + ([len(frame)] if k == 0 else []):
            r = rows(config, n, horizon)
            if r > 0:
                yield config, r


def steps(items: Sequence[tuple[pd.DataFrame, object]], horizon: int, settings: lstm.Settings) -> float:
    """Minibatch steps of every network of the series ``items`` (``(frame, plan)``)."""
    return float(sum(settings.seeds * settings.epochs * math.ceil(r / settings.batch_size) for frame, plan in items for _, r in networks(frame, plan, horizon)))


def fit_seconds(name: str, n: int = 0, season: int = 1) -> float:
    """One fit of the statistical model ``name`` on ``n`` observations with season ``season``."""
    base = FIT_SECONDS.get(name, OTHER_FIT)
    if name != "AutoARIMA" or season <= 12:
        return base
    grows = ARIMA_SEASON_24 * n / 100 if season <= 24 else ARIMA_LONG_SEASON * (n / 100) ** 2
    return max(base, grows)


def model_seconds(name: str, frame: pd.DataFrame, plan) -> float:
    """One core's seconds for the fits of model ``name`` on one series: at each cutoff (on the
    observations up to it) and once on every observation."""
    n = len(frame)
    ends = [int((frame["ds"] <= c).sum()) for c in plan.cutoffs] if name == "AutoARIMA" and plan.season > 12 else [n] * len(plan.cutoffs)
    return sum(fit_seconds(name, k, plan.season) for k in [*ends, n])


def stat_seconds(items: Sequence[tuple[pd.DataFrame, object]]) -> float:
    """One core's seconds for the statistical fits of the series ``items`` (each model at each
    cutoff and once on every observation)."""
    return sum(model_seconds(name, frame, plan) for frame, plan in items for name in plan.stats)


def stat_wall(items: Sequence[tuple[pd.DataFrame, object]], cores: int) -> float:
    """Expected wall seconds of the statistical fits of the series ``items``: statsforecast spreads
    series over the cores, not one series' fits, so never less than the dearest series alone."""
    return spread([stat_seconds([item]) for item in items], cores)


def spread(per_series: Sequence[float], cores: int) -> float:
    """Wall seconds of one core's ``per_series`` seconds spread over ``cores`` by series."""
    if not per_series:
        return 0.0
    return max(sum(per_series) / max(1, min(cores, len(per_series))), max(per_series))


def seconds(items: Sequence[tuple[pd.DataFrame, object]], horizon: int, settings: lstm.Settings, cores: int) -> float:
    """Expected wall seconds to backtest, choose and fit the series ``items`` (no process start)."""
    return SECONDS_PER_STEP * steps(items, horizon, settings) + stat_wall(items, cores) + SERIES_SECONDS * len(items)


def _step(settings: lstm.Settings, seed_share: float, epoch_share: float) -> lstm.Settings:
    """``settings`` with those shares of its seeds and epochs (at least one of each)."""
    return dataclasses.replace(settings, seeds=max(1, round(settings.seeds * seed_share)), epochs=max(1, round(settings.epochs * epoch_share)))


def cheapest(settings: lstm.Settings) -> lstm.Settings:
    """The last step of :data:`LADDER` below ``settings``: the fewest seeds and epochs the budget trains."""
    return _step(settings, *LADDER[-1])


def within(items: Sequence[tuple[pd.DataFrame, object]], horizon: int, settings: lstm.Settings, budget: float, cores: int) -> lstm.Settings | None:
    """The first settings of :data:`LADDER` (fewer epochs, then fewer seeds than ``settings``)
    whose expected time (:func:`seconds`) fits ``budget`` seconds: ``settings`` themselves when
    they fit, None when even the last step does not (the LSTMs are then left out once the
    budget is spent, as without this)."""
    for shares in LADDER:
        tried = _step(settings, *shares)
        if seconds(items, horizon, tried, cores) <= budget:
            return tried
    return None


__all__ = ["FIT_SECONDS", "LADDER", "ARIMA_LONG_SEASON", "ARIMA_SEASON_24", "OTHER_FIT", "fit_seconds", "model_seconds", "SECONDS_PER_STEP", "cheapest", "networks", "trainable", "rows", "seconds", "spread", "stat_seconds", "stat_wall", "steps", "within"]
