"""Many seed ensembles fitted as few compiled programs: every job of one shape in one population.

``lstmtune auto`` fits each LSTM candidate of each series at each backtest origin: hundreds of
small ensembles. :func:`fit_many` groups the jobs by what one stacked population shares (the
architecture, the epochs, the input and output widths) and trains each group as a few stacked
populations (:func:`lstmtune.engine.trainer.train_stacked`: every replica its own series,
padded and masked; series of very different lengths in separate populations, :func:`buckets`), then builds each job's forecaster as :func:`lstmtune.forecast.forecaster.fit`
or :func:`lstmtune.forecast.direct.fit` would. A replica's weights do not depend on the jobs
trained beside it (tested bitwise), so the models equal those fitted one job at a time.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from lstmtune.errors import LstmtuneError
from lstmtune.forecast import direct, forecaster, intervals, pooled


@dataclasses.dataclass(frozen=True)
class Job:
    """One ensemble to fit: ``config`` (a stateless recursive Config, or a
    :class:`~lstmtune.forecast.direct.Spec` with its horizon) on ``history`` (a pandas Series
    with a DatetimeIndex), one replica per seed."""

    history: pd.Series
    config: object
    seeds: tuple[int, ...]
    horizon: int = 1
    info: dict = dataclasses.field(default_factory=dict)
    series_name: str = ""


@dataclasses.dataclass(frozen=True)
class Calendared:
    """A recursive network's Config that also reads calendar inputs: the date each step
    forecasts, as sin/cos pairs (``month``, ``quarter`` or ``dayofweek``; see
    :func:`lstmtune.data.problem.extra_inputs`). Its other settings read through to ``config``."""

    config: object
    calendar: tuple[str, ...]

    def __getattr__(self, name):
        if name.startswith("__") or name in ("config", "calendar"):  # copying and unpickling look these up before the fields exist
            raise AttributeError(name)
        return getattr(self.config, name)


def unwrapped(config) -> tuple[object, tuple[str, ...]]:
    """``(the Config or Spec, its calendar inputs)`` of a job's or candidate's ``config``."""
    return (config.config, tuple(config.calendar)) if isinstance(config, Calendared) else (config, ())


MAX_REPLICAS = 4096
"""Replicas per stacked population at most (memory: each carries its own padded series)."""


def _prepared(job: Job):
    """``(group key, problem, architecture, schedule, hyper, build)``; ``build(params, diverged)`` makes the model."""
    from lstmtune.engine import trainer as engine

    if isinstance(job, pooled.PooledJob):  # one global network per seed: its build gives every series' model
        problem, members = pooled.problem_for([h.to_numpy(dtype=np.float64) for h in job.histories], job.spec)
        arch = direct.architecture(job.spec)
        hyper = engine.make_hyper(arch, job.seeds)

        def build(params, diverged):
            return pooled.assemble(job, members, params, diverged)

        epochs = job.spec.epochs
    elif isinstance(job.config, direct.Spec):
        spec = job.config
        problem = direct.problem_for(job.history.to_numpy(dtype=np.float64), spec)
        arch = direct.architecture(spec)
        hyper = engine.make_hyper(arch, job.seeds)

        def build(params, diverged):
            return direct.assemble(job.history, spec, job.seeds, problem, params, diverged, job.series_name, job.info)

        epochs = spec.epochs
    else:
        config, calendar = unwrapped(job.config)
        s = forecaster.as_series(job.history)
        framing, problem = forecaster.problem_for(s, config, calendar=calendar)
        arch = forecaster.architecture(config)
        if arch.stateful:
            raise LstmtuneError("stacked fitting is for stateless networks")
        hyper = forecaster.hyper_for(config, job.seeds)

        def build(params, diverged):
            net = forecaster.network_of(config, job.seeds, params, diverged)
            return forecaster.assemble(s, config, job.seeds, net, framing, problem.scaler, problem.counts.trimmed, intervals.Calibration.none(job.horizon), info=job.info)

        epochs = config.epochs
    schedule = engine.Schedule.for_checkpoints([epochs])
    key = (arch, schedule, tuple(problem.train_x.shape[1:]), tuple(np.shape(problem.train_y)[1:]))
    return key, problem, arch, schedule, hyper, build


ROWS_GRID = 2 ** 0.25
"""A bucket's training rows are padded up to ``batch * ceil(ROWS_GRID ** k)`` (at most 19% more
than its longest series'), so a few program shapes serve every panel and are read back from
the compilation cache on later runs."""
CALL_COST = 2000
"""What one more population (its call's fixed cost, and its compilation the first time) is
worth, in replica-rows: a bucket is split off where that saves more padded rows than this."""


def padded_rows(n: int, batch: int) -> int:
    """The training rows of a population whose longest series has ``n``: the smallest
    ``batch * ceil(ROWS_GRID ** k)`` at least ``n``."""
    k = 0
    while batch * math.ceil(ROWS_GRID**k) < n:
        k += 1
    return batch * math.ceil(ROWS_GRID**k)


def buckets(rows: Sequence[int], replicas: Sequence[int], batch: int) -> list[tuple[list[int], int]]:
    """Jobs of one shape split into populations by length: ``[(job indices, padded rows)]``.

    Training costs about replicas x padded rows (every replica steps through the longest
    series' minibatches, masked where its own has none), so one population for series of 14 to
    200 rows spends 40% of its work on padding. The jobs, sorted by rows (``rows[i]`` training
    rows, ``replicas[i]`` seeds), are cut where the padded work saved exceeds
    :data:`CALL_COST` per extra population (an exact dynamic programme over the rows grid of
    :func:`padded_rows`). A replica's bits do not depend on its population, so neither do the
    models."""
    from lstmtune.engine.trainer import PAD

    order = sorted(range(len(rows)), key=lambda i: (rows[i], i))
    padded = {i: padded_rows(rows[i], batch) for i in order}
    levels = sorted(set(padded.values()))
    count = dict.fromkeys(levels, 0)
    for i in order:
        count[padded[i]] += replicas[i]
    best = [0.0] + [math.inf] * len(levels)  # best[j]: the least cost of the first j levels
    cut = [0] * (len(levels) + 1)  # where the last population of that best starts
    for j in range(1, len(levels) + 1):
        size = 0
        for i in range(j - 1, -1, -1):  # the last population holds levels i .. j-1
            size += count[levels[i]]
            cost = best[i] + -(-size // PAD) * PAD * levels[j - 1] + CALL_COST
            if cost < best[j]:
                best[j], cut[j] = cost, i
    spans, j = [], len(levels)
    while j > 0:
        spans.append((cut[j], j))
        j = cut[j]
    return [([k for k in order if levels[i] <= padded[k] <= levels[j - 1]], levels[j - 1]) for i, j in reversed(spans)]


def fit_many(jobs: Sequence) -> list:
    """Each job's fitted forecaster, in order (a :class:`~lstmtune.forecast.pooled.PooledJob`'s:
    the list of its series' forecasters); a job that cannot be fitted (too short a series,
    diverged replicas) gets its :class:`~lstmtune.errors.LstmtuneError` in its place."""
    import jax

    from lstmtune.engine import trainer as engine

    out: list = [None] * len(jobs)
    groups: dict = {}
    for i, job in enumerate(jobs):
        try:
            key, problem, arch, schedule, hyper, build = _prepared(job)
        except (LstmtuneError, ValueError) as err:
            out[i] = err if isinstance(err, LstmtuneError) else LstmtuneError(str(err))
            continue
        groups.setdefault(key, []).append((i, problem, hyper, build))
    for (arch, schedule, _, _), members in groups.items():
        for bucket, rows in buckets([len(pr.train_y) for _, pr, _, _ in members], [len(jobs[i].seeds) for i, _, _, _ in members], arch.batch_size):
            start = 0
            while start < len(bucket):  # populations of at most MAX_REPLICAS
                chunk, size = [], 0
                while start < len(bucket) and (not chunk or size + len(jobs[members[bucket[start]][0]].seeds) <= MAX_REPLICAS):
                    chunk.append(members[bucket[start]])
                    size += len(jobs[members[bucket[start]][0]].seeds)
                    start += 1
                problems = [pr for i, pr, _, _ in chunk for _ in jobs[i].seeds]
                seeds = [s for i, _, _, _ in chunk for s in jobs[i].seeds]
                hyper = jax.tree_util.tree_map(lambda *xs: np.concatenate(xs), *[h for _, _, h, _ in chunk])
                result = engine.train_stacked(problems, arch, schedule, hyper, seeds=seeds, rows=rows)
                at = 0
                for i, _, _, build in chunk:
                    k = len(jobs[i].seeds)
                    params = jax.tree_util.tree_map(lambda a: a[at : at + k], result.params)
                    try:
                        out[i] = build(params, result.diverged_epoch[at : at + k])
                    except LstmtuneError as err:
                        out[i] = err
                    at += k
    return out


__all__ = ["CALL_COST", "Calendared", "Job", "MAX_REPLICAS", "ROWS_GRID", "buckets", "fit_many", "padded_rows", "unwrapped"]
