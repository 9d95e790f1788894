"""The combinations whose members are chosen (``Ensemble(LSTM,DirectLSTM)``,
``Combo(LSTM,StatsMedian)``, the pools) are backtested leaving one window out: in each window,
their members are the best on the *other* windows. Before, the pair's and the combination's
members were chosen on every window, then scored on those same windows (selected on the points
they were scored on)."""

import numpy as np
import pandas as pd

from lstmtune.auto import backtests, combination, lstm
from lstmtune.data import panel

H = 6
# Per window (three windows, earliest first), the error each network makes at every step:
# "LSTM(a)" is best on every window but the last, where it is far off; "LSTM(b)" is the best
# over all three windows. On the last window, the best on the *other* windows is LSTM(a).
ERRORS = {"LSTM(a)": (1.0, 1.0, 40.0), "LSTM(b)": (8.0, 8.0, 8.0), "DirectLSTM(a)": (2.0, 2.0, 30.0), "DirectLSTM(b)": (9.0, 9.0, 9.0)}


def _frame():
    rng = np.random.default_rng(3)
    n = 72
    y = 200 + 20 * np.sin(2 * np.pi * np.arange(n) / 12) + np.cumsum(rng.normal(0, 3, n))
    return pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2010-01-01", periods=n, freq="MS"), "y": y})


def _scored(monkeypatch, families):
    frame = _frame()
    cutoffs = backtests.cutoffs_of(frame, H, 3)

    def fake_backtest(frame, cutoffs, horizon, name, *args, **kwargs):  # the networks' forecasts: the truth plus a set error
        parts = []
        for k, c in enumerate(cutoffs):
            future = frame[frame["ds"] > c].head(horizon)
            f = future["y"].to_numpy() + ERRORS[name][k]
            part = pd.DataFrame({"ds": future["ds"].to_numpy(), "cutoff": c, name: f, f"{name}-median": f})
            for level in (80, 95):
                part[f"{name}-lo-{level}"], part[f"{name}-hi-{level}"] = f - level, f + level
            parts.append(part)
        return pd.concat(parts, ignore_index=True), np.zeros(1)

    monkeypatch.setattr(lstm, "backtest", fake_backtest)
    plan = backtests.Plan(cutoffs, ("AutoTheta", "SeasonalNaive"), [(name, None, None, "lstm") for name in ERRORS])
    verdict = panel.Verdict("ok", freq="MS", season=12)
    return frame, cutoffs, backtests.score_series("s", frame, verdict, H, families, lstm.Settings(), plan, lambda _: None)


def test_the_pair_and_the_combination_are_made_of_the_members_best_on_the_other_windows(monkeypatch):
    frame, cutoffs, sc = _scored(monkeypatch, ("lstm", "stats", "combo"))
    bt = sc.backtests
    # windows 1 and 2: the (b) networks are best on the other windows (LSTM(a)'s 40 is among them);
    # window 3: the (a) networks (1 and 2 against 8 and 9 on windows 1 and 2)
    for cutoff, (rec, dire) in zip(cutoffs, [("LSTM(b)", "DirectLSTM(b)")] * 2 + [("LSTM(a)", "DirectLSTM(a)")]):
        w = bt[bt["cutoff"] == cutoff]
        np.testing.assert_allclose(w[combination.LSTM_PAIR], (w[rec] + w[dire]) / 2, rtol=1e-12)
        np.testing.assert_allclose(w[combination.COMBO], (w[rec] + w[combination.STATS_MEDIAN]) / 2, rtol=1e-12)
    # over all three windows the (b) networks are best: the final forecast's members
    assert combination.pair(sc.board) == ("LSTM(b)", "DirectLSTM(b)")
    assert combination.combo_member(sc.board) == "LSTM(b)"


def test_a_windows_own_outcome_never_picks_the_members_it_is_scored_with(monkeypatch):
    # The last window's outcome changed so that the (a) networks become best over every window:
    # its members stay the (a) networks, chosen on the two other windows only.
    runs = [_scored(monkeypatch, ("lstm",))[2]]
    monkeypatch.setitem(ERRORS, "LSTM(a)", (1.0, 1.0, 2.0))
    monkeypatch.setitem(ERRORS, "DirectLSTM(a)", (2.0, 2.0, 3.0))
    runs.append(_scored(monkeypatch, ("lstm",))[2])
    assert [combination.pair(sc.board) for sc in runs] == [("LSTM(b)", "DirectLSTM(b)"), ("LSTM(a)", "DirectLSTM(a)")]
    for sc in runs:
        last = sc.backtests[sc.backtests["cutoff"] == sc.backtests["cutoff"].max()]
        np.testing.assert_allclose(last[combination.LSTM_PAIR], (last["LSTM(a)"] + last["DirectLSTM(a)"]) / 2, rtol=1e-12)


def test_with_one_window_no_combination_with_chosen_members_is_backtested(monkeypatch):
    frame = _frame()
    cutoffs = backtests.cutoffs_of(frame, H, 1)
    monkeypatch.setattr(lstm, "backtest", lambda frame, cutoffs, horizon, name, *a, **k: _one(frame, cutoffs, horizon, name))
    plan = backtests.Plan(cutoffs, ("AutoTheta", "SeasonalNaive"), [(name, None, None, "lstm") for name in ERRORS])
    sc = backtests.score_series("s", frame, panel.Verdict("ok", freq="MS", season=12), H, ("lstm", "stats", "combo"), lstm.Settings(), plan, lambda _: None)
    names = set(sc.board["candidate"])
    assert combination.STATS_MEDIAN in names  # no member chosen: still there
    assert not names & {combination.LSTM_PAIR, combination.COMBO, combination.POOL, combination.POOL_LSTM}


def _one(frame, cutoffs, horizon, name):
    c = cutoffs[0]
    future = frame[frame["ds"] > c].head(horizon)
    f = future["y"].to_numpy() + ERRORS[name][0]
    part = pd.DataFrame({"ds": future["ds"].to_numpy(), "cutoff": c, name: f, f"{name}-median": f})
    for level in (80, 95):
        part[f"{name}-lo-{level}"], part[f"{name}-hi-{level}"] = f - level, f + level
    return part, np.zeros(1)
