"""lstmtune auto on panels: series trained together, global LSTMs, plan, a models folder
forecast at once, and work done together falling back to each series (checkpoints and resume:
test_auto_resume.py)."""

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lstmtune.auto import lstm
from lstmtune.auto.run import auto
from lstmtune.cli.app import app
from lstmtune.data import panel as panel_mod
from test_auto import _monthly, _same_as_statsforecast


@pytest.mark.slow  # 5 s in the full run, end to end: kept out of the fast subset
def test_a_daily_series_with_a_yearly_season_too_gets_mstl(monkeypatch):
    from lstmtune.selection import statistical

    # MSTL beside the seasonal naive only: AutoARIMA alone would take 15 s on 800 days
    monkeypatch.setattr(statistical, "MODELS", ("SeasonalNaive",))
    rng = np.random.default_rng(2)
    n = 800
    t = np.arange(n)
    y = 50 + 5 * np.sin(2 * np.pi * t / 7) + 10 * np.sin(2 * np.pi * t / 365) + rng.normal(0, 1, n)
    data = pd.DataFrame({"unique_id": "daily", "ds": pd.date_range("2020-01-01", periods=n, freq="D"), "y": y})
    r = auto(data, 14, candidates=("stats",))
    assert "MSTL" in set(r.leaderboard["candidate"])
    _same_as_statsforecast(data, r, "MSTL", 14, "D", seasons=[7, 365])
    short = auto(data.tail(600), 14, candidates=("stats",))  # fewer than two years: one season, no MSTL
    assert "MSTL" not in set(short.leaderboard["candidate"])


@pytest.mark.slow  # trains LSTM ensembles
def test_a_panel_gives_each_series_what_it_gets_alone(monkeypatch):
    """Series trained together (one stacked population per shape, statsforecast over the panel
    in its processes) give each series bit for bit what it gets alone, whatever the chunking."""
    from lstmtune.auto import globalnet
    from lstmtune.auto import run as auto_run
    from lstmtune.selection import statistical

    # every statistical model but AutoARIMA (two thirds of this test's time, and no different here)
    monkeypatch.setattr(statistical, "MODELS", ("AutoETS", "AutoTheta", "SeasonalNaive"))
    frames = [_monthly("a", 60, 11), _monthly("b", 72, 12, level=50.0), _monthly("c", 66, 13, level=80.0)]
    settings = lstm.Settings(epochs=10, seeds=2)
    together = auto(pd.concat(frames), 4, settings=settings, global_lstm=False)  # a global network learns from the panel (below)
    monkeypatch.setattr(globalnet, "MIN_SERIES", 3)
    with_global = auto(pd.concat(frames), 4, settings=settings, global_lstm=True)
    monkeypatch.setattr(auto_run, "PREFIT_SERIES", 2)
    monkeypatch.setattr(auto_run, "CROWDED", 0.0)  # and every compiled program freed before each chunk
    chunked = auto(pd.concat(frames), 4, settings=settings, global_lstm=False)
    stats_only = auto(pd.concat(frames), 4, candidates=("stats", "combo"))  # final statistical forecasts over the panel too
    for f in frames:
        uid = f["unique_id"].iloc[0]
        alone = auto(f, 4, candidates=("stats", "combo"))
        pd.testing.assert_frame_equal(stats_only.forecasts[stats_only.forecasts["unique_id"] == uid].reset_index(drop=True), alone.forecasts, check_exact=True)
        alone = auto(f, 4, settings=settings)
        for r in (together, chunked):
            mine = r.forecasts[r.forecasts["unique_id"] == uid].reset_index(drop=True)
            pd.testing.assert_frame_equal(mine, alone.forecasts, check_exact=True)
            bt = r.backtests[r.backtests["unique_id"] == uid].reset_index(drop=True)
            pd.testing.assert_frame_equal(bt[alone.backtests.columns], alone.backtests, check_exact=True)
        # beside the global candidates, every local one is still backtested bit for bit as alone
        bt = with_global.backtests[with_global.backtests["unique_id"] == uid].reset_index(drop=True)
        assert any(c.startswith("GlobalLSTM(") for c in bt.columns) and not any(c.startswith("GlobalLSTM(") for c in alone.backtests.columns)
        local = [c for c in alone.backtests.columns if not c.split("-")[0].startswith(("Ensemble(", "Combo(", "Pool("))]  # combinations may take global members
        pd.testing.assert_frame_equal(bt[local], alone.backtests[local], check_exact=True)


@pytest.mark.slow  # trains global LSTMs twice
def test_a_global_window_never_sees_a_shorter_series_past_its_cutoff():
    """In a panel whose series end together, the network of a window is trained on every series
    up to that window's cutoff date. Before, a series with fewer windows was cut at its own first
    cutoff, later than a longer series' earlier ones: the longer series' first window was trained
    on the shorter one's observations from after its cutoff (found by a leakage probe)."""
    from lstmtune.auto import globalnet
    from lstmtune.auto.backtests import plan_series
    from lstmtune.data import panel

    start = pd.Timestamp("2010-01-01") + pd.DateOffset(months=72 - 32)  # the short series ends with the others
    frames = [_monthly("a", 72, 51), _monthly("b", 72, 52, level=300.0), _monthly("c", 72, 53, level=50.0), _monthly("s", 32, 54, start=str(start.date()))]
    assert len({f["ds"].iloc[-1] for f in frames}) == 1
    settings = lstm.Settings(epochs=10, seeds=2)

    def fitted(frames):
        items = []
        for f in frames:
            v = panel.triage(f, 6)
            items.append((f["unique_id"].iloc[0], f, v, plan_series(f, v, 6, ("lstm",), settings, 3)))
        return items, globalnet.fit(items, 6, settings)[1]

    items, before = fitted(frames)
    first = items[0][3].cutoffs[0]
    assert len(items[0][3].cutoffs) == 3 and len(items[3][3].cutoffs) < 3 and items[3][3].cutoffs[0] > first
    changed = frames[3].assign(y=np.where(frames[3]["ds"] > first, frames[3]["y"] * 3.0 + 40.0, frames[3]["y"]))
    _, after = fitted(frames[:3] + [changed])
    names = sorted({name for uid, name in before if uid == "a"})
    assert names
    for name in names:
        a, b = before[("a", name)][0], after[("a", name)][0]  # series a's first window, cut at `first`
        for x, y in zip(_leaves(a.params), _leaves(b.params)):
            np.testing.assert_array_equal(x, y)


def _leaves(tree):
    import jax

    return [np.asarray(x) for x in jax.tree_util.tree_leaves(tree)]


@pytest.mark.slow  # trains LSTM ensembles
def test_global_lstms_learn_from_every_series_before_each_ones_own_cutoffs(tmp_path):
    """A window's global network is trained on every series without its last k horizons (up to
    that series' cutoff of the same rank), the final one on everything; the candidate is
    scored per series on the same backtests and a chosen one is saved like any direct model."""
    from lstmtune.auto import globalnet
    from lstmtune.auto.backtests import plan_series
    from lstmtune.data import panel

    frames = [_monthly("a", 72, 41), _monthly("b", 60, 42, level=500.0), _monthly("c", 40, 43, level=20.0), _monthly("d", 50, 44, level=60.0)]
    settings = lstm.Settings(epochs=10, seeds=2)
    items = []
    for f in frames:
        v = panel.triage(f, 4)
        items.append((f["unique_id"].iloc[0], f, v, plan_series(f, v, 4, ("lstm",), settings, 2)))
    extra, backtests, finals = globalnet.fit(items, 4, settings)
    names = [n for n, _ in globalnet.specs([f for f in frames], [it[3] for it in items], 12, 4, settings)]
    assert names == ["GlobalLSTM(d=1,lags=12)", "GlobalLSTM(d=12,lags=12)"]
    for uid, f, _, plan in items:
        assert [e[0] for e in extra[uid]] == names
        for name in names:
            got = backtests[(uid, name)]
            assert [np.datetime64(m.dates[-1]) for m in got] == [np.datetime64(c) for c in plan.cutoffs]
            assert np.datetime64(finals[(uid, name)].dates[-1]) == np.datetime64(f["ds"].iloc[-1])
            assert finals[(uid, name)].info["pooled_series"] == 4
    # the series' order in the file changes nothing (the networks see the series by unique_id)
    _, _, again = globalnet.fit(items[::-1], 4, settings)
    for key, model in finals.items():
        for x, y in zip(_leaves(model.params), _leaves(again[key].params)):
            np.testing.assert_array_equal(x, y)
    # the windows from the end share one network across series; the final one differs from them
    k = backtests[("a", names[0])][-1].params.dense.kernel
    np.testing.assert_array_equal(k, backtests[("c", names[0])][-1].params.dense.kernel)
    assert not np.array_equal(k, finals[("a", names[0])].params.dense.kernel)
    r = auto(pd.concat(frames), 4, candidates=("lstm",), settings=settings, global_lstm=True)
    board = r.leaderboard
    assert set(board.loc[board["candidate"].isin(names), "unique_id"]) == {"a", "b", "c", "d"}
    three = auto(pd.concat(frames[:3]), 4, candidates=("lstm",), settings=settings, global_lstm=True)  # fewer than globalnet.MIN_SERIES
    assert not three.leaderboard["candidate"].str.startswith("GlobalLSTM(").any()
    assert np.isfinite(board.loc[board["candidate"].isin(names), "mase"]).all()
    off = auto(pd.concat(frames), 4, candidates=("lstm",), settings=settings)  # off by default
    assert not off.leaderboard["candidate"].str.startswith("GlobalLSTM(").any()
    # a global model saved as auto saves it forecasts what auto's final forecast is
    table, model = lstm.forecast(frames[1], 4, names[1], None, settings, None, None, 12, finals[("b", names[1])])
    model.save(tmp_path / "g")
    from lstmtune.forecast import composite

    back = composite.load_any(tmp_path / "g").forecast(4)
    np.testing.assert_allclose(back["mean"].to_numpy(), table[names[1]].to_numpy(), rtol=1e-6)


@pytest.mark.slow  # a panel, then each series alone
def test_a_failure_of_the_work_done_together_falls_back_to_each_series_alone(monkeypatch, no_arima):
    from lstmtune.auto import together

    data = pd.concat([_monthly("a", 60, 61), _monthly("b", 66, 62, level=40.0)])
    expected = auto(data, 4, candidates=("stats", "combo"))

    def broken(*args, **kwargs):
        raise MemoryError("no room for the whole chunk")

    monkeypatch.setattr(together, "stats_backtests", broken)
    monkeypatch.setattr(together, "stats_finals", broken)
    r = auto(data, 4, candidates=("stats", "combo"))
    pd.testing.assert_frame_equal(r.forecasts, expected.forecasts, check_exact=True)
    assert r.exit_code == 0


def test_plan_counts_what_auto_would_train_and_refuses_what_will_not_fit(tmp_path, monkeypatch):
    from lstmtune.auto import backtests
    from lstmtune.auto import plan as auto_plan
    from lstmtune.auto import run as auto_run
    from lstmtune.data import panel
    from lstmtune.errors import LstmtuneError

    frames = [_monthly("a", 72, 71), _monthly("b", 60, 72), _monthly("c", 15, 73)]  # c: too short, a fallback
    bad = _monthly("d", 40, 74)
    bad.loc[5, "ds"] = bad.loc[4, "ds"]  # a duplicate date: skipped
    data = pd.concat([*frames, bad])
    settings = lstm.Settings(epochs=10, seeds=2)
    p = auto_plan.plan(data, 4, settings=settings, memory_bytes=64 * 2**30)
    assert (p.series, p.good, p.fallback, p.skipped) == (4, 2, 1, 1)
    expected = 0
    for f in frames[:2]:
        v = panel.triage(f, 4)
        plan = backtests.plan_series(f, v, 4, auto_run.FAMILIES, settings, 2)
        expected += len(plan.neural) * len(plan.cutoffs) + 1
    assert p.networks == expected and p.replicas == 2 * expected and p.stat_fits > 0 and p.seconds > 0
    assert auto_plan.check(p) is p
    with pytest.raises(LstmtuneError, match="more than 90% of this machine's available"):
        auto_plan.check(auto_plan.plan(data, 4, settings=settings, memory_bytes=2**20))
    data.to_csv(tmp_path / "p.csv", index=False)
    ok = CliRunner().invoke(app, ["plan", str(tmp_path / "p.csv"), "--horizon", "4"])
    assert ok.exit_code == 0 and "peak memory" in ok.output and "expected time" in ok.output
    gapped = pd.concat([frames[0].drop(index=[10, 11]), frames[1]])  # a: two months without a row
    gapped.to_csv(tmp_path / "g.csv", index=False)
    for missing, counted in (([], "2 series: 1 with candidates, 0 on a fallback or constant, 1 skipped"),
                             (["--missing", "zero"], "2 series: 2 with candidates, 0 on a fallback or constant, 0 skipped")):
        said = CliRunner().invoke(app, ["plan", str(tmp_path / "g.csv"), "--horizon", "4", *missing])  # planned as auto would run
        assert said.exit_code == 0 and counted in said.output, said.output
    assert ok.output.count("skipped: ") == 1 and "skipped: d: " in ok.output and "duplicate date" in ok.output  # each skipped series named, with why
    bad_only = pd.concat([bad, frames[0].head(1).assign(unique_id="one")])  # every series skipped: auto would write nothing
    bad_only.to_csv(tmp_path / "bad.csv", index=False)
    said = CliRunner().invoke(app, ["plan", str(tmp_path / "bad.csv"), "--horizon", "4"])
    assert said.exit_code == 2 and "no series could be forecast" in said.output and said.output.count("skipped: ") == 2, said.output
    alone = CliRunner().invoke(app, ["plan", "--missing", "zero"])
    assert alone.exit_code == 2 and "--missing applies with --horizon" in alone.output
    monkeypatch.setattr("lstmtune.study.budget.available_memory", lambda: 2**20)
    refused = CliRunner().invoke(app, ["plan", str(tmp_path / "p.csv"), "--horizon", "4"])
    assert refused.exit_code == 2 and "more than 90% of this machine's available" in refused.output


@pytest.mark.slow  # auto on a panel, then forecast twice
def test_forecasting_auto_models_folder_forecasts_every_series_and_names_a_bad_one(tmp_path, no_arima):
    r = auto(pd.concat([_monthly("a", 72, 81), _monthly("b", 60, 82, level=40.0), _monthly("c", 66, 83)]), 5, candidates=("stats", "combo"))
    r.save(tmp_path / "o")
    res = CliRunner().invoke(app, ["forecast", str(tmp_path / "o" / "models"), "--horizon", "5", "--out", str(tmp_path / "f.csv")])
    assert res.exit_code == 0, res.output
    mine = pd.read_csv(tmp_path / "f.csv", parse_dates=["ds"])
    theirs = r.forecasts.reset_index(drop=True)
    assert list(mine.columns) == list(theirs.columns)
    pd.testing.assert_frame_equal(mine[["unique_id", "model"]], theirs[["unique_id", "model"]].astype({"unique_id": object}), check_dtype=False)
    np.testing.assert_allclose(mine[["mean", "lower_80", "upper_95"]].to_numpy(), theirs[["mean", "lower_80", "upper_95"]].to_numpy(), rtol=1e-9)
    index = pd.read_csv(tmp_path / "o" / "models" / "index.csv")
    damaged = tmp_path / "o" / "models" / index.loc[index["unique_id"] == "b", "folder"].item() / "data.json"
    damaged.write_text(damaged.read_text().replace("1", "2", 1))
    bad = CliRunner().invoke(app, ["forecast", str(tmp_path / "o" / "models"), "--horizon", "5", "--out", str(tmp_path / "g.csv")])
    assert bad.exit_code == 3 and "series 'b'" in bad.output
    assert set(pd.read_csv(tmp_path / "g.csv")["unique_id"]) == {"a", "c"}


def test_a_plain_lstm_chosen_on_a_series_below_zero_is_forecast_from_the_models_folder(tmp_path):
    """On a series below zero a chosen recursive LSTM is saved bare (no clipping to wrap it), and
    its directory named the series "series": `forecast DIR/models` refused it as edited (a probe)."""
    neg = _monthly("neg", 48, 5).assign(y=lambda f: f["y"] - 200.0)
    assert (neg["y"] < 0).all()
    r = auto(neg, 3, candidates=("lstm",), settings=lstm.Settings(epochs=20, seeds=2))
    assert r.forecasts["model"].iloc[0].startswith("LSTM(")
    r.save(tmp_path / "o")
    res = CliRunner().invoke(app, ["forecast", str(tmp_path / "o" / "models"), "--horizon", "3", "--out", str(tmp_path / "f.csv")])
    assert res.exit_code == 0, res.output
    mine = pd.read_csv(tmp_path / "f.csv")
    np.testing.assert_allclose(mine["mean"].to_numpy(), r.forecasts["mean"].to_numpy(), rtol=1e-9)
    said = CliRunner().invoke(app, ["describe", str(tmp_path / "o" / "models" / "neg")])
    assert said.exit_code == 0 and "neg" in said.output.split("data:")[1].splitlines()[0], said.output


def test_a_plain_lstms_folder_marks_utc_times_as_auto_did(tmp_path):
    """A recursive LSTM saved bare (a series below zero) goes through forecast's own path, which
    wrote its UTC times bare while forecasts.csv marked them (a review)."""
    hours = pd.date_range("2023-10-28", periods=96, freq="h", tz="Europe/Paris")
    frame = pd.DataFrame({"unique_id": "h", "ds": hours, "y": -50 + 5 * np.sin(np.arange(96) * 2 * np.pi / 24)})
    r = auto(frame, 3, candidates=("lstm",), settings=lstm.Settings(epochs=20, seeds=2))
    assert r.utc == ("h",) and r.forecasts["model"].iloc[0].startswith("LSTM(")
    r.save(tmp_path / "o")
    res = CliRunner().invoke(app, ["forecast", str(tmp_path / "o" / "models" / "h"), "--horizon", "3", "--out", str(tmp_path / "f.csv"), "-q"])
    assert res.exit_code == 0, res.output
    dates = pd.read_csv(tmp_path / "f.csv", dtype=str)["date"]
    assert dates.str.endswith("+00:00").all() and "times of h are UTC" in " ".join(res.output.split())
    written = pd.read_csv(tmp_path / "o" / "forecasts.csv", dtype=str)["ds"]
    assert pd.to_datetime(dates).tolist() == pd.to_datetime(written).tolist()
    import shutil  # moved out of models/, no index beside it: the directory says so itself (wrote bare times before)

    shutil.copytree(tmp_path / "o" / "models" / "h", tmp_path / "moved")
    res = CliRunner().invoke(app, ["forecast", str(tmp_path / "moved"), "--horizon", "3", "--out", str(tmp_path / "g.csv"), "-q"])
    assert res.exit_code == 0, res.output
    assert pd.read_csv(tmp_path / "g.csv", dtype=str)["date"].tolist() == dates.tolist()


def test_every_chunk_after_the_first_starts_with_no_compiled_programs_held(monkeypatch):
    # A panel's chunks compile programs of their own sizes; holding every chunk's, a 300-series
    # run peaked at 2.7 GiB. Released between chunks, memory stays flat (benchmarks/RESULTS.md).
    from lstmtune.auto import run as auto_run
    from lstmtune.engine import aot
    from lstmtune.selection import statistical

    monkeypatch.setattr(statistical, "MODELS", ("SeasonalNaive",))
    monkeypatch.setattr(auto_run, "PREFIT_SERIES", 1)
    released = []
    monkeypatch.setattr(aot, "release", lambda: released.append(1))
    frames = [_monthly("a", 60, 11), _monthly("b", 72, 12, level=50.0), _monthly("c", 66, 13, level=80.0)]
    r = auto(pd.concat(frames), 4, candidates=("stats",))
    assert len(released) == 2 and sorted(r.forecasts["unique_id"].unique()) == ["a", "b", "c"]


def test_only_a_forecast_table_is_taken_for_an_earlier_forecast(tmp_path):
    from lstmtune.cli.forecast_commands import _forecast_file

    cases = {"single.csv": "date,mean,median,lower_80,upper_80,lower_95,upper_95\n", "panel.csv": "unique_id,ds,model,mean,median,lower_80,upper_80\n",
             "paths.csv": "date,step,seed,value\n", "mine.csv": "date,mean,median\n", "series.csv": "date,value\n", "notes.png": "x"}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
    assert [n for n in cases if _forecast_file(tmp_path / n)] == ["single.csv", "panel.csv", "paths.csv"]  # a user's date,mean,median was replaced


def test_a_product_of_one_or_two_dates_is_read_at_the_frequency_every_other_series_has():
    """A new product of 1 or 2 rows was skipped ("too few to infer the frequency (give --freq)")
    in a panel whose other series are all weekly, even with --missing zero; and with --freq its
    reason said season 1 at 2 rows and 52 at 3 (a probe)."""
    weeks = pd.date_range("2022-01-03", periods=60, freq="W-MON")
    rng = np.random.default_rng(0)
    old = [pd.DataFrame({"unique_id": f"p{k}", "ds": weeks, "y": rng.poisson(5, 60).astype(float)}) for k in range(3)]
    new = [pd.DataFrame({"unique_id": f"new{n}", "ds": weeks[-n:], "y": np.arange(1.0, n + 1)}) for n in (1, 2, 3)]
    data = pd.concat(old + new, ignore_index=True)
    r = auto(data, 4, candidates=("stats",))
    board = r.leaderboard.drop_duplicates("unique_id").set_index("unique_id")
    assert board.loc["new1", "status"] == "constant"  # one value
    for uid in ("new1", "new2", "new3"):
        assert board.loc[uid, "status"] == "constant" or "season 52" in board.loc[uid, "reason"], board.loc[uid, "reason"]
        got = r.forecasts.loc[r.forecasts["unique_id"] == uid, "ds"].tolist()
        assert got == list(pd.date_range(weeks[-1], periods=5, freq="W-MON")[1:]), (uid, got)
    assert "its dates read at W-MON, the frequency of every other series that has one" in board.loc["new1", "reason"]
    assert "read at" not in board.loc["new3", "reason"]  # three dates: its own
    zero = auto(pd.concat(old + [new[1].assign(ds=weeks[-4:-2])], ignore_index=True), 4, candidates=("stats",), missing="zero")
    filled = zero.leaderboard.drop_duplicates("unique_id").set_index("unique_id").loc["new2", "reason"]
    assert "inserted and set to 0" in filled and "read at W-MON" in filled, filled  # filled on to the panel's last week
    typo = pd.DataFrame({"unique_id": "typo", "ds": [weeks[-2], weeks[-2] + pd.Timedelta(weeks=520)], "y": [1.0, 2.0]})  # a mistyped year: not filled
    off = pd.DataFrame({"unique_id": "off", "ds": [weeks[-1] + pd.Timedelta(days=1)], "y": [1.0]})  # a Tuesday
    board = auto(pd.concat(old + [typo, off], ignore_index=True), 4, candidates=("stats",), missing="interpolate").leaderboard.drop_duplicates("unique_id").set_index("unique_id")
    assert board.loc["typo", "status"] == "skipped" and "too few to infer the frequency" in board.loc["typo", "reason"]
    assert board.loc["off", "status"] == "skipped" and "is not a W-MON date" in board.loc["off", "reason"] and "--freq" not in board.loc["off", "reason"]
    mixed = pd.concat(old + [pd.DataFrame({"unique_id": "m", "ds": pd.date_range("2020-01-01", periods=30, freq="MS"), "y": 1.0 + np.arange(30)})] + new[:1])
    skipped = auto(mixed, 4, candidates=("stats",)).leaderboard.drop_duplicates("unique_id").set_index("unique_id")
    assert skipped.loc["new1", "status"] == "skipped" and "too few to infer the frequency" in skipped.loc["new1", "reason"]  # the others disagree: none borrowed
    # a series without a frequency of its own (a duplicate week: skipped) has no say: it left every new product skipped too (a probe)
    dup = pd.DataFrame({"unique_id": "dup", "ds": weeks[:10].append(weeks[9:10]), "y": 1.0 + np.arange(11.0)})
    board = auto(pd.concat(old + [dup] + new[1:2], ignore_index=True), 4, candidates=("stats",)).leaderboard.drop_duplicates("unique_id").set_index("unique_id")
    assert board.loc["dup", "status"] == "skipped" and "duplicate date" in board.loc["dup", "reason"], board.loc["dup", "reason"]
    assert board.loc["new2", "status"] != "skipped" and "read at W-MON" in board.loc["new2", "reason"], board.loc["new2", "reason"]


def test_global_networks_read_the_lags_the_series_autoregressions_ask_for_in_either_space():
    """With one default network per series (no direct candidates left to read them from), the
    global networks took lags = m: 1 on yearly series whatever their autoregression's order (a review)."""
    from lstmtune.auto import backtests, globalnet
    from lstmtune.data import panel

    rng = np.random.default_rng(3)
    frames = []
    for k in range(4):  # AR(5)-like yearly series
        y = np.zeros(80)
        for t in range(5, 80):
            y[t] = 0.5 * y[t - 1] - 0.4 * y[t - 5] + rng.normal()
        frames.append(pd.DataFrame({"unique_id": f"y{k}", "ds": pd.date_range("1900-01-01", periods=80, freq="YS"), "y": 100 + np.cumsum(y)}))
    lags = {}
    for space in ("default", "full"):
        settings = lstm.Settings(space=space)
        plans = [backtests.plan_series(f, panel.triage(f, 4), 4, ("lstm",), settings, 2) for f in frames]
        lags[space] = globalnet._lags(plans, 1)
    assert lags["default"] == lags["full"] > 1, lags


def test_missing_zero_runs_every_series_on_to_the_latest_end_two_series_share():
    """The end was the date most series end on: three discontinued products ending together set
    it, so the active ones with no recent rows were forecast from their own last sale and the
    discontinued ones from the past (a probe). Now the latest end two or more series share."""
    from lstmtune.data import panel

    months = pd.date_range("2020-01-01", periods=48, freq="MS")
    frames = [pd.DataFrame({"unique_id": f"ref{k}", "ds": months, "y": 10.0 + k}) for k in range(2)]
    frames += [pd.DataFrame({"unique_id": f"disc{k}", "ds": months[:30], "y": 5.0 + k}) for k in range(3)]
    frames += [pd.DataFrame({"unique_id": "slow", "ds": months[:45], "y": 3.0})]
    frames += [pd.DataFrame({"unique_id": "typo", "ds": months[:20].append(pd.DatetimeIndex(["2048-01-01"])), "y": 1.0})]
    data = pd.concat(frames, ignore_index=True)
    assert panel.common_ends(data, "MS") == {"MS": months[-1]}  # not the discontinued products' 2022-06, nor the typo's 2048
    r = auto(data[data["unique_id"] != "typo"], 3, candidates=("stats",), missing="zero")
    first = r.forecasts.groupby("unique_id")["ds"].min()
    assert (first == months[-1] + pd.offsets.MonthBegin(1)).all(), first


def test_an_intermittent_series_whose_zero_rows_are_absent_is_filled_at_the_panels_frequency():
    """Under --missing zero a product selling one month in four, its months without sales simply
    absent, was skipped as "dates of no regular frequency" (pandas infers none from such dates):
    the main use of --missing zero (a probe). It is read at the panel's frequency now, and
    forecasts as the same series with its zeros written."""
    months = pd.date_range("2020-01-01", periods=48, freq="MS")
    rng = np.random.default_rng(3)
    sales = np.where(rng.random(48) < 0.3, rng.integers(1, 6, 48), 0).astype(float)
    sales[[0, -1]] = [2.0, 3.0]  # sold in the first and last month
    ref = [pd.DataFrame({"unique_id": f"ref{k}", "ds": months, "y": 50.0 + k + np.arange(48.0)}) for k in range(2)]
    written = pd.DataFrame({"unique_id": "sparse", "ds": months, "y": sales})
    absent = written[written["y"] > 0]
    assert panel_mod.grid_frequency(absent["ds"].to_numpy(dtype="datetime64[ns]")) is None  # no grid of its own
    got = auto(pd.concat(ref + [absent], ignore_index=True), 6, candidates=("stats",), missing="zero")
    full = auto(pd.concat(ref + [written], ignore_index=True), 6, candidates=("stats",), missing="zero")
    board = got.leaderboard.drop_duplicates("unique_id").set_index("unique_id")
    assert board.loc["sparse", "status"] != "skipped" and "read at MS" in board.loc["sparse", "reason"] and "too sparse" in board.loc["sparse", "reason"]
    cols = ["unique_id", "ds", "model", "mean"]
    pd.testing.assert_frame_equal(got.forecasts[cols], full.forecasts[cols], check_exact=True)
    typo = absent.assign(ds=absent["ds"].where(absent["ds"] != absent["ds"].iloc[-1], pd.Timestamp("2098-01-01")))  # a mistyped year: spans far too much
    board = auto(pd.concat(ref + [typo], ignore_index=True), 6, candidates=("stats",), missing="zero").leaderboard.drop_duplicates("unique_id").set_index("unique_id")
    assert board.loc["sparse", "status"] == "skipped"
