"""The ``lstmtune`` command line: a thin registry of commands over the library.

Every command parses its arguments, calls the public API and prints. Bad input
(:class:`~lstmtune.errors.LstmtuneError`) is printed as one red line and exits
with status 2; nothing is written.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lstmtune.errors import LstmtuneError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Seed-aware tuning of LSTM forecasters.")
console = Console()
err_console = Console(stderr=True)

DataArg = Annotated[str, typer.Argument(help="Built-in dataset name (see `lstmtune datasets`) or a CSV path.")]
DateCol = Annotated[Optional[str], typer.Option("--date-column", help="CSV column holding dates (detected if omitted).")]
ValueCol = Annotated[Optional[str], typer.Option("--value-column", help="CSV column holding values (detected if omitted).")]


def _handles_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LstmtuneError as err:
            err_console.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper


def baseline_table(baselines, title: str = "Baselines (walk-forward, one step ahead)") -> Table:
    table = Table(title=title)
    table.add_column("baseline")
    for metric in ("RMSE", "MAE", "MAPE %", "sMAPE %", "MASE"):
        table.add_column(metric, justify="right")
    for b in baselines:
        s = b.scores
        table.add_row(b.name, f"{s['rmse']:.3f}", f"{s['mae']:.3f}", f"{s['mape']:.2f}", f"{s['smape']:.2f}", f"{s['mase']:.3f}")
    return table


@app.command()
@_handles_errors
def datasets() -> None:
    """List the built-in datasets with their length and date range."""
    from lstmtune.data import describe_builtins

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
    period: Annotated[int, typer.Option(help="Seasonal naive period.")] = 12,
    date_column: DateCol = None,
    value_column: ValueCol = None,
) -> None:
    """Score the baseline forecasts (persistence, seasonal naive, training mean)."""
    from lstmtune import baselines
    from lstmtune.data import load

    series = load(data, date_column=date_column, value_column=value_column)
    results = baselines.evaluate_all(series.values, test_size=test_size, period=period)
    console.print(f"{series.name}: {len(series)} observations, last {test_size} are the test set")
    console.print(baseline_table(results))


@app.command("plot-series")
@_handles_errors
def plot_series(
    data: DataArg = "shampoo",
    output: Annotated[Path, typer.Option("-o", "--output", help="PNG file to write.")] = Path("series.png"),
    test_size: Annotated[int, typer.Option(help="Shade the last N observations as the test set (0: none).")] = 12,
    date_column: DateCol = None,
    value_column: ValueCol = None,
) -> None:
    """Plot a series to a PNG file."""
    from lstmtune.data import load
    from lstmtune.report import figures

    series = load(data, date_column=date_column, value_column=value_column)
    if not 0 <= test_size < len(series):
        raise LstmtuneError(f"--test-size must be between 0 and {len(series) - 1}, got {test_size}")
    figures.series_plot(series.dates, series.values, output, title=f"{series.name} ({series.value_name})", test_size=test_size or None)
    console.print(f"wrote {output}")


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
