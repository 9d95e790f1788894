"""Train a plan's populations and keep their results in a store: the one way a study is executed.

:func:`execute` (``plan, series, store``) computes the runs of a plan missing from
a results store and returns all of them as :class:`lstmtune.study.results.StudyResults`.
It is resumable and safe with several workers on one store (see
:mod:`lstmtune.study.runner` for claims, owners and heartbeats); with an in-memory
store (:class:`lstmtune.store.MemoryStore`, the default) it is a plain run.
Populations are trained by an executor of one population
(:class:`LocalExecutor`: the engine, in this process).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from lstmtune.engine import trainer as engine
from lstmtune.selection import metrics
from lstmtune.data.series import Series
from lstmtune.errors import LstmtuneError, SpecError
from lstmtune.study.planner import Plan, Population, plan
from lstmtune.data.problem import Framing, Problem, calendar_phase, prepare
from lstmtune.study.results import StudyResults, assemble
from lstmtune.study.runner import STALE_S, _done_keys, _items, _wait_for_others, heartbeat, new_owner, open_study, release_dead
from lstmtune.study.spec import NUMERIC, StudySpec
from lstmtune.store import MemoryStore, Store

METRICS = metrics.NAMES


def refuse_constant_calendar(dates, calendar, name: str) -> None:
    """Refuse a calendar input that is the same for every date (weekly dates read by their
    weekday, yearly or hourly-within-a-month ones by their month): it tells the network nothing,
    and a forecast whose dates take another value feeds it one it never saw (``fit`` trained
    such a model, which ``run`` refused: a probe).

    Raises:
      SpecError: naming ``data.calendar`` and the input.
    """
    if not calendar:
        return
    stamps = pd.DatetimeIndex(np.asarray(dates))
    for kind in calendar:
        if len(set(calendar_phase(stamps, kind))) == 1:
            which = f"a {stamps[0].day_name()}" if kind == "dayofweek" else f"in {stamps[0].month_name()}" if kind == "month" else f"in quarter {stamps[0].quarter}"
            raise SpecError(f"data.calendar = {list(calendar)}: {kind!r} is the same for every date of {name} (every one {which}): "
                            "it tells the network nothing; leave it out")


def prepare_checked(series: Series, framing: Framing, batch_size: int, holdout: str = "data.test_size") -> Problem:
    """:func:`prepare`, with errors naming the study keys involved (``holdout``: the key that
    sets the scored part, ``evaluation.validation_size`` in a selection phase)."""
    if framing.test_size >= len(series):
        raise SpecError(f"{holdout} = {framing.test_size} must be smaller than the series length {len(series)}")
    if framing.calendar and getattr(series, "positional", False):  # the key at fault, not the framing's
        raise SpecError(f"data.calendar = {list(framing.calendar)}: calendar inputs need dates; {series.name} has no date column (it is indexed by position)")
    refuse_constant_calendar(series.dates, framing.calendar, series.name)  # (a positional series was refused above)
    try:
        return prepare(series, framing, batch_size)
    except LstmtuneError as err:
        why = str(err) if holdout == "data.test_size" else str(err).replace("test_size", holdout.rsplit(".", 1)[-1])
        raise SpecError(f"study settings do not fit the data ({holdout}, model.batch_size, transforms.*): {why}") from None


def validate(plan_: Plan, series: Series, holdout: str = "data.test_size") -> dict[tuple, Problem]:
    """Prepare every population's problem before any training, so bad settings fail fast."""
    problems = {}
    for pop in plan_.populations:
        key = problem_key(pop)
        if key not in problems:
            problems[key] = prepare_checked(series, pop.framing, key[1], holdout)
    return problems


def problem_key(pop: Population) -> tuple:
    """Stateful training rows must divide into the batch's streams; stateless ones need not."""
    return (pop.framing, pop.arch.batch_size if pop.arch.stateful else 1)


@dataclasses.dataclass(frozen=True)
class Job:
    """Runs of one population claimed by this worker.

    Attributes:
      index: the population's position in the plan.
      population: the population, with only the replicas claimed.
      problem: its prepared data.
      claimed: ``(config key, repeat)`` of the runs to commit.
    """

    index: int
    population: Population
    problem: Problem
    claimed: frozenset


def population_hyper(population: Population) -> engine.Hyper:
    """The population's numeric settings, one value per replica (from each replica's configuration)."""
    seeds = [r.seed for r in population.replicas]
    return engine.make_hyper(population.arch, seeds, **{name: [getattr(r.config, name) for r in population.replicas] for name in NUMERIC})


class LocalExecutor:
    """Trains populations in this process: small ones side by side, one per CPU device
    (:func:`lstmtune.engine.trainer.lanes`: a population too small to split across the cores
    runs on one, so two take the time of one), large ones alone across every core. A
    program keeps its lane for the process (:data:`_LANES`: JAX compiles it for that device). A
    population's bits do not depend on its device (tested).

    An executor trains :class:`Job` s: ``map(jobs, on_epochs)`` yields
    ``(job, result, seconds)`` for each, in any order, taking jobs from the
    iterable only when it is ready to start them (jobs are claimed lazily, so
    other processes sharing the store can take the rest). See
    :class:`lstmtune.study.ray_executor.RayExecutor` for one that runs them on a cluster.

    Args:
      side_by_side: train small populations concurrently (False: one after another).
    """

    def __init__(self, side_by_side: bool = True):
        self.side_by_side = side_by_side

    def run(
        self, population: Population, problem: Problem, on_epochs: Callable[[int, int], None] | None = None, device=None
    ) -> engine.PopulationResult:
        """Train one population here (on ``device``, whole; None: the engine's choice)."""
        return engine.train_population(problem, population.arch, population.schedule, population_hyper(population), seeds=[r.seed for r in population.replicas],
                                       on_epochs=on_epochs, device=device)

    def map(self, jobs: Iterable[Job], on_epochs: Callable[[Population, int, int], None] | None = None) -> Iterator[tuple[Job, engine.PopulationResult, float]]:
        lanes = engine.lanes() if self.side_by_side else []
        if not lanes:
            for job in jobs:
                t0 = time.perf_counter()
                yield job, self.run(job.population, job.problem, _progress(on_epochs, job)), time.perf_counter() - t0
            return
        yield from self._side_by_side(jobs, on_epochs, lanes)

    def _side_by_side(self, jobs, on_epochs, lanes) -> Iterator[tuple[Job, engine.PopulationResult, float]]:
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        pending: dict = {}  # future -> (job, lane, start)
        free = list(lanes)

        def finished(block_all: bool):
            done, _ = wait(list(pending), return_when="ALL_COMPLETED" if block_all else FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: pending[f][0].index):
                job, lane, t0 = pending.pop(future)
                free.append(lane)
                yield job, future.result(), time.perf_counter() - t0

        pool = ThreadPoolExecutor(len(lanes), thread_name_prefix="lstmtune-population")
        try:
            for job in jobs:
                pop = job.population
                if engine.runs_alone(pop.size, pop.arch, job.problem, pop.schedule):  # every core: wait for the others, then alone
                    if pending:
                        yield from finished(True)
                    t0 = time.perf_counter()
                    yield job, self.run(pop, job.problem, _progress(on_epochs, job)), time.perf_counter() - t0
                    continue
                lane = lanes[_lane(pop, job.problem, len(lanes))]
                while lane not in free:
                    yield from finished(False)
                free.remove(lane)
                pending[pool.submit(self.run, pop, job.problem, _progress(on_epochs, job), lane)] = (job, lane, time.perf_counter())
            while pending:
                yield from finished(False)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


_LANES: dict = {}
"""Program (:func:`~lstmtune.engine.trainer.program_key`, the padded population size and the
data's shapes: populations of one shape and other epoch counts share it) -> lane, for this process. A program is compiled for one device, and JAX's
compilation cache keys it by that device: a population sent to whichever lane was free
first would land on the other lane in a later run whose timing differs (the first run
compiles, the next does not), and be compiled again there. A program keeps the lane it
first trained on; a new one takes the lane given the least work so far (in the order claimed,
the dearest first; :func:`_cost`, in seconds), as the first lane free would mostly be, so a
command's second run uses the same lanes as its first."""
_LOAD: dict = {}
"""``(lanes, lane)`` -> the work given to that lane in this process."""


def _lane(pop: Population, problem: Problem, count: int) -> int:
    """The lane (an index below ``count``) of the program that trains ``pop`` on ``problem``."""
    key = (engine.program_key(pop.arch, pop.schedule), -(-pop.size // engine.PAD), problem.train_x.shape, problem.test_x.shape, count)
    if key not in _LANES:
        _LANES[key] = min(range(count), key=lambda i: (_LOAD.get((count, i), 0.0), i))
    lane = _LANES[key]
    _LOAD[(count, lane)] = _LOAD.get((count, lane), 0.0) + _cost(pop, problem)
    return lane


def _progress(on_epochs, job: Job):
    return None if on_epochs is None else (lambda d, t, pop=job.population: on_epochs(pop, d, t))


def execute(
    plan_: Plan,
    series: Series,
    store: Store | None = None,
    *,
    owner: str | None = None,
    executor: LocalExecutor | None = None,
    on_population: Callable[[int, int, Population], None] | None = None,
    on_epochs: Callable[[Population, int, int], None] | None = None,
    stale_s: float = STALE_S,
    poll_s: float = 0.5,
    keep_weights: bool | frozenset = False,
) -> StudyResults:
    """Compute the runs of ``plan_`` missing from ``store``, then return all of them.

    Args:
      plan_: from :func:`lstmtune.study.planner.plan`.
      series: the loaded data.
      store: where results live; finished runs found there are not recomputed
        (default: a new :class:`~lstmtune.store.MemoryStore`: nothing kept).
      owner: this worker's id (default :func:`new_owner`).
      executor: trains the populations (default :class:`LocalExecutor`; or
        :class:`lstmtune.study.ray_executor.RayExecutor`). Results are committed here, by
        this process, whichever trains them.
      on_population: ``(done, total, population)`` after each population (skipped ones too).
      on_epochs: ``(population, epochs_done, epochs_total)`` during training (local only).
      keep_weights: keep the final weights of the runs trained here (``results.trained``): True
        for every configuration, or the keys of those to keep; at most :data:`KEEP_BYTES` in all.
      stale_s: claims silent for longer are considered abandoned.
      poll_s: how often to look for runs other workers are finishing.

    Returns:
      The study's results, read back from the store.
    """
    executor = executor or LocalExecutor()
    store = MemoryStore() if store is None else store
    owner = owner or new_owner()
    t0 = time.perf_counter()
    problems = validate(plan_, series)
    study_id, notices = open_study(store, plan_, series)
    release_dead(store, study_id, stale_s)
    total = len(plan_.populations)
    counts = {"populations": 0, "runs": 0, "seen": 0}
    trained: dict = {}

    def seen(pop: Population) -> None:
        counts["seen"] += 1
        if on_population:
            on_population(counts["seen"], total, pop)

    try:
        with heartbeat(store, owner):
            while True:
                counts["seen"] = 0
                jobs = _claims(plan_, problems, store, study_id, owner, skipped=seen)
                for job, result, seconds in executor.map(jobs, on_epochs):
                    n = _commit(plan_, job, result, seconds, series, store, study_id, owner)
                    if keep_weights:
                        _keep(job, result, trained, keep_weights)
                    counts["populations"] += n > 0
                    counts["runs"] += n
                    seen(plan_.populations[job.index])
                if _wait_for_others(store, study_id, plan_, stale_s, poll_s):
                    break
                # Runs neither done nor claimed (another worker gave up): another pass.
    except BaseException:
        store.release(study_id, owner)  # Ctrl-C or an error: give back what is unfinished
        raise
    t1 = time.perf_counter()
    frame = store.runs(study_id)
    rows = frame.drop(columns=[c for c in ("status", "train_seconds") if c in frame]).to_dict("records")
    for r in rows:
        r["diverged_epoch"] = None if pd.isna(r["diverged_epoch"]) else int(r["diverged_epoch"])
    results = assemble(plan_, series, problems, rows, store.curves(study_id), {"train_s": t1 - t0})
    results.timings["populations_trained"] = counts["populations"]
    results.timings["runs_trained"] = counts["runs"]
    results.notices.extend(notices)
    results.trained = trained
    return results


KEEP_BYTES = 256 * 2**20
"""The most weights :func:`execute` keeps in memory (``keep_weights``); beyond it, none more."""


def _keep(job: Job, result, trained: dict, which) -> None:
    """Each configuration's final weights per repeat, where the population ended at its epochs."""
    import jax

    last = int(np.max(result.checkpoints))
    per_replica = sum(np.asarray(a).nbytes for a in jax.tree_util.tree_leaves(result.params)) // max(1, len(job.population.replicas))
    for config in job.population.configs:
        if config.epochs != last or (which is not True and config.key not in which):  # an earlier checkpoint's weights are not kept
            continue
        if per_replica * (sum(len(v) for v in trained.values()) + len(job.population.replicas)) > KEEP_BYTES:
            return
        for k, replica in enumerate(job.population.replicas):
            if replica.family == config.family and (config.key, replica.repeat) in job.claimed:
                weights = jax.tree_util.tree_map(lambda a, k=k: np.asarray(a)[k], result.params)
                trained.setdefault(config.key, {})[replica.repeat] = (weights, int(result.diverged_epoch[k]))


JOB_S, STEP_S, WORK_S = 0.11, 7.1e-7, 3.9e-9
""":func:`_cost`'s terms: seconds per population (its program read back, its data and results
moved), per sequential step (a batch trained, a row scored) and per unit of
:func:`~lstmtune.engine.trainer.stacked_work`, fitted to the 34 populations of two runs each of
``reproduce`` and the default study on the 2-core development machine (correlation with their
times 0.92; ``stacked_work`` alone 0.83: benchmarks/RESULTS.md, twenty-sixth session)."""


def _cost(pop: Population, problem: Problem) -> float:
    """What training ``pop`` on ``problem`` takes, roughly, in seconds: the order populations are
    claimed in (the dearest first) and the lane each is given (the least loaded). The arithmetic
    alone (``stacked_work``) ranked the tutorial's 6000-epoch, one-unit population below a
    1000-epoch, four-unit one it outlasts (its 30,000 steps of batch 4 and 6000 scorings), so
    ``reproduce``'s two lanes ended 0.2-0.3 s apart."""
    rows, timesteps, features = problem.train_x.shape
    epochs, batch = pop.schedule.epochs, pop.arch.batch_size
    steps = epochs * -(-rows // batch) + (epochs // pop.schedule.eval_every) * (rows + len(problem.test_y))
    work = engine.stacked_work(pop.size, rows + len(problem.test_y), epochs, pop.arch, timesteps, features)
    return JOB_S + STEP_S * steps + WORK_S * work


def _claims(plan_, problems, store, study_id, owner, skipped: Callable[[Population], None]) -> Iterator[Job]:
    """Claim each population's missing runs in turn (when the executor asks for the next job),
    the dearest first: populations trained side by side then end together, instead of the
    dearest running alone at the end while a core idles (results do not depend on the order:
    runs are read back by configuration and repeat)."""
    order = sorted(range(len(plan_.populations)), key=lambda i: -_cost(plan_.populations[i], problems[problem_key(plan_.populations[i])]))
    for i in order:
        pop = plan_.populations[i]
        done = set(zip(*_done_keys(store, study_id)))
        wanted = [it for it in _items(pop) if (it[0], it[1]) not in done]
        claimed = set(store.claim(study_id, [it[:3] for it in wanted], owner)) if wanted else set()
        if not claimed:
            skipped(pop)
            continue
        need = {(fam, rep) for key, rep, _, fam in wanted if (key, rep) in claimed}
        sub = dataclasses.replace(pop, replicas=tuple(r for r in pop.replicas if (r.family, r.repeat) in need))
        yield Job(i, sub, problems[problem_key(pop)], frozenset(claimed))


def _commit(plan_, job: Job, result, seconds: float, series, store, study_id, owner) -> int:
    """Store a trained job's runs in one transaction. Returns runs stored."""
    rows, curves = population_rows(plan_, job.population, job.problem, result, series)
    per_run = seconds / max(1, job.population.size)
    rows = [dict(r, train_seconds=per_run) for r in rows if (r["config"], r["repeat"]) in job.claimed]
    store.complete(study_id, owner, rows, {k: v for k, v in curves.items() if k in job.claimed})
    return len(rows)


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
        train_fc = prob.invert(result.train_pred[ks, c], "train")
        if plan_.spec.evaluation.horizon > 1:
            actual, test_fc = multistep_forecasts(plan_, config, prob, result, ks, series)
            with np.errstate(invalid="ignore", over="ignore"):  # a diverged replica's NaN forecasts
                scores = metrics.all_metrics(actual, test_fc, train_values)
        else:
            test_fc = prob.invert(result.test_pred[ks, c], "test")[:, scored]
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


def multistep_forecasts(plan_: Plan, config, prob: Problem, result: engine.PopulationResult, ks: list[int], series: Series) -> tuple[np.ndarray, np.ndarray]:
    """The holdout scored at ``evaluation.horizon = H``: from every origin of the scored
    holdout with H observations after it, each replica's recursive H-step forecast.

    Returns:
      ``(actual (O * H,), forecasts (R, O * H))``, origin by origin, in original units.
    """
    import jax

    from lstmtune.data import known_inputs
    from lstmtune.engine import rollout

    H = plan_.spec.evaluation.horizon
    if int(np.max(result.checkpoints)) != config.epochs:  # the planner keeps one epoch count per population
        raise LstmtuneError(f"internal: multi-step scoring needs the weights at {config.epochs} epochs, the population ran {int(np.max(result.checkpoints))}")
    values = np.asarray(series.values, dtype=np.float64)
    n = len(values)
    scored = plan_.score_last or plan_.spec.data.test_size
    origins = list(range(n - scored, n - H + 1))
    params = jax.tree_util.tree_map(lambda a: np.asarray(a)[ks], result.params)
    net = rollout.network_for(config, params)
    framing = prob.framing
    extras = known_inputs.backtest_steps(series, framing, origins, H) if known_inputs.has_extras(framing) else None
    with np.errstate(invalid="ignore", over="ignore"):
        paths = rollout.from_origins(net, series, framing, prob.scaler, prob.counts.trimmed, origins, H, extras)
    actual = np.stack([values[o : o + H] for o in origins])
    return actual.reshape(-1), paths.reshape(paths.shape[0], -1)


def run_study(spec: StudySpec, series: Series | None = None, **kwargs) -> StudyResults:
    """Plan and execute a study (loading its data when not given)."""
    from lstmtune.data.series import load

    if series is None:
        d = spec.data
        series = load(d.source, date_column=d.date_column, value_column=d.value_column, date_format=d.date_format, missing=d.missing, covariates=d.covariates)
    return execute(plan(spec), series, **kwargs)


__all__ = ["Job", "LocalExecutor", "execute", "population_hyper", "population_rows", "prepare_checked", "problem_key", "run_study", "validate"]
