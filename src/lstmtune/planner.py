"""From a study to populations, and from population results back to runs.

A *run* is (configuration, repeat). Runs are grouped so that each compiled
program trains as many of them as possible:

- configurations that differ only in ``epochs`` form a *family*: one training
  run per repeat, read at each epoch count (checkpoints), because a checkpoint
  equals a separate run of that length with the same seed;
- families that share every shape-fixing setting (units, batch size, recurrent
  activation, lags, timesteps, differencing, trim) form one *population*; numeric
  settings (the learning rate) are per-replica values inside it.

The planner knows nothing of files or plots; an executor (local now) trains the
populations on the engine.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lstmtune import baselines, engine, metrics
from lstmtune.data import Series
from lstmtune.errors import SpecError, LstmtuneError
from lstmtune.problem import Framing, Problem, prepare
from lstmtune.spec import Config, GridPoint, StudySpec, expand

METRICS = ("rmse", "mae", "mape", "smape", "mase")


# Numeric settings batched per replica inside one compiled program.
NUMERIC = ("learning_rate", "momentum", "dropout", "recurrent_dropout", "l1", "l2", "huber_delta")


@dataclasses.dataclass(frozen=True)
class Replica:
    family: str
    repeat: int
    seed: int
    config: Config  # the family's representative (any of its epoch counts)


@dataclasses.dataclass(frozen=True)
class Population:
    """One compiled program's worth of work."""

    arch: engine.Architecture
    framing: Framing
    schedule: engine.Schedule
    configs: tuple[Config, ...]
    replicas: tuple[Replica, ...]

    @property
    def size(self) -> int:
        return len(self.replicas)


@dataclasses.dataclass(frozen=True)
class Plan:
    spec: StudySpec
    points: tuple[GridPoint, ...]
    configs: tuple[Config, ...]
    populations: tuple[Population, ...]
    repeats: int  # trainings per family
    curve_repeats: int  # of which the first curve_repeats keep per-epoch curves (0: none)
    score_last: int | None = None  # score only the last n holdout forecasts (see evaluation.Phase)
    phase: str = "test"  # the evaluation phase it belongs to (part of the stored study's identity)

    @property
    def runs(self) -> int:
        return len(self.configs) * self.repeats


def seed_for(spec: StudySpec, config: Config, repeat: int) -> int:
    """A replica's seed, from (study seed, configuration family, repeat).

    ``per-config`` seeding hashes the configuration without ``epochs`` (an epoch
    grid is checkpoints of one run); ``shared`` seeding gives repeat r the same
    seed in every configuration, so configurations can be compared pairwise.
    """
    if spec.runs.seeding == "shared":
        entropy = [spec.seed, repeat]
    else:
        entropy = [spec.seed, int(config.family, 16), repeat]
    a, b = np.random.SeedSequence(entropy).generate_state(2, np.uint32)
    return (int(a) << 31) ^ int(b)


def framing_of(spec: StudySpec, config: Config) -> Framing:
    t = spec.transforms
    return Framing(
        interval=config.interval,
        lags=config.lags,
        timesteps=config.timesteps,
        test_size=spec.data.test_size,
        trim=config.trim,
        feature_range=tuple(t.feature_range),
    )


def architecture(members: Sequence[Config]) -> engine.Architecture:
    """The engine's static settings for configurations of one shape (dropout and L1/L2
    paths compiled when any member uses them)."""
    first = members[0]
    return engine.Architecture(
        units=first.layers,
        batch_size=first.batch_size,
        recurrent_activation=first.recurrent_activation,
        cell=first.cell,
        stateful=first.stateful,
        shuffle=first.shuffle,
        loss=first.loss,
        optimizer=first.optimizer,
        nesterov=first.nesterov,
        dropout=any(c.dropout > 0 or c.recurrent_dropout > 0 for c in members),
        regularized=any(c.l1 > 0 or c.l2 > 0 for c in members),
    )


def plan(spec: StudySpec, points: Sequence[GridPoint] | None = None) -> Plan:
    """Group the runs of ``points`` (default: the spec's grids expanded) into populations."""
    points = tuple(expand(spec) if points is None else points)
    configs = tuple(dict.fromkeys(p.config for p in points))  # unique, in order
    mode = spec.runs.mode
    if mode == "summary":
        repeats, curve_repeats = spec.runs.repeats, 0
    elif mode == "diagnostic":
        repeats = curve_repeats = spec.runs.diagnostic_repeats
    else:
        repeats = max(spec.runs.repeats, spec.runs.diagnostic_repeats)
        curve_repeats = spec.runs.diagnostic_repeats

    groups: dict[tuple, list[Config]] = {}
    for c in configs:
        shape = (
            c.layers, c.batch_size, c.recurrent_activation, c.cell, c.stateful, c.shuffle, c.loss,
            c.optimizer, c.nesterov, c.interval, c.lags, c.timesteps, c.trim,
        )
        groups.setdefault(shape, []).append(c)

    populations = []
    for members in groups.values():
        families: dict[str, Config] = {}
        for c in members:
            families.setdefault(c.family, c)
        first = members[0]
        replicas = tuple(
            Replica(family=fam, repeat=r, seed=seed_for(spec, c, r), config=c)
            for fam, c in families.items()
            for r in range(repeats)
        )
        checkpoints = sorted({c.epochs for c in members})
        populations.append(
            Population(
                arch=architecture(members),
                framing=framing_of(spec, first),
                schedule=engine.Schedule.for_checkpoints(checkpoints, diagnostic=curve_repeats > 0),
                configs=tuple(members),
                replicas=replicas,
            )
        )
    return Plan(spec, points, configs, tuple(populations), repeats, curve_repeats)


def prepare_checked(series: Series, framing: Framing, batch_size: int) -> Problem:
    """:func:`prepare`, with errors naming the study keys involved."""
    if framing.test_size >= len(series):
        raise SpecError(f"data.test_size = {framing.test_size} must be smaller than the series length {len(series)}")
    try:
        return prepare(series, framing, batch_size)
    except LstmtuneError as err:
        raise SpecError(f"study settings do not fit the data (data.test_size, model.batch_size, transforms.*): {err}") from None


def validate(plan_: Plan, series: Series) -> dict[tuple, Problem]:
    """Prepare every population's problem before any training, so bad settings fail fast."""
    problems = {}
    for pop in plan_.populations:
        key = problem_key(pop)
        if key not in problems:
            problems[key] = prepare_checked(series, pop.framing, key[1])
    return problems


def problem_key(pop: Population) -> tuple:
    """Stateful training rows must divide into the batch's streams; stateless ones need not."""
    return (pop.framing, pop.arch.batch_size if pop.arch.stateful else 1)


class LocalExecutor:
    """Trains populations one after another in this process."""

    def run(
        self, population: Population, problem: Problem, on_epochs: Callable[[int, int], None] | None = None
    ) -> engine.PopulationResult:
        return engine.train_population(
            problem,
            population.arch,
            population.schedule,
            seeds=[r.seed for r in population.replicas],
            **{name: [getattr(r.config, name) for r in population.replicas] for name in NUMERIC},
            on_epochs=on_epochs,
        )


@dataclasses.dataclass
class StudyResults:
    """Everything a study produced, as plain data.

    Attributes:
      runs: one row per (config, repeat): parameters, seed, test metrics,
        train RMSE, diverged flag and epoch.
      curves: config key -> ``(curve_repeats, epochs, 2)`` train/test RMSE per epoch.
      baselines: name -> scores on the test split.
      counts: the row counts of the data pipeline per (batch size, framing).
      timings: seconds spent per phase.
      selection_metric: the ``runs`` column configurations are chosen on
        (``validation_rmse``, or ``test_rmse`` under the tutorial's protocol).
      selected: sub-study -> label of the configuration the protocol selected.
      selection_baselines: name -> scores on the selection holdout (mean over
        backtest folds); the test split's under ``selection = "test"``.
    """

    spec: StudySpec
    points: list[GridPoint]
    runs: pd.DataFrame
    curves: dict[str, np.ndarray]
    baselines: dict[str, dict[str, float]]
    counts: list[dict[str, Any]]
    timings: dict[str, float]
    series: Series
    selection_metric: str = "test_rmse"
    selected: dict[str, str] = dataclasses.field(default_factory=dict)
    selection_baselines: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    notices: list[str] = dataclasses.field(default_factory=list)


def execute(
    plan_: Plan,
    series: Series,
    *,
    executor: LocalExecutor | None = None,
    on_population: Callable[[int, int, Population], None] | None = None,
    on_epochs: Callable[[Population, int, int], None] | None = None,
) -> StudyResults:
    """Train every population in memory and collect per-run results.

    (:func:`lstmtune.runner.execute_stored` does the same against a results
    store, with resume and concurrent workers.)

    Args:
      plan_: from :func:`plan`.
      series: the loaded data.
      executor: trains one population (default: :class:`LocalExecutor`).
      on_population: called as ``(done, total, population)`` after each population.
      on_epochs: called as ``(population, epochs_done, epochs_total)`` during training.
    """
    executor = executor or LocalExecutor()
    t0 = time.perf_counter()
    problems = validate(plan_, series)
    rows: list[dict[str, Any]] = []
    run_curves: dict[tuple[str, int], np.ndarray] = {}
    for i, pop in enumerate(plan_.populations):
        prob = problems[problem_key(pop)]
        progress = None if on_epochs is None else (lambda done, total, pop=pop: on_epochs(pop, done, total))
        result = executor.run(pop, prob, progress)
        new_rows, new_curves = population_rows(plan_, pop, prob, result, series)
        rows.extend(new_rows)
        run_curves.update(new_curves)
        if on_population:
            on_population(i + 1, len(plan_.populations), pop)
    return assemble(plan_, series, problems, rows, run_curves, {"train_s": time.perf_counter() - t0})


def assemble(
    plan_: Plan,
    series: Series,
    problems: dict[tuple, Problem],
    rows: Sequence[dict[str, Any]],
    run_curves: dict[tuple[str, int], np.ndarray],
    timings: dict[str, float],
) -> StudyResults:
    """Per-run rows and curves (from memory or a store) -> :class:`StudyResults`."""
    base = baselines.for_study(plan_.spec, series, plan_.spec.data.test_size)
    wanted = {c.key for c in plan_.configs}
    runs = pd.DataFrame([r for r in rows if r["config"] in wanted and r["repeat"] < plan_.repeats])
    order = {c.key: i for i, c in enumerate(plan_.configs)}
    runs = runs.sort_values(["config", "repeat"], key=lambda col: col.map(order) if col.name == "config" else col)
    runs = runs.reset_index(drop=True)
    if "units" in runs and runs["units"].map(lambda u: isinstance(u, (list, tuple))).any():
        runs["units"] = runs["units"].map(lambda u: str(list(u)) if isinstance(u, (list, tuple)) else str(u))
    curves = {}
    if plan_.curve_repeats:
        for c in plan_.configs:
            per_repeat = [run_curves.get((c.key, r)) for r in range(plan_.curve_repeats)]
            if all(x is not None for x in per_repeat):
                curves[c.key] = np.stack(per_repeat).astype(np.float32)
    counts = {}
    for (framing, batch), prob in problems.items():
        counts[(batch, framing.lags, framing.timesteps)] = {"batch_size": batch, **dataclasses.asdict(prob.counts)}
    return StudyResults(
        spec=plan_.spec,
        points=list(plan_.points),
        runs=runs,
        curves=curves,
        baselines={b.name: b.scores for b in base},
        counts=[counts[k] for k in sorted(counts)],
        timings=timings,
        series=series,
    )


def population_rows(
    plan_: Plan, pop: Population, prob: Problem, result: engine.PopulationResult, series: Series
) -> tuple[list[dict], dict[tuple[str, int], np.ndarray]]:
    """One row per (configuration, replica) of a trained population, and its curves.

    Curves ``(epochs, 2)`` are kept for repeats below ``plan_.curve_repeats``
    when the population was scored every epoch.
    """
    train_values = series.values[: -plan_.spec.data.test_size]
    scored = slice(-plan_.score_last, None) if plan_.score_last else slice(None)
    ckpt = {int(e): k for k, e in enumerate(result.checkpoints)}
    rows, curves = [], {}
    for config in pop.configs:
        c = ckpt[config.epochs]
        ks = [k for k, r in enumerate(pop.replicas) if r.family == config.family]
        test_fc = prob.invert(result.test_pred[ks, c], "test")[:, scored]
        train_fc = prob.invert(result.train_pred[ks, c], "train")
        scores = metrics.all_metrics(prob.test_actual[scored], test_fc, train_values)
        train_rmse = metrics.rmse(prob.train_actual, train_fc)
        for j, k in enumerate(ks):
            replica = pop.replicas[k]
            div = int(result.diverged_epoch[k])
            diverged = 0 < div <= config.epochs
            row = {"config": config.key, **config.params(), "repeat": replica.repeat, "seed": replica.seed}
            for m in METRICS:
                row[f"test_{m}"] = float("nan") if diverged else float(scores[m][j])
            row["train_rmse"] = float("nan") if diverged else float(train_rmse[j])
            row["diverged"] = diverged
            row["diverged_epoch"] = div if diverged else None
            rows.append(row)
            if replica.repeat < plan_.curve_repeats and pop.schedule.eval_every == 1:
                curves[(config.key, replica.repeat)] = np.asarray(result.curves[k, : config.epochs], dtype=np.float32)
    return rows, curves


def run_study(spec: StudySpec, series: Series | None = None, **kwargs) -> StudyResults:
    """Plan and execute a study (loading its data when not given)."""
    from lstmtune.data import load

    if series is None:
        d = spec.data
        series = load(d.source, date_column=d.date_column, value_column=d.value_column, date_format=d.date_format, missing=d.missing)
    return execute(plan(spec), series, **kwargs)


def group_scores(results: StudyResults, study: str, metric: str | None = None) -> dict[str, np.ndarray]:
    """Sub-study ``study``: label -> metric per repeat (ordered by repeat); default: the selection metric."""
    metric = metric or results.selection_metric
    out = {}
    n = len(summary_repeats(results))
    for p in results.points:
        if p.study != study:
            continue
        df = results.runs[(results.runs["config"] == p.config.key) & (results.runs["repeat"] < n)].sort_values("repeat")
        out[p.label] = df[metric].to_numpy(dtype=float)
    return out


def is_paired(results: StudyResults, study: str) -> bool:
    """True when every configuration of the sub-study used the same seed for each repeat."""
    seeds = [
        tuple(results.runs[results.runs["config"] == p.config.key].sort_values("repeat")["seed"])
        for p in results.points
        if p.study == study
    ]
    return len(seeds) > 1 and all(s == seeds[0] for s in seeds)


def studies(results: StudyResults) -> list[str]:
    return list(dict.fromkeys(p.study for p in results.points))


def summary_repeats(results: StudyResults) -> Sequence[int]:
    return range(results.spec.runs.repeats if results.spec.runs.mode != "diagnostic" else results.spec.runs.diagnostic_repeats)
