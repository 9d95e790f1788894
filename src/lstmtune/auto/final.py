"""The chosen candidate fitted on every observation: its forecast table and the model that
``lstmtune forecast`` reads back; the next candidate by backtest MASE where the chosen one cannot
be fitted; the fallback forecast of a series too short for the candidates.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from lstmtune.auto import combination, lstm, score
from lstmtune.auto.backtests import Scored
from lstmtune.data import panel
from lstmtune.errors import LstmtuneError


def future_dates(frame: pd.DataFrame, horizon: int, freq: str) -> pd.DatetimeIndex:
    """The ``horizon`` dates after the series' last one."""
    return pd.date_range(frame["ds"].iloc[-1], periods=horizon + 1, freq=freq)[1:]


def forecast_table(uid: str, ds, model: str, cols: dict, name: str, levels=(80, 95)) -> pd.DataFrame:
    """One candidate's rows of ``forecasts.csv`` from its statsforecast-shaped columns ``cols``."""
    mean = np.asarray(cols[name], dtype=np.float64)
    out = {"unique_id": uid, "ds": pd.DatetimeIndex(ds), "model": model, "mean": mean, "median": np.asarray(cols.get(f"{name}-median", mean), dtype=np.float64)}
    for level in sorted(levels):
        out[f"lower_{level}"] = np.asarray(cols[f"{name}-lo-{level}"], dtype=np.float64)
        out[f"upper_{level}"] = np.asarray(cols[f"{name}-hi-{level}"], dtype=np.float64)
    return pd.DataFrame(out)


def reason_of(err: Exception) -> str:
    """What went wrong, in a line: the message of a refusal, else the exception's type too."""
    return str(err) if isinstance(err, (LstmtuneError, ValueError)) else f"{type(err).__name__}: {err}"


def networks_needed(sc: Scored) -> list[str]:
    """The LSTM and hybrid candidates the chosen forecaster is made of (their final fits)."""
    if sc.chosen in sc.stats or sc.chosen == combination.STATS_MEDIAN:
        return []
    if sc.chosen in (combination.POOL, combination.POOL_LSTM):
        return [n for n in combination.pool_members(sc.board, sc.chosen) if n in sc.lstm_names]
    name = combination.combo_member(sc.board) if sc.chosen == combination.COMBO else sc.chosen
    return list(combination.pair(sc.board)) if name == combination.LSTM_PAIR else [name]


def stats_needed(sc: Scored) -> tuple[str, ...] | None:
    """The statistical models the chosen forecaster refits on every observation."""
    if sc.chosen in sc.stats:
        return (sc.chosen,)
    if sc.chosen in (combination.POOL, combination.POOL_LSTM):
        members = set(combination.pool_members(sc.board, sc.chosen))
        return tuple(n for n in sc.stats if n in members) or None
    return tuple(sc.stats) if sc.chosen in (combination.STATS_MEDIAN, combination.COMBO) else None


def finish(sc: Scored, horizon: int, settings: lstm.Settings, finals: dict | None = None, stats_tables: dict | None = None):
    """``(forecast table, leaderboard rows, backtests, verdict text, notes, model)`` of a scored series."""
    fits = {name: model for (uid, name), model in (finals or {}).items() if uid == sc.uid}
    fc, model = fit_chosen(sc.uid, sc.frame, horizon, sc.chosen, sc.board, sc.lstm_names, sc.stats, sc.freq, sc.m, settings, sc.lstm_scores, fits, stats_tables)
    member = combination.combo_member(sc.board) if sc.chosen == combination.COMBO else None
    pool = combination.pool_members(sc.board, sc.chosen) if sc.chosen == combination.POOL else None
    return fc, sc.board, sc.backtests, score.verdict(sc.board, sc.notes, member, pool), sc.notes, model


NEXT_TRIES = 3
"""Candidates tried after the chosen one when its fit on every observation fails, by backtest MASE."""


def finish_or_next(sc: Scored, horizon: int, settings: lstm.Settings, finals: dict | None = None, stats_tables: dict | None = None):
    """:func:`finish`; where the chosen candidate cannot be fitted on every observation (a log
    chosen on the positive values before the first origin, then zeros at the end, say), the next
    by backtest MASE, up to :data:`NEXT_TRIES`, said in the verdict and the leaderboard's
    ``chosen`` column. Raises the chosen one's error when none can be fitted."""
    try:
        return finish(sc, horizon, settings, finals, stats_tables)
    except Exception as first:  # noqa: BLE001 - the next candidate, else the caller's fallback
        failed = first
    broken = [members_of(sc, sc.chosen)]  # a candidate made of one that failed is not tried (it would fail, or drop it silently)
    positive = bool(np.nanmin(sc.frame["y"].to_numpy(dtype=np.float64)) > 0)
    passed = []  # better by backtest MASE than the one that forecasts, not fitted: named in the verdict
    tries = 0
    for name in [str(c) for c in sc.board["candidate"] if c != sc.chosen]:
        members = members_of(sc, name)
        if tries == NEXT_TRIES:
            break
        if any(b <= members for b in broken):
            passed.append(name)
            continue
        if not positive and any(_on_a_positive_scale(m) for m in members | {name}):  # a log or Box-Cox of a value <= 0: it fails as the chosen did
            passed.append(name)
            continue
        tries += 1
        try:
            fc, board, bt, _, notes, model = finish(dataclasses.replace(sc, chosen=name), horizon, settings, finals, stats_tables)
        except Exception:  # noqa: BLE001
            broken.append(members)
            passed.append(name)
            continue
        why = f"{sc.chosen} had the lowest backtest MASE but could not be fitted on every observation ({reason_of(failed)})"
        board = board.assign(chosen=board["candidate"] == name)
        rank = "the next by backtest MASE" if not passed else f"the best by backtest MASE that could be fitted (not {_some(passed)})"
        return fc, board, bt, f"{why}: forecasts are {name}'s, {rank}", [*notes, why], model
    raise failed


def _on_a_positive_scale(name: str) -> bool:
    """Whether candidate ``name`` models the logarithm or a Box-Cox transform of the series
    (``LSTM(log,...)``, ``DirectLSTM(boxcox,...)``, ``Hybrid(log,STL+LSTM,...)``)."""
    return re.search(r"\((log|boxcox),", name) is not None


def _some(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def members_of(sc: Scored, name: str) -> frozenset:
    """The single candidates (statistical models, networks) candidate ``name`` is made of."""
    if name == combination.STATS_MEDIAN:
        return frozenset(sc.stats)
    if name == combination.LSTM_PAIR:
        return frozenset(combination.pair(sc.board) or ())
    if name == combination.COMBO:
        best = combination.combo_member(sc.board)
        return (members_of(sc, best) if best else frozenset()) | frozenset(sc.stats)
    if name in (combination.POOL, combination.POOL_LSTM):
        return frozenset().union(*(members_of(sc, n) for n in combination.pool_members(sc.board, name)))
    return frozenset([name])


def unclipped(model):
    """``model`` without its own clipping at zero (a combination clips its mean instead)."""
    return dataclasses.replace(model, info={**model.info, "nonnegative": False}) if dataclasses.is_dataclass(model) and hasattr(model, "info") else model


def fit_chosen(uid, frame, horizon, chosen, board, lstm_names, stats, freq, m, settings, lstm_scores, fits: dict | None = None,
               stats_tables: dict | None = None) -> tuple[pd.DataFrame, object]:
    """The chosen candidate fitted on every observation: its ``horizon``-step table and its model
    (``fits``: networks' final fits trained beforehand, by name; ``stats_tables``: statistical
    forecasts computed beforehand, by the tuple of models' names)."""
    from lstmtune.forecast.composite import Combination, history_of
    from lstmtune.selection import statistical

    y = frame["y"].to_numpy(dtype=np.float64)
    history = history_of(frame["ds"].to_numpy(), y)

    def stats_table(names, every: bool = True):  # every: each of names is needed (the stats median takes those that fit)
        given = (stats_tables or {}).get(tuple(names))
        if given is not None and all(n in given.columns for n in names):
            return given
        table, failed = statistical.forecast(frame[["unique_id", "ds", "y"]], horizon, freq, m, levels=settings.levels, names=tuple(names))
        missing = [n for n in names if n not in table.columns]
        if missing and (every or len(missing) == len(names)):  # left out on every observation (a failed fit, collapsed bands): said as statistical said it
            raise LstmtuneError("; ".join(w for w in failed if w.split(":", 1)[0] in missing) or f"{', '.join(missing)} could not be fitted")
        return table

    def lstm_table(name):
        if name == combination.LSTM_PAIR:
            pair = combination.pair(board)
            (t1, m1), (t2, m2) = (lstm_table(n) for n in pair)
            table = t1.merge(t2, on="ds")
            combination.combine(table, list(pair), combination.LSTM_PAIR, "mean", settings.levels)
            return table, Combination((unclipped(m1), unclipped(m2)), "mean", uid, {"source": "lstmtune auto", "label": combination.LSTM_PAIR, "nonnegative": bool(np.nanmin(y) >= 0)}, history)
        config, transform = lstm_names[name]
        return lstm.forecast(frame, horizon, name, config, settings, lstm_scores.get(name), transform, m, (fits or {}).get(name))

    model = None
    if chosen in stats:
        t = stats_table([chosen])
        model = statmodel(uid, frame, chosen, m, freq, levels=settings.levels)
    elif chosen in lstm_names or chosen == combination.LSTM_PAIR:
        t, model = lstm_table(chosen)
    elif chosen in (combination.POOL, combination.POOL_LSTM):
        members = combination.pool_members(board, chosen)
        in_stats = [n for n in stats if n in members]
        stat_table = stats_table(in_stats) if in_stats else None
        t, models = None, []
        for name in members:
            if name in in_stats:
                table, member = stat_table, statmodel(uid, frame, name, m, freq, levels=settings.levels)
            else:
                table, member = lstm_table(name)
            table = table[["ds", *combination.columns_of(table, name)]]
            t = table if t is None else t.merge(table, on="ds")
            models.append(unclipped(member))
        combination.combine(t, members, chosen, "mean", settings.levels)
        model = Combination(tuple(models), "mean", uid, {"source": "lstmtune auto", "label": chosen, "members": members, "nonnegative": bool(np.nanmin(y) >= 0)}, history)
    else:
        t = stats_table(stats, every=False)
        fitted = [n for n in stats if n in t.columns]
        combination.combine(t, fitted, combination.STATS_MEDIAN, "median", settings.levels)
        model = statmodel(uid, frame, combination.STATS_MEDIAN, m, freq, members=fitted, levels=settings.levels)
        if chosen == combination.COMBO:
            best_lstm = combination.combo_member(board)
            table, member = lstm_table(best_lstm)
            t = t.merge(table[["ds", *combination.columns_of(table, best_lstm)]], on="ds")
            combination.combine(t, [best_lstm, combination.STATS_MEDIAN], combination.COMBO, "mean", settings.levels)
            model = Combination((unclipped(member), unclipped(model)), "mean", uid, {"source": "lstmtune auto", "label": combination.COMBO, "nonnegative": bool(np.nanmin(y) >= 0)}, history)
    return forecast_table(uid, t["ds"], chosen, t, chosen, settings.levels), model


def statmodel(uid: str, frame: pd.DataFrame, name: str, season: int, freq: str, members: Sequence[str] = (), levels=(80, 95)):
    """A statistical candidate's model directory: its specification and the data to refit it
    (``members``: the models a median is taken of)."""
    from lstmtune.forecast.statmodel import StatModel

    y = frame["y"].to_numpy(dtype=np.float64)
    info = {"source": "lstmtune auto", "nonnegative": bool(np.nanmin(y) >= 0)}
    if members:
        info["members"] = list(members)
    if tuple(sorted(levels)) != (80, 95):
        info["levels"] = [int(x) for x in sorted(levels)]
    return StatModel(name, int(season), freq, uid, frame["ds"].to_numpy(dtype="datetime64[ns]"), y, info)


def fallback(uid: str, frame: pd.DataFrame, verdict: panel.Verdict, horizon: int, levels=(80, 95)) -> pd.DataFrame:
    """Seasonal naive (or naive) for a series too short for the candidates; a constant for a constant one."""
    from lstmtune.selection import statistical

    freq = verdict.freq
    if verdict.status == "constant":  # (its model directory: naive, which forecasts the constant)
        value = float(frame["y"].dropna().iloc[0])
        ds = future_dates(frame, horizon, freq)
        cols = {"c": np.full(horizon, value), **{f"c-{s}-{lv}": np.full(horizon, value) for s in ("lo", "hi") for lv in levels}}
        return forecast_table(uid, ds, "Constant (fallback)", cols, "c", levels)
    m = verdict.season if len(frame) > verdict.season else 1  # seasonal naive needs more than one season for its bands, as triage says
    t, _ = statistical.forecast(frame[["unique_id", "ds", "y"]], horizon, freq, m, levels=levels, names=("SeasonalNaive",))
    return forecast_table(uid, t["ds"], "SeasonalNaive (fallback)" if m > 1 else "Naive (fallback)", t, "SeasonalNaive", levels)


__all__ = ["NEXT_TRIES", "fallback", "finish", "finish_or_next", "fit_chosen", "forecast_table", "future_dates", "members_of", "networks_needed",
           "reason_of", "statmodel", "stats_needed", "unclipped"]
