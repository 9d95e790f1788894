"""Commands about studies: ``run``, ``plan``, ``search``, ``status``, ``report``, ``reproduce``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from lstmtune.cli.common import (
    app, console, err_console, _n, _u, _handles_errors, baseline_table, check_cpu_devices, DEFAULT_MAX_RUNS, MaxRuns, _PROCESS_T0,
)
from lstmtune.cli.interrupts import _check_term, _interruptible
from lstmtune.errors import LstmtuneError


def _interval(low: float, high: float, scale: float, least: int) -> str:
    """``low–high`` with the decimals of the data's ``scale`` (at least ``least``), or ``—``
    where there is none (one finite run)."""
    from lstmtune.report.pages import number

    return f"{number(low, scale, least)}–{number(high, scale, least)}" if low == low and high == high else "—"


def _num(x: float, scale: float, least: int) -> str:
    """A score with the decimals of the data's scale, at least ``least`` (data of a small scale
    printed 0.00 for every score: a probe)."""
    from lstmtune.report.pages import number

    return number(x, scale, least)


def _summary_tables(outcome) -> None:
    a = outcome.analysis
    scale = a.persistence_rmse
    for sub in a.substudies:
        metric = "validation RMSE" if a.honest else "test RMSE"
        table = Table(title=f"Study {_u(sub.name)}: final {metric} over repeats")
        for col in ("configuration", "n", "mean", "mean 95% CI", "std", "min", "median", "max", "skill %", "MCS p"):
            # long configuration names wrap instead of being cut at the terminal's width
            table.add_column(col, justify="left" if col == "configuration" else "right", overflow="fold", no_wrap=col != "configuration")
        comps = {c.config: c for c in sub.comparison.comparisons}
        for label, r in sub.table.iterrows():
            c = comps.get(label)
            mark = " (best)" if label == sub.best_label else (" ≈" if label in sub.comparison.indistinguishable else "")
            p = "—" if c is None else ("<0.001" if c.p_adjusted < 0.001 else f"{c.p_adjusted:.3f}")
            table.add_row(
                f"{_u(label)}{mark}", str(int(r["count"])), _num(r["mean"], scale, 2), _interval(r["mean_ci_low"], r["mean_ci_high"], scale, 1),
                _num(r["std"], scale, 2), _num(r["min"], scale, 2), _num(r["50%"], scale, 2), _num(r["max"], scale, 2), f"{r['skill_%']:+.1f}", p,
            )
        console.print(table)
        groups = sub.comparison.groups()
        if len(sub.table) > 3 and groups:  # many labels with commas: a list reads, a sentence does not
            console.print(_u(f"{sub.comparison.best} is best (mean {sub.comparison.best_mean:.4g})."), highlight=False)
            for g in groups:
                console.print(_u(f"{len(g['labels'])} {'is' if len(g['labels']) == 1 else 'are'} {g['what']}:"), highlight=False)
                for label in g["labels"]:
                    console.print(_u(f"  - {label}"), highlight=False)
        else:
            console.print(_u(sub.comparison.sentence()), highlight=False)


def _run_with_progress(spec, out: Path, quiet: bool, started: float, storage: str | None = None, inputs=(), max_runs=None, trainer=None, runner=None):
    """Run ``spec`` into ``out`` (``runner``: :func:`lstmtune.workflow.study.run` by default, or e.g.
    :func:`lstmtune.workflow.reproduce.run`) with a progress bar, plain lines when not a terminal,
    or nothing (``quiet``); SIGTERM is checked between chunks of training."""
    from lstmtune.report import drawing, planned
    from lstmtune.study import budget, planner

    budget.precheck(spec, max_runs=max_runs)  # a study certain to be refused: before planning it (a 10^5-configuration grid takes half a minute)
    plan = planner.plan(spec)
    # The report's drawing helpers start now: their imports run on a core this process leaves
    # idle while it imports alone (lstmtune.report.drawing). Those the report did not take (a
    # failure before it, a study that drew none) are stopped when the command ends.
    drawing.prestart(planned.figures(plan))
    try:
        return _run_prestarted(spec, out, quiet, started, plan, storage, inputs, max_runs, trainer, runner)
    finally:
        drawing.discard()


def _run_prestarted(spec, out: Path, quiet: bool, started: float, plan, storage, inputs, max_runs, trainer, runner):
    """:func:`_run_with_progress`'s run, its drawing helpers started."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from lstmtune.workflow import study

    def go(on_population, on_epochs):
        if runner is not None:
            return runner(out, on_population=on_population, on_epochs=on_epochs, started=started)
        return study.run(
            spec, out, storage=storage, started=started, inputs=inputs, max_runs=max_runs, on_population=on_population, on_epochs=on_epochs, trainer=trainer
        )

    if quiet:
        return go(_check_term, _check_term)
    if not err_console.is_terminal:
        # Piped or logged: a plain line per population instead of a live bar.
        def line(done, total, pop):
            _check_term()
            units = ",".join(map(str, pop.arch.units))
            err_console.print(
                f"population {done}/{total}: {pop.arch.cell} units={units} batch={pop.arch.batch_size}, {pop.size} replicas "
                f"({time.perf_counter() - _PROCESS_T0:.1f} s)",
                highlight=False,
            )

        return go(line, _check_term)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task(f"populations ({plan.runs} runs)", total=len(plan.populations))
        epochs = bar.add_task("epochs", total=None)

        def tick(done, total, pop):
            _check_term()
            bar.update(task, completed=done, total=total)

        def epoch_tick(pop, done, total):
            _check_term()
            units = ",".join(map(str, pop.arch.units))
            desc = f"{pop.arch.cell} units={units} batch={pop.arch.batch_size}: {pop.size} replicas"
            bar.update(epochs, completed=done, total=total, description=desc)

        return go(tick, epoch_tick)


def _print_selection(a, spec) -> None:
    """The headline: what was selected on what, and its test score (scored once)."""
    from lstmtune.report.html import selection_name

    if not a.honest:
        study_name, label, mean = a.best_overall()
        persistence = a.persistence_rmse
        console.print(
            f"Best configuration: [bold]{_u(label)}[/] ({_u(study_name)}), mean test RMSE {_num(mean, persistence, 2)} "
            f"vs persistence {_num(persistence, persistence, 3)} ({100 * (1 - mean / persistence):+.1f}% skill). "
            f"[yellow]Selected and scored on the same {spec.data.test_size} test observations (the tutorial's protocol): optimistic.[/]"
            + (f" Every score is of {spec.evaluation.horizon}-step forecasts from each origin with {spec.evaluation.horizon} observations after it." if spec.evaluation.horizon > 1 else ""),
            highlight=False,
        )
        return
    best_name, best_rmse = a.best_baseline
    scale = a.test_persistence_rmse
    for t in a.tests:
        s = t.summary
        console.print(
            f"Selected on {selection_name(spec)}: [bold]{_u(t.label)}[/] ({_u(t.study)}); "
            f"test RMSE of the selected configuration: {_num(s['mean'], scale, 2)} (scored once; mean 95% CI "
            f"{_interval(s['mean_ci_low'], s['mean_ci_high'], scale, 2)}) vs persistence {_num(a.test_persistence_rmse, scale, 3)} "
            f"({s['skill_%']:+.1f}% skill) and the baseline best on {'that holdout' if a.best_baseline_on == 'selection' else 'the test set'}, {_u(best_name)} {_num(best_rmse, scale, 3)} "
            + (f"({t.skill_vs_best_baseline:+.1f}%)." if t.skill_vs_best_baseline == t.skill_vs_best_baseline else
               "(exact on the test set: no skill is measurable against it)." if best_rmse == 0 else "(no finite test score: no skill is measurable against it)."),
            highlight=False,
        )
        if t.test_selected and t.test_selected[0] != t.label:  # (the same configuration: nothing to say; a probe)
            console.print(
                f"  Choosing on the test set would have picked {_u(t.test_selected[0])} (mean test RMSE "
                f"{_num(t.test_selected[1], scale, 2)}; optimism {_num(t.optimism, scale, 2)}), not used for selection.",
                highlight=False,
            )
    if not a.tests:
        console.print("[yellow]No configuration could be tested (every selection run diverged).[/]")


def _print_outcome(outcome) -> None:
    from lstmtune.selection.baselines import Baseline

    r = outcome.results
    if outcome.analysis is None:
        err_console.print(
            f"[bold red]every run diverged[/] ({len(r.runs)} runs: NaN or infinite losses or weights); nothing to compare. "
            f"Report: {_u(outcome.directory / 'report.html')}",
            highlight=False,
        )
        raise typer.Exit(code=3)
    for notice in r.notices:
        console.print(f"[yellow]note:[/] {_u(notice)}", highlight=False)
    for c in r.counts:
        console.print(
            f"data ({c['phase'] + ' phase, ' if c.get('phase') else ''}batch {c['batch_size']}): {c['values']} values -> "
            f"{c['differences']} differences -> {c['pairs']} pairs -> {c['train']} train / {c['test']} "
            f"{'validation' if c.get('phase') not in (None, 'test') else 'test'}; {c['trimmed']} oldest training rows dropped -> {c['train_used']} used",
            highlight=False,
        )
    _summary_tables(outcome)
    console.print(baseline_table([Baseline(k, "", None, v) for k, v in r.baselines.items()], title="Baselines on the same test split"))
    _print_selection(outcome.analysis, r.spec)
    n_div = int(r.runs["diverged"].sum())
    if n_div:
        console.print(f"[yellow]{n_div} runs diverged[/] (NaN/inf); they are excluded from the statistics and counted in the report.")


def _print_done(outcome) -> None:
    r = outcome.results
    trained = int(r.timings.get("runs_trained_now", r.timings.get("runs_trained", 0)))
    from lstmtune.study.results import runs_counted

    total, runs = runs_counted(outcome.results)
    reused = "" if trained >= total else f" ({trained} trained now, the rest already stored)"
    console.print(
        f"{runs}{reused}; {time.perf_counter() - _PROCESS_T0:.1f} s in all ({outcome.wall_s:.1f} s to the results, "
        f"the rest drawing the report). Report: {_u(outcome.directory / 'report.html')}",
        highlight=False,
    )


@app.command()
@_handles_errors
def run(
    study_file: Annotated[Optional[Path], typer.Argument(help="Study TOML file; omitted: the default study (tutorial units study on shampoo).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Run directory (default runs/<study name>).")] = None,
    storage: Annotated[Optional[str], typer.Option("--storage", help="SQLAlchemy URL of the results store (default: RUN_DIR/study.db).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    max_runs: MaxRuns = DEFAULT_MAX_RUNS,
    executor: Annotated[str, typer.Option("--executor", help="Where populations train: local (this process) or ray (a Ray cluster).")] = "local",
    address: Annotated[Optional[str], typer.Option("--address", help="Ray cluster address (HOST:6379); omitted: a local Ray instance.")] = None,
    device: Annotated[Optional[str], typer.Option("--device", help="auto (GPU for large populations when present), cpu or gpu; default $LSTMTUNE_DEVICE or auto. With --executor ray: on the workers, the default too (gpu: each task asks Ray for one GPU; refused on a cluster without one).")] = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="Run the default study on this CSV (date and value columns detected) instead of the built-in shampoo data. A long panel (unique_id, ds, y): the study (the default, or STUDY_FILE's) on every series, each into its own run directory.")] = None,
    id_column: Annotated[Optional[str], typer.Option("--id-column", help="With --data: the panel's series column (default: unique_id).")] = None,
    horizon: Annotated[Optional[int], typer.Option("--horizon", min=1, help="Score every holdout on H-step forecasts and choose on them (the study's \\[evaluation] horizon).")] = None,
) -> None:
    """Run a study: repeated training of every configuration, statistics, plots and a report.

    Results are stored as each population finishes: rerunning an interrupted
    study computes only the missing runs, and several processes may run the
    same study at once. With --executor ray, each population is a Ray task on
    the cluster; this process commits the results.
    """
    import time

    started = time.perf_counter()
    from lstmtune.study import spec as spec_mod

    if data is not None:
        from lstmtune.data import panel as panel_mod
    if data is not None and study_file is not None and not (data.is_file() and panel_mod.is_panel_file(data, id_column)):  # a panel: the study on every series
        raise LstmtuneError(f"--data {data}: give the data in {study_file}'s [data] source (with a study file, --data takes a long panel only: "
                            f"{id_column or 'unique_id'}, ds, y{'' if id_column else '; a panel whose series column has another name: give it with --id-column'})")
    _refuse_bad_device(device, executor)
    spec = spec_mod.load(study_file) if study_file else spec_mod.default_study()
    if spec.search is not None:  # read by `search` only: said, not silently passed over
        err_console.print(f"[yellow]note:[/] {_u(study_file)}'s \\[search] section is read by `lstmtune search`; `lstmtune run` runs the study's grid "
                          "(its base configuration where it has none)", highlight=False, soft_wrap=True)
    for setting in spec_mod.unused_settings(spec):  # kept for a later switch of mode or selection: said, not refused
        err_console.print(f"[yellow]note:[/] {_u(study_file)}: {escape(setting)} is not used by this study", highlight=False, soft_wrap=True)
    if horizon is not None:
        spec = spec.model_copy(update={"evaluation": spec.evaluation.model_copy(update={"horizon": horizon})})
    if data is not None:
        if not data.is_file():
            raise LstmtuneError(f"--data {data}: no such file" if not data.exists() else f"--data {data}: not a regular file")
        frame = _read_panel(data, id_column, spec) if panel_mod.is_panel_file(data, id_column) else None
        if frame is not None:
            for flag, given in (("--storage", storage), ("--address", address), ("--device", device)):
                if given is not None:
                    raise LstmtuneError(f"{flag}: not for a panel (each series runs locally into its own run directory under --out)")
            if executor != "local":
                raise LstmtuneError("--executor: a panel's series run locally, one after another")
            _run_panel(spec, frame, out or Path("runs") / spec.name, quiet, max_runs, [data, *([study_file] if study_file else [])])
            return
        spec = spec.model_copy(update={"data": spec.data.model_copy(update={"source": str(data.resolve())})})
    elif id_column is not None:
        raise LstmtuneError("--id-column: give the panel with --data")
    out = out or Path("runs") / spec.name
    inputs = [study_file] if study_file else []
    from lstmtune.workflow import finished

    # not the executor or its address: the results are the same bits on either (a finished study
    # rerun with --executor ray started Ray to redraw what was there: a probe)
    study_key = finished.key(spec.model_dump(mode="json"), {"storage": storage, "max_runs": max_runs})
    stored = finished.replay(out, study_key) if storage is None else None  # a store elsewhere may change without this directory
    if stored is not None:  # finished, and nothing changed since: nothing to train, recompute or redraw
        import sys

        sys.stdout.write(stored["text"])
        summary = stored["summary"]
        console.print(
            f"{summary.get('runs_said') or str(summary['runs']) + ' runs'}, all stored; nothing changed since the run of {summary['finished']} (data, settings, lstmtune, outputs): "
            f"nothing trained, recomputed or redrawn ({time.perf_counter() - _PROCESS_T0:.1f} s). Report: {_u(out / 'report.html')}",
            highlight=False,
        )
        return
    stamp = finished.forget(out) if out.is_dir() else None
    try:
        if device is not None and executor == "local":  # checked above, before anything was written
            import os

            os.environ["LSTMTUNE_DEVICE"] = device
        trainer = _trainer(executor, address, device)
        outcome = _interruptible(lambda: _run_with_progress(spec, out, quiet, started, storage=storage, inputs=inputs, max_runs=max_runs, trainer=trainer), out)
    except LstmtuneError:
        finished.put_back(out, stamp)  # refused: the directory as it was found
        raise
    console.record = True  # what is printed now is what a rerun with nothing changed prints back
    try:
        _print_outcome(outcome)
        text = console.export_text(clear=True)
    finally:
        console.record = False
    _print_done(outcome)
    if storage is None:
        import datetime

        from lstmtune.study.results import runs_counted

        total, said = runs_counted(outcome.results)  # as the run said them (the selection's alone before: "4 runs" of 8; a probe)
        finished.stamp(out, study_key, text, {"runs": total, "runs_said": said, "finished": datetime.datetime.now().isoformat(timespec="seconds")})


def _read_panel(data: Path, id_column, spec):
    """A panel read with the study's ``[data]`` reading keys (its date format, and the names of
    its date and value columns where given: ``ds`` and ``y`` otherwise)."""
    from lstmtune.data import panel as panel_mod

    d = spec.data
    return panel_mod.read(data, id_column=id_column, date_column=d.date_column, value_column=d.value_column, date_format=d.date_format,
                          names={"--date-column": "the study file's [data] date_column", "--value-column": "the study file's [data] value_column"})


def _run_panel(spec, frame, out: Path, quiet: bool, max_runs, inputs=()) -> None:
    """The study on every series of a panel (:mod:`lstmtune.workflow.panelstudy`); exit 3 when some series failed."""
    from lstmtune.workflow import panelstudy

    def on_series(uid, done, total):
        _check_term()
        if not quiet:
            err_console.print(f"series {done + 1}/{total}: {_n(uid)} ({time.perf_counter() - _PROCESS_T0:.1f} s)", highlight=False)

    outcome = _interruptible(lambda: panelstudy.run(spec, frame, out, inputs=inputs, max_runs=max_runs, on_series=on_series, on_population=lambda *a: _check_term(),
                                                    on_epochs=lambda *a: _check_term()), out)
    table = Table(title=f"{_u(spec.name)} on {len(outcome.summary)} series: configurations")
    for col in ("configuration", "selected by", "pooled error vs persistence", "series"):
        table.add_column(col, justify="left" if col == "configuration" else "right")
    for _, r in outcome.configs.iterrows():
        table.add_row(_u(str(r["config"])), str(int(r["wins"])), f"{r['pooled_scaled_error']:.3f}", str(int(r["series"])))
    console.print(table)
    console.print(f"Pooled choice (lowest mean error relative to persistence): [bold]{_u(outcome.pooled)}[/]; selected most often: {_u(outcome.wins_said)}. "
                  f"Per series: {_u(out / 'panel_summary.csv')}; report: {_u(out / 'index.html')}", highlight=False)
    for uid, lines in outcome.notices.items():
        for line in lines:
            err_console.print(f"[bold yellow]note:[/] series {_n(uid)}: {_u(line)}", highlight=False, soft_wrap=True)
    _said_removed(outcome)
    for uid, why in outcome.failures.items():
        err_console.print(f"[yellow]series {_n(uid)} not run[/]: {_u(why)}", highlight=False)
    if outcome.failures:
        raise typer.Exit(code=3)


def _said_removed(outcome) -> None:
    """Name the earlier run's series folders a panel run removed (:func:`lstmtune.workflow.panelstudy._remove_stale`)."""
    if outcome.removed:
        shown = ", ".join(outcome.removed[:5]) + (f" and {len(outcome.removed) - 5} more" if len(outcome.removed) > 5 else "")
        err_console.print(f"[bold yellow]note:[/] removed an earlier run's results of {len(outcome.removed)} series not run now "
                          f"(no longer in the panel, or failing now): {_u(shown)}", highlight=False, soft_wrap=True)


def _search_panel(spec, data: Path, id_column, out: Path, storage, quiet: bool, max_runs, inputs=()) -> None:
    """The search on every series of a panel (:func:`lstmtune.workflow.panelstudy.search`); exit 3 when some series failed."""
    from lstmtune.data import panel as panel_mod
    from lstmtune.workflow import panelstudy

    if not data.is_file():
        raise LstmtuneError(f"--data {data}: no such file" if not data.exists() else f"--data {data}: not a regular file")
    if not panel_mod.is_panel_file(data, id_column):
        raise LstmtuneError(f"--data {data}: not a long panel (no {id_column or 'unique_id'!r} column{'' if id_column else ': another series column is named with --id-column'}); "
                            "a single series goes in the study file's [data] source")
    if storage is not None:
        raise LstmtuneError("--storage: not for a panel (each series' search keeps its own store in its run directory)")
    frame = _read_panel(data, id_column, spec)

    def on_series(uid, done, total):
        _check_term()
        if not quiet:
            err_console.print(f"series {done + 1}/{total}: {_n(uid)} ({time.perf_counter() - _PROCESS_T0:.1f} s)", highlight=False)

    outcome = _interruptible(lambda: panelstudy.search(spec, frame, out, inputs=inputs, max_runs=max_runs, on_series=on_series,
                                                       on_round=lambda *a: _check_term(), on_epochs=lambda *a: _check_term()), out)
    table = Table(title=f"{_u(spec.name)}: a search on each of {len(outcome.summary)} series")
    for col in ("series", "best trial", "value", "test RMSE"):
        table.add_column(col, justify="left" if col == "series" else "right")
    for _, r in outcome.summary.iterrows():
        if r["status"] == "ok":
            table.add_row(_u(str(r["unique_id"])), _u(str(r["config"])), f"{r['score']:.4g}", f"{r['test_rmse']:.4g}" if r.get("test_rmse") == r.get("test_rmse") and r.get("test_rmse") is not None else "")
    console.print(table)
    console.print(f"Per series: {_u(out / 'panel_summary.csv')}; report: {_u(out / 'index.html')}; fit them all: lstmtune fit {_u(out)} --out MODELS", highlight=False)
    _said_removed(outcome)
    for uid, why in outcome.failures.items():
        err_console.print(f"[yellow]series {_n(uid)} not searched[/]: {_u(why)}", highlight=False)
    if outcome.failures:
        raise typer.Exit(code=3)


def _refuse_bad_device(device: str | None, executor: str = "local") -> None:
    """A bad or absent device, given as --device or ``$LSTMTUNE_DEVICE``: one line before anything
    is written (the variable was read only once the run directory and its store existed)."""
    from lstmtune.engine import trainer as engine

    check_cpu_devices()  # refused before the run directory exists (it was after)
    chosen = _device_choice(device)
    if chosen is None:
        return
    if executor != "local":  # trained on the workers: the value checked here, the device there (RayExecutor)
        if chosen.strip().lower() not in engine.DEVICES:
            raise LstmtuneError(f"the device must be one of {', '.join(engine.DEVICES)}, got {chosen!r} (--device or LSTMTUNE_DEVICE)")
        return
    engine.device_for(1, engine.Architecture(), device)


def _device_choice(device: str | None) -> str | None:
    """``--device``, else ``$LSTMTUNE_DEVICE`` (None: neither given)."""
    import os

    return device if device is not None else os.environ.get("LSTMTUNE_DEVICE", "").strip() or None


def _trainer(executor: str, address: str | None, device: str | None = None):
    """The population trainer named by ``--executor`` (None: local); with Ray, each task
    trains on ``device`` on its worker (a GPU task asks Ray for one GPU)."""
    from lstmtune.errors import LstmtuneError

    if executor == "local":
        if address is not None:
            raise LstmtuneError("--address applies to --executor ray")
        return None
    if executor == "ray":
        from lstmtune.study.ray_executor import RayExecutor

        # the driver's $LSTMTUNE_DEVICE as --device's default, given to every task: a local
        # instance's workers inherited it and a cluster's did not (a probe)
        chosen = _device_choice(device)
        return RayExecutor(address, device=None if chosen is None else chosen.strip().lower())
    raise LstmtuneError(f"--executor must be local or ray, got {executor!r}")


AUTO_FAMILIES = "lstm,hybrid,stats,combo"


@app.command()
@_handles_errors
def plan(
    study_file: Annotated[Optional[Path], typer.Argument(help="Study TOML file; omitted: the default study. With --horizon: the CSV lstmtune auto would read.")] = None,
    max_runs: MaxRuns = DEFAULT_MAX_RUNS,
    horizon: Annotated[Optional[int], typer.Option("--horizon", min=1, help="Plan `lstmtune auto DATA --horizon H` instead: series, networks, memory, time.")] = None,
    candidates: Annotated[str, typer.Option("--candidates", help="With --horizon: the families auto would try.")] = AUTO_FAMILIES,
    missing: Annotated[Optional[str], typer.Option("--missing", help="With --horizon: auto's --missing (error, interpolate or zero).")] = None,
    freq: Annotated[Optional[str], typer.Option("--freq", help="With --horizon: auto's --freq.")] = None,
    season_length: Annotated[Optional[int], typer.Option("--season-length", min=1, help="With --horizon: auto's --season-length.")] = None,
    id_column: Annotated[Optional[str], typer.Option("--id-column", help="With --horizon: auto's --id-column.")] = None,
    date_column: Annotated[Optional[str], typer.Option("--date-column", help="With --horizon: auto's --date-column.")] = None,
    value_column: Annotated[Optional[str], typer.Option("--value-column", help="With --horizon: auto's --value-column.")] = None,
    date_format: Annotated[Optional[str], typer.Option("--date-format", help="With --horizon: auto's --date-format.")] = None,
    time_budget: Annotated[Optional[float], typer.Option("--time-budget", min=0, help="With --horizon: auto's --time-budget (the LSTM settings it leads to are counted).")] = None,
    global_lstm: Annotated[bool, typer.Option("--global-lstm", help="With --horizon: auto's --global-lstm (the global networks are counted).")] = False,
    lstm_space: Annotated[Optional[str], typer.Option("--lstm-space", help="With --horizon: auto's --lstm-space (default or full).")] = None,
) -> None:
    """Print a study's size (runs, populations, programs, memory, expected time) without running or writing anything.

    A study file with a \\[search] section also gets the search's estimate at the space's largest point.
    With --horizon, the file is a CSV and the plan is lstmtune auto's on it, with auto's options;
    a panel whose memory estimate exceeds 90% of the memory available is refused (exit 2).
    """
    started = time.perf_counter()  # a time budget counts from here, as auto's from its command's start
    options = [(flag, value) for flag, value in (("--candidates", None if candidates == AUTO_FAMILIES else candidates), ("--missing", missing), ("--freq", freq),
                                                  ("--season-length", season_length), ("--id-column", id_column), ("--date-column", date_column),
                                                  ("--value-column", value_column), ("--date-format", date_format), ("--time-budget", time_budget),
                                                  ("--global-lstm", global_lstm or None), ("--lstm-space", lstm_space)) if value is not None]
    given = [flag for flag, _ in options]
    if horizon is None and given:
        raise LstmtuneError(f"{given[0]} applies with --horizon (planning lstmtune auto)")
    if horizon is not None and max_runs != DEFAULT_MAX_RUNS:
        raise LstmtuneError("--max-runs applies to a study (lstmtune auto has --time-budget)")
    if horizon is not None:
        from lstmtune.auto import plan as auto_plan
        from lstmtune.data import panel

        from lstmtune.auto.run import FAMILIES

        if study_file is None:
            raise LstmtuneError("--horizon: give the CSV lstmtune auto would read")
        if study_file.suffix.lower() == ".toml":
            raise LstmtuneError(f"{study_file}: a study file; --horizon plans lstmtune auto on a CSV (leave --horizon out to plan the study)")
        missing = panel.check_missing(missing or "error")
        panel.check_freq(freq)
        families = [c.strip() for c in candidates.split(",") if c.strip()]
        unknown = sorted(set(families) - set(FAMILIES))
        if unknown or not families:
            raise LstmtuneError(f"--candidates: {', '.join(unknown) or 'none given'}: choose among {', '.join(FAMILIES)}")
        data = panel.read(study_file, id_column=id_column, date_column=date_column, value_column=value_column, date_format=date_format,
                          missing="error" if missing == "error" else "drop", fills="interpolate or zero", keep_missing=True)  # as auto reads it
        from lstmtune.auto import lstm

        lstm.check_space(lstm_space or "default", "--lstm-space")
        estimate = auto_plan.plan(data, horizon, candidates=families, missing=missing, freq=freq, season_length=season_length,
                                  global_lstm=global_lstm, time_budget=time_budget, started=started, settings=lstm.Settings(space=lstm_space or "default"))
        import shlex

        said = "".join(f" {flag}" if value is True else f" {flag} {shlex.quote(f'{value:g}' if isinstance(value, float) else str(value))}" for flag, value in options)
        console.print(f"lstmtune auto {_n(study_file)} --horizon {horizon}{_u(said)}:", highlight=False)  # the options planned with, as auto takes them
        for line in estimate.lines():
            console.print(f"  {line}", highlight=False)
        for uid, why in estimate.skips[:SKIPS_SHOWN]:
            console.print(f"  skipped: {_n(uid)}: {_u(why)}", highlight=False)
        if len(estimate.skips) > SKIPS_SHOWN:
            console.print(f"  ... and {len(estimate.skips) - SKIPS_SHOWN} more skipped", highlight=False)
        for uid, why in estimate.fallbacks[:SKIPS_SHOWN]:
            console.print(f"  on a fallback: {_n(uid)}: {_u(why)}", highlight=False)
        if len(estimate.fallbacks) > SKIPS_SHOWN:
            console.print(f"  ... and {len(estimate.fallbacks) - SKIPS_SHOWN} more on a fallback", highlight=False)
        if estimate.series and estimate.good + estimate.fallback == 0:
            raise LstmtuneError("no series could be forecast (the reasons are above): lstmtune auto would write nothing")
        auto_plan.check(estimate)
        return
    from lstmtune.study import budget
    from lstmtune.study import spec as spec_mod
    from lstmtune.workflow.study import load_series

    _refuse_bad_device(None)  # $LSTMTUNE_DEVICE, as run refuses it
    spec = spec_mod.load(study_file) if study_file else spec_mod.default_study()
    series = load_series(spec)
    for note in series.notes:  # what `run` notes about reading the data (rows sorted, values filled), said here too (a probe)
        err_console.print(f"[yellow]note:[/] {_u(note)}", highlight=False)
    estimates = [("lstmtune run", budget.check(spec, len(series), max_runs=max_runs))]
    from lstmtune.study import planner
    from lstmtune.workflow.study import check_fits, check_scoreable

    check_scoreable(spec, series)  # what `lstmtune run` refuses before training, refused here too
    check_fits(spec, series, planner.plan(spec))
    if spec.search is not None:
        from lstmtune.workflow.search import check_space_fits

        check_space_fits(spec, series)  # as search refuses it
        estimates.append(("lstmtune search", budget.check_search(spec, len(series), max_runs=max_runs)))
    console.print(f"study {_u(spec.name)} on {_u(series.name)} ({len(series)} observations), selection on {spec.evaluation.selection}:", highlight=False)
    for command, est in estimates:
        if len(estimates) > 1:
            console.print(f" {command}:", highlight=False)
        for line in est.lines():
            console.print(f"  {line}", highlight=False)


@app.command()
@_handles_errors
def search(
    study_file: Annotated[Path, typer.Argument(help="Study TOML file with a \\[search] section.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Run directory (default runs/<study name>).")] = None,
    storage: Annotated[Optional[str], typer.Option("--storage", help="SQLAlchemy URL for runs and Optuna's study (default: RUN_DIR/study.db).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    max_runs: MaxRuns = DEFAULT_MAX_RUNS,
    data: Annotated[Optional[Path], typer.Option("--data", help="A long panel CSV (unique_id, ds, y): the search on every series, each into its own run directory under --out.")] = None,
    id_column: Annotated[Optional[str], typer.Option("--id-column", help="With --data: the panel's series column (default: unique_id).")] = None,
) -> None:
    """Search a space (grid, random, TPE, CMA-ES; optional pruning by epochs), trials trained as populations."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    import numpy as np

    from lstmtune.workflow import search as search_mod
    from lstmtune.study import spec as spec_mod

    _refuse_bad_device(None)  # $LSTMTUNE_DEVICE
    spec = spec_mod.load(study_file)
    if spec.search is None:
        raise LstmtuneError(f"{study_file}: no [search] section (it says what to search: sampler, trials, space); `lstmtune run` runs a study's grid")
    if spec.grid or spec.grids:  # read by `run` only: said, not silently passed over
        err_console.print(f"[yellow]note:[/] {_u(study_file)}'s \\[{'grid' if spec.grid else 'grids'}] is read by `lstmtune run`; `lstmtune search` searches "
                          "\\[search.space] around the study's base configuration", highlight=False, soft_wrap=True)
    out = out or Path("runs") / spec.name
    if data is not None:
        _search_panel(spec, data, id_column, out, storage, quiet, max_runs, [data, study_file])
        return
    if id_column is not None:
        raise LstmtuneError("--id-column: give the panel with --data")

    def go():
        if quiet:
            return search_mod.run(spec, out, storage=storage, inputs=(study_file,), max_runs=max_runs, on_round=_check_term, on_epochs=_check_term)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console, transient=True) as bar:
            task = bar.add_task("trials", total=spec.search.trials if spec.search else None)
            return search_mod.run(
                spec, out, storage=storage, inputs=(study_file,), max_runs=max_runs,
                on_round=lambda done, total: (_check_term(), bar.update(task, completed=done, total=total)), on_epochs=_check_term,
            )

    outcome, path = _interruptible(go, out)
    for notice in outcome.notices:
        console.print(f"[yellow]note:[/] {_u(notice)}", highlight=False)
    failure = outcome.failure
    if failure is not None:  # like a study whose every run diverged: reported, exit 3
        err_console.print(f"[bold red]search failed[/]: {_u(failure)}. Report: {_u(path)}", highlight=False)
        raise typer.Exit(code=3)
    metric = "test RMSE" if outcome.metric == "test_rmse" else "validation RMSE"
    table = Table(title=f"Search {_u(spec.name)}: best trials ({spec.search.objective} {metric} over {spec.runs.repeats} repeats)")
    trials = search_mod.completed(outcome.trials).sort_values("value").head(10)
    cols = [c for c in trials.columns if c not in ("config", "state")]
    for c in cols:
        table.add_column(c, justify="right")
    for _, r in trials.iterrows():
        table.add_row(*(f"{r[c]:.4g}" if isinstance(r[c], float) else _u(r[c]) for c in cols))
    console.print(table)
    n = outcome.trials["state"].value_counts().to_dict() if len(outcome.trials) else {}
    console.print(
        f"{len(outcome.trials)} trials ({', '.join(f'{v} {k.lower()}' for k, v in n.items())}); {outcome.trainings} trial trainings "
        f"(the best trial's test and diagnostic reruns besides) in {outcome.wall_s:.1f} s. Report: {_u(path)}",
        highlight=False,
    )
    if outcome.test is not None:
        v = outcome.test["test_rmse"]
        score = f"{_num(float(np.nanmean(v)), float(np.nanmean(v)), 2)} over {int(np.isfinite(v).sum())} repeats" if np.isfinite(v).any() else "every repeat diverged"
        console.print(f"Test RMSE of the best trial (trial {outcome.test['trial']}), scored once: {score}; the search never saw the test set.", highlight=False)
    elif outcome.metric == "test_rmse":
        console.print("[yellow]Trials were judged on the test set (the tutorial's protocol): the best value is optimistic.[/]")


SKIPS_SHOWN = 20
"""Skipped series `plan` names one per line (then a count)."""


def _refuse_panel_run(run_dir: Path, command: str) -> None:
    """A panel's run directory (``run`` or ``search`` with ``--data PANEL.csv``) holds one run
    directory per series, which is what ``command`` reads: say so, naming one."""
    from lstmtune.workflow import panelstudy

    if panelstudy.is_panel_run(run_dir):
        example = next((p for p in sorted((run_dir / "series").iterdir()) if p.is_dir()), None)
        raise LstmtuneError(f"{run_dir}: a panel's run directory (`--data PANEL.csv`), its tables and index.html written by that command; "
                            f"`lstmtune {command}` reads one series' run directory, under {run_dir / 'series'}" + (f" (e.g. {example})" if example else ""))


@app.command()
@_handles_errors
def status(
    run_dir: Annotated[Optional[Path], typer.Argument(help="A run directory (its study.db).")] = None,
    storage: Annotated[Optional[str], typer.Option("--storage", help="SQLAlchemy URL of a results store.")] = None,
) -> None:
    """Show each stored study's progress: configurations and runs done, diverged, running, pending."""
    from lstmtune.study.progress import study_status
    from lstmtune.store import default_url, open_store

    if storage is not None and run_dir is not None:  # the directory was dropped without a word (a probe)
        raise LstmtuneError(f"give a run directory or --storage, not both ({run_dir} and a --storage URL)")
    if storage is None:
        if run_dir is None:
            raise LstmtuneError("give a run directory or --storage URL")
        if not run_dir.exists():
            raise LstmtuneError(f"{run_dir}: no such run directory")
        if not run_dir.is_dir():
            raise LstmtuneError(f"{run_dir}: a file, not a run directory")
        if not (run_dir / "study.db").is_file():
            from lstmtune.store.fileio import MARKER

            _refuse_panel_run(run_dir, "status")
            if (run_dir / MARKER).is_file():  # a run directory whose runs went to --storage (the URL is not written down: it may hold a password)
                raise LstmtuneError(f"{run_dir}: no study.db here: its runs were stored with --storage; give that URL: lstmtune status --storage URL")
            raise LstmtuneError(f"{run_dir}: no study.db here; not a run directory written by `lstmtune run`")
        storage = default_url(run_dir)
    with open_store(storage, read_only=True) as store:
        frame = study_status(store)
    if frame.empty:  # a store whose every trial or run failed before training (a search of unfit points, say)
        console.print(f"{_u(storage)}: no study has stored a run yet (nothing was trained)", soft_wrap=True)
        return
    table = Table(title=f"Studies in {_u(storage)}")
    for col in frame.columns:
        table.add_column(col, justify="left" if col == "study" else "right")
    for _, r in frame.iterrows():
        table.add_row(*(_u(v) for v in r))
    console.print(table)


@app.command()
@_handles_errors
def report(run_dir: Annotated[Path, typer.Argument(help="A run directory written by `lstmtune run`.")]) -> None:
    """Regenerate report.html and the figures from a run directory's stored results."""
    from lstmtune.workflow import study

    from lstmtune.store.fileio import MARKER, kind_of

    _refuse_panel_run(Path(run_dir), "report")
    if (Path(run_dir) / ".lstmtune-auto").is_file():  # it said "missing study.toml; not a complete lstmtune run directory" (a probe)
        raise LstmtuneError(f"{run_dir}: lstmtune auto's output folder; its report is report.html, written by `lstmtune auto` (rerun it to redraw)")
    if (Path(run_dir) / MARKER).is_file() and kind_of(Path(run_dir) / MARKER) == "search":
        raise LstmtuneError(f"{run_dir}: a search's run directory; its report is search.html, written by `lstmtune search` (rerun it to redraw: stored trials are not retrained)")
    path = study.report(run_dir)
    console.print(f"wrote {_u(path)}", highlight=False)


@app.command()
@_handles_errors
def reproduce(
    out: Annotated[Path, typer.Option("--out", help="Run directory.")] = Path("runs/reproduce"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run every experiment of the tutorial and compare with its published statistics."""
    import time

    started = time.perf_counter()
    from lstmtune.workflow import reproduce as rep

    outcome, agreements = _interruptible(lambda: _run_with_progress(rep.tutorial_spec(), out, quiet, started, runner=rep.run), out)
    _print_outcome(outcome)
    _print_done(outcome)
    for a in agreements:
        table = Table(title=f"{a.study}: ours vs the tutorial (test RMSE, 30 repeats)")
        for col in (a.study, "mean", "tutorial", "in our 95% CI", "std", "tutorial", "median", "tutorial"):
            table.add_column(col, justify="right")
        for _, r in a.table.iterrows():
            table.add_row(
                str(r[a.study]), f"{r['mean']:.2f}", f"{r['tutorial mean']:.2f}", "yes" if r["tutorial mean in CI"] else "no",
                f"{r['std']:.2f}", f"{r['tutorial std']:.2f}", f"{r['median']:.2f}", f"{r['tutorial median']:.2f}",
            )
        console.print(table)
        console.print(
            f"{a.study}: best by mean ours {a.best_ours}, tutorial {a.best_tutorial} "
            f"({'agrees' if a.best_agrees else 'differs'}); Kendall tau {a.kendall_tau:.2f}",
            highlight=False,
        )
