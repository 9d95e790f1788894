"""One command from data to forecasts (``lstmtune auto``): per series, candidates of every
family (LSTM ensembles, statistical models, combinations) are scored on the same rolling-origin
multi-step backtests, the one with the lowest mean backtest MASE forecasts, and the leaderboard
says how the others compared.

May import: :mod:`lstmtune.forecast`, :mod:`lstmtune.study` (configurations),
:mod:`lstmtune.store` (safe file writing), :mod:`lstmtune.selection`, :mod:`lstmtune.data`.
Independent of :mod:`lstmtune.workflow`; only the CLI imports it.
"""
