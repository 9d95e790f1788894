"""How a user's cells, columns and CSV lines are named in messages."""

from __future__ import annotations

import functools

import pandas as pd


def show(text: str, limit: int = 60) -> str:
    """``repr`` of a user's text for a message: control characters escaped, at most ``limit`` characters."""
    r = repr(text)
    return r if len(r) <= limit else r[: limit - 12] + f"...' ({len(text):,} chars)"


def csv_error(err: Exception, path=None) -> str:
    """Why pandas could not read a CSV, for a message: a row with more fields than the header
    named at its line (pandas says "Error tokenizing data. C error: Expected 2 fields in line 7,
    saw 3", not counting the line breaks inside quoted fields before it: the file ``path``
    gives the line itself), else pandas' words, shown as a user's text."""
    import re

    ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
    if ragged:
        want, line, saw = ragged.groups()
        return f"line {_physical_line(path, int(line))} has {saw} fields, the lines before it {want}"
    quote = re.search(r"EOF inside string starting at row (\d+)", str(err))
    if quote:  # pandas counts rows from 0 at the header, quoted line breaks not counted: line row + 1
        return f"line {_physical_line(path, int(quote.group(1)) + 1)}: a quoted field opens there and is never closed (an unmatched '\"')"
    if isinstance(err, UnicodeDecodeError) and path is not None:  # pandas gives a byte position in the part it read: the line instead
        where = _not_utf8(path)
        if where:
            return where
    return show(str(err).strip(), 200)


COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst", ".tar")
"""Suffixes of files pandas decompresses: their raw bytes name no line."""


def _not_utf8(path) -> str | None:
    """Where the file ``path`` stops being UTF-8 text, for a message: a UTF-16 file said so, else
    the first line with a byte that is not UTF-8 (read line by line); None for a compressed file
    (pandas decompresses it: its raw bytes say nothing) or one that cannot be read."""
    from pathlib import Path

    if Path(path).suffix.lower() in COMPRESSED:
        return None
    try:
        with open(path, "rb") as f:
            for number, line in enumerate(f, start=1):
                if number == 1 and line[:2] in (b"\xff\xfe", b"\xfe\xff"):
                    return "the file is UTF-16 text (save it as UTF-8)"
                try:
                    line.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as bad:
                    start = bad.start + (3 if number == 1 and line.startswith(b"\xef\xbb\xbf") else 0)
                    return f"line {number}: byte {line[start:start + 1]!r} is not UTF-8 text (save the file as UTF-8)"
    except OSError:
        return None
    return None


def nul_byte(path) -> str | None:
    """Where the file ``path`` holds a NUL byte, for a message; None where it holds none, is
    compressed (pandas decompresses it) or cannot be read. pandas' reader ends a cell at a NUL
    byte without a word: ``12\\x003`` was read as 12 (a probe)."""
    from pathlib import Path

    if Path(path).suffix.lower() in COMPRESSED:
        return None
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    at = data.find(b"\x00")
    if at < 0:
        return None
    line = data.count(b"\n", 0, at) + 1
    return f"line {line}: a NUL byte (\\x00) in the text (a binary file, or UTF-16 text without its mark? save it as UTF-8 text)"


def _columns(frame: pd.DataFrame, limit: int = 12) -> str:
    """The frame's column names for a message (each shortened, at most ``limit`` of them)."""
    names = [show(str(c), 40) for c in frame.columns[:limit]]
    return "[" + ", ".join(names) + (f", ... ({frame.shape[1]} columns)" if frame.shape[1] > limit else "") + "]"


def day(when) -> str:
    """A date as a message shows it: its day, or its time where it has one (hourly data)."""
    when = pd.Timestamp(when)
    return str(when.date() if when == when.normalize() else when)


CLOCK_CHANGE = ("; local clock times? a clock change skips an hour in spring and repeats one in autumn: "
                "give the times with their UTC offsets (2021-03-28T03:00:00+02:00, say), which are read as UTC")


def clock_change(stamps) -> str:
    """:data:`CLOCK_CHANGE` where times absent from a series or repeated in it all fall early on
    a Sunday morning, as a local clock's change does (Europe's and North America's both); else
    "". A probe's hourly series across a change was told to "add the rows" of an hour that its
    clock never showed."""
    when = pd.DatetimeIndex(pd.to_datetime(list(stamps)))
    if len(when) == 0 or (when == when.normalize()).all():
        return ""
    hour = (when.minute == 0) & (when.second == 0)  # whole hours (a minute missing in June is not a clock's change: a review)
    season = when.month.isin([3, 4, 9, 10, 11])  # the months clocks change in, north and south
    return CLOCK_CHANGE if ((when.dayofweek == 6) & (when.hour < 4) & hour & season).all() else ""


def some_dates(dates) -> str:
    """The first three of ``dates`` (:func:`day`), and an ellipsis for more."""
    return ", ".join(day(d) for d in dates[:3]) + (", ..." if len(dates) > 3 else "")


def _line(row: int, path=None) -> int:
    """The line of the CSV file ``path`` on which data row ``row`` (0-based, as pandas numbers
    the rows it read) starts: ``row + 2`` (line 1 the header) unless the file has blank lines,
    which pandas skips, or a quoted field over several lines (:func:`_scan`)."""
    scan = _scan_of(path)
    starts = scan[0] if scan is not None else ()
    return starts[row + 1] if 0 <= row + 1 < len(starts) else row + 2


def _physical_line(path, line: int) -> int:
    """The line of the file ``path`` that pandas' tokenizer calls ``line`` (it does not count
    the line breaks inside quoted fields); ``line`` itself where the file has none or cannot be read."""
    scan = _scan_of(path)
    return scan[1].get(line, line) if scan is not None else line


def _scan_of(path) -> tuple[tuple[int, ...], dict[int, int]] | None:
    """:func:`_scan`, read once per version of the file (a message may name many rows)."""
    import os

    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _scan(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=8)
def _scan(path, _mtime_ns: int = 0, _size: int = 0) -> tuple[tuple[int, ...], dict[int, int]] | None:
    """The CSV file ``path``'s records, as Python's csv module reads them: the line each record
    pandas keeps starts on (the header's first; blank lines skipped, as pandas skips them), and
    pandas' tokenizer's line number of each record -> the line it starts on. None where every
    record is one line after a header on line 1 (no blank line, no quote), or the file cannot be
    read as text."""
    import csv
    import io
    from pathlib import Path

    if Path(path).suffix.lower() in COMPRESSED:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if '"' not in text and not any(not line.strip() for line in text.splitlines()):
        return None
    starts, lines, reader, before, inside = [], {}, csv.reader(io.StringIO(text, newline="")), 0, 0
    try:
        for record in reader:
            first = before + 1
            lines[first - inside] = first  # the tokenizer does not count line breaks inside quotes
            if record and not (len(record) == 1 and not record[0].strip()):  # a blank or whitespace-only line: skipped
                starts.append(first)
            inside += reader.line_num - first
            before = reader.line_num
    except csv.Error:
        return None
    return tuple(starts), lines
