"""Combinations of candidates: their names, and how their columns are made from their members'
(the mean or the median of the members' point forecasts, medians and bounds, column by column).

- ``StatsMedian``: the median of the statistical models (family ``combo``);
- ``Combo(LSTM,StatsMedian)``: the best single LSTM or hybrid averaged with that median (``combo``);
- ``Ensemble(LSTM,DirectLSTM)``: the best recursive and the best direct LSTM averaged (``lstm``:
  no statistical model inside);
- ``Pool(top3)`` / ``Pool(top3 LSTM)``: the three single candidates (single LSTMs) of lowest
  backtest MASE averaged.

The combinations whose members are chosen (all but the median) are backtested leaving one
window out (:func:`add_left_out`): in each window, the members are those best on the *other*
windows, so no member is chosen on the points it is scored on. The final forecast's members are
the best on every window (:func:`pair`, :func:`combo_member`, :func:`pool_members`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lstmtune.auto import score
from lstmtune.selection import metrics

STATS_MEDIAN = "StatsMedian"
POOL = "Pool(top3)"  # the three single candidates of lowest backtest MASE, averaged (family combo)
POOL_LSTM = "Pool(top3 LSTM)"  # the three best single LSTMs, averaged (family lstm)
POOL_SIZE = 3
COMBO = "Combo(LSTM,StatsMedian)"  # the best single LSTM or hybrid, averaged with the stats median
LSTM_PAIR = "Ensemble(LSTM,DirectLSTM)"  # the best recursive and the best direct LSTM averaged (family lstm: no statistical model inside)
NEURAL = ("lstm", "hybrid")


def columns_of(table: pd.DataFrame, name: str) -> list[str]:
    """A candidate's columns in a statsforecast-shaped table: ``name``, ``name-median``, ``name-lo-80``, ..."""
    return [c for c in table.columns if c == name or c.startswith(name + "-")]


def median_column(table: pd.DataFrame, name: str) -> pd.Series:
    """A candidate's median column (its point forecast where it has none)."""
    return table[f"{name}-median"] if f"{name}-median" in table.columns else table[name]


def combined_names() -> tuple[str, ...]:
    """The names of every combination (none of them a single candidate)."""
    return (STATS_MEDIAN, COMBO, LSTM_PAIR, POOL, POOL_LSTM)


def _single(name: str) -> bool:
    return name not in combined_names()


def _best_neural(ranked: Sequence[tuple[str, str]]) -> str | None:
    """The first single LSTM or hybrid of ``ranked`` (``(name, family)``, best first)."""
    return next((n for n, f in ranked if f in NEURAL and _single(n)), None)


def _best_pair(ranked: Sequence[tuple[str, str]]) -> tuple[str, str] | None:
    """The first recursive and the first direct LSTM of ``ranked`` (``(name, family)``, best first)."""
    names = [n for n, f in ranked if f == "lstm"]
    recursive = [c for c in names if c.startswith("LSTM(")]
    direct = [c for c in names if c.startswith("DirectLSTM(")]
    return (recursive[0], direct[0]) if recursive and direct else None


def _rows(board: pd.DataFrame) -> list[tuple[str, str]]:
    return [(str(c), str(f)) for c, f in zip(board["candidate"], board["family"])]


def combo_member(board: pd.DataFrame) -> str | None:
    """:data:`COMBO`'s network for the final forecast: the single LSTM or hybrid of lowest
    backtest MASE (no combination: their backtests are built from other windows' choices)."""
    return _best_neural(_rows(board))


def pool_members(board: pd.DataFrame, into: str) -> list[str]:
    """The members of ``into`` (a pool) for the final forecast: the :data:`POOL_SIZE` single
    candidates (of family ``lstm`` for :data:`POOL_LSTM`) of lowest mean backtest MASE."""
    rows = board[~board["candidate"].isin(combined_names())]
    if into == POOL_LSTM:
        rows = rows[rows["family"] == "lstm"]
    return [str(c) for c in rows["candidate"]][:POOL_SIZE]


def add_left_out(bt: pd.DataFrame, frame: pd.DataFrame, families: dict, into: str, how: str, pick, m: int, levels=(80, 95)) -> bool:
    """Backtest a combination, in place, leaving one window out: in each window, the ``how``
    (``"mean"`` or ``"median"``) of the members ``pick`` chooses from the candidates
    ``families`` (name -> family) ranked by their mean MASE over the *other* windows (best
    first; only candidates with a finite forecast everywhere). A combination's members are
    never chosen on the window it is scored on; they may be chosen on a later one. False
    (nothing added) with fewer than two windows, or where ``pick`` finds no members in a window."""
    cutoffs = sorted(bt["cutoff"].unique())
    names = [n for n in families if n in bt.columns and np.isfinite(bt[n].to_numpy(dtype=np.float64)).all()]
    if len(cutoffs) < 2 or not names:
        return False
    delivered = score.as_delivered(bt, frame)  # ranked as the leaderboard ranks them, which picks the final members
    by_window = score.windows(delivered, frame, m)
    per_window = {n: score.scaled_errors(delivered, frame, n, m, by_window)[1] for n in names}
    y, at = delivered["y"].to_numpy(dtype=np.float64), delivered["cutoff"].to_numpy()
    parts = []
    for k, cutoff in enumerate(cutoffs):
        others = at != cutoff
        smape = {n: float(np.mean(metrics.smape(y[others], delivered[n].to_numpy(dtype=np.float64)[others]))) for n in names}
        ranked = score.ranked(names, {n: np.mean(np.delete(per_window[n], k)) for n in names}, smape)
        members = pick([(n, families[n]) for n in ranked])
        if not members:
            return False
        part = bt[bt["cutoff"] == cutoff].copy()
        combine(part, list(members), into, how, levels)
        parts.append(part[columns_of(part, into)])
    for c in parts[0].columns:
        bt[c] = pd.concat(parts)[c]
    return True


def add_pool(bt: pd.DataFrame, frame: pd.DataFrame, names: Sequence[str], into: str, m: int, levels=(80, 95)) -> bool:
    """Backtest a pool, in place, leaving one window out (:func:`add_left_out`): in each window,
    the mean of the :data:`POOL_SIZE` candidates of ``names`` best on the other windows. False
    (nothing added) with fewer than two windows or candidates than the pool holds."""
    return add_left_out(bt, frame, dict.fromkeys(names, ""), into, "mean",
                        lambda ranked: [n for n, _ in ranked][:POOL_SIZE] if len(ranked) >= POOL_SIZE else None, m, levels)


def add_pair(bt: pd.DataFrame, frame: pd.DataFrame, families: dict, m: int, levels=(80, 95)) -> bool:
    """:data:`LSTM_PAIR` backtested leaving one window out: the best recursive and direct LSTM on the other windows."""
    return add_left_out(bt, frame, {n: f for n, f in families.items() if f == "lstm"}, LSTM_PAIR, "mean", _best_pair, m, levels)


def add_combo(bt: pd.DataFrame, frame: pd.DataFrame, families: dict, m: int, levels=(80, 95)) -> bool:
    """:data:`COMBO` backtested leaving one window out: the single LSTM or hybrid best on the
    other windows, averaged with :data:`STATS_MEDIAN` (which must be in ``bt``, finite)."""
    if STATS_MEDIAN not in bt.columns or not np.isfinite(bt[STATS_MEDIAN].to_numpy(dtype=np.float64)).all():
        return False
    neural = {n: f for n, f in families.items() if f in NEURAL and _single(n)}
    return add_left_out(bt, frame, neural, COMBO, "mean", lambda ranked: [ranked[0][0], STATS_MEDIAN], m, levels)


def combine(table: pd.DataFrame, names: Sequence[str], into: str, how: str, levels=(80, 95)) -> None:
    """``into`` (point, median and bounds) as the ``how`` (``"mean"`` or ``"median"``) of ``names``' columns, in place."""
    def agg(columns):
        frame = pd.concat(columns, axis=1)
        return frame.median(axis=1) if how == "median" else frame.mean(axis=1)

    table[into] = agg([table[n] for n in names])
    table[f"{into}-median"] = agg([median_column(table, n) for n in names])
    for level in sorted(levels):
        for side in ("lo", "hi"):
            table[f"{into}-{side}-{level}"] = agg([table[f"{n}-{side}-{level}"] for n in names])


def pair(board: pd.DataFrame) -> tuple[str, str] | None:
    """The best recursive and the best direct LSTM by backtest MASE (``board`` is sorted), if both were backtested."""
    return None if board.empty else _best_pair(_rows(board))


__all__ = ["COMBO", "LSTM_PAIR", "NEURAL", "POOL", "POOL_LSTM", "POOL_SIZE", "STATS_MEDIAN", "add_combo", "add_left_out", "add_pair", "add_pool", "columns_of", "combine", "combined_names",
           "combo_member", "median_column", "pair", "pool_members"]
