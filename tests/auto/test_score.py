"""MASE's scale on the leaderboard where the seasonal naive's in-sample error is 0: before, every
candidate's MASE was inf or NaN there and the leaderboard's sort fell to the candidates' names
(AutoARIMA chose itself on a product launched late; an exact seasonal forecaster ranked below
inexact ones)."""

import numpy as np
import pandas as pd
import pytest

from lstmtune.auto import score
from lstmtune.auto.run import auto


def _backtests(y: np.ndarray, ds: pd.DatetimeIndex, cut_at: list[int], h: int, forecasts: dict[str, np.ndarray]) -> pd.DataFrame:
    parts = []
    for k, c in enumerate(cut_at):
        part = pd.DataFrame({"ds": ds[c + 1:c + 1 + h], "cutoff": ds[c], "y": y[c + 1:c + 1 + h]})
        for name, f in forecasts.items():
            part[name] = f[k]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _scale(x, m):
    return np.mean(np.abs(x[m:] - x[:-m]))


def _history(y):
    ds = pd.date_range("2015-01-01", periods=len(y), freq="MS")
    return pd.DataFrame({"ds": ds, "y": y}), ds


def test_a_series_constant_before_its_first_cutoff_is_scaled_as_its_later_window():
    rng = np.random.default_rng(15)
    y = np.r_[np.zeros(49), np.round(50 + rng.normal(0, 8, 11))]
    history, ds = _history(y)
    h = 5
    actual = [y[49:54], y[55:60]]
    # "Zeta" errs by 1 everywhere, "Alpha" by 3: the choice must not go by name
    bt = _backtests(y, ds, [48, 54], h, {"Alpha": [a + 3 for a in actual], "Zeta": [a - 1 for a in actual]})
    board = score.leaderboard(bt, history, {"Alpha": "stats", "Zeta": "stats"}, 12)
    assert np.isfinite(board["mase"]).all()
    assert board.iloc[0]["candidate"] == "Zeta" and board.iloc[0]["chosen"]
    scale = _scale(y[:55], 12)  # the second window's, shared by the first
    got = board.set_index("candidate")["mase"]
    np.testing.assert_allclose([got["Alpha"], got["Zeta"]], [3 / scale, 1 / scale], rtol=1e-12)
    assert score.scale_note(bt, history, 12) == "1 of 2 backtest windows' MASE scaled as a later window (the series was constant up to their cutoffs)"


def test_an_exactly_repeated_season_is_scaled_by_the_naive_error():
    y = np.tile(np.arange(12.0), 5)
    history, ds = _history(y)
    actual = [y[49:55], y[55:60]]
    bt = _backtests(y, ds, [48, 54], 6, {"Alpha": [a + 0.5 for a in actual], "SeasonalNaive": actual})
    board = score.leaderboard(bt, history, {"Alpha": "stats", "SeasonalNaive": "stats"}, 12)
    assert list(board["candidate"]) == ["SeasonalNaive", "Alpha"] and list(board["mase"].round(12)) == [0.0, pytest.approx((0.5 / _scale(y[:49], 1) + 0.5 / _scale(y[:55], 1)) / 2, rel=1e-12)]
    assert "2 of 2 backtest windows' MASE scaled by the naive error" in score.scale_note(bt, history, 12)
    gap = board.iloc[1]["mase"]
    assert score.verdict(board.assign(family=["stats", "lstm"])) == (f"SeasonalNaive is better than the best LSTM by {gap:.3g}: forecasts are SeasonalNaive's (an LSTM is not worth it here)"
                                                                     " (the best's backtest MASE is 0: the gap is a difference of MASE, not a percentage)")
    # where no gap is stated, nothing is said of one
    assert score.verdict(board.assign(family=["stats", "stats"])) == "SeasonalNaive is best (no LSTM candidate was scored)"
    assert score.verdict(board.assign(family=["lstm", "combo"], in_mcs=True)) == "the LSTM ensemble SeasonalNaive is best, but indistinguishable from Alpha on these backtests"


def test_a_gap_to_a_backtest_mase_of_about_zero_is_a_difference_not_a_percentage():
    """A discontinued product's zeros forecast as 1e-24 made "AutoETS is better than the best
    LSTM by 27850278417598446378680320%" (a probe)."""
    board = pd.DataFrame({"candidate": ["AutoETS", "L"], "family": ["stats", "lstm"], "mase": [1.8485986678182594e-24, 0.515], "in_mcs": [True, False]})
    said = score.verdict(board)
    assert said == ("AutoETS is better than the best LSTM by 0.515: forecasts are AutoETS's (an LSTM is not worth it here)"
                    " (the best's backtest MASE is about 0 (1.8e-24): the gap is a difference of MASE, not a percentage)")
    assert "%" not in said and score.verdict(board.assign(mase=[0.5, 0.6])).startswith("AutoETS is better than the best LSTM by 20%")


def test_an_lstms_verdict_names_the_best_statistical_model_not_a_combination_holding_it():
    """"the LSTM ensemble L is best, but indistinguishable from Combo(LSTM,StatsMedian)" (a
    combination holding L) said nothing of L against the statistical models (a review)."""
    board = pd.DataFrame({"candidate": ["L", "Combo(LSTM,StatsMedian)", "AutoETS", "SeasonalNaive"], "family": ["lstm", "combo", "stats", "stats"],
                          "mase": [0.647, 0.66, 0.785, 0.9], "in_mcs": [True, True, True, False]})
    assert score.verdict(board) == "the LSTM ensemble L is best, but indistinguishable on these backtests from the best statistical model, AutoETS (21% higher MASE)"
    assert score.verdict(board.assign(in_mcs=[True, True, False, False])) == "the LSTM ensemble L is best: the best statistical model, AutoETS, has 21% higher backtest MASE"


def test_a_season_repeated_exactly_in_decimals_is_scaled_by_the_naive_error_too():
    """10 sin(2 pi t / 12) repeats exactly but for rounding (a seasonal naive error of 9.7e-15):
    MASEs were ratios of rounding (an exact SeasonalNaive 1.8, a network 1.7e12; a probe)."""
    y = 10 * np.sin(2 * np.pi * np.arange(60) / 12)
    history, ds = _history(y)
    assert 0 < _scale(y[:49], 12) < 1e-13
    actual = [y[49:55], y[55:60]]
    bt = _backtests(y, ds, [48, 54], 6, {"Alpha": [a + 0.5 for a in actual], "SeasonalNaive": [y[37:43], y[43:48]]})
    board = score.leaderboard(bt, history, {"Alpha": "stats", "SeasonalNaive": "stats"}, 12).set_index("candidate")
    assert board.loc["SeasonalNaive", "mase"] < 1e-13 and board.loc["SeasonalNaive", "chosen"]
    assert board.loc["Alpha", "mase"] == pytest.approx((0.5 / _scale(y[:49], 1) + 0.5 / _scale(y[:55], 1)) / 2, rel=1e-12)
    assert "2 of 2 backtest windows' MASE scaled by the naive error" in score.scale_note(bt, history, 12)


def test_real_variation_small_against_a_high_level_is_not_rounding():
    """Steps of about 3 at a level of 1e10, noise of 0.003 at 1e7: errors, scaled as defined (a
    first rounding rule, 1e-9 of the level, called them constant; a review)."""
    rng = np.random.default_rng(0)
    for y in (1e10 + np.cumsum(rng.normal(0, 3, 60)), 1e7 + 100 * np.sin(2 * np.pi * np.arange(60) / 12) + rng.normal(0, 0.003, 60)):
        history, ds = _history(y)
        bt = _backtests(y, ds, [48, 54], 5, {"Alpha": [y[49:54] + 1, y[55:60] + 1]})
        _, scales, kinds = score._scales(bt, history, 12)
        assert kinds == ["seasonal", "seasonal"] and scales == [_scale(y[:49], 12), _scale(y[:55], 12)]
        assert score.scale_note(bt, history, 12) is None


def test_a_series_constant_up_to_every_cutoff_is_scored_unscaled():
    y = np.r_[np.full(55, 7.0), [9.0, 8.0, 7.0, 6.0, 5.0]]
    history, ds = _history(y)
    bt = _backtests(y, ds, [48, 54], 5, {"Alpha": [y[49:54] + 2, y[55:60] + 2], "Zeta": [y[49:54] + 1, y[55:60] - 1]})
    board = score.leaderboard(bt, history, {"Alpha": "stats", "Zeta": "stats"}, 12)
    assert board.set_index("candidate")["mase"].to_dict() == {"Alpha": 2.0, "Zeta": 1.0}  # the mean absolute errors
    assert "2 of 2 backtest windows' MASE unscaled" in score.scale_note(bt, history, 12)


def test_well_scaled_windows_are_untouched():
    rng = np.random.default_rng(3)
    y = 100 + np.cumsum(rng.normal(0, 1, 60))
    history, ds = _history(y)
    bt = _backtests(y, ds, [48, 54], 5, {"A": [y[49:54] + 1, y[55:60] + 1]})
    got = [s for _, s in score.windows(bt, history, 12)]
    assert got == [_scale(y[:49], 12), _scale(y[:55], 12)]
    assert score.scale_note(bt, history, 12) is None


def test_auto_on_a_product_launched_late_chooses_on_the_scaled_window_and_says_so(no_arima):
    rng = np.random.default_rng(15)
    y = np.r_[np.zeros(49), np.round(50 + rng.normal(0, 8, 11))]
    frame = pd.DataFrame({"unique_id": "launch", "ds": pd.date_range("2015-01-01", periods=60, freq="MS"), "y": y})
    r = auto(frame, 6, candidates=("stats", "combo"))
    board = r.leaderboard[r.leaderboard["status"] == "ok"]
    assert np.isfinite(board["mase"].astype(float)).all()
    assert (board.sort_values("mase").iloc[0]["candidate"] == board[board["chosen"]]["candidate"]).all()
    assert "backtest windows' MASE scaled as a later window" in board["reason"].iloc[0]



def test_a_pool_with_lstms_among_its_members_is_not_called_a_win_without_an_lstm():
    """A chosen Pool(top3) read "... (an LSTM is not worth it here)" when two of its three
    members were LSTMs; a gap of 0.4% read "by 0%" (found by a report probe)."""
    board = pd.DataFrame({"candidate": ["Pool(top3)", "LSTM(d=12,lags=12)", "AutoETS", "LSTM(boxcox,d=12,lags=12)", "AutoARIMA"],
                          "family": ["combo", "lstm", "stats", "lstm", "stats"],
                          "mase": [0.50, 0.502, 0.55, 0.56, 0.6], "in_mcs": [True, False, False, False, False]})
    pool = ["LSTM(d=12,lags=12)", "AutoETS", "LSTM(boxcox,d=12,lags=12)"]
    said = score.verdict(board, member=None, pool=pool)
    assert said == ("the pool Pool(top3) is best, the mean of LSTM(d=12,lags=12), AutoETS, LSTM(boxcox,d=12,lags=12) (2 of them LSTMs); "
                    "the best LSTM candidate (LSTM(d=12,lags=12)) has 0.4% higher MASE")
    assert "not worth it" in score.verdict(board, pool=["AutoETS", "AutoARIMA", "AutoTheta"])  # a pool of statistical models only
    assert score._gap(1.18, 1.0) == "18%" and score._gap(1.004, 1.0) == "0.4%" and score._gap(1.0001, 1.0) == "less than 0.1%"


def test_candidates_tied_on_mase_are_ranked_by_smape_kept_in_the_set_and_said():
    """Five flat forecasts between an intermittent series' zeros and positives had the same MASE
    (0.8739713774597495, AutoTheta's 2e-16 more): the name chose AutoARIMA, the verdict said
    nothing of a tie, and "better than the best LSTM by 4.31e-15" was said of rounding, the
    model confidence set dropping some of the tied and keeping others (a probe)."""
    y = np.r_[np.tile([0.0, 5.0], 30)]
    history, ds = _history(y)
    actual = [y[49:55], y[54:60]]
    flat = lambda v: [np.full(len(a), v) for a in actual]  # noqa: E731  every flat forecast in [0, 5] has the same absolute errors here
    bt = _backtests(y, ds, [48, 53], 6, {"AutoARIMA": flat(2.0), "Croston": flat(3.0), "LSTM": [a + 4.0 for a in actual]})
    board = score.leaderboard(bt, history, {"AutoARIMA": "stats", "Croston": "stats", "LSTM": "lstm"}, 12)
    got = board.set_index("candidate")
    assert got.loc["AutoARIMA", "mase"] == pytest.approx(got.loc["Croston", "mase"], rel=1e-12)
    assert got.loc["Croston", "smape"] < got.loc["AutoARIMA", "smape"]
    assert list(board["candidate"][:2]) == ["Croston", "AutoARIMA"] and board.iloc[0]["chosen"]  # by sMAPE, not by name
    assert got.loc["AutoARIMA", "in_mcs"]
    assert score.verdict(board).endswith("; it ties on backtest MASE with AutoARIMA, and has the lowest sMAPE of them")
    rounding = pd.DataFrame({"candidate": ["AutoARIMA", "Hybrid"], "family": ["stats", "hybrid"], "mase": [0.0, 4.3e-15], "smape": [0.0, 6e-14], "in_mcs": [True, False]})
    said = score.verdict(rounding)
    assert "better than" not in said and "is indistinguishable from it on these backtests (the same MASE)" in said, said


def test_backtests_are_scored_as_the_forecast_is_delivered_clipped_at_zero():
    """A series that never went below 0 is forecast clipped at 0, but its candidates' backtests
    were scored unclipped: a network a little below 0 in an intermittent series' zeros scored
    0.835 where it delivers 0.780, and lost the choice (a probe). Each window is clipped where
    the data up to its cutoff never went below 0, as a forecast made then would be."""
    from lstmtune.auto.score import as_delivered

    y = np.r_[np.tile([0.0, 4.0, 0.0, 2.0], 13), [-1.0], np.tile([0.0, 4.0], 4)][:60]
    history, ds = _history(y)
    assert y[:49].min() >= 0 and y[:55].min() < 0  # the second window's history went below 0
    actual = [y[49:55], y[55:60]]
    bt = _backtests(y, ds, [48, 54], 6, {"L": [a - 0.5 for a in actual], "S": [np.full(len(a), 1.0) for a in actual]})
    bt["L-lo-80"], bt["L-hi-80"] = bt["L"] - 1.0, bt["L"] + 1.0
    got = as_delivered(bt, history)
    first, second = got["cutoff"] == ds[48], got["cutoff"] == ds[54]
    np.testing.assert_array_equal(got.loc[first, "L"], np.maximum(bt.loc[first, "L"], 0.0))
    np.testing.assert_array_equal(got.loc[first, "L-lo-80"], np.maximum(bt.loc[first, "L-lo-80"], 0.0))
    pd.testing.assert_frame_equal(got[second], bt[second])  # a forecast made after a value below 0 is not clipped
    pd.testing.assert_series_equal(got["y"], bt["y"])
    assert (bt.loc[first, "L"] < 0).any()  # the case itself


def test_a_combination_picks_its_members_as_the_leaderboard_ranks_them_delivered():
    """A combination's members were ranked on the unclipped backtests while the final forecast's
    come from the leaderboard, which scores them as delivered (clipped at 0): the pool or pair
    backtested could differ from the one delivered (a review)."""
    from lstmtune.auto import combination

    y = np.tile([0.0, 4.0], 30)
    history, ds = _history(y)
    actual = [y[49:55], y[54:60]]
    # A: 1 below everywhere (clipped: no error in the zeros); B: 0.7 above everywhere
    bt = _backtests(y, ds, [48, 53], 6, {"A": [a - 1.0 for a in actual], "B": [a + 0.7 for a in actual]})
    board = score.leaderboard(score.as_delivered(bt, history), history, {"A": "stats", "B": "stats"}, 12)  # as score_series scores them
    assert board.iloc[0]["candidate"] == "A"  # as delivered A errs 0.5 on average, B 0.7 (unclipped: 1.0 against 0.7)
    assert combination.add_left_out(bt, history, {"A": "", "B": ""}, "Best", "mean", lambda ranked: [ranked[0][0]], 12, levels=())
    np.testing.assert_array_equal(bt["Best"], bt["A"])  # the member the leaderboard would pick, in every window


def test_ranked_puts_the_ties_with_the_best_first_by_smape():
    assert score.ranked(["a", "b", "c", "d"], {"a": 1.0, "b": 1.0 + 1e-15, "c": 0.9, "d": np.nan}, {"a": 5.0, "b": 1.0, "c": 9.0, "d": 0.0}) == ["c", "a", "b", "d"]
    assert score.ranked(["a", "b", "c"], {"a": 0.5, "b": 0.5, "c": 0.7}, {"a": 2.0, "b": 1.0, "c": 0.0}) == ["b", "a", "c"]


def test_backtests_columns_come_per_candidate_in_statsforecasts_order():
    """Each model's bounds came in another order (AutoETS lo-95 first, AutoTheta lo-80 first;
    a probe): per candidate now, the point, the lower bounds widest first, the upper narrowest first."""
    from lstmtune.auto import backtests

    given = ["B", "B-lo-80", "B-hi-80", "B-lo-95", "B-hi-95", "A", "A-lo-80", "A-lo-95", "A-hi-80", "A-hi-95"]
    assert sorted(given, key=backtests._column_order(given)) == ["B", "B-lo-95", "B-lo-80", "B-hi-80", "B-hi-95", "A", "A-lo-95", "A-lo-80", "A-hi-80", "A-hi-95"]
