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

from lstmtune.errors import DataError

# name -> (package file, description)
BUILTINS: dict[str, tuple[str, str]] = {
    "shampoo": ("shampoo-sales.csv", "Monthly shampoo sales, 1901-1903 (Makridakis, Wheelwright & Hyndman 1998)"),
}

_TUTORIAL_MONTH = re.compile(r"^\d-\d{2}$")


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
        with resources.as_file(resources.files("lstmtune.datasets") / filename) as path:
            series = load_csv(path, date_column=date_column, value_column=value_column, date_format=date_format, missing=missing, covariates=covariates)
        return dataclasses.replace(series, name=source_str)
    return load_csv(Path(source_str), date_column=date_column, value_column=value_column, date_format=date_format, missing=missing, covariates=covariates)


def load_csv(
    path: Path,
    *,
    date_column: str | None = None,
    value_column: str | None = None,
    date_format: str | None = None,
    missing: str = "error",
    covariates: Sequence[str] = (),
) -> Series:
    """Load a CSV file of (date, value) rows, and covariate columns. See :func:`load`."""
    if missing not in MISSING_POLICIES:
        raise DataError(f"--missing must be one of {', '.join(MISSING_POLICIES)}, got {show(missing)}")
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
        raise DataError(f"{path}: not a readable CSV file ({show(str(err), 200)})") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None
    if len(frame) == 0:
        raise DataError(f"{path}: the file has a header but no data rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.shape[1] == 1 and date_column is None and _try_dates(frame.iloc[:, 0], frame.columns[0], False, date_format) is None:
        if covariates:
            raise DataError(f"{path}: a values-only file has no covariate columns ({show(', '.join(covariates))})")
        return _values_only(path, frame, value_column, missing)
    for name in covariates:
        if name not in frame.columns:
            raise DataError(f"{path}: no covariate column {show(name)}; columns: {_columns(frame)}")

    date_col = _choose_date_column(path, frame, date_column, date_format)
    value_col = _choose_value_column(path, frame, value_column, exclude=date_col, lenient=missing != "error", covariates=covariates)
    dates = _parse_dates(path, frame[date_col], date_col, _date_kind(frame[date_col], date_col, date_column is not None, date_format), date_format)
    values, notes = _parse_values(path, frame[value_col], value_col, missing, dates)
    extra = []
    for name in covariates:
        if name in (date_col, value_col):
            raise DataError(f"{path}: column {show(name)} is the {'date' if name == date_col else 'value'} column, not a covariate")
        column, more = _parse_values(path, frame[name], name, missing, dates)
        extra.append((name, column))
        notes = notes + more
    if missing == "drop":
        keep = ~np.isnan(values)
        for _, column in extra:
            keep &= ~np.isnan(column)
        if not keep.all():
            dates, values = dates[keep], values[keep]
            extra = [(name, column[keep]) for name, column in extra]
    _check_order(path, dates, date_col)
    return Series(name=str(path), dates=dates, values=values, value_name=value_col, notes=tuple(notes) + gaps(dates), covariates=tuple(extra))


def positions(n: int) -> np.ndarray:
    """Placeholder dates of a values-only series (one day apart from 1970-01-01, never shown)."""
    return np.datetime64("1970-01-01", "ns") + np.arange(n) * np.timedelta64(1, "D")


def _values_only(path: Path, frame: pd.DataFrame, value_column: str | None, missing: str) -> Series:
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
    values, notes = _parse_values(path, column, name, missing, None, line_offset=offset)
    if missing == "drop":
        values = values[~np.isnan(values)]
    return Series(name=str(path), dates=positions(len(values)), values=values, value_name=name,
                  notes=(f"values only: no date column, observations indexed by position 0..{len(values) - 1}", *notes), positional=True)


def show(text: str, limit: int = 60) -> str:
    """``repr`` of a user's text for a message: control characters escaped, at most ``limit`` characters."""
    r = repr(text)
    return r if len(r) <= limit else r[: limit - 12] + f"...' ({len(text):,} chars)"


def _columns(frame: pd.DataFrame, limit: int = 12) -> str:
    """The frame's column names for a message (each shortened, at most ``limit`` of them)."""
    names = [show(str(c), 40) for c in frame.columns[:limit]]
    return "[" + ", ".join(names) + (f", ... ({frame.shape[1]} columns)" if frame.shape[1] > limit else "") + "]"


# pandas' datetime64[ns] spans 1677-09-21 to 2262-04-11; dates outside would wrap silently.
_MIN_DATE, _MAX_DATE = pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D")


def _line(row: int) -> int:
    """CSV line number of data row ``row`` (0-based); line 1 is the header."""
    return row + 2


_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_YEAR = re.compile(r"^\d{3,4}$")
_YEAR_NAMES = {"year", "years", "yr", "yyyy", "annee", "jahr", "ano", "año"}


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
        return pd.to_datetime(text, format=date_format, errors="coerce")
    if kind == "quarter":
        first_month = text.str.replace(_QUARTER, lambda m: f"{m[1]}-{(int(m[2]) - 1) * 3 + 1:02d}-01", regex=True)
        return pd.to_datetime(first_month.where(text.str.fullmatch(_QUARTER.pattern)), format="%Y-%m-%d", errors="coerce")
    if kind == "year":
        return pd.to_datetime(text.where(text.str.fullmatch(_YEAR.pattern)), format="%Y", errors="coerce")
    if kind == "tutorial":
        return pd.to_datetime("190" + text.where(text.map(lambda s: bool(_TUTORIAL_MONTH.match(s)))), format="%Y-%m", errors="coerce")
    raise ValueError(kind)  # pragma: no cover


def _try_dates(column: pd.Series, name: str = "", requested: bool = False, date_format: str | None = None) -> np.ndarray | None:
    """Parse a column as dates, or return None when any cell fails."""
    text = column.str.strip()
    kind = _date_kind(column, name, requested, date_format)
    if kind in ("format", "quarter", "year"):
        try:
            parsed = _naive_utc(_parse_kind(text, kind, date_format))
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
            parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        except (ValueError, OverflowError):  # e.g. mixed time-zone offsets: see _parse_dates
            return None
    if parsed.isna().any():
        return None
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    if (parsed < _MIN_DATE).any() or (parsed > _MAX_DATE).any():
        return None
    return parsed.to_numpy(dtype="datetime64[ns]")


def _naive_utc(parsed: pd.Series) -> pd.Series:
    """Timestamps with an offset as UTC without one (naive ones unchanged)."""
    return parsed.dt.tz_convert("UTC").dt.tz_localize(None) if getattr(parsed.dt, "tz", None) is not None else parsed


def _out_of_range(parsed: pd.Series) -> np.ndarray:
    """Rows whose date lies outside datetime64[ns]: pandas parses them at a coarser unit,
    and converting them to nanoseconds would wrap silently (0001-01-01 -> 1754-08-30)."""
    return np.flatnonzero((parsed.notna() & ((parsed < _MIN_DATE) | (parsed > _MAX_DATE))).to_numpy())


def _outside(path: Path, row: int, name: str, cell: str) -> DataError:
    return DataError(f"{path}: line {_line(row)}, column {show(name)}: {show(cell)} is outside the supported dates (1678 to 2261)")


def _offset_change(offsets: set, stamp: pd.Timestamp) -> str | None:
    """Record ``stamp``'s time-zone offset (None: none given); say how it differs from the rows before."""
    offset = stamp.utcoffset() if stamp.tzinfo is not None else None
    offsets.add(offset)
    if len(offsets) == 1:
        return None
    if offset is None:
        return "has no time-zone offset, unlike the rows before it"
    return "has a time-zone offset, unlike the rows before it" if None in offsets else "has another time-zone offset than the rows before it"


def _refuse_mixed_offsets(path: Path, name: str, text: pd.Series, date_format: str) -> None:
    """Raise naming the first row whose time-zone offset differs from the rows before it."""
    offsets: set = set()
    for row, cell in enumerate(text):
        stamp = pd.to_datetime(cell, format=date_format, errors="coerce")
        change = None if pd.isna(stamp) else _offset_change(offsets, stamp)
        if change:
            raise DataError(f"{path}: line {_line(row)}, column {show(name)}: {show(cell)} {change}; give every date in one offset (or UTC)")


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
        iso = pd.to_datetime(text.where(~tutorial), format="ISO8601", errors="coerce").notna()
    except (ValueError, OverflowError):  # mixed time-zone offsets: parse with UTC to count
        iso = pd.to_datetime(text.where(~tutorial), format="ISO8601", errors="coerce", utc=True).notna()
    return float((tutorial | iso).mean()) if len(text) else 0.0


def _is_numeric(column: pd.Series) -> bool:
    return pd.to_numeric(column.str.strip(), errors="coerce").notna().all()


def _choose_value_column(path: Path, frame: pd.DataFrame, requested: str | None, *, exclude: str, lenient: bool = False, covariates: Sequence[str] = ()) -> str:
    if requested is not None:
        if requested not in frame.columns:
            raise DataError(f"{path}: --value-column {show(requested)} not found; columns are {_columns(frame)}")
        if requested == exclude:
            raise DataError(f"{path}: column {requested!r} cannot be both the date and the value column")
        return requested
    others = [c for c in frame.columns if c != exclude and c not in covariates]
    numeric = [c for c in others if _is_numeric(frame[c])]
    if lenient and not numeric:  # missing cells allowed: numeric wherever a cell is given
        numeric = [c for c in others if _is_numeric(frame[c][~_is_missing(frame[c])]) and (~_is_missing(frame[c])).any()]
    if len(numeric) == 1:
        return numeric[0]
    if len(numeric) > 1:
        raise DataError(f"{path}: several numeric columns {numeric}; choose one with --value-column")
    if len(others) == 1:
        return others[0]  # one candidate: parse it and report the bad cell precisely
    if not others:
        raise DataError(f"{path}: no value column besides the date column {exclude!r}")
    raise DataError(f"{path}: no numeric column among {others}; choose one with --value-column")


def _parse_dates(path: Path, column: pd.Series, name: str, kind: str = "iso", date_format: str | None = None) -> np.ndarray:
    text = column.str.strip()
    if kind in ("format", "quarter", "year"):
        try:
            parsed = _naive_utc(_parse_kind(text, kind, date_format))
        except (ValueError, OverflowError) as err:
            if kind == "format":  # pandas refuses a column of mixed offsets as a whole: name the row
                _refuse_mixed_offsets(path, name, text, date_format)
            raise DataError(f"{path}: column {show(name)}: --date-format {show(date_format or '')} is not a date format ({show(str(err), 80)})") from None
        bad = np.flatnonzero(parsed.isna().to_numpy())
        if bad.size:
            row = int(bad[0])
            cell = text.iloc[row]
            expected = {"format": f"a date in the format {date_format}", "quarter": "a quarter such as 1959Q1", "year": "a year such as 1959"}[kind]
            what = "is missing" if cell == "" else f"{show(cell)} is not {expected}"
            raise DataError(f"{path}: line {_line(row)}, column {show(name)}: {what}")
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
                stamp = pd.to_datetime(cell, format="ISO8601", errors="coerce") if cell else pd.NaT
            except (ValueError, OverflowError):
                stamp = pd.NaT
            ok = not pd.isna(stamp)
            if ok and not _MIN_DATE <= stamp.tz_localize(None) <= _MAX_DATE:
                raise _outside(path, row, name, cell)
            change = _offset_change(offsets, stamp) if ok else None
            if change:
                raise DataError(f"{path}: line {_line(row)}, column {show(name)}: {show(cell)} {change}; give every date in one offset (or UTC)")
        if not ok:
            what = "is missing" if cell == "" else f"{show(cell)} is not a date"
            raise DataError(f"{path}: line {_line(row)}, column {show(name)}: {what}")
    raise DataError(f"{path}: column {name!r} does not parse as dates")  # pragma: no cover - defensive


_MISSING_TEXT = {"", "na", "n/a", "nan", "null", "none", "-", "?", "."}


def _is_missing(column: pd.Series) -> pd.Series:
    return column.str.strip().str.lower().isin(_MISSING_TEXT)


def _parse_values(
    path: Path, column: pd.Series, name: str, missing: str = "error", dates: np.ndarray | None = None, *, line_offset: int = 0
) -> tuple[np.ndarray, list[str]]:
    """Numbers of the value column; missing cells per the ``missing`` policy (NaN kept for "drop").

    ``line_offset`` is -1 for a file without a header (its first line is data)."""
    def _line(row: int) -> int:  # noqa: F811 (the file's line of data row ``row``)
        return row + 2 + line_offset

    text = column.str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    absent = _is_missing(column).to_numpy()
    bad = ~np.isfinite(values) & ~absent
    if bad.any() or (absent.any() and missing == "error"):
        row = int(np.flatnonzero(bad | absent)[0])
        cell = text.iloc[row]
        what = "is missing (use --missing interpolate or drop)" if absent[row] else f"{show(cell)} is not a finite number"
        raise DataError(f"{path}: line {_line(row)}, column {show(name)}: {what}")
    if not absent.any():
        return values, []
    rows = np.flatnonzero(absent)
    lines = ", ".join(str(_line(int(r))) for r in rows[:8]) + (" ..." if rows.size > 8 else "")
    if missing == "drop":
        return values, [f"{rows.size} rows with a missing {name} dropped (lines {lines})"]
    if absent[0] or absent[-1]:
        row = int(rows[0]) if absent[0] else int(rows[-1])
        raise DataError(f"{path}: line {_line(row)}, column {show(name)}: a missing value at the start or end cannot be interpolated (use --missing drop)")
    x = (dates.astype("datetime64[ns]").astype(np.int64) if dates is not None else np.arange(values.size)).astype(np.float64)
    values = values.copy()
    values[absent] = np.interp(x[absent], x[~absent], values[~absent])
    return values, [f"{rows.size} missing {name} values interpolated linearly in time (lines {lines})"]


def gaps(dates: np.ndarray) -> tuple[str, ...]:
    """Notes naming the gaps of a series whose dates are regular except for missing steps."""
    if len(dates) < 4 or infer_frequency(dates) is not None:
        return ()
    index = pd.DatetimeIndex(dates)
    for freq in ("MS", "ME", "QS", "QE", "YS", "YE", "W", "D", "h", "B"):
        try:
            full = pd.date_range(index[0], index[-1], freq=freq)
        except ValueError:
            continue
        if index.isin(full).all() and 0 < len(full) - len(index) <= len(index):
            absent = full.difference(index)
            shown = ", ".join(str(d.date()) for d in absent[:6]) + (" ..." if len(absent) > 6 else "")
            return (f"the dates are {freq}-regular but {len(absent)} are missing ({shown}); the model treats the series as consecutive",)
    return ()


def _check_order(path: Path, dates: np.ndarray, name: str) -> None:
    steps = np.diff(dates)
    if (steps == np.timedelta64(0)).any():
        row = int(np.flatnonzero(steps == np.timedelta64(0))[0]) + 1
        raise DataError(f"{path}: line {_line(row)}, column {name!r}: duplicate date {pd.Timestamp(dates[row]).date()}")
    if (steps < np.timedelta64(0)).any():
        row = int(np.flatnonzero(steps < np.timedelta64(0))[0]) + 1
        raise DataError(
            f"{path}: line {_line(row)}, column {name!r}: dates are not in increasing order "
            f"({pd.Timestamp(dates[row - 1]).date()} then {pd.Timestamp(dates[row]).date()})"
        )


# pandas frequency prefix -> seasonal period
_PERIODS = {"h": 24, "min": 60, "D": 7, "B": 5, "W": 52, "M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4, "Y": 1, "YS": 1, "YE": 1, "A": 1, "AS": 1}


def dates_after(history_dates: np.ndarray, horizon: int, frequency: str | None = None) -> pd.DatetimeIndex:
    """The ``horizon`` dates after the last of ``history_dates``: at their inferred frequency
    (else ``frequency``), or for irregular dates at their median step."""
    last = np.datetime64(history_dates[-1], "ns")
    freq = infer_frequency(history_dates) or frequency
    if freq is not None:
        return pd.date_range(pd.Timestamp(last), periods=horizon + 1, freq=freq)[1:]
    step = np.median(np.diff(np.asarray(history_dates, dtype="datetime64[ns]")))  # irregular dates: the typical step
    return pd.DatetimeIndex(last + step * np.arange(1, horizon + 1))


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
    return getattr(freq, "freqstr", freq)


def infer_period(dates: np.ndarray) -> int | None:
    """The seasonal period implied by the dates' frequency: monthly 12, quarterly 4, weekly 52,
    daily 7, business days 5, hourly 24; yearly or irregular: None (no seasonality assumed)."""
    freq = infer_frequency(dates)
    if freq is None:
        return None
    base = freq.split("-")[0].lstrip("0123456789")
    period = _PERIODS.get(base)
    return None if period in (None, 1) else period


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
