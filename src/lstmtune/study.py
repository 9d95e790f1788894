"""Run a study end to end: plan, train, analyse, write the run directory and report.

Results live in a store (``study.db`` in the run directory by default), committed
population by population. The derived outputs (tables, figures, report) are built
in a temporary folder inside the run directory and moved into place only when all
are written, so a failure or an interruption never leaves half-written outputs.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from lstmtune import analysis as analysis_mod
from lstmtune import planner, results_io, runner
from lstmtune.data import Series, load
from lstmtune.fileio import atomic_outputs
from lstmtune.store import default_url, open_store
from lstmtune.report import html
from lstmtune.spec import StudySpec


@dataclasses.dataclass(frozen=True)
class Outcome:
    results: planner.StudyResults
    analysis: analysis_mod.Analysis
    directory: Path
    wall_s: float


def load_series(spec: StudySpec) -> Series:
    return load(spec.data.source, date_column=spec.data.date_column, value_column=spec.data.value_column)


def run(
    spec: StudySpec,
    out: Path,
    *,
    storage: str | None = None,
    on_population: Callable[[int, int, planner.Population], None] | None = None,
    on_epochs: Callable[[planner.Population, int, int], None] | None = None,
    started: float | None = None,
    extra_report: Callable[[planner.StudyResults, analysis_mod.Analysis], dict] | None = None,
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
    """
    t0 = started if started is not None else time.perf_counter()
    series = load_series(spec)
    plan = planner.plan(spec)
    planner.validate(plan, series)  # bad settings fail here, before anything is written
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with open_store(storage or default_url(out)) as store:
        results = runner.execute_stored(plan, series, store, on_population=on_population, on_epochs=on_epochs)
    analysis = analysis_mod.analyse(results)
    extra = extra_report(results, analysis) if extra_report else None
    wall = time.perf_counter() - t0  # up to the outputs: recorded in them
    results.timings["wall_s"] = wall
    with atomic_outputs(out) as tmp:
        results_io.write(results, tmp)
        analysis_mod.combined_table(analysis).to_csv(tmp / "summary.csv", index_label="config")
        html.render(results, analysis, tmp, wall_s=wall, extra=extra)
    return Outcome(results, analysis, out, wall)


def report(directory: Path) -> Path:
    """Regenerate ``report.html`` (and the figures) from a run directory's stored results."""
    results, _ = results_io.read(directory)
    analysis = analysis_mod.analyse(results)
    return html.render(results, analysis, Path(directory), wall_s=results.timings.get("wall_s"))
