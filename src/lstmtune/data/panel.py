"""Panels in long format: one row per (series, date), the statsforecast/NeuralForecast
convention ``unique_id, ds, y``. A single series is a panel of one.

:func:`read` loads a CSV (a long panel, or one series of date and value whose ``unique_id``
is the file's stem); :func:`triage` checks each series on its own and says what can be done
with it, so that one bad series never stops the others.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from lstmtune.data import numbers
from lstmtune.data.dates import check_format, format_hint, has_offset, quarter_starts, recording_utc, without_zone
from lstmtune.data.messages import _columns, _line, clock_change, csv_error, day, nul_byte, show, some_dates
from lstmtune.data.series import MAX_ABS, absent_dates, fixed_day_of_month, header, infer_frequency, infer_period, refuse_repeated_columns, season_of
from lstmtune.errors import DataError, LstmtuneError, option

ID, DATE, VALUE = "unique_id", "ds", "y"


def is_panel_file(path: str | Path, id_column: str | None = None) -> bool:
    """Whether the CSV has a panel's series column (``unique_id``, or ``id_column``).

    Raises:
      DataError: ``id_column`` is given and not in the header.
    """
    names = header(path)
    if id_column is not None and id_column not in names:
        raise DataError(f"{option('--id-column')} {id_column}: no such column in {path}; columns are {', '.join(names[:10])}")
    return (id_column or ID) in names


def read(path: str | Path, *, id_column: str | None = None, date_column: str | None = None, value_column: str | None = None, date_format: str | None = None, missing: str = "error",
         fills: str = "interpolate or drop", keep_missing: bool = False, names: dict[str, str] | None = None) -> pd.DataFrame:
    """A CSV as a long frame ``unique_id, ds, y`` (``ds`` datetime64, ``y`` float64, NaN where missing).

    ``names``: how the caller lets a user name the date and value columns, where not by
    ``--date-column`` and ``--value-column`` (a study's ``[data] date_column``, say), for messages.

    A file with an id column (``unique_id`` or ``id_column``) is a panel: its date and value
    columns are ``ds`` and ``y`` unless named. Otherwise it is one series, read as
    ``lstmtune baseline`` reads one (dates and values detected, ``missing`` applied; ``fills``:
    the policies a missing value's message suggests; ``keep_missing``: its rows missing a value
    kept as NaN, as a panel's are), named by the file's stem. A panel's missing values stay NaN: :func:`triage` decides per series.

    Raises:
      DataError: the file is unreadable, a named column is missing, or a date or value cell
        does not parse; the message names the file, line and column.
    """
    from lstmtune.data.series import load

    path = Path(path)
    check_format(date_format)
    if not path.is_file():  # worded as a single series' reader words them (a probe)
        raise DataError(f"{path}: no such file" if not path.exists() else f"{path}: is a directory, expected a CSV file" if path.is_dir() else f"{path}: not a regular file")
    try:
        head = pd.read_csv(path, nrows=0)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise DataError(f"{path}: not a readable CSV file ({csv_error(err, path)})") from None
    columns = [str(c).strip() for c in head.columns]
    uid = id_column or ID
    if uid not in columns:
        if id_column is not None:
            raise DataError(f"{path}: --id-column {show(id_column)} not found; columns are {_columns(head)}")
        try:
            s = load(path, date_column=date_column, value_column=value_column, date_format=date_format, missing=missing, fills=fills, keep_missing=keep_missing)
        except DataError as err:
            if len(columns) >= 3 and "duplicate date" in str(err):  # a panel whose series column has another name
                raise DataError(f"{err} (a long panel? name its series column with --id-column; columns are {_columns(head)})") from None
            raise
        if s.positional:  # its dates would be placeholders, and they would set a frequency and season
            raise DataError(f"{path}: no date column; forecasts need each value's date (add a column of dates)")
        out = pd.DataFrame({ID: path.stem, DATE: s.dates, VALUE: s.values})
        if s.utc:
            out.attrs[UTC] = [path.stem]
        return out
    refuse_repeated_columns(path, header(path))
    date_col, value_col = date_column or DATE, value_column or VALUE
    said = {"--id-column": "--id-column", "--date-column": "--date-column", "--value-column": "--value-column", **(names or {})}
    roles = {said["--id-column"]: uid, said["--date-column"]: date_col, said["--value-column"]: value_col}
    for (flag, name), (other, same) in ((a, b) for i, a in enumerate(roles.items()) for b in list(roles.items())[i + 1 :]):
        if name == same:
            raise DataError(f"{path}: {flag} and {other} both name {show(name)}: a panel needs a column for each")
    for flag, name, given in ((said["--date-column"], date_col, date_column), (said["--value-column"], value_col, value_column)):
        if name not in columns:
            what = f"{flag} {show(name)} not found" if given else f"no column {show(name)} (name it with {flag})"
            raise DataError(f"{path}: {what}; columns are {_columns(head)} (a panel needs {ID}, {DATE}, {VALUE} or the names given)")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:  # a row of more fields than the header, say
        raise DataError(f"{path}: not a readable CSV file ({csv_error(err, path)})") from None
    nul = nul_byte(path)
    if nul:
        raise DataError(f"{path}: not a readable CSV file ({nul})")
    if not isinstance(frame.index, pd.RangeIndex):  # every row longer than the header: pandas made the first fields row names
        extra = frame.index.nlevels
        raise DataError(f"{path}: line {_line(0, path)} has {len(columns) + extra} fields, the header {len(columns)}, as every row has "
                        "(a ',' at the end of each line, a ',' thousands separator or an unquoted ','?)")
    frame.columns = columns
    if frame.empty:
        raise DataError(f"{path}: no rows under the header")
    ids = frame[uid].astype(str).str.strip()
    bad = np.flatnonzero((ids == "").to_numpy())
    if bad.size:
        raise DataError(f"{path}: line {_line(int(bad[0]), path)}, column {show(uid)}: empty (every row names its series)")
    clash = _clash(_raw_ids(path, uid, frame[uid].astype(str), ids), ids)
    if clash:
        raise DataError(f"{path}: column {show(uid)}: {clash}")
    made_utc: list = []
    dates = to_dates(frame[date_col], date_format, ids, made_utc)
    values, bad_values = to_values(frame[value_col])
    wrong = {int(r): f"column {show(date_col)}: {show(frame[date_col].iloc[int(r)].strip())} is not a date{format_hint(frame[date_col].iloc[int(r)]) if date_format is None else ''}"
             for r in np.flatnonzero(dates.isna().to_numpy())}
    if date_format is None:
        for r, what in _offsets_mixed(ids, frame[date_col]).items():
            wrong.setdefault(r, f"column {show(date_col)}: {show(frame[date_col].iloc[r].strip())} {what}")
    for r in bad_values:
        wrong.setdefault(int(r), f"column {show(value_col)}: {show(frame[value_col].iloc[int(r)].strip())} is not a number")
    for r, what in out_of_range(values.to_numpy()).items():  # read as numbers, but none a network can train on
        wrong.setdefault(r, f"column {show(value_col)}: {show(frame[value_col].iloc[r].strip())} {what}")
    for r, first in _repeated_dates(ids, dates).items():  # named at the later line, as a single file's are
        wrong.setdefault(r, f"column {show(date_col)}: duplicate date {day(dates.iloc[r])} (first at line {_line(first, path)}){clock_change([dates.iloc[r]])}")
    why: dict[str, str] = {}
    for r in sorted(wrong):  # each series' first cell that does not parse: that series is skipped, the others read
        why.setdefault(ids.iloc[r], f"{path}: line {_line(r, path)}, {wrong[r]}")
    out = pd.DataFrame({ID: ids, DATE: dates, VALUE: values})
    out.attrs[SOURCE] = str(path)  # row r of the frame is the file's data row r (messages name its line)
    if why:
        out.attrs[UNREADABLE] = why
    utc = [u for u in made_utc if u not in why]  # a skipped series has no outputs to mark
    if utc:
        out.attrs[UTC] = utc
    return out


MIN_ABS = 1e-5
"""A series whose largest magnitude is below this is skipped: AutoARIMA's choices change below
about 1e-6 and AutoETS's bands collapse below about 1e-10 (measured on a monthly series scaled
down by powers of ten)."""


def out_of_range(y: np.ndarray) -> dict[int, str]:
    """Positions of values that read as numbers but cannot be trained on, and why: infinite, or
    beyond :data:`~lstmtune.data.series.MAX_ABS` (the single-file reader's words)."""
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        huge = np.isfinite(y) & (np.abs(y) > MAX_ABS)
    out = {int(r): "is not a finite number" for r in np.flatnonzero(np.isinf(y))}
    out.update({int(r): f"is beyond {MAX_ABS:.0e}: the networks train in float32 (rescale the series)" for r in np.flatnonzero(huge)})
    return out


def _repeated_dates(ids: pd.Series, dates: pd.Series) -> dict[int, int]:
    """Each series' first row whose date it already has (NaT aside): row -> the row that had it first."""
    pairs = pd.DataFrame({"id": ids.to_numpy(), "ds": dates.to_numpy()})
    repeated = (pairs.duplicated() & dates.notna()).to_numpy()
    if not repeated.any():
        return {}
    first = pairs.assign(row=np.arange(len(pairs))).groupby(["id", "ds"], sort=False)["row"].transform("first").to_numpy()
    later = np.flatnonzero(repeated)
    once = later[~pd.Series(pairs["id"].to_numpy()[later]).duplicated().to_numpy()]  # one per series: the one named
    return {int(r): int(first[r]) for r in once}


SOURCE = "lstmtune_source"
"""The file a frame was read from (:func:`read`), in its ``attrs``."""
UNREADABLE = "lstmtune_unreadable"
"""The key, in a frame's ``attrs``, of the series :func:`read` found a cell in that does not parse (``unique_id -> why``)."""
UTC = "lstmtune_utc"
"""The key, in a frame's ``attrs``, of the series whose times :func:`read` made UTC times (dates with
UTC offsets, finer than daily: :func:`lstmtune.data.dates.without_zone`), a list of ``unique_id``."""


def unreadable(frame: pd.DataFrame) -> dict[str, str]:
    """The series of a frame from :func:`read` with a date or value cell that does not parse,
    and why (file, line, column, cell): each is skipped and named, the others forecast."""
    return dict(frame.attrs.get(UNREADABLE, {}))


MISSING_TEXT = frozenset({"", "na", "nan", "null", "none"})
"""Value cells read as missing (any case, spaces around)."""


def _raw_ids(path, uid: str, parsed: pd.Series, ids: pd.Series) -> pd.Series:
    """The id cells as written, spaces after the separator included: the file is read with
    ``skipinitialspace`` (so that ``a, "x,y"`` is two fields), which drops them, and
    ``" A"`` and ``"A"`` were then one series without a word (a probe). Read once more without
    it, for this column only; a row that parses otherwise there keeps its parsed cell."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=[uid])[uid].astype(str)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
        return parsed
    if len(raw) != len(parsed):
        return parsed
    raw.index = parsed.index
    return raw.where(raw.str.strip() == ids, parsed)


def _clash(raw: pd.Series, ids: pd.Series) -> str | None:
    """Two names that are one series once the spaces around them are dropped, said; else None."""
    pairs = pd.DataFrame({"raw": raw.to_numpy(), "id": ids.to_numpy()}).drop_duplicates()
    twice = pairs[pairs["id"].duplicated(keep=False)]
    if twice.empty:
        return None
    first = twice.groupby("id", sort=False)["raw"].apply(list).iloc[0]
    return f"{' and '.join(show(n) for n in first[:2])} are one series once the spaces around them are dropped: rename one"


def to_dates(cells: pd.Series, date_format: str | None = None, ids: pd.Series | None = None, made_utc: list | None = None) -> pd.Series:
    """Dates of a panel's date column as ``datetime64[ns]`` without a time zone; NaT where a cell
    is missing or not a date (ISO 8601 text or quarter labels such as ``1959Q1`` unless
    ``date_format``; datetimes as they are).

    Dates with a time zone or offset (mixed ones too, as across a change to summer time) keep
    their calendar date where every one of their series (``ids``; else the whole column) is at
    midnight, else become UTC times (:func:`lstmtune.data.dates.without_zone`, the single-series
    loader's rule): a daily series keeps its dates beside an hourly one, as it does alone.
    ``made_utc`` gets each series (``ids``; else ``True``) whose zoned times were made UTC times.
    """
    import warnings

    def parse(text):
        with warnings.catch_warnings():  # mixed offsets: pandas 2 warns and gives objects
            warnings.simplefilter("ignore")
            try:
                return pd.to_datetime(text, format=date_format or "ISO8601", errors="coerce")
            except ValueError:  # pandas 3 refuses mixed offsets: cell by cell
                return text.map(lambda c: pd.to_datetime(c, format=date_format or "ISO8601", errors="coerce")).astype(object)

    if pd.api.types.is_datetime64_any_dtype(cells):
        parsed = cells
    else:
        text = cells.map(lambda c: c.strip() if isinstance(c, str) else (c.isoformat() if hasattr(c, "isoformat") else c))
        timed = date_format is None and text.map(lambda c: isinstance(c, str) and ":" in c).any()  # an offset follows a time
        has = has_offset(text) if timed else None
        if has is not None and has.eq(True).any() and has.eq(False).any():
            # pandas lends a cell without an offset the offset of the cells before it, so that a
            # series without offsets after one with them moved by hours: each kind parsed apart
            zoned_rows = has.eq(True).to_numpy()
            parsed = parse(text.where(zoned_rows)).astype(object).where(zoned_rows, parse(text.where(~zoned_rows)).astype(object))
        else:
            parsed = parse(text)
        if date_format is None:
            quarters = quarter_starts(text)
            labelled = (parsed.isna() & quarters.notna()).to_numpy()
            if labelled.any():  # objects while some dates carry a zone, else plain dates again
                parsed = parsed.astype(object).where(~labelled, quarters.astype(object))
                if not any(getattr(t, "tzinfo", None) is not None for t in parsed.dropna()):
                    parsed = pd.to_datetime(parsed)
    zoned = isinstance(parsed.dtype, pd.DatetimeTZDtype) or parsed.dtype == object
    made_utc = [] if made_utc is None else made_utc
    if ids is None or not zoned:
        with recording_utc() as seen:
            whole = _in_range(without_zone(parsed))
        made_utc.extend([True] if seen else [])
        return whole
    out = pd.Series(np.full(len(parsed), np.datetime64("NaT"), dtype="datetime64[ns]"), index=parsed.index)
    for uid, rows in pd.Series(np.asarray(ids)).groupby(np.asarray(ids), sort=False).indices.items():  # each series its own rule
        with recording_utc() as seen:
            out.iloc[rows] = _in_range(without_zone(parsed.iloc[rows])).to_numpy()
        if seen:
            made_utc.append(uid)
    return out


def _in_range(dates: pd.Series) -> pd.Series:
    """``dates`` as ``datetime64[ns]``; NaT for those outside its range (1677-2262)."""
    try:
        return dates.astype("datetime64[ns]")
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
        low, high = pd.Timestamp.min, pd.Timestamp.max
        return pd.to_datetime(dates.where((dates >= low) & (dates <= high)), errors="coerce").astype("datetime64[ns]")


def to_values(cells: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """A value column as float64 (NaN where missing: :data:`MISSING_TEXT` or empty) and the
    positions of cells that are not numbers."""
    if pd.api.types.is_bool_dtype(cells) or pd.api.types.is_complex_dtype(cells):  # neither is a quantity to forecast
        return pd.Series(np.nan, index=cells.index), np.arange(len(cells))
    if pd.api.types.is_numeric_dtype(cells):
        return pd.Series(cells.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan), index=cells.index), np.array([], dtype=int)
    text = cells.map(lambda c: c.strip() if isinstance(c, str) else c)
    missing = text.isna().to_numpy() | text.map(lambda c: isinstance(c, str) and c.lower() in MISSING_TEXT).to_numpy(dtype=bool)
    values = pd.Series(numbers.exact(text.where(~missing)), index=cells.index)
    bad = np.flatnonzero(values.isna().to_numpy() & ~missing)
    beyond = [r for r in bad if _overflows(text.iloc[r])]  # '1e309': a number past float's range, said so (out_of_range), not "not a number"
    if beyond:
        values.iloc[beyond] = [float(text.iloc[r]) for r in beyond]
        bad = np.setdiff1d(bad, beyond)
    return values, bad


def _overflows(cell) -> bool:
    """Whether the text ``cell`` is a finite decimal number past float64's range (``1e309``, or 400 digits)."""
    import re

    return isinstance(cell, str) and bool(re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", cell)) and np.isinf(float(cell))


def _offsets_mixed(ids: pd.Series, cells: pd.Series) -> dict[int, str]:
    """Rows whose ISO date text has a time-zone offset where its series' first date has none,
    or the reverse (pandas would lend it the offset of the rows before it): row -> why."""
    has = has_offset(cells)
    given = has.notna().to_numpy()
    if not given.any():
        return {}
    first = has.groupby(ids.to_numpy()).transform("first")
    mixed = given & (has != first).to_numpy()
    return {int(r): ("has a time-zone offset" if has.iloc[r] else "has no time-zone offset") + ", unlike its series' first date" for r in np.flatnonzero(mixed)}


def _label(value):
    """A NumPy scalar as the plain Python value it holds (messages say 7, not np.int64(7))."""
    return value.item() if isinstance(value, np.generic) else value


def from_frame(data: pd.DataFrame) -> pd.DataFrame:
    """A long frame (``unique_id, ds, y``) given in Python, read as :func:`read` reads a file
    (:func:`to_dates`, :func:`to_values`): dates as ``datetime64[ns]`` without a time zone,
    values as float64 (:data:`MISSING_TEXT`: missing), series names as stripped text.

    Raises:
      DataError: no rows; a row without its series; two names that are one once stripped; a
        date or value that does not parse, naming its row (the frame's index) and column.
    """
    if data.empty:
        raise DataError("the data have no rows")
    ids = data[ID].map(lambda c: c.strip() if isinstance(c, str) else c)
    nameless = np.flatnonzero((ids.isna() | (ids.astype(str) == "")).to_numpy())
    if nameless.size:
        raise DataError(f"row {_label(data.index[int(nameless[0])])!r}, column {ID!r}: missing (every row names its series)")
    clash = _clash(data[ID].astype(str), ids.astype(str))
    if clash:
        raise DataError(f"column {ID!r}: {clash}")

    def kind(c) -> str:  # text, a truth value, a number (of whichever width), or another type
        return "text" if isinstance(c, str) else "bool" if isinstance(c, (bool, np.bool_)) else "number" if isinstance(c, (int, float, np.number)) else type(c).__name__

    kinds = pd.DataFrame({"kind": ids.map(kind).to_numpy(), "id": ids.astype(str).to_numpy()}).drop_duplicates()
    twice = kinds[kinds["id"].duplicated(keep=False)]
    if not twice.empty:  # 1 and "1", True and "True": one name in every output, two series
        name = twice["id"].iloc[0]
        given = [_label(c) for c in ids[ids.astype(str) == name].drop_duplicates().iloc[:2]]
        raise DataError(f"column {ID!r}: {given[0]!r} and {given[1]!r} are one series once written as text, as every output names it: rename one")
    given_dates = data[DATE]
    if isinstance(given_dates.dtype, pd.PeriodDtype):  # pandas periods: each dated by its start, as "2000Q1" in a file is
        given_dates = given_dates.dt.to_timestamp(how="start")
    made_utc: list = []
    dates = to_dates(given_dates, ids=ids.astype(str), made_utc=made_utc)
    bad = np.flatnonzero(dates.isna().to_numpy() & data[DATE].notna().to_numpy())
    if bad.size:
        row = int(bad[0])
        raise DataError(f"row {_label(data.index[row])!r}, column {DATE!r}: {_label(data[DATE].iloc[row])!r} is not a date (ISO 8601, e.g. 2020-01-31, between 1677 and 2262)")
    mixed = _offsets_mixed(ids, data[DATE])
    if mixed:
        row = min(mixed)
        raise DataError(f"row {_label(data.index[row])!r}, column {DATE!r}: {_label(data[DATE].iloc[row])!r} {mixed[row]}")
    values, bad = to_values(data[VALUE])
    if bad.size:
        row = int(bad[0])
        raise DataError(f"row {_label(data.index[row])!r}, column {VALUE!r}: {_label(data[VALUE].iloc[row])!r} is not a number")
    out = data.assign(**{ID: ids, DATE: dates.to_numpy(), VALUE: values.to_numpy()})
    utc = list(dict.fromkeys([*out.attrs.pop(UTC, ()), *made_utc]))  # a frame panel.read made UTC (assign kept its attrs), or times made UTC here
    if utc:
        out.attrs[UTC] = utc
    return out


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What can be done with one series.

    Attributes:
      status: ``"ok"`` (every candidate), ``"fallback"`` (too short for the candidates:
        seasonal naive or naive), ``"constant"`` (a constant forecast) or ``"skip"``.
      reason: why, in words (empty when ok).
      freq / season: the series' frequency alias and season length (1: none).
    """

    status: str
    reason: str = ""
    freq: str | None = None
    season: int = 1


def triage(frame: pd.DataFrame, horizon: int, *, freq: str | None = None, season: int | None = None, missing: str = "error", min_windows: int = 1,
           inserted: tuple[str, int] = ("", 0), first_missing: str = "") -> Verdict:
    """Check one series (``ds``, ``y`` of one ``unique_id``, sorted by date).

    Skipped: duplicate dates, dates of no regular frequency, or missing values (unless
    ``missing="interpolate"``: then noted, and the caller interpolates). A series with fewer
    than ``2 * horizon + season`` observations gets a fallback; a constant one a constant
    forecast. ``inserted``: :func:`fill_absent`'s note and how many of the missing values are the
    dates it inserted (said once, not counted again as missing values). ``first_missing``: where
    the first missing value is in the file (:func:`first_missing_lines`), said beside its date.
    """
    ds = frame[DATE].to_numpy(dtype="datetime64[ns]")
    if np.isnat(ds).any():
        k = int(np.isnat(ds).sum())
        return Verdict("skip", f"{k} missing date{'s' if k > 1 else ''}")
    if len(ds) != len(np.unique(ds)):
        dup = pd.Series(ds)[pd.Series(ds).duplicated()].iloc[0]
        return Verdict("skip", f"duplicate date {day(dup)}{clock_change([dup])}")
    f = freq or infer_frequency(ds)
    if f is None and len(ds) < 3:  # pandas infers a frequency from three dates or more
        return Verdict("skip", f"{len(ds)} observation{'s' if len(ds) > 1 else ''}: too few to infer the frequency (give {_F()})")
    if f is None:
        absent = absent_dates(ds)
        if absent and len(absent[1]) > len(ds):
            return Verdict("skip", f"dates of no regular frequency: on its {absent[0]} dates {len(absent[1])} would be absent, more than the {len(ds)} "
                                   f"it has (a mistyped date?); give {_F()} to fill them anyway")
        on_day = fixed_day_of_month(ds)
        if on_day is not None:
            return Verdict("skip", f"monthly dates on day {on_day} of each month, which no pandas frequency ({_F()}) describes: "
                                   "date each value the 1st of its month (MS) or its last day (ME)")
        return Verdict("skip", _absent(*absent) if absent else f"dates of no regular frequency (mixed frequencies, or gaps: give {_F()} "
                                                               "if they are a regular series' dates with some absent)")
    if freq is not None:
        try:
            grid = pd.date_range(pd.Timestamp(ds[0]), periods=len(ds), freq=freq).to_numpy(dtype="datetime64[ns]")
        except (pd.errors.OutOfBoundsDatetime, OverflowError):
            return Verdict("skip", f"its dates at {_F()} {freq} would pass {pd.Timestamp.max.date()}, the last date pandas can hold (is {_F()} right?)")
        except ValueError:
            return Verdict("skip", f"{_F()} {freq!r} is not a pandas frequency")
        if not np.array_equal(grid, ds):
            own = infer_frequency(ds)
            hint = f" (they are regular at {own}: give {_F()} {own}, or leave {_F()} out)" if own else ""
            absent = absent_dates(ds, freq)
            if absent and own:  # regular at another frequency: not dates to fill
                return Verdict("skip", f"dates regular at {own}, not at {_F()} {freq} (on which {len(absent[1])} dates would be absent: "
                                       f"{some_dates(absent[1])}): give {_F()} {own}, or leave {_F()} out")
            if absent:
                return Verdict("skip", _absent(*absent))
            if grid[0] != ds[0]:  # pandas moved the start onto the frequency: the first date is not one of its dates
                return Verdict("skip", f"dates not regular at {_F()} {freq}: the first, {day(ds[0])}, is not a {freq} date "
                                       f"(the next one is {day(grid[0])}){hint}")
            bad = int(np.flatnonzero(grid != ds)[0])
            return Verdict("skip", f"dates not regular at {_F()} {freq}: {day(ds[bad])} where {day(grid[bad])} was due{hint}")
    m = season if season is not None else (infer_period(ds) or (season_of(f) if len(ds) < 3 else None) or 1)  # two dates: the season of the frequency given
    try:
        pd.date_range(pd.Timestamp(ds[-1]), periods=horizon + 1, freq=f)
    except (OverflowError, ValueError):  # pandas' OutOfBoundsDatetime is a ValueError
        return Verdict("skip", f"its {horizon} forecast dates would pass {pd.Timestamp.max.date()}, the last date pandas can hold: give a shorter --horizon", f, m)
    y = frame[VALUE].to_numpy(dtype=np.float64)
    if np.isinf(y).any():
        return Verdict("skip", f"{int(np.isinf(y).sum())} infinite values", f, m)
    if not np.isfinite(y).any():
        return Verdict("skip", "no values (every one missing)", f, m)
    if np.nanmax(np.abs(y)) > MAX_ABS:
        return Verdict("skip", f"values as large as {np.nanmax(np.abs(y)):.3g}: beyond {MAX_ABS:.0e}, where the networks' float32 arithmetic and the statistical models overflow", f, m)
    if 0 < np.nanmax(np.abs(y)) < MIN_ABS:
        return Verdict("skip", f"values no larger than {np.nanmax(np.abs(y)):.3g}: below {MIN_ABS:.0e}, where the statistical models' fixed tolerances "
                               f"distort their fits and bands; rescale the series (multiply it by 1e6, say)", f, m)
    notes = [inserted[0]] if inserted[0] else []
    k = int(np.isnan(y).sum()) - inserted[1]
    edges = _edges(y) if missing == "interpolate" else 0  # rows without a value before the first or after the last: left out, not invented
    if k > 0:
        if missing not in FILLS:
            at = f"; {'the first at ' if k > 1 else ''}{first_missing}" if first_missing else ""
            return Verdict("skip", f"{k} missing value{'s' if k > 1 else ''} ({some_dates(ds[np.isnan(y)])}{at}): use {_M()} interpolate or {_M()} zero", f, m)
        if k > edges:
            notes.append(f"{k - edges} missing value{'s' if k - edges > 1 else ''} {FILLS[missing]}")
        if edges:
            notes.append(f"{edges} row{'s' if edges > 1 else ''} without a value at its start or end left out (nothing beyond to interpolate toward)")
    finite = y[np.isfinite(y)]
    if missing == "zero" and np.isnan(y).any():  # as filled: a product selling 1 in some months and nothing in the others is not constant
        finite = np.append(finite, 0.0)
    if finite.size == 1:  # not "a constant series" (a probe): one value says nothing of its spread
        return Verdict("constant", "; ".join(["a single observation: the forecast is that value, its bands of no width (one value says nothing of its spread)", *notes]), f, m)
    if finite.size and np.all(finite == finite[0]):
        return Verdict("constant", "; ".join(["a constant series: the forecast is that constant", *notes]), f, m)
    n = len(y) - edges
    if n < horizon * (1 + min_windows) + max(m, 2):
        fallback = "seasonal naive" if n > m > 1 else "naive"  # one season exactly: statsforecast's bands would have no width (n - m residuals)
        return Verdict("fallback", "; ".join([f"{n} observations: too few for horizon {horizon} and season {m} ({fallback})", *notes]), f, m)
    return Verdict("ok", "; ".join(notes), f, m)


def _F() -> str:
    """``--freq`` on the command line, ``freq`` in Python (a probe: auto(freq="D") was told to "give --freq MS")."""
    return option("--freq")


def _M() -> str:
    return option("--missing")


FILLS = {"interpolate": "interpolated", "zero": "set to 0"}
"""``--missing`` policies that fill a missing value (and a date absent from a regular series'
dates) rather than skip the series, and what each does, in words."""


def check_freq(freq: str | None) -> str | None:
    """``freq`` as given, or one line refusing what is no frequency a series can have: not
    pandas', or a multiple of zero or below (``0MS``, ``-1D``).

    Raises:
      LstmtuneError: as above.
    """
    from lstmtune.data.series import frequency_offset

    if freq is None:
        return None
    offset = frequency_offset(freq)
    if offset is None:
        raise LstmtuneError(f"{option('--freq')} {freq!r} is not a pandas frequency (e.g. MS, W-SUN, D, h)")
    if offset.n <= 0:
        raise LstmtuneError(f"{option('--freq')} {freq!r}: a frequency's multiple must be positive (e.g. MS, 2MS, 15min)")
    return freq


def check_missing(missing: str) -> str:
    """``missing`` if it is a policy of ``lstmtune auto`` (``error`` or one of :data:`FILLS`).

    Raises:
      LstmtuneError: any other value, in one line.
    """
    if missing not in ("error", *FILLS):
        raise LstmtuneError(f"{option('--missing')} must be error, interpolate or zero, got {missing!r}")
    return missing


def _absent(freq: str, absent: np.ndarray) -> str:
    shown = some_dates(absent)
    return (f"{len(absent)} date{'s' if len(absent) > 1 else ''} absent from its {freq} dates ({shown}): add the rows, "
            f"or fill them with {_M()} interpolate or {_M()} zero (zero: no row meant nothing, as in sales){clock_change(absent)}")


def shared_frequency(panel: pd.DataFrame) -> str | None:
    """The frequency every series of three dates or more has (its dates', or the grid they lie on
    with some absent), where they all agree; else None. A series of one or two dates (a product
    just launched) has too few for pandas to infer its own: it is read at this one. A series
    with no frequency (irregular dates, a duplicate date: it is skipped) has no say: one such
    series left every new product of the panel skipped (a probe)."""
    found = set()
    for _, frame in series_frames(panel):
        ds = frame[DATE].dropna().to_numpy(dtype="datetime64[ns]")
        alias = grid_frequency(ds) if len(ds) >= 3 else None
        if alias is not None:
            found.add(alias)
            if len(found) > 1:
                return None
    return found.pop() if found else None


def common_ends(panel: pd.DataFrame, freq: str | None = None) -> dict[str, pd.Timestamp]:
    """Per frequency, the panel's last date for ``--missing zero``: the latest date that two or
    more series of that frequency end on; not the latest of all, which one mistyped date (2048
    for 2018) would set, nor the one most series end on, which a group of discontinued products
    set (their zeros since were not filled, and the others' forecast began in the past: a probe).
    ``freq``: every series' (``--freq``)."""
    lasts: dict[str, list] = {}
    for _, frame in series_frames(panel):
        ds = frame[DATE].dropna().to_numpy(dtype="datetime64[ns]")
        alias = freq or grid_frequency(ds)
        if alias is not None:
            lasts.setdefault(alias, []).append(ds[-1])
    ends = {}
    for alias, days in lasts.items():
        counts = pd.Series(days).value_counts()
        if counts.max() >= 2:
            ends[alias] = pd.Timestamp(counts[counts >= 2].index.max())
    return ends


def grid_frequency(ds: np.ndarray) -> str | None:
    """A series' frequency: its dates', else that of the grid they lie on with some absent (not
    where more would be absent than present); None."""
    if len(ds) < 2 or len(ds) != len(np.unique(ds)):
        return None
    alias = infer_frequency(ds)
    if alias is None:
        found = absent_dates(ds)
        alias = found[0] if found is not None and len(found[1]) <= len(ds) else None
    return alias


def fill_absent(frame: pd.DataFrame, missing: str, freq: str | None = None, ends: dict | None = None) -> tuple[pd.DataFrame, tuple[str, int]]:
    """One series (sorted by date) with the dates absent from its regular dates inserted, ``y``
    missing there, for ``missing`` (a :data:`FILLS` policy) to fill; and :func:`triage`'s
    ``inserted``: a note saying so, and how many were inserted.

    The grid: ``freq``'s, else the dates' own frequency, else :func:`absent_dates`'s (not where it
    would insert more dates than the series has: a mistyped date, say; :func:`triage` then says
    why). ``ends`` (``--missing zero``: :func:`common_ends`): the grid runs on to its frequency's,
    so that a series whose last periods sold nothing ends where the others of its frequency do. The frame unchanged and
    ``("", 0)`` when nothing is inserted."""
    ds = frame[DATE].to_numpy(dtype="datetime64[ns]")
    if np.isnat(ds).any() or len(ds) != len(np.unique(ds)):  # triage names either
        return frame, ("", 0)
    alias = freq or grid_frequency(ds)
    if alias is None:
        return frame, ("", 0)
    end = (ends or {}).get(alias)
    last = max(pd.Timestamp(ds[-1]), end) if end is not None else pd.Timestamp(ds[-1])
    try:
        grid = pd.date_range(pd.Timestamp(ds[0]), last, freq=alias).to_numpy(dtype="datetime64[ns]")
    except (TypeError, ValueError):
        return frame, ("", 0)
    if len(grid) <= len(ds) or not np.isin(ds, grid).all():
        return frame, ("", 0)
    absent = grid[~np.isin(grid, ds)]
    filled = frame.set_index(DATE).reindex(pd.DatetimeIndex(grid, name=DATE)).reset_index()
    filled[ID] = frame[ID].iloc[0]
    shown = some_dates(absent)
    after = int((absent > ds[-1]).sum())
    where = f", {after} of them after its last row, to the date most {alias} series end on" if after else ""
    note = f"{len(absent)} date{'s' if len(absent) > 1 else ''} absent from its {alias} dates ({shown}{where}) inserted and {FILLS[missing]}"
    return filled[list(frame.columns)], (note, len(absent))


def _observed(y: np.ndarray) -> slice:
    """The rows from the first observed value to the last (all of them when none is)."""
    seen = np.flatnonzero(~np.isnan(np.asarray(y, dtype=np.float64)))
    return slice(int(seen[0]), int(seen[-1]) + 1) if seen.size else slice(0, len(y))


def _edges(y: np.ndarray) -> int:
    """How many values are missing before the first observed one and after the last."""
    span = _observed(y)
    return len(y) - (span.stop - span.start)


def interpolate(frame: pd.DataFrame, apart: int = 0) -> pd.DataFrame:
    """Missing ``y`` between observations filled linearly in time; rows without a value before the
    first observation or after the last left out (a file's blank future rows, say: carrying the
    last value into them would invent observations and move the forecast's start). ``apart``: the
    last ``apart`` rows (a study's test split) filled apart (:func:`lstmtune.data.series.interpolated`)."""
    from lstmtune.data.series import interpolated

    frame = frame.iloc[_observed(frame[VALUE].to_numpy())]
    y = frame[VALUE].to_numpy(dtype=np.float64)
    x = frame[DATE].to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)  # in time, as a single file's (by position before: a probe)
    return frame.assign(**{VALUE: interpolated(y, np.isnan(y), x, apart)})


def zero_fill(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing ``y`` set to 0 (``--missing zero``: a period without a row or a value sold nothing)."""
    return frame.assign(**{VALUE: frame[VALUE].fillna(0.0).to_numpy(dtype=np.float64)})


def first_missing_lines(panel: pd.DataFrame) -> dict[str, str]:
    """``unique_id -> "line N of FILE"`` of each series' first missing value, for a panel read
    from a file (:func:`read`: row r of the frame is the file's data row r), where every other
    error names its line (a probe); empty for a frame from Python (its messages name dates)."""
    source = panel.attrs.get(SOURCE)
    if not source or not isinstance(panel.index, pd.RangeIndex):
        return {}
    missing = panel.loc[panel[VALUE].isna(), ID].astype(str)
    return {uid: f"line {_line(int(r), source)} of {source}" for r, uid in missing[~missing.duplicated()].items()}  # each series' first row in the file


def series_frames(panel: pd.DataFrame):
    """``(unique_id, frame)`` per series, in order of first appearance, each sorted by date."""
    order = dict.fromkeys(panel[ID])
    groups = dict(tuple(panel.groupby(ID, sort=False)))
    for uid in order:
        yield str(uid), groups[uid].sort_values(DATE, kind="stable").reset_index(drop=True)


__all__ = ["DATE", "ID", "MAX_ABS", "MISSING_TEXT", "VALUE", "Verdict", "first_missing_lines", "from_frame", "grid_frequency", "interpolate", "out_of_range", "read", "series_frames", "to_dates", "to_values", "triage", "unreadable"]
