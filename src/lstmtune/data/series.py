"""Load and validate a univariate series: built-in datasets by name, or any CSV.

A CSV needs a date column and a value column. Both are detected when that is
unambiguous (exactly one column parses as dates, exactly one other column is
numeric) and are chosen explicitly otherwise. Dates may be ISO (``1901-01``,
``1901-01-31``, ...) or the tutorial's ``Y-MM`` form (``1-01`` = 1901-01).

Every problem raises :class:`~lstmtune.errors.DataError` naming the file, the
line and the column.
"""

from __future__ import annotations


import dataclasses
import re
import warnings
from importlib import resources
from pathlib import Path

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lstmtune.data import numbers
from lstmtune.data.dates import UTC_NOTE, _choose_date_column, _try_dates, check_format, parse_column
from lstmtune.data.messages import _columns, _line, clock_change, csv_error, day, nul_byte, show  # noqa: F401  (show: re-exported)
from lstmtune.errors import DataError, option

MAX_ABS = 1e30
"""Largest magnitude of a value (float32 reaches 3.4e38; training overflows long before); the same as :data:`lstmtune.data.panel.MAX_ABS`."""

# name -> (package file, description)
BUILTINS: dict[str, tuple[str, str]] = {
    "shampoo": ("shampoo-sales.csv", "Monthly shampoo sales, 1901-1903 (Makridakis, Wheelwright & Hyndman 1998)"),
}



@dataclasses.dataclass(frozen=True)
class Series:
    """A validated univariate series.

    Attributes:
      name: where it came from (built-in name or file path).
      dates: ``datetime64[ns]`` array, strictly increasing, shape ``(n,)``.
      values: float64 array of finite values, shape ``(n,)``.
      value_name: the value column's name.
    """

    name: str
    dates: np.ndarray
    values: np.ndarray
    value_name: str
    notes: tuple[str, ...] = ()  # what loading did or noticed: interpolated or dropped rows, gaps in the dates
    positional: bool = False  # a values-only CSV: no dates, observations indexed by position (dates are placeholders)
    covariates: tuple[tuple[str, np.ndarray], ...] = ()  # (column, float64 values (n,)): extra input features
    utc: bool = False  # its times were made UTC times (dates with UTC offsets, finer than daily: dates.without_zone)

    def head(self, n: int) -> "Series":
        """The first ``n`` observations (covariates included)."""
        return dataclasses.replace(self, dates=self.dates[:n], values=self.values[:n], covariates=tuple((k, v[:n]) for k, v in self.covariates))

    def covariate(self, name: str) -> np.ndarray:
        """One covariate column's values, ``(n,)``.

        Raises:
          DataError: the series has no such covariate.
        """
        for k, v in self.covariates:
            if k == name:
                return v
        have = ", ".join(k for k, _ in self.covariates) or "none"
        raise DataError(f"{self.name}: no covariate {show(name)} (loaded: {have}); list it in [data] covariates")

    @property
    def axis(self) -> np.ndarray:
        """What to plot the values against: the dates, or positions 0..n-1 for a values-only series."""
        return np.arange(len(self.values)) if self.positional else self.dates

    @property
    def period(self) -> int | None:
        """The seasonal period implied by the dates (None for a values-only series)."""
        return None if self.positional else infer_period(self.dates)

    def __len__(self) -> int:
        return len(self.values)

    def to_pandas(self) -> pd.Series:
        return pd.Series(self.values, index=pd.DatetimeIndex(self.dates, name="date"), name=self.value_name)


MISSING_POLICIES = ("error", "interpolate", "drop")


def load(
    source: str | Path,
    *,
    date_column: str | None = None,
    value_column: str | None = None,
    date_format: str | None = None,
    missing: str = "error",
    covariates: Sequence[str] = (),
    fills: str = "interpolate or drop",
    keep_missing: bool = False,
    apart: int = 0,
) -> Series:
    """Load a built-in dataset by name, or a CSV file by path.

    Args:
      source: a built-in name (see :data:`BUILTINS`) or a path to a CSV file.
      date_column: the CSV column holding dates; detected when omitted.
      value_column: the CSV column holding values; detected when omitted.
      date_format: a ``strftime`` format for the dates (e.g. ``%m/%d/%Y``); omitted:
        ISO dates, the tutorial's ``Y-MM``, quarters (``1959Q1``, ``1959-Q1``), or
        integer years in a column named like ``year`` or chosen with ``date_column``.
      missing: a missing or non-numeric value is an ``"error"`` (naming its line),
        ``"interpolate"``d linearly in time (not at either end), or its row ``"drop"``ped.
      covariates: further numeric columns kept as input features (:attr:`Series.covariates`),
        under the same missing-value policy (``drop`` drops a row missing any of them).
      fills: the ``--missing`` policies a missing value's message suggests (the caller's own).
      keep_missing: with ``missing="drop"``, keep the rows missing a value, as NaN (for a
        caller that fills them itself, as ``lstmtune auto`` does a panel's).
      apart: with ``missing="interpolate"``, the last ``apart`` rows (a study's test split) are
        filled apart: no value before them is interpolated from one of them (a gap just before
        them holds the last value before it), so a selection never reads a test observation.

    Returns:
      The validated :class:`Series`; its ``notes`` say what was interpolated or
      dropped and where the dates have gaps.

    Raises:
      DataError: the file is missing, empty or malformed; the message names the
        file, line and column.
    """
    source_str = str(source)
    if source_str in BUILTINS and not Path(source_str).exists():
        filename, _ = BUILTINS[source_str]
        with resources.as_file(resources.files("lstmtune.data.datasets") / filename) as path:
            series = load_csv(path, date_column=date_column, value_column=value_column, date_format=date_format, missing=missing, covariates=covariates, fills=fills,
                              keep_missing=keep_missing, apart=apart)
        return dataclasses.replace(series, name=source_str)
    return load_csv(Path(source_str), date_column=date_column, value_column=value_column, date_format=date_format, missing=missing, covariates=covariates, fills=fills,
                    keep_missing=keep_missing, apart=apart)


def load_csv(
    path: Path,
    *,
    date_column: str | None = None,
    value_column: str | None = None,
    date_format: str | None = None,
    missing: str = "error",
    covariates: Sequence[str] = (),
    fills: str = "interpolate or drop",
    keep_missing: bool = False,
    apart: int = 0,
) -> Series:
    """Load a CSV file of (date, value) rows, and covariate columns. See :func:`load`."""
    if missing not in MISSING_POLICIES:
        raise DataError(f"{option('--missing')} must be one of {', '.join(MISSING_POLICIES)}, got {show(missing)}")
    check_format(date_format)
    if not path.exists():
        known = ", ".join(BUILTINS)
        raise DataError(f"{path}: no such file (and not a built-in dataset; built-ins: {known})")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a CSV file")
    if not path.is_file():  # a FIFO or device would block or never end
        raise DataError(f"{path}: not a regular file, expected a CSV file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not a readable CSV file ({csv_error(err, path)})") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None
    nul = nul_byte(path)
    if nul:
        raise DataError(f"{path}: not a readable CSV file ({nul})")
    if len(frame) == 0:
        raise DataError(f"{path}: the file has a header but no data rows")
    _refuse_other_separators(path, frame)
    refuse_repeated_columns(path, header(path))
    longer_rows = not isinstance(frame.index, pd.RangeIndex)  # more fields than the header: pandas made the first ones row names
    frame = frame.reset_index(drop=True)  # row i is the file's data row i
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.shape[1] == 1 and date_column is None and _try_dates(frame.iloc[:, 0], frame.columns[0], False, date_format) is None:
        if covariates:
            raise DataError(f"{path}: a values-only file has no covariate columns ({show(', '.join(covariates))})")
        return _values_only(path, frame, value_column, missing, fills, keep_missing, apart)
    for name in covariates:
        if name not in frame.columns:
            raise DataError(f"{path}: no covariate column {show(name)}; columns: {_columns(frame)}")

    try:
        date_col = _choose_date_column(path, frame, date_column, date_format)
    except DataError as err:
        if not longer_rows:
            raise
        raise DataError(f"{err}; its rows have more fields than its header (a number written with a ',' thousands separator, or an unquoted ','?)") from None
    value_col = _choose_value_column(path, frame, value_column, exclude=date_col, covariates=covariates)
    made_utc: list = []
    dates = parse_column(path, frame[date_col], date_col, date_column is not None, date_format, made_utc)
    utc_note = (f"{UTC_NOTE} (column {show(date_col)}: readings finer than daily, so that a change of offset repeats "
                "or skips no hour); every output gives UTC times",) if made_utc else ()
    frame, dates, sorted_note = _in_date_order(frame, dates, path)
    values, notes = _parse_values(path, frame[value_col], value_col, missing, dates, fills=fills, apart=apart)
    notes = [*utc_note, *sorted_note, *notes]
    extra = []
    for name in covariates:
        if name in (date_col, value_col):
            raise DataError(f"{path}: column {show(name)} is the {'date' if name == date_col else 'value'} column, not a covariate")
        column, more = _parse_values(path, frame[name], name, missing, dates, fills=fills, apart=apart)
        extra.append((name, column))
        notes = notes + more
    rows = frame.index.to_numpy()  # each observation's data row in the file
    if missing == "drop" and not keep_missing:
        keep = ~np.isnan(values)
        for _, column in extra:
            keep &= ~np.isnan(column)
        if not keep.any():  # say which column emptied the series, not only that it is too short
            empty = [name for name, column in [(value_col, values), *extra] if np.isnan(column).all()]
            why = f"column {show(empty[0])} has no value" if empty else "every row misses a value in the value column or a covariate"
            raise DataError(f"{path}: dropping the rows that miss a value (missing: drop) left none: {why}")
        if not keep.all():
            dates, values, rows = dates[keep], values[keep], rows[keep]
            extra = [(name, column[keep]) for name, column in extra]
    _refuse_repeated_dates(path, dates, rows, date_col)
    return Series(name=str(path), dates=dates, values=values, value_name=value_col, notes=tuple(notes) + gaps(dates), covariates=tuple(extra),
                  utc=bool(made_utc))


def header(path: str | Path) -> list[str]:
    """A CSV's header fields as written (stripped; a byte-order mark, as Excel writes, is not part
    of the first), unlike pandas' names, which rename a repeated one; [] when unreadable."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return [c.strip() for c in next(csv.reader(f), [])]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def refuse_repeated_columns(path: Path, names: Sequence[str]) -> None:
    """Raise where two of a file's header fields ``names`` are one name (pandas would rename the
    second ``NAME.1`` and read it as another column: a header ``date,date`` gave values from the
    second)."""
    seen = {n for n in names if names.count(n) > 1 and n != ""}
    if seen:
        raise DataError(f"{path}: the header names column {show(sorted(seen)[0])} more than once; give each column its own name")


def _refuse_other_separators(path: Path, frame: pd.DataFrame) -> None:
    """Raise where the header is one field holding a ';' or a tab: a file separated by those
    (often with decimal commas, which a comma-separated reading would split into two fields)."""
    if frame.shape[1] != 1:
        return
    header = str(frame.columns[0])
    for sep, word in ((";", "';'"), ("\t", "tabs")):
        if sep in header:
            raise DataError(f"{path}: the header {show(header)} is one comma-separated field: the file looks separated by {word}; "
                            "lstmtune reads comma-separated files with '.' as the decimal point")


def positions(n: int) -> np.ndarray:
    """Placeholder dates of a values-only series (one day apart from 1970-01-01, never shown)."""
    return np.datetime64("1970-01-01", "ns") + np.arange(n) * np.timedelta64(1, "D")


def _values_only(path: Path, frame: pd.DataFrame, value_column: str | None, missing: str, fills: str = "interpolate or drop", keep_missing: bool = False,
                 apart: int = 0) -> Series:
    """A one-column CSV: the values, indexed by position (a header that is a number is a value)."""
    name = frame.columns[0]
    if value_column is not None and value_column != name:
        raise DataError(f"{path}: --value-column {value_column!r} not found; the only column is {name!r}")
    column = frame[name]
    if not pd.isna(pd.to_numeric(pd.Series([name]), errors="coerce")[0]):  # no header: the first line is data
        column = pd.concat([pd.Series([name]), column], ignore_index=True)
        name = "value"
        offset = -1
    else:
        offset = 0
    values, notes = _parse_values(path, column, name, missing, None, line_offset=offset, fills=fills, apart=apart)
    if missing == "drop" and not keep_missing:
        values = values[~np.isnan(values)]
    return Series(name=str(path), dates=positions(len(values)), values=values, value_name=name,
                  notes=(f"values only: no date column, observations indexed by position 0..{len(values) - 1}", *notes), positional=True)


def _looks_numeric(column: pd.Series) -> bool:
    """A value column's candidate: at least half of its given cells are numbers. A missing cell or
    a typo in the target must not make another column the target silently (the value column is
    "detected when unambiguous"): it stays a candidate, and its bad cell is named when it is read."""
    given = column[~_is_missing(column)]
    return bool(len(given)) and pd.to_numeric(given.str.strip(), errors="coerce").notna().mean() >= 0.5


def _choose_value_column(path: Path, frame: pd.DataFrame, requested: str | None, *, exclude: str, covariates: Sequence[str] = ()) -> str:
    if requested is not None:
        if requested not in frame.columns:
            raise DataError(f"{path}: --value-column {show(requested)} not found; columns are {_columns(frame)}")
        if requested == exclude:
            raise DataError(f"{path}: column {requested!r} cannot be both the date and the value column")
        return requested
    others = [c for c in frame.columns if c != exclude and c not in covariates]
    numeric = [c for c in others if _looks_numeric(frame[c])]
    if len(numeric) == 1:
        return numeric[0]
    if len(numeric) > 1:
        raise DataError(f"{path}: several numeric columns {numeric}; choose one with --value-column")
    if len(others) == 1:
        return others[0]  # one candidate: parse it and report the bad cell precisely
    if not others:
        taken = [c for c in frame.columns if c != exclude and c in covariates]
        if taken:  # the one value column named as a covariate
            raise DataError(f"{path}: {taken[0]!r} is named as a covariate, and no other column is left for the values besides the date column {exclude!r}")
        raise DataError(f"{path}: no value column besides the date column {exclude!r}")
    raise DataError(f"{path}: no numeric column among {others}; choose one with --value-column")


_MISSING_TEXT = {"", "na", "n/a", "nan", "null", "none", "-", "?", "."}


def _is_missing(column: pd.Series) -> pd.Series:
    return column.str.strip().str.lower().isin(_MISSING_TEXT)


def _parse_values(
    path: Path, column: pd.Series, name: str, missing: str = "error", dates: np.ndarray | None = None, *, line_offset: int = 0,
    fills: str = "interpolate or drop", apart: int = 0,
) -> tuple[np.ndarray, list[str]]:
    """Numbers of the value column; missing cells per the ``missing`` policy (NaN kept for "drop").

    ``line_offset`` is -1 for a file without a header (its first line is data); ``apart``: see :func:`load`."""
    def file_line(row: int) -> int:  # the file's line of data row ``row`` (rows may have been sorted by date)
        return _line(int(column.index[row]) + line_offset, path)

    text = column.str.strip()
    values = numbers.exact(text)
    absent = _is_missing(column).to_numpy()
    huge = np.isfinite(values) & (np.abs(values) > MAX_ABS)
    bad = (~np.isfinite(values) | huge) & ~absent
    if bad.any() or (absent.any() and missing == "error"):
        row = min(np.flatnonzero(bad | absent), key=file_line)  # the first in the file (rows may be in date order)
        cell = text.iloc[row]
        what = (f"is missing (use --missing {fills})" if absent[row] else
                f"{show(cell)} is beyond {MAX_ABS:.0e}: the networks train in float32 (rescale the series)" if huge[row] else f"{show(cell)} is not a finite number")
        raise DataError(f"{path}: line {file_line(row)}, column {show(name)}: {what}")
    if not absent.any():
        return values, []
    rows = np.flatnonzero(absent)
    lines = ", ".join(str(n) for n in sorted(file_line(int(r)) for r in rows)[:8]) + (" ..." if rows.size > 8 else "")
    one = rows.size == 1  # "1 missing value values interpolated (lines 32)" before (a probe)
    where = f"line{'' if one else 's'} {lines}"
    if missing == "drop":
        return values, [f"{rows.size} row{'' if one else 's'} with a missing {name} dropped ({where})"]
    if absent[0] or absent[-1]:
        row = int(rows[0]) if absent[0] else int(rows[-1])
        raise DataError(f"{path}: line {file_line(row)}, column {show(name)}: a missing value at the start or end cannot be interpolated (use --missing drop)")
    x = (dates.astype("datetime64[ns]").astype(np.int64) if dates is not None else np.arange(values.size)).astype(np.float64)
    return interpolated(values, absent, x, apart), [f"{rows.size} missing {'value' if one else 'values'} of column {show(name)} interpolated linearly in time ({where})"]


def interpolated(values: np.ndarray, absent: np.ndarray, x: np.ndarray, apart: int = 0) -> np.ndarray:
    """``values`` with the ``absent`` ones interpolated linearly in ``x``; the last ``apart``
    apart from the rest: a value before them reads none of them (past the last known value
    before them, that value held), while they may read values before them."""
    out = values.copy()
    known = ~absent
    cut = values.size - apart if 0 < apart < values.size else values.size
    head = absent[:cut]
    if head.any():
        out[:cut][head] = np.interp(x[:cut][head], x[:cut][known[:cut]], values[:cut][known[:cut]])
    tail = absent[cut:]
    if tail.any():
        out[cut:][tail] = np.interp(x[cut:][tail], x[known], values[known])
    return out


def gaps(dates: np.ndarray) -> tuple[str, ...]:
    """Notes naming the gaps of a series whose dates are regular except for missing steps."""
    if len(dates) < 4 or infer_frequency(dates) is not None:
        return ()
    found = absent_dates(dates)
    if found is None or len(found[1]) > len(dates):
        return ()
    freq, absent = found
    shown = ", ".join(str(pd.Timestamp(d).date()) for d in absent[:6]) + (" ..." if len(absent) > 6 else "")
    many = len(absent) > 1
    return (f"the dates are {freq}-regular but {len(absent)} {'are' if many else 'is'} missing ({shown}); the model treats the series as consecutive",)


def absent_dates(dates: np.ndarray, freq: str | None = None) -> tuple[str, np.ndarray] | None:
    """Sorted, distinct dates that lie on a regular grid with some of its dates absent:
    ``(the grid's frequency alias, the absent dates)``; None when none are absent or the dates
    lie on no such grid. The grid is ``freq``'s, else the finest that holds every date among the
    frequencies runs of three consecutive dates show (a weekly series on Mondays with a week
    absent: ``W-MON``; business days with one absent: ``B``, not ``D`` and its weekends)."""
    dates = np.asarray(dates, dtype="datetime64[ns]")
    if len(dates) < (2 if freq else 3):
        return None
    if freq is None:
        starts = np.unique(np.linspace(0, len(dates) - 3, min(len(dates) - 2, 400)).astype(int))  # at most 400 runs: bounded cost
        seen = {infer_frequency(dates[i : i + 3]) for i in starts} - {None}
    else:
        seen = {freq}
    best = None
    span = int(dates[-1].astype(np.int64) - dates[0].astype(np.int64))
    for alias in sorted(seen):
        try:
            step = getattr(frequency_offset(alias), "nanos", None) if alias else None  # a fixed step (D, h, s, ms, ...)
        except ValueError:  # pandas' offsets without a fixed step (MS, W-MON, B, ...)
            step = None
        if step is not None and (step <= 0 or span // step > 100 * len(dates) + 10_000):
            continue  # a grid this fine over these dates would be mostly absent (and too large to build)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Warning)
                grid = pd.date_range(pd.Timestamp(dates[0]), pd.Timestamp(dates[-1]), freq=alias).to_numpy(dtype="datetime64[ns]")
        except (TypeError, ValueError):
            continue
        if len(grid) > len(dates) and np.isin(dates, grid).all() and (best is None or len(grid) < len(best[1])):
            best = (str(alias), grid)
    if best is None:
        return None
    return best[0], best[1][~np.isin(best[1], dates)]


def _in_date_order(frame: pd.DataFrame, dates: np.ndarray, path=None) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """The rows sorted by date, as a panel's are (a file listing the newest first, say), with a
    note saying so. The frame keeps each row's position in the file as its index, so that later
    messages name the file's lines; a repeated date stays (:func:`_refuse_repeated_dates`
    names it once rows without a value may have been dropped)."""
    back = np.diff(dates) < np.timedelta64(0)
    if not back.any():
        return frame, dates, []
    order = np.argsort(dates, kind="stable")
    row = int(np.flatnonzero(back)[0]) + 1
    how = "newest first" if (order == np.arange(len(dates))[::-1]).all() else "out of order"
    note = f"rows sorted by date: the file lists them {how} (line {_line(row, path)}: {pd.Timestamp(dates[row - 1]).date()} then {pd.Timestamp(dates[row]).date()})"
    return frame.iloc[order], dates[order], [note]


def _refuse_repeated_dates(path: Path, dates: np.ndarray, rows: np.ndarray, name: str) -> None:
    """Raise naming the first repeated date met reading the file (its later line).

    Args:
      dates: sorted. rows: each date's data row in the file.
    """
    same = np.flatnonzero(np.diff(dates) == np.timedelta64(0))
    if same.size:
        later = np.maximum(rows[same], rows[same + 1])
        k = int(np.argmin(later))
        first = int(rows[dates == dates[same[k]]].min())
        when = pd.Timestamp(dates[same[k]])
        raise DataError(f"{path}: line {_line(int(later[k]), path)}, column {name!r}: duplicate date {when.date() if when == when.normalize() else when} "
                        f"(first at line {_line(first, path)}){clock_change([when])}")


# pandas frequency prefix -> seasonal period
_PERIODS = {"min": 60, "h": 24, "bh": 8, "D": 7, "B": 5, "W": 52, "SMS": 24, "SME": 24, "SM": 24, "M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4, "Y": 1, "YS": 1, "YE": 1, "A": 1, "AS": 1}
"""The season of each frequency (in steps of one unit): an hour's minutes, a
day's hours (a business day's 8 business hours, 09:00-17:00: pandas' ``bh``; it had none, a probe),
a week's days or business days, a year's weeks, half months, months or quarters."""
_OLD_ALIASES = {"T": "min", "H": "h", "C": "B", "BH": "bh"}  # pandas' older spellings, custom business days


def frequency_parts(freq: str | None) -> tuple[int, str] | None:
    """``(multiple, unit)`` of a pandas frequency alias: ``2MS`` -> ``(2, "MS")``; the anchor
    dropped (``W-SUN``, ``QS-OCT``) and business months, quarters and years read as their
    calendar unit (``BMS`` -> ``MS``: the season is the same); None where it is no alias."""
    found = re.fullmatch(r"(\d*)([A-Za-z]+)(-\w+)?", str(freq or "").strip())
    if found is None:
        return None
    n, unit = int(found[1] or 1), _OLD_ALIASES.get(found[2], found[2])
    if unit not in _PERIODS and unit.startswith(("CB", "B")) and unit.removeprefix("C").removeprefix("B") in _PERIODS:
        unit = unit.removeprefix("C").removeprefix("B")
    return (n, unit) if n >= 1 and unit in _PERIODS else None


def season_of(freq: str | None) -> int | None:
    """The seasonal period of data at frequency ``freq``: :data:`_PERIODS` divided by its
    multiple (``2MS`` 6, ``2W`` 26, ``10min`` 6, ``2h`` 12); None where it is 1, is not a whole
    number of steps (``2D``) or the alias is unknown."""
    parts = frequency_parts(freq)
    if parts is None:
        return None
    n, unit = parts
    period = _PERIODS[unit]
    return period // n if period % n == 0 and period // n > 1 else None


def dates_after(history_dates: np.ndarray, horizon: int, frequency: str | None = None) -> pd.DatetimeIndex:
    """The ``horizon`` dates after the last of ``history_dates``: at their inferred frequency
    (else ``frequency``), or for irregular dates at their median step."""
    last = np.datetime64(history_dates[-1], "ns")
    freq = regular_frequency(history_dates) or frequency
    beyond = DataError(f"the {horizon} dates after {day(last)} would pass {pd.Timestamp.max.date()}, the last date pandas can hold: give a shorter horizon")
    if freq is not None:
        try:
            return pd.date_range(pd.Timestamp(last), periods=horizon + 1, freq=freq)[1:]
        except (pd.errors.OutOfBoundsDatetime, OverflowError):
            raise beyond from None
    on_day = fixed_day_of_month(history_dates)
    if on_day is not None:  # monthly on day 2-28 (no pandas frequency): the same day of the months after, not a drifting mean step
        stamps = pd.DatetimeIndex(history_dates)
        months = np.diff(stamps.year * 12 + stamps.month)
        step = max(1, int(np.median(months)))
        try:
            return pd.DatetimeIndex([pd.Timestamp(last) + pd.DateOffset(months=step * k) for k in range(1, horizon + 1)])
        except (pd.errors.OutOfBoundsDatetime, OverflowError):
            raise beyond from None
    step = np.median(np.diff(np.asarray(history_dates, dtype="datetime64[ns]")))  # irregular dates: the typical step
    ahead = np.arange(1, horizon + 1)
    if horizon and (int(np.int64(pd.Timestamp.max.value)) - int(last.astype(np.int64))) // max(int(step.astype(np.int64)), 1) < horizon:
        raise beyond  # numpy's datetime64 arithmetic would wrap around, not fail
    return pd.DatetimeIndex(last + step * ahead)


def fixed_day_of_month(ds) -> int | None:
    """The day of the month every date falls on (2-28, at midnight, no two in one month), else None."""
    stamps = pd.DatetimeIndex(ds)
    days = set(stamps.day)
    if len(stamps) < 2 or len(days) != 1 or not 2 <= next(iter(days)) <= 28 or (stamps != stamps.normalize()).any():
        return None
    months = stamps.year * 12 + stamps.month
    return next(iter(days)) if len(set(months)) == len(months) else None


def frequency_offset(alias):
    """pandas' offset for the frequency ``alias`` (``MS``, ``W-SUN``, ...), or None where it is not
    one (quietly: pandas warns about a name's case before refusing it)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pd.tseries.frequencies.to_offset(alias)
        except (TypeError, ValueError):
            return None


def current_alias(alias: str | None) -> str | None:
    """``alias`` in pandas' current spelling where pandas deprecates it (``M`` -> ``ME``, ``Q`` ->
    ``QE-DEC``, ``H`` -> ``h``), else as given (None, or not a frequency, too): the old names warn
    on every use and will go."""
    import warnings

    if alias is None:
        return None

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            offset = pd.tseries.frequencies.to_offset(alias)
        except (TypeError, ValueError):
            return alias
    return offset.freqstr if any(issubclass(w.category, FutureWarning) for w in seen) else alias


def infer_frequency(dates: np.ndarray) -> str | None:
    """The series' regular frequency as a pandas alias (``"MS"``, ``"QS-OCT"``, ``"D"``...), or None."""
    if len(dates) < 3:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Warning)  # pandas announces returning an offset object (Pandas4Warning)
            freq = pd.infer_freq(pd.DatetimeIndex(dates))
    except (TypeError, ValueError):
        return None
    return getattr(freq, "freqstr", freq) if freq is not None else (_semi_monthly(dates) or _business_multiple(dates))


def _business_multiple(dates: np.ndarray) -> str | None:
    """``kB`` (every k-th business day, k of 2 or more) where the dates are exactly that grid, else
    None: pandas' ``infer_freq`` finds only ``B`` itself, so a series every second business day
    was read on a ``2D`` grid with its weekends absent, and ``--missing zero`` inserted them (a probe)."""
    idx = pd.DatetimeIndex(dates)
    if len(idx) < 3 or idx.tz is not None:
        return None
    days = idx.normalize()
    if ((idx - days) != (idx[0] - days[0])).any():  # one time of day
        return None
    d = days.to_numpy().astype("datetime64[D]")
    if not np.is_busday(d).all():
        return None
    steps = np.busday_count(d[:-1], d[1:])
    k = int(steps[0])
    return f"{k}B" if k >= 2 and (steps == k).all() else None


def _semi_monthly(dates: np.ndarray) -> str | None:
    """``SMS-d`` (the 1st and the d-th of every month) or ``SME-d`` (the d-th and the month's
    end) where the dates are exactly that grid, else None: pandas' ``infer_freq`` finds neither
    (a probe's semi-monthly series was skipped as of "no regular frequency")."""
    idx = pd.DatetimeIndex(dates)
    if len(idx) < 3 or (idx != idx.normalize()).any():
        return None
    tried = []
    other = set(idx.day[idx.day != 1])
    if len(other) == 1 and 2 <= min(other) <= 27:
        tried.append(f"SMS-{min(other)}")
    other = set(idx.day[~idx.is_month_end])
    if len(other) == 1 and 1 <= min(other) <= 27:
        tried.append(f"SME-{min(other)}")
    for freq in tried:
        if pd.date_range(idx[0], periods=len(idx), freq=freq).equals(idx):
            return freq
    return None


def regular_frequency(dates: np.ndarray) -> str | None:
    """:func:`infer_frequency`, or where some dates are absent from a regular grid, that grid's
    frequency (:func:`absent_dates`): the frequency the series' next dates follow."""
    freq = infer_frequency(dates)
    if freq is None and len(dates) >= 4:
        found = absent_dates(dates)
        freq = found[0] if found is not None else None
    return freq


ABSENT_SHARE = 0.1
"""Dates on a grid with at most this share of its dates absent keep the grid's season
(:func:`infer_period`): a monthly series missing a month is still monthly. With more absent
(business days without holidays, trading days) a step back by the season's count of positions
is no longer a season back."""


def infer_period(dates: np.ndarray) -> int | None:
    """The seasonal period implied by the dates' frequency (:func:`season_of`): monthly 12,
    quarterly 4, weekly 52, daily 7, business days 5, hourly 24, every two months 6; yearly or
    irregular: None (no seasonality assumed). Dates regular but for a few absent ones (at most
    :data:`ABSENT_SHARE` of the grid) have their grid's period, as the forecasts' dates follow it."""
    freq = infer_frequency(dates)
    if freq is None and len(dates) >= 4:
        found = absent_dates(dates)
        if found is not None and len(found[1]) <= ABSENT_SHARE * (len(dates) + len(found[1])):
            freq = found[0]
    return season_of(freq)


def describe_builtins() -> list[dict[str, object]]:
    """One row per built-in dataset: name, length, first and last date, description."""
    rows = []
    for name, (_, description) in BUILTINS.items():
        series = load(name)
        rows.append(
            {
                "name": name,
                "length": len(series),
                "start": str(pd.Timestamp(series.dates[0]).date()),
                "end": str(pd.Timestamp(series.dates[-1]).date()),
                "description": description,
            }
        )
    return rows
