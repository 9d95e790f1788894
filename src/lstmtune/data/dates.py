"""Parsing a CSV's date column: ISO dates, the tutorial's ``Y-MM``, quarters, years or an
explicit format; dates with time-zone offsets made zone-free (:func:`without_zone`); dates outside
``datetime64[ns]`` named, never wrapped. Detection tries each column; every refusal names the
file, line and column.

Works with pandas 2 and 3: pandas 2 turns an out-of-range date into NaT and a column of mixed
offsets into objects where pandas 3 parses the first at a coarser unit and refuses the second;
:func:`_to_datetime` gives both the same shape (mixed offsets, under pandas 3, cell by cell).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from lstmtune.data.messages import _columns, _line, show
from lstmtune.errors import DataError

_TUTORIAL_MONTH = re.compile(r"^\d-\d{2}$")

# pandas' datetime64[ns] spans 1677-09-21 to 2262-04-11; dates outside would wrap silently.
_MIN_DATE, _MAX_DATE = pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D")


_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")


def check_format(date_format: str | None) -> None:
    """Refuse a ``strftime`` format Python cannot parse with (``%Q``, a stray ``%``) in one line,
    before any file is read.

    Raises:
      DataError: naming the format and what Python said of it.
    """
    if date_format is None or date_format in ("ISO8601", "mixed"):  # pandas' own two
        return
    try:
        _dt.datetime.strptime("", date_format)
    except ValueError as err:
        if "does not match format" not in str(err):  # the format itself is bad, not the (empty) text
            raise DataError(f"date format {show(date_format)}: {err} (Python's strftime codes, e.g. %Y-%m-%d or %d/%m/%Y)") from None
_YEAR = re.compile(r"^\d{3,4}$")
_YEAR_NAMES = {"year", "years", "yr", "yyyy", "annee", "jahr", "ano", "año"}


def _python_date(cell, fmt: str) -> _dt.datetime | None:
    """``cell`` parsed by Python (years 1 to 9999), naive UTC; None when it is not a date."""
    if not isinstance(cell, str) or not cell:
        return None
    try:
        d = _dt.datetime.fromisoformat(cell) if fmt == "ISO8601" else _dt.datetime.strptime(cell, fmt)
    except ValueError:
        return None
    return d.astimezone(_dt.timezone.utc).replace(tzinfo=None) if d.tzinfo is not None else d


def without_zone(parsed: pd.Series) -> pd.Series:
    """Timestamps with a time zone or offset as timestamps without one; others as they are.

    They keep their local date and time where every one is at the same time of day (midnight,
    or a reading taken at 09:00 each day: daily data or coarser, whose local date is the period,
    which UTC would move to the day before or, across a change to summer time, to another hour);
    finer ones become UTC times, so that a change to summer time repeats or skips no hour. ``parsed`` has
    one zone (a zoned dtype) or, as objects, several offsets. The panel reader, the
    single-series loader and pandas histories share this rule.
    """
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        local = parsed.dt.tz_localize(None)
    elif parsed.dtype == object:
        local = pd.to_datetime(parsed.map(lambda t: t.replace(tzinfo=None) if isinstance(t, (pd.Timestamp, _dt.datetime)) else pd.NaT), errors="coerce")
    else:
        return parsed
    known = local.dropna()
    if (known - known.dt.normalize()).nunique() <= 1:  # one time of day: daily or coarser, kept as the local calendar has it
        return local
    seen = _MADE_UTC.get()
    if seen is not None and (isinstance(parsed.dtype, pd.DatetimeTZDtype) or any(getattr(t, "tzinfo", None) is not None for t in parsed)):
        seen.append(True)  # zoned times made UTC (naive ones among objects stay as they are)
    return pd.to_datetime(parsed, utc=True, errors="coerce").dt.tz_localize(None)


_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")  # a date alone: with a time, the format would need it too


def format_hint(cell: str) -> str:
    """For a date written day and month first (``06/26/2023``, ``26.06.2023``), the
    ``--date-format`` that reads it, in parentheses ('' for anything else): ISO 8601 is read
    without one, these are not (which comes first is the writer's convention)."""
    found = _DAY_MONTH_YEAR.fullmatch(str(cell).strip())
    if found is None:
        return ""
    first, sep, second = int(found[1]), found[2], int(found[3])
    month_first, day_first = f"%m{sep}%d{sep}%Y", f"%d{sep}%m{sep}%Y"
    if first > 12 and second > 12 or first > 31 or second > 31:  # neither order reads it
        return ""
    if first > 12:
        return f" (give --date-format {day_first})"
    if second > 12:
        return f" (give --date-format {month_first})"
    return f" (give --date-format {month_first} or {day_first})"


_ISO_OFFSET = re.compile(r"\d:\d{2}(:\d{2}(\.\d*)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$")
"""An ISO 8601 time followed by an offset (``Z``, ``+01``, ``+0100``, ``+01:00``)."""


def has_offset(cells: pd.Series) -> pd.Series:
    """Per ISO date cell, whether its text ends in a time-zone offset (:data:`_ISO_OFFSET`);
    None for an empty or missing cell. pandas lends a cell without an offset the offset of the
    cells before it, so a mix is found in the text."""
    return cells.map(lambda c: bool(_ISO_OFFSET.search(c.strip())) if isinstance(c, str) and c.strip() else None).astype(object)


UTC_NOTE = "times with UTC offsets read as UTC times"
"""The start of a :class:`lstmtune.data.series.Series` note (and of what commands say) where
:func:`without_zone` made a series' times UTC."""

_MADE_UTC: contextvars.ContextVar = contextvars.ContextVar("lstmtune_made_utc", default=None)


@contextlib.contextmanager
def recording_utc():
    """A list that gets ``True`` each time :func:`without_zone` makes zoned times UTC times while
    the block runs (in this thread or task): what the readers say of a series' times."""
    seen: list = []
    token = _MADE_UTC.set(seen)
    try:
        yield seen
    finally:
        _MADE_UTC.reset(token)


def _to_datetime(text: pd.Series, fmt: str) -> pd.Series:
    """``pd.to_datetime(text, format=fmt, errors="coerce")`` as pandas 3 gives it under pandas 2
    too, without a time zone (:func:`without_zone`, mixed offsets included).

    A date outside ``datetime64[ns]`` is kept (at microseconds) so that it can be named, not
    made NaT; dates with and without an offset in one column raise ``ValueError`` (callers
    then name the row).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pandas 2: "mixed time zones will raise"
        try:
            parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        except ValueError:  # pandas 3 refuses several offsets in one column: cell by cell
            parsed = text.map(lambda cell: _to_timestamp(cell, fmt) if isinstance(cell, str) else pd.NaT).astype(object)
    if parsed.dtype == object or isinstance(parsed.dtype, pd.DatetimeTZDtype):
        zoned = {t.tzinfo is not None for t in parsed if isinstance(t, pd.Timestamp) and not pd.isna(t)}
        if fmt == "ISO8601":  # pandas 2 gives a cell without an offset the offset of the cells before it
            zoned |= set(has_offset(text[parsed.notna()]).dropna())
        if len(zoned) > 1:
            raise ValueError("dates with and without time-zone offsets")
        return without_zone(parsed)
    lost = np.flatnonzero((parsed.isna() & text.notna()).to_numpy())
    if not lost.size:
        return parsed
    rescued = {i: d for i in lost if (d := _python_date(text.iloc[i], fmt)) is not None}
    if not rescued:
        return parsed
    values = parsed.to_numpy(dtype="datetime64[us]")
    for i, d in rescued.items():
        values[i] = np.datetime64(d, "us")
    return pd.Series(values, index=text.index)


def _to_timestamp(cell: str, fmt: str):
    """One cell as a Timestamp (out-of-range dates kept, see :func:`_to_datetime`), or NaT."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        stamp = pd.to_datetime(cell, format=fmt, errors="coerce")
    if pd.isna(stamp) and (d := _python_date(cell, fmt)) is not None:
        return pd.Timestamp(d)
    return stamp


def quarter_starts(text: pd.Series) -> pd.Series:
    """Quarter labels (``1959Q1``, ``1959-Q1``, ``1959q1``) as the first day of their quarter;
    NaT for any other cell (a panel's column may mix them with ISO dates, series by series)."""
    text = text.map(lambda c: c.strip() if isinstance(c, str) else None)
    labels = text.where(text.str.fullmatch(_QUARTER.pattern, na=False))
    first_month = labels.str.replace(_QUARTER, lambda m: f"{m[1]}-{(int(m[2]) - 1) * 3 + 1:02d}-01", regex=True)
    return pd.to_datetime(first_month, format="%Y-%m-%d", errors="coerce")


def _date_kind(column: pd.Series, name: str, requested: bool, date_format: str | None) -> str:
    """How a date column is written: ``format``, ``quarter``, ``year``, ``tutorial`` or ``iso``."""
    if date_format:
        return "format"
    text = column.str.strip()
    first = text[text != ""].iloc[0] if (text != "").any() else ""
    if _QUARTER.match(first):
        return "quarter"
    if _YEAR.match(first) and (requested or name.strip().lower() in _YEAR_NAMES):
        return "year"
    if _TUTORIAL_MONTH.match(first):
        return "tutorial"
    return "iso"


def _parse_kind(text: pd.Series, kind: str, date_format: str | None = None) -> pd.Series:
    """Cells -> timestamps (NaT where a cell does not parse)."""
    if kind == "format":
        return _to_datetime(text, date_format)
    if kind == "quarter":
        first_month = text.str.replace(_QUARTER, lambda m: f"{m[1]}-{(int(m[2]) - 1) * 3 + 1:02d}-01", regex=True)
        return _to_datetime(first_month.where(text.str.fullmatch(_QUARTER.pattern)), "%Y-%m-%d")
    if kind == "year":
        return _to_datetime(text.where(text.str.fullmatch(_YEAR.pattern)), "%Y")
    if kind == "tutorial":
        return pd.to_datetime("190" + text.where(text.map(lambda s: bool(_TUTORIAL_MONTH.match(s)))), format="%Y-%m", errors="coerce")
    raise ValueError(kind)  # pragma: no cover


def _try_dates(column: pd.Series, name: str = "", requested: bool = False, date_format: str | None = None) -> np.ndarray | None:
    """Parse a column as dates, or return None when any cell fails."""
    text = column.str.strip()
    kind = _date_kind(column, name, requested, date_format)
    if kind in ("format", "quarter", "year"):
        try:
            parsed = _parse_kind(text, kind, date_format)
        except (ValueError, OverflowError):
            return None
        return None if parsed.isna().any() or _out_of_range(parsed).size else parsed.to_numpy(dtype="datetime64[ns]")
    if len(text) and text.map(lambda s: bool(_TUTORIAL_MONTH.match(s))).all():
        text = "190" + text
        parsed = pd.to_datetime(text, format="%Y-%m", errors="coerce")
    else:
        if text.str.fullmatch(r"[-+]?\d+(\.\d*)?").any():
            return None  # plain numbers are values, not dates
        try:
            parsed = _to_datetime(text, "ISO8601")
        except (ValueError, OverflowError):  # e.g. dates with and without offsets: see _parse_dates
            return None
    if parsed.isna().any():
        return None
    if (parsed < _MIN_DATE).any() or (parsed > _MAX_DATE).any():
        return None
    return parsed.to_numpy(dtype="datetime64[ns]")


def _out_of_range(parsed: pd.Series) -> np.ndarray:
    """Rows whose date lies outside datetime64[ns]: pandas parses them at a coarser unit,
    and converting them to nanoseconds would wrap silently (0001-01-01 -> 1754-08-30)."""
    return np.flatnonzero((parsed.notna() & ((parsed < _MIN_DATE) | (parsed > _MAX_DATE))).to_numpy())


def _outside(path: Path, row: int, name: str, cell: str) -> DataError:
    return DataError(f"{path}: line {_line(row, path)}, column {show(name)}: {show(cell)} is outside the supported dates (1678 to 2261)")


def _offset_change(seen: set, stamp: pd.Timestamp) -> str | None:
    """Record whether ``stamp`` has a time-zone offset; say so where the rows before differ.
    Different offsets are fine (:func:`without_zone`); a date with one among dates without is not."""
    has = stamp.tzinfo is not None
    seen.add(has)
    if len(seen) == 1:
        return None
    return "has a time-zone offset, unlike the rows before it" if has else "has no time-zone offset, unlike the rows before it"


def _refuse_mixed_offsets(path: Path, name: str, text: pd.Series, date_format: str) -> None:
    """Raise naming the first row with a time-zone offset where the rows before had none, or the reverse."""
    offsets: set = set()
    for row, cell in enumerate(text):
        stamp = _to_timestamp(cell, date_format)
        change = None if pd.isna(stamp) else _offset_change(offsets, stamp)
        if change:
            raise DataError(f"{path}: line {_line(row, path)}, column {show(name)}: {show(cell)} {change}; give every date an offset, or none")


def _choose_date_column(path: Path, frame: pd.DataFrame, requested: str | None, date_format: str | None = None) -> str:
    if requested is not None:
        if requested not in frame.columns:
            raise DataError(f"{path}: --date-column {show(requested)} not found; columns are {_columns(frame)}")
        return requested
    candidates = [c for c in frame.columns if _try_dates(frame[c], c, False, date_format) is not None]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        # A date column with a few bad cells (a footer line, a gap): pick it so
        # the error names the offending line instead of giving up on detection.
        mostly = [c for c in frame.columns if _date_fraction(frame[c], c, date_format) >= 0.5]
        if len(mostly) == 1:
            return mostly[0]
        if date_format is not None:  # the format was given: it is the one that fits no column
            raise DataError(f"{path}: no column parses as dates in the format {show(date_format)} (--date-format); "
                            f"columns are {_columns(frame)}; name the date column with --date-column to see its first bad line")
        raise DataError(
            f"{path}: no column parses as dates (ISO such as 1901-01-31, Y-MM such as 1-01, quarters such as 1959Q1, "
            f"or years in a column named year); columns are {_columns(frame)}; name one with --date-column "
            "and give its format with --date-format (e.g. %m/%d/%Y)"
        )
    raise DataError(f"{path}: several columns look like dates {candidates}; choose one with --date-column")


def _date_fraction(column: pd.Series, name: str = "", date_format: str | None = None) -> float:
    """Share of a column's cells that parse as dates (in the form its first cell suggests)."""
    text = column.str.strip()
    kind = _date_kind(column, name, False, date_format)
    if kind in ("format", "quarter", "year"):
        try:
            return float(_parse_kind(text, kind, date_format).notna().mean()) if len(text) else 0.0
        except (ValueError, OverflowError):  # mixed time-zone offsets: count with UTC, refused later naming the row
            try:
                return float(pd.to_datetime(text, format=date_format, errors="coerce", utc=True).notna().mean()) if kind == "format" else 0.0
            except (ValueError, OverflowError):
                return 0.0
    if text.str.fullmatch(r"[-+]?\d+(\.\d*)?").mean() > 0.5:
        return 0.0
    tutorial = text.map(lambda s: bool(_TUTORIAL_MONTH.match(s)))
    try:
        iso = _to_datetime(text.where(~tutorial), "ISO8601").notna()
    except (ValueError, OverflowError):  # mixed time-zone offsets: parse with UTC to count
        iso = pd.to_datetime(text.where(~tutorial), format="ISO8601", errors="coerce", utc=True).notna()
    return float((tutorial | iso).mean()) if len(text) else 0.0


def parse_column(path: Path, column: pd.Series, name: str, requested: bool = False, date_format: str | None = None, made_utc: list | None = None) -> np.ndarray:
    """A file's date column as ``datetime64[ns]``, however it is written (:func:`_date_kind`:
    ``date_format``, quarters, years, the tutorial's ``Y-MM``, ISO 8601); ``requested``: the
    user named the column; ``made_utc``: gets ``True`` where zoned times were made UTC times
    (:func:`without_zone`). Raises a DataError naming the line of the first cell that is not a date."""
    kind = _date_kind(column, name, requested, date_format)
    with recording_utc() as seen:
        dates = _parse_dates(path, column, name, kind, date_format)
    if made_utc is not None and seen:
        made_utc.append(True)
    return dates


def _parse_dates(path: Path, column: pd.Series, name: str, kind: str = "iso", date_format: str | None = None) -> np.ndarray:
    text = column.str.strip()
    if kind in ("format", "quarter", "year"):
        try:
            parsed = _parse_kind(text, kind, date_format)
        except (ValueError, OverflowError) as err:
            if kind == "format":  # dates with and without offsets: name the row
                _refuse_mixed_offsets(path, name, text, date_format)
            raise DataError(f"{path}: column {show(name)}: --date-format {show(date_format or '')} is not a date format ({show(str(err), 80)})") from None
        bad = np.flatnonzero(parsed.isna().to_numpy())
        if bad.size:
            row = int(bad[0])
            cell = text.iloc[row]
            expected = {"format": f"a date in the format {date_format}", "quarter": "a quarter such as 1959Q1", "year": "a year such as 1959"}[kind]
            what = "is missing" if cell == "" else f"{show(cell)} is not {expected}"
            raise DataError(f"{path}: line {_line(row, path)}, column {show(name)}: {what}")
        outside = _out_of_range(parsed)
        if outside.size:
            raise _outside(path, int(outside[0]), name, text.iloc[int(outside[0])])
        return parsed.to_numpy(dtype="datetime64[ns]")
    parsed = _try_dates(column)
    if parsed is not None:
        return parsed
    use_tutorial = bool(len(text)) and bool(_TUTORIAL_MONTH.match(text.iloc[0]))
    offsets = set()
    for row, cell in enumerate(text):
        if use_tutorial:
            ok = bool(_TUTORIAL_MONTH.match(cell)) and not pd.isna(pd.to_datetime("190" + cell, format="%Y-%m", errors="coerce"))
        else:
            try:
                stamp = _to_timestamp(cell, "ISO8601") if cell else pd.NaT
            except (ValueError, OverflowError):
                stamp = pd.NaT
            ok = not pd.isna(stamp)
            if ok and not _MIN_DATE <= stamp.tz_localize(None) <= _MAX_DATE:
                raise _outside(path, row, name, cell)
            change = _offset_change(offsets, stamp) if ok else None
            if change:
                raise DataError(f"{path}: line {_line(row, path)}, column {show(name)}: {show(cell)} {change}; give every date an offset, or none")
        if not ok:
            what = "is missing" if cell == "" else f"{show(cell)} is not a date{format_hint(cell)}"
            raise DataError(f"{path}: line {_line(row, path)}, column {show(name)}: {what}")
    raise DataError(f"{path}: column {name!r} does not parse as dates")  # pragma: no cover - defensive
