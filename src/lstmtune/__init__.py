"""lstmtune: seed-aware tuning of LSTM forecasters, whole populations as one compiled JAX program.

The public API (imported lazily: ``import lstmtune`` does not import JAX)::

    import lstmtune
    series = lstmtune.load_series("sales.csv", missing="interpolate")   # or a pandas Series
    spec = lstmtune.load_study("study.toml")                           # or lstmtune.default_study()
    print(lstmtune.plan(spec, series))                                 # size before running
    outcome = lstmtune.run(spec, "runs/mine")                           # train, select, test once, report
    runs, summary = lstmtune.results("runs/mine")                       # tidy DataFrames
    model = lstmtune.fit(series.to_pandas(), spec, label="units=2", repeats=30)  # seed ensemble on all data
    model.save("models/mine"); lstmtune.load_model("models/mine").forecast(12)   # DataFrame with intervals
"""

from lstmtune import _xla

_xla.set_flags()

__version__ = "0.1.0"

_EXPORTS = {
    "load_study": ("lstmtune.spec", "load"),
    "study_from_dict": ("lstmtune.spec", "from_dict"),
    "default_study": ("lstmtune.spec", "default_study"),
    "run": ("lstmtune.study", "run"),
    "search": ("lstmtune.search", "run"),
    "report": ("lstmtune.study", "report"),
    "fit": ("lstmtune.studyfit", "fit"),
    "load_model": ("lstmtune.modelio", "load"),
}


def load_series(source, **kwargs):
    """A series from a built-in name, a CSV path (see :func:`lstmtune.data.load`), a pandas
    Series with a DatetimeIndex, or a pandas DataFrame with a DatetimeIndex.

    For a DataFrame, ``value_column`` names the target (default: its only column) and
    ``covariates`` further columns kept as inputs (``[data] covariates``).

    Raises:
      TypeError: a pandas object without a DatetimeIndex, or an ambiguous DataFrame.
      ValueError: missing or non-finite values (fill or drop them first), or unknown columns.
    """
    import numpy as np
    import pandas as pd

    from lstmtune.data import Series, load

    def column(frame_or_series, name):
        values = frame_or_series.to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise ValueError(f"{name}: missing or non-finite values; fill or drop them first")
        return values

    if isinstance(source, (pd.Series, pd.DataFrame)) and not isinstance(source.index, pd.DatetimeIndex):
        raise TypeError(f"a pandas {type(source).__name__} needs a DatetimeIndex (its dates)")
    if isinstance(source, pd.Series):
        values = column(source, "the series")
        return Series(name=str(source.name or "series"), dates=source.index.to_numpy(dtype="datetime64[ns]"), values=values, value_name=str(source.name or "value"))
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
            dates=source.index.to_numpy(dtype="datetime64[ns]"),
            values=column(source[target], str(target)),
            value_name=str(target),
            covariates=tuple((str(c), column(source[c], str(c))) for c in covariates),
        )
    return load(source, **kwargs)


def plan(spec, series) -> str:
    """The study's size on ``series`` (configurations, runs, memory, expected time), as text."""
    from lstmtune import budget

    return "\n".join(budget.estimate(spec, len(series)).lines())


def results(run_dir):
    """``(runs, summary)`` DataFrames of a finished run directory (results.parquet, summary.csv)."""
    from pathlib import Path

    import pandas as pd

    d = Path(run_dir)
    return pd.read_parquet(d / "results.parquet"), pd.read_csv(d / "summary.csv")


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        module, attr = _EXPORTS[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'lstmtune' has no attribute {name!r}")


__all__ = ["default_study", "fit", "load_model", "load_series", "load_study", "plan", "report", "results", "run", "search", "study_from_dict"]
