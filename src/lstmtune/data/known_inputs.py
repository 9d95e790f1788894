"""What a forecast step reads besides the target's history: covariates and calendar inputs.

A model framed with covariates (``[data] covariates``) reads, at each input step, the
covariates' lagged differences, exactly as the target's; calendar inputs
(``[data] calendar``) read the forecast date. A recursive forecast's step h therefore needs
the covariates up to one step before its target: the observed history, then the values
given for the first ``horizon - 1`` forecast dates (:func:`future_covariates`, or
:func:`read_future` for ``lstmtune forecast --future FILE``). :func:`step_inputs` frames them
as training frames them (:func:`lstmtune.data.problem.extra_inputs` on the history extended by
the forecast dates); :func:`backtest_steps` does so for a backtest's origins.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lstmtune.data import numbers
from lstmtune.data.messages import _line
from lstmtune.data.series import MAX_ABS, Series, dates_after, positions
from lstmtune.errors import LstmtuneError
from lstmtune.data.problem import Framing


def _dates_text(*stamps):
    """How to print dates: days, or days and times when any of ``stamps`` has a time (hourly data)."""
    every = pd.DatetimeIndex(np.concatenate([np.asarray(x, dtype="datetime64[ns]").ravel() for x in stamps]))
    timed = bool((every != every.normalize()).any())
    return lambda t: pd.Timestamp(t).isoformat(sep=" ") if timed else str(pd.Timestamp(t).date())


def has_extras(framing: Framing) -> bool:
    """Whether the model reads inputs besides the target's lags."""
    return bool(framing.covariates or framing.calendar)


def covariate_matrix(s: Series, names: Sequence[str]) -> np.ndarray | None:
    """The named covariates of ``s`` as ``(n, k)`` float64 columns, or None when there are none."""
    if not names:
        return None
    return np.stack([np.asarray(s.covariate(n), dtype=np.float64) for n in names], axis=1)


def _dated(future: pd.DataFrame, dates) -> pd.DataFrame:
    """``future`` indexed by its dates where it gives them: a ``date`` (or ``ds``) column, or an
    index of date text, as a file's column is read; checked against the forecast dates like a
    DatetimeIndex. A frame from ``pd.read_csv`` kept its dates in a column, and a string index
    was ignored: wrongly dated covariates were forecast with, where the CLI refused the same
    file (a probe). A ``unique_id`` column is refused: one series' covariates."""
    if "unique_id" in future.columns:
        raise LstmtuneError("future: a unique_id column: give one series' future covariates (a date column and a column per covariate)")
    if dates is None or isinstance(future.index, pd.DatetimeIndex):
        return future
    column = next((c for c in ("date", "ds") if c in future.columns), None)
    given = future[column] if column is not None else (future.index.to_series() if future.index.dtype == object else None)
    if given is None:
        return future  # by position
    parsed = pd.to_datetime(given, errors="coerce", format="ISO8601") if not pd.api.types.is_datetime64_any_dtype(given) else given
    if parsed.isna().any():
        i = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise LstmtuneError(f"future: row {i + 1}: {given.iloc[i]!r} is not a date (give the forecast dates, or index the frame by them)")
    out = future.drop(columns=[column]) if column is not None else future.copy()
    out.index = pd.DatetimeIndex(parsed.to_numpy()).tz_localize(None) if getattr(parsed.dt, "tz", None) is not None else pd.DatetimeIndex(parsed.to_numpy())
    out.attrs = dict(future.attrs)
    return out


def future_covariates(future, names: Sequence[str], horizon: int, dates) -> np.ndarray:
    """The covariates' values at the first ``horizon - 1`` forecast dates, ``(horizon - 1, k)``.

    Args:
      future: a DataFrame (indexed by dates or by position) or a dict of column -> values, or None.
      names: the covariates the model reads.
      horizon: steps ahead.
      dates: the forecast dates (checked against a DataFrame's DatetimeIndex), or None (positions).

    Raises:
      LstmtuneError: a missing column, too few rows, a missing value or a date that is not the forecast's.
    """
    need = horizon - 1
    if not names or need == 0:
        return np.zeros((need, len(names)))
    _when = _dates_text(dates[:need]) if dates is not None else None
    when = "" if dates is None else f" ({_when(dates[0])} .. {_when(dates[need - 1])})"
    if future is None:
        raise LstmtuneError(
            f"a {horizon}-step forecast needs the covariates {', '.join(names)} at the first {need} forecast dates{when}: "
            f"give them as future= (Python) or --future FILE (CLI); a 1-step forecast needs none"
        )
    if isinstance(future, dict):
        future = pd.DataFrame({k: pd.Series(v) for k, v in future.items()})  # text refused below, naming its column (numpy's ValueError before: a probe)
    if not isinstance(future, pd.DataFrame):
        raise LstmtuneError(f"future: expected a DataFrame or a dict of columns, got {type(future).__name__}")
    future = _dated(future, dates)
    lacking = [n for n in names if n not in future.columns]
    if lacking:
        raise LstmtuneError(f"future: no column {lacking[0]!r}; the model reads covariates {', '.join(names)} (columns given: {', '.join(map(str, future.columns))})")
    if len(future) < need:
        where = future.attrs.get("source") or "future"  # read_future's file (a probe: the file was not named)
        raise LstmtuneError(f"{where}: {len(future)} row{'' if len(future) == 1 else 's'}; a {horizon}-step forecast needs the covariates at the first {need} forecast dates{when}")
    future = future.iloc[:need]
    if isinstance(future.index, pd.DatetimeIndex) and dates is not None:
        expected = pd.DatetimeIndex(dates[:need])
        bad = np.flatnonzero(future.index.to_numpy(dtype="datetime64[ns]") != expected.to_numpy(dtype="datetime64[ns]"))
        if len(bad):
            i = int(bad[0])
            _when = _dates_text(expected, future.index[:need])
            where = f"{future.attrs['source']}: line {future.attrs['lines'][i]}" if future.attrs.get("source") else f"future: row {i + 1}"  # read_future's file and line
            raise LstmtuneError(f"{where} is dated {_when(future.index[i])}, expected forecast date {_when(expected[i])}")
    out = np.empty((need, len(names)))
    for j, n in enumerate(names):
        try:
            col = pd.to_numeric(future[n], errors="raise").to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise LstmtuneError(f"future: column {n!r} is not numeric") from None
        bad = np.flatnonzero(~np.isfinite(col))
        if len(bad):
            i = int(bad[0])
            if future.attrs.get("source"):  # read by read_future: its file and line
                raise LstmtuneError(f"{future.attrs['source']}: line {future.attrs['lines'][i]}, column {n!r}: is missing (the forecast reads it)")
            raise LstmtuneError(f"future: column {n!r} row {i + 1}: missing or non-finite value")
        huge = np.flatnonzero(np.abs(col) > MAX_ABS)  # as the history's reader refuses them (past float32, a forecast of garbage and a RuntimeWarning: a probe)
        if len(huge):
            i = int(huge[0])
            where = f"{future.attrs['source']}: line {future.attrs['lines'][i]}, column {n!r}" if future.attrs.get("source") else f"future: column {n!r} row {i + 1}"
            raise LstmtuneError(f"{where}: {col[i]:.6g} is beyond {MAX_ABS:.0e}: the networks read float32 (rescale the covariate, as for training)")
        out[:, j] = col
    return out


def read_future(path, names: Sequence[str], positional: bool = False, date_format: str | None = None) -> pd.DataFrame:
    """Read the covariates' future values from a CSV file (``lstmtune forecast --future``).

    The file has a date column (``date``, or the first column; ``date_format`` as for
    ``--date-format``, else inferred) and one column per covariate; a model of a
    values-only series reads the rows in order (no dates).

    Raises:
      LstmtuneError: unreadable file, missing column, bad date or value (naming the file, line and column).
    """
    from pathlib import Path

    from lstmtune.data import dates as dates_mod
    from lstmtune.data import series as series_mod

    path = Path(path)
    if path.is_dir():  # worded as a history's file is (a probe: "Is a directory")
        raise LstmtuneError(f"--future {path}: is a directory, expected a CSV file")
    try:
        frame = pd.read_csv(path, dtype=str).fillna("")  # cells as written; NA, NaN, empty: missing
    except FileNotFoundError:
        raise LstmtuneError(f"--future {path}: no such file") from None
    except pd.errors.EmptyDataError:
        raise LstmtuneError(f"--future {path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        from lstmtune.data.messages import csv_error

        raise LstmtuneError(f"--future {path}: not a readable CSV file ({csv_error(err, path)})") from None
    series_mod.refuse_repeated_columns(path, series_mod.header(path))  # pandas would read the second as NAME.1
    frame.columns = [str(c).strip() for c in frame.columns]
    if "unique_id" in frame.columns:  # its first series' values were read, whatever the model's (a probe)
        raise LstmtuneError(f"{path}: a unique_id column: a --future file holds one series' future covariates (a date column and a column per covariate)")
    lacking = [n for n in names if n not in frame.columns]
    if lacking:
        series_mod._refuse_other_separators(path, frame)  # a ';'-separated file: say so, not "no column"
        raise LstmtuneError(f"{path}: no column {lacking[0]!r}; the model reads covariates {', '.join(names)} (columns: {', '.join(map(str, frame.columns))})")
    for n in names:
        text = frame[n].str.strip()
        col = numbers.exact(text.where(text != ""))
        # an empty cell is left missing: refused only where the forecast reads it (future_covariates),
        # so a longer file with gaps past the horizon serves; a cell that is not a number is refused here
        bad = np.flatnonzero(~np.isfinite(col) & (text != "").to_numpy())
        if len(bad):
            i = int(bad[0])
            raise LstmtuneError(f"{path}: line {_line(i, path)}, column {n!r}: {text.iloc[i]!r} is not a finite number")
        frame[n] = col
    if positional:
        return _sourced(frame[list(names)], path)
    rest = [c for c in frame.columns if c not in names]
    if not rest:
        raise LstmtuneError(f"{path}: no date column (expected 'date' or a first column of dates)")
    date_col = "date" if "date" in frame.columns else rest[0]
    column = frame[date_col]
    # the dates read as the history's are read (ISO, quarters, years, the tutorial's Y-MM, --date-format)
    parsed = dates_mod.parse_column(path, column, date_col, date_format=date_format)
    return _sourced(frame[list(names)].set_index(pd.DatetimeIndex(parsed, name="date")), path)


def _sourced(frame: pd.DataFrame, path) -> pd.DataFrame:
    """``frame`` noting the file it was read from, so that a value missing where the forecast
    reads it is named by file and line (:func:`future_covariates`)."""
    frame = frame.copy()
    frame.attrs["source"] = str(path)
    frame.attrs["lines"] = [_line(i, path) for i in range(len(frame))]
    return frame


def step_inputs(framing: Framing, dates, covariates, ahead, known, positional: bool = False) -> np.ndarray:
    """The raw covariate and calendar inputs of each forecast step, ``(horizon, timesteps, k)``.

    Args:
      framing: the model's framing.
      dates / covariates: the observations' dates ``(n,)`` and covariates ``(n, c)`` (or None) up to the origin.
      ahead: the ``horizon`` forecast dates.
      known: the covariates at the first ``horizon - 1`` forecast dates, ``(horizon - 1, c)``.
      positional: the series has no dates (no calendar inputs).

    Framed exactly as training frames them (:func:`lstmtune.data.problem.extra_inputs`) on the
    history extended by the forecast dates; step h reads covariates up to one step before
    its target, so the last forecast date's covariates are never read (a NaN stands there,
    and any NaN reaching an input is refused).
    """
    from lstmtune.data.problem import extra_inputs

    H = len(ahead)
    tail = framing.interval + framing.lags + framing.timesteps - 1
    n = len(dates)
    ext_dates = np.concatenate([np.asarray(dates[n - tail :], dtype="datetime64[ns]"),
                                positions(n + H)[n:] if positional else np.asarray(ahead, dtype="datetime64[ns]")])
    cov = ()
    if framing.covariates:
        filler = np.full((1, covariates.shape[1]), np.nan)
        block = np.concatenate([covariates[n - tail :], known, filler])
        cov = tuple((name, block[:, j]) for j, name in enumerate(framing.covariates))
    ext = Series(name="forecast", dates=ext_dates, values=np.zeros(len(ext_dates)), value_name="", positional=positional, covariates=cov)
    out = np.concatenate(extra_inputs(ext, framing, H), axis=2)  # pair j targets position tail + j
    if not np.isfinite(out).all():
        raise LstmtuneError("internal: a forecast step read a covariate beyond the values given")  # pragma: no cover
    return out


def backtest_steps(series: Series, framing: Framing, origins: Sequence[int], horizon: int) -> list[np.ndarray]:
    """Each backtest origin's :func:`step_inputs` from the series' own covariates.

    Steps of the last origins run past the data, where the covariates are not observed:
    the last observed values stand in (those steps have no actual value and are not scored).
    """
    n = len(series)
    cov = covariate_matrix(series, framing.covariates)
    if cov is not None:
        cov = np.concatenate([cov, np.repeat(cov[-1:], horizon, axis=0)])
    dates = np.asarray(series.dates, dtype="datetime64[ns]")
    beyond = positions(n + horizon)[n:] if series.positional else dates_after(dates, horizon).to_numpy(dtype="datetime64[ns]")
    dates = np.concatenate([dates, beyond])
    return [
        step_inputs(framing, dates[:t], None if cov is None else cov[:t], dates[t : t + horizon], None if cov is None else cov[t : t + horizon - 1], series.positional)
        for t in origins
    ]


__all__ = ["backtest_steps", "covariate_matrix", "future_covariates", "has_extras", "read_future", "step_inputs"]
