"""``auto``: per series, triage, backtest every candidate on the same rolling origins, choose
the lowest mean backtest MASE, forecast with it.

A panel is processed in chunks of series whose LSTM backtests, statistical backtests and
final fits are each done together (bit for bit what each series gets alone); global LSTMs
(:mod:`lstmtune.auto.globalnet`) are trained once over the whole panel before the chunks.
A bad series is named in the leaderboard and never stops the others.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from lstmtune.auto import globalnet, lstm, score
from lstmtune.data import panel
from lstmtune.data.series import current_alias
from lstmtune.errors import LstmtuneError
from lstmtune.forecast.output import clip_nonnegative

FAMILIES = ("lstm", "hybrid", "stats", "combo")
STATS_MEDIAN = "StatsMedian"
POOL = "Pool(top3)"  # the three single candidates of lowest backtest MASE, averaged (family combo)
POOL_LSTM = "Pool(top3 LSTM)"  # the three best single LSTMs, averaged (family lstm)
POOL_SIZE = 3
COMBO = "Combo(LSTM,StatsMedian)"  # the best LSTM or hybrid, averaged with the stats median
LSTM_PAIR = "Ensemble(LSTM,DirectLSTM)"  # the best recursive and the best direct LSTM averaged (family lstm: no statistical model inside)
NEURAL = ("lstm", "hybrid")
FORECAST_COLUMNS = ["unique_id", "ds", "model", "mean", "median", "lower_80", "upper_80", "lower_95", "upper_95"]


def forecast_columns(levels=(80, 95)) -> list[str]:
    """``forecasts.csv``'s columns for interval ``levels`` (percent)."""
    return ["unique_id", "ds", "model", "mean", "median", *[f"{side}_{lv}" for lv in sorted(levels) for side in ("lower", "upper")]]


def _whole(name: str, value, least: int) -> None:
    """Refuse ``value`` unless it is a whole number of at least ``least``, naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise LstmtuneError(f"{name} must be a whole number of at least {least}, got {value!r}")


def check_arguments(data, *, season_length, windows, time_budget, settings) -> None:
    """Refuse what :func:`auto` cannot take from Python, as the CLI's options refuse it: data not
    a DataFrame, a column given twice, a season length, window count or time budget that is not
    one, and LSTM settings out of their ranges (each named; they ran every series as a fallback,
    or raised deep inside).

    Raises:
      LstmtuneError: naming the argument.
    """
    if not isinstance(data, pd.DataFrame):
        hint = " (a Series: series.rename('y').rename_axis('ds').reset_index())" if isinstance(data, pd.Series) else ""
        raise LstmtuneError(f"data must be a pandas DataFrame of columns unique_id, ds, y, not a {type(data).__name__}{hint}")
    twice = [c for c in ("unique_id", "ds", "y") if int((data.columns == c).sum()) > 1]
    if twice:
        raise LstmtuneError(f"the data have the column {twice[0]!r} twice")
    if season_length is not None:
        _whole("season_length", season_length, 1)
    _whole("windows", windows, 1)
    if time_budget is not None and (isinstance(time_budget, bool) or not isinstance(time_budget, (int, float, np.number)) or not time_budget >= 0):
        raise LstmtuneError(f"time_budget must be seconds (a number of at least 0), got {time_budget!r}")
    if settings is not None:
        if not isinstance(settings, lstm.Settings):
            raise LstmtuneError(f"settings must be an lstmtune.auto.lstm.Settings, not a {type(settings).__name__}")
        for name, least in (("units", 1), ("epochs", 1), ("batch_size", 1), ("seeds", 1), ("seed", 0)):
            _whole(f"settings.{name}", getattr(settings, name), least)


def check_levels(levels) -> tuple[int, ...]:
    """Interval levels as sorted whole percentages.

    Raises:
      LstmtuneError: a level that is not a whole number from 1 to 99, or none.
    """
    out = set()
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, (int, np.integer, float)) or float(level) != int(level) or not 1 <= level <= 99:
            raise LstmtuneError(f"--level {level!r}: interval levels are whole percentages from 1 to 99 (e.g. --level 80 --level 95)")
        out.add(int(level))
    if not out:
        raise LstmtuneError("--level: give at least one interval level (e.g. --level 80 --level 95)")
    return tuple(sorted(out))


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
    resumed: int = 0  # series read back from a checkpoint instead of computed

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


def _table(uid: str, ds, model: str, cols: dict, name: str, levels=(80, 95)) -> pd.DataFrame:
    mean = np.asarray(cols[name], dtype=np.float64)
    out = {"unique_id": uid, "ds": pd.DatetimeIndex(ds), "model": model, "mean": mean, "median": np.asarray(cols.get(f"{name}-median", mean), dtype=np.float64)}
    for level in sorted(levels):
        out[f"lower_{level}"] = np.asarray(cols[f"{name}-lo-{level}"], dtype=np.float64)
        out[f"upper_{level}"] = np.asarray(cols[f"{name}-hi-{level}"], dtype=np.float64)
    return pd.DataFrame(out)


def _columns_of(table: pd.DataFrame, name: str) -> list[str]:
    """A candidate's columns in a statsforecast-shaped table: ``name``, ``name-median``, ``name-lo-80``, ..."""
    return [c for c in table.columns if c == name or c.startswith(name + "-")]


def _median_column(table: pd.DataFrame, name: str) -> pd.Series:
    return table[f"{name}-median"] if f"{name}-median" in table.columns else table[name]


def _combined_names() -> tuple[str, ...]:
    return (STATS_MEDIAN, COMBO, LSTM_PAIR, POOL, POOL_LSTM)


def _combo_member(board: pd.DataFrame) -> str | None:
    """:data:`COMBO`'s network: the best LSTM or hybrid by backtest MASE, the pools (added after
    it) aside."""
    rows = board[board["family"].isin(NEURAL) & ~board["candidate"].isin((POOL, POOL_LSTM))]
    return None if rows.empty else str(rows.iloc[0]["candidate"])


def _pool_members(board: pd.DataFrame, into: str) -> list[str]:
    """The members of ``into`` (a pool) for the final forecast: the :data:`POOL_SIZE` single
    candidates (of family ``lstm`` for :data:`POOL_LSTM`) of lowest mean backtest MASE."""
    rows = board[~board["candidate"].isin(_combined_names())]
    if into == POOL_LSTM:
        rows = rows[rows["family"] == "lstm"]
    return [str(c) for c in rows["candidate"]][:POOL_SIZE]


def _add_pool(bt: pd.DataFrame, frame: pd.DataFrame, names: Sequence[str], into: str, m: int, levels=(80, 95)) -> bool:
    """Backtest a pool, in place, leaving one window out: in each window, the mean of the
    :data:`POOL_SIZE` candidates of ``names`` with the lowest mean MASE over the *other* windows
    (a pool's members are never chosen on the window it is scored on; they may be chosen on a
    later one). False (nothing added) with fewer than two windows or candidates than the pool holds."""
    cutoffs = sorted(bt["cutoff"].unique())
    names = [n for n in names if n in bt.columns and np.isfinite(bt[n].to_numpy(dtype=np.float64)).all()]
    if len(cutoffs) < 2 or len(names) < POOL_SIZE:
        return False
    by_window = score.windows(bt, frame, m)
    per_window = {n: score.scaled_errors(bt, frame, n, m, by_window)[1] for n in names}
    parts = []
    for k, cutoff in enumerate(cutoffs):
        top = sorted(names, key=lambda n: (float(np.mean(np.delete(per_window[n], k))), n))[:POOL_SIZE]
        part = bt[bt["cutoff"] == cutoff].copy()
        _combine(part, top, into, "mean", levels)
        parts.append(part[_columns_of(part, into)])
    for c in parts[0].columns:
        bt[c] = pd.concat(parts)[c]
    return True


def _combine(table: pd.DataFrame, names: Sequence[str], into: str, how: str, levels=(80, 95)) -> None:
    """``into`` (point, median and bounds) as the ``how`` (``"mean"`` or ``"median"``) of ``names``' columns, in place."""
    def agg(columns):
        frame = pd.concat(columns, axis=1)
        return frame.median(axis=1) if how == "median" else frame.mean(axis=1)

    table[into] = agg([table[n] for n in names])
    table[f"{into}-median"] = agg([_median_column(table, n) for n in names])
    for level in sorted(levels):
        for side in ("lo", "hi"):
            table[f"{into}-{side}-{level}"] = agg([table[f"{n}-{side}-{level}"] for n in names])


@dataclasses.dataclass(frozen=True)
class _Plan:
    """A series' backtest cutoffs and its candidates, chosen once from the observations before
    the first cutoff (no backtest outcome shapes them)."""

    cutoffs: list
    stats: tuple  # statistical models ((): not wanted)
    neural: list  # (name, config, transform, family) of its LSTM and hybrid candidates ([]: not wanted)


def _plan(frame: pd.DataFrame, verdict: panel.Verdict, horizon: int, families: Sequence[str], settings: lstm.Settings, windows: int) -> _Plan:
    from lstmtune.selection import statistical

    cutoffs = _cutoffs(frame, horizon, _windows(len(frame), horizon, verdict.season, windows))
    y = frame.loc[frame["ds"] <= cutoffs[0], "y"].to_numpy(dtype=np.float64)
    stats = statistical.models_for(y, verdict.freq, verdict.season) if ("stats" in families or "combo" in families) else ()
    wanted = [f for f in NEURAL if f in families]
    neural = [c for c in lstm.space(y, verdict.season, settings, verdict.freq) if c[3] in wanted] if wanted else []
    return _Plan(cutoffs, stats, neural)


CROWDED = 0.5
"""Share of the kernel's memory mappings per process above which :func:`run_chunk` first frees
every compiled program (:func:`lstmtune.engine.aot.crowded`)."""

MAX_HORIZON = 100_000
"""The longest horizon ``auto`` accepts (a refusal up front rather than arrays too large to allocate)."""


def check_horizon(horizon: int) -> None:
    """Refuse a horizon over :data:`MAX_HORIZON` (``auto`` and its ``plan``)."""
    if horizon > MAX_HORIZON:
        raise LstmtuneError(f"--horizon {horizon}: at most {MAX_HORIZON:,} steps (the backtests need about twice as many observations per series)")


PREFIT_SERIES = 64
"""Series whose LSTM backtests are trained together (one stacked population per shape);
``$LSTMTUNE_PREFIT_SERIES`` overrides it (1: series by series, for benchmarks/panel_scale.py)."""


def _prefit_series() -> int:
    import os

    try:
        return max(1, int(os.environ.get("LSTMTUNE_PREFIT_SERIES", PREFIT_SERIES)))
    except ValueError:
        raise LstmtuneError(f"LSTMTUNE_PREFIT_SERIES must be a positive whole number, got {os.environ['LSTMTUNE_PREFIT_SERIES']!r}") from None


def _over_panel(groups: dict, call) -> dict:
    """``call(key, data, n_jobs) -> (table, failed)`` once per group of series (``key -> [(uid,
    frame)]``) of at least two, its processes on every core: ``uid -> (key, its rows)``. A group
    that fails, or where a model fails, is left out (its series then do that work alone, and
    a failure is named there)."""
    import os

    out = {}
    for key, members in groups.items():
        if len(members) < 2:
            continue
        data = pd.concat([f[["unique_id", "ds", "y"]] for _, f in members], ignore_index=True)
        try:
            table, failed = call(key, data, min(len(members), os.cpu_count() or 1))
        except Exception:  # noqa: BLE001 - each series alone, later
            continue
        if failed:
            continue
        for uid, part in table.groupby("unique_id", sort=False):
            out[uid] = (key, part.reset_index(drop=True))
    return out


def _stats_together(items, horizon: int, levels=(80, 95)) -> dict:
    """The statistical backtests of the series ``items`` (``(uid, frame, verdict, plan)``), one
    statsforecast call per (models, frequency, season, windows): ``uid -> (cross-validation table, models)``."""
    from lstmtune.selection import statistical

    groups: dict = {}
    for uid, frame, verdict, plan in items:
        if plan.stats:
            groups.setdefault((plan.stats, verdict.freq, verdict.season, len(plan.cutoffs)), []).append((uid, frame))

    def call(key, data, n_jobs):
        names, freq, m, w = key
        return statistical.backtest(data, horizon, w, freq, m, levels=levels, names=names, n_jobs=n_jobs)

    return {uid: (part, key[0]) for uid, (key, part) in _over_panel(groups, call).items()}


def _prefit(items, horizon: int, settings: lstm.Settings) -> dict:
    """Every LSTM and hybrid candidate's backtest fits of the series ``items`` (``(uid, frame,
    verdict, plan)``), trained together: ``(uid, name) -> [model or error per cutoff]``."""
    from lstmtune.forecast import batch

    keys, jobs = [], []
    for uid, frame, verdict, plan in items:
        for name, config, transform, _ in plan.neural:
            try:
                part = lstm.backtest_jobs(frame, plan.cutoffs, horizon, name, config, settings, transform, verdict.season)
            except (LstmtuneError, ValueError):
                continue  # backtested (and named) alone later
            keys.append(((uid, name), len(part)))
            jobs += part
    models = batch.fit_many(jobs) if jobs else []
    out, at = {}, 0
    for key, k in keys:
        out[key] = models[at : at + k]
        at += k
    return out


@dataclasses.dataclass
class _Scored:
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


def _base_backtests(frame: pd.DataFrame, cutoffs, horizon: int) -> pd.DataFrame:
    """``ds, cutoff, y`` of every backtest window (what statsforecast's cross-validation starts from)."""
    parts = [frame[frame["ds"] > c].head(horizon)[["ds", "y"]].assign(cutoff=c) for c in cutoffs]
    return pd.concat(parts, ignore_index=True)[["ds", "cutoff", "y"]]


def _score(uid: str, frame: pd.DataFrame, verdict: panel.Verdict, horizon: int, families: Sequence[str], settings: lstm.Settings,
           plan: _Plan, on_candidate: Callable[[str], None], fitted: dict | None = None, stats_done=None,
           trained_only: bool = False) -> _Scored:
    """Backtest every candidate of one good series and choose; ``fitted``: its LSTM backtest
    models trained beforehand (:func:`_prefit`). The statistical models are backtested only
    where they are candidates or members of one (``stats``, ``combo``). ``trained_only`` (the
    time budget is spent): an LSTM candidate without models in ``fitted`` is left out, said so."""
    from lstmtune.selection import statistical

    m, freq = verdict.season, verdict.freq
    cutoffs = plan.cutoffs
    notes, stats = [], []
    if stats_done is not None:  # backtested with other series (_stats_together)
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
        bt = _base_backtests(frame, cutoffs, horizon)
    families_of = {n: "stats" for n in stats}
    lstm_names, lstm_scores = {}, {}
    wanted = [f for f in NEURAL if f in families]
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
    elif wanted:
        notes.append(f"LSTM and hybrid candidates {score.BUDGET_NOTE}")
    if "combo" in families and len(stats) > 1:
        _combine(bt, stats, STATS_MEDIAN, "median", settings.levels)
        families_of[STATS_MEDIAN] = "combo"
    if "stats" not in families:
        for n in stats:
            families_of.pop(n)
    def ranked():  # the candidates by backtest MASE, to pick combinations' members (no model confidence set)
        return score.leaderboard(bt, frame, families_of, m, settings.levels, mcs=False)

    pair = _pair(ranked())
    if pair is not None:
        _combine(bt, list(pair), LSTM_PAIR, "mean", settings.levels)
        families_of[LSTM_PAIR] = "lstm"
    if "combo" in families and lstm_names and STATS_MEDIAN in bt.columns:
        so_far = ranked()
        best_lstm = None if so_far.empty else _combo_member(so_far)
        if best_lstm is not None:
            _combine(bt, [best_lstm, STATS_MEDIAN], COMBO, "mean", settings.levels)
            families_of[COMBO] = "combo"
    singles = {n: f for n, f in families_of.items() if n not in _combined_names()}
    pools = [(POOL, "combo", list(singles)), (POOL_LSTM, "lstm", [n for n, f in singles.items() if f == "lstm"])]
    for into, family, names in pools:
        if family in families and _add_pool(bt, frame, names, into, m, settings.levels):
            families_of[into] = family
    board = score.leaderboard(bt, frame, families_of, m, settings.levels)  # every candidate, the model confidence set once
    scaled = score.scale_note(bt, frame, m)
    if scaled and not board.empty:
        notes.append(scaled)
    if board.empty:
        if not notes:  # nothing was tried: none of the families asked for has a candidate for this series
            why = " (a hybrid needs a season and three cycles of it)" if set(families) <= {"hybrid", "combo"} and "hybrid" in families else ""
            raise LstmtuneError(f"no candidate of --candidates {','.join(families)} applies to this series{why}")
        raise LstmtuneError("no candidate could be backtested: " + "; ".join(notes))
    keep = ["ds", "cutoff", "y", *[c for c in bt.columns if c.split("-lo-")[0].split("-hi-")[0] in families_of and not c.endswith("-median")]]
    return _Scored(uid, frame, board, bt[keep], notes, str(board.iloc[0]["candidate"]), lstm_names, lstm_scores, stats, freq, m)


def _networks_needed(sc: _Scored) -> list[str]:
    """The LSTM and hybrid candidates the chosen forecaster is made of (their final fits)."""
    if sc.chosen in sc.stats or sc.chosen == STATS_MEDIAN:
        return []
    if sc.chosen in (POOL, POOL_LSTM):
        return [n for n in _pool_members(sc.board, sc.chosen) if n in sc.lstm_names]
    name = _combo_member(sc.board) if sc.chosen == COMBO else sc.chosen
    return list(_pair(sc.board)) if name == LSTM_PAIR else [name]


def _final_fits(scored: Sequence[_Scored], horizon: int, settings: lstm.Settings) -> dict:
    """The final fits of every series' chosen networks, trained together: ``(uid, name) -> model or error``."""
    from lstmtune.forecast import batch

    keys, jobs = [], []
    for sc in scored:
        for name in _networks_needed(sc):
            if globalnet.is_global(name):
                continue  # trained with its panel beforehand (globalnet.fit)
            config, transform = sc.lstm_names[name]
            try:
                jobs.append(lstm.forecast_job(sc.frame, horizon, name, config, settings, transform, sc.m))
            except (LstmtuneError, ValueError):
                continue  # fitted (and its error raised) alone later
            keys.append((sc.uid, name))
    return dict(zip(keys, batch.fit_many(jobs))) if jobs else {}


def _stats_needed(sc: _Scored) -> tuple[str, ...] | None:
    """The statistical models the chosen forecaster refits on every observation."""
    if sc.chosen in sc.stats:
        return (sc.chosen,)
    if sc.chosen in (POOL, POOL_LSTM):
        members = set(_pool_members(sc.board, sc.chosen))
        return tuple(n for n in sc.stats if n in members) or None
    return tuple(sc.stats) if sc.chosen in (STATS_MEDIAN, COMBO) else None


def _stats_finals(scored: Sequence[_Scored], horizon: int, levels=(80, 95)) -> dict:
    """The final statistical forecasts of the series ``scored``, one statsforecast call per
    (models, frequency, season): ``uid -> {models: table}``."""
    from lstmtune.selection import statistical

    groups: dict = {}
    for sc in scored:
        names = _stats_needed(sc)
        if names:
            groups.setdefault((names, sc.freq, sc.m), []).append((sc.uid, sc.frame))

    def call(key, data, n_jobs):
        names, freq, m = key
        return statistical.forecast(data, horizon, freq, m, levels=levels, names=names, n_jobs=n_jobs)

    return {uid: {key[0]: part} for uid, (key, part) in _over_panel(groups, call).items()}


def _finish(sc: _Scored, horizon: int, settings: lstm.Settings, finals: dict | None = None, stats_tables: dict | None = None):
    """``(forecast table, leaderboard rows, backtests, verdict text, notes, model)`` of a scored series."""
    fits = {name: model for (uid, name), model in (finals or {}).items() if uid == sc.uid}
    fc, model = _final(sc.uid, sc.frame, horizon, sc.chosen, sc.board, sc.lstm_names, sc.stats, sc.freq, sc.m, settings, sc.lstm_scores, fits, stats_tables)
    return fc, sc.board, sc.backtests, score.verdict(sc.board, sc.notes), sc.notes, model


NEXT_TRIES = 3
"""Candidates tried after the chosen one when its fit on every observation fails, by backtest MASE."""


def _finish_or_next(sc: _Scored, horizon: int, settings: lstm.Settings, finals: dict | None = None, stats_tables: dict | None = None):
    """:func:`_finish`; where the chosen candidate cannot be fitted on every observation (a log
    chosen on the positive values before the first origin, then zeros at the end, say), the next
    by backtest MASE, up to :data:`NEXT_TRIES`, said in the verdict and the leaderboard's
    ``chosen`` column. Raises the chosen one's error when none can be fitted."""
    try:
        return _finish(sc, horizon, settings, finals, stats_tables)
    except Exception as first:  # noqa: BLE001 - the next candidate, else the caller's fallback
        failed = first
    broken = [_members(sc, sc.chosen)]  # a candidate made of one that failed is not tried (it would fail, or drop it silently)
    tries = 0
    for name in [str(c) for c in sc.board["candidate"] if c != sc.chosen]:
        members = _members(sc, name)
        if tries == NEXT_TRIES:
            break
        if any(b <= members for b in broken):
            continue
        tries += 1
        try:
            fc, board, bt, _, notes, model = _finish(dataclasses.replace(sc, chosen=name), horizon, settings, finals, stats_tables)
        except Exception:  # noqa: BLE001
            broken.append(members)
            continue
        why = f"{sc.chosen} had the lowest backtest MASE but could not be fitted on every observation ({_why(failed)})"
        board = board.assign(chosen=board["candidate"] == name)
        return fc, board, bt, f"{why}: forecasts are {name}'s, the next by backtest MASE", [*notes, why], model
    raise failed


def _members(sc: _Scored, name: str) -> frozenset:
    """The single candidates (statistical models, networks) candidate ``name`` is made of."""
    if name == STATS_MEDIAN:
        return frozenset(sc.stats)
    if name == LSTM_PAIR:
        return frozenset(_pair(sc.board) or ())
    if name == COMBO:
        best = _combo_member(sc.board)
        return (_members(sc, best) if best else frozenset()) | frozenset(sc.stats)
    if name in (POOL, POOL_LSTM):
        return frozenset().union(*(_members(sc, n) for n in _pool_members(sc.board, name)))
    return frozenset([name])


def _pair(board: pd.DataFrame) -> tuple[str, str] | None:
    """The best recursive and the best direct LSTM by backtest MASE (``board`` is sorted), if both were backtested."""
    if board.empty:  # nothing backtested yet
        return None
    names = [str(c) for c in board.loc[board["family"] == "lstm", "candidate"]]
    recursive = [c for c in names if c.startswith("LSTM(")]
    direct = [c for c in names if c.startswith("DirectLSTM(")]
    return (recursive[0], direct[0]) if recursive and direct else None


def _unclipped(model):
    """``model`` without its own clipping at zero (a combination clips its mean instead)."""
    return dataclasses.replace(model, info={**model.info, "nonnegative": False}) if dataclasses.is_dataclass(model) and hasattr(model, "info") else model


def _final(uid, frame, horizon, chosen, board, lstm_names, stats, freq, m, settings, lstm_scores, fits: dict | None = None,
           stats_tables: dict | None = None) -> tuple[pd.DataFrame, object]:
    """The chosen candidate fitted on every observation: its ``horizon``-step table and its model
    (``fits``: networks' final fits trained beforehand, by name; ``stats_tables``: statistical
    forecasts computed beforehand, by the tuple of models' names)."""
    from lstmtune.forecast.composite import Combination, history_of
    from lstmtune.selection import statistical

    y = frame["y"].to_numpy(dtype=np.float64)
    history = history_of(frame["ds"].to_numpy(), y)

    def stats_table(names):
        if (stats_tables or {}).get(tuple(names)) is not None:
            return stats_tables[tuple(names)]
        table, _ = statistical.forecast(frame[["unique_id", "ds", "y"]], horizon, freq, m, levels=settings.levels, names=tuple(names))
        return table

    def lstm_table(name):
        if name == LSTM_PAIR:
            pair = _pair(board)
            (t1, m1), (t2, m2) = (lstm_table(n) for n in pair)
            table = t1.merge(t2, on="ds")
            _combine(table, list(pair), LSTM_PAIR, "mean", settings.levels)
            return table, Combination((_unclipped(m1), _unclipped(m2)), "mean", uid, {"source": "lstmtune auto", "label": LSTM_PAIR, "nonnegative": bool(np.nanmin(y) >= 0)}, history)
        config, transform = lstm_names[name]
        return lstm.forecast(frame, horizon, name, config, settings, lstm_scores.get(name), transform, m, (fits or {}).get(name))

    model = None
    if chosen in stats:
        t = stats_table([chosen])
        model = _statmodel(uid, frame, chosen, m, freq, levels=settings.levels)
    elif chosen in lstm_names or chosen == LSTM_PAIR:
        t, model = lstm_table(chosen)
    elif chosen in (POOL, POOL_LSTM):
        members = _pool_members(board, chosen)
        in_stats = [n for n in stats if n in members]
        stat_table = stats_table(in_stats) if in_stats else None
        t, models = None, []
        for name in members:
            if name in in_stats:
                table, member = stat_table, _statmodel(uid, frame, name, m, freq, levels=settings.levels)
            else:
                table, member = lstm_table(name)
            table = table[["ds", *_columns_of(table, name)]]
            t = table if t is None else t.merge(table, on="ds")
            models.append(_unclipped(member))
        _combine(t, members, chosen, "mean", settings.levels)
        model = Combination(tuple(models), "mean", uid, {"source": "lstmtune auto", "label": chosen, "members": members, "nonnegative": bool(np.nanmin(y) >= 0)}, history)
    else:
        t = stats_table(stats)
        fitted = [n for n in stats if n in t.columns]
        _combine(t, fitted, STATS_MEDIAN, "median", settings.levels)
        model = _statmodel(uid, frame, STATS_MEDIAN, m, freq, members=fitted, levels=settings.levels)
        if chosen == COMBO:
            best_lstm = _combo_member(board)
            table, member = lstm_table(best_lstm)
            t = t.merge(table[["ds", *_columns_of(table, best_lstm)]], on="ds")
            _combine(t, [best_lstm, STATS_MEDIAN], COMBO, "mean", settings.levels)
            model = Combination((_unclipped(member), _unclipped(model)), "mean", uid, {"source": "lstmtune auto", "label": COMBO, "nonnegative": bool(np.nanmin(y) >= 0)}, history)
    return _table(uid, t["ds"], chosen, t, chosen, settings.levels), model


def _statmodel(uid: str, frame: pd.DataFrame, name: str, season: int, freq: str, members: Sequence[str] = (), levels=(80, 95)):
    from lstmtune.forecast.statmodel import StatModel

    y = frame["y"].to_numpy(dtype=np.float64)
    info = {"source": "lstmtune auto", "nonnegative": bool(np.nanmin(y) >= 0)}
    if members:
        info["members"] = list(members)
    if tuple(sorted(levels)) != (80, 95):
        info["levels"] = [int(x) for x in sorted(levels)]
    return StatModel(name, int(season), freq, uid, frame["ds"].to_numpy(dtype="datetime64[ns]"), y, info)


def _fallback(uid: str, frame: pd.DataFrame, verdict: panel.Verdict, horizon: int, levels=(80, 95)) -> pd.DataFrame:
    """Seasonal naive (or naive) for a series too short for the candidates; a constant for a constant one."""
    from lstmtune.selection import statistical

    freq = verdict.freq
    if verdict.status == "constant":  # (its model directory: naive, which forecasts the constant)
        value = float(frame["y"].dropna().iloc[0])
        ds = _future_dates(frame, horizon, freq)
        cols = {"c": np.full(horizon, value), **{f"c-{s}-{lv}": np.full(horizon, value) for s in ("lo", "hi") for lv in levels}}
        return _table(uid, ds, "Constant (fallback)", cols, "c", levels)
    m = verdict.season if len(frame) > verdict.season else 1
    t, _ = statistical.forecast(frame[["unique_id", "ds", "y"]], horizon, freq, m, levels=levels, names=("SeasonalNaive",))
    return _table(uid, t["ds"], "SeasonalNaive (fallback)" if m > 1 else "Naive (fallback)", t, "SeasonalNaive", levels)


def _prepare(frame: pd.DataFrame, horizon: int, freq, season_length, missing: str, candidates, settings: lstm.Settings, windows: int, ends=None):
    """A series triaged (its gaps filled with ``--missing interpolate``) and, when it gets
    candidates, planned: ``(verdict, frame, plan or None, planning error or None)``. Shared by
    :func:`auto` and :mod:`lstmtune.auto.plan`, so both see the same series the same way."""
    inserted = ("", 0)
    if missing in panel.FILLS:  # dates absent from a regular series' dates are filled as missing values are
        frame, inserted = panel.fill_absent(frame, missing, freq, ends)
    v = panel.triage(frame, horizon, freq=freq, season=season_length, missing=missing, inserted=inserted)
    if v.status == "skip":
        return v, frame, None, None
    if missing == "interpolate":
        frame = panel.interpolate(frame)
    elif missing == "zero":
        frame = panel.zero_fill(frame)
    if v.status in ("fallback", "constant"):
        return v, frame, None, None
    try:
        return v, frame, _plan(frame, v, horizon, candidates, settings, windows), None
    except Exception as err:  # noqa: BLE001 - one series never stops the others: a fallback, named
        return v, frame, None, err


def _together(step, *args) -> dict:
    """``step(*args)``, a chunk's work done together; should it fail, nothing (each series then
    does that work alone, where a failure stays its own: one series never stops the others)."""
    try:
        return step(*args)
    except Exception:  # noqa: BLE001
        return {}


def _why(err: Exception) -> str:
    return str(err) if isinstance(err, (LstmtuneError, ValueError)) else f"{type(err).__name__}: {err}"


def _fallback_slot(uid: str, frame: pd.DataFrame, v: panel.Verdict, horizon: int, why: str, status: str, levels=(80, 95)) -> dict:
    """A series on its fallback forecast (``status`` "fallback" or "constant", ``why`` said), or
    skipped when even that fails."""
    try:
        fc = _fallback(uid, frame, v, horizon, levels)
    except Exception as err:  # noqa: BLE001 - one series never stops the others
        reason = f"{why}; the fallback failed too ({type(err).__name__}: {err})"[:300]
        return {"board": pd.DataFrame([{"unique_id": uid, "status": "skipped", "reason": reason}]), "verdict": f"skipped: {why}; the fallback failed too"}
    season = v.season if len(frame) > v.season and status == "fallback" else 1
    model = _statmodel(uid, frame, "SeasonalNaive", season, v.freq, levels=levels)
    model = dataclasses.replace(model, info={**model.info, "label": str(fc["model"].iloc[0])})  # "Constant (fallback)", as forecasts.csv names it
    return {"forecast": _clip_nonnegative(fc, frame["y"].to_numpy()), "model": model,
            "board": pd.DataFrame([{"unique_id": uid, "status": status, "reason": why[:300], "candidate": fc["model"].iloc[0], "chosen": True}]),
            "verdict": f"{status}: {why}"}


def _clip_nonnegative(table: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    """A series that never went below 0 is never forecast below 0."""
    return clip_nonnegative(table) if np.nanmin(y) >= 0 else table


@dataclasses.dataclass(frozen=True)
class _Chunk:
    """One chunk's work, plain values (sent whole to a Ray task): its good series
    ``(i, uid, frame, verdict, plan)``, the settings, and the global candidates' plan entries,
    backtest models and final models of its series."""

    items: list
    horizon: int
    candidates: tuple
    settings: lstm.Settings
    wanted: tuple
    total: int
    pooled: tuple = ({}, {}, {})
    note: str = ""  # said on every series of the chunk (the global networks left out, the budget's settings)


BUDGET_SHARE = 0.8
"""The share of what is left of a time budget that the LSTM settings are fitted to: the estimate
is rough, and training at fewer epochs costs more than its share (programs are read, forecasts
rolled out either way). Measured on the 20-series synthetic panel, ``--time-budget 45``: fitted
to all that was left, 3 seeds x 200 epochs and 50.9 s in all."""


def _replan(plan: _Plan, frame: pd.DataFrame, v: panel.Verdict, horizon: int, candidates, settings: lstm.Settings, windows: int) -> _Plan:
    """The series planned again with ``settings`` (the same data: it planned before), or its
    first plan should that fail."""
    try:
        return _plan(frame, v, horizon, candidates, settings, windows)
    except Exception:  # noqa: BLE001 - one series never stops the others
        return plan


def _fit_budget(good, horizon: int, settings: lstm.Settings, wanted, time_budget: float | None, t0: float) -> tuple[lstm.Settings | None, str]:
    """The LSTM settings that fit what is left of ``time_budget`` (:func:`lstmtune.auto.cost.within`:
    fewer epochs, then fewer seeds), and the note saying so on every series; the settings
    unchanged when they fit; None when even the least would not fit, or nothing is left: the
    LSTMs are then left out from the start (before, the full settings trained, well past the
    budget, since the budget is looked at between trainings, not within one)."""
    if time_budget is None or not wanted or not good:
        return settings, ""
    import os

    from lstmtune.auto import cost

    items = [(frame, plan) for _, _, frame, _, plan in good]
    left = time_budget - (time.perf_counter() - t0)
    cores = os.cpu_count() or 1
    fitted = cost.within(items, horizon, settings, BUDGET_SHARE * left, cores) if left > 0 else None
    if fitted is None:
        least = cost.seconds(items, horizon, cost.cheapest(settings), cores)
        return None, (f"time budget: LSTM candidates left out (expected about {least:.0f} s even with the fewest seeds and epochs, "
                      f"against {max(left, 0):.0f} s left of --time-budget {time_budget:g} s)")
    if (fitted.seeds, fitted.epochs) == (settings.seeds, settings.epochs):
        return settings, ""
    expected = cost.seconds(items, horizon, settings, cores)
    return fitted, (f"time budget: LSTM candidates trained with {fitted.seeds} seeds x {fitted.epochs} epochs instead of {settings.seeds} x {settings.epochs} "
                    f"(expected about {expected:.0f} s against {left:.0f} s left of --time-budget {time_budget:g} s)")


def run_chunk(job: _Chunk, budget_left: float | None = None, progress: Callable | None = None, on_result: Callable | None = None) -> list[tuple[int, dict]]:
    """Backtest, choose and fit every series of a chunk: ``[(i, slot)]`` (each series' forecast,
    leaderboard, backtests, verdict and model, or its fallback). The LSTM backtests of the chunk
    train together, its statistical backtests run together, and so do the final fits.
    ``budget_left``: seconds of the time budget left (None: no budget); once spent, the LSTMs not yet trained are left out.
    ``on_result(i, slot)``: called as each series is done (the local run checkpoints it then)."""
    from lstmtune.engine import aot

    aot.release_if_crowded(CROWDED, CROWDED / 5)  # a long run over many shapes: free the compiled programs before this chunk
    deadline = None if budget_left is None else time.perf_counter() + budget_left
    horizon, candidates, settings, chunk, total = job.horizon, job.candidates, job.settings, job.items, job.total
    pooled = job.pooled

    def in_budget() -> bool:
        return deadline is None or time.perf_counter() < deadline

    out: list[tuple[int, dict]] = []

    def done(i: int, slot: dict) -> None:  # each result handed on as it comes
        out.append((i, slot))
        if on_result is not None:
            on_result(i, slot)

    fitted = {}
    if job.wanted and in_budget():
        if progress:
            progress(chunk[0][1], f"LSTM backtests of {len(chunk)} series, trained together", chunk[0][0], total)
        fitted = _together(_prefit, [item[1:] for item in chunk], horizon, settings)
    fitted = {**fitted, **pooled[1]}  # every network trained beforehand, local and global
    if progress:
        progress(chunk[0][1], f"statistical backtests of {len(chunk)} series, together", chunk[0][0], total)
    stats_done = _together(_stats_together, [item[1:] for item in chunk], horizon, settings.levels)
    scored = []
    for i, uid, frame, v, plan in chunk:
        report = (lambda stage, uid=uid, i=i: progress(uid, stage, i, total)) if progress else (lambda stage: None)
        try:
            plan = dataclasses.replace(plan, neural=plan.neural + pooled[0].get(uid, []))
            scored.append((i, v, _score(uid, frame, v, horizon, candidates, settings, plan, report, fitted, stats_done.get(uid),
                                        trained_only=not (job.wanted and in_budget()))))
            if job.note:
                scored[-1][2].notes.append(job.note)
        except Exception as err:  # noqa: BLE001 - one series never stops the others: a fallback, named
            done(i, _fallback_slot(uid, frame, v, horizon, _why(err), "fallback", settings.levels))
    if progress and scored:
        progress(scored[0][2].uid, "final fits of the chosen networks, trained together", scored[0][0], total)
    finals = _together(_final_fits, [sc for _, _, sc in scored], horizon, settings)
    finals = {**finals, **pooled[2]}
    stats_finals = _together(_stats_finals, [sc for _, _, sc in scored], horizon, settings.levels)
    for i, v, sc in scored:
        try:
            fc, board, bt, text, notes, model = _finish_or_next(sc, horizon, settings, finals, stats_finals.get(sc.uid))
        except Exception as err:  # noqa: BLE001
            done(i, _fallback_slot(sc.uid, sc.frame, v, horizon, _why(err), "fallback", settings.levels))
            continue
        done(i, {"forecast": _clip_nonnegative(fc, sc.frame["y"].to_numpy()), "model": model, "verdict": text,
                 "board": board.assign(unique_id=sc.uid, status="ok", reason="; ".join(filter(None, [v.reason, *notes]))), "backtest": bt.assign(unique_id=sc.uid)})
        if progress:
            progress(sc.uid, "done", i, total)
    return out


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
    checkpoint=None,
    levels: Sequence[int] = (80, 95),
    global_lstm: bool = False,
    executor=None,
    started: float | None = None,
) -> AutoResult:
    """Forecast every series of a long frame (``unique_id, ds, y``) ``horizon`` steps ahead with
    the candidate of lowest mean backtest MASE.

    Args:
      data: a long frame; a frame with only ``ds, y`` is one series (``unique_id`` "series").
      horizon: steps to forecast, and the backtests' horizon.
      freq / season_length: override the ones inferred from each series' dates.
      candidates: families among ``lstm``, ``hybrid``, ``stats``, ``combo``.
      windows: rolling origins per series (fewer where a series is short).
      missing: ``"error"`` (a series with missing values, or with dates absent from its regular
        dates, is skipped), ``"interpolate"`` (both filled linearly in time) or ``"zero"`` (both
        set to 0: a period without a row or a value sold nothing; each series then also runs on
        to the panel's last date for its frequency, :func:`lstmtune.data.panel.common_ends`, as
        statsforecast's ``fill_gaps(end="global")``).
      time_budget: seconds for the whole call (from ``started``). Where the LSTM candidates are
        not expected to fit what is left of it with ``settings`` (:func:`lstmtune.auto.cost.within`:
        the estimate ``lstmtune plan`` makes), they train fewer epochs, then fewer seeds; once it
        is spent, those not yet trained are left out. Both are said on every series concerned.
        The results then depend on the machine's speed.
      settings: the LSTM candidates' training settings.
      progress: ``(series, stage, done, total)`` callback.
      levels: interval levels in percent (whole numbers from 1 to 99; default 80 and 95):
        the ``lower_<level>`` / ``upper_<level>`` columns and the leaderboard's ``coverage_<level>``.
      checkpoint: a folder where each finished series is stored as its chunk ends, and read
        back instead of computed when its data and settings are the same
        (:mod:`lstmtune.auto.checkpoint`): an interrupted panel resumes where it stopped.
      global_lstm: also offer global LSTMs (one network over the series of a frequency and
        season, :mod:`lstmtune.auto.globalnet`) where a panel has enough such series; a series'
        result then depends on the others (its checkpoint key holds the whole panel's data).
        Off by default: on the check set they were chosen on four series and forecast all four
        worse (docs/AUTO.md).
      executor: None (this process), or an object whose ``map_chunks(chunks, budget_left)``
        yields ``(chunk, [(i, slot)])`` as chunks finish, e.g.
        :class:`lstmtune.auto.distributed.RayChunks`: each chunk of series a task on a Ray
        cluster. Results are the same bits either way; each is checkpointed as it arrives.

      started: ``time.perf_counter()`` when the time budget's clock started (the command's
        start); default: now.

    Raises:
      LstmtuneError: a bad argument (horizon, candidates, missing columns).
    """
    t0 = time.perf_counter() if started is None else started
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise LstmtuneError(f"--horizon must be a positive whole number of steps, got {horizon!r}")
    check_arguments(data, season_length=season_length, windows=windows, time_budget=time_budget, settings=settings)
    if isinstance(candidates, str):  # "stats" or "lstm,stats", as --candidates takes them
        candidates = tuple(c.strip() for c in candidates.split(",") if c.strip())
    if isinstance(levels, (int, float, np.number)) and not isinstance(levels, bool):
        levels = (levels,)
    if any(n in data.columns for n in data.index.names if n is not None):  # also an index level: pandas finds the name ambiguous
        data = data.reset_index(drop=True)
    unknown = sorted(set(candidates) - set(FAMILIES))
    if unknown or not candidates:
        raise LstmtuneError(f"--candidates: {', '.join(unknown) or 'none given'}: choose among {', '.join(FAMILIES)}")
    check_horizon(horizon)
    panel.check_missing(missing)
    panel.check_freq(freq)
    freq = current_alias(freq)  # M -> ME: pandas warns about the old names at every use
    if "unique_id" not in data.columns:
        others = [str(c) for c in data.columns if c not in ("ds", "y")]
        if others and "ds" in data.columns and data["ds"].duplicated().any():  # several series under another name
            raise LstmtuneError(f"the data have no unique_id column and repeat dates: if {others[0]!r} names the series, "
                                f"rename it (data.rename(columns={{{others[0]!r}: 'unique_id'}}))")
        data = data.assign(unique_id="series")
    lacking = [c for c in ("ds", "y") if c not in data.columns]
    if lacking:
        raise LstmtuneError(f"the data lack the column {lacking[0]!r} (long format: unique_id, ds, y)")
    levels = check_levels(levels)
    settings = dataclasses.replace(settings or lstm.Settings(), levels=levels)
    unreadable = panel.unreadable(data)  # series with a cell that does not parse (panel.read): skipped, named
    data = panel.from_frame(data)  # read as the CLI reads a file
    frames = list(panel.series_frames(data[["unique_id", "ds", "y"]]))
    slots: list[dict] = [{} for _ in frames]  # per series, in the input's order: forecast, board, backtest, verdict, model
    from lstmtune._version import __version__
    from lstmtune.auto import checkpoint as ckpt

    shaping = {"horizon": int(horizon), "candidates": sorted(candidates), "windows": windows, "freq": freq, "season_length": season_length, "missing": missing,
               "time_budget": time_budget, "settings": dataclasses.asdict(settings), "lstmtune": __version__}
    end = panel.common_ends(data, freq) if missing == "zero" else None  # zero: every series runs on to its frequency's last date
    pooling = bool(global_lstm) and "lstm" in candidates and len(frames) > 1
    if pooling:  # a global network learns from every series: a series' result depends on the panel
        shaping["panel"] = ckpt.series_key(data[["unique_id", "ds", "y"]].astype({"unique_id": str}), {})
    # zero: keyed on the series as filled (it depends on the panel's last dates), so that a series
    # whose filled data did not change when the panel's last dates moved is still read back
    # (and on what the filling says, which the leaderboard repeats: a row without a value and an absent date fill alike)
    keyed = [panel.fill_absent(frame, missing, freq, end) for _, frame in frames] if checkpoint is not None and end else [(frame, ("", 0)) for _, frame in frames]
    keys = [ckpt.series_key(frame, {**shaping, "inserted": said[0]} if said[0] else shaping) for frame, said in keyed] if checkpoint is not None else []
    resumed = 0

    def finished(i: int, slot: dict) -> None:
        slots[i] = slot
        if checkpoint is not None:
            ckpt.write(checkpoint, frames[i][0], keys[i], slot)

    good, learn_from = [], []  # learn_from: every good series, read back or not (the global networks learn from all)
    for i, (uid, frame) in enumerate(frames):
        stored = ckpt.read(checkpoint, uid, keys[i]) if checkpoint is not None else None
        if stored is not None:
            slots[i], resumed = stored, resumed + 1
            if pooling:  # the global networks of the series still to compute learn from this one too, as in a whole run
                v, frame, plan, _ = _prepare(frame, horizon, freq, season_length, missing, candidates, settings, windows, end)
                learn_from += [(uid, frame, v, plan)] if plan is not None else []
            continue
        if uid in unreadable:
            finished(i, {"board": pd.DataFrame([{"unique_id": uid, "status": "skipped", "reason": unreadable[uid]}]), "verdict": f"skipped: {unreadable[uid]}"})
            continue
        v, frame, plan, err = _prepare(frame, horizon, freq, season_length, missing, candidates, settings, windows, end)
        if v.status == "skip":
            finished(i, {"board": pd.DataFrame([{"unique_id": uid, "status": "skipped", "reason": v.reason}]), "verdict": f"skipped: {v.reason}"})
        elif v.status in ("fallback", "constant"):
            finished(i, _fallback_slot(uid, frame, v, horizon, v.reason, v.status, settings.levels))
        elif err is not None:
            finished(i, _fallback_slot(uid, frame, v, horizon, _why(err), "fallback", settings.levels))
        else:
            good.append((i, uid, frame, v, plan))
            learn_from.append((uid, frame, v, plan))
    wanted = [f for f in NEURAL if f in candidates]
    fitted, budget_note = _fit_budget(good, horizon, settings, wanted, time_budget, t0)
    if fitted is None:  # not even the fewest seeds and epochs would fit: no LSTM is trained
        wanted, fitted = [], settings
    if fitted != settings:  # the candidates' configurations carry their epochs: planned again with the budget's
        settings = fitted
        good = [(i, uid, frame, v, _replan(plan, frame, v, horizon, candidates, settings, windows)) for i, uid, frame, v, plan in good]
        learn_from = [(uid, frame, v, _replan(plan, frame, v, horizon, candidates, settings, windows)) for uid, frame, v, plan in learn_from]
    pooled = ({}, {}, {})  # global candidates: uid -> their plan entries, (uid, name) -> backtest models, -> final model
    global_note = ""
    if pooling and wanted and good and len(learn_from) > 1 and (time_budget is None or time.perf_counter() - t0 < time_budget):
        if progress:
            progress(good[0][1], f"global LSTMs over {len(learn_from)} series, trained together", good[0][0], len(frames))
        try:
            pooled = globalnet.fit(learn_from, horizon, settings)
        except Exception as err:  # noqa: BLE001 - the local candidates still run; the reason is named on every series
            global_note = f"global LSTMs left out: {_why(err)}"
    step = _prefit_series()
    chunks = [good[first : first + step] for first in range(0, len(good), step)]
    uids_of = [{item[1] for item in chunk} for chunk in chunks]
    jobs = [_Chunk(chunk, horizon, tuple(candidates), settings, tuple(wanted), len(frames),
                   tuple({k: v for k, v in part.items() if (k if isinstance(k, str) else k[0]) in uids} for part in pooled),
                   "; ".join(filter(None, [budget_note, global_note])))
            for chunk, uids in zip(chunks, uids_of)]

    def left() -> float | None:
        return None if time_budget is None else time_budget - (time.perf_counter() - t0)

    if executor is None:
        from lstmtune.engine import aot

        for k, job in enumerate(jobs):
            if k:
                aot.release()  # the last chunk's compiled programs: read back if needed (memory stays flat; the time measured the same)
            run_chunk(job, left(), progress, on_result=finished)
    else:  # each chunk a task (a Ray cluster): results kept as they arrive; a lost task is retried alone
        count = 0
        for done_job, results in executor.map_chunks(jobs, left):
            for i, slot in results:
                finished(i, slot)
                count += 1
                if progress:
                    progress(frames[i][0], "done", count - 1, len(frames))  # chunks end in any order: series counted
    forecasts = [x["forecast"] for x in slots if "forecast" in x]
    boards = [x["board"] for x in slots if "board" in x]
    backtests = [x["backtest"] for x in slots if "backtest" in x]
    verdicts = {uid: x["verdict"] for (uid, _), x in zip(frames, slots) if "verdict" in x}
    models = {uid: x["model"] for (uid, _), x in zip(frames, slots) if x.get("model") is not None}
    board = pd.concat(boards, ignore_index=True) if boards else pd.DataFrame()
    order = ["unique_id", "candidate", "family", "mase", "smape", *[f"coverage_{lv}" for lv in levels], "in_mcs", "chosen", "status", "reason"]
    board = board.reindex(columns=order)
    columns = forecast_columns(levels)
    fcs = pd.concat(forecasts, ignore_index=True)[columns] if forecasts else pd.DataFrame(columns=columns)
    bts = pd.concat(backtests, ignore_index=True) if backtests else pd.DataFrame(columns=["unique_id", "ds", "cutoff", "y"])
    bts = bts[["unique_id", "ds", "cutoff", "y", *[c for c in bts.columns if c not in ("unique_id", "ds", "cutoff", "y")]]]
    return AutoResult(fcs, board, bts, verdicts, time.perf_counter() - t0, data[["unique_id", "ds", "y"]].copy(), models, resumed)


__all__ = ["AutoResult", "COMBO", "FAMILIES", "LSTM_PAIR", "POOL", "POOL_LSTM", "STATS_MEDIAN", "auto", "check_levels", "forecast_columns"]
