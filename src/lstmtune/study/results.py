"""A study's (and a search's) results as plain data, and the queries analysis and reports ask of them.

:class:`StudyResults` is what an executor returns (:func:`lstmtune.study.executor.execute`):
one row per (configuration, repeat), curves, baselines, row counts and timings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from lstmtune.selection import baselines
from lstmtune.data.series import Series
from lstmtune.study.planner import Plan
from lstmtune.data.problem import Problem
from lstmtune.study.spec import GridPoint, StudySpec


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
      trained: config key -> ``{repeat: (weights, diverged epoch)}`` of the runs trained in
        this process on every observation before the test (the test phase, or the tutorial's
        one phase), at the configuration's epochs: the report's forecasts of the test period
        reuse them instead of training again. Not stored: runs read back from a store have none.
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
    trained: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)


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


def runs_counted(r: StudyResults) -> tuple[int, str]:
    """The study's trainings, as `plan` counts them, and how the command says them ("18 runs (12 to
    select over 2 folds, 6 refit to test)"): every selection phase's (each backtest fold's) and the
    test phase's. Only the first phase's were counted under backtests, and no test phase without
    refit (a probe: "6 runs" of 18)."""
    t = r.timings
    tested = r.selection_metric != "test_rmse"
    if "runs_selecting" in t:
        select, test, folds = int(t["runs_selecting"]), int(t["runs_testing"]), int(t.get("selection_phases", 1))
    else:  # a run stored before they were counted
        select, folds = len(r.runs), 1
        test = int(r.runs["tested"].sum()) if "tested" in r.runs and tested and r.spec.evaluation.refit else 0
    total = select + test
    if not test:
        return total, f"{total} runs"
    over = f" over {folds} folds" if folds > 1 else ""
    return total, f"{total} runs ({select} to select{over}, {test} {'refit to test' if r.spec.evaluation.refit else 'to test'})"


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


def summary_repeat_count(spec) -> int:
    """The repeats a study's summary ranks: ``repeats``, or ``diagnostic_repeats`` under ``mode = "diagnostic"``."""
    return spec.runs.repeats if spec.runs.mode != "diagnostic" else spec.runs.diagnostic_repeats


def summary_repeats(results: StudyResults) -> Sequence[int]:
    return range(summary_repeat_count(results.spec))


@dataclasses.dataclass
class SearchOutcome:
    """A search's finished trials and their runs (:func:`lstmtune.workflow.search.run`)."""

    spec: StudySpec
    study: Any  # optuna.Study
    trials: pd.DataFrame  # one row per finished trial: number, state, value, params, config key
    runs: pd.DataFrame  # runs of the finished trials' configurations (at their final epochs)
    labels: dict[str, str]  # config key -> "trial N"
    wall_s: float
    trainings: int  # runs trained (all rungs)
    metric: str = "test_rmse"  # what trials were judged on: validation_rmse unless selection = "test"
    test: dict | None = None  # the best trial's test RMSE per repeat, scored once (honest selection only)
    notices: list[str] = dataclasses.field(default_factory=list)  # e.g. trials of other data not reused
    failure: str | None = None  # why no trial completed, one line (set by lstmtune.workflow.search.run); None when one did
    trainings_total: int | None = None  # runs trained by every finished `search` of this study (None: as trainings)
    wall_total_s: float | None = None  # their time
