"""How a user's cells, columns and CSV lines are named in messages."""

from __future__ import annotations

import pandas as pd


def show(text: str, limit: int = 60) -> str:
    """``repr`` of a user's text for a message: control characters escaped, at most ``limit`` characters."""
    r = repr(text)
    return r if len(r) <= limit else r[: limit - 12] + f"...' ({len(text):,} chars)"


def csv_error(err: Exception) -> str:
    """Why pandas could not read a CSV, for a message: a row with more fields than the header
    named at its line (pandas says "Error tokenizing data. C error: Expected 2 fields in line 7,
    saw 3"), else pandas' words, shown as a user's text."""
    import re

    ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
    if ragged:
        want, line, saw = ragged.groups()
        return f"line {line} has {saw} fields, the lines before it {want}"
    return show(str(err).strip(), 200)


def _columns(frame: pd.DataFrame, limit: int = 12) -> str:
    """The frame's column names for a message (each shortened, at most ``limit`` of them)."""
    names = [show(str(c), 40) for c in frame.columns[:limit]]
    return "[" + ", ".join(names) + (f", ... ({frame.shape[1]} columns)" if frame.shape[1] > limit else "") + "]"


def day(when) -> str:
    """A date as a message shows it: its day, or its time where it has one (hourly data)."""
    when = pd.Timestamp(when)
    return str(when.date() if when == when.normalize() else when)


def some_dates(dates) -> str:
    """The first three of ``dates`` (:func:`day`), and an ellipsis for more."""
    return ", ".join(day(d) for d in dates[:3]) + (", ..." if len(dates) > 3 else "")


def _line(row: int) -> int:
    """CSV line number of data row ``row`` (0-based); line 1 is the header."""
    return row + 2
