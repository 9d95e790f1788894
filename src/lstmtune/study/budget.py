"""A study's size before anything is trained or written: refuse what cannot fit.

Counted arithmetically first (a grid's size is the product of its list lengths,
checked when the study file is loaded, and the trainings it implies are
configurations x repeats x evaluation phases), so a study far over
``--max-runs`` is refused in milliseconds, before its grid is expanded or
planned. Then, from one plan: runs, populations, compiled programs, the peak
memory of the largest population, curve storage, and a rough wall time.

Memory model (float32, per replica, what :mod:`lstmtune.engine.trainer` materialises):
the weights W six times (parameters, gradients, Adam's two moments, the
update, the final weights copied to the host); the activations of one
minibatch step kept for the backward pass (timesteps x batch x (gates + 3) x
units per layer, twice) or of a prediction pass over all rows when stateless,
whichever is larger; the forecasts kept at every checkpoint (``(checkpoints,
rows)``); the per-scoring train/test RMSE curves ``(segments, 2)``, on the
device and again on the host. Plus the problem's arrays once per population.
An estimate: XLA may keep more temporaries; hence populations are split when
they exceed :data:`MEMORY_SHARE` of available memory, not all of it.

Time model, calibrated on the 2-core development machine (shared CPU, JAX's
XLA CPU backend): 13 compiled populations on the shampoo series were timed
(second call, so without compilation) and the three constants below fitted to
minimise the worst ratio. A sequential minibatch step costs ``STEP_S`` (~8 us,
measured at P = 8) for the whole population plus, per replica,
``REPLICA_STEP_NS`` and ``ROW_NS * W**ROW_EXP`` ns per row x timestep of the
minibatch (W: the replica's weights); each scoring adds a forward pass over
every row. Model / measured: units 1 batch 4 P 2048 (0.62 s) 1.67; P 128 1.88;
P 8 1.62; units 1 batch 1 P 512 0.58; units 4 batch 1 P 256 0.68; units 8
batch 8 1.17; units 4 timesteps 4 0.63; lags 6 1.02; units 32 1.71; units 64
1.28; units 16+16 (1.58 s) 1.40. Compilation: ``COMPILE_S`` = 1 s per
program, once per phase (a phase's row count is another shape): the default
study (5 programs x 2 phases, 300 trainings) took 9.7 s to its results, for
an estimate of 13 s. Expect the total within ~2x on that machine; scale for others.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence

from lstmtune.errors import SpecError
from lstmtune.study import rungs
from lstmtune.study.spec import MAX_CONFIGS, StudySpec, checkpoints_of_one

DEFAULT_MAX_RUNS = 1_000_000
"""Default of ``--max-runs``: trainings one study may plan (all phases; None: no limit)."""

MEMORY_SHARE = 0.5
"""A population is split when its estimate exceeds this share of available memory."""

COMPILE_S = 1.0
CALIBRATED_UNITS = 64
"""The widest layer the time model was calibrated on (the module doc): beyond it, plan says so."""
STEP_S = 8e-6
REPLICA_STEP_NS = 50.0
ROW_NS = 12.0
ROW_EXP = 0.7


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


def replica_bytes(
    units: Sequence[int], *, features: int, timesteps: int, batch_size: int, cell: str, rows: int, checkpoints: int,
    segments: int, stateful: bool = True,
) -> int:
    """Estimated bytes one replica needs inside a population (see the module doc).

    Args:
      units: units per layer.
      features: inputs per timestep (``lags``).
      rows: training + holdout rows (at most the series' length).
      checkpoints: epoch counts whose forecasts are kept.
      segments: in-program scorings (epochs / eval_every): the curves' length.
    """
    weights = _cell_weights(units, features, cell)
    width = (4 if cell == "lstm" else 3) + 3  # gate pre-activations, cell/hidden states, outputs
    step = 2 * sum(timesteps * batch_size * width * u for u in units)
    predict = sum(timesteps * (batch_size if stateful else rows) * width * u for u in units)
    return 4 * (6 * weights + max(step, predict) + checkpoints * rows + 4 * segments)


def population_bytes(pop, rows: int) -> int:
    """Estimated peak bytes of a planned population (``rows``: training + holdout rows)."""
    arch, framing = pop.arch, pop.framing
    per = replica_bytes(
        arch.units,
        features=framing.features,
        timesteps=framing.timesteps,
        batch_size=arch.batch_size,
        cell=arch.cell,
        rows=rows,
        checkpoints=len(pop.schedule.checkpoints),
        segments=pop.schedule.segments,
        stateful=arch.stateful,
    )
    shared = 4 * 4 * rows * framing.timesteps * framing.features  # inputs, targets, masks, scaling: once
    return per * pop.size + shared


def _train_rows(framing, rows: int) -> int:
    return max(1, rows - framing.interval - framing.lags - framing.timesteps + 1 - framing.test_size)


def population_seconds(pop, rows: int) -> float:
    """Rough seconds to train a compiled population (see the module doc for the calibration)."""
    arch, framing = pop.arch, pop.framing
    weights = _cell_weights(arch.units, framing.features, arch.cell)
    train = _train_rows(framing, rows)
    steps = math.ceil(train / arch.batch_size)
    per_row = ROW_NS * weights**ROW_EXP * 1e-9
    step = STEP_S + pop.size * (REPLICA_STEP_NS * 1e-9 + arch.batch_size * framing.timesteps * per_row)
    scoring = pop.size * rows * framing.timesteps * per_row / 3  # one forward pass over every row
    return pop.schedule.epochs * steps * step + pop.schedule.segments * scoring


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

    search: bool = False  # configurations are trials, figures at the space's largest point
    trainings: int = 0  # networks trained (an epochs grid's values are checkpoints of one); 0: as runs
    widest: int = 0  # the most units of any layer planned
    upper: bool = False  # runs and populations are at most these: sub-studies may select one configuration, tested once

    def lines(self) -> list[str]:
        """The estimate as ``key: value`` lines for a terminal."""
        if self.search:
            head = [
                f"trials: {self.configurations:,}" if self.configurations else "trials: until timeout_s",
                f"runs (trainings, at most): {self.runs:,}" if self.runs else "runs (trainings): until timeout_s",
                f"rounds (populations): {self.populations:,}, compiled once per distinct shape",
            ]
        else:
            most = ", at most" if self.upper else ""
            head = [
                f"configurations: {self.configurations:,}",
                f"runs (trainings{most}): {self.runs:,}" if self.trainings in (0, self.runs) else
                f"runs{' (at most)' if self.upper else ''}: {self.runs:,} ({self.trainings:,} trainings: configurations that differ only in epochs are checkpoints of one)",
                f"populations{' (at most)' if self.upper else ''}: {self.populations:,} in {self.programs:,} compiled programs "
                "(one per shape and phase: each phase's rows are its own)",
            ]
        return head + [
            f"peak memory of the largest population: {_size(self.peak_bytes)} (available now: {_size(self.memory_bytes)})",
            f"per-epoch curves stored: {_size(self.curve_bytes)}",
            f"expected wall time: about {_duration(self.seconds)} (rough, within ~2x on the 2-core CPU it was calibrated on)"
            if self.seconds or not self.search else "expected wall time: timeout_s",
        ] + ([f"layers of up to {self.widest:,} units: beyond the {CALIBRATED_UNITS} units the time and memory models were calibrated on, "
              "both can be far higher (measured: 2000 + 2000 units took about 11x the memory and 100x the time estimated)"]
             if self.widest > CALIBRATED_UNITS else [])


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def _duration(s: float) -> str:
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def trainings_per_config(spec: StudySpec) -> int:
    """Trainings of one configuration in one phase (``runs.mode`` decides which repeats run)."""
    r = spec.runs
    return {"summary": r.repeats, "diagnostic": r.diagnostic_repeats}.get(r.mode, max(r.repeats, r.diagnostic_repeats))


def selection_phases(spec: StudySpec) -> int:
    """Phases that train every configuration (backtest: one per fold)."""
    ev = spec.evaluation
    return ev.folds if ev.selection == "backtest" else 1


def _refuse_runs(spec: StudySpec, runs: int, configurations: int, max_runs: int, *, at_least: bool = False, up_to: bool = False) -> None:
    grids_epochs = any("epochs" in g for g in spec.all_grids().values())
    once = " (an epochs grid's values counted once: checkpoints of one training)" if grids_epochs and checkpoints_of_one(spec) else ""
    test = "" if spec.evaluation.selection == "test" else (", plus the test phase" + (" (fewer where sub-studies select one configuration)" if up_to else ""))
    raise SpecError(
        f"study {spec.name!r} plans {'at least ' if at_least else 'up to ' if up_to else ''}{runs:,} trainings, more than --max-runs {max_runs:,} "
        f"({configurations:,} configurations{once} x {trainings_per_config(spec):,} repeats x {selection_phases(spec)} selection "
        f"phase(s){test}); raise --max-runs or shrink the study"
    )


def precheck(spec: StudySpec, *, max_runs: int | None = DEFAULT_MAX_RUNS) -> None:
    """Refuse, without expanding or planning anything, a study certain to exceed ``max_runs``.

    Counts the largest sub-study's grid without its ``epochs`` values (checkpoints of one
    training, except under multi-step scoring; sub-studies may share configurations, so their sum is only an upper bound) x
    trainings per configuration x phases (the test phase: at least the selected configuration,
    every one under ``test_all``).

    Raises:
      SpecError: one line with the count.
    """
    if max_runs is None:
        return
    configs = max((math.prod(len(v) for k, v in grid.items() if k != "epochs" or not checkpoints_of_one(spec)) for grid in spec.all_grids().values()), default=1)
    tested = 0 if spec.evaluation.selection == "test" else (configs if spec.evaluation.test_all else 1)
    runs = (configs * selection_phases(spec) + tested) * trainings_per_config(spec)
    if runs > max_runs:
        _refuse_runs(spec, runs, configs, max_runs, at_least=True)


def estimate(spec: StudySpec, n_observations: int, plan=None) -> Estimate:
    """Size of ``spec`` on a series of ``n_observations``, over every evaluation phase.

    The selection phases train every configuration; the test phase is counted
    for every configuration under ``test_all`` and for one per sub-study otherwise.

    Args:
      plan: ``planner.plan(spec)`` when already made (planning a large grid takes seconds).
    """
    from lstmtune.study import planner

    plan = plan if plan is not None else planner.plan(spec)
    ev = spec.evaluation
    phases = selection_phases(spec)
    programs = {(p.arch, p.framing) for p in plan.populations}
    rows = max(1, n_observations)
    peak = max((population_bytes(p, rows) for p in plan.populations), default=0)
    train_s = sum(population_seconds(p, rows) for p in plan.populations)
    seconds = COMPILE_S * len(programs) * phases + phases * train_s
    runs, populations = plan.runs * phases, len(plan.populations) * phases
    trainings = plan.trainings * phases
    compiled = len(programs) * phases
    if ev.selection != "test":
        tested = 1.0 if ev.test_all else min(1.0, len(spec.all_grids()) / max(1, len(plan.configs)))
        runs += math.ceil(plan.runs * tested)
        trainings += plan.trainings if ev.test_all else min(plan.families, len(spec.all_grids())) * plan.repeats
        populations += len(plan.populations) if ev.test_all else min(len(plan.populations), len(spec.all_grids()))
        compiled += len(programs) if ev.test_all else min(len(programs), len(spec.all_grids()))
        seconds += COMPILE_S * len(programs) * tested + tested * train_s
    curve_bytes = len(plan.configs) * plan.curve_repeats * max((c.epochs for c in plan.configs), default=0) * 2 * 4
    return Estimate(
        configurations=len(plan.configs),
        runs=runs,
        populations=populations,
        programs=compiled,
        peak_bytes=peak,
        curve_bytes=curve_bytes,
        seconds=seconds,
        memory_bytes=available_memory(),
        trainings=trainings,
        widest=max((max(p.arch.units) for p in plan.populations), default=0),
        upper=ev.selection != "test" and not ev.test_all and len(spec.all_grids()) > 1,
    )


def check(spec: StudySpec, n_observations: int, *, max_runs: int | None = DEFAULT_MAX_RUNS, memory_bytes: int | None = None) -> Estimate:
    """Estimate ``spec``'s size and refuse what exceeds ``max_runs`` or the machine.

    A population too large for memory is split at run time (:func:`split`); a
    single replica that cannot fit is refused here.

    Args:
      n_observations: the series' length.
      max_runs: most trainings allowed (None: no limit).
      memory_bytes: memory to plan for (default: :func:`available_memory`).

    Raises:
      SpecError: one line naming the limit exceeded and the figure.
    """
    from lstmtune.study import planner

    precheck(spec, max_runs=max_runs)
    plan = planner.plan(spec)
    est = estimate(spec, n_observations, plan)
    if max_runs is not None and (est.trainings or est.runs) > max_runs:
        _refuse_runs(spec, est.trainings or est.runs, plan.families, max_runs, up_to=est.upper)
    memory = memory_bytes if memory_bytes is not None else est.memory_bytes
    for pop in plan.populations:
        one = (population_bytes(pop, n_observations) - population_bytes(dataclasses.replace(pop, replicas=()), n_observations))
        one = one // max(1, pop.size)
        if one > memory * MEMORY_SHARE:
            raise SpecError(
                f"study {spec.name!r}: one replica of units={list(pop.arch.units)}, batch_size={pop.arch.batch_size}, "
                f"lags={pop.framing.lags}, timesteps={pop.framing.timesteps} needs about {_size(one)}, more than half of "
                f"this machine's available {_size(memory)}"
            )
    return est


SHAPE_KEYS = ("units", "lags", "timesteps", "batch_size", "epochs")


def check_search(spec: StudySpec, n_observations: int, *, max_runs: int | None = DEFAULT_MAX_RUNS, memory_bytes: int | None = None) -> Estimate:
    """Estimate a search's size at its largest point and refuse what cannot fit.

    Runs: trials x repeats x selection phases, plus the best trial's test phase
    (unknown when only ``timeout_s`` bounds the search: not checked then). Memory:
    one replica at the space's largest units, lags, timesteps, batch size and
    epochs; a round's population (``batch`` trials x repeats) is split as a
    study's is.

    Raises:
      SpecError: one line naming the limit exceeded and the figure.
    """
    from lstmtune.study import planner
    from lstmtune.study.spec import GridPoint, base_params, resolve

    search = spec.search
    largest = {}
    for key in SHAPE_KEYS:
        p = search.space.get(key)
        if p is not None:
            largest[key] = max(p.choices) if p.type == "categorical" else int(p.high)
    point = GridPoint("search", "largest", largest, resolve({**base_params(spec), **largest}, "search", "largest"))
    tpc = trainings_per_config(spec.model_copy(update={"runs": spec.runs.model_copy(update={"mode": "summary"})}))
    phases = selection_phases(spec)
    trials = search.trials
    if trials is not None and search.sampler == "grid":
        trials = min(trials, search.grid_size())
    raced = None if trials is None else rungs.trainings(search, spec.model.epochs, trials)
    # the trials at every rung of their races, the best trial's test, the best 3 trials' diagnostic reruns
    runs = None if trials is None else (raced * phases + (0 if spec.evaluation.selection == "test" else 1)) * tpc + min(3, trials) * spec.runs.diagnostic_repeats
    if max_runs is not None and runs is not None and runs > max_runs:
        at_rungs = f" ({raced:,} at their races' rungs)" if raced != trials else ""
        raise SpecError(
            f"search {spec.name!r} plans up to {runs:,} trainings ({trials:,} trials{at_rungs} x {tpc:,} repeats x {phases} selection "
            f"phase(s), plus the best trial's test and the best {min(3, trials)} trials' {spec.runs.diagnostic_repeats} diagnostic reruns each), "
            f"more than --max-runs {max_runs:,}; raise --max-runs or shrink the search"
        )
    one = planner.plan(spec.model_copy(update={"runs": spec.runs.model_copy(update={"mode": "summary", "repeats": 1})}), [point])
    memory = memory_bytes if memory_bytes is not None else available_memory()
    per = population_bytes(one.populations[0], n_observations)
    if per > memory * MEMORY_SHARE:
        raise SpecError(
            f"search {spec.name!r}: one replica at the space's largest point ({', '.join(f'{k}={v}' for k, v in largest.items()) or 'the base model'}) "
            f"needs about {_size(per)}, more than half of this machine's available {_size(memory)}"
        )
    batch = min(search.batch, trials or search.batch)
    pop = dataclasses.replace(one.populations[0], replicas=one.populations[0].replicas * (batch * tpc))
    programs = (trials or 1) if set(search.space) & {"units", "lags", "timesteps", "batch_size"} else 1  # a shape per trial, at most
    seconds = 0.0 if not trials else COMPILE_S * programs * phases + population_seconds(pop, n_observations) * math.ceil(trials / batch) * phases
    return Estimate(
        configurations=trials or 0,
        runs=runs or 0,
        populations=math.ceil((trials or 0) / batch) * phases,
        programs=programs,
        peak_bytes=population_bytes(pop, n_observations),
        curve_bytes=0,
        seconds=seconds,
        memory_bytes=memory,
        search=True,
        widest=max(one.populations[0].arch.units),
    )


def split(populations: Sequence, n_observations: int, *, memory_bytes: int | None = None) -> tuple:
    """Split populations whose estimated memory exceeds a share of available memory.

    A split population's replicas are trained in several programs of equal shape
    (the last may be smaller), in the original replica order. At batch size 1 a
    replica's last float32 bits can depend on how many replicas share its program
    (issue 13), so populations are split only when they must be; at larger batch
    sizes split and unsplit results are bit-identical (tests/reliability/test_budget.py).

    Args:
      memory_bytes: memory to plan for (default: :func:`available_memory`; tests inject a small one).
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
    "check_search",
    "estimate",
    "grid_sizes",
    "population_bytes",
    "precheck",
    "split",
]
