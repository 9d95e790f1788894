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
    result = lstmtune.auto(frame, horizon=12)                         # lstmtune auto: unique_id, ds, y
"""

from lstmtune.engine import xla as _xla

_xla.set_flags()

from lstmtune._version import __version__  # noqa: E402

_EXPORTS = {
    "load_study": ("lstmtune.study.spec", "load"),
    "study_from_dict": ("lstmtune.study.spec", "from_dict"),
    "default_study": ("lstmtune.study.spec", "default_study"),
    "run": ("lstmtune.workflow.study", "run"),
    "search": ("lstmtune.workflow.search", "run"),
    "fit": ("lstmtune.workflow.studyfit", "fit"),
    "load_series": ("lstmtune.data.sources", "load_series"),
    "load_model": ("lstmtune.forecast.composite", "load_any"),  # any model directory, auto's of every kind too
}


import importlib as _importlib  # noqa: E402
import types as _types  # noqa: E402


class _Report(_types.ModuleType):
    """The subpackage :mod:`lstmtune.report` (figures and HTML), callable as the API's
    ``lstmtune.report(run_dir)`` (:func:`lstmtune.workflow.study.report`). The function was
    exported under the package's name, and once anything imported the package (``run``,
    ``results``, ``report`` itself) the name meant the package: ``'module' object is not
    callable`` in a notebook's next cell (a probe)."""

    def __call__(self, run_dir):
        from lstmtune.workflow.study import report

        return report(run_dir)


_importlib.import_module("lstmtune.report").__class__ = _Report  # the package alone: its __init__ imports nothing


def plan(spec, series) -> str:
    """The study's size on ``series`` (configurations, runs, memory, expected time), as text.
    ``series``: what :func:`load_series` reads (a built-in name, a CSV path, a pandas object) or
    what it returned."""
    from lstmtune.study import budget
    from lstmtune.workflow.study import as_series, as_spec

    return "\n".join(budget.estimate(as_spec(spec), len(as_series(series))).lines())


def results(run_dir):
    """``(runs, summary)`` DataFrames of a finished run directory (results.parquet, summary.csv);
    ``summary`` is None where every run diverged (nothing was compared, no summary written).

    Raises:
      LstmtuneError: the directory holds no results.
    """
    from pathlib import Path

    import pandas as pd

    from lstmtune.errors import LstmtuneError
    from lstmtune.store.fileio import check_outputs_whole

    d = Path(run_dir)
    check_outputs_whole(d)
    if not (d / "results.parquet").is_file():
        raise LstmtuneError(f"{d}: no results.parquet; not a finished run directory of `lstmtune run`")
    summary = d / "summary.csv"
    return pd.read_parquet(d / "results.parquet"), (pd.read_csv(summary, float_precision="round_trip") if summary.is_file() else None)


def __getattr__(name):
    if name == "auto":  # the package, callable: lstmtune.auto(frame, horizon=12)
        import importlib

        return importlib.import_module("lstmtune.auto")
    if name in _EXPORTS:
        import importlib

        module, attr = _EXPORTS[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'lstmtune' has no attribute {name!r}")


__all__ = ["auto", "default_study", "fit", "load_model", "load_series", "load_study", "plan", "report", "results", "run", "search", "study_from_dict"]
