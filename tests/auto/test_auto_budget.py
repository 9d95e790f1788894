"""auto's time budget: the LSTM candidates train fewer epochs, then fewer seeds, when the full
settings are not expected to fit what is left of it (lstmtune.auto.cost.within), and every
series says so; estimates as lstmtune plan makes them."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from lstmtune.auto import cost, lstm, score
from lstmtune.auto import run as auto_run
from lstmtune.auto import together


def _monthly(uid, n, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, n)
    return pd.DataFrame({"unique_id": uid, "ds": pd.date_range("2010-01-01", periods=n, freq="MS"), "y": y})


def _items(settings, candidates=("lstm", "stats")):
    out = []
    for uid, n in (("a", 60), ("b", 84)):
        v, frame, plan, err = auto_run._prepare(_monthly(uid, n, 7), 6, None, None, "error", candidates, settings, 2)
        assert err is None and plan is not None
        out.append((frame, plan))
    return out


def test_the_settings_that_fit_are_the_first_step_down_whose_estimate_fits():
    settings = lstm.Settings()
    items = _items(settings)
    full = cost.seconds(items, 6, settings, cores=2)
    assert cost.within(items, 6, settings, full + 1, cores=2) == settings  # they fit: unchanged
    tried = [dataclasses.replace(settings, seeds=max(1, round(settings.seeds * a)), epochs=max(1, round(settings.epochs * b))) for a, b in cost.LADDER]
    budget = cost.stat_seconds(items) / 2 + 0.5 * (full - cost.stat_seconds(items) / 2)  # half the LSTMs' share
    got = cost.within(items, 6, settings, budget, cores=2)
    k = tried.index(got)
    assert cost.seconds(items, 6, got, cores=2) <= budget
    assert all(cost.seconds(items, 6, t, cores=2) > budget for t in tried[:k])  # every step before it was too dear
    assert (got.seeds, got.epochs) < (settings.seeds, settings.epochs) or got.epochs < settings.epochs
    assert cost.within(items, 6, settings, cost.stat_seconds(items) / 2 * 0.5, cores=2) is None  # not even the statistical fits fit


def test_the_estimate_is_the_plans():
    from lstmtune.auto import plan as plan_mod

    settings = lstm.Settings()
    data = pd.concat([_monthly("a", 60, 7), _monthly("b", 84, 7)])
    p = plan_mod.plan(data, 6, settings=settings, candidates=("lstm", "stats"))
    items = _items(settings)
    assert p.steps == cost.steps(items, 6, settings)
    assert p.seconds == pytest.approx(plan_mod.START_SECONDS + plan_mod.NETWORK_START_SECONDS + cost.seconds(items, 6, settings, __import__("os").cpu_count() or 1))
    # a run that trains no network imports no JAX: its start is counted without it (a probe: 6 s
    # planned for five series on a fallback, 2.1 s measured)
    short = pd.concat([_monthly(f"f{k}", 10, k) for k in range(5)])
    fallback = plan_mod.plan(short, 4, settings=settings)
    assert fallback.networks == 0 and fallback.seconds == pytest.approx(plan_mod.START_SECONDS + cost.SERIES_SECONDS * 5)


@pytest.mark.slow  # trains LSTM ensembles
def test_a_budget_the_full_settings_would_overrun_trains_fewer_epochs_and_says_so(monkeypatch):
    settings = lstm.Settings(epochs=30, seeds=3)
    data = _monthly("a", 60, 7)
    v, frame, plan, _ = auto_run._prepare(data, 6, None, None, "error", ("lstm",), settings, 2)
    steps = cost.steps([(frame, plan)], 6, settings)
    # pretend a step is slow: the full settings are expected to take 200 s, two thirds of the epochs 133 s
    monkeypatch.setattr(cost, "SECONDS_PER_STEP", (200 - cost.SERIES_SECONDS) / steps)
    r = auto_run.auto(data, 6, candidates=("lstm",), settings=settings, time_budget=150 / auto_run.BUDGET_SHARE)  # fitted to 150 s
    board = r.leaderboard
    assert board["reason"].str.contains("trained with 3 seeds x 20 epochs instead of 3 x 30", regex=False).all()
    # the allowance the estimate was set against, not all that was left ("expected about 27 s
    # against 29 s left" read as if the full settings fitted: a probe)
    assert board["reason"].str.contains(r"\(expected about 200 s against 1\d\d s, 80% of the 1\d\d s left of --time-budget 187.5 s\)").all(), board["reason"].iloc[0]
    assert (board["family"] == "lstm").any() and board["mase"].notna().all()  # trained, not left out
    unhurried = auto_run.auto(data, 6, candidates=("lstm",), settings=settings, time_budget=1000)
    assert (unhurried.leaderboard["family"] == "lstm").any()
    assert not unhurried.leaderboard["reason"].fillna("").str.contains("time budget").any()
    fewer = auto_run.auto(data, 6, candidates=("lstm",), settings=dataclasses.replace(settings, epochs=20))
    pd.testing.assert_frame_equal(r.forecasts, fewer.forecasts)  # what 20 epochs give, exactly


def test_a_budget_not_even_the_fewest_seeds_and_epochs_fit_trains_no_lstm_and_says_so(monkeypatch, no_arima):
    """Before, the full settings trained when no step of the ladder fitted: a 4 s budget ran
    20 s, as long as no budget (the deadline is looked at between trainings, not within one)."""
    settings = lstm.Settings(epochs=30, seeds=3, space="full")
    data = pd.concat([_monthly("a", 60, 7), _monthly("b", 72, 8)])
    monkeypatch.setattr(cost, "SECONDS_PER_STEP", 1.0)  # every step down would take hours
    monkeypatch.setattr(together, "prefit", lambda *a, **k: pytest.fail("an LSTM backtest was trained"))
    real_finals = together.final_fits

    def no_networks(*args, **kwargs):
        got = real_finals(*args, **kwargs)
        assert not got, f"final fits trained: {list(got)}"
        return got

    monkeypatch.setattr(together, "final_fits", no_networks)
    r = auto_run.auto(data, 6, candidates=("lstm", "stats"), settings=settings, time_budget=600)
    board = r.leaderboard
    assert not (board["family"] == "lstm").any() and set(board["unique_id"]) == {"a", "b"} and (board["status"] == "ok").all()
    assert board["reason"].str.contains("time budget: LSTM candidates left out (expected about", regex=False).all()
    # said once: "the time budget was spent" beside "1 s left" contradicted it (a probe)
    assert not board["reason"].str.contains("the time budget was spent", regex=False).any()
    assert all("no LSTM candidate was scored: the time budget would not allow them" in v for v in r.verdicts.values())
    assert set(score.panel_summary(board)["budget"]["unique_id"]) == {"a", "b"}  # the report's list of series the budget cut
    assert set(r.forecasts["unique_id"]) == {"a", "b"}


def test_a_series_without_lstm_or_hybrid_candidates_is_not_said_to_have_lost_them_to_the_budget(monkeypatch, no_arima):
    """A 40-month series has no hybrid (it needs three cycles before the first origin): with
    --candidates hybrid,stats and a budget that binds, its verdict said the budget was spent and
    the report counted it among the series whose LSTMs were left out."""
    monkeypatch.setattr(cost, "SECONDS_PER_STEP", 1.0)  # the budget binds
    data = pd.concat([_monthly("short", 40, 7), _monthly("long", 72, 8)])
    r = auto_run.auto(data, 6, candidates=("hybrid", "stats"), settings=lstm.Settings(epochs=20, seeds=2), time_budget=600)
    reason = r.leaderboard.drop_duplicates("unique_id").set_index("unique_id")["reason"].fillna("")
    assert "time budget" not in reason["short"] and "time budget" not in r.verdicts["short"]
    assert "time budget" in reason["long"]  # it has a hybrid: trained with fewer seeds, said


def _clock_jumps_after(monkeypatch, name):
    """auto's clock jumps a day ahead once ``together.<name>`` has run: the budget is spent
    exactly then, however long the machine took to get there."""
    import time
    import types

    offset = [0.0]
    monkeypatch.setattr(auto_run, "time", types.SimpleNamespace(perf_counter=lambda: time.perf_counter() + offset[0]))
    real = getattr(together, name)

    def then_spent(*args, **kwargs):
        out = real(*args, **kwargs)
        offset[0] = 86400.0
        return out

    monkeypatch.setattr(together, name, then_spent)


@pytest.mark.slow  # trains LSTM ensembles
def test_networks_trained_before_the_budget_ran_out_are_still_scored(monkeypatch, no_arima):
    data = pd.concat([_monthly("a", 60, 7), _monthly("b", 72, 8)])
    _clock_jumps_after(monkeypatch, "prefit")  # the backtests train, then the budget is spent
    monkeypatch.setattr(auto_run, "BUDGET_SHARE", 1e9)  # no fewer epochs: this test is about the deadline
    r = auto_run.auto(data, 6, candidates=("lstm", "stats"), settings=lstm.Settings(epochs=20, seeds=2), time_budget=3600)
    board = r.leaderboard
    assert set(board.loc[board["family"] == "lstm", "unique_id"]) == {"a", "b"}  # trained, so scored
    assert not board["reason"].fillna("").str.contains("time budget was spent", regex=False).any()


@pytest.mark.slow  # trains LSTM ensembles
def test_once_the_budget_is_spent_no_network_is_trained_series_by_series(monkeypatch, no_arima):
    from lstmtune.auto import lstm as lstm_mod

    data = pd.concat([_monthly("a", 60, 7), _monthly("b", 72, 8)])
    real_prefit = together.prefit
    dropped = set()

    def some_prefit(items, *args, **kwargs):  # one candidate per series was not trained beforehand
        out = real_prefit(items, *args, **kwargs)
        for uid in {key[0] for key in out}:
            dropped.add(next(key for key in out if key[0] == uid))
        return {key: models for key, models in out.items() if key not in dropped}

    monkeypatch.setattr(together, "prefit", some_prefit)
    _clock_jumps_after(monkeypatch, "prefit")  # and the budget is spent right after
    real = lstm_mod.backtest

    def must_not_train(frame, cutoffs, horizon, name, config, settings, transform, m, models=None):
        assert models is not None, f"{name} trained alone after the budget was spent"
        return real(frame, cutoffs, horizon, name, config, settings, transform, m, models)

    monkeypatch.setattr(lstm_mod, "backtest", must_not_train)
    monkeypatch.setattr(auto_run, "BUDGET_SHARE", 1e9)
    r = auto_run.auto(data, 6, candidates=("lstm", "stats"), settings=lstm.Settings(epochs=20, seeds=2, space="full"), time_budget=3600)
    board = r.leaderboard
    lstms = board.loc[board["family"] == "lstm", ["unique_id", "candidate"]]
    assert set(lstms["unique_id"]) == {"a", "b"}  # the networks trained beforehand are scored
    assert not {tuple(x) for x in lstms.to_numpy()} & dropped  # the others are not, nor trained now
    for uid, name in dropped:
        assert f"{name} left out: the time budget was spent" in board.loc[board["unique_id"] == uid, "reason"].iloc[0]


def test_the_verdict_says_when_the_budget_left_the_lstms_out():
    from lstmtune.auto import score

    board = pd.DataFrame({"candidate": ["AutoETS", "AutoARIMA"], "family": ["stats", "stats"], "mase": [0.8, 0.9], "in_mcs": [True, True]})
    spent = score.verdict(board, [f"LSTM and hybrid candidates {score.BUDGET_NOTE}"])
    assert spent == "AutoETS is best (no LSTM candidate was scored: the time budget was spent)"  # said only in leaderboard.csv before
    assert score.verdict(board) == "AutoETS is best (no LSTM candidate was scored)"


def test_the_plan_counts_only_the_candidates_auto_can_train_before_the_first_cutoff():
    """A probe found `plan shampoo.csv --horizon 6` counting 9 ensembles where auto trains 5: it
    counted any candidate with a training row, while a fit refuses one whose windows or framing do
    not fit the observations before the first cutoff (and auto then leaves it out everywhere)."""
    import dataclasses as dc

    from lstmtune.data import problem
    from lstmtune.data.series import load
    from lstmtune.errors import LstmtuneError
    from lstmtune.forecast import batch, direct, forecaster

    s = load("shampoo")
    data = pd.DataFrame({"unique_id": "shampoo", "ds": s.dates, "y": s.values})
    settings = lstm.Settings(space="full")  # the grid: candidates that do and do not fit before the first cutoff
    v, frame, plan, err = auto_run._prepare(data, 6, None, None, "error", ("lstm",), settings, 2)
    first = int((frame["ds"] <= plan.cutoffs[0]).sum())
    y = frame["y"].to_numpy()[:first]

    def fits(config) -> bool:  # the fits' own refusals, before any training
        config, _ = batch.unwrapped(config)
        try:
            if isinstance(config, direct.Spec):
                direct.problem_for(y, dc.replace(config, horizon=6))
            else:
                problem.prepare(y, forecaster.framing_for(config, len(y), (-1.0, 1.0)), config.batch_size if config.stateful else 1, require_test=False)
        except LstmtuneError:
            return False
        return True

    verdicts = [(name, fits(config), cost.trainable(config, first, 6)) for name, config, _, _ in plan.neural]
    assert [f for _, f, _ in verdicts] == [t for _, _, t in verdicts], verdicts
    kept = sum(f for _, f, _ in verdicts)
    assert 0 < kept < len(verdicts)  # the case: some are refused
    ensembles = sum(1 for _ in cost.networks(frame, plan, 6))
    assert ensembles == kept * len(plan.cutoffs) + 1



def _half_hourly(uid="hh", n=300, seed=3):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 100 + 10 * np.sin(2 * np.pi * t / 48) + np.cumsum(rng.normal(0, 0.3, n)) + rng.normal(0, 1, n)
    return pd.DataFrame({"unique_id": uid, "ds": pd.date_range("2024-03-01", periods=n, freq="30min"), "y": y})


def test_autoarimas_cost_grows_with_a_long_season_and_the_series():
    """plan and --time-budget counted 0.5 s for every AutoARIMA fit, while with a season of 48 a
    fit on 600 half-hourly readings took 13-165 s (a probe): the plan said seconds, auto ran minutes."""
    assert cost.fit_seconds("AutoARIMA", 240, 12) == cost.FIT_SECONDS["AutoARIMA"]  # monthly: as measured, unchanged
    assert cost.fit_seconds("AutoETS", 600, 48) == cost.FIT_SECONDS["AutoETS"]
    assert cost.fit_seconds("AutoARIMA", 600, 48) > 10 * cost.FIT_SECONDS["AutoARIMA"]
    assert cost.fit_seconds("AutoARIMA", 600, 48) > 3 * cost.fit_seconds("AutoARIMA", 300, 48) > cost.fit_seconds("AutoARIMA", 150, 48)
    assert cost.fit_seconds("AutoARIMA", 1200, 24) < cost.fit_seconds("AutoARIMA", 600, 48)  # hourly grows slowly (measured)
    settings = lstm.Settings()
    v, frame, plan, err = auto_run._prepare(_half_hourly(n=600), 48, None, 48, "error", ("stats",), settings, 2)
    assert err is None and "AutoARIMA" in plan.stats and plan.season == 48
    ends = [int((frame["ds"] <= c).sum()) for c in plan.cutoffs]
    assert cost.model_seconds("AutoARIMA", frame, plan) == pytest.approx(sum(cost.fit_seconds("AutoARIMA", k, 48) for k in [*ends, 600]))


def test_one_series_statistical_fits_run_on_one_core():
    """statsforecast spreads series over the cores, not one series' fits: a 700-point half-hourly
    series at season 48 was counted at half its fits' time on 2 cores and overran a budget (a review)."""
    settings = lstm.Settings()
    v, frame, plan, err = auto_run._prepare(_half_hourly(n=600), 48, None, 48, "error", ("stats",), settings, 2)
    one = cost.stat_seconds([(frame, plan)])
    assert cost.stat_wall([(frame, plan)], 2) == cost.stat_wall([(frame, plan)], 16) == one
    assert cost.spread([1.0, 1.0, 1.0, 1.0], 2) == 2.0 and cost.spread([6.0, 1.0, 1.0], 2) == 6.0 and cost.spread([], 2) == 0.0


def test_a_budget_the_statistical_fits_together_would_overrun_leaves_autoarima_out_where_it_costs_most(monkeypatch):
    from lstmtune.engine import xla

    monkeypatch.setattr(xla, "usable_cores", lambda: 2)
    settings = lstm.Settings()
    items = []
    for uid, n, m in (("long", 600, 48), ("short", 200, 48)):
        v, frame, plan, err = auto_run._prepare(_half_hourly(uid, n), 48, None, m, "error", ("stats",), settings, 2)
        items.append((frame, plan))
    assert auto_run._stats_budget(items, None, 0.0) == [p for _, p in items]  # no budget: unchanged
    import time

    assert auto_run._stats_budget(items, 1e6, time.perf_counter()) == [p for _, p in items]  # ample: unchanged
    per = [cost.stat_seconds([item]) for item in items]
    before = cost.spread(per, 2)
    after = cost.spread([per[0] - cost.model_seconds("AutoARIMA", *items[0]), per[1]], 2)
    assert after < before / 2
    got = auto_run._stats_budget(items, (after + before) / 2 / auto_run.BUDGET_SHARE, time.perf_counter())  # fits once the long series' AutoARIMA is gone
    assert "AutoARIMA" not in got[0].stats and "AutoARIMA" in got[1].stats
    assert [n for n in items[0][1].stats if n != "AutoARIMA"] == list(got[0].stats)
    assert got[0].notes and got[0].notes[0].startswith(score.STATS_UPFRONT) and "season 48" in got[0].notes[0] and not got[1].notes
    tight = auto_run._stats_budget(items, 1.0, time.perf_counter())  # nothing fits: both lose it, each note quoting the same total
    assert all("AutoARIMA" not in p.stats for p in tight) and len({p.notes[0].split("fits at season 48, ")[1] for p in tight}) == 1


def test_auto_under_a_budget_its_autoarima_fits_would_overrun_leaves_it_out_and_says_so():
    data = _half_hourly(n=300)
    r = auto_run.auto(data, 48, season_length=48, candidates=("stats",), time_budget=5)
    board = r.leaderboard
    assert "AutoARIMA" not in set(board["candidate"]) and {"AutoETS", "SeasonalNaive"} <= set(board["candidate"])
    assert board["reason"].str.contains(f"{score.STATS_UPFRONT} (expected about", regex=False).all()
    assert list(score.panel_summary(board)["budget_stats"]["unique_id"]) == ["hh"]
    from lstmtune.auto import output

    assert any("AutoARIMA was left out for 1 series (hh)" in part for part in output._summary(board, 1))  # the report says it
    assert set(r.forecasts["unique_id"]) == {"hh"}
    from lstmtune.auto import plan as plan_mod

    said = plan_mod.plan(data, 48, season_length=48, candidates=("stats",), time_budget=5).lines()
    assert any(line.startswith(f"{score.STATS_UPFRONT} on 1 series") for line in said)
    unbound = plan_mod.plan(data, 48, season_length=48, candidates=("stats",))
    assert unbound.stat_seconds > 10 * cost.FIT_SECONDS["AutoARIMA"]  # 3 fits at 300 readings with season 48: not 1.5 s
