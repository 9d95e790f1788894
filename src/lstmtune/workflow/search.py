"""Search a configuration space with Optuna's ask/tell, training each round's trials together.

Each round asks Optuna for ``batch`` trials; every trial is a configuration run
``runs.repeats`` times; all repeats of all trials of one shape form one population
(one compiled program). A trial's value is a statistic (mean by default; median, a
quantile, or mean + k·std) of its repeats' selection RMSE (validation, or the mean over
backtest folds; the test set's only under ``selection = "test"``), so the search optimises
expected skill, not one lucky seed.

Pruning is by epochs: with successive halving a round's trials are trained to the
first rung (``min_epochs``), the best ``1/reduction_factor`` continue to the next
rung, and so on up to ``model.epochs``; Hyperband cycles the first rung across
rounds. A survivor is retrained from the same seed, so its longer run extends the
one it was judged on (checkpoints of one run are exact), at a compute cost below
``1/(reduction_factor - 1)``.

Optuna's study lives in the same database as the runs, so a search is resumable
like any study: finished runs are reused, and Optuna keeps the trial history.
"""

from __future__ import annotations

import contextlib
import dataclasses
import decimal
import itertools
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmtune.study import evaluation
from lstmtune.study import executor
from lstmtune.study import planner
from lstmtune.study.params import FRAMING, PARAMETERS
from lstmtune.study.results import SearchOutcome
from lstmtune.study.rungs import bracket, rungs
from lstmtune.study.runner import new_owner
from lstmtune.workflow import study as study_mod
from lstmtune.data.series import Series
from lstmtune.errors import SpecError
from lstmtune.study.spec import GridPoint, SearchSpec, StudySpec, _check_value, base_params, resolve
from lstmtune.store import Store


def make_sampler(search: SearchSpec, seed: int):
    """The search's Optuna sampler: seeded per trial (a resumed search asks what an
    uninterrupted one would), never unpickling the storage (see :mod:`lstmtune.study.samplers`)."""
    from lstmtune.study.samplers import SafeCmaEsSampler, SeededRandomSampler, SeededTPESampler

    if search.sampler in ("grid", "random"):
        # The grid's points are enqueued (see run_search); Optuna's GridSampler calls
        # study.stop() when the grid is exhausted, which ask/tell does not allow.
        return SeededRandomSampler(seed=seed)
    if search.sampler == "cmaes":
        return SafeCmaEsSampler(seed=seed, warn_independent_sampling=False)
    return SeededTPESampler(seed=seed)


grid_size = SearchSpec.grid_size
"""Points of the grid sampler's grid, counted without enumerating it (:meth:`SearchSpec.grid_size`)."""


def grid_space(search: SearchSpec) -> dict[str, list[Any]]:
    """Every value of every parameter, for the grid sampler.

    Raises:
      SpecError: the grid has more points than a study may plan.
    """
    from lstmtune.study.spec import MAX_CONFIGS

    size = grid_size(search)
    if size > MAX_CONFIGS:
        raise SpecError(f"search.space: the grid sampler's grid has {size:,} points, more than {MAX_CONFIGS:,}; use tpe, random or cmaes, or coarser steps")
    out = {}
    for name, p in search.space.items():
        if p.type == "categorical":
            out[name] = list(p.choices)
        elif p.type == "int":
            step = int(p.step or 1)
            out[name] = list(range(int(p.low), int(p.high) + 1, step))
        else:
            # in decimal arithmetic: low + 2 * 0.1 is 0.30000000000000004 in floats, and a last point
            # could pass high (0.7000000000000001 for high = 0.7: a probe)
            low, step = decimal.Decimal(repr(float(p.low))), decimal.Decimal(repr(float(p.step)))
            out[name] = [min(float(low + i * step), float(p.high)) for i in range(p.n_values())]
    return out


LENGTH_KEYS = ("batch_size", *(n for n, d in PARAMETERS.items() if d["kind"] == FRAMING))
"""The parameters that set how long a series must be (:func:`lstmtune.data.problem.minimum_length`):
the batch size and the framing's (interval, lags, timesteps, trim)."""


def least_demanding(search: SearchSpec) -> dict[str, Any]:
    """The space's values of :data:`LENGTH_KEYS` that need the shortest series: each range's low end,
    each categorical's smallest number."""
    out: dict[str, Any] = {}
    for name, p in search.space.items():
        if name not in LENGTH_KEYS:
            continue
        if p.type == "categorical":
            numbers = [c for c in p.choices if isinstance(c, (int, float)) and not isinstance(c, bool)]
            if numbers:
                out[name] = min(numbers)
        else:
            out[name] = int(p.low) if p.type == "int" else p.low
    return out


def check_space_fits(spec: StudySpec, series: Series) -> None:
    """Refuse a search none of whose trials could fit the data: even the space's least demanding
    values (:func:`least_demanding`) too long for the series or a selection part (batch sizes of
    15 to 100 on 36 months: `plan` said nothing, and `search` failed every trial; a probe).

    Raises:
      SpecError: naming the space's values and what they need.
    """
    least = least_demanding(spec.search) if spec.search is not None else {}
    if not least:
        return
    point = GridPoint("search", "least", least, resolve({**base_params(spec), **least}, "search", "least"))
    try:
        study_mod.check_fits(spec, series, planner.plan(spec, [point]))
    except SpecError as err:
        shown = ", ".join(f"{k} = {v}" for k, v in least.items())
        raise SpecError(f"search.space: no trial can fit the data, not even its least demanding values ({shown}): {err}") from None


def suggest(trial, search: SearchSpec) -> dict[str, Any]:
    """Draw a trial's parameters from the space."""
    params = {}
    for name, p in search.space.items():
        if p.type == "categorical":
            params[name] = trial.suggest_categorical(name, p.choices)
        elif p.type == "int":
            params[name] = trial.suggest_int(name, int(p.low), int(p.high), step=int(p.step or 1), log=p.log)
        else:
            params[name] = trial.suggest_float(name, p.low, p.high, step=p.step, log=p.log)
    return params


def objective(values: np.ndarray, search: SearchSpec) -> float | None:
    """The trial's value from its repeats' selection RMSE (NaN = diverged, ignored); None if none finite."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return None
    if search.objective == "mean":
        return float(v.mean())
    if search.objective == "median":
        return float(np.median(v))
    if search.objective == "quantile":
        return float(np.quantile(v, search.quantile))
    return float(v.mean() + search.k * (v.std(ddof=1) if v.size > 1 else 0.0))


def optuna_name(spec: StudySpec, series: Series) -> str:
    """Optuna's study name: the study's and :func:`lstmtune.study.identity.search_fingerprint`
    (trial values are of that data and those settings; others start a new Optuna study)."""
    from lstmtune.study import identity

    phases = [(ph.spec, ph.series) for ph in evaluation.selection_phases(spec, series, [])]
    return identity.store_name(spec.name, "search", identity.search_fingerprint(spec, phases))


@contextlib.contextmanager
def optuna_storage(url: str):
    """Optuna's storage at ``url``, its connections closed at the end. Given a URL, Optuna opens
    an engine of its own on each call and never closes it: a finished search's SQLite store kept
    its ``-wal`` and ``-shm`` files beside it."""
    import optuna
    import sqlalchemy.exc

    for attempt in range(5):
        try:
            storage = optuna.storages.RDBStorage(url)
            break
        except sqlalchemy.exc.IntegrityError:  # another process created the same store's tables at the same moment (a probe): it exists now
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))
    try:
        yield storage
    finally:
        storage.engine.dispose()


def _stale_searches(spec: StudySpec, storage, name: str) -> list[str]:
    """A notice when trials of this study's search are stored for other data or settings."""
    import optuna

    from lstmtune.study import identity

    summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
    if not any(s.n_trials and s.study_name != name and identity.parse(s.study_name)[:2] == (spec.name, "search") for s in summaries):
        return []
    return [
        f"search {spec.name!r}: the data or settings changed since its trials were stored (data, split, model, repeats, "
        f"objective, pruner or space); those trials are kept but not reused: searching afresh"
    ]


def run_search(
    spec: StudySpec,
    series: Series,
    store: Store,
    storage_url,
    *,
    on_round: Callable[[int, int | None], None] | None = None,
    on_epochs: Callable[[planner.Population, int, int], None] | None = None,
) -> SearchOutcome:
    """Run the search declared in ``spec.search``; results go to ``store`` and Optuna's storage.
    :func:`search_rounds`, then :func:`outcome_of` (see them for the arguments)."""
    return outcome_of(search_rounds(spec, series, store, storage_url, on_round=on_round, on_epochs=on_epochs), series, store)


@dataclasses.dataclass(frozen=True)
class Searched:
    """What :func:`search_rounds` leaves for :func:`outcome_of`: the Optuna study, the budget,
    this process's trainings and seconds, the notices so far, and the totals of every finished
    ``search`` of the study (for its report)."""

    spec: StudySpec
    study: Any
    budget: int | None
    trainings: int
    wall_s: float
    notices: tuple
    totals: tuple[int, float]


def search_rounds(
    spec: StudySpec,
    series: Series,
    store: Store,
    storage_url,
    *,
    on_round: Callable[[int, int | None], None] | None = None,
    on_epochs: Callable[[planner.Population, int, int], None] | None = None,
) -> Searched:
    """Train the search's rounds declared in ``spec.search``; results go to ``store`` and Optuna's storage.

    Args:
      spec: a study with a ``[search]`` section.
      series: the loaded data.
      store: the results store for the runs.
      storage_url: SQLAlchemy URL for Optuna's storage (the same database is fine), or an
        Optuna storage (:func:`optuna_storage`), which the caller closes.
      on_round: called as ``(trials_finished, trials_budget)`` after each round.
      on_epochs: engine progress, as for studies.
    """
    import optuna

    if spec.search is None:
        raise SpecError(f"{spec.name}: the study has no [search] section")
    search = spec.search
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    summary_spec = spec.model_copy(update={"runs": spec.runs.model_copy(update={"mode": "summary"})})
    notices = _stale_searches(spec, storage_url, optuna_name(spec, series))
    study = optuna.create_study(
        study_name=optuna_name(spec, series),
        storage=storage_url,
        sampler=make_sampler(search, spec.seed),
        direction="minimize",
        load_if_exists=True,
    )
    budget = budget_of(search)
    if search.sampler == "grid":
        grid = grid_space(search)
        # only the points this search will try are listed
        combos = [dict(zip(grid, values)) for values in itertools.islice(itertools.product(*grid.values()), budget)]
        tried = [t.params for t in study.trials]
        for params in combos:
            if params not in tried:
                study.enqueue_trial(params, skip_if_exists=True)
    base = base_params(spec)
    t0 = time.perf_counter()
    trainings = 0
    owner = new_owner()
    unfit = lambda config: _unfit(summary_spec, series, config)  # noqa: E731
    evaluate = lambda points: study_mod.run_selection(summary_spec, series, store, points, on_epochs=on_epochs)  # noqa: E731
    # A round an interrupted process left unfinished (its trials still RUNNING) is finished
    # first, with the same trials: their parameters were drawn for their numbers, so the search
    # goes on as an uninterrupted one would (runs already stored are read back).
    n_rounds = max((t.user_attrs.get("round", -1) for t in study.trials), default=-1) + 1
    for stranded in resume_rounds(study, search, base, unfit, owner, budget=budget):
        round_number = stranded.round if stranded.round is not None else n_rounds - 1
        schedule = rungs(search, spec.model.epochs, bracket(search, spec.model.epochs, round_number))
        trainings += race(study, search, stranded.points, schedule, evaluate, stranded.reported, stranded.finished)
        n_rounds = max(n_rounds, round_number + 1)

    def finished() -> int:
        return sum(t.state.is_finished() for t in counted(study.trials))

    def started() -> int:  # finished or running, another live process's too: the budget is shared (not the queued grid points)
        return sum(t.state != optuna.trial.TrialState.WAITING for t in counted(study.trials))

    while budget is None or finished() < budget:
        if search.timeout_s is not None and time.perf_counter() - t0 >= search.timeout_s:
            break
        k = search.batch if budget is None else min(search.batch, budget - started())
        if k <= 0:  # the rest of the budget is being trained by another process of this search: it finishes them
            break
        asked = ask_round(study, search, base, k, unfit=unfit, round_number=n_rounds, owner=owner, budget=budget)
        schedule = rungs(search, spec.model.epochs, bracket(search, spec.model.epochs, n_rounds))
        trainings += race(study, search, asked, schedule, evaluate)
        n_rounds += 1
        if on_round:
            on_round(finished(), budget)
        if not asked and budget is None:
            break
    wall_s = time.perf_counter() - t0
    # the search's cost so far, for its report: a rerun with nothing to train kept rewriting
    # search.html with "0 trainings in 0.0 s" (a probe); only a run that trained adds to it
    total, total_s = int(study.user_attrs.get("trainings", 0)), float(study.user_attrs.get("wall_s", 0.0))
    if trainings:
        total, total_s = total + trainings, total_s + wall_s
        study.set_user_attr("trainings", total)
        study.set_user_attr("wall_s", total_s)
    return Searched(spec, study, budget, trainings, wall_s, tuple(notices), (total, total_s) if total else (trainings, wall_s))


def outcome_of(searched: Searched, series: Series, store: Store) -> SearchOutcome:
    """The search's outcome as its trials stand in Optuna's storage now (another process of the
    search may have finished some since this one's rounds ended): the trials within its budget
    and their runs, the best one scored on the test set once (:func:`_outcome`), and what is
    still being trained elsewhere (:func:`_elsewhere`)."""
    outcome = _outcome(searched.spec, series, searched.study, store, searched.wall_s, searched.trainings, searched.budget)
    outcome.notices.extend(searched.notices)
    outcome.notices.extend(_elsewhere(searched.spec, searched.study, searched.budget))
    outcome.trainings_total, outcome.wall_total_s = searched.totals
    return outcome


def ask_round(study, search, base: dict, k: int, unfit=None, round_number: int = 0, owner: str | None = None, round_size: int | None = None,
              round_id: str | None = None, budget: int | None = None) -> list[tuple]:
    """Ask Optuna for ``k`` trials: ``(trial, params, config)`` for each valid one; an
    inconsistent combination (e.g. momentum with adam), or one that does not fit the data
    (``unfit(config)``: why not, or None), is told as failed, with its reason. Each trial
    records its owner (this process: :func:`~lstmtune.study.runner.new_owner`), its round, the
    round's size (``round_size``, default ``k``) and identity (``round_id``, default the owner
    and round: kept by the trials that complete it later), so that a round an interrupted
    process left unfinished is found, and completed when it was left half asked
    (:func:`resume_rounds`).

    A trial with ``budget`` or more trials before it (two processes of one search asked the
    budget's last trials at once: Optuna numbers trials in the order asked, across processes) is
    told failed untrained, marked (:data:`BEYOND`), and no more are asked; marked trials count
    nowhere (:func:`in_budget`)."""
    import optuna

    asked = []
    owner = owner or new_owner()
    for _ in range(k):
        trial = study.ask()
        trial.set_user_attr("owner", owner)  # first: a trial with a round has an owner
        trial.set_user_attr("round", round_number)
        trial.set_user_attr("round_size", round_size or k)
        trial.set_user_attr("round_id", round_id or f"{owner}|{round_number}")
        if budget is not None and sum(t.number < trial.number for t in counted(study.get_trials(deepcopy=False))) >= budget:
            trial.set_user_attr(BEYOND, True)  # its round was cut here: a resumed round asks no more (resume_rounds)
            trial.set_user_attr("error", f"beyond the search's budget of {budget} trials (asked by two processes at once): not trained")
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            break
        point = _checked(study, trial, search, base, unfit)
        if point is not None:
            asked.append(point)
    return asked


BEYOND = "beyond_budget"
"""A trial's user attribute: asked past the budget by a race between processes, told failed
untrained (:func:`ask_round`); such a trial counts in no budget and is listed nowhere."""


def counted(trials) -> list:
    """``trials`` without those asked past the budget (:data:`BEYOND`)."""
    return [t for t in trials if not t.user_attrs.get(BEYOND)]


def in_budget(trials, budget: int | None) -> list:
    """The trials a search of ``budget`` trials has: the first ``budget`` counted ones by number
    (all where ``budget`` is None)."""
    ordered = sorted(counted(trials), key=lambda t: t.number)
    return ordered if budget is None else ordered[:budget]


def _checked(study, trial, search, base: dict, unfit) -> tuple | None:
    """``(trial, params, config)``, or None after telling the trial failed with its reason."""
    import optuna

    params = suggest(trial, search)
    try:
        config = resolve({**base, **params}, "search", f"trial {trial.number}")
        why = unfit(config) if unfit is not None else None
        if why is not None:
            raise ValueError(why)
    except ValueError as err:
        trial.set_user_attr("error", str(err))
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        return None
    return trial, params, config


DIVERGED = "every repeat diverged (NaN or infinite losses or weights)"
"""The error a trial that raced and diverged is failed with (one that did not fit the data never raced)."""


@dataclasses.dataclass
class Stranded:
    """A round an interrupted process left unfinished, as :func:`race` replays it: ``points``
    (every trial of the round that raced, as :func:`ask_round` gives them), ``reported`` (the
    epochs each already reported), ``finished`` (the numbers of those already told pruned,
    failed or complete, which the replay does not tell again)."""

    round: int | None
    points: list
    reported: dict
    finished: set


OWNERLESS_S = 60.0
"""A RUNNING trial without an owner is stranded (a store written before owners were recorded)
once it started this many seconds ago: :func:`ask_round` records the owner just after Optuna asks
the trial, and another process resuming rounds in that instant took a live process's trial and
both told it (a probe: UpdateFinishedTrialError)."""


def _ownerless_and_old(frozen) -> bool:
    import datetime

    if frozen.user_attrs.get("owner") is not None:
        return False
    started = frozen.datetime_start
    return started is None or (datetime.datetime.now() - started).total_seconds() > OWNERLESS_S


def resume_rounds(study, search, base: dict, unfit=None, owner: str | None = None, budget: int | None = None) -> list[Stranded]:
    """The rounds an interrupted process left unfinished, each whole, oldest first.

    A trial is stranded when it is still RUNNING and its owner is a process of this host that
    no longer exists, or it records no owner (stores written before owners were recorded). A
    RUNNING trial of a live process, or of another host, is left to it. A stranded trial's
    parameters are drawn again: those already drawn read back, the rest drawn as for its number
    (the samplers are seeded per trial). Its round is replayed whole: the trials already pruned
    in it count in each rung's cut again (their runs are read back, not trained), so the same
    trials go on as in an uninterrupted search; a round left half asked gets the rest of its
    trials asked first (``owner``: this process), before any trial of the next round.
    """
    import optuna

    from lstmtune.study.runner import _is_dead

    running = optuna.trial.TrialState.RUNNING
    trials = study.get_trials(deepcopy=False)

    def identity(t):  # the round a trial belongs to: its round_id (stores before it: owner and round, as ask_round names it)
        return t.user_attrs.get("round_id") or f"{t.user_attrs.get('owner')}|{t.user_attrs.get('round')}"

    groups: dict = {}
    for frozen in trials:
        if frozen.state == running and (_ownerless_and_old(frozen) or (frozen.user_attrs.get("owner") is not None and _is_dead(frozen.user_attrs["owner"]))):
            groups.setdefault(identity(frozen), []).append(frozen)
    out = []
    for key, stranded in sorted(groups.items(), key=lambda kv: (kv[1][0].user_attrs.get("round") is None, kv[1][0].user_attrs.get("round") or 0, kv[1][0].number)):
        number = stranded[0].user_attrs.get("round")
        whole = number is not None and stranded[0].user_attrs.get("owner") is not None
        members = [t for t in trials if identity(t) == key] if whole else stranded  # the whole round
        points, reported, finished = [], {}, set()
        for frozen in members:
            if frozen.state == running:
                trial = optuna.trial.Trial(study, frozen._trial_id)
                trial.set_user_attr("owner", owner or new_owner())  # this process's now: another one leaves it alone
                reported[trial.number] = set(frozen.intermediate_values)
                point = _checked(study, trial, search, base, unfit)
            elif frozen.state == optuna.trial.TrialState.FAIL and frozen.user_attrs.get("error") != DIVERGED:
                point = None  # did not fit the data: never raced
            else:  # pruned, diverged or complete in the round: raced, told already
                point = (frozen, dict(frozen.params), resolve({**base, **frozen.params}, "search", f"trial {frozen.number}"))
                finished.add(frozen.number)
                reported[frozen.number] = set(frozen.intermediate_values)
            if point is not None:
                points.append(point)
        size = members[0].user_attrs.get("round_size")
        cut = any(t.user_attrs.get(BEYOND) for t in members)  # the round was cut at the budget: nothing is missing
        if whole and size is not None and len(members) < size and not cut:  # interrupted while the round was asked: the rest of it now
            points += ask_round(study, search, base, size - len(members), unfit=unfit, round_number=number, owner=owner, round_size=size, round_id=key, budget=budget)
        out.append(Stranded(number, sorted(points, key=lambda p: p[0].number), reported, finished))
    return out


def _unfit(spec: StudySpec, series: Series, config) -> str | None:
    """Why ``config`` cannot be trained on ``series`` in the selection or test phases (a batch
    larger than the training rows, say), or None: checked before training, so that one sampled
    point that does not fit fails alone instead of stopping the search."""
    point = GridPoint("search", "check", {}, config)
    phases = [*evaluation.selection_phases(spec, series, [point]), evaluation.test_phase(spec, series, [point])]
    try:
        for phase in phases:
            if phase is not None and phase.points:
                executor.validate(planner.plan(phase.spec, phase.points), phase.series)
    except SpecError as err:
        return str(err)
    return None


def race(study, search, asked: list[tuple], schedule: list[int], evaluate, reported: dict[int, set] | None = None, finished: set | None = None) -> int:
    """Successive halving of a round's trials over the rungs ``schedule`` (epoch counts).

    At each rung every surviving trial is evaluated (``evaluate(points)``: a
    :class:`lstmtune.workflow.study.Selection` of the points' runs), reported to Optuna, and the best
    ``1 / reduction_factor`` go on; the others are told as pruned. At the last rung the
    survivors are told complete with their value. Without a pruner the schedule is one
    rung and each trial keeps its own epochs. ``reported``: epochs a resumed trial reported
    before its process was interrupted (:func:`resume_rounds`), not reported again; ``finished``:
    the numbers of a replayed round's trials already told (pruned, failed or complete), which
    count in each rung's cut but are not told again. Returns the runs trained.
    """
    import optuna

    trainings, alive = 0, asked
    for epochs in schedule:
        if not alive:
            break
        last = epochs == schedule[-1]
        points = [
            GridPoint("search", f"trial {t.number}", params, c if search.pruner == "none" else dataclasses.replace(c, epochs=epochs))
            for t, params, c in alive
        ]
        # Trials are judged on the selection phases (validation or backtests): never the test set.
        sel = evaluate(points)
        trainings += sum(r.timings["runs_trained"] for r in sel.results)
        values = [objective(sel.runs[sel.runs["config"] == p.config.key][sel.metric].to_numpy(), search) for p in points]
        if not last:
            for (trial, _, _), v in zip(alive, values):
                if v is not None and epochs not in (reported or {}).get(trial.number, ()) and trial.number not in (finished or ()):
                    trial.report(v, step=epochs)
        ranked = sorted(range(len(alive)), key=lambda j: (values[j] is None, values[j] if values[j] is not None else 0.0))
        keep = set(ranked[: max(1, math.ceil(len(alive) / search.reduction_factor))]) if not last else set(range(len(alive)))
        survivors = []
        for j, ((trial, params, c), v) in enumerate(zip(alive, values)):
            told = trial.number in (finished or ())
            if told and (v is None or last or j not in keep):
                continue  # told when it was raced before the interruption
            if v is None:
                trial.set_user_attr("error", DIVERGED)
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            elif last:
                trial.set_user_attr("config", points[j].config.key)
                study.tell(trial, v)
            elif j in keep:
                survivors.append((trial, params, c))
            else:
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        alive = survivors
    return trainings


def _trial_point(spec: StudySpec, trial) -> GridPoint:
    """A finished trial's configuration (at its final epoch count)."""
    return GridPoint("search", f"trial {trial.number}", dict(trial.params), resolve({**base_params(spec), **trial.params}, "search", f"trial {trial.number}"))


def budget_of(search: SearchSpec) -> int | None:
    """The trials a search may try: ``trials``, at most the grid's size (None: no count, a time limit)."""
    if search.sampler == "grid":
        return grid_size(search) if search.trials is None else min(search.trials, grid_size(search))
    return search.trials


def _outcome(spec: StudySpec, series: Series, study, store: Store, wall_s: float, trainings: int, budget: int | None = None) -> SearchOutcome:
    """Collect the finished trials and their runs; score the best trial on the test set once.

    Only the trials numbered below ``budget`` count: a study file whose ``trials`` was lowered
    after more were stored gives the search that budget gives afresh (its first trials: the
    samplers are seeded per trial), and says so."""
    import optuna

    every = study.trials
    trials_in = in_budget(every, budget)
    kept = {t.number for t in trials_in}
    beyond = [t for t in counted(every) if t.number not in kept and t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
    rows = []
    for t in trials_in:
        if not t.state.is_finished():
            continue
        # A pruned trial's value was measured at fewer epochs than a complete one's: say at how many.
        at = t.last_step if t.state == optuna.trial.TrialState.PRUNED else t.params.get("epochs", spec.model.epochs)
        rows.append({"trial": t.number, "state": t.state.name, "value": t.value, "epochs_measured": at, **t.params, "config": t.user_attrs.get("config")})
    trials = pd.DataFrame(rows, columns=None if rows else ["trial", "state", "value", "epochs_measured", *spec.search.space, "config"])  # none: a header
    complete = [t for t in trials_in if t.state == optuna.trial.TrialState.COMPLETE]
    summary_spec = spec.model_copy(update={"runs": spec.runs.model_copy(update={"mode": "summary"})})
    points = list({p.config.key: p for p in (_trial_point(spec, t) for t in complete)}.values())
    metric, runs, test = "test_rmse" if spec.evaluation.selection == "test" else "validation_rmse", pd.DataFrame(), None
    if points:
        # Every run is in the store already: this reads them back (nothing is retrained).
        sel = study_mod.run_selection(summary_spec, series, store, points)
        runs, metric = sel.runs[sel.runs["repeat"] < spec.runs.repeats].reset_index(drop=True), sel.metric
        best = min(complete, key=lambda t: t.value)
        tested = study_mod.run_test(summary_spec, series, store, [_trial_point(spec, best)])
        if tested is not None:
            test_runs = tested[1].runs
            test = {"trial": best.number, "test_rmse": test_runs["test_rmse"].to_numpy(dtype=float)}
    labels = {row["config"]: f"trial {int(row['trial'])}" for _, row in trials.iterrows() if row["state"] == "COMPLETE"}
    outcome = SearchOutcome(spec, study, trials, runs, labels, wall_s, trainings, metric, test)
    if beyond:
        rounds = {t.user_attrs.get("round_id") for t in trials_in} & {t.user_attrs.get("round_id") for t in beyond}
        how = ("as a search of {b} trials gives them" if not rounds or spec.search.pruner == "none" else
               "though with the pruner their states were decided in rounds that held later trials too, so a search of {b} trials afresh may prune them otherwise")
        outcome.notices.append(f"search {spec.name!r}: {len(beyond)} more trial{'s are' if len(beyond) > 1 else ' is'} stored than the study file's budget "
                               f"of {budget}: the first {budget} are used, {how.format(b=budget)} (raise [search] trials to use them)")
    return outcome


def per_repeat(outcome: SearchOutcome) -> pd.DataFrame:
    """One row per (complete trial, repeat), as a study's ``results.csv``: the trial, its
    parameters, seed and selection metrics (joins ``trials.csv`` on ``trial``). The best trial's
    test score, scored once, is in ``search.html`` and the printed line, not here."""
    runs = outcome.runs
    done = completed(outcome.trials)
    if runs.empty or "config" not in runs or done.empty:  # no trial completed: a header-only table
        return pd.DataFrame(columns=["trial", "config", "repeat", "seed"])
    # every complete trial its own rows: trials that drew one configuration share its runs (they
    # were credited to the last of them, and the best trial could have none: a probe)
    parts = [runs[runs["config"] == key].assign(trial=int(number)) for number, key in zip(done["trial"], done["config"])]
    table = pd.concat(parts, ignore_index=True)
    table = table[["trial", *[c for c in table.columns if c != "trial"]]]
    return table.sort_values(["trial", "repeat"], kind="stable").reset_index(drop=True)


def top_groups(outcome: SearchOutcome, k: int = 5) -> dict[str, np.ndarray]:
    """The best ``k`` trials' selection metric per repeat, best first, labelled with their parameters."""
    done = completed(outcome.trials).sort_values("value").head(k)
    groups = {}
    params = [c for c in outcome.trials.columns if c not in ("trial", "state", "value", "config", "epochs_measured")]
    for _, row in done.iterrows():
        runs = outcome.runs[outcome.runs["config"] == row["config"]].sort_values("repeat")
        desc = ", ".join(f"{p}={_fmt(row[p])}" for p in params if not pd.isna(row[p]))
        groups[f"trial {int(row['trial'])}: {desc}"] = runs[outcome.metric].to_numpy(dtype=float)
    return groups


def completed(trials: pd.DataFrame) -> pd.DataFrame:
    """The complete trials with a value: the only ones ranked (pruned ones were measured at fewer epochs)."""
    if not len(trials):  # no trial at all (a time limit spent before the first): the columns, no rows
        return trials.reindex(columns=list(dict.fromkeys(["trial", "state", "value", "config", *trials.columns]))).astype({"value": float})
    return trials[(trials["state"] == "COMPLETE") & trials["value"].notna()]


def failure_note(outcome: SearchOutcome) -> str | None:
    """Why no trial completed, one line (None when one did): failed trials counted by reason."""
    import collections
    import re

    if len(completed(outcome.trials)):
        return None
    listed = set(outcome.trials["trial"]) if len(outcome.trials) else set()
    trials = [t for t in outcome.study.trials if t.number in listed]  # the search's own (within its budget)
    states = collections.Counter(t.state.name.lower() for t in trials if t.state.is_finished())
    if not states:
        return "no trial finished (the search's budget or timeout ended it first)"
    reasons = collections.Counter(
        re.sub(r"^grids\.search \(trial \d+\): (Value error, )?", "", t.user_attrs.get("error", "no reason recorded"))
        for t in trials
        if t.state.name == "FAIL"
    )
    counts = ", ".join(f"{n} {dict(fail='failed').get(state, state)}" for state, n in sorted(states.items()))
    why = "; ".join(f"{n}: {reason}" for reason, n in reasons.most_common(3))
    return f"no trial completed: {counts}" + (f" ({why})" if why else "")


def _fmt(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def write_report(
    outcome: SearchOutcome,
    out: Path,
    persistence_rmse: float,
    curves: dict[str, np.ndarray] | None = None,
    *,
    curves_persistence: float,
    test_persistence: float | None = None,
) -> Path:
    """Optimisation history, parameter importances, top-k table with CIs and box plot -> ``search.html``
    (drawn by :mod:`lstmtune.report.search_html`), with ``trials.csv`` and ``results.csv``.
    ``curves_persistence``: persistence's one-step RMSE on the holdout the curves score
    (:func:`lstmtune.study.evaluation.curves_persistence`; the trials' ``persistence_rmse`` is
    averaged over backtest folds, at H steps)."""
    from lstmtune.selection import stats
    from lstmtune.report import search_html

    trials = outcome.trials
    importances, note = _importances(outcome)
    groups = top_groups(outcome)
    trials.to_csv(out / "trials.csv", index=False)
    per_repeat(outcome).to_csv(out / "results.csv", index=False)
    return search_html.write(
        out,
        spec=outcome.spec,
        trials=trials,
        complete=completed(trials),
        importances=importances,
        importance_note=note,
        groups=groups,
        table=stats.summary_table(groups, baseline_rmse=persistence_rmse) if groups else None,
        curves=curves or {},
        persistence_rmse=persistence_rmse,
        curves_persistence=curves_persistence,
        metric_name=_metric_words(outcome),
        test=_test_summary(outcome, test_persistence),
        wall_s=outcome.wall_s if outcome.wall_total_s is None else outcome.wall_total_s,
        trainings=outcome.trainings if outcome.trainings_total is None else outcome.trainings_total,
        failure=outcome.failure,
    )


def _metric_words(outcome: SearchOutcome) -> str:
    return "test RMSE" if outcome.metric == "test_rmse" else "validation RMSE"


def _test_summary(outcome: SearchOutcome, test_persistence: float | None) -> dict | None:
    """The best trial's test RMSE (scored once), with the 95% interval of its mean."""
    from lstmtune.selection import stats

    if outcome.test is None or test_persistence is None:
        return None
    values = outcome.test["test_rmse"]
    if not np.isfinite(values).any():
        return {"trial": outcome.test["trial"], "mean": float("nan"), "diverged": True}
    row = stats.summary_table({"best": values}, baseline_rmse=test_persistence).iloc[0]
    return {
        "trial": outcome.test["trial"],
        "mean": float(row["mean"]),
        "ci": (float(row["mean_ci_low"]), float(row["mean_ci_high"])),
        "n": int(row["count"]),
        "skill": float(row["skill_%"]),
        "persistence": test_persistence,
        "diverged": False,
    }


def _importances(outcome: SearchOutcome) -> tuple[dict[str, float], str | None]:
    import warnings

    import optuna

    try:
        with warnings.catch_warnings(record=True) as caught:  # e.g. too few trials: said in the report, not on stderr
            warnings.simplefilter("always")
            importances = dict(optuna.importance.get_param_importances(outcome.study))
    except (RuntimeError, ValueError) as err:
        return {}, f"parameter importances unavailable: {err}"
    return importances, "; ".join(dict.fromkeys(str(w.message) for w in caught)) or None


def run(
    spec: StudySpec,
    out: Path,
    *,
    storage: str | None = None,
    on_round: Callable[[int, int | None], None] | None = None,
    on_epochs: Callable[[planner.Population, int, int], None] | None = None,
    inputs: tuple[Path, ...] = (),
    max_runs: int | None = None,
) -> tuple[SearchOutcome, Path]:
    """Run ``spec``'s search into the run directory ``out`` and write ``search.html``.

    Returns:
      The outcome and the report's path.
    """
    from lstmtune.selection import baselines
    from lstmtune.store.fileio import atomic_outputs, writers_in_turn
    from lstmtune.store import default_url
    from lstmtune.workflow.study import load_series

    if spec.search is None:
        raise SpecError(f"{spec.name}: the study file has no [search] section")
    series = load_series(spec)
    base = base_params(spec)
    probe = planner.plan(spec, [GridPoint("search", "base", {}, resolve(base, "search", "base"))])
    study_mod.check_fits(spec, series, probe)  # data and split fit the settings, in every selection phase too: fail before writing anything
    check_space_fits(spec, series)
    study_mod.check_scoreable(spec, series)  # a constant holdout: skill undefined, said as `run` says it
    from lstmtune.study.budget import check_search

    check_search(spec, len(series), max_runs=max_runs)  # trainings and memory: refused before anything is written
    out, opened = study_mod.claim_with_store(out, storage, name=spec.name, kind="search", inputs=[*inputs, *study_mod._data_inputs(spec)])
    with optuna_storage(storage or default_url(out)) as optuna_store:  # closed last: the report reads the trials
        with opened as store:
            searched = search_rounds(spec, series, store, optuna_store, on_round=on_round, on_epochs=on_epochs)
            # Processes searching one directory write in turn, each reading the trials once its turn
            # comes: one that finished its rounds while another still trained the last trials would
            # otherwise move its older view into place after the fuller one (a probe).
            with writers_in_turn(out):
                outcome = outcome_of(searched, series, store)
                outcome = dataclasses.replace(outcome, failure=failure_note(outcome))  # read while Optuna's storage is open
                curves = diagnose_best(outcome, series, store)  # the diagnostic reruns are stored too: a rerun reads them back
                # Trials are scored on the selection holdout: their skill is against persistence there
                # (averaged over backtest folds); the best trial's test score is against the test split's.
                phases = evaluation.selection_phases(spec, series, [])
                horizon = spec.evaluation.horizon  # the trials' and the test's scores are of H-step forecasts: persistence's too
                persistence = float(np.mean([baselines.persistence_rmse(ph.series.values, ph.spec.data.test_size, horizon) for ph in phases]))
                test_persistence = baselines.persistence_rmse(series.values, spec.data.test_size, horizon)
                with atomic_outputs(out, writer="lstmtune search") as tmp:  # the curves are diagnose_best's, of the first selection phase
                    path = write_report(outcome, tmp, persistence, curves, test_persistence=test_persistence,
                                        curves_persistence=evaluation.curves_persistence(spec, series))
                    from lstmtune.study import results_io
                    from lstmtune.study import spec as spec_mod

                    (tmp / "study.toml").write_text(spec_mod.dumps(spec))  # with series.csv: `lstmtune fit` reads them
                    results_io.write_series(series, tmp)
    return outcome, out / path.name


def _elsewhere(spec: StudySpec, study, budget: int | None) -> list[str]:
    """A notice when trials of this search's budget are RUNNING in another live process: this
    process's result is then of the trials finished so far (a probe: the process finishing first
    printed another best trial and test score than the one finishing last)."""
    import optuna

    n = sum(t.state == optuna.trial.TrialState.RUNNING for t in in_budget(study.trials, budget))
    if not n:
        return []
    return [f"search {spec.name!r}: {n} trial{'s are' if n > 1 else ' is'} still being trained by another process of this search; this result is of the trials finished now, "
            "and the process that finishes last writes the search's outputs"]


def trial_points(spec: StudySpec, trials: pd.DataFrame) -> list[GridPoint]:
    """The configurations of ``trials`` (rows of ``trials.csv``), labelled ``trial N``."""
    base = base_params(spec)
    params = [c for c in trials.columns if c not in ("trial", "state", "value", "config", "epochs_measured")]
    points = []
    for _, row in trials.iterrows():
        # NumPy scalars as Python values, each coerced to its parameter's type (a row of
        # numbers reads back as floats: units 2.0 must give the configuration of units 2)
        chosen = {p: _check_value(f"trials.csv: {p}", p, row[p].item() if isinstance(row[p], np.generic) else row[p]) for p in params if not pd.isna(row[p])}
        label = f"trial {int(row['trial'])}"
        points.append(GridPoint("search", label, chosen, resolve({**base, **chosen}, "search", label)))
    return points


def read_run(directory: Path) -> tuple[StudySpec, Series, list[GridPoint], dict[str, str]]:
    """A finished search's run directory: ``(spec, series, complete trials' points, {"search": best label})``.

    The best trial is the one the search ranked first (lowest objective among the complete trials).

    Raises:
      LstmtuneError: the directory lacks a file, or a trial's configuration does not read back.
    """
    from lstmtune.errors import LstmtuneError
    from lstmtune.store.fileio import check_outputs_whole
    from lstmtune.study import results_io
    from lstmtune.study import spec as spec_mod

    directory = Path(directory)
    check_outputs_whole(directory)
    for name in ("trials.csv", "study.toml", "series.csv"):
        if not (directory / name).is_file():
            raise LstmtuneError(f"{directory}: missing {name}; not a complete search run directory (rerun `lstmtune search`: stored trials are not retrained)")
    spec = spec_mod.load(directory / "study.toml")
    series = results_io.read_series(directory, str(spec.data.source))
    try:
        trials = completed(pd.read_csv(directory / "trials.csv", float_precision="round_trip"))  # exact floats: the configuration keys must read back
    except pd.errors.EmptyDataError:  # written empty by a search none of whose trials finished (before it got its header)
        trials = pd.DataFrame()
    if trials.empty:
        raise LstmtuneError(f"{directory}: no trial of the search completed; nothing to fit")
    points = trial_points(spec, trials)
    for point, key in zip(points, trials["config"]):
        if point.config.key != key:
            raise LstmtuneError(f"{directory / 'trials.csv'}: {point.label}'s parameters do not give its configuration {key}")
    best = f"trial {int(trials.sort_values('value', kind='stable').iloc[0]['trial'])}"
    return spec, series, points, {"search": best}


def diagnose_best(outcome: SearchOutcome, series: Series, store=None, k: int = 3) -> dict[str, np.ndarray]:
    """Per-epoch train and holdout RMSE of the best ``k`` trials (``runs.diagnostic_repeats`` repeats
    each), the holdout the trials were chosen on (validation, or the first backtest fold; the test
    set under ``selection = "test"``).

    The search itself scores trials only at their final epoch; these diagnostic runs
    (same seeds as the trials' first repeats) show how the best ones got there. They
    are a study of their own phase (``PHASE-diagnostics``) in ``store`` (default: in
    memory), so a rerun of a finished search reads them back instead of retraining.
    """
    spec = outcome.spec
    done = completed(outcome.trials)
    if done.empty:  # no trial completed (a time limit spent before the first, say): nothing to diagnose
        return {}
    best = done.sort_values("value").head(k)
    points = [dataclasses.replace(p, study="best") for p in trial_points(spec, best)]
    diag = spec.model_copy(update={"runs": spec.runs.model_copy(update={"mode": "diagnostic"})})
    phase = evaluation.selection_phases(diag, series, points)[0]  # curves of the selection holdout, not the test
    plan = dataclasses.replace(planner.plan(phase.spec, points), phase=f"{phase.name}-diagnostics")
    results = executor.execute(plan, phase.series, store)
    return {p.label: results.curves[p.config.key] for p in points if p.config.key in results.curves}
