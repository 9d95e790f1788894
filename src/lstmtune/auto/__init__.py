"""One command from data to forecasts (``lstmtune auto``): per series, candidates of every
family (LSTM ensembles, statistical models, combinations) are scored on the same rolling-origin
multi-step backtests, the one with the lowest mean backtest MASE forecasts, and the leaderboard
says how the others compared.

May import: :mod:`lstmtune.forecast`, :mod:`lstmtune.study` (configurations),
:mod:`lstmtune.store` (safe file writing), :mod:`lstmtune.selection`, :mod:`lstmtune.data`.
Independent of :mod:`lstmtune.workflow`; only the CLI imports it.
"""

import sys as _sys
import types as _types


class _CallableModule(_types.ModuleType):
    """``lstmtune.auto(frame, horizon=12)`` calls :func:`lstmtune.auto.run.auto` (the API issue
    22 names), while ``lstmtune.auto`` stays the package its submodules live in."""

    def __call__(self, data, horizon, **options):
        from lstmtune.auto.run import auto

        return auto(data, horizon, **options)


import pkgutil as _pkgutil

_SUBMODULES = frozenset(m.name for m in _pkgutil.iter_modules(__path__))


def __getattr__(name):
    """``lstmtune.auto.lstm.Settings`` right after ``import lstmtune``, as docs/AUTO.md writes it
    (an AttributeError before the first call imported the submodule: a probe)."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_sys.modules[__name__].__class__ = _CallableModule
