"""Commands about data: ``datasets``, ``baseline``, ``plot-series``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from lstmtune.cli.common import (
    app, console, err_console, _u, _handles_errors, baseline_table, baseline_scale, DataArg, DateCol, ValueCol, DateFormat, Missing,
)
from lstmtune.errors import LstmtuneError


def _refuse_panel(data, what: str) -> None:
    """Refuse a long panel where one series is read, saying so (not "duplicate date")."""
    from lstmtune.data import panel

    if Path(str(data)).is_file() and panel.is_panel_file(data):
        raise LstmtuneError(f"{data}: a long panel (it has a unique_id column); {what}: give one series' rows, "
                            "or compare every series with `lstmtune auto --candidates stats`")


@app.command()
@_handles_errors
def datasets() -> None:
    """List the built-in datasets with their length and date range."""
    from lstmtune.data.series import describe_builtins

    table = Table(title="Built-in datasets")
    for col in ("name", "length", "start", "end", "description"):
        table.add_column(col)
    for row in describe_builtins():
        table.add_row(*(str(row[c]) for c in ("name", "length", "start", "end", "description")))
    console.print(table)


@app.command()
@_handles_errors
def baseline(
    data: DataArg = "shampoo",
    test_size: Annotated[int, typer.Option(help="Number of final observations forecast.")] = 12,
    period: Annotated[Optional[int], typer.Option(help="Seasonal period (omitted: inferred from the dates' frequency).")] = None,
    lags: Annotated[int, typer.Option(help="Order of the first AR baseline (a second is chosen by AIC).")] = 1,
    date_column: DateCol = None,
    value_column: ValueCol = None,
    date_format: DateFormat = None,
    missing: Missing = "error",
    models: Annotated[str, typer.Option("--models", help="statsmodels (AR(p), exponential smoothing) or statsforecast (AutoETS, AutoARIMA): as \\[evaluation] baselines.")] = "statsmodels",
) -> None:
    """Score the baseline forecasts (persistence, seasonal naive, training mean, AR(p), exponential smoothing)."""
    from lstmtune.selection import baselines
    from lstmtune.data.series import load

    _refuse_panel(data, "baseline scores one series")
    # the test split filled apart, as a study fills it (no training value interpolated from a
    # test observation: the baselines here disagreed with `run`'s on the same data, a probe)
    series = load(data, date_column=date_column, value_column=value_column, date_format=date_format, missing=missing, apart=max(test_size, 0))
    for note in series.notes:
        err_console.print(f"[yellow]note:[/] {_u(note)}", highlight=False)
    if lags < 1:
        raise LstmtuneError(f"--lags must be 1 or more, got {lags}")
    least = baselines.ar_min_differences(lags) + 1  # training observations an AR(lags) fit needs
    if len(series) < least + 1:
        raise LstmtuneError(f"{series.name}: {len(series)} observation{'' if len(series) == 1 else 's'} {'is' if len(series) == 1 else 'are'} too few for the baselines: "
                            f"{least} to train on (--lags {lags}) and 1 to test, at least")
    if not 1 <= test_size <= len(series) - least:
        raise LstmtuneError(f"--test-size must be between 1 and {len(series) - least} for {len(series)} observations "
                            f"(the baselines train on {least} or more with --lags {lags}), got {test_size}")
    train = len(series) - test_size
    if period is not None and not 1 <= period < train:
        raise LstmtuneError(f"--period must be between 1 and {train - 1} (fewer than the {train} training observations), got {period}")
    if models not in ("statsmodels", "statsforecast"):
        raise LstmtuneError(f"--models must be statsmodels or statsforecast, got {models!r}")
    baselines.check_scoreable(series.values, test_size, name=series.name)  # as `lstmtune run` does, before scoring
    from lstmtune.data.series import regular_frequency

    inferred = series.period
    period = inferred if period is None else period
    results, unavailable = baselines.evaluate(series.values, test_size=test_size, period=period, lags=lags, models=models)
    console.print(
        f"frequency {'positions (values only)' if series.positional else (regular_frequency(series.dates) or 'irregular')}; seasonal period "
        f"{period if period else 'none'}{' (inferred)' if period == inferred and period else ''}",
        highlight=False,
    )
    console.print(f"{_u(series.name)}: {len(series)} observations, last {test_size} are the test set", highlight=False)
    console.print(baseline_table(results))
    for u in unavailable:
        console.print(f"not available: {_u(u.name)}: {_u(u.reason)}", highlight=False)
    best = baselines.best_baseline(results)
    from lstmtune.report.pages import number

    console.print(f"best baseline: {_u(best.name)} (RMSE {number(best.scores['rmse'], baseline_scale(results), 3)}); {_u(best.description)}", highlight=False)


@app.command("plot-series")
@_handles_errors
def plot_series(
    data: DataArg = "shampoo",
    output: Annotated[Path, typer.Option("-o", "--output", help="PNG file to write.")] = Path("series.png"),
    test_size: Annotated[Optional[int], typer.Option(help="Shade the last N observations as the test set (0: none; default 12, none for a series of 12 or fewer).")] = None,
    date_column: DateCol = None,
    value_column: ValueCol = None,
    date_format: DateFormat = None,
    missing: Missing = "error",
) -> None:
    """Plot a series to a PNG file."""
    from lstmtune.data.series import load
    from lstmtune.report import figures

    if output.is_dir():
        raise LstmtuneError(f"-o {output}: is a directory; give a PNG file name")
    if output.suffix.lower() != ".png":
        raise LstmtuneError(f"-o {output}: give a file name ending in .png")
    from lstmtune.store.fileio import file_in_the_way

    blocked = file_in_the_way(output)
    if blocked is not None:
        raise LstmtuneError(f"-o {output}: {blocked} is a file, not a folder")
    if Path(data).exists() and Path(data).resolve() == output.resolve():
        raise LstmtuneError(f"-o {output}: is the data file itself; give another name")
    _refuse_panel(data, "plot-series draws one series")
    series = load(data, date_column=date_column, value_column=value_column, date_format=date_format, missing=missing)
    for note in series.notes:
        err_console.print(f"[yellow]note:[/] {_u(note)}", highlight=False)
    if test_size is None:  # the default: the study's 12, where the series is long enough to shade them
        test_size = 12 if len(series) > 12 else 0
    if not 0 <= test_size < len(series):
        raise LstmtuneError(f"--test-size must be between 0 and {len(series) - 1}, got {test_size}")
    figures.series_plot(series.axis, series.values, output, title=f"{series.name} ({series.value_name})", test_size=test_size or None)
    console.print(f"wrote {_u(output)}", highlight=False)
