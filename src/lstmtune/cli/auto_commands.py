"""``lstmtune auto``: one command from a CSV (one series or a long panel) to forecasts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from lstmtune.cli.common import DateFormat, Levels, _handles_errors, check_cpu_devices, _n, _u, app, console, err_console
from lstmtune.data.dates import UTC_NOTE
from lstmtune.cli.interrupts import _interruptible
from lstmtune.errors import LstmtuneError


@app.command(cls=Levels)
@_handles_errors
def auto(
    data: Annotated[Path, typer.Argument(help="A CSV: one series (date, value) or a long panel (unique_id, ds, y).")],
    horizon: Annotated[int, typer.Option("--horizon", min=1, help="Steps to forecast (and the backtests' horizon).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for forecasts.csv, leaderboard.csv, backtests.csv, report.html.")] = Path("runs/auto"),
    id_column: Annotated[Optional[str], typer.Option("--id-column", help="The panel's series column (default: unique_id).")] = None,
    date_column: Annotated[Optional[str], typer.Option("--date-column", help="The date column (a panel's default: ds).")] = None,
    value_column: Annotated[Optional[str], typer.Option("--value-column", help="The value column (a panel's default: y).")] = None,
    date_format: DateFormat = None,
    freq: Annotated[Optional[str], typer.Option("--freq", help="Frequency alias (MS, QS, D, ...); default: inferred per series.")] = None,
    season_length: Annotated[Optional[int], typer.Option("--season-length", min=1, help="Season length; default: from the frequency (monthly 12, quarterly 4, ...).")] = None,
    level: Annotated[Optional[list[int]], typer.Option("--level", help="Interval levels in percent: --level 80 95, or repeated (default: 80 and 95).")] = None,
    candidates: Annotated[str, typer.Option("--candidates", help="Comma list of families: lstm, hybrid, stats, combo.")] = "lstm,hybrid,stats,combo",
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the LSTM ensembles.")] = 0,
    missing: Annotated[str, typer.Option("--missing", help="Missing values and dates absent from a series' regular dates: error (the series is skipped), interpolate, or zero (no row meant nothing, as in sales).")] = "error",
    time_budget: Annotated[Optional[float], typer.Option("--time-budget", min=0, help="Seconds for the whole command: the LSTM candidates train fewer epochs, then fewer seeds, where the full settings are not expected to fit; once spent, those not yet trained are left out (both said per series).")] = None,
    lstm_space: Annotated[str, typer.Option("--lstm-space", help="default: one LSTM network per series (the calendar network where the dates name the season, else LSTM(d=1)), which forecast best on the development sets; full: every configuration of the grid (differencing at 1 and m, Box-Cox, direct heads), chosen among on the backtests.")] = "default",
    global_lstm: Annotated[bool, typer.Option("--global-lstm", help="Also offer global LSTMs: one network over a panel's series of one frequency (each series' result then depends on the others).")] = False,
    executor: Annotated[str, typer.Option("--executor", help="Where chunks of series run: local (this process) or ray (each chunk a task on a Ray cluster).")] = "local",
    address: Annotated[Optional[str], typer.Option("--address", help="Ray cluster address (HOST:6379); omitted: a local Ray instance.")] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print nothing but errors and the series skipped.")] = False,
) -> None:
    """Forecast every series with the candidate of lowest multi-step backtest MASE among LSTM ensembles,
    statistical models (AutoETS, AutoARIMA, AutoTheta, seasonal naive) and combinations.

    Exit status: 0 every series forecast by its chosen model, 3 some skipped, on a fallback or constant
    (named in leaderboard.csv), 2 nothing could be forecast (each series' reason printed, nothing
    written) or bad input."""
    import time

    started = time.perf_counter()  # the time budget counts from here (a process that runs several commands: each its own)
    from lstmtune.auto import lstm, output
    from lstmtune.data import panel

    from lstmtune.auto.run import check_levels

    levels = check_levels(level or [80, 95])  # checked before anything is read or trained
    check_cpu_devices()  # a bad one left every LSTM unscored, said in leaderboard.csv alone, exit 0 (a probe)
    if executor not in ("local", "ray"):
        raise LstmtuneError(f"--executor must be local or ray, got {executor!r}")
    if address is not None and executor != "ray":
        raise LstmtuneError("--address applies to --executor ray")
    lstm.check_space(lstm_space, "--lstm-space")
    families = [c.strip() for c in candidates.split(",") if c.strip()]
    output._check_target(out, inputs=[data])  # refused before any training
    partial = output.checkpoint_for(out)  # each finished series, so that a killed run resumes
    panel.check_missing(missing)
    frame = panel.read(data, id_column=id_column, date_column=date_column, value_column=value_column, date_format=date_format,
                       missing="error" if missing == "error" else "drop", fills="interpolate or zero", keep_missing=True)  # a single file's as a panel's: NaN, filled per series
    if executor == "ray":
        from lstmtune.auto.distributed import RayChunks

        chunks = RayChunks(address)
    else:
        chunks = None
    seeded = False  # whether the series a finished run into --out kept became the checkpoint (not an interrupted run's)

    def forecast_and_save():
        nonlocal seeded
        seeded = output.seed_checkpoint(partial, out)
        try:
            result = _forecast(frame, horizon, quiet, freq=freq, season_length=season_length, candidates=families, missing=missing,
                               time_budget=time_budget, started=started, settings=lstm.Settings(seed=seed, space=lstm_space), checkpoint=partial,
                               levels=levels, global_lstm=global_lstm, executor=chunks)
        except LstmtuneError:  # bad input found after the store was linked in: nothing is left beside --out
            if seeded:
                output.drop_checkpoint(partial)
            raise
        if result.exit_code != 2:  # no series forecast: nothing is written (the reasons are printed)
            result.save(out)
            output.keep_checkpoint(partial, out, result.verdicts)  # a later run into --out recomputes only what changed
        output.drop_checkpoint(partial)
        return result

    def kept() -> str:
        if partial.is_dir() and any(partial.iterdir()):
            return "the series finished so far are kept in {out}; run the same command again to resume."
        return "no series had finished; nothing was written."

    def finished(result) -> str:
        if result.exit_code == 2:
            return "the command had finished; no series could be forecast, nothing was written"
        return f"the command had finished: its outputs in {_u(out)} are complete"

    result = _interruptible(forecast_and_save, partial, kept, finished)
    if not quiet:
        table = Table(title=f"lstmtune auto: {len(result.verdicts)} series, horizon {horizon}")
        table.add_column("series")
        table.add_column("forecast by")
        table.add_column("verdict")
        chosen = result.forecasts.drop_duplicates("unique_id").set_index("unique_id")["model"]
        for uid, text in result.verdicts.items():
            table.add_row(_n(uid), _u(chosen.get(uid, "—")), _u(text))
        console.print(table)
        if result.utc:
            from lstmtune.auto.output import names

            console.print(f"note: {_n(names(result.utc))}: {UTC_NOTE} (readings finer than daily, so that a change of offset repeats or skips "
                          "no hour); forecasts.csv and backtests.csv mark them +00:00", highlight=False, soft_wrap=True)
        source = f"the earlier run into {_u(out)}" if seeded else "the interrupted run's checkpoint"
        again = f" ({result.resumed} series read back from {source}: their data and settings unchanged)" if result.resumed else ""
        if result.exit_code != 2:
            console.print(f"{result.wall_s:.1f} s{again}. Forecasts, leaderboard, backtests and report in {_u(out)}")
    elif result.exit_code:  # quiet: still one line per series that could not be forecast (the others are in the leaderboard)
        board = result.leaderboard
        for uid, why in board.loc[board["status"] == "skipped", ["unique_id", "reason"]].drop_duplicates("unique_id").itertuples(index=False):
            err_console.print(f"[bold yellow]skipped:[/] {_n(uid)}: {_u(why)}", highlight=False, soft_wrap=True)
    if result.exit_code == 2:
        err_console.print("[bold red]error:[/] no series could be forecast (the reasons are above); nothing was written", highlight=False)
    if result.exit_code:
        raise typer.Exit(code=result.exit_code)


def _forecast(frame, horizon: int, quiet: bool, **options):
    """:func:`lstmtune.auto.run.auto` on ``frame``, with a progress bar of series unless ``quiet``."""
    from lstmtune.auto.run import auto as run_auto

    if quiet:
        return run_auto(frame, horizon, **options)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # not on a terminal the bar draws nothing but would leave a blank line before an error
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console, transient=True,
                  disable=not err_console.is_terminal) as bar:
        task = bar.add_task("series", total=frame["unique_id"].nunique())

        def progress(uid, stage, done, total):
            bar.update(task, completed=done + (stage == "done"), description=f"{_n(uid)}: {_u(stage)}")

        return run_auto(frame, horizon, progress=progress, **options)
