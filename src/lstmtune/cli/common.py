"""What every command shares: the Typer app, the consoles, common options, and how bad
input becomes one red line and exit status 2 (:func:`_handles_errors`)."""

from __future__ import annotations

import functools
import re
import sys
import time
from pathlib import Path

_PROCESS_T0 = time.perf_counter()  # as early as the command's module is imported: the wall time printed is the process's
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperCommand, TyperGroup

from lstmtune.cli.signals import _Terminated, handled
from lstmtune.errors import LstmtuneError, on_the_command_line

# Tables need room: when output is not a terminal (pipes, CI logs) use 120 columns, not 80; and
# there a line is never folded (a long file path folded `plan`'s "skipped: ... duplicate date"
# line in two, in a log).
# emoji=False: a path or address holding ":smile:" or ":abc" is printed as written, not as an emoji (a probe)
console = Console(width=None if sys.stdout.isatty() else 120, soft_wrap=not sys.stdout.isatty(), emoji=False)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 120, soft_wrap=not sys.stderr.isatty(), emoji=False)


class _Commands(TyperGroup):
    """The command group: a usage error (an unknown option, a value of the wrong type, a
    missing argument) is one ``error:`` line naming the command and what is wrong, exit
    status 2, as for every other bad input; Typer would draw a box of several lines."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except typer.Abort:  # end of input at a prompt
            err_console.print("[bold red]error:[/] aborted", highlight=False)
            sys.exit(1)
        except typer.TyperException as err:  # Typer's usage errors and parameter errors
            sys.exit(_usage_error(err))
        sys.exit(code if type(code) is int else 0)  # an explicit exit's status (see invoke), else success

    def invoke(self, ctx):
        """Run the command; what it returns is not an exit status (Typer ignores it too), so
        :meth:`main` receives either None or the status of an explicit ``typer.Exit``."""
        super().invoke(ctx)


def _usage_error(err) -> int:
    """Print a Typer usage error in one line; its exit status."""
    ctx = getattr(err, "ctx", None)
    if type(err).__name__ == "NoArgsIsHelpError":  # `lstmtune` alone: its help, already printed
        return err.exit_code
    where = f"{ctx.command_path}: " if ctx is not None else ""
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    message = " ".join(err.format_message().split())  # one line, whatever Typer wrapped
    err_console.print(f"[bold red]error:[/] {_u(where + message + hint)}", highlight=False, soft_wrap=True)
    return err.exit_code


_NUMBER = re.compile(r"\d+(\.\d*)?")


def spread(args: list[str], flag: str) -> list[str]:
    """``FLAG a b c`` as ``FLAG a FLAG b FLAG c``: the numbers after a repeatable option's value
    (or after ``FLAG=a``) are its further values, as statsforecast's ``level=[80, 95]`` reads and
    as users write it; what is not a plain number ends them, and ``--`` ends the options."""
    out, i = [], 0
    while i < len(args):
        arg = args[i]
        out.append(arg)
        i += 1
        if arg == "--":
            return out + list(args[i:])
        if arg == flag and i < len(args):
            out.append(args[i])
            i += 1
            value = args[i - 1]
        elif arg.startswith(flag + "="):
            value = arg[len(flag) + 1:]
        else:
            continue
        if not _NUMBER.fullmatch(value):  # a bad first value is Click's to name, alone
            continue
        while i < len(args) and _NUMBER.fullmatch(args[i]):
            out += [flag, args[i]]
            i += 1
    return out


class Levels(TyperCommand):
    """A command whose ``--level`` takes several values at once: ``--level 80 95`` is ``--level
    80 --level 95`` (:func:`spread`)."""

    def parse_args(self, ctx, args):
        return super().parse_args(ctx, spread(list(args), "--level"))


app = typer.Typer(cls=_Commands, add_completion=False, no_args_is_help=True, help="Seed-aware tuning of LSTM forecasters.")

DEFAULT_MAX_RUNS = 1_000_000  # lstmtune.study.budget.DEFAULT_MAX_RUNS (not imported: keeps --help fast)
MaxRuns = Annotated[int, typer.Option("--max-runs", min=1, help="Refuse a study that plans more trainings than this (with --data PANEL.csv: each series's study, not the panel's total).")]
DataArg = Annotated[str, typer.Argument(help="Built-in dataset name (see `lstmtune datasets`) or a CSV path.")]
DateCol = Annotated[Optional[str], typer.Option("--date-column", help="CSV column holding dates (detected if omitted).")]
ValueCol = Annotated[Optional[str], typer.Option("--value-column", help="CSV column holding values (detected if omitted).")]
DateFormat = Annotated[Optional[str], typer.Option("--date-format", help="strftime format of the dates, e.g. %m/%d/%Y (default: ISO, Y-MM, 1959Q1, years).")]
Missing = Annotated[str, typer.Option("--missing", help="Missing values: error (default), interpolate or drop (a row dropped inside the series leaves its date absent, which forecast --data refuses: interpolate there).")]


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LONG_WORD = re.compile(r"\S{201,}")


def _u(text) -> str:
    """A user's string (a name, label, path, value) made safe to print: terminal control
    characters shown as escapes, Rich markup characters escaped, and a word of over 200
    characters (a 1 MB cell, key or path) cut to its two ends."""
    text = _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], str(text))
    return escape(_LONG_WORD.sub(lambda m: f"{m[0][:120]}...{m[0][-60:]} ({len(m[0]):,} chars)", text))


_BREAKS = re.compile(r"[\t\n]")


def _n(text) -> str:
    """A name (a series, a file) made safe to print on one line: :func:`_u`, with tabs and line
    breaks shown as escapes too (a message's own lines are kept by :func:`_u`)."""
    return _u(_BREAKS.sub(lambda m: repr(m.group(0))[1:-1], str(text)))


def _fail(message: str) -> typer.Exit:
    """Print ``message`` as ``error:`` lines (one per offending key or value); exit status 2."""
    for line in message.splitlines() or [""]:
        err_console.print(f"[bold red]error:[/] {_u(line)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def _handles_errors(fn):
    """Bad input and the environment's refusals become one line each and exit status 2.

    Caught: :class:`LstmtuneError` (bad input); ``OSError`` (a read-only folder, a full
    disk, a directory given for a file: the message names the path); SQLAlchemy's
    ``OperationalError`` (a read-only, locked or full database) and its bare
    ``DatabaseError`` (a corrupt or truncated file). Anything else is a programming
    error and keeps its traceback.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with handled(any_sigterm=False), on_the_command_line():  # SIGTERM ended fit, forecast and report with 143 and nothing said (a probe)
                return fn(*args, **kwargs)
        except KeyboardInterrupt as err:  # Ctrl-C or SIGTERM where no long-running part says what it kept (reading, fitting, printing)
            what = "terminated" if isinstance(err, _Terminated) else "interrupted"
            err_console.print(f"[yellow]{what}[/]: no output is left half-written (each is moved into place only once complete)", highlight=False, soft_wrap=True)
            raise typer.Exit(code=143 if isinstance(err, _Terminated) else 130) from None
        except LstmtuneError as err:
            raise _fail(_naming_the_study_file(err, kwargs.get("study_file"))) from None
        except OSError as err:  # the environment: permissions, a full disk, a directory for a file
            where = f"{err.filename}: " if err.filename else ""
            if isinstance(err, NotADirectoryError) and err.filename:  # a path under a file: name the file
                blocker = next((p for p in Path(str(err.filename)).parents if p.is_file()), None)
                if blocker is not None:
                    raise _fail(f"{where}{blocker} is a file, not a directory") from None
            raise _fail(where + (err.strerror or str(err))) from None
        except Exception as err:
            db_error = sys.modules.get("sqlalchemy.exc")
            if db_error is None or not (isinstance(err, db_error.OperationalError) or type(err) is db_error.DatabaseError):
                raise  # a programming error (IntegrityError, ProgrammingError, ...): keep its traceback
            # the database refused (read-only, locked, disk full, corrupt): claims were released by the runner
            raise _fail(f"database: {err.orig}") from None

    return wrapper


def _naming_the_study_file(err: LstmtuneError, study_file) -> str:
    """A study's settings refused (:class:`~lstmtune.errors.SpecError`) by a command given a study
    file: the message names that file, as the file's own checks do (``FILE: key: ...``), where it
    does not already (settings that do not fit the data are refused once the data are read)."""
    from lstmtune.errors import SpecError

    text = str(err)
    if isinstance(err, SpecError) and isinstance(study_file, Path) and study_file.suffix.lower() == ".toml" and study_file.name not in text:
        return f"{study_file}: {text}"
    return text


def check_cpu_devices() -> None:
    """``$LSTMTUNE_CPU_DEVICES`` refused in one line before anything is written or trained."""
    from lstmtune.engine import xla

    try:
        xla.cpu_devices()
    except ValueError as err:
        raise LstmtuneError(str(err)) from None


def baseline_scale(baselines) -> float | None:
    """The scale whose digits a table of baselines' errors shows: persistence's RMSE (else the first's)."""
    scales = [b.scores["rmse"] for b in baselines if b.name == "persistence"] or [b.scores["rmse"] for b in baselines]
    return scales[0] if scales else None


def baseline_table(baselines, title: str = "Baselines (walk-forward, one step ahead)") -> Table:
    table = Table(title=title)
    table.add_column("baseline")
    for metric in ("RMSE", "MAE", "MAPE %", "sMAPE %", "MASE"):
        table.add_column(metric, justify="right")
    from lstmtune.report.pages import number

    scale = baseline_scale(baselines)  # the decimals of the data's scale (at least 3: shampoo's 136.761)
    for b in baselines:
        s = b.scores
        table.add_row(b.name, number(s["rmse"], scale, 3), number(s["mae"], scale, 3), f"{s['mape']:.2f}", f"{s['smape']:.2f}", f"{s['mase']:.3f}")
    return table
