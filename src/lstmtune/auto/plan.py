"""What an ``auto`` run will cost, before it runs: series, networks, memory and a rough time.

Each series is triaged and planned as :func:`lstmtune.auto.run.auto` would (its backtest
cutoffs, statistical models and LSTM candidates), without training anything. From those:

- **networks**: every LSTM and hybrid candidate at every backtest cutoff, plus one final
  fit per series (the chosen one is not known yet), each a seed ensemble; their *minibatch
  steps* (replicas x epochs x minibatches per epoch) measure the training work;
- **memory**: the largest stacked population (at most ``MAX_REPLICAS`` replicas, each holding
  its own series' windows, padded to the longest), what is held per series until the outputs
  are written, and a measured base for the process (peaks of 741-903 MiB at 20 series and
  1.4 GiB at 300 measured; the per-series share fitted to them);
- **time**: :data:`lstmtune.auto.cost.SECONDS_PER_STEP` per minibatch step, the statistical
  models' fits (:func:`lstmtune.auto.cost.fit_seconds`: AutoARIMA's grows with a season over 12
  and the series' length; spread over the cores), and a fixed start. The two constants were
  fitted to two runs of benchmarks/panel_scale.py on the 2-core development machine (20
  series, ``--candidates lstm``: 38.2 s; all families: 74.7 s) and checked against larger
  runs (docs/AUTO.md): an order of magnitude to plan by, not a promise.

:func:`check` refuses a run whose memory estimate exceeds 90% of the memory available (:data:`MEMORY_SHARE`), in one line.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import pandas as pd

from lstmtune.auto import lstm, score
from lstmtune.auto.cost import SECONDS_PER_STEP, SERIES_SECONDS
from lstmtune.auto.cost import networks as cost_networks
from lstmtune.auto.cost import stat_seconds as cost_stat_seconds
from lstmtune.auto.cost import stat_wall
from lstmtune.auto.cost import steps as cost_steps
from lstmtune.engine.xla import usable_cores
from lstmtune.errors import LstmtuneError

START_SECONDS = 2.0  # process start, imports, outputs
NETWORK_START_SECONDS = 4.0
"""More for a run that trains networks: JAX imported, its programs read back or compiled. (One
constant of 6 s for every run had planned 6 s for five series on a fallback, which took 2.1 s,
and 8 s for one series' statistical models, which took 3.0 s; 2-core machine, 2026-12-08.)"""
BASE_BYTES = 700 * 2**20  # a process with JAX, statsforecast and pandas loaded
SERIES_BYTES = int(2.2 * 2**20)  # what auto holds per series until it writes (models, backtests, forecasts)
STATS_SERIES_BYTES = int(0.25 * 2**20)
"""Per series without networks (``--candidates stats``, or none trainable): a probe measured peaks
of 458 MiB at 250 weekly series of 104 points and 583 MiB at 1,000 (0.17 MiB a series); the
networks' share, fitted to LSTM runs, had planned 22 GiB for 10,000 such series and refused them."""
MEMORY_SHARE = 0.9


@dataclasses.dataclass(frozen=True)
class AutoPlan:
    series: int
    good: int
    fallback: int
    skipped: int
    networks: int  # seed ensembles to train (backtests and finals)
    replicas: int
    steps: float  # replica-minibatch steps
    stat_fits: int
    stat_seconds: float
    largest_population: tuple[int, int]  # (replicas, padded rows)
    peak_bytes: int
    seconds: float
    memory_bytes: int
    skips: tuple = ()  # (unique_id, why) of each series skipped
    fallbacks: tuple = ()  # (unique_id, why) of each series on a fallback or constant forecast
    notes: tuple = ()  # what the options change: the global networks counted, the time budget's settings
    series_bytes: int = SERIES_BYTES  # held per series until the outputs are written

    def lines(self) -> list[str]:
        from lstmtune.study.budget import _duration, _size

        return [
            f"{self.series} series: {self.good} with candidates, {self.fallback} on a fallback or constant, {self.skipped} skipped",
            f"{self.networks} LSTM seed ensembles ({self.replicas} networks; backtests and one final fit per series), "
            f"{self.steps:.3g} minibatch steps",
            f"{self.stat_fits} statistical model fits (about {_duration(self.stat_seconds)} on one core)",
            *([f"largest stacked population: {self.largest_population[0]} networks x {self.largest_population[1]} rows"] if self.networks else []),
            f"peak memory: about {_size(self.peak_bytes)} (available now: {_size(self.memory_bytes)})",
            f"expected time: about {_duration(self.seconds)} on {usable_cores()} core{'s' if usable_cores() > 1 else ''} (rough: constants measured on a 2-core machine)",
            *self.notes,
        ]


def plan(data: pd.DataFrame, horizon: int, *, freq: str | None = None, season_length: int | None = None, candidates: Sequence[str] = ("lstm", "hybrid", "stats", "combo"),
         windows: int = 2, missing: str = "error", settings: lstm.Settings | None = None, memory_bytes: int | None = None,
         global_lstm: bool = False, time_budget: float | None = None, started: float | None = None) -> AutoPlan:
    """The cost of ``auto(data, horizon, ...)`` with the same arguments, nothing trained
    (``global_lstm``: the global networks counted too; ``time_budget``: the LSTM settings the
    budget leads ``auto`` to, from this estimate, as :func:`lstmtune.auto.run.auto` fits them, with
    the time spent so far since ``started``, a ``time.perf_counter()``: the command's start, as
    auto's budget counts from its own; default, this call's)."""
    import time

    started = time.perf_counter() if started is None else started
    from lstmtune.auto import run as auto_run
    from lstmtune.data import panel
    from lstmtune.forecast import direct
    from lstmtune.forecast.batch import MAX_REPLICAS
    from lstmtune.study.budget import available_memory

    from lstmtune.data.series import current_alias

    auto_run.check_horizon(horizon)  # as auto refuses it
    settings = settings or lstm.Settings()
    freq = current_alias(freq)  # as auto reads it: M -> ME, without pandas' warning at every series
    if "unique_id" not in data.columns:
        data = data.assign(unique_id="series")
    good = fallback = skipped = 0
    networks = replicas = 0
    steps = 0.0
    stat_fits, stat_seconds = 0, 0.0
    populations: dict = {}  # input + output width -> [(replicas, rows)]
    frames = list(panel.series_frames(data[["unique_id", "ds", "y"]]))
    end = panel.common_ends(data, freq) if missing == "zero" else None  # as auto fills
    shared = panel.shared_frequency(data) if freq is None else None  # as auto reads a series of one or two dates
    unreadable = panel.unreadable(data)
    lines = panel.first_missing_lines(data)  # as auto names them
    skips, fallbacks, items, verdicts = [], [], [], []
    for uid, frame in frames:
        v, frame, p, err = auto_run._prepare(frame, horizon, freq, season_length, missing, candidates, settings, windows, end, shared, lines.get(uid, ""))
        if v.status == "skip":
            skipped += 1
            skips.append((str(uid), unreadable.get(uid) or v.reason))
            continue
        if p is None:  # a fallback or constant forecast (or a plan that failed: auto gives it a fallback)
            fallback += 1
            fallbacks.append((str(uid), v.reason or (f"its plan failed ({err})" if err else v.status)))
            continue
        good += 1
        items.append((frame, p))
        verdicts.append(v)
    notes = []
    if time_budget is not None:  # as auto leaves AutoARIMA out where the statistical fits alone would not fit (auto_run._stats_budget)
        budgeted = auto_run._stats_budget(items, time_budget, started)
        dropped = sum(p.stats != q.stats for (_, p), q in zip(items, budgeted))
        items = [(frame, q) for (frame, _), q in zip(items, budgeted)]
        if dropped:
            notes.append(f"{score.STATS_UPFRONT} on {dropped} series: the statistical fits together would exceed the budget (not counted above)")
    for frame, p in items:
        stat_fits += len(p.stats) * (len(p.cutoffs) + 1)
        stat_seconds += cost_stat_seconds([(frame, p)])
    if time_budget is not None and any(p.neural for _, p in items):
        # as auto fits its settings, from what reading and planning took (auto_run._fit_budget)
        fitted, said = auto_run._fit_budget(items, horizon, settings, True, time_budget, started)
        if fitted is None:
            notes.append(f"{said}: not counted above")
            items = [(frame, dataclasses.replace(p, neural=[])) for frame, p in items]
        elif said:
            notes.append(f"{said}: counted so above")
            settings = fitted
    for frame, p in items:
        for config, rows in cost_networks(frame, p, horizon):  # one final fit per series among them
            networks += 1
            replicas += settings.seeds
            width = config.lags + (horizon if isinstance(config, direct.Spec) else 1)
            populations.setdefault(width, []).append((settings.seeds, rows))
        steps += cost_steps([(frame, p)], horizon, settings)
    if global_lstm and "lstm" in candidates and len(frames) > 1:
        extra, extra_steps, extra_replicas = _global(items, verdicts, horizon, settings)
        networks, replicas, steps = networks + extra, replicas + extra_replicas, steps + extra_steps
        notes.append(f"global LSTMs: {extra} seed ensembles counted above")
    chunk = auto_run._prefit_series()
    largest, peak_data = (0, 0), 0
    for width, members in populations.items():
        share = max(1, math.ceil(len(frames) / chunk))  # members of one chunk train together
        reps = min(MAX_REPLICAS, max(1, sum(r for r, _ in members) // share))
        rows = max(r for _, r in members)
        rows = -(-rows // settings.batch_size) * settings.batch_size
        need = reps * rows * (width + 4) * 4 * 3  # windows, targets, masks: host, padded and device copies
        if need > peak_data:
            largest, peak_data = (reps, rows), need
    cores = usable_cores()
    seconds = START_SECONDS + (NETWORK_START_SECONDS if networks else 0.0) + SECONDS_PER_STEP * steps + stat_wall(items, cores) + SERIES_SECONDS * len(frames)
    memory = memory_bytes if memory_bytes is not None else available_memory()
    per_series = SERIES_BYTES if networks else STATS_SERIES_BYTES
    return AutoPlan(len(frames), good, fallback, skipped, networks, replicas, steps, stat_fits, stat_seconds, largest, BASE_BYTES + peak_data + per_series * len(frames),
                    seconds, memory, tuple(skips), tuple(fallbacks), tuple(notes), per_series)


def _global(items, verdicts, horizon: int, settings: lstm.Settings) -> tuple[int, float, int]:
    """``(seed ensembles, minibatch steps, networks)`` of the global candidates
    (:mod:`lstmtune.auto.globalnet`): per group of series of one frequency and season, each
    configuration at every window from the end and once on every observation."""
    from lstmtune.auto import cost, globalnet

    ensembles, steps, replicas = 0, 0.0, 0
    grouped = globalnet.groups([(None, frame, v, p) for (frame, p), v in zip(items, verdicts)])
    for (_, m), members in grouped.items():
        for _, spec, k in globalnet.trainings(members, m, horizon, settings):
            rows = sum(cost.rows(spec, len(f) - k * horizon, horizon) for _, f, _ in members)
            ensembles += 1
            replicas += settings.seeds
            steps += settings.seeds * spec.epochs * math.ceil(rows / spec.batch_size)
    return ensembles, steps, replicas


def check(p: AutoPlan) -> AutoPlan:
    """``p``, or a one-line refusal when its memory estimate exceeds :data:`MEMORY_SHARE` of the memory available."""
    from lstmtune.study.budget import _size

    if p.peak_bytes > p.memory_bytes * MEMORY_SHARE:
        held = p.series_bytes * p.series
        population = p.peak_bytes - BASE_BYTES - held
        if population > held:
            advice = "lower LSTMTUNE_PREFIT_SERIES (fewer series trained together) or forecast the panel in parts"
        elif held > BASE_BYTES:
            advice = "forecast the panel in parts"
        else:
            advice = f"the process alone needs about {_size(BASE_BYTES)}: free memory first"
        what = (f"a stacked population of {p.largest_population[0]} networks x {p.largest_population[1]} rows" if p.networks
                else f"{_size(held)} held for its {p.series} series' results")
        raise LstmtuneError(f"this panel needs about {_size(p.peak_bytes)} at its peak ({what}), more than {MEMORY_SHARE:.0%} of this machine's "
                            f"available {_size(p.memory_bytes)}; {advice}")
    return p


__all__ = ["AutoPlan", "check", "plan"]
