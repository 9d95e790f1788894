"""``auto``: per series, triage, backtest every candidate on the same rolling origins, choose
the lowest mean backtest MASE, forecast with it.

Series are processed one after another (one population across series is the panels work);
a bad series is named in the leaderboard and never stops the others.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from lstmtune.auto import lstm, score
from lstmtune.data import panel
from lstmtune.errors import LstmtuneError
from lstmtune.forecast.output import clip_nonnegative

FAMILIES = ("lstm", "hybrid", "stats", "combo")
STATS_MEDIAN = "StatsMedian"
COMBO = "Combo(LSTM,StatsMedian)"  # the best LSTM or hybrid, averaged with the stats median
LSTM_PAIR = "Ensemble(LSTM,DirectLSTM)"  # the best recursive and the best direct LSTM averaged (family lstm: no statistical model inside)
NEURAL = ("lstm", "hybrid")
FORECAST_COLUMNS = ["unique_id", "ds", "model", "mean", "median", "lower_80", "upper_80", "lower_95", "upper_95"]


@dataclasses.dataclass
class AutoResult:
    """What ``auto`` found: tidy tables, one ``unique_id`` column each.

    Attributes:
      forecasts: ``unique_id, ds, model, mean, median, lower_80, upper_80, lower_95, upper_95``.
      leaderboard: per series and candidate, backtest ``mase, smape, coverage_80,
        coverage_95``, ``in_mcs``, ``chosen``; skipped series and fallbacks as rows with
        ``status`` and ``reason``.
      backtests: ``unique_id, ds, cutoff, y`` and one column per candidate (with its
        ``-lo-80`` ... bounds), statsforecast's cross-validation shape.
      verdicts: ``unique_id -> the choice in words``.
      history: the data given, ``unique_id, ds, y``.
      models: ``unique_id -> model`` (a :class:`~lstmtune.forecast.forecaster.Forecaster`, a
        :class:`~lstmtune.forecast.statmodel.StatModel`, or a
        :mod:`~lstmtune.forecast.composite` model) that ``lstmtune forecast`` and ``describe``
        read from ``models/``.
    """

    forecasts: pd.DataFrame
    leaderboard: pd.DataFrame
    backtests: pd.DataFrame
    verdicts: dict[str, str]
    wall_s: float = 0.0
    history: pd.DataFrame | None = None  # the data given (unique_id, ds, y), for the report's figures
    models: dict = dataclasses.field(default_factory=dict)  # unique_id -> its forecaster (saved as a model directory)

    @property
    def exit_code(self) -> int:
        """0: every series forecast by its chosen model; 3: some skipped or on a fallback; 2: none forecast."""
        status = self.leaderboard.drop_duplicates("unique_id")["status"] if not self.leaderboard.empty else pd.Series([], dtype=str)
        if self.forecasts.empty:
            return 2
        return 0 if (status == "ok").all() else 3

    def save(self, directory) -> None:
        """Write ``forecasts.csv``, ``leaderboard.csv``, ``backtests.csv`` and ``report.html``
        into ``directory`` together (written aside, moved into place only when all are)."""
        from lstmtune.auto import output

        output.save(self, directory)


def _windows(n: int, horizon: int, season: int, wanted: int) -> int:
    """Backtest windows that leave at least ``2 * season + horizon`` training observations."""
    return int(max(1, min(wanted, (n - max(2 * season, horizon + 4)) // horizon)))


def _cutoffs(frame: pd.DataFrame, horizon: int, windows: int) -> list[pd.Timestamp]:
    n = len(frame)
    return [frame["ds"].iloc[n - horizon * k - 1] for k in range(windows, 0, -1)]


def _future_dates(frame: pd.DataFrame, horizon: int, freq: str) -> pd.DatetimeIndex:
    return pd.date_range(frame["ds"].iloc[-1], periods=horizon + 1, freq=freq)[1:]


def _table(uid: str, ds, model: str, cols: dict, name: str) -> pd.DataFrame:
    mean = np.asarray(cols[name], dtype=np.float64)
    out = {"unique_id": uid, "ds": pd.DatetimeIndex(ds), "model": model, "mean": mean, "median": np.asarray(cols.get(f"{name}-median", mean), dtype=np.float64)}
    for level in (80, 95):
        out[f"lower_{level}"] = np.asarray(cols[f"{name}-lo-{level}"], dtype=np.float64)
        out[f"upper_{level}"] = np.asarray(cols[f"{name}-hi-{level}"], dtype=np.float64)
    return pd.DataFrame(out)


def _median_column(table: pd.DataFrame, name: str) -> pd.Series:
    return table[f"{name}-median"] if f"{name}-median" in table.columns else table[name]


def _combine(table: pd.DataFrame, names: Sequence[str], into: str, how: str) -> None:
    """``into`` (point, median and bounds) as the ``how`` (``"mean"`` or ``"median"``) of ``names``' columns, in place."""
    def agg(columns):
        frame = pd.concat(columns, axis=1)
        return frame.median(axis=1) if how == "median" else frame.mean(axis=1)

    table[into] = agg([table[n] for n in names])
    table[f"{into}-median"] = agg([_median_column(table, n) for n in names])
    for level in (80, 95):
        for side in ("lo", "hi"):
            table[f"{into}-{side}-{level}"] = agg([table[f"{n}-{side}-{level}"] for n in names])


def _one_series(uid: str, frame: pd.DataFrame, verdict: panel.Verdict, horizon: int, families: Sequence[str], settings: lstm.Settings,
                windows: int, lstm_allowed: bool, on_candidate: Callable[[str], None]):
    """``(forecast table, leaderboard rows, backtests, verdict text, notes, model)`` of one good series."""
    from lstmtune.selection import statistical

    m, freq = verdict.season, verdict.freq
    w = _windows(len(frame), horizon, m, windows)
    cutoffs = _cutoffs(frame, horizon, w)
    notes = []
    on_candidate("statistical models")
    before = frame[frame["ds"] <= cutoffs[0]]  # what the candidate space is chosen from: no backtest outcome
    names = statistical.models_for(before["y"].to_numpy(), freq, m)
    bt, failed = statistical.backtest(frame[["unique_id", "ds", "y"]], horizon, w, freq, m, names=names)
    notes += failed
    stats = [n for n in names if n in bt.columns]
    families_of = {n: "stats" for n in stats}
    bt = bt.drop(columns=["unique_id"])
    lstm_names, lstm_scores = {}, {}
    wanted = [f for f in NEURAL if f in families]
    if wanted and lstm_allowed:
        for name, config, transform, family in lstm.space(before["y"].to_numpy(dtype=np.float64), m, settings):
            if family not in wanted:
                continue
            on_candidate(name)
            try:
                part, lstm_scores[name] = lstm.backtest(frame, cutoffs, horizon, name, config, settings, transform, m)
            except (LstmtuneError, ValueError) as err:
                notes.append(f"{name}: {err}")
                continue
            bt = bt.merge(part, on=["ds", "cutoff"], how="left")
            lstm_names[name] = (config, transform)
            families_of[name] = family
    elif wanted:
        notes.append("LSTM and hybrid candidates left out: the time budget was spent")
    if "combo" in families and len(stats) > 1:
        _combine(bt, stats, STATS_MEDIAN, "median")
        families_of[STATS_MEDIAN] = "combo"
    if "stats" not in families:
        for n in stats:
            families_of.pop(n)
    board = score.leaderboard(bt, frame, families_of, m)
    pair = _pair(board)
    if pair is not None:
        _combine(bt, list(pair), LSTM_PAIR, "mean")
        families_of[LSTM_PAIR] = "lstm"
        board = score.leaderboard(bt, frame, families_of, m)
    if "combo" in families and lstm_names and STATS_MEDIAN in bt.columns and not board.empty:
        best_lstm = board[board["family"].isin(NEURAL)]
        if not best_lstm.empty:
            _combine(bt, [best_lstm.iloc[0]["candidate"], STATS_MEDIAN], COMBO, "mean")
            families_of[COMBO] = "combo"
            board = score.leaderboard(bt, frame, families_of, m)
    if board.empty:
        raise LstmtuneError("no candidate could be backtested: " + "; ".join(notes))
    chosen = str(board.iloc[0]["candidate"])
    fc, model = _final(uid, frame, horizon, chosen, board, lstm_names, stats, freq, m, settings, lstm_scores)
    keep = ["ds", "cutoff", "y", *[c for c in bt.columns if c.split("-lo-")[0].split("-hi-")[0] in families_of and not c.endswith("-median")]]
    return fc, board, bt[keep], score.verdict(board), notes, model


def _pair(board: pd.DataFrame) -> tuple[str, str] | None:
    """The best recursive and the best direct LSTM by backtest MASE (``board`` is sorted), if both were backtested."""
    names = [str(c) for c in board.loc[board["family"] == "lstm", "candidate"]]
    recursive = [c for c in names if c.startswith("LSTM(")]
    direct = [c for c in names if c.startswith("DirectLSTM(")]
    return (recursive[0], direct[0]) if recursive and direct else None


def _unclipped(model):
    """``model`` without its own clipping at zero (a combination clips its mean instead)."""
    return dataclasses.replace(model, info={**model.info, "nonnegative": False}) if dataclasses.is_dataclass(model) and hasattr(model, "info") else model


def _final(uid, frame, horizon, chosen, board, lstm_names, stats, freq, m, settings, lstm_scores) -> tuple[pd.DataFrame, object]:
    """The chosen candidate fitted on every observation: its ``horizon``-step table and its model."""
    from lstmtune.forecast.composite import Combination, history_of
    from lstmtune.selection import statistical

    y = frame["y"].to_numpy(dtype=np.float64)
    history = history_of(frame["ds"].to_numpy(), y)

    def stats_table(names):
        table, _ = statistical.forecast(frame[["unique_id", "ds", "y"]], horizon, freq, m, names=tuple(names))
        return table

    def lstm_table(name):
        if name == LSTM_PAIR:
            pair = _pair(board)
            (t1, m1), (t2, m2) = (lstm_table(n) for n in pair)
            table = t1.merge(t2, on="ds")
            _combine(table, list(pair), LSTM_PAIR, "mean")
            return table, Combination((_unclipped(m1), _unclipped(m2)), "mean", uid, {"source": "lstmtune auto", "label": LSTM_PAIR, "nonnegative": bool(np.nanmin(y) >= 0)}, history)
        config, transform = lstm_names[name]
        return lstm.forecast(frame, horizon, name, config, settings, lstm_scores.get(name), transform, m)

    model = None
    if chosen in stats:
        t = stats_table([chosen])
        model = _statmodel(uid, frame, chosen, m, freq)
    elif chosen in lstm_names or chosen == LSTM_PAIR:
        t, model = lstm_table(chosen)
    else:
        t = stats_table(stats)
        fitted = [n for n in stats if n in t.columns]
        _combine(t, fitted, STATS_MEDIAN, "median")
        model = _statmodel(uid, frame, STATS_MEDIAN, m, freq, members=fitted)
        if chosen == COMBO:
            best_lstm = str(board[board["family"].isin(NEURAL)].iloc[0]["candidate"])
            table, member = lstm_table(best_lstm)
            t = t.merge(table[["ds", *[c for c in table.columns if c == best_lstm or c.startswith(best_lstm + "-")]]], on="ds")
            _combine(t, [best_lstm, STATS_MEDIAN], COMBO, "mean")
            model = Combination((_unclipped(member), _unclipped(model)), "mean", uid, {"source": "lstmtune auto", "label": COMBO, "nonnegative": bool(np.nanmin(y) >= 0)}, history)
    return _table(uid, t["ds"], chosen, t, chosen), model


def _statmodel(uid: str, frame: pd.DataFrame, name: str, season: int, freq: str, members: Sequence[str] = ()):
    from lstmtune.forecast.statmodel import StatModel

    y = frame["y"].to_numpy(dtype=np.float64)
    info = {"source": "lstmtune auto", "nonnegative": bool(np.nanmin(y) >= 0)}
    if members:
        info["members"] = list(members)
    return StatModel(name, int(season), freq, uid, frame["ds"].to_numpy(dtype="datetime64[ns]"), y, info)


def _fallback(uid: str, frame: pd.DataFrame, verdict: panel.Verdict, horizon: int) -> pd.DataFrame:
    """Seasonal naive (or naive) for a series too short for the candidates; a constant for a constant one."""
    from lstmtune.selection import statistical

    freq = verdict.freq
    if verdict.status == "constant":  # (its model directory: naive, which forecasts the constant)
        value = float(frame["y"].dropna().iloc[0])
        ds = _future_dates(frame, horizon, freq)
        cols = {"c": np.full(horizon, value), **{f"c-{s}-{lv}": np.full(horizon, value) for s in ("lo", "hi") for lv in (80, 95)}}
        return _table(uid, ds, "Constant (fallback)", cols, "c")
    m = verdict.season if len(frame) > verdict.season else 1
    t, _ = statistical.forecast(frame[["unique_id", "ds", "y"]], horizon, freq, m, names=("SeasonalNaive",))
    return _table(uid, t["ds"], "SeasonalNaive (fallback)" if m > 1 else "Naive (fallback)", t, "SeasonalNaive")


def _clip_nonnegative(table: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    """A series that never went below 0 is never forecast below 0."""
    return clip_nonnegative(table) if np.nanmin(y) >= 0 else table


def auto(
    data: pd.DataFrame,
    horizon: int,
    *,
    freq: str | None = None,
    season_length: int | None = None,
    candidates: Sequence[str] = FAMILIES,
    windows: int = 2,
    missing: str = "error",
    time_budget: float | None = None,
    settings: lstm.Settings | None = None,
    progress: Callable[[str, str, int, int], None] | None = None,
) -> AutoResult:
    """Forecast every series of a long frame (``unique_id, ds, y``) ``horizon`` steps ahead with
    the candidate of lowest mean backtest MASE.

    Args:
      data: a long frame; a frame with only ``ds, y`` is one series (``unique_id`` "series").
      horizon: steps to forecast, and the backtests' horizon.
      freq / season_length: override the ones inferred from each series' dates.
      candidates: families among ``lstm``, ``hybrid``, ``stats``, ``combo``.
      windows: rolling origins per series (fewer where a series is short).
      missing: ``"error"`` (a series with missing values is skipped) or ``"interpolate"``.
      time_budget: seconds for the whole call; once spent, LSTM candidates are left out (said so).
      settings: the LSTM candidates' training settings.
      progress: ``(series, stage, done, total)`` callback.

    Raises:
      LstmtuneError: a bad argument (horizon, candidates, missing columns).
    """
    t0 = time.perf_counter()
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise LstmtuneError(f"--horizon must be a positive whole number of steps, got {horizon!r}")
    unknown = sorted(set(candidates) - set(FAMILIES))
    if unknown or not candidates:
        raise LstmtuneError(f"--candidates: {', '.join(unknown) or 'none given'}: choose among {', '.join(FAMILIES)}")
    if missing not in ("error", "interpolate"):
        raise LstmtuneError(f"--missing must be error or interpolate, got {missing!r}")
    if "unique_id" not in data.columns:
        data = data.assign(unique_id="series")
    lacking = [c for c in ("ds", "y") if c not in data.columns]
    if lacking:
        raise LstmtuneError(f"the data lack the column {lacking[0]!r} (long format: unique_id, ds, y)")
    settings = settings or lstm.Settings()
    frames = list(panel.series_frames(data[["unique_id", "ds", "y"]]))
    forecasts, boards, backtests, verdicts, models = [], [], [], {}, {}
    for i, (uid, frame) in enumerate(frames):
        report = (lambda stage, uid=uid, i=i: progress(uid, stage, i, len(frames))) if progress else (lambda stage: None)
        v = panel.triage(frame, horizon, freq=freq, season=season_length, missing=missing)
        if v.status == "skip":
            boards.append(pd.DataFrame([{"unique_id": uid, "status": "skipped", "reason": v.reason}]))
            verdicts[uid] = f"skipped: {v.reason}"
            continue
        if missing == "interpolate":
            frame = panel.interpolate(frame)
        if v.status in ("fallback", "constant"):
            try:
                fc = _fallback(uid, frame, v, horizon)
            except Exception as err:  # noqa: BLE001 - one series never stops the others
                boards.append(pd.DataFrame([{"unique_id": uid, "status": "skipped", "reason": f"{v.reason}; the fallback failed too ({type(err).__name__}: {err})"[:300]}]))
                verdicts[uid] = f"skipped: {v.reason}; the fallback failed too"
                continue
            models[uid] = _statmodel(uid, frame, "SeasonalNaive", v.season if len(frame) > v.season and v.status == "fallback" else 1, v.freq)
            forecasts.append(_clip_nonnegative(fc, frame["y"].to_numpy()))
            boards.append(pd.DataFrame([{"unique_id": uid, "status": v.status, "reason": v.reason, "candidate": fc["model"].iloc[0], "chosen": True}]))
            verdicts[uid] = f"{v.status}: {v.reason}"
            continue
        lstm_allowed = time_budget is None or time.perf_counter() - t0 < time_budget
        try:
            fc, board, bt, text, notes, model = _one_series(uid, frame, v, horizon, candidates, settings, windows, lstm_allowed, report)
        except Exception as err:  # noqa: BLE001 - one series never stops the others: a fallback, named
            why = str(err) if isinstance(err, (LstmtuneError, ValueError)) else f"{type(err).__name__}: {err}"
            try:
                fc = _fallback(uid, frame, v, horizon)
            except Exception as err2:  # noqa: BLE001
                boards.append(pd.DataFrame([{"unique_id": uid, "status": "skipped", "reason": f"{why}; the fallback failed too ({type(err2).__name__})"[:300]}]))
                verdicts[uid] = f"skipped: {why}"
                continue
            models[uid] = _statmodel(uid, frame, "SeasonalNaive", v.season if len(frame) > v.season else 1, v.freq)
            forecasts.append(_clip_nonnegative(fc, frame["y"].to_numpy()))
            boards.append(pd.DataFrame([{"unique_id": uid, "status": "fallback", "reason": why[:300], "candidate": fc["model"].iloc[0], "chosen": True}]))
            verdicts[uid] = f"fallback: {why}"
            continue
        forecasts.append(_clip_nonnegative(fc, frame["y"].to_numpy()))
        models[uid] = model
        boards.append(board.assign(unique_id=uid, status="ok", reason="; ".join(filter(None, [v.reason, *notes]))))
        backtests.append(bt.assign(unique_id=uid))
        verdicts[uid] = text
        report("done")
    board = pd.concat(boards, ignore_index=True) if boards else pd.DataFrame()
    order = ["unique_id", "candidate", "family", "mase", "smape", "coverage_80", "coverage_95", "in_mcs", "chosen", "status", "reason"]
    board = board.reindex(columns=order)
    fcs = pd.concat(forecasts, ignore_index=True)[FORECAST_COLUMNS] if forecasts else pd.DataFrame(columns=FORECAST_COLUMNS)
    bts = pd.concat(backtests, ignore_index=True) if backtests else pd.DataFrame(columns=["unique_id", "ds", "cutoff", "y"])
    bts = bts[["unique_id", "ds", "cutoff", "y", *[c for c in bts.columns if c not in ("unique_id", "ds", "cutoff", "y")]]]
    return AutoResult(fcs, board, bts, verdicts, time.perf_counter() - t0, data[["unique_id", "ds", "y"]].copy(), models)


__all__ = ["AutoResult", "COMBO", "FAMILIES", "LSTM_PAIR", "STATS_MEDIAN", "auto"]
