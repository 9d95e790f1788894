"""Global LSTM candidates: one direct network (per configuration and seed) for the series of a
panel that share a frequency and season, chosen per series on the same backtests as the rest.

For each group of at least :data:`MIN_SERIES` series of one (frequency, season length), ``auto`` offers
``GlobalLSTM(d=1,lags=L)`` and, with a season, ``GlobalLSTM(d=m,lags=L)``:
:mod:`lstmtune.forecast.pooled` networks trained on the windows of every series of the group,
each series scaled by its own differences' range (family ``lstm``: no statistical model
inside). ``L`` is the median of the lags of the group's series with the most windows (each at
least the season and the order an autoregression picks before the series' first backtest origin).

Backtests: the network of the k-th window from the end is trained on every series of the
group without its last ``k * horizon`` observations (for a series with k windows or more, up to
its own k-th cutoff; a series with fewer windows is cut at the same place, though it is not
scored there), so no series is scored on points of its own its model was trained on; the final
network on every observation. Cutoffs are by position from each series' end, as statsforecast's
and NeuralForecast's cross-validation place them: when the series of a group end on different
dates, a window's network has seen other series' observations from after that window's cutoff
date (a shock they share can leak into the backtest); in a panel whose series end together, it
has not. ``L`` is the median of the lags of the series with the most windows (planned before
their first cutoff, the group's earliest). All of them, every window and configuration, train
as one stacked population.

Training: the pooled windows are many, so a global network is trained for about
:data:`STEPS` optimizer steps: minibatches of ``batch_size`` times the number of series (at
most :data:`MAX_BATCH`), and the epochs that give those steps (at most the settings' epochs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from lstmtune.auto import lstm
from lstmtune.forecast import direct

PREFIX = "GlobalLSTM("
MIN_SERIES = 4
"""Series of one frequency and season needed for global candidates: cross-learning needs a set
of series to learn from (on the development panel, a network shared by two unrelated series,
Nile and sunspots, was chosen on two backtest windows and forecast sunspots twice as badly)."""
STEPS = 3000
MAX_BATCH = 256


def is_global(name: str) -> bool:
    return str(name).startswith(PREFIX)


def _lags(plans, m: int) -> int:
    """The median of the lags of the series with the most windows: theirs were planned before
    the group's earliest cutoff (a shorter series' plan reads its data up to a later one)."""
    deepest = max((len(plan.cutoffs) for plan in plans), default=0)
    own = [c.lags for plan in plans if len(plan.cutoffs) == deepest for _, c, _, _ in plan.neural if isinstance(c, direct.Spec)]
    if not own:  # the default space (one recursive network, and the hybrids): each series' L, at least m (a calendar network reads only p lags)
        from lstmtune.forecast.batch import unwrapped

        own = [max(unwrapped(c)[0].lags, m) for plan in plans if len(plan.cutoffs) == deepest for _, c, _, _ in plan.neural]
    return max(int(np.median(own)) if own else 1, m, 1)


def specs(frames: Sequence[pd.DataFrame], plans, m: int, horizon: int, settings: lstm.Settings) -> list[tuple[str, direct.Spec]]:
    """``(name, spec)`` of the global candidates of one group (``frames``, their ``plans``)."""
    lags = _lags(plans, m)
    out = []
    for d in ((1, m) if m > 1 else (1,)):
        rows = [max(0, len(f) - d - lags - horizon + 1) for f in frames]
        total, series = sum(rows), sum(r > 0 for r in rows)
        if total < direct.MIN_WINDOWS or series < 2:  # windows from at least two series
            continue
        batch = min(MAX_BATCH, settings.batch_size * series)
        epochs = int(min(settings.epochs, max(1, math.ceil(STEPS * batch / total))))
        out.append((f"{PREFIX}d={d},lags={lags})", direct.Spec(interval=d, lags=lags, units=settings.units, epochs=epochs, batch_size=batch, horizon=horizon)))
    return out


def _past(frame: pd.DataFrame, drop: int = 0) -> pd.Series:
    """The series without its last ``drop`` observations (its k-th cutoff from the end when
    ``drop`` is k horizons)."""
    part = frame.iloc[:max(len(frame) - drop, 0)]
    return pd.Series(part["y"].to_numpy(dtype=np.float64), index=pd.DatetimeIndex(part["ds"]))


def groups(items) -> dict:
    """``(frequency, season) -> [(key, frame, plan)]``: the series of ``items`` (``(key, frame,
    verdict, plan)``) with LSTM candidates, by frequency and season, where a group has at least
    :data:`MIN_SERIES` of them (the series a global network is trained on), in the order of their
    ``unique_id`` written as text: the networks' minibatches do not depend on the file's order."""
    out: dict = {}
    for key, frame, verdict, plan in sorted(items, key=lambda item: str(item[0])):
        if plan.neural:
            out.setdefault((verdict.freq, verdict.season), []).append((key, frame, plan))
    return {group: members for group, members in out.items() if len(members) >= MIN_SERIES}


def trainings(members, m: int, horizon: int, settings: lstm.Settings):
    """``(name, spec, k)`` of every global network of one group (``members`` as :func:`groups`
    gives them): each configuration at the k-th window from the end, and once on every
    observation (``k`` 0)."""
    deepest = max(len(p.cutoffs) for _, _, p in members)
    for name, spec in specs([f for _, f, _ in members], [p for _, _, p in members], m, horizon, settings):
        for k in range(deepest + 1):
            yield name, spec, k


def fit(items, horizon: int, settings: lstm.Settings) -> tuple[dict, dict, dict]:
    """The global candidates of the series ``items`` (``(uid, frame, verdict, plan)``), every
    group's networks trained together: ``(uid -> [(name, spec, None, "lstm")], (uid, name) ->
    [model per cutoff], (uid, name) -> final model)``. A series gets a candidate only when
    every one of its windows and its final forecast could be made."""
    from lstmtune.forecast import batch, pooled

    work = []  # (name, spec, members, window k from the end (0: final)), one PooledJob each
    jobs = []
    for (_, m), members in groups(items).items():
        for name, spec, k in trainings(members, m, horizon, settings):
            histories = tuple(_past(f, k * horizon) for _, f, _ in members)
            jobs.append(pooled.PooledJob(histories, spec, tuple(lstm._seeds(settings, name)), tuple(u for u, _, _ in members), {"source": "lstmtune auto", "label": name}))
            work.append((name, spec, members, k))
    if not jobs:
        return {}, {}, {}
    fitted = batch.fit_many(jobs)
    by = {(name, k, uid): (models[i] if isinstance(models, list) else models)
          for (name, _, members, k), models in zip(work, fitted) for i, (uid, _, _) in enumerate(members)}
    extra: dict = {}
    backtests: dict = {}
    finals: dict = {}
    for name, spec, members, k in work:
        if k:
            continue
        for uid, _, plan in members:
            windows = [by[(name, len(plan.cutoffs) - i, uid)] for i in range(len(plan.cutoffs))]
            final = by[(name, 0, uid)]
            if any(isinstance(x, Exception) for x in (*windows, final)):
                continue
            extra.setdefault(uid, []).append((name, spec, None, "lstm"))
            backtests[(uid, name)] = windows
            finals[(uid, name)] = final
    return extra, backtests, finals


__all__ = ["MAX_BATCH", "MIN_SERIES", "PREFIX", "STEPS", "fit", "groups", "is_global", "specs", "trainings"]
