"""A series from any source: a built-in name, a CSV path, a pandas Series or DataFrame."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from lstmtune.data.dates import UTC_NOTE, without_zone
from lstmtune.data.series import MAX_ABS, Series, gaps, load
from lstmtune.errors import DataError


def _dates(index: pd.DatetimeIndex) -> np.ndarray:
    """An index's dates without a time zone, by the CSV readers' rule
    (:func:`lstmtune.data.dates.without_zone`: local dates at midnight, else UTC)."""
    return without_zone(pd.Series(index)).to_numpy(dtype="datetime64[ns]")


def _made_utc(index: pd.DatetimeIndex) -> bool:
    """Whether :func:`_dates` made a zoned index's times UTC times (readings finer than daily)."""
    if index.tz is None:
        return False
    local = index.tz_localize(None)
    return (local - local.normalize()).nunique() > 1


def _in_order(index: pd.DatetimeIndex, what: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """The positions that put ``index`` in date order, and a note when they moved any; a date
    that is missing (NaT) or repeated, or no date at all, is refused as a file's would be."""
    if len(index) == 0:
        raise DataError(f"{what}: no values")
    if index.hasnans:
        raise DataError(f"{what}: position {int(np.flatnonzero(index.isna())[0])} has no date (NaT); every value needs its date")
    if index.has_duplicates:
        first = int(np.flatnonzero(index.duplicated())[0])
        raise DataError(f"{what}: duplicate date {index[first]} (positions {int(np.flatnonzero(index == index[first])[0])} and {first})")
    if index.is_monotonic_increasing:
        return np.arange(len(index)), ()
    return np.argsort(index.to_numpy(), kind="stable"), (f"{what}: its values sorted by date (they were given out of order)",)


def load_series(source, **kwargs):
    """A series from a built-in name, a CSV path (see :func:`lstmtune.data.series.load`), a pandas
    Series with a DatetimeIndex, or a pandas DataFrame with a DatetimeIndex.

    For a DataFrame, ``value_column`` names the target (default: its only column) and
    ``covariates`` further columns kept as inputs (``[data] covariates``).

    Raises:
      TypeError: a pandas object without a DatetimeIndex, or an ambiguous DataFrame.
      DataError (a ValueError): no values, a date missing (NaT) or repeated, values missing,
        non-finite or beyond :data:`~lstmtune.data.series.MAX_ABS`, or unknown columns. Values
        given out of date order are sorted (a note says so), as a file's rows are.
    """
    def column(frame_or_series, name):
        if pd.api.types.is_bool_dtype(frame_or_series.dtype):  # read as 0 and 1 before, where auto refuses them (a probe)
            raise DataError(f"{name}: true/false values, not numbers")
        try:
            values = frame_or_series.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(f"{name}: not numbers") from None
        if not np.isfinite(values).all():
            raise DataError(f"{name}: missing or non-finite values; fill or drop them first")
        huge = np.flatnonzero(np.abs(values) > MAX_ABS)
        if huge.size:
            raise DataError(f"{name}: {values[huge[0]]:.3g} (position {int(huge[0])}) is beyond {MAX_ABS:.0e}: the networks train in float32 (rescale the series)")
        return values[order]

    if isinstance(source, (pd.Series, pd.DataFrame)) and isinstance(source.index, pd.PeriodIndex):  # dated by each period's start
        source = source.set_axis(source.index.to_timestamp(how="start"))
    if isinstance(source, (pd.Series, pd.DataFrame)) and not isinstance(source.index, pd.DatetimeIndex):
        raise TypeError(f"a pandas {type(source).__name__} needs a DatetimeIndex or PeriodIndex (its dates)")
    if isinstance(source, (pd.Series, pd.DataFrame)):
        order, notes = _in_order(source.index, "the series" if isinstance(source, pd.Series) else "the DataFrame")
        dates = _dates(source.index)[order]
        utc = _made_utc(source.index)
        if utc:  # said and marked as a file's are (a zoned index's hours became UTC hours unsaid: a probe)
            notes = (f"{UTC_NOTE} (its index: readings finer than daily, so that a change of offset repeats or skips no hour); every output gives UTC times", *notes)
        notes += gaps(dates)  # as a file's: dates regular but for absent ones, said
    if isinstance(source, pd.Series):
        if kwargs:  # they were ignored (missing="interpolate" then refused the gaps it was to fill: a probe)
            raise TypeError(f"options for CSV files do not apply to a pandas Series: {sorted(kwargs)} (fill or drop missing values first: "
                            "series.interpolate(method='time'), series.dropna())")
        values = column(source, "the series")
        return Series(name=str(source.name or "series"), dates=dates, values=values, value_name=str(source.name or "value"), notes=notes, utc=utc)
    if isinstance(source, pd.DataFrame):
        covariates = kwargs.pop("covariates", ())
        covariates = [covariates] if isinstance(covariates, str) else list(covariates)  # "cpi" was read as its letters (a probe)
        target = kwargs.pop("value_column", None)
        if kwargs:
            raise TypeError(f"options for CSV files do not apply to a DataFrame: {sorted(kwargs)}")
        if target is None:
            rest = [c for c in source.columns if c not in covariates]
            if len(rest) != 1:
                raise TypeError(f"the DataFrame has columns {list(map(str, source.columns))}: say which is the target with value_column=")
            target = rest[0]
        missing = [c for c in [target, *covariates] if c not in source.columns]
        if missing:
            raise DataError(f"no column {missing[0]!r} in the DataFrame; columns: {list(map(str, source.columns))}")
        again = [c for i, c in enumerate(covariates) if c == target or c in covariates[:i]]
        if again:
            raise DataError(f"column {again[0]!r} is named twice (the target and covariates are distinct columns)")
        return Series(
            name="dataframe",
            dates=dates,
            values=column(source[target], str(target)),
            value_name=str(target),
            covariates=tuple((str(c), column(source[c], str(c))) for c in covariates),
            notes=notes,
            utc=utc,
        )
    if not isinstance(source, (str, os.PathLike)):  # a list was opened as a file name ("File name too long"), an array dumped whole (a probe)
        raise TypeError(f"expected a built-in name, a CSV path, or a pandas Series or DataFrame indexed by dates; got a {type(source).__name__}")
    return load(source, **kwargs)
