"""From a study to populations, and from population results back to runs.

A *run* is (configuration, repeat). Runs are grouped so that each compiled
program trains as many of them as possible:

- configurations that differ only in ``epochs`` form a *family*: one training
  run per repeat, read at each epoch count (checkpoints), because a checkpoint
  equals a separate run of that length with the same seed;
- families that share every shape-fixing setting (units, batch size, recurrent
  activation, lags, timesteps, differencing, trim) form one *population*; numeric
  settings (the learning rate) are per-replica values inside it. Under
  ``[evaluation] horizon > 1`` a population also holds one epoch count, since
  multi-step scoring runs the final weights forward.

The planner only plans: it knows nothing of data, files, stores or plots. An
executor (:mod:`lstmtune.study.executor`) trains the populations and keeps the results
(:mod:`lstmtune.study.results`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from lstmtune.engine import trainer as engine
from lstmtune.study import spec as spec_mod
from lstmtune.data.problem import Framing
from lstmtune.errors import LstmtuneError
from lstmtune.study.spec import Config, GridPoint, StudySpec, checkpoints_of_one, expand

NUMERIC = spec_mod.NUMERIC  # per-replica numeric parameters (declared in lstmtune.study.spec)


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
        """Result rows: a run per configuration and repeat."""
        return len(self.configs) * self.repeats

    @property
    def families(self) -> int:
        """Configurations trained apart: those that differ only in ``epochs`` count as one where
        they are checkpoints of one training (:func:`checkpoints_of_one`)."""
        one = checkpoints_of_one(self.spec)
        return len({c.family if one else (c.family, c.epochs) for c in self.configs})

    @property
    def trainings(self) -> int:
        """Networks trained: one replica per family and repeat."""
        return self.families * self.repeats


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


def seeds_for(spec: StudySpec, config: Config, repeats: int) -> list[int]:
    """The study's seeds for repeats ``0 .. repeats - 1`` of ``config``."""
    if repeats < 1:
        raise LstmtuneError(f"--repeats must be >= 1, got {repeats}")
    return [seed_for(spec, config, r) for r in range(repeats)]


def framing_of(spec: StudySpec, config: Config) -> Framing:
    t = spec.transforms
    return Framing(
        interval=config.interval,
        lags=config.lags,
        timesteps=config.timesteps,
        test_size=spec.data.test_size,
        trim=config.trim,
        feature_range=tuple(t.feature_range),
        covariates=tuple(spec.data.covariates),
        calendar=tuple(spec.data.calendar),
    )


def architecture(members: Sequence[Config]) -> engine.Architecture:
    """The engine's static settings for configurations of one shape: the shape-fixing
    parameters, and each code path (dropout, L1/L2) compiled when any member needs it."""
    first = members[0]
    static = {n: getattr(first, n) for n in spec_mod.SHAPE_KEYS if n in engine.Architecture.__dataclass_fields__}
    paths = {flag: any(getattr(c, n) > 0 for c in members for n in names) for flag, names in spec_mod.COMPILES.items()}
    return engine.Architecture(**{**static, "units": first.layers}, **paths)


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

    # Multi-step scoring (evaluation.horizon > 1) runs each configuration's final weights
    # forward, so a population holds one epoch count: its weights at the end are that count's.
    one = checkpoints_of_one(spec)
    groups: dict[tuple, list[Config]] = {}
    for c in configs:
        groups.setdefault(c.shape if one else (c.shape, c.epochs), []).append(c)

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


