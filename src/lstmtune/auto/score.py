"""The leaderboard: each candidate's backtest errors, computed from the backtests table and the
series' history before each cutoff (MASE's scale), so anyone can recompute them from
``backtests.csv`` and the data, and the choice.

Per window (one cutoff), MASE scales the mean absolute error by the in-sample mean absolute
error of the seasonal naive on the observations up to that cutoff; sMAPE is in percent
(0-200); coverage is the share of observations inside each band. A candidate's score is the
mean over windows. The model confidence set (:func:`lstmtune.selection.stats.best_set`, 10%
level) is computed on the per-observation scaled absolute errors, paired across candidates:
reported beside the choice, never used for it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstmtune.selection import metrics
from lstmtune.selection.stats import best_set

MCS_ALPHA = 0.10


def windows(backtests: pd.DataFrame, history: pd.DataFrame, season: int) -> list[tuple[np.ndarray, np.float64]]:
    """Each backtest window, by cutoff: ``(its rows' positions in backtests, MASE's scale)``, the
    scale from the observations up to that cutoff (what every candidate's errors share).

    Where that scale is 0, every candidate's MASE would be inf or NaN and the choice would fall
    to the candidates' names: the window takes the naive (period 1) error up to its cutoff (a
    season repeated exactly), else the scale of the next window with one (a series constant
    until its cutoff, as before a product's launch), else 1 (the errors unscaled).
    :func:`scale_note` says which."""
    rows, scales, _ = _scales(backtests, history, season)
    return list(zip(rows, scales))


_FALLBACKS = {
    "naive": "scaled by the naive error (the seasonal naive's was 0 up to their cutoffs)",
    "later": "scaled as a later window (the series was constant up to their cutoffs)",
    "unscaled": "unscaled, the mean absolute error (the series was constant up to every cutoff)",
}


def scale_note(backtests: pd.DataFrame, history: pd.DataFrame, season: int) -> str | None:
    """What :func:`windows` did where a window's seasonal-naive scale was 0 (None: nothing)."""
    kinds = _scales(backtests, history, season)[2]
    said = [f"{kinds.count(k)} of {len(kinds)} backtest windows' MASE {why}" for k, why in _FALLBACKS.items() if k in kinds]
    return "; ".join(said) or None


ROUNDING = 64 * np.finfo(np.float64).eps
"""A MASE scale at most this fraction of the series' mean magnitude (64 units in the last place,
about 1.4e-14) is rounding, not error: a season repeated exactly in decimals that binary floats
cannot hold (10 sin(2 pi t / 12): a seasonal naive error of 9.7e-15, 1.5e-15 of its magnitude) is
scaled as one repeated exactly in whole numbers is (a probe: MASEs of 1.7e12 chose among forecasts
exact to 7e-14). Real variation, however small against the level (steps of 3 at 1e10, noise of
0.003 at 1e7), is far above it."""


def _negligible(scale: float, size: float) -> bool:
    return not scale > ROUNDING * size if size > 0 else not scale > 0


def _scales(backtests: pd.DataFrame, history: pd.DataFrame, season: int) -> tuple[list, list, list]:
    """``(rows, scale, kind)`` per window (:func:`windows`); kind ``seasonal`` (the scale as
    defined), or the fallback taken: ``naive``, ``later`` or ``unscaled``."""
    ds, y = history["ds"].to_numpy(), history["y"].to_numpy(dtype=np.float64)
    cuts = backtests.groupby("cutoff", sort=True).indices
    scales, kinds = [], []
    for cutoff in cuts:
        train = y[ds <= np.datetime64(cutoff)]
        m = season if len(train) > season else 1
        scale, kind = metrics.naive_scale(train, m), "seasonal"
        size = float(np.mean(np.abs(train))) if train.size else 0.0
        if m > 1 and _negligible(scale, size):
            scale, kind = metrics.naive_scale(train, 1), "naive"
        if _negligible(scale, size):
            scale = np.float64(0.0)
        scales.append(scale)
        kinds.append(kind)
    for k in reversed(range(len(scales))):  # constant up to the cutoff: the next window's scale, else 1
        if not scales[k] > 0:
            later = k + 1 < len(scales)
            scales[k], kinds[k] = (scales[k + 1], "later") if later and kinds[k + 1] != "unscaled" else (np.float64(1.0), "unscaled")
    return list(cuts.values()), scales, kinds


def scaled_errors(backtests: pd.DataFrame, history: pd.DataFrame, candidate: str, season: int,
                  by_window: list | None = None) -> tuple[np.ndarray, list[float]]:
    """``(per-observation |error| / scale, per-window MASE)`` of one candidate (``by_window``:
    :func:`windows`, computed once for many candidates)."""
    errors, per_window = [], []
    y = backtests["y"].to_numpy(dtype=np.float64)
    f = backtests[candidate].to_numpy(dtype=np.float64)
    for rows, scale in windows(backtests, history, season) if by_window is None else by_window:
        err = np.abs(y[rows] - f[rows])
        with np.errstate(divide="ignore", invalid="ignore"):
            errors.append(err / scale)
            per_window.append(float(metrics.mae(y[rows], f[rows]) / scale))  # metrics.mase with this scale
    return np.concatenate(errors), per_window


def leaderboard(backtests: pd.DataFrame, history: pd.DataFrame, candidates: dict[str, str], season: int, levels=(80, 95), mcs: bool = True) -> pd.DataFrame:
    """One row per candidate (``candidates``: name -> family): ``candidate, family, mase,
    smape, coverage_<level>..., in_mcs, chosen``, best first (``mcs=False``: the ranking
    only, ``in_mcs`` left False; the bootstrap of the model confidence set is its dearest part)."""
    rows, samples = [], {}
    y = backtests["y"].to_numpy(dtype=np.float64)
    by_window = windows(backtests, history, season)
    for name, family in candidates.items():
        if name not in backtests.columns or not np.isfinite(backtests[name].to_numpy(dtype=np.float64)).all():
            continue
        errs, per_window = scaled_errors(backtests, history, name, season, by_window)
        row = {"candidate": name, "family": family, "mase": float(np.mean(per_window)),
               "smape": float(np.mean(metrics.smape(y, backtests[name].to_numpy(dtype=np.float64))))}
        for level in levels:
            lo, hi = backtests.get(f"{name}-lo-{level}"), backtests.get(f"{name}-hi-{level}")
            row[f"coverage_{level}"] = float(np.mean((lo.to_numpy() <= y) & (y <= hi.to_numpy()))) if lo is not None and hi is not None else np.nan
        rows.append(row)
        samples[name] = errs
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    names = list(table["candidate"])
    usable = [n for n in names if np.isfinite(samples[n]).all()]
    in_set = {n: False for n in names}
    if mcs and len(usable) > 1:
        excluded, _ = best_set([samples[n] for n in usable], paired=True, alpha=MCS_ALPHA, seed=0)
        in_set.update({n: not bool(e) for n, e in zip(usable, excluded)})
    elif mcs and usable:
        in_set[usable[0]] = True
    table["in_mcs"] = table["candidate"].map(in_set)
    if mcs:  # the bootstrap kept some and dropped others of candidates equal to the best but for rounding (a probe)
        table["in_mcs"] = table["in_mcs"] | tied_with_best(table["mase"])
    # tied first, by sMAPE (exact ties were broken by the name: five flat forecasts of an
    # intermittent series' windows, a probe), then the others by MASE
    order = ranked(names, dict(zip(names, table["mase"])), dict(zip(names, table["smape"])))
    table = table.set_index("candidate", drop=False).loc[order].reset_index(drop=True)
    table["chosen"] = table.index == 0
    return table


def as_delivered(bt: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The backtests' forecasts and bounds as the final forecast delivers them: clipped at 0 in
    each window whose data up to its cutoff never went below 0, after the combinations are
    formed (a combination's mean is clipped, not its members: as
    :func:`lstmtune.auto.final.fit_chosen`'s tables and models); its members are picked on the
    values as delivered too (:func:`lstmtune.auto.combination.add_left_out`). The final forecast of such a series is clipped, and its candidates were
    scored unclipped: a network forecasting a little below 0 in the zeros of an intermittent
    series scored worse than it would deliver, and lost the choice (a probe: 0.835 against
    0.780 as delivered)."""
    ds = frame["ds"].to_numpy(dtype="datetime64[ns]")
    order = np.argsort(ds, kind="stable")
    ds, y = ds[order], frame["y"].to_numpy(dtype=np.float64)[order]
    lowest = np.fmin.accumulate(y)  # the lowest value up to each date
    at = np.searchsorted(ds, bt["cutoff"].to_numpy(dtype="datetime64[ns]"), side="right") - 1
    nonnegative = (at >= 0) & (lowest[np.clip(at, 0, None)] >= 0)
    if not nonnegative.any():
        return bt
    out = bt.copy()
    cols = [c for c in out.columns if c not in ("ds", "cutoff", "y", "unique_id")]
    out.loc[nonnegative, cols] = out.loc[nonnegative, cols].clip(lower=0.0)
    return out


TIE = 1e-9
"""Backtest MASEs within this of the best's (relative, and absolute below 1) tie with it: their
differences are rounding (``0.8739713774597495`` and ``...7497`` for one error, 0 and 4e-15)."""


def _ties(value, best):
    """Whether ``value`` ties with ``best`` (:data:`TIE`; NaN ties with nothing)."""
    return value <= best + TIE * max(1.0, abs(best))


def tied_with_best(mase: pd.Series) -> pd.Series:
    """Which candidates tie with the lowest backtest MASE (:data:`TIE`)."""
    return _ties(mase, float(mase.min()))


def ranked(names, mase: dict, smape: dict) -> list:
    """``names`` best first, as the leaderboard ranks them: those tied with the lowest MASE
    (:func:`tied_with_best`) by sMAPE, then the others by MASE; the name last. NaN last."""
    tied = tied_with_best(pd.Series({n: float(mase[n]) for n in names}, dtype=float))
    key = {n: float(mase[n]) if np.isfinite(mase[n]) else np.inf for n in names}
    return sorted(names, key=lambda n: (not bool(tied[n]), smape[n] if tied[n] else key[n], n))


def verdict(board: pd.DataFrame, notes=(), member: str | None = None, pool: list[str] | None = None) -> str:
    """The choice in words: which family is best, and whether an LSTM is worth it (``notes``:
    the series' notes, which say when the time budget left the LSTMs out; ``member``: the
    network of a chosen ``Combo(LSTM,StatsMedian)``, compared with it; ``pool``: the members of
    a chosen ``Pool(top3)``, which may hold LSTMs)."""
    said, gap_of = _verdict(board, notes, member, pool)
    if gap_of is not None and not gap_of > NEGLIGIBLE:  # a gap stated against a best of (about) 0
        about = "0" if not gap_of > 0 else f"about 0 ({gap_of:.2g})"
        said += f" (the best's backtest MASE is {about}: the gap is a difference of MASE, not a percentage)"
    if not board.empty:
        tied = board[tied_with_best(board["mase"])]
        if len(tied) > 1:
            same = _ties(tied["smape"].iloc[1:], tied["smape"].iloc[0])
            said += f"; it ties on backtest MASE with {', '.join(map(str, tied['candidate'].iloc[1:]))}, " + (
                f"and on sMAPE too with {', '.join(map(str, tied['candidate'].iloc[1:][same]))}: chosen by name" if same.any()
                else "and has the lowest sMAPE of them")
    return said


NEGLIGIBLE = 1e-6
"""A backtest MASE below this is taken as no error when a gap to it is said: a ratio to it is
no measure (a discontinued product's zeros forecast as 1e-24 made "better by
27850278417598446378680320%": a probe)."""


def _verdict(board: pd.DataFrame, notes, member: str | None = None, pool: list[str] | None = None) -> tuple[str, float | None]:
    """The verdict's words, and the best MASE where they state a gap to it (else None)."""
    if board.empty:
        return "no candidate could be scored", None
    best = board.iloc[0]
    lstm = board[board["family"].isin(("lstm", "hybrid"))]
    others = board[~board["family"].isin(("lstm", "hybrid"))]
    if lstm.empty:
        why = (": the time budget was spent" if any(BUDGET_NOTE in str(n) for n in notes)
               else ": the time budget would not allow them" if any(str(n).startswith(BUDGET_UPFRONT) for n in notes) else "")
        return f"{best['candidate']} is best (no LSTM candidate was scored{why})", None
    top_lstm = lstm.iloc[0]
    if best["family"] in ("lstm", "hybrid"):
        if others.empty:
            return f"the LSTM ensemble {best['candidate']} is best", None
        stats = others[others["family"] == "stats"]
        if stats.empty:  # combinations alone beside the networks
            rival = others.iloc[0]
            if bool(rival["in_mcs"]) or _gap(rival["mase"], best["mase"]) == "no":
                return f"the LSTM ensemble {best['candidate']} is best, but indistinguishable from {rival['candidate']} on these backtests", None
            return f"the LSTM ensemble {best['candidate']} is best: {rival['candidate']}'s backtest MASE is {_gap(rival['mase'], best['mase'])} higher", best["mase"]
        # against the best statistical model, the question the verdict answers (a combination
        # holding the same network, the first other before, said nothing of it: a review)
        rival = stats.iloc[0]
        gap = _gap(rival["mase"], best["mase"])
        if bool(rival["in_mcs"]) or gap == "no":
            return (f"the LSTM ensemble {best['candidate']} is best, but indistinguishable on these backtests from the best statistical "
                    f"model, {rival['candidate']} ({_higher(gap)})"), None if gap == "no" else best["mase"]
        return f"the LSTM ensemble {best['candidate']} is best: the best statistical model, {rival['candidate']}, has {gap} higher backtest MASE", best["mase"]
    gap = _gap(top_lstm["mase"], best["mase"])
    if best["family"] == "combo" and str(best["candidate"]).startswith("Combo("):
        alone = board[board["candidate"] == member].iloc[0] if member is not None and (board["candidate"] == member).any() else top_lstm
        return (f"the combination {best['candidate']} is best (an LSTM averaged with the statistical models' median); the LSTM alone "
                f"({alone['candidate']}) has {_higher(_gap(alone['mase'], best['mase']))}"), best["mase"]
    nets = board[board["candidate"].isin(pool or ()) & board["family"].isin(("lstm", "hybrid"))]
    if best["family"] == "combo" and not nets.empty:  # a pool with LSTMs among its members: not "an LSTM is not worth it"
        some = f"{len(nets)} of them LSTM{'s' if len(nets) > 1 else ''}"
        return (f"the pool {best['candidate']} is best, the mean of {', '.join(pool)} ({some}); the best LSTM candidate "
                f"({top_lstm['candidate']}) has {_higher(gap)}"), best["mase"]
    if bool(top_lstm["in_mcs"]) or gap == "no":
        return (f"{best['candidate']} is best; the LSTM ({top_lstm['candidate']}) is indistinguishable from it on these backtests ({_higher(gap)})",
                None if gap == "no" else best["mase"])
    return f"{best['candidate']} is better than the best LSTM by {gap}: forecasts are {best['candidate']}'s (an LSTM is not worth it here)", best["mase"]


def _higher(gap: str) -> str:
    """``"18% higher MASE"``, or ``"the same MASE"`` for a tie (:func:`_gap`'s ``"no"``)."""
    return "the same MASE" if gap == "no" else f"{gap} higher MASE"


def _gap(worse: float, best: float) -> str:
    """How much higher ``worse`` is than ``best``: ``"18%"``, ``"1.5%"`` below 10% (not ``"0%"``
    for a gap of 0.4%), ``"less than 0.1%"``; against a best of 0 (no backtest error) no ratio
    exists: the difference itself (:func:`verdict` says so)."""
    if _ties(worse, best):  # a tie (:func:`tied_with_best`), not "4.31e-15 better": a probe
        return "no"
    if not best > NEGLIGIBLE:
        return f"{worse - best:.3g}"
    pct = 100 * (worse / best - 1)
    return f"{pct:.0f}%" if pct >= 9.5 else f"{pct:.1f}%" if pct >= 0.05 else "less than 0.1%"


BUDGET_NOTE = "left out: the time budget was spent"
LSTMS_SPENT = f"LSTM and hybrid candidates {BUDGET_NOTE}"
"""A series' note where the budget was spent before its LSTM and hybrid candidates trained."""
BUDGET_UPFRONT = "time budget: LSTM candidates left out"
"""How a note begins where the time budget left the LSTMs out before any training (it goes on
with the seconds expected and left)."""
STATS_UPFRONT = "time budget: AutoARIMA left out"
"""How a note begins where the time budget left AutoARIMA out of a series' statistical models
(its fits alone would not have fitted the budget; it goes on with the seconds expected and left)."""


def panel_summary(board: pd.DataFrame, worst: int = 5) -> dict[str, pd.DataFrame]:
    """What a panel's leaderboard says at a glance (computed here, drawn by the report):

    - ``status``: series per status (ok, fallback, constant, skipped);
    - ``families``: per family of the chosen candidates, the series it forecasts and the
      median and mean backtest MASE of those choices;
    - ``worst``: the ``worst`` series whose chosen candidate has the highest backtest MASE;
    - ``budget``: the series whose LSTM candidates were left out because the time budget was spent;
    - ``budget_stats``: the series whose AutoARIMA the time budget left out.
    """
    if board.empty:
        empty = pd.DataFrame()
        return {"status": empty, "families": empty, "worst": empty, "budget": empty, "budget_stats": empty}
    per_series = board.drop_duplicates("unique_id")
    status = per_series["status"].value_counts().rename_axis("status").reset_index(name="series")
    chosen = board[(board["status"] == "ok") & (board["chosen"] == True)]  # noqa: E712 - a column of booleans (NaN where absent)
    families = (chosen.groupby("family")["mase"].agg(series="size", median_mase="median", mean_mase="mean").reset_index().sort_values("series", ascending=False)
                if not chosen.empty else pd.DataFrame(columns=["family", "series", "median_mase", "mean_mase"]))
    bad = chosen.sort_values("mase", ascending=False).head(worst)[["unique_id", "candidate", "mase"]]
    reasons = per_series["reason"].fillna("").astype(str)
    budget = per_series.loc[reasons.str.contains(BUDGET_NOTE, regex=False) | reasons.str.contains(BUDGET_UPFRONT, regex=False), ["unique_id"]]
    budget_stats = per_series.loc[reasons.str.contains(STATS_UPFRONT, regex=False), ["unique_id"]]
    return {"status": status, "families": families.reset_index(drop=True), "worst": bad.reset_index(drop=True), "budget": budget.reset_index(drop=True),
            "budget_stats": budget_stats.reset_index(drop=True)}


__all__ = ["BUDGET_NOTE", "BUDGET_UPFRONT", "LSTMS_SPENT", "STATS_UPFRONT", "TIE", "panel_summary", "MCS_ALPHA", "leaderboard", "as_delivered", "ranked", "scaled_errors", "tied_with_best", "verdict", "windows"]
