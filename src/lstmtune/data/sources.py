"""A series from any source: a built-in name, a CSV path, a pandas Series or DataFrame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstmtune.data.dates import without_zone
from lstmtune.data.series import Series, load


def _dates(index: pd.DatetimeIndex) -> np.ndarray:
    """An index's dates without a time zone, by the CSV readers' rule
    (:func:`lstmtune.data.dates.without_zone`: local dates at midnight, else UTC)."""
    return without_zone(pd.Series(index)).to_numpy(dtype="datetime64[ns]")


def load_series(source, **kwargs):
    """A series from a built-in name, a CSV path (see :func:`lstmtune.data.series.load`), a pandas
    Series with a DatetimeIndex, or a pandas DataFrame with a DatetimeIndex.

    For a DataFrame, ``value_column`` names the target (default: its only column) and
    ``covariates`` further columns kept as inputs (``[data] covariates``).

    Raises:
      TypeError: a pandas object without a DatetimeIndex, or an ambiguous DataFrame.
      ValueError: missing or non-finite values (fill or drop them first), or unknown columns.
    """
    def column(frame_or_series, name):
        values = frame_or_series.to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise ValueError(f"{name}: missing or non-finite values; fill or drop them first")
        return values

    if isinstance(source, (pd.Series, pd.DataFrame)) and not isinstance(source.index, pd.DatetimeIndex):
        raise TypeError(f"a pandas {type(source).__name__} needs a DatetimeIndex (its dates)")
    if isinstance(source, pd.Series):
        values = column(source, "the series")
        return Series(name=str(source.name or "series"), dates=_dates(source.index), values=values, value_name=str(source.name or "value"))
    if isinstance(source, pd.DataFrame):
        covariates = list(kwargs.pop("covariates", ()))
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
            raise ValueError(f"no column {missing[0]!r} in the DataFrame; columns: {list(map(str, source.columns))}")
        return Series(
            name="dataframe",
            dates=_dates(source.index),
            values=column(source[target], str(target)),
            value_name=str(target),
            covariates=tuple((str(c), column(source[c], str(c))) for c in covariates),
        )
    return load(source, **kwargs)
