"""A study's size before anything is trained or written: refuse what cannot fit.

Counted arithmetically from the study file (a grid's size is the product of its
list lengths, so a 10^6-configuration grid is refused in microseconds, before
it is expanded), then from the plan: runs, populations, compiled programs, the
peak memory of the largest population, curve storage, and a rough wall time.

The memory model counts what the engine materialises per replica (float32):
weights with the optimizer's two moment slots and their gradients, the
forecasts kept at every checkpoint, per-epoch curves when kept, and the
activations of one minibatch step (timesteps x batch x gates x units per
layer, kept for the backward pass). It is an estimate (within ~2x of what was
measured); populations whose estimate exceeds a share of the machine's memory
are split into several (see :func:`split`).

The time model is calibrated on the 2-core development machine (see
``/work/shared/ENGINE-NOTES.md`` and ``benchmarks/RESULTS.md``): about 1 s of
compilation per program and 8 ns per replica x epoch x training row for the
tutorial's 1-unit model at batch 4, scaled by the cell's arithmetic and the
number of sequential minibatch steps. Expect it within ~3x.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence

from lstmtune.errors import SpecError
from lstmtune.spec import StudySpec

from lstmtune.spec import MAX_CONFIGS  # noqa: E402  (configurations one study file may declare)

DEFAULT_MAX_RUNS = 1_000_000
"""Default of ``--max-runs``: trainings one study may plan."""

MEMORY_SHARE = 0.5
"""A population is split when its estimate exceeds this share of available memory."""

COMPILE_S = 1.0
NS_PER_ROW = 8.0


def grid_sizes(spec: StudySpec) -> dict[str, int]:
    """Configurations per sub-study, without expanding anything."""
    return {name: math.prod(len(v) for v in grid.values()) for name, grid in spec.all_grids().items()}


def available_memory() -> int:
    """Bytes of memory available now (Linux: MemAvailable; else physical memory)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _cell_weights(units: Sequence[int], features: int, cell: str) -> int:
    gates = 4 if cell == "lstm" else 3
    n, fan_in = 0, features
    for u in units:
        n += gates * u * (fan_in + u + 2)  # kernel, recurrent kernel, bias (GRU: two biases)
        fan_in = u
    return n + units[-1] + 1  # the Dense head


def replica_bytes(units: Sequence[int], *, features: int, timesteps: int, batch_size: int, cell: str, rows: int, checkpoints: int, curve_epochs: int) -> int:
    """Estimated bytes one replica needs inside a population (float32)."""
    weights = _cell_weights(units, features, cell)
    gates = 4 if cell == "lstm" else 3
    activations = sum(timesteps * batch_size * (gates + 3) * u for u in units)
    return 4 * (4 * weights + 2 * activations + checkpoints * rows + 2 * curve_epochs)


def population_bytes(pop, rows: int) -> int:
    """Estimated peak bytes of a planned population (``rows``: training + holdout rows)."""
    arch = pop.arch
    per = replica_bytes(
        arch.units,
        features=pop.framing.lags,
        timesteps=pop.framing.timesteps,
        batch_size=arch.batch_size,
        cell=arch.cell,
        rows=rows,
        checkpoints=len(pop.schedule.checkpoints),
        curve_epochs=max(c.epochs for c in pop.configs) if pop.schedule.eval_every == 1 else 0,
    )
    return per * pop.size


def population_seconds(pop, train_rows: int) -> float:
    """Rough seconds to train a population (see the module doc for the calibration)."""
    arch = pop.arch
    flops = _cell_weights(arch.units, pop.framing.lags, arch.cell) / _cell_weights((1,), 1, "lstm")
    epochs = max(c.epochs for c in pop.configs)
    steps_factor = 4.0 / arch.batch_size  # sequential minibatch steps relative to batch 4
    per_replica = epochs * train_rows * pop.framing.timesteps * NS_PER_ROW * 1e-9 * max(1.0, flops) * max(1.0, steps_factor)
    return max(pop.size, 8) * per_replica


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A study's size, before training."""

    configurations: int
    runs: int
    populations: int
    programs: int
    peak_bytes: int
    curve_bytes: int
    seconds: float
    memory_bytes: int

    def lines(self) -> list[str]:
        return [
            f"configurations: {self.configurations:,}",
            f"runs (trainings): {self.runs:,}",
            f"populations: {self.populations:,} in {self.programs:,} compiled programs",
            f"peak memory of the largest population: {_size(self.peak_bytes)} (available now: {_size(self.memory_bytes)})",
            f"per-epoch curves stored: {_size(self.curve_bytes)}",
            f"expected wall time: about {_duration(self.seconds)} on a 2-core machine (rough; within ~3x)",
        ]


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def _duration(s: float) -> str:
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def estimate(spec: StudySpec, n_observations: int) -> Estimate:
    """Size of ``spec`` on a series of ``n_observations``, over every evaluation phase.

    The selection phases train every configuration; the test phase is counted
    for every configuration under ``test_all`` and for one per sub-study otherwise.
    """
    from lstmtune import planner

    plan = planner.plan(spec)
    ev = spec.evaluation
    phases = 1 if ev.selection == "test" else (ev.folds if ev.selection == "backtest" else 1)
    programs = {(p.arch, p.framing) for p in plan.populations}
    rows = max(1, n_observations)
    peak = max((population_bytes(p, rows) for p in plan.populations), default=0)
    seconds = COMPILE_S * len(programs) * (1 if ev.selection == "test" else phases + 1)
    seconds += phases * sum(population_seconds(p, rows) for p in plan.populations)
    runs = plan.runs * phases
    if ev.selection != "test":
        tested = 1.0 if ev.test_all else min(1.0, len(spec.all_grids()) / max(1, len(plan.configs)))
        runs += math.ceil(plan.runs * tested)
        seconds += tested * sum(population_seconds(p, rows) for p in plan.populations)
    curve_configs = len(plan.configs) * plan.curve_repeats
    curve_bytes = curve_configs * max((c.epochs for c in plan.configs), default=0) * 2 * 4
    return Estimate(
        configurations=len(plan.configs),
        runs=runs,
        populations=len(plan.populations) * phases + (len(plan.populations) if ev.selection != "test" else 0),
        programs=len(programs),
        peak_bytes=peak,
        curve_bytes=curve_bytes,
        seconds=seconds,
        memory_bytes=available_memory(),
    )


def check(spec: StudySpec, n_observations: int, *, max_runs: int | None = DEFAULT_MAX_RUNS, memory_bytes: int | None = None) -> Estimate:
    """Estimate ``spec``'s size and refuse what exceeds ``max_runs`` or the machine.

    A population too large for memory is split (:func:`split`); a single replica
    that cannot fit is refused.

    Raises:
      SpecError: one line naming the limit exceeded and the figure.
    """
    est = estimate(spec, n_observations)
    if max_runs is not None and est.runs > max_runs:
        raise SpecError(
            f"study {spec.name!r} plans {est.runs:,} trainings, more than --max-runs {max_runs:,} "
            f"({est.configurations:,} configurations x repeats); raise --max-runs or shrink the study"
        )
    memory = memory_bytes if memory_bytes is not None else est.memory_bytes
    from lstmtune import planner

    for pop in planner.plan(spec).populations:
        one = population_bytes(pop, n_observations) // max(1, pop.size)
        if one > memory * MEMORY_SHARE:
            raise SpecError(
                f"study {spec.name!r}: one replica of units={list(pop.arch.units)}, batch_size={pop.arch.batch_size} needs "
                f"about {_size(one)}, more than this machine's available {_size(memory)} allows"
            )
    return est


def split(populations: Sequence, n_observations: int, *, memory_bytes: int | None = None) -> tuple:
    """Split populations whose estimated memory exceeds a share of available memory.

    A split population's replicas are trained in several programs of equal
    shape. (At batch size 1 a replica's last float32 bits can depend on how many
    share its program, so studies are split only when they must be.)
    """
    memory = memory_bytes if memory_bytes is not None else available_memory()
    out = []
    for pop in populations:
        need = population_bytes(pop, n_observations)
        if need <= memory * MEMORY_SHARE or pop.size <= 1:
            out.append(pop)
            continue
        per = max(1, need // pop.size)
        chunk = max(1, int(memory * MEMORY_SHARE // per))
        for i in range(0, pop.size, chunk):
            out.append(dataclasses.replace(pop, replicas=pop.replicas[i : i + chunk]))
    return tuple(out)


__all__ = [
    "DEFAULT_MAX_RUNS",
    "Estimate",
    "MAX_CONFIGS",
    "available_memory",
    "check",
    "estimate",
    "grid_sizes",
    "population_bytes",
    "split",
]
