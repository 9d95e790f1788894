"""Run a study end to end: plan, train, analyse, write the run directory and report.

Results live in a store (``study.db`` in the run directory by default), committed
population by population. The derived outputs (tables, figures, report) are built
in a temporary folder inside the run directory and moved into place only when all
are written, so a failure or an interruption never leaves half-written outputs.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lstmtune.study import analysis as analysis_mod
from lstmtune.selection import baselines as baselines_mod
from lstmtune.study import budget
from lstmtune.study import evaluation
from lstmtune.study import executor
from lstmtune.study import planner
from lstmtune.study import results_io
from lstmtune.study.results import StudyResults, summary_repeat_count
from lstmtune.data.series import Series, load
from lstmtune.errors import LstmtuneError, SpecError
from lstmtune.store.fileio import atomic_outputs, check_plots, claim_run_dir
from lstmtune.store import Store, default_url, open_store
from lstmtune.report import html
from lstmtune.study.spec import StudySpec

if TYPE_CHECKING:
    import pandas as pd


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A finished study. ``analysis`` is None when every run diverged (the report says so)."""

    results: StudyResults
    analysis: analysis_mod.Analysis | None
    directory: Path
    wall_s: float


STUDY_KEYS = {"--missing ": "[data] missing = ", "--value-column": "[data] value_column", "--date-column": "[data] date_column",
              "--date-format": "[data] date_format"}
"""The reader's options as a study file names them: its messages suggest these instead."""


def load_series(spec: StudySpec) -> Series:
    """The study's series (its ``[data]`` section), a bad file named in one line that suggests
    the study keys to set, not command-line options ``lstmtune run`` does not have."""
    from lstmtune.errors import DataError

    d = spec.data
    try:
        # a gap filled apart from the test split: no value the selection reads is made of a test observation
        return load(d.source, date_column=d.date_column, value_column=d.value_column, date_format=d.date_format, missing=d.missing, covariates=d.covariates,
                    apart=d.test_size)
    except DataError as err:
        from lstmtune.data import panel

        if "duplicate date" in str(err) and Path(str(d.source)).is_file() and panel.is_panel_file(d.source):
            raise DataError(f"{d.source}: a long panel (it has a unique_id column), where [data] source reads one series: "
                            f"run the study on every series with `lstmtune run STUDY --data {d.source}`") from None
        text = str(err)
        for flag, key in STUDY_KEYS.items():
            text = text.replace(flag, key)
        if text == str(err):
            raise
        raise DataError(text) from None


def as_spec(spec) -> StudySpec:
    """``spec`` itself, or one clear error: a dict was refused as "'dict' object has no attribute
    'model'" (a probe).

    Raises:
      TypeError: not a study.
    """
    if not isinstance(spec, StudySpec):
        raise TypeError(f"expected a study (lstmtune.study_from_dict(d), lstmtune.load_study(path), lstmtune.default_study()); got a {type(spec).__name__}")
    return spec


def as_series(series) -> Series:
    """``series`` as the study trains on it: a :class:`Series`, or what
    :func:`lstmtune.data.sources.load_series` reads (a pandas object, a built-in name, a CSV
    path). A path's length was taken as the series' (``plan(spec, "shampoo")`` planned 7
    observations) and a pandas Series failed on ``.dates`` (a probe)."""
    if isinstance(series, Series):
        return series
    from lstmtune.data.sources import load_series as read

    return read(series)


def run(
    spec: StudySpec,
    out: Path,
    *,
    storage: str | None = None,
    on_population: Callable[[int, int, planner.Population], None] | None = None,
    on_epochs: Callable[[planner.Population, int, int], None] | None = None,
    started: float | None = None,
    extra_report: Callable[[StudyResults, analysis_mod.Analysis], dict] | None = None,
    inputs: Sequence[Path] = (),
    max_runs: int | None = budget.DEFAULT_MAX_RUNS,
    trainer=None,
    series: Series | None = None,
) -> Outcome:
    """Run ``spec``, keeping results in a store, and write the outputs to ``out``.

    Runs already in the store are not recomputed: rerunning an interrupted study
    computes only what is missing, and several processes may run one study at once.

    Args:
      spec: the validated study.
      out: the run directory (created; outputs in it are replaced).
      storage: a SQLAlchemy URL for the results store; default: ``out/study.db`` (SQLite).
      on_population: progress callback ``(done, total, population)``.
      on_epochs: progress callback ``(population, epochs_done, epochs_total)``.
      started: ``time.perf_counter()`` at process start, for the reported wall time.
      extra_report: returns extra HTML blocks for the report (used by ``reproduce``).
      inputs: files the study reads besides its data (the study file): never overwritten.
      max_runs: refuse a study that plans more trainings (None: no limit).
      trainer: what trains the populations (:class:`lstmtune.study.executor.LocalExecutor`
        by default; :class:`lstmtune.study.ray_executor.RayExecutor` for a cluster).
      series: the data, given (one series of a panel); default: read from ``spec.data``.

    Raises:
      LstmtuneError: ``out`` is not a new, empty or lstmtune run directory (see
        :func:`lstmtune.store.fileio.claim_run_dir`), or the study does not fit its data.
    """
    t0 = started if started is not None else time.perf_counter()
    spec = as_spec(spec)
    given = series is not None
    series = as_series(series) if given else load_series(spec)
    budget.check(spec, len(series), max_runs=max_runs)  # size and memory: refused before anything is written
    check_scoreable(spec, series)
    plan = planner.plan(spec)
    check_fits(spec, series, plan)  # bad settings fail here, before anything is written
    out, opened = claim_with_store(out, storage, name=spec.name, kind="study", inputs=[*inputs, *([] if given else _data_inputs(spec))])
    with opened as store:
        watch = Watcher(out, spec, store, on_population)
        results = execute(spec, series, store, on_population=watch, on_epochs=on_epochs, trainer=trainer)
    try:
        analysis = analysis_mod.analyse(results)
    except analysis_mod.AllDiverged:
        # Nothing to compare, but the runs are real results: write them and a report that says so.
        results.timings["wall_s"] = time.perf_counter() - t0
        with atomic_outputs(out, remove=CONDITIONAL_OUTPUTS) as tmp:  # an earlier study's summary and figures go
            results_io.write(results, tmp)
            html.render_all_diverged(results, tmp)
        return Outcome(results, None, out, results.timings["wall_s"])
    extra = extra_report(results, analysis) if extra_report else None
    wall = time.perf_counter() - t0  # up to the outputs: recorded in them
    results.timings["wall_s"] = wall
    _keep_first_timings(results, out)
    key = _test_key(results, analysis)
    with atomic_outputs(out, remove=CONDITIONAL_OUTPUTS) as tmp:
        # The figures are drawn (by the drawing helpers) while this process computes the test
        # period's forecasts and writes the tables.
        figures = html.start_figures(results, analysis, tmp / "plots", reuse=out / "plots")
        try:
            paths = _test_paths(results, analysis, out if _stamped_key(out) == key else None)  # a rerun of the same study reads them back
            results_io.write(results, tmp)
            _stamp_key(tmp, key)
            analysis_mod.combined_table(analysis, results.points).to_csv(tmp / "summary.csv", index_label="config")
            if paths is not None:
                paths.table().to_csv(tmp / TEST_FORECASTS, index=False)
            html.render(results, analysis, tmp, wall_s=wall, extra=extra, test_paths=paths, reuse=out / "plots", started=figures)
        except BaseException:
            figures.cancel()  # nothing more is drawn into the outputs being discarded
            raise
    return Outcome(results, analysis, out, wall)


TEST_FORECASTS = "test_forecasts.csv"
CONDITIONAL_OUTPUTS = ("summary.csv", TEST_FORECASTS, "plots")
"""Outputs a study writes only when something was compared (its forecasts of the test period:
only where they could be computed): an earlier run's are removed when this one writes none, so
that they never stand beside other results (``lstmtune.results`` read them as this study's)."""
TEST_KEY = "test_forecasts_key"  # in environment.json: what test_forecasts.csv was computed from


def _test_key(results: StudyResults, analysis: analysis_mod.Analysis) -> str:
    """What the test-period forecasts depend on: the data and every setting (the study's
    fingerprint), the configuration chosen, and this version of lstmtune."""
    from lstmtune._version import __version__
    from lstmtune.study import identity

    study, label, _ = analysis.best_overall()
    return identity.digest({"study": identity.fingerprint(results.spec, results.series), "chosen": [study, label], "lstmtune": __version__})


def _stamped_key(out: Path) -> str | None:
    """The key of the test forecasts a finished run in ``out`` wrote, if any."""
    import json

    try:
        return json.loads((Path(out) / "environment.json").read_text()).get(TEST_KEY)
    except (OSError, ValueError, AttributeError):
        return None


def _stamp_key(directory: Path, key: str) -> None:
    import json

    env = Path(directory) / "environment.json"
    meta = json.loads(env.read_text())
    meta[TEST_KEY] = key
    env.write_text(json.dumps(meta, indent=2))


def _scored_as_drawn(paths, runs, horizon: int, rtol: float = 1e-4) -> bool:
    """Whether saved one-step forecasts of the test are those its scores came from (each scored
    repeat's RMSE within ``rtol``); a table written otherwise (before ``refit = false`` drew the
    model the test scored) is computed again. Multi-step scores (``horizon`` > 1) are not one-step
    RMSEs: not compared."""
    import numpy as np

    if horizon != 1:
        return True
    drawn = paths.rmse()
    scored = runs.dropna(subset=["test_rmse"])
    return all(0 <= int(r) < len(drawn) and np.isclose(drawn[int(r)], v, rtol=rtol, atol=0) for r, v in zip(scored["repeat"], scored["test_rmse"]))


def _test_paths(results: StudyResults, analysis: analysis_mod.Analysis, directory: Path | None = None):
    """The best configuration's forecasts of the test period (:mod:`lstmtune.forecast.testpaths`), or None.

    ``directory``: a finished run's, whose ``test_forecasts.csv`` is read back
    when it is of the same configuration (no retraining).
    """
    import pandas as pd

    from lstmtune.forecast import testpaths

    study, label, _ = analysis.best_overall()
    saved = directory / TEST_FORECASTS if directory is not None else None
    if saved is not None and saved.is_file():
        try:
            table = pd.read_csv(saved, parse_dates=["date"], float_precision="round_trip")
            key = next(p.config.key for p in results.points if p.study == study and p.label == label)
            runs = results.runs
            tested = runs.loc[(runs["config"] == key) & runs["test_rmse"].notna(), "repeat"]
            repeats = set(range(int(tested.max()) + 1)) if len(tested) else set()  # the repeats testpaths.compute forecasts
            # the study's repeats now, not those of the run that wrote the table: a study rerun
            # with other repeats kept the old table (8 repeats' forecasts beside 10 runs; a probe)
            if str(table["config"].iloc[0]) == key and str(table["study"].iloc[0]) == study and set(table["repeat"].astype(int)) == repeats:
                paths = testpaths.from_table(table, results.series, results.spec.data.test_size)
                if _scored_as_drawn(paths, runs[runs["config"] == key], results.spec.evaluation.horizon):
                    return paths
        except (LstmtuneError, KeyError, IndexError, ValueError):
            pass  # recomputed below
    try:
        return testpaths.compute(results, study, label)
    except LstmtuneError as err:  # e.g. the retraining diverged: the report goes without the figure
        results.notices.append(f"forecasts of the test period not drawn: {err}")
        return None


def report(directory: Path) -> Path:
    """Regenerate ``report.html`` (and the figures) from a run directory's stored results.

    Raises:
      LstmtuneError: not a complete run directory, or one that cannot be written.
    """
    import os

    from lstmtune.errors import LstmtuneError

    directory = Path(directory)
    if directory.is_symlink():
        raise LstmtuneError(f"{directory}: is a symbolic link; give the real run directory (outputs are never written through links)")
    results, _ = results_io.read(directory, repairing="lstmtune report")  # a report killed while moving its figures in: redrawn
    if not os.access(directory, os.W_OK):  # say so before drawing, not with a temporary file's name
        raise LstmtuneError(f"{directory}: the run directory is read-only; `lstmtune report` rewrites report.html and plots/ there")
    check_plots(directory, str(directory), "move it, then run `lstmtune report` again")  # as `run` refuses it: replacing plots/ would delete it
    try:
        analysis = analysis_mod.analyse(results)
    except analysis_mod.AllDiverged:
        analysis = None
    # Drawn aside, then moved into place: a failure leaves the old report, and a
    # symbolic link at report.html or plots/ is refused, never written through.
    paths = None if analysis is None else _test_paths(results, analysis, directory)
    with atomic_outputs(directory, writer="lstmtune report") as tmp:
        if analysis is None:
            html.render_all_diverged(results, tmp)
        else:
            if paths is not None:
                paths.table().to_csv(tmp / TEST_FORECASTS, index=False)
            html.render(results, analysis, tmp, wall_s=results.timings.get("wall_s"), test_paths=paths, reuse=directory / "plots", environment=_recorded_environment(directory))
    return directory / "report.html"


def _recorded_environment(directory: Path) -> dict | None:
    """The environment the run recorded in ``environment.json`` (None: none readable)."""
    import json

    try:
        env = json.loads((directory / "environment.json").read_text()).get("environment")
    except (OSError, ValueError, AttributeError):
        return None
    return env if isinstance(env, dict) and isinstance(env.get("devices"), (list, str)) and isinstance(env.get("versions"), dict) else None


def _keep_first_timings(results: StudyResults, out: Path) -> None:
    """A rerun that trained nothing keeps the timings of the run that did the work
    (its own are kept as ``rerun_*``), so a report never claims "0.3 s of training"."""
    import json

    env = Path(out) / "environment.json"
    if results.timings.get("runs_trained", 0) or not env.is_file():
        return
    try:
        first = json.loads(env.read_text())["timings"]
    except (OSError, ValueError, KeyError):
        return
    now = dict(results.timings)
    results.timings.clear()
    results.timings.update(first)
    results.timings["runs_trained_now"] = 0
    results.timings["rerun_wall_s"] = now.get("wall_s")


def check_scoreable(spec: StudySpec, series: Series) -> None:
    """Refuse, before training, holdouts on which skill is undefined (persistence is exact there).

    Raises:
      DataError: a constant stretch of the series makes the persistence RMSE 0
        (:func:`lstmtune.selection.baselines.check_scoreable`, which ``lstmtune baseline`` applies too).
    """
    holdouts = [(ph.name, ph.series, ph.spec.data.test_size) for ph in evaluation.selection_phases(spec, series, [])]
    if spec.evaluation.selection != "test":
        holdouts.append(("test", series, spec.data.test_size))
    for name, s, n in holdouts:
        baselines_mod.check_scoreable(s.values, n, name=series.name, split=name)


def claim_with_store(out: Path, storage: str | None, **claim) -> tuple[Path, Store]:
    """``out`` claimed (:func:`~lstmtune.store.fileio.claim_run_dir` with ``claim``) and the results
    store opened: a given ``storage`` first, so that a bad URL or an unreachable server is refused
    before ``out`` is claimed; else ``out``'s own ``study.db``."""
    given = open_store(storage) if storage else None
    try:
        out = claim_run_dir(Path(out), **claim)
    except BaseException:
        if given is not None:
            given.close()
        raise
    return out, given if given is not None else open_store(default_url(out))


def check_fits(spec: StudySpec, series: Series, plan: planner.Plan) -> None:
    """Refuse, before anything is written, settings that do not fit the data in any phase: the
    test phase (``plan``) and each selection phase (its shorter series, ``validation_size`` held out).

    Raises:
      SpecError: naming the keys involved.
    """
    executor.validate(plan, series)
    # a selection phase's populations differ from the test phase's only in their framing's
    # test_size (planner.framing_of): its problems are checked from the plan's, not planned again
    keys = {executor.problem_key(pop) for pop in plan.populations}
    for ph in evaluation.selection_phases(spec, series, plan.points):
        if ph.name == "test":
            continue
        for framing, batch in keys:
            try:
                executor.prepare_checked(ph.series, dataclasses.replace(framing, test_size=ph.spec.data.test_size), batch, "evaluation.validation_size")
            except SpecError as err:
                raise SpecError(f"{err} (selection phase {ph.name}: the first {len(ph.series)} of {len(series)} observations)") from None


def _fit_memory(plan: planner.Plan, n_observations: int) -> planner.Plan:
    """Split populations too large for this machine's memory (see :func:`budget.split`)."""
    return dataclasses.replace(plan, populations=budget.split(plan.populations, n_observations))


def _data_inputs(spec: StudySpec) -> list[Path]:
    """The study's data file, when it is a file (not a built-in name)."""
    from lstmtune.data.series import BUILTINS

    return [] if spec.data.source in BUILTINS else [Path(spec.data.source)]


def _baseline_scores(spec: StudySpec, series: Series, holdout: int) -> dict[str, dict[str, float]]:
    return {b.name: b.scores for b in baselines_mod.for_study(spec, series, holdout)}


def _mean_scores(per_fold: list[dict[str, dict[str, float]]], lags: int) -> dict[str, dict[str, float]]:
    """Baseline scores averaged over backtest folds (baselines present in every fold, matched by
    procedure: the AIC's autoregression may choose another order in each fold, and is then
    named ``AR(p) AIC``)."""
    from lstmtune.selection.baselines import procedure, row_of

    out = {}
    for name in dict.fromkeys(n for fold in per_fold for n in fold):
        rows = [row_of(name, fold, lags) for fold in per_fold]
        if None in rows or procedure(name) in {procedure(n) for n in out}:
            continue
        named = rows[0] if len(set(rows)) == 1 else procedure(name)
        out[named] = {m: float(np.mean([f[r][m] for f, r in zip(per_fold, rows)])) for m in per_fold[0][rows[0]]}
    return out


def _choose(spec: StudySpec, sel) -> dict:
    """The selection, on the summary's repeats only: with ``diagnostic_repeats`` above
    ``repeats`` every configuration trains more repeats (for the diagnostic curves), and the
    choice was made on their mean while the summary table, its ranking and the test score use
    the first ``repeats`` (a configuration was tested that the table did not rank first).
    Under ``mode = "diagnostic"`` the summary's repeats are ``diagnostic_repeats`` (choosing on
    ``repeats``, which that mode does not run, chose on fewer runs than the table ranked)."""
    return evaluation.select(sel.runs[sel.runs["repeat"] < summary_repeat_count(spec)], sel.points, sel.metric)


def execute(
    spec: StudySpec,
    series: Series,
    store: Store,
    *,
    on_population: Callable[[int, int, planner.Population], None] | None = None,
    on_epochs: Callable[[planner.Population, int, int], None] | None = None,
    trainer=None,
) -> StudyResults:
    """Run the study's phases (:func:`lstmtune.study.evaluation.protocol`) against ``store``, in order.

    Selection phases train every configuration on data that ends before the test
    set; the test phase then scores the selected configurations (every one with
    ``evaluation.test_all``). Under ``selection = "test"`` one phase does both.

    Returns:
      The results: one row per (configuration, repeat) with ``validation_*``
      (NaN under the tutorial's protocol) and ``test_*`` metrics (NaN where not
      tested), the selection metric and the selected configurations.
    """
    t0 = time.perf_counter()
    progress = _Progress(on_population)
    phases = evaluation.protocol(spec, series)
    plans = {ph.name: _plan(ph, progress) for ph in phases if ph.role == "select"}  # every selection phase checked first
    done: list[tuple[evaluation.Phase, StudyResults]] = []
    sel, chosen = None, {}
    for phase in phases:
        if phase.role == "test":  # selection is over: choose, then score the choice once
            sel = _selection(spec, done)
            chosen = _choose(spec, sel)
            phase = evaluation.with_points(phase, sel.points if spec.evaluation.test_all else list(chosen.values()))
            if not phase.points:
                continue
        plan = plans.get(phase.name) if phase.role == "select" else _plan(phase, progress)
        # the weights trained on every observation before the test serve the report's test forecasts
        keep = spec.evaluation.selection == "test" or (phase.role == "test" and spec.evaluation.refit and frozenset(p.config.key for p in chosen.values()))
        done.append((phase, executor.execute(plan, phase.series, store, on_population=progress, on_epochs=on_epochs, executor=trainer, keep_weights=keep)))
    if sel is None:  # the tutorial's protocol: the one phase selected and tested
        sel = _selection(spec, done)
        chosen = _choose(spec, sel)
    tested = [r for ph, r in done if ph.role == "test"]
    runs = sel.runs if spec.evaluation.selection == "test" else evaluation.merge_test(sel.runs, tested[0].runs if tested else None)
    runs = _tidy(runs[evaluation.column_order(runs.columns)], sel.points)
    if spec.evaluation.selection == "test":
        sel_base = done[0][1].baselines
    else:
        sel_base = _mean_scores([_baseline_scores(spec, ph.series, ph.spec.data.test_size) for ph, _ in done if ph.role == "select"], spec.transforms.lags)
    results = [r for _, r in done]
    counts = [dict(c, phase=ph.name) for ph, r in done for c in r.counts]
    return StudyResults(
        spec=spec,
        points=sel.points,
        runs=runs,
        curves=results[0].curves,
        baselines=_baseline_scores(spec, series, spec.data.test_size),
        counts=counts,
        timings={
            "train_s": time.perf_counter() - t0,
            "runs_trained": sum(r.timings.get("runs_trained", 0) for r in results),
            # every phase's runs, as `plan` counts them (the command's last line said the selection's alone)
            "runs_selecting": sum(len(r.runs) for ph, r in done if ph.role == "select"),
            "runs_testing": sum(len(r.runs) for ph, r in done if ph.role == "test"),
            "selection_phases": sum(ph.role == "select" for ph, _ in done),
            "populations_trained": sum(r.timings.get("populations_trained", 0) for r in results),
        },
        series=series,
        selection_metric=sel.metric,
        selected={study: p.label for study, p in chosen.items()},
        selection_baselines=sel_base,
        notices=list(series.notes) + list(dict.fromkeys(n for r in results for n in r.notices)),
        trained={key: runs_ for r in results for key, runs_ in r.trained.items()},
    )


def _plan(phase: evaluation.Phase, progress=None) -> planner.Plan:
    """A phase's populations, split to fit memory and checked against its data (before training)."""
    plan = _fit_memory(dataclasses.replace(planner.plan(phase.spec, phase.points), score_last=phase.score_last, phase=phase.name), len(phase.series))
    executor.validate(plan, phase.series)
    if isinstance(progress, _Progress):
        progress.expect(plan)
    return plan


def _selection(spec: StudySpec, done: Sequence[tuple[evaluation.Phase, StudyResults]]) -> "Selection":
    """The selection phases' runs combined: per (configuration, repeat), ``validation_*``
    metrics (the mean over backtest folds), or the ``test_*`` ones under ``selection = "test"``
    (with NaN ``validation_*`` and ``tested`` true), and the selection metric's name."""
    phases = tuple(ph for ph, _ in done if ph.role == "select")
    results = tuple(r for ph, r in done if ph.role == "select")
    if spec.evaluation.selection == "test":
        runs = results[0].runs.copy()
        for m in evaluation.METRICS:
            runs.insert(runs.columns.get_loc("test_rmse"), f"validation_{m}", np.nan)
        runs["tested"] = True
        metric = "test_rmse"
    else:
        runs = evaluation.combine_folds([r.runs for r in results])
        metric = "validation_rmse"
    return Selection(list(results[0].points), runs, metric, phases, results)


def _tidy(runs, points) -> "pd.DataFrame":
    """Give every run row its configuration's label and sub-studies (files join on them)."""
    labels, studies = {}, {}
    for p in points:
        labels.setdefault(p.config.key, p.label)
        studies.setdefault(p.config.key, []).append(p.study)
    runs = runs.copy()
    runs.insert(1, "label", runs["config"].map(labels))
    runs.insert(2, "study", runs["config"].map(lambda k: ";".join(dict.fromkeys(studies.get(k, [])))))
    return runs


REFRESH_S = 15.0
"""Seconds between refreshes of the in-progress report during a run (:class:`Watcher`)."""


class Watcher:
    """Refreshes ``report.html`` while a study runs, at most every :data:`REFRESH_S`
    seconds after a population finishes: the runs stored so far, their mean score per
    configuration and phase, and how many populations are done. Written atomically (a
    temporary file renamed over it); the final report replaces it at the end.
    """

    def __init__(self, out: Path, spec: StudySpec, store: Store, callback=None, every_s: float | None = None):
        self.out, self.spec, self.store, self.callback = Path(out), spec, store, callback
        self.every_s = REFRESH_S if every_s is None else every_s
        self.last = time.perf_counter()
        self.labels = {p.config.key: p.label for p in planner.expand(spec)}

    def __call__(self, done: int, total: int, pop: planner.Population) -> None:
        if self.callback:
            self.callback(done, total, pop)
        if time.perf_counter() - self.last >= self.every_s:
            self.last = time.perf_counter()
            try:
                self.write(done, total)
            except (OSError, ValueError, KeyError):  # a progress page is a convenience: never stop the run for it
                pass

    def write(self, done: int, total: int) -> None:
        import html as html_mod
        import os

        import pandas as pd

        frames = []
        for study_id, name in self.store.studies():
            from lstmtune.study import identity

            base, phase, _ = identity.parse(name)
            if base != self.spec.name or phase is None or phase.endswith("-diagnostics"):
                continue
            runs = self.store.runs(study_id)
            if not runs.empty:
                runs = runs.assign(phase=phase, score=runs["test_rmse"])  # each phase's holdout RMSE
                frames.append(runs)
        rows = ""
        if frames:
            runs = pd.concat(frames)
            table = runs.groupby(["phase", "config"])["score"].agg(["count", "mean"]).reset_index().sort_values(["phase", "mean"])
            for _, r in table.iterrows():
                label = html_mod.escape(self.labels.get(r["config"], r["config"]))
                rows += f"<tr><td>{html_mod.escape(str(r['phase']))}</td><td>{label}</td><td>{int(r['count'])}</td><td>{r['mean']:.4g}</td></tr>"
        page = (
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"15\">"
            f"<title>lstmtune: {html_mod.escape(self.spec.name)} (in progress)</title></head>"
            "<body style=\"font-family: system-ui, sans-serif; max-width: 900px; margin: 2em auto\">"
            f"<h1>{html_mod.escape(self.spec.name)}: in progress</h1>"
            f"<p>{done} of {total} populations of this phase done ({time.strftime('%H:%M:%S')}). Partial results: the mean RMSE of the "
            "runs stored so far on each phase's holdout (validation folds, or the test set once configurations are selected). "
            "Nothing here is a comparison; the final report replaces this page.</p>"
            "<table border=\"0\" cellpadding=\"4\"><tr><th>phase</th><th>configuration</th><th>runs</th><th>mean RMSE so far</th></tr>"
            f"{rows}</table></body></html>"
        )
        tmp = self.out / f".report.html.{os.getpid()}.tmp"
        tmp.write_text(page)
        os.replace(tmp, self.out / "report.html")


class _Progress:
    """Population progress over several phases: ``(done, total so far, population)``."""

    def __init__(self, callback: Callable[[int, int, planner.Population], None] | None):
        self.callback, self.done, self.total = callback, 0, 0

    def expect(self, plan: planner.Plan) -> None:
        self.total += len(plan.populations)

    def __call__(self, _done: int, _total: int, pop: planner.Population) -> None:
        self.done += 1
        if self.callback:
            self.callback(self.done, max(self.total, self.done), pop)


@dataclasses.dataclass(frozen=True)
class Selection:
    """The selection phases' outcome: one row per (configuration, repeat) with ``metric``."""

    points: list
    runs: "pd.DataFrame"
    metric: str
    phases: tuple[evaluation.Phase, ...]
    results: tuple[StudyResults, ...]


def run_selection(
    spec: StudySpec,
    series: Series,
    store: Store,
    points=None,
    *,
    on_population: Callable[[int, int, planner.Population], None] | None = None,
    on_epochs: Callable[[planner.Population, int, int], None] | None = None,
    trainer=None,
) -> Selection:
    """Train ``points`` (default: the spec's grids) on the selection phases only, against
    ``store`` (a search's rounds): see :func:`_selection` for what it returns."""
    phases = evaluation.selection_phases(spec, series, points)
    plans = [_plan(ph, on_population) for ph in phases]
    done = [(ph, executor.execute(pl, ph.series, store, on_population=on_population, on_epochs=on_epochs, executor=trainer)) for ph, pl in zip(phases, plans)]
    return _selection(spec, done)


def run_test(
    spec: StudySpec,
    series: Series,
    store: Store,
    points,
    *,
    on_population: Callable[[int, int, planner.Population], None] | None = None,
    on_epochs: Callable[[planner.Population, int, int], None] | None = None,
    trainer=None,
) -> tuple[evaluation.Phase, StudyResults] | None:
    """Score ``points`` on the test set (the test phase); None under ``selection = "test"`` or without points."""
    tph = evaluation.test_phase(spec, series, points)
    if tph is None or not tph.points:
        return None
    return tph, executor.execute(_plan(tph, on_population), tph.series, store, on_population=on_population, on_epochs=on_epochs, executor=trainer)
