"""A series' backtests: its rolling origins and candidates, planned once from the observations
before the first origin (:func:`plan_series`), then every candidate backtested on those origins
and the lowest mean backtest MASE chosen (:func:`score_series`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from lstmtune.auto import combination, lstm, score
from lstmtune.data import panel
from lstmtune.errors import LstmtuneError


def windows_for(n: int, horizon: int, season: int, wanted: int) -> int:
    """Backtest windows (at most ``wanted``) that leave at least ``max(2 * season, horizon + 4)``
    observations before the first cutoff; always at least one (a series too short for that, but
    long enough for :func:`lstmtune.data.panel.triage`, trains on fewer before its one window)."""
    return int(max(1, min(wanted, (n - max(2 * season, horizon + 4)) // horizon)))


def cutoffs_of(frame: pd.DataFrame, horizon: int, windows: int) -> list[pd.Timestamp]:
    """The last date before each of ``windows`` backtest windows of ``horizon`` steps, ending at the last observation."""
    n = len(frame)
    return [frame["ds"].iloc[n - horizon * k - 1] for k in range(windows, 0, -1)]


@dataclasses.dataclass(frozen=True)
class Plan:
    """A series' backtest cutoffs and its candidates, chosen once from the observations before
    the first cutoff (no backtest outcome shapes them)."""

    cutoffs: list
    stats: tuple  # statistical models ((): not wanted)
    neural: list  # (name, config, transform, family) of its LSTM and hybrid candidates ([]: not wanted)
    season: int = 1  # the season the statistical models are fitted with (what their cost depends on)
    notes: tuple = ()  # what planning left out, said on the series' leaderboard (the time budget's statistical models)


def plan_series(frame: pd.DataFrame, verdict: panel.Verdict, horizon: int, families: Sequence[str], settings: lstm.Settings, windows: int) -> Plan:
    """A good series' :class:`Plan`: its cutoffs, and the candidates of ``families`` chosen from
    the observations before the first cutoff."""
    from lstmtune.selection import statistical

    cutoffs = cutoffs_of(frame, horizon, windows_for(len(frame), horizon, verdict.season, windows))
    before = frame[frame["ds"] <= cutoffs[0]]
    y = before["y"].to_numpy(dtype=np.float64)
    stats = statistical.models_for(y, verdict.freq, verdict.season) if ("stats" in families or "combo" in families) else ()
    wanted = [f for f in combination.NEURAL if f in families]
    neural = [c for c in lstm.space(y, verdict.season, settings, verdict.freq, dates=before["ds"].to_numpy()) if c[3] in wanted] if wanted else []
    return Plan(cutoffs, stats, neural, verdict.season)


@dataclasses.dataclass
class Scored:
    """A series after its backtests: the leaderboard, the choice, and what its final fit needs."""

    uid: str
    frame: pd.DataFrame
    board: pd.DataFrame
    backtests: pd.DataFrame
    notes: list
    chosen: str
    lstm_names: dict  # name -> (config, transform)
    lstm_scores: dict  # name -> conformity scores of its backtest windows
    stats: list
    freq: str
    m: int


def base_backtests(frame: pd.DataFrame, cutoffs, horizon: int) -> pd.DataFrame:
    """``ds, cutoff, y`` of every backtest window (what statsforecast's cross-validation starts from)."""
    parts = [frame[frame["ds"] > c].head(horizon)[["ds", "y"]].assign(cutoff=c) for c in cutoffs]
    return pd.concat(parts, ignore_index=True)[["ds", "cutoff", "y"]]


def score_series(uid: str, frame: pd.DataFrame, verdict: panel.Verdict, horizon: int, families: Sequence[str], settings: lstm.Settings,
                 plan: Plan, on_candidate: Callable[[str], None], fitted: dict | None = None, stats_done=None,
                 trained_only: bool = False) -> Scored:
    """Backtest every candidate of one good series and choose; ``fitted``: its LSTM backtest
    models trained beforehand (:func:`lstmtune.auto.together.prefit`). The statistical models are backtested only
    where they are candidates or members of one (``stats``, ``combo``). ``trained_only`` (the
    time budget is spent): an LSTM candidate without models in ``fitted`` is left out, said so."""
    from lstmtune.selection import statistical

    m, freq = verdict.season, verdict.freq
    cutoffs = plan.cutoffs
    notes, stats = list(plan.notes), []
    if stats_done is not None:  # backtested with other series (together.stats_backtests)
        bt, names = stats_done
        stats = [n for n in names if n in bt.columns]
        bt = bt.drop(columns=["unique_id"])
    elif plan.stats:
        on_candidate("statistical models")
        names = plan.stats
        bt, failed = statistical.backtest(frame[["unique_id", "ds", "y"]], horizon, len(cutoffs), freq, m, levels=settings.levels, names=names)
        notes += failed
        stats = [n for n in names if n in bt.columns]
        bt = bt.drop(columns=["unique_id"])
    else:
        bt = base_backtests(frame, cutoffs, horizon)
    families_of = {n: "stats" for n in stats}
    lstm_names, lstm_scores = {}, {}
    wanted = [f for f in combination.NEURAL if f in families]
    lstm_allowed = not trained_only or any((uid, name) in (fitted or {}) for name, *_ in plan.neural)  # spent: only what was trained
    if wanted and lstm_allowed:
        for name, config, transform, family in plan.neural:
            if trained_only and (uid, name) not in (fitted or {}):
                notes.append(f"{name} {score.BUDGET_NOTE}")
                continue
            on_candidate(name)
            try:
                part, lstm_scores[name] = lstm.backtest(frame, cutoffs, horizon, name, config, settings, transform, m, (fitted or {}).get((uid, name)))
            except (LstmtuneError, ValueError) as err:
                notes.append(f"{name}: {err}")
                continue
            bt = bt.merge(part, on=["ds", "cutoff"], how="left")
            lstm_names[name] = (config, transform)
            families_of[name] = family
    elif wanted and plan.neural:  # (a series without such candidates lost none to the budget)
        notes.append(score.LSTMS_SPENT)
    if "combo" in families and len(stats) > 1:
        combination.combine(bt, stats, combination.STATS_MEDIAN, "median", settings.levels)
        families_of[combination.STATS_MEDIAN] = "combo"
    if "stats" not in families:
        for n in stats:
            families_of.pop(n)
    # The combinations whose members are chosen: in each window, members chosen on the other windows
    singles = {n: f for n, f in families_of.items() if n not in combination.combined_names()}
    if combination.add_pair(bt, frame, singles, m, settings.levels):
        families_of[combination.LSTM_PAIR] = "lstm"
    if "combo" in families and lstm_names and combination.STATS_MEDIAN in bt.columns and combination.add_combo(bt, frame, singles, m, settings.levels):
        families_of[combination.COMBO] = "combo"
    pools = [(combination.POOL, "combo", list(singles)), (combination.POOL_LSTM, "lstm", [n for n, f in singles.items() if f == "lstm"])]
    for into, family, names in pools:
        if family in families and combination.add_pool(bt, frame, names, into, m, settings.levels):
            families_of[into] = family
    bt = score.as_delivered(bt, frame)
    board = score.leaderboard(bt, frame, families_of, m, settings.levels)  # every candidate, the model confidence set once
    scaled = score.scale_note(bt, frame, m)
    if scaled and not board.empty:
        notes.append(scaled)
    if board.empty:
        if not notes:  # nothing was tried: none of the families asked for has a candidate for this series
            why = " (a hybrid needs a season and three cycles of it)" if set(families) <= {"hybrid", "combo"} and "hybrid" in families else ""
            raise LstmtuneError(f"no candidate of --candidates {','.join(families)} applies to this series{why}")
        raise LstmtuneError("no candidate could be backtested: " + "; ".join(notes))
    kept = [c for c in bt.columns if statistical.model_of(c) in families_of and not c.endswith("-median")]
    keep = ["ds", "cutoff", "y", *sorted(kept, key=_column_order(kept))]
    return Scored(uid, frame, board, bt[keep], notes, str(board.iloc[0]["candidate"]), lstm_names, lstm_scores, stats, freq, m)


def _column_order(columns):
    """Each candidate's columns together, in the order they came, as statsforecast orders one
    model's: the point, the lower bounds widest first, the upper bounds narrowest first (a probe:
    each model's bounds came in another order)."""
    from lstmtune.selection.statistical import model_of

    first: dict = {}
    for i, c in enumerate(columns):
        first.setdefault(model_of(c), i)

    def key(c):
        side, _, level = c[len(model_of(c)):].partition("-")[2].partition("-")
        return first[model_of(c)], {"": 0, "lo": 1, "hi": 2}[side], -int(level) if side == "lo" else int(level or 0)
    return key


__all__ = ["Plan", "Scored", "base_backtests", "cutoffs_of", "plan_series", "score_series", "windows_for"]
