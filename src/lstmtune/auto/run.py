"""``auto``: per series, triage, backtest every candidate on the same rolling origins, choose
the lowest mean backtest MASE, forecast with it.

A panel is processed in chunks of series whose LSTM backtests, statistical backtests and
final fits are each done together (:mod:`lstmtune.auto.together`: bit for bit what each series
gets alone); global LSTMs (:mod:`lstmtune.auto.globalnet`) are trained once over the whole panel
before the chunks. A bad series is named in the leaderboard and never stops the others.

The steps of one series: :mod:`lstmtune.auto.backtests` plans its candidates and backtests
them, :mod:`lstmtune.auto.combination` makes the combinations' columns, and
:mod:`lstmtune.auto.final` fits the chosen one on every observation. This module holds the
arguments' checks, the time budget and the loop over chunks.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lstmtune.auto import backtests, final, globalnet, lstm, score, together
from lstmtune.auto.combination import COMBO, LSTM_PAIR, NEURAL, POOL, POOL_LSTM, STATS_MEDIAN
from lstmtune.data import panel
from lstmtune.data.series import current_alias
from lstmtune.errors import LstmtuneError, cli_or_python, option
from lstmtune.forecast.output import clip_nonnegative

FAMILIES = ("lstm", "hybrid", "stats", "combo")
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
        lstm.check_space(settings.space)


def check_levels(levels) -> tuple[int, ...]:
    """Interval levels as sorted whole percentages.

    Raises:
      LstmtuneError: a level that is not a whole number from 1 to 99, or none.
    """
    out = set()
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, (int, np.integer, float)) or float(level) != int(level) or not 1 <= level <= 99:
            raise LstmtuneError(f"{option('--level')} {level!r}: interval levels are whole percentages from 1 to 99 (e.g. {cli_or_python('--level 80 95', 'levels=(80, 95)')})")
        out.add(int(level))
    if not out:
        raise LstmtuneError(f"{option('--level')}: give at least one interval level (e.g. {cli_or_python('--level 80 95', 'levels=(80, 95)')})")
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
    utc: tuple = ()  # series whose times are UTC times, read from dates with offsets (panel.UTC): written with +00:00

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


CROWDED = 0.5
"""Share of the kernel's memory mappings per process above which :func:`run_chunk` first frees
every compiled program (:func:`lstmtune.engine.aot.crowded`)."""

MAX_HORIZON = 100_000
"""The longest horizon ``auto`` accepts (a refusal up front rather than arrays too large to allocate)."""


def check_horizon(horizon: int) -> None:
    """Refuse a horizon over :data:`MAX_HORIZON` (``auto`` and its ``plan``)."""
    if horizon > MAX_HORIZON:
        raise LstmtuneError(f"{option('--horizon')} {horizon}: at most {MAX_HORIZON:,} steps (the backtests need about twice as many observations per series)")


PREFIT_SERIES = 64
"""Series whose LSTM backtests are trained together (one stacked population per shape);
``$LSTMTUNE_PREFIT_SERIES`` overrides it (1: series by series, for benchmarks/panel_scale.py)."""


def _prefit_series() -> int:
    import os

    given = os.environ.get("LSTMTUNE_PREFIT_SERIES", "").strip()
    try:
        n = int(given) if given else PREFIT_SERIES
    except ValueError:
        n = 0
    if n < 1:
        raise LstmtuneError(f"LSTMTUNE_PREFIT_SERIES must be a positive whole number, got {given!r}")
    return n


SPARSE_SPAN = 10
"""A series of three dates or more with no grid of its own is read at the panel's frequency,
under ``--missing zero`` or ``interpolate``, when its dates lie on that frequency's grid and
span at most this many times as many of its dates as it has (a product selling one month in
four, its months without sales absent; a mistyped year spans hundreds)."""


def _borrows(frame: pd.DataFrame, freq, shared: str | None, missing: str = "error") -> bool:
    """Whether a series is read at the panel's shared frequency: no ``freq`` given, and one or
    two dates (too few for pandas to infer one) with no more of that frequency's dates absent
    between them than present (two dates ten years apart are a mistyped year, not a series to
    fill); or, where absent dates are filled (``missing``), a sparse series without a grid of its
    own whose dates lie on the panel's (:data:`SPARSE_SPAN`: an intermittent product whose
    zero rows are simply absent was skipped as of no regular frequency: a probe)."""
    if freq is not None or shared is None:
        return False
    ds = frame["ds"].dropna().to_numpy(dtype="datetime64[ns]")
    if len(ds) == 0 or (len(ds) >= 3 and (missing not in panel.FILLS or len(ds) != len(np.unique(ds)) or panel.grid_frequency(ds) is not None)):
        return False
    try:
        grid = pd.date_range(pd.Timestamp(ds[0]), pd.Timestamp(ds[-1]), freq=shared)
    except (ValueError, OverflowError):  # pandas' OutOfBoundsDatetime is a ValueError
        return False
    if len(ds) < 3:
        return len(grid) <= 2 * len(ds)
    return len(grid) <= SPARSE_SPAN * len(ds) and bool(np.isin(ds, grid.to_numpy(dtype="datetime64[ns]")).all())


def _prepare(frame: pd.DataFrame, horizon: int, freq, season_length, missing: str, candidates, settings: lstm.Settings, windows: int, ends=None,
             shared: str | None = None, first_missing: str = ""):
    """A series triaged (its gaps filled with ``--missing interpolate``) and, when it gets
    candidates, planned: ``(verdict, frame, plan or None, planning error or None)``. Shared by
    :func:`auto` and :mod:`lstmtune.auto.plan`, so both see the same series the same way.
    ``shared``: the frequency of the panel's other series (:func:`lstmtune.data.panel.shared_frequency`),
    at which a series of fewer than three dates is read when no ``freq`` is given (said).
    ``first_missing``: the file's line of its first missing value (:func:`lstmtune.data.panel.first_missing_lines`)."""
    borrowed = _borrows(frame, freq, shared, missing)
    few = len(frame["ds"].dropna()) < 3
    if borrowed:
        freq = shared
    inserted = ("", 0)
    if missing in panel.FILLS:  # dates absent from a regular series' dates are filled as missing values are
        frame, inserted = panel.fill_absent(frame, missing, freq, ends)
    v = panel.triage(frame, horizon, freq=freq, season=season_length, missing=missing, inserted=inserted, first_missing=first_missing)
    if borrowed:  # (no --freq was given: its messages name the frequency, not the option)
        v = dataclasses.replace(v, reason="; ".join(filter(None, [v.reason.replace(f"--freq {shared}", shared),
                                                                 f"its dates read at {shared}, the frequency of every other series that has one "
                                                                 f"({'too few to infer its own' if few else 'too sparse to infer its own'})"])))
    if v.status == "skip":
        return v, frame, None, None
    if missing == "interpolate":
        frame = panel.interpolate(frame)
    elif missing == "zero":
        frame = panel.zero_fill(frame)
    if v.status in ("fallback", "constant"):
        return v, frame, None, None
    try:
        return v, frame, backtests.plan_series(frame, v, horizon, candidates, settings, windows), None
    except Exception as err:  # noqa: BLE001 - one series never stops the others: a fallback, named
        return v, frame, None, err


def _fallback_slot(uid: str, frame: pd.DataFrame, v: panel.Verdict, horizon: int, why: str, status: str, levels=(80, 95)) -> dict:
    """A series on its fallback forecast (``status`` "fallback" or "constant", ``why`` said), or
    skipped when even that fails."""
    try:
        fc = final.fallback(uid, frame, v, horizon, levels)
    except Exception as err:  # noqa: BLE001 - one series never stops the others
        reason = f"{why}; the fallback failed too ({type(err).__name__}: {err})"[:300]
        return {"board": pd.DataFrame([{"unique_id": uid, "status": "skipped", "reason": reason}]), "verdict": f"skipped: {why}; the fallback failed too"}
    season = v.season if len(frame) > v.season and status == "fallback" else 1
    model = final.statmodel(uid, frame, "SeasonalNaive", season, v.freq, levels=levels)
    model = dataclasses.replace(model, info={**model.info, "label": str(fc["model"].iloc[0])})  # "Constant (fallback)", as forecasts.csv names it
    return {"forecast": _clip_nonnegative(fc, frame["y"].to_numpy()), "model": model,
            "board": pd.DataFrame([{"unique_id": uid, "status": status, "reason": why[:300], "candidate": fc["model"].iloc[0], "chosen": True}]),
            "verdict": f"{status}: {why}"}


def _clip_nonnegative(table: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    """A series that never went below 0 is never forecast below 0."""
    return clip_nonnegative(table) if np.nanmin(y) >= 0 else table


def _clipped_note(table: pd.DataFrame, y: np.ndarray) -> str | None:
    """What clipping at 0 did to the chosen forecast, where its band fell wholly below 0: there
    the forecast and its bands are 0, a band of no width, which says nothing of the chance of
    a positive value (a declining series, its trend extrapolated through 0: a probe). None where
    no band was clipped away."""
    if not np.nanmin(y) >= 0:
        return None
    from lstmtune.forecast.output import value_columns

    highest = table[value_columns(table)].max(axis=1).to_numpy(dtype=np.float64)
    below = np.flatnonzero(highest < 0)
    if not below.size:
        return None
    return (f"the chosen model's forecast and bands fall below 0 from step {int(below[0]) + 1} of {len(table)} (its trend carried through 0): "
            "clipped at 0, as for every series that never went below it, so there they are 0 and bands of no width")


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


def _allowance(left: float, time_budget: float) -> str:
    """What an estimate is set against, in a series' reason: :data:`BUDGET_SHARE` of what is left
    ("expected about 27 s against 29 s left" read as if the full settings fitted: a probe)."""
    left = max(left, 0.0)
    return f"{BUDGET_SHARE * left:.0f} s, {BUDGET_SHARE:.0%} of the {left:.0f} s left of --time-budget {time_budget:g} s"


def _replan(plan: backtests.Plan, frame: pd.DataFrame, v: panel.Verdict, horizon: int, candidates, settings: lstm.Settings, windows: int) -> backtests.Plan:
    """The series planned again with ``settings`` (the same data: it planned before), or its
    first plan should that fail."""
    try:  # the statistical models the budget kept (:func:`_stats_budget`), and its notes
        return dataclasses.replace(backtests.plan_series(frame, v, horizon, candidates, settings, windows), stats=plan.stats, notes=plan.notes)
    except Exception:  # noqa: BLE001 - one series never stops the others
        return plan


def _fit_budget(items, horizon: int, settings: lstm.Settings, wanted, time_budget: float | None, t0: float) -> tuple[lstm.Settings | None, str]:
    """The LSTM settings that fit what is left of ``time_budget`` for the series ``items``
    (``(frame, plan)``; :func:`lstmtune.auto.cost.within`:
    fewer epochs, then fewer seeds), and the note saying so on every series; the settings
    unchanged when they fit; None when even the least would not fit, or nothing is left: the
    LSTMs are then left out from the start (before, the full settings trained, well past the
    budget, since the budget is looked at between trainings, not within one)."""
    if time_budget is None or not wanted or not items:
        return settings, ""
    from lstmtune.auto import cost
    from lstmtune.engine.xla import usable_cores

    left = time_budget - (time.perf_counter() - t0)
    cores = usable_cores()
    fitted = cost.within(items, horizon, settings, BUDGET_SHARE * left, cores) if left > 0 else None
    if fitted is None:
        least = cost.seconds(items, horizon, cost.cheapest(settings), cores)
        return None, (f"{score.BUDGET_UPFRONT} (expected about {least:.0f} s even with the fewest seeds and epochs, "
                      f"against {_allowance(left, time_budget)})")
    if (fitted.seeds, fitted.epochs) == (settings.seeds, settings.epochs):
        return settings, ""
    expected = cost.seconds(items, horizon, settings, cores)
    return fitted, (f"time budget: LSTM candidates trained with {fitted.seeds} seeds x {fitted.epochs} epochs instead of {settings.seeds} x {settings.epochs} "
                    f"(expected about {expected:.0f} s against {_allowance(left, time_budget)})")


def _stats_budget(items, time_budget: float | None, t0: float) -> list:
    """The plans of the series ``items`` (``(frame, plan)``), with AutoARIMA left out where the
    statistical fits together would not fit :data:`BUDGET_SHARE` of what is left of
    ``time_budget`` (their wall time: :func:`lstmtune.auto.cost.stat_wall`, never less than the
    dearest series alone, whose fits run on one core): on the series where it costs most first (a
    long season, a long series: :func:`lstmtune.auto.cost.fit_seconds`; among equal costs, the
    longer series, then the panel's order), each said so in its plan's notes, until they fit. The
    LSTMs are fitted to what is left afterwards (:func:`_fit_budget`), as before; the other
    statistical models cost little and stay (the seasonal naive is every series' fallback)."""
    plans = [plan for _, plan in items]
    if time_budget is None or not items:
        return plans
    from lstmtune.auto import cost
    from lstmtune.engine.xla import usable_cores

    left = time_budget - (time.perf_counter() - t0)
    cores = usable_cores()
    allowed = BUDGET_SHARE * max(left, 0.0)
    per = [cost.stat_seconds([item]) for item in items]  # one core's seconds per series
    expected = cost.spread(per, cores)
    if expected <= allowed:
        return plans
    costly = sorted(((cost.model_seconds("AutoARIMA", frame, plan), len(frame), k) for k, (frame, plan) in enumerate(items) if "AutoARIMA" in plan.stats),
                    key=lambda x: (-x[0], -x[1], x[2]))
    for secs, _, k in costly:
        if cost.spread(per, cores) <= allowed:
            break
        per[k] -= secs
        plan = plans[k]
        note = (f"{score.STATS_UPFRONT} (expected about {secs:.0f} s for its {len(plan.cutoffs) + 1} fits at season {plan.season}, "
                f"the statistical fits together about {expected:.0f} s on {cores} core{'s' if cores > 1 else ''}, against {_allowance(left, time_budget)})")
        plans[k] = dataclasses.replace(plan, stats=tuple(n for n in plan.stats if n != "AutoARIMA"), notes=(*plan.notes, note))
    return plans


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
        fitted = together.attempt(together.prefit, [item[1:] for item in chunk], horizon, settings)
    fitted = {**fitted, **pooled[1]}  # every network trained beforehand, local and global
    if progress:
        progress(chunk[0][1], f"statistical backtests of {len(chunk)} series, together", chunk[0][0], total)
    stats_done = together.attempt(together.stats_backtests, [item[1:] for item in chunk], horizon, settings.levels)
    scored = []
    for i, uid, frame, v, plan in chunk:
        report = (lambda stage, uid=uid, i=i: progress(uid, stage, i, total)) if progress else (lambda stage: None)
        try:
            plan = dataclasses.replace(plan, neural=plan.neural + pooled[0].get(uid, []))
            scored.append((i, v, backtests.score_series(uid, frame, v, horizon, candidates, settings, plan, report, fitted, stats_done.get(uid),
                                        trained_only=not (job.wanted and in_budget()))))
            if job.note and plan.neural:  # said where the series has LSTM or hybrid candidates
                notes = scored[-1][2].notes
                if not job.wanted:  # left out before any training: the budget's own note says why, once ("was spent" would contradict its seconds left)
                    notes[:] = [n for n in notes if n != score.LSTMS_SPENT]
                notes.append(job.note)
        except Exception as err:  # noqa: BLE001 - one series never stops the others: a fallback, named
            done(i, _fallback_slot(uid, frame, v, horizon, final.reason_of(err), "fallback", settings.levels))
    if progress and scored:
        progress(scored[0][2].uid, "final fits of the chosen networks, trained together", scored[0][0], total)
    finals = together.attempt(together.final_fits, [sc for _, _, sc in scored], horizon, settings)
    finals = {**finals, **pooled[2]}
    stats_finals = together.attempt(together.stats_finals, [sc for _, _, sc in scored], horizon, settings.levels)
    for i, v, sc in scored:
        try:
            fc, board, bt, text, notes, model = final.finish_or_next(sc, horizon, settings, finals, stats_finals.get(sc.uid))
        except Exception as err:  # noqa: BLE001
            done(i, _fallback_slot(sc.uid, sc.frame, v, horizon, final.reason_of(err), "fallback", settings.levels))
            continue
        clipped = _clipped_note(fc, sc.frame["y"].to_numpy())
        done(i, {"forecast": _clip_nonnegative(fc, sc.frame["y"].to_numpy()), "model": model, "verdict": text,
                 "board": board.assign(unique_id=sc.uid, status="ok", reason="; ".join(filter(None, [v.reason, *notes, clipped]))), "backtest": bt.assign(unique_id=sc.uid)})
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
    levels: Sequence[int] | None = None,
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
      levels: interval levels in percent (whole numbers from 1 to 99; default ``settings.levels``,
        80 and 95): the ``lower_<level>`` / ``upper_<level>`` columns and the leaderboard's
        ``coverage_<level>``; given with other ``settings.levels`` too, refused.
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
        raise LstmtuneError(f"{option('--horizon')} must be a positive whole number of steps, got {horizon!r}")
    check_arguments(data, season_length=season_length, windows=windows, time_budget=time_budget, settings=settings)
    if isinstance(candidates, str):  # "stats" or "lstm,stats", as --candidates takes them
        candidates = tuple(c.strip() for c in candidates.split(",") if c.strip())
    if isinstance(levels, (int, float, np.number)) and not isinstance(levels, bool):
        levels = (levels,)
    if any(n in data.columns for n in data.index.names if n is not None):  # also an index level: pandas finds the name ambiguous
        data = data.reset_index(drop=True)
    unknown = sorted(set(candidates) - set(FAMILIES))
    if unknown or not candidates:
        raise LstmtuneError(f"{option('--candidates')}: {', '.join(unknown) or 'none given'}: choose among {', '.join(FAMILIES)}")
    check_horizon(horizon)
    panel.check_missing(missing)
    panel.check_freq(freq)
    if checkpoint is not None and (Path(checkpoint).exists() or Path(checkpoint).is_symlink()) and not Path(checkpoint).is_dir():
        raise LstmtuneError(f"checkpoint {checkpoint}: exists and is not a folder")  # NotADirectoryError deep in the first write (a probe)
    if isinstance(data.columns, pd.MultiIndex):  # statsforecast's own error leaked into every series' reason (a probe)
        raise LstmtuneError("the data's columns are several levels deep (a MultiIndex): give flat columns unique_id, ds, y")
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
    if isinstance(data["unique_id"].dtype, pd.CategoricalDtype):  # its values, not its categories (pandas warned at every groupby: a probe)
        data = data.assign(unique_id=data["unique_id"].astype(object))
    if levels is None:  # settings' own (they were overwritten with 80 and 95 without a word: a probe)
        levels = settings.levels if settings is not None else lstm.Settings().levels
    levels = check_levels(levels)
    if settings is not None and settings.levels != lstm.Settings().levels and check_levels(settings.levels) != levels:
        raise LstmtuneError(f"levels {list(levels)} and settings.levels {list(settings.levels)} disagree: give the levels once")
    settings = dataclasses.replace(settings or lstm.Settings(), levels=levels)
    unreadable = panel.unreadable(data)  # series with a cell that does not parse (panel.read): skipped, named
    lines = panel.first_missing_lines(data)  # a file's: its missing values named by line too
    data = panel.from_frame(data)  # read as the CLI reads a file
    utc = tuple(data.attrs.pop(panel.UTC, ()))  # series whose times were made UTC (dates with offsets, finer than daily); popped: frames made from this one copy their attrs
    frames = list(panel.series_frames(data[["unique_id", "ds", "y"]]))
    slots: list[dict] = [{} for _ in frames]  # per series, in the input's order: forecast, board, backtest, verdict, model
    from lstmtune._version import __version__
    from lstmtune.auto import checkpoint as ckpt

    shaping = {"horizon": int(horizon), "candidates": sorted(candidates), "windows": windows, "freq": freq, "season_length": season_length, "missing": missing,
               "time_budget": time_budget, "settings": dataclasses.asdict(settings), "lstmtune": __version__, "reading": ckpt.READING,
               "code": ckpt.code_digest() if checkpoint is not None else "", "libraries": ckpt.library_versions() if checkpoint is not None else {}}
    end = panel.common_ends(data, freq) if missing == "zero" else None  # zero: every series runs on to its frequency's last date
    shared = panel.shared_frequency(data) if freq is None else None  # a series of one or two dates is read at it
    pooling = bool(global_lstm) and "lstm" in candidates and len(frames) > 1
    if pooling:  # a global network learns from every series: a series' result depends on the panel
        shaping["panel"] = ckpt.panel_key(data[["unique_id", "ds", "y"]])
    # zero: keyed on the series as filled (it depends on the panel's last dates), so that a series
    # whose filled data did not change when the panel's last dates moved is still read back
    # (and on what the filling says, which the leaderboard repeats: a row without a value and an absent date fill alike)
    keyed = [panel.fill_absent(frame, missing, freq, end) for _, frame in frames] if checkpoint is not None and end else [(frame, ("", 0)) for _, frame in frames]
    keys = [ckpt.series_key(frame, {**shaping, **({"inserted": said[0]} if said[0] else {}),
                                    **({"shared_freq": shared} if _borrows(given, freq, shared, missing) else {})})  # only a series read at it depends on it
            for (frame, said), (_, given) in zip(keyed, frames)] if checkpoint is not None else []
    resumed = 0

    def finished(i: int, slot: dict) -> None:
        slots[i] = slot
        if checkpoint is not None:
            ckpt.write(checkpoint, frames[i][0], keys[i], slot)

    good, learn_from = [], []  # learn_from: every good series, read back or not (the global networks learn from all)
    for i, (uid, frame) in enumerate(frames):
        # a cell that does not parse is NaN, as an empty one: never read back (its key cannot tell them apart)
        stored = ckpt.read(checkpoint, uid, keys[i]) if checkpoint is not None and uid not in unreadable else None
        if stored is not None:
            slots[i], resumed = stored, resumed + 1
            if pooling:  # the global networks of the series still to compute learn from this one too, as in a whole run
                v, frame, plan, _ = _prepare(frame, horizon, freq, season_length, missing, candidates, settings, windows, end, shared)
                learn_from += [(uid, frame, v, plan)] if plan is not None else []
            continue
        if uid in unreadable:
            finished(i, {"board": pd.DataFrame([{"unique_id": uid, "status": "skipped", "reason": unreadable[uid]}]), "verdict": f"skipped: {unreadable[uid]}"})
            continue
        v, frame, plan, err = _prepare(frame, horizon, freq, season_length, missing, candidates, settings, windows, end, shared, lines.get(uid, ""))
        if v.status == "skip":
            finished(i, {"board": pd.DataFrame([{"unique_id": uid, "status": "skipped", "reason": v.reason}]), "verdict": f"skipped: {v.reason}"})
        elif v.status in ("fallback", "constant"):
            finished(i, _fallback_slot(uid, frame, v, horizon, v.reason, v.status, settings.levels))
        elif err is not None:
            finished(i, _fallback_slot(uid, frame, v, horizon, final.reason_of(err), "fallback", settings.levels))
        else:
            good.append((i, uid, frame, v, plan))
            learn_from.append((uid, frame, v, plan))
    wanted = [f for f in NEURAL if f in candidates]
    planned = _stats_budget([(frame, plan) for _, _, frame, _, plan in good], time_budget, t0)
    good = [(i, uid, frame, v, p) for (i, uid, frame, v, _), p in zip(good, planned)]
    fitted, budget_note = _fit_budget([(frame, plan) for _, _, frame, _, plan in good], horizon, settings, wanted, time_budget, t0)
    if fitted is None:  # not even the fewest seeds and epochs would fit: no LSTM is trained
        wanted, fitted = [], settings
    if fitted != settings:  # the candidates' configurations carry their epochs: planned again with the budget's
        settings = fitted
        good = [(i, uid, frame, v, _replan(plan, frame, v, horizon, candidates, settings, windows)) for i, uid, frame, v, plan in good]  # its statistical models kept
        learn_from = [(uid, frame, v, _replan(plan, frame, v, horizon, candidates, settings, windows)) for uid, frame, v, plan in learn_from]
    pooled = ({}, {}, {})  # global candidates: uid -> their plan entries, (uid, name) -> backtest models, -> final model
    global_note = ""
    if pooling and wanted and good and len(learn_from) > 1 and (time_budget is None or time.perf_counter() - t0 < time_budget):
        if progress:
            progress(good[0][1], f"global LSTMs over {len(learn_from)} series, trained together", good[0][0], len(frames))
        try:
            pooled = globalnet.fit(learn_from, horizon, settings)
        except Exception as err:  # noqa: BLE001 - the local candidates still run; the reason is named on every series
            global_note = f"global LSTMs left out: {final.reason_of(err)}"
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
    windows_of = [x["backtest"] for x in slots if "backtest" in x]
    verdicts = {uid: x["verdict"] for (uid, _), x in zip(frames, slots) if "verdict" in x}
    models = {uid: x["model"] for (uid, _), x in zip(frames, slots) if x.get("model") is not None}
    board = pd.concat(boards, ignore_index=True) if boards else pd.DataFrame()
    order = ["unique_id", "candidate", "family", "mase", "smape", *[f"coverage_{lv}" for lv in levels], "in_mcs", "chosen", "status", "reason"]
    board = board.reindex(columns=order)
    columns = forecast_columns(levels)
    fcs = pd.concat(forecasts, ignore_index=True)[columns] if forecasts else pd.DataFrame(columns=columns)
    bts = pd.concat(windows_of, ignore_index=True) if windows_of else pd.DataFrame(columns=["unique_id", "ds", "cutoff", "y"])
    bts = bts[["unique_id", "ds", "cutoff", "y", *[c for c in bts.columns if c not in ("unique_id", "ds", "cutoff", "y")]]]
    forecast = set(fcs["unique_id"]) if not fcs.empty else set()
    return AutoResult(fcs, board, bts, verdicts, time.perf_counter() - t0, data[["unique_id", "ds", "y"]].copy(), models, resumed,
                      tuple(u for u in utc if u in forecast))  # a skipped series has nothing to mark


__all__ = ["AutoResult", "COMBO", "FAMILIES", "LSTM_PAIR", "POOL", "POOL_LSTM", "STATS_MEDIAN", "auto", "check_levels", "forecast_columns"]
