"""lstmtune auto: candidates scored on the same multi-step backtests, the choice, the outputs,
and bad input (one bad series never stops the others)."""

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lstmtune.auto import lstm
from lstmtune.auto.run import auto
from lstmtune.cli.app import app


def _monthly(uid, n, seed, level=100.0, start="2010-01-01"):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = level + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, n)
    return pd.DataFrame({"unique_id": uid, "ds": pd.date_range(start, periods=n, freq="MS"), "y": y})


@pytest.fixture(scope="module")
def stats_result():
    return auto(pd.concat([_monthly("a", 72, 0), _monthly("b", 60, 1)]), 6, candidates=("stats", "combo"))


@pytest.mark.slow  # 6 s in the full run, end to end: kept out of the fast subset
def test_leaderboard_mase_is_utilsforecasts_on_the_backtests(stats_result):
    from utilsforecast.losses import mase

    r = stats_result
    data = pd.concat([_monthly("a", 72, 0), _monthly("b", 60, 1)])
    for uid in ("a", "b"):
        bt = r.backtests[r.backtests["unique_id"] == uid]
        board = r.leaderboard[r.leaderboard["unique_id"] == uid].set_index("candidate")
        models = list(board.index)
        per_cutoff = []
        for cutoff, part in bt.groupby("cutoff"):
            train = data[(data["unique_id"] == uid) & (data["ds"] <= cutoff)]
            per_cutoff.append(mase(part[["unique_id", "ds", "y", *models]], models, seasonality=12, train_df=train).iloc[0])
        expected = pd.DataFrame(per_cutoff)[models].mean()
        np.testing.assert_allclose(board.loc[models, "mase"].to_numpy(), expected.to_numpy(), rtol=1e-10)
        assert board["chosen"].sum() == 1 and board["mase"].idxmin() == board.index[board["chosen"]][0]


def test_statistical_backtests_are_statsforecasts_cross_validation(stats_result):
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    a = _monthly("a", 72, 0)
    cv = StatsForecast(models=[AutoETS(season_length=12)], freq="MS").cross_validation(df=a, h=6, step_size=6, n_windows=2, level=[80, 95])
    ours = stats_result.backtests[stats_result.backtests["unique_id"] == "a"].reset_index(drop=True)
    np.testing.assert_allclose(ours["AutoETS"].to_numpy(), cv["AutoETS"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours["AutoETS-lo-95"].to_numpy(), cv["AutoETS-lo-95"].to_numpy(), rtol=1e-12)
    assert list(ours["cutoff"].unique()) == list(cv["cutoff"].unique())


def test_forecasts_come_from_the_chosen_candidate(stats_result):
    r = stats_result
    for uid in ("a", "b"):
        chosen = r.leaderboard[(r.leaderboard["unique_id"] == uid) & r.leaderboard["chosen"]]["candidate"].item()
        fc = r.forecasts[r.forecasts["unique_id"] == uid]
        assert set(fc["model"]) == {chosen} and len(fc) == 6
        assert (fc["lower_95"] <= fc["lower_80"]).all() and (fc["lower_80"] <= fc["mean"]).all() and (fc["mean"] <= fc["upper_80"]).all()
    assert r.exit_code == 0


@pytest.fixture(scope="module")
def lstm_run(tmp_path_factory):
    data = _monthly("a", 60, 3, level=0.0)  # crosses zero: no log candidates here
    r = auto(data, 4, candidates=("lstm",), settings=lstm.Settings(epochs=20, seeds=3, space="full"))
    out = tmp_path_factory.mktemp("auto") / "o"
    r.save(out)
    return r, out


@pytest.mark.slow  # trains LSTM ensembles
def test_lstm_candidates_are_backtested_with_bands_calibrated_on_the_other_windows(lstm_run):
    from lstmtune.forecast import intervals

    r, _ = lstm_run
    board = r.leaderboard
    assert set(board["family"]) == {"lstm"} and board["chosen"].sum() == 1
    name = board["candidate"].iloc[0]
    bt = r.backtests
    cutoffs = sorted(bt["cutoff"].unique())
    assert len(cutoffs) == 2
    # Recompute window 1's 80% band from scratch: refit the ensemble at its cutoff, raw bands,
    # widened by the conformal quantile of window 2's pooled scores (never its own).
    data = _monthly("a", 60, 3, level=0.0)
    config = {n: c for n, c, _, _ in lstm.space(data["y"].to_numpy(), 12, lstm.Settings(epochs=20, seeds=3, space="full"))}[name]
    settings = lstm.Settings(epochs=20, seeds=3, space="full")
    models = []
    for c in cutoffs:
        past = data[data["ds"] <= c]
        models.append(lstm._fit(pd.Series(past["y"].to_numpy(), index=pd.DatetimeIndex(past["ds"])), 4, name, config, settings))
    future2 = data[data["ds"] > cutoffs[1]].head(4)["y"].to_numpy()
    s2 = lstm._scores(models[1].paths(4)[0], future2)[0.8]
    q, _ = intervals.conformal_quantile(s2, 0.8)
    raw = models[0].forecast(4, calibrated=False)
    first = bt[bt["cutoff"] == cutoffs[0]]
    np.testing.assert_allclose(first[f"{name}-hi-80"].to_numpy(), np.maximum(raw["upper_80"] + q * np.sqrt(np.arange(1, 5)), raw["median"]), rtol=1e-6)
    assert r.forecasts["model"].iloc[0] == name


@pytest.mark.slow  # trains LSTM ensembles
def test_the_saved_lstm_model_forecasts_what_auto_wrote(lstm_run, tmp_path):
    r, out = lstm_run
    index = pd.read_csv(out / "models" / "index.csv")
    described = CliRunner().invoke(app, ["describe", str(out / "models" / index["folder"].item())])
    assert described.exit_code == 0 and "conformalized quantile regression on the 2 backtest windows" in described.output
    res = CliRunner().invoke(app, ["forecast", str(out / "models" / index["folder"].item()), "--horizon", "4", "--out", str(tmp_path / "f.csv"), "-q"])
    assert res.exit_code == 0, res.output
    mine = pd.read_csv(tmp_path / "f.csv")
    for col in ("mean", "median", "lower_80", "upper_80", "lower_95", "upper_95"):
        np.testing.assert_allclose(mine[col].to_numpy(), r.forecasts[col].to_numpy(), rtol=1e-6, err_msg=col)


@pytest.mark.slow  # 2 s in the full run, end to end: kept out of the fast subset
def test_the_saved_statistical_model_forecasts_what_auto_wrote(stats_result, tmp_path):
    stats_result.save(tmp_path / "o")
    index = pd.read_csv(tmp_path / "o" / "models" / "index.csv")
    assert list(index["unique_id"]) == ["a", "b"]
    for uid, folder in zip(index["unique_id"], index["folder"]):
        res = CliRunner().invoke(app, ["forecast", str(tmp_path / "o" / "models" / folder), "--horizon", "6", "--out", str(tmp_path / f"{uid}.csv"), "-q"])
        assert res.exit_code == 0, res.output
        mine = pd.read_csv(tmp_path / f"{uid}.csv")
        theirs = stats_result.forecasts[stats_result.forecasts["unique_id"] == uid]
        for col in ("mean", "median", "lower_80", "upper_80", "lower_95", "upper_95"):
            np.testing.assert_allclose(mine[col].to_numpy(), theirs[col].to_numpy(), rtol=1e-9, err_msg=col)
        described = CliRunner().invoke(app, ["describe", str(tmp_path / "o" / "models" / folder)])
        assert described.exit_code == 0 and "statsforecast" in described.output
    data = tmp_path / "o" / "models" / index["folder"].iloc[0] / "data.json"
    data.write_text(data.read_text().replace("1", "2", 1))
    res = CliRunner().invoke(app, ["describe", str(data.parent)])
    assert res.exit_code == 2 and "checksum" in res.output and "Model " not in res.output  # nothing printed before the error
    header = (tmp_path / "o" / "models" / "index.csv").read_text().splitlines()[0]
    (tmp_path / "o" / "models" / "index.csv").write_text(header + "\n")  # no series listed: forecast refused it, describe said "0 series"
    res = CliRunner().invoke(app, ["describe", str(tmp_path / "o" / "models")])
    assert res.exit_code == 2 and "lists no model directory" in res.output


def _write(path, frame):
    frame.to_csv(path, index=False)
    return path


def test_bad_series_are_named_and_the_rest_forecast(tmp_path, no_arima):
    good = _monthly("good", 60, 0)
    dup = _monthly("dup", 60, 1)
    dup.loc[5, "ds"] = dup.loc[4, "ds"]
    short = _monthly("short", 10, 2)
    const = _monthly("const", 40, 3).assign(y=5.0)
    f = _write(tmp_path / "panel.csv", pd.concat([good, dup, short, const]))
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "6", "--out", str(tmp_path / "o"), "--candidates", "stats,combo", "-q"])
    assert res.exit_code == 3, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("skipped: dup: ") and "duplicate date" in lines[0]  # -q: only the series skipped
    board = pd.read_csv(tmp_path / "o" / "leaderboard.csv")
    status = board.drop_duplicates("unique_id").set_index("unique_id")["status"]
    assert status.to_dict() == {"good": "ok", "dup": "skipped", "short": "fallback", "const": "constant"}
    assert "duplicate date" in board[board["unique_id"] == "dup"]["reason"].item()
    fc = pd.read_csv(tmp_path / "o" / "forecasts.csv")
    assert set(fc["unique_id"]) == {"good", "short", "const"}
    assert set(fc[fc["unique_id"] == "short"]["model"]) == {"Naive (fallback)"}
    assert (fc[fc["unique_id"] == "const"]["mean"] == 5.0).all()


def test_nothing_forecastable_exits_2_and_names_why(tmp_path):
    dup = _monthly("dup", 30, 1)
    dup.loc[5, "ds"] = dup.loc[4, "ds"]
    f = _write(tmp_path / "p.csv", dup)
    for quiet in (["-q"], []):
        res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "6", "--out", str(tmp_path / "o"), "--candidates", "stats", *quiet])
        assert res.exit_code == 2
        said = "p.csv: line 7, column 'ds': duplicate date 2010-05-01 (first at line 6)" if quiet else "duplicate date 2010-05-01 (first at line 6)"
        assert said in res.output, res.output  # in the table without -q
        assert res.stderr.strip().splitlines()[-1] == "error: no series could be forecast (the reasons are above); nothing was written"
        assert not (tmp_path / "o").exists() and not list(tmp_path.glob(".o*"))  # no folder of empty results, no checkpoint


def test_a_series_that_never_went_below_zero_is_never_forecast_below_zero(tmp_path):
    n = 48
    y = np.maximum(0.0, 50 - 1.2 * np.arange(n)) + np.random.default_rng(0).uniform(0, 1, n)
    data = pd.DataFrame({"unique_id": "down", "ds": pd.date_range("2000-01-01", periods=n, freq="MS"), "y": y})
    r = auto(data, 12, candidates=("stats",))
    assert (r.forecasts[["mean", "median", "lower_80", "lower_95", "upper_80", "upper_95"]] >= 0).all().all()


def test_single_series_file_is_named_by_its_stem(tmp_path, no_arima):
    a = _monthly("x", 48, 4)
    f = _write(tmp_path / "sales.csv", a[["ds", "y"]].rename(columns={"ds": "month", "y": "sales"}))
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "3", "--out", str(tmp_path / "o"), "--candidates", "stats", "-q"])
    assert res.exit_code == 0, res.output
    assert set(pd.read_csv(tmp_path / "o" / "forecasts.csv")["unique_id"]) == {"sales"}
    assert (tmp_path / "o" / "report.html").read_text().count("sales") >= 1


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--level", "100"], "--level 100: interval levels are whole percentages from 1 to 99"),
        (["--level", "0"], "--level 0: interval levels"),
        (["--candidates", "lstm,arima"], "--candidates: arima"),
        (["--id-column", "store"], "--id-column 'store' not found"),
    ],
)
def test_bad_arguments_get_one_line(tmp_path, argv, needle):
    f = _write(tmp_path / "p.csv", _monthly("a", 48, 0))
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "3", "--out", str(tmp_path / "o"), "-q", *argv])
    assert res.exit_code == 2 and needle in res.output, res.output
    assert not (tmp_path / "o").exists()


def test_an_unrelated_folder_is_never_replaced(tmp_path):
    f = _write(tmp_path / "p.csv", _monthly("a", 48, 0))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "3", "--out", str(mine), "--candidates", "stats", "-q"])
    assert res.exit_code == 2 and "not empty" in res.output
    assert (mine / "notes.txt").read_text() == "keep" and len(list(mine.iterdir())) == 1


@pytest.mark.slow  # trains LSTM ensembles
def test_a_series_whose_spread_grows_gets_log_candidates_back_in_its_units():
    t = np.arange(72)
    y = (50 + 3 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) * np.exp(np.random.default_rng(5).normal(0, 0.02, 72))
    data = pd.DataFrame({"unique_id": "grow", "ds": pd.date_range("2000-01-01", periods=72, freq="MS"), "y": y})
    assert lstm.wants_log(y, 12) and not lstm.wants_log(np.linspace(-1, 1, 72), 12)
    r = auto(data, 6, candidates=("lstm",), settings=lstm.Settings(epochs=20, seeds=3, space="full"))
    logs = [c for c in r.leaderboard["candidate"] if c.startswith("LSTM(boxcox")]
    assert len(logs) == 3  # differencing at 1 and at 12, and the calendar's network
    bt = r.backtests
    for c in logs:  # in the series' units: positive, near the data, bands around the point
        assert (bt[c] > 0).all() and (bt[f"{c}-lo-95"] <= bt[c]).all() and (bt[c] <= bt[f"{c}-hi-95"]).all()
        assert np.median(np.abs(bt[c] / bt["y"] - 1)) < 0.5


def test_recursive_networks_read_the_calendar_where_the_dates_name_the_season():
    assert [lstm.calendar_kind(f, m) for f, m in [("MS", 12), ("ME", 12), ("QS-OCT", 4), ("D", 7), ("YS", 1), ("W-SUN", 52), ("h", 24), (None, 12), ("MS", 4)]] == [
        "month", "month", "quarter", "dayofweek", None, None, None, None, None]
    t = np.arange(60)
    y = 100 + t + 10 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(1).normal(0, 1, 60)
    settings = lstm.Settings(epochs=20, seeds=2)
    names = {n: c for n, c, _, _ in lstm.space(y, 12, settings, "MS")}
    cal = [n for n in names if n.endswith(",month)")]
    assert len(cal) == 1 and cal[0].startswith("LSTM(d=1,lags=") and names[cal[0]].calendar == ("month",)
    lags = int(cal[0].split("lags=")[1].split(",")[0])
    assert names[cal[0]].lags == lags < 12  # the autoregression's lags only: the month carries the season
    assert not [n for n in lstm.space(y, 12, dataclasses.replace(settings, calendar=False), "MS") if "month" in n]
    assert not [c for c in lstm.space(y, 1, settings, "YS") if "," in c[0].split("lags=")[1]]


def test_box_cox_is_scipys_with_guerreros_lambda_and_bends_back_to_the_median():
    from coreforecast.scalers import boxcox_lambda
    from scipy.special import boxcox, inv_boxcox

    t = np.arange(96)
    y = (100 + 2 * t) * (1 + 0.25 * np.sin(2 * np.pi * t / 12)) * np.exp(np.random.default_rng(3).normal(0, 0.03, 96))
    tr = lstm.Transform.fit("boxcox", y[:84], 12)
    assert tr.lam == pytest.approx(np.clip(boxcox_lambda(y[:84], method="guerrero", season_length=12), 0, 1), abs=0)
    np.testing.assert_array_equal(tr.forward(y[:84]), boxcox(y[:84], tr.lam))
    np.testing.assert_array_equal(tr.forward_future(y[84:]), boxcox(y[84:], tr.lam))
    z = boxcox(y[84:], tr.lam)
    table = pd.DataFrame({"mean": z + 1.0, "median": z, "lower_80": z - 0.5, "upper_80": z + 0.5, "lower_95": -1e9 + 0 * z, "upper_95": z + 1})
    back = tr.back(table)
    np.testing.assert_allclose(back["mean"].to_numpy(), y[84:], rtol=1e-12)  # the median, moved back: not the mean
    np.testing.assert_allclose(back["upper_80"].to_numpy(), inv_boxcox(z + 0.5, tr.lam), rtol=1e-12)
    assert (back["lower_95"] >= 0).all() and np.isfinite(back["lower_95"]).all()  # below every value's image: 0
    assert lstm.Transform.from_dict(tr.to_dict()).lam == tr.lam and "boxcox_lambda" not in lstm.Transform.fit("log", y, 12).to_dict()


@pytest.mark.parametrize("kind", [None, "log", "boxcox", "stl", "log+stl"])
def test_a_candidates_transform_is_undone_exactly_on_the_future(kind):
    t = np.arange(84)
    y = (100 + t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) + np.random.default_rng(2).normal(0, 1, 84)
    past, future = y[:72], y[72:]
    tr = lstm.Transform.fit(kind, past, 12)
    z = tr.forward_future(future)
    table = pd.DataFrame({c: z for c in ("mean", "median", "lower_80", "upper_80", "lower_95", "upper_95")})
    np.testing.assert_allclose(tr.back(table)["mean"].to_numpy(), future, rtol=1e-12)
    if kind in ("stl", "log+stl"):  # the seasonal component is removed: the adjusted series varies less within a year
        adjusted = tr.forward(past)
        raw = np.log(past) if kind == "log+stl" else past
        assert np.std(np.diff(adjusted)) < 0.5 * np.std(np.diff(raw))


@pytest.mark.parametrize("kind", ["log", "boxcox", "log+stl"])
def test_the_log_and_box_cox_refuse_observations_that_are_not_positive(kind):
    """With a 0 among the observations, Guerrero's lambda came out near 0 (4e-05) and Box-Cox
    mapped the 0 to about -24,000 against 4 for every other value: a positive series whose last
    month sold nothing was forecast inf, or 0 with bands [0, 0], and auto exited 0."""
    t = np.arange(60)
    y = np.exp(3 + 0.03 * t + 0.5 * np.sin(2 * np.pi * t / 12))
    lstm.Transform.fit(kind, y, 12)  # positive: fitted
    y[-1] = 0.0
    with pytest.raises(ValueError, match=r"needs positive observations \(1 at or below 0\)"):
        lstm.Transform.fit(kind, y, 12)


@pytest.mark.slow  # trains LSTM ensembles
def test_a_box_cox_network_chosen_before_a_last_zero_gives_way_to_the_next_and_nothing_is_inf():
    t = np.arange(60)
    y = np.exp(3 + 0.03 * t + 0.5 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(22).normal(0, 0.05, 60))
    y[-1] = 0.0  # the last month sold nothing
    data = pd.DataFrame({"unique_id": "z", "ds": pd.date_range("2016-01-01", periods=60, freq="MS"), "y": y})
    r = auto(data, 6, candidates=("lstm",), settings=lstm.Settings(epochs=20, seeds=2, space="full"))
    values = r.forecasts[["mean", "median", "lower_80", "upper_80", "lower_95", "upper_95"]].to_numpy()
    assert np.isfinite(values).all() and (values[:, 0] > 0).all()
    chosen = r.forecasts["model"].iloc[0]
    assert "boxcox" not in chosen and "log" not in chosen
    assert r.leaderboard["candidate"].str.contains("boxcox").any()  # backtested on the positive values before each origin
    ranked_first = r.leaderboard["candidate"].iloc[0]
    if "boxcox" in ranked_first:  # as on this machine: said in the verdict
        assert "could not be fitted on every observation (Box-Cox needs positive observations (1 at or below 0))" in r.verdicts["z"]


@pytest.mark.slow  # trains LSTM ensembles
def test_hybrid_candidates_forecast_what_stl_leaves():
    data = _monthly("s", 72, 6, level=0.0)
    r = auto(data, 6, candidates=("hybrid",), settings=lstm.Settings(epochs=20, seeds=2))
    board = r.leaderboard
    assert list(board["family"]) == ["hybrid"] and board["candidate"].item().startswith("Hybrid(STL+LSTM")
    assert np.isfinite(board["mase"]).all() and board["mase"].item() < 3


def _growing():
    t = np.arange(72)
    y = (50 + 3 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) * np.exp(np.random.default_rng(5).normal(0, 0.02, 72))
    return pd.DataFrame({"unique_id": "grow", "ds": pd.date_range("2000-01-01", periods=72, freq="MS"), "y": y})


@pytest.mark.slow  # trains LSTM ensembles
def test_a_chosen_hybrid_is_saved_and_forecasts_what_auto_wrote(tmp_path):
    r = auto(_growing(), 6, candidates=("hybrid",), settings=lstm.Settings(epochs=20, seeds=3))
    assert r.forecasts["model"].iloc[0].startswith("Hybrid(")
    r.save(tmp_path / "o")
    folder = pd.read_csv(tmp_path / "o" / "models" / "index.csv")["folder"].item()
    res = CliRunner().invoke(app, ["forecast", str(tmp_path / "o" / "models" / folder), "--horizon", "6", "--out", str(tmp_path / "f.csv"), "-q"])
    assert res.exit_code == 0, res.output
    mine = pd.read_csv(tmp_path / "f.csv")
    for col in ("mean", "median", "lower_80", "upper_80", "lower_95", "upper_95"):
        np.testing.assert_allclose(mine[col].to_numpy(), r.forecasts[col].to_numpy(), rtol=1e-6, err_msg=col)
    described = CliRunner().invoke(app, ["describe", str(tmp_path / "o" / "models" / folder)])
    assert described.exit_code == 0 and "STL seasonal component" in described.output


@pytest.mark.slow  # trains an LSTM ensemble
def test_log_lstms_and_combinations_round_trip_through_their_directories(tmp_path):
    from lstmtune.forecast import composite
    from lstmtune.forecast.statmodel import StatModel

    frame = _growing()
    y = frame["y"].to_numpy()
    settings = lstm.Settings(epochs=20, seeds=3, space="full")
    cols = ["mean", "lower_80", "upper_80", "lower_95", "upper_95"]
    for bent in ("log", "boxcox"):  # the logarithm, and Box-Cox (the default) with its lambda saved
        space = lstm.space(y, 12, dataclasses.replace(settings, boxcox=bent == "boxcox"))
        name, config, transform, _ = next(c for c in space if c[2] == bent)
        table, model = lstm.forecast(frame, 6, name, config, settings, None, transform, 12)
        assert isinstance(model, composite.Transformed) and (model.transform.lam is not None) == (bent == "boxcox")
        direct = model.forecast(6)
        np.testing.assert_allclose(direct["mean"].to_numpy(), table[name].to_numpy(), rtol=1e-12)  # what auto writes
        model.save(tmp_path / bent)
        again = composite.load(tmp_path / bent)
        assert again.transform.lam == model.transform.lam
        np.testing.assert_allclose(again.forecast(6)[cols].to_numpy(), direct[cols].to_numpy(), rtol=1e-6)
    stat = StatModel("StatsMedian", 12, "MS", "grow", frame["ds"].to_numpy(dtype="datetime64[ns]"), y)
    combo = composite.Combination((model, stat), "mean", "grow")
    combo.save(tmp_path / "combo")
    expected = (direct[cols].to_numpy() + stat.forecast(6)[cols].to_numpy()) / 2
    np.testing.assert_allclose(composite.load(tmp_path / "combo").forecast(6)[cols].to_numpy(), expected, rtol=1e-6)
    # a member alone forecast on the transformed scale (or unclipped, uncombined), and took any --data: refused, naming the model
    for member, whole in ((tmp_path / "boxcox" / "inner", tmp_path / "boxcox"), (tmp_path / "combo" / "member0" / "inner", tmp_path / "combo" / "member0"),
                          (tmp_path / "combo" / "member1", tmp_path / "combo")):
        res = CliRunner().invoke(app, ["forecast", str(member) + "/", "--horizon", "3", "--out", str(tmp_path / "f.csv")])
        assert res.exit_code == 2 and f"a member of the model directory {whole}" in " ".join(res.output.split()) and not (tmp_path / "f.csv").exists()
    res = CliRunner().invoke(app, ["forecast", str(tmp_path / "boxcox"), "--horizon", "3", "--out", str(tmp_path / "f.csv")])
    assert res.exit_code == 0 and (tmp_path / "f.csv").exists()
    # a composite's manifest carries its checksum: an edit is one line; an edit whose checksum was recomputed
    # is checked for what a composite can be (it raised KeyError, TypeError, DateParseError, or forecast
    # nonsense: "log": "false" read as true), and a member is a folder of the directory, never a path elsewhere
    import json
    import shutil

    from lstmtune.forecast import manifest as manifest_file

    cycle = {"log": True, "m": 12, "season_last_cycle": None}
    edits = {"transform": ({"transform": {}}, "transform.log None is not true or false"), "members": ({"members": [5]}, "member 5 is not a folder"),
             "elsewhere": ({"members": ["../boxcox"]}, "member '../boxcox' is not a folder"), "absolute": ({"members": [str(tmp_path / "combo")]}, "is not a folder"),
             "history": ({"history": {"ds": ["x"], "y": [1]}}, "malformed (DateParseError"), "history lengths": ({"history": {"ds": [], "y": [1.0]}}, "history has 0 dates for 1 values"),
             "log as text": ({"transform": {**cycle, "log": "false"}}, "transform.log 'false' is not true or false"),
             "season length": ({"transform": {**cycle, "m": 0}}, "transform.m 0 is not a season length"),
             "season cycle": ({"transform": {**cycle, "season_last_cycle": [0.0] * 11}}, "season_last_cycle is not 12 finite numbers"),
             "lambda": ({"transform": {**cycle, "log": False, "boxcox_lambda": 5}}, "boxcox_lambda 5 is not a number in [0, 1]"),
             "rule": ({"rule": "max"}, "rule 'max' is not one lstmtune writes"), "two members": ({"members": ["inner", "inner"]}, "a transform has one member, not 2"),
             "format": ({"format_version": 3}, "not a composite model of format 1 or 2")}
    for label, (change, needle) in {**edits, "not resealed": ({"series_name": "other"}, "edited or corrupted (its checksum does not match its content)")}.items():
        shutil.copytree(tmp_path / "log", tmp_path / label)
        manifest = json.loads((tmp_path / label / "manifest.json").read_text())
        edited = {**manifest, **change}
        if label != "not resealed":
            edited["checksum"] = manifest_file.content_hash(edited)
        (tmp_path / label / "manifest.json").write_text(json.dumps(edited))
        for argv in (["forecast", str(tmp_path / label), "--horizon", "3", "--out", str(tmp_path / "g.csv")], ["describe", str(tmp_path / label)]):
            res = CliRunner().invoke(app, argv)
            assert res.exit_code == 2 and needle in " ".join(res.output.split()) and "Traceback" not in res.output, (label, res.output)
    # a composite written before the checksum (format 1) is still read
    old = json.loads((tmp_path / "log" / "manifest.json").read_text())
    old.pop("checksum")
    shutil.copytree(tmp_path / "log", tmp_path / "format1")
    (tmp_path / "format1" / "manifest.json").write_text(json.dumps({**old, "format_version": 1}))
    np.testing.assert_array_equal(composite.load(tmp_path / "format1").forecast(3)["mean"].to_numpy(), composite.load(tmp_path / "log").forecast(3)["mean"].to_numpy())
    assert not (tmp_path / "g.csv").exists()


def test_a_given_frequency_must_fit_the_dates():
    from lstmtune.data import panel

    a = _monthly("a", 40, 0)
    assert panel.triage(a, 6, freq="MS").status == "ok"
    v = panel.triage(a.drop(index=10).reset_index(drop=True), 6, freq="MS")
    assert v.status == "skip" and v.reason.startswith("1 date absent from its MS dates (2010-11-01)"), v.reason
    off = a.assign(ds=a["ds"].where(a.index != 10, pd.Timestamp("2010-11-15")))
    v = panel.triage(off, 6, freq="MS")
    assert v.status == "skip" and "not regular at freq MS: 2010-11-15 where 2010-11-01 was due" in v.reason, v.reason
    assert panel.triage(a, 6, freq="fortnightly").status == "skip"


@pytest.mark.slow  # trains LSTM ensembles
@pytest.mark.fresh_statistics  # bit-identity across runs: statsforecast asked twice too
def test_same_data_and_seed_give_bit_identical_outputs_and_another_seed_other_lstms():
    data = _monthly("a", 60, 3, level=0.0)
    run = lambda seed: auto(data, 4, candidates=("lstm", "stats"), settings=lstm.Settings(epochs=20, seeds=2, seed=seed))  # noqa: E731
    a, b, c = run(0), run(0), run(1)
    pd.testing.assert_frame_equal(a.forecasts, b.forecasts, check_exact=True)
    pd.testing.assert_frame_equal(a.backtests, b.backtests, check_exact=True)
    pd.testing.assert_frame_equal(a.leaderboard, b.leaderboard, check_exact=True)
    lstm_cols = [col for col in a.backtests.columns if col.startswith("LSTM(") and "-" not in col.split(")")[-1]]
    assert lstm_cols and not np.allclose(a.backtests[lstm_cols].to_numpy(), c.backtests[lstm_cols].to_numpy())
    np.testing.assert_array_equal(a.backtests["AutoETS"].to_numpy(), c.backtests["AutoETS"].to_numpy())  # the seed is the LSTMs' only


def _same_as_statsforecast(data, r, name, h, freq, **kwargs):
    """``name``'s backtest columns are statsforecast's own cross-validation of that model."""
    import statsforecast.models as sm
    from statsforecast import StatsForecast
    from statsforecast.utils import ConformalIntervals

    model = {"TSB": lambda: sm.TSB(alpha_d=0.2, alpha_p=0.2, prediction_intervals=ConformalIntervals(h=h, n_windows=2)),
             "MSTL": lambda: sm.MSTL(season_length=kwargs["seasons"], trend_forecaster=sm.AutoETS(model="ZZN"))}[name]()
    windows = r.backtests["cutoff"].nunique()
    ref = StatsForecast(models=[model], freq=freq).cross_validation(df=data, h=h, step_size=h, n_windows=windows, level=[80, 95])
    for col in (name, f"{name}-lo-80", f"{name}-hi-95"):
        np.testing.assert_allclose(r.backtests[col].to_numpy(), ref[col].to_numpy(), rtol=1e-9, err_msg=col)


def test_an_intermittent_series_gets_croston_and_its_saved_model_agrees(tmp_path):
    rng = np.random.default_rng(0)
    n = 104
    y = np.where(rng.random(n) < 0.6, 0.0, rng.poisson(5, n).astype(float))
    data = pd.DataFrame({"unique_id": "spares", "ds": pd.date_range("2020-01-06", periods=n, freq="W-MON"), "y": y})
    r = auto(data, 8, candidates=("stats", "combo"))
    assert {"CrostonOptimized", "TSB"} <= set(r.leaderboard["candidate"])
    assert {"CrostonOptimized-lo-80", "CrostonOptimized-hi-95", "TSB-lo-80", "TSB-hi-95"} <= set(r.backtests.columns)
    _same_as_statsforecast(data, r, "TSB", 8, "W-MON")
    assert (r.forecasts[["mean", "lower_80", "lower_95"]] >= 0).all().all()
    r.save(tmp_path / "o")
    folder = pd.read_csv(tmp_path / "o" / "models" / "index.csv")["folder"].item()
    res = CliRunner().invoke(app, ["forecast", str(tmp_path / "o" / "models" / folder), "--horizon", "8", "--out", str(tmp_path / "f.csv"), "-q"])
    assert res.exit_code == 0, res.output
    np.testing.assert_allclose(pd.read_csv(tmp_path / "f.csv")["mean"].to_numpy(), r.forecasts["mean"].to_numpy(), rtol=1e-9)


def test_an_earlier_output_folder_holding_anything_else_is_not_replaced(tmp_path, no_arima):
    f = _write(tmp_path / "p.csv", _monthly("a", 48, 0))
    out = tmp_path / "o"
    assert CliRunner().invoke(app, ["auto", str(f), "--horizon", "3", "--out", str(out), "--candidates", "stats", "-q"]).exit_code == 0
    (out / "my-notes.txt").write_text("keep")
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "3", "--out", str(out), "--candidates", "stats", "-q"])
    assert res.exit_code == 2 and "my-notes.txt" in res.output and (out / "my-notes.txt").read_text() == "keep"
    (tmp_path / "q").mkdir()
    inside = _write(tmp_path / "q" / "data.csv", _monthly("a", 48, 0))
    res = CliRunner().invoke(app, ["auto", str(inside), "--horizon", "3", "--out", str(tmp_path / "q"), "--candidates", "stats", "-q"])
    assert res.exit_code == 2 and "holds the input" in res.output and inside.is_file()


def test_infinite_or_absent_values_skip_their_series_only(no_arima):
    good = _monthly("good", 48, 0)
    inf = _monthly("inf", 48, 1)
    inf.loc[7, "y"] = np.inf
    empty = _monthly("empty", 48, 2).assign(y=np.nan)
    r = auto(pd.concat([good, inf, empty]), 3, candidates=("stats",), missing="interpolate")
    status = r.leaderboard.drop_duplicates("unique_id").set_index("unique_id")["status"].to_dict()
    assert status == {"good": "ok", "inf": "skipped", "empty": "skipped"}
    assert set(r.forecasts["unique_id"]) == {"good"} and np.isfinite(r.forecasts[["mean", "lower_95", "upper_95"]]).all().all()


@pytest.mark.slow  # trains LSTM ensembles
def test_direct_lstms_are_candidates_and_the_pair_is_the_mean_of_the_best_of_each(lstm_run):
    from lstmtune.auto.run import LSTM_PAIR

    r, _ = lstm_run
    board = r.leaderboard.set_index("candidate")
    recursive = [c for c in board.index if c.startswith("LSTM(")]
    direct = [c for c in board.index if c.startswith("DirectLSTM(")]
    assert recursive and direct and LSTM_PAIR in board.index and board.loc[LSTM_PAIR, "family"] == "lstm"
    best = (min(recursive, key=lambda c: board.loc[c, "mase"]), min(direct, key=lambda c: board.loc[c, "mase"]))
    bt = r.backtests
    for col in ("", "-lo-80", "-hi-95"):
        np.testing.assert_allclose(bt[LSTM_PAIR + col].to_numpy(), (bt[best[0] + col] + bt[best[1] + col]).to_numpy() / 2, rtol=1e-12)


@pytest.mark.slow  # trains LSTM ensembles
def test_a_direct_lstm_and_the_pair_are_saved_and_forecast_what_auto_would_write(tmp_path):
    from lstmtune.auto import final
    from lstmtune.auto import run as auto_run
    from lstmtune.forecast import composite

    frame = _monthly("d", 60, 5, level=0.0)
    settings = lstm.Settings(epochs=20, seeds=3, space="full")
    name, config, transform, _ = next(c for c in lstm.space(frame["y"].to_numpy(), 12, settings) if c[0].startswith("DirectLSTM("))
    table, model = lstm.forecast(frame, 5, name, config, settings, None, transform, 12)
    model.save(tmp_path / "direct")
    res = CliRunner().invoke(app, ["forecast", str(tmp_path / "direct"), "--horizon", "5", "--out", str(tmp_path / "f.csv"), "-q"])
    assert res.exit_code == 0, res.output
    np.testing.assert_allclose(pd.read_csv(tmp_path / "f.csv")["upper_95"].to_numpy(), table[f"{name}-hi-95"].to_numpy(), rtol=1e-6)
    longer = CliRunner().invoke(app, ["forecast", str(tmp_path / "direct"), "--horizon", "6", "--out", str(tmp_path / "g.csv"), "-q"])
    assert longer.exit_code != 0 and "from 1 to 5" in longer.output and not (tmp_path / "g.csv").exists()
    described = CliRunner().invoke(app, ["describe", str(tmp_path / "direct")])
    assert described.exit_code == 0 and "Dense(5) head" in described.output
    import json
    import shutil

    for label, change, needle in (("noweights", lambda m: m.pop("weights"), "malformed (no weights checksum)"),
                                  ("textspec", lambda m: m["spec"].update(horizon="x"), "malformed (spec.horizon = 'x'")):
        shutil.copytree(tmp_path / "direct", tmp_path / label)
        manifest = json.loads((tmp_path / label / "manifest.json").read_text())
        change(manifest)
        (tmp_path / label / "manifest.json").write_text(json.dumps(manifest))
        res = CliRunner().invoke(app, ["forecast", str(tmp_path / label), "--horizon", "5", "--out", str(tmp_path / "g.csv")])
        assert res.exit_code == 2 and needle in " ".join(res.output.split()), res.output
    # the pair, as auto's final step builds it, round-trips through its directory
    names = [c[0] for c in lstm.space(frame["y"].to_numpy(), 12, settings)]
    pair = (next(n for n in names if n.startswith("LSTM(")), name)
    board = pd.DataFrame({"candidate": [pair[0], pair[1]], "family": "lstm", "mase": [1.0, 1.1]})
    lstm_names = {n: (c, t) for n, c, t, _ in lstm.space(frame["y"].to_numpy(), 12, settings) if n in pair}
    t, combo = final.fit_chosen("d", frame, 5, auto_run.LSTM_PAIR, board, lstm_names, [], "MS", 12, settings, {})
    combo.save(tmp_path / "pair")
    back = composite.load_any(tmp_path / "pair").forecast(5)
    np.testing.assert_allclose(back["mean"].to_numpy(), t["mean"].to_numpy(), rtol=1e-6)


@pytest.mark.figures
def test_the_report_summarises_the_panel_and_says_when_the_budget_bound(tmp_path, no_arima):
    from lstmtune.auto import score

    data = pd.concat([_monthly("a", 60, 41), _monthly("b", 66, 42, level=40.0), _monthly("short", 10, 43)])
    r = auto(data, 4, candidates=("lstm", "stats"), time_budget=0.0)
    summary = score.panel_summary(r.leaderboard)
    assert dict(zip(summary["status"]["status"], summary["status"]["series"])) == {"ok": 2, "fallback": 1}
    assert summary["families"]["series"].sum() == 2 and set(summary["families"]["family"]) == {"stats"}
    assert set(summary["budget"]["unique_id"]) == {"a", "b"}
    worst = summary["worst"].iloc[0]
    chosen = r.leaderboard[(r.leaderboard["chosen"] == True) & (r.leaderboard["status"] == "ok")]  # noqa: E712
    assert worst["mase"] == chosen["mase"].max()
    r.save(tmp_path / "o")
    page = (tmp_path / "o" / "report.html").read_text()
    assert "<h2>The panel</h2>" in page and "The time budget bound" in page and "for 2 series (a, b)" in page


@pytest.mark.slow  # trains LSTM ensembles
def test_other_interval_levels_run_through_every_candidate_and_saved_model(tmp_path):
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    data = _monthly("lv", 60, 51, level=20.0)
    r = auto(data, 4, levels=(99, 50), settings=lstm.Settings(epochs=10, seeds=3))
    bands = ["lower_50", "upper_50", "lower_99", "upper_99"]
    assert list(r.forecasts.columns) == ["unique_id", "ds", "model", "mean", "median", *bands]
    assert {"coverage_50", "coverage_99"} <= set(r.leaderboard.columns) and "coverage_80" not in r.leaderboard.columns
    fc = r.forecasts
    assert (fc["lower_99"] <= fc["lower_50"]).all() and (fc["upper_50"] <= fc["upper_99"]).all()
    board = r.leaderboard.set_index("candidate")
    for name in board.index[board["family"].isin(["lstm", "hybrid"])]:
        assert {f"{name}-lo-50", f"{name}-hi-99"} <= set(r.backtests.columns)
    ref = StatsForecast(models=[AutoETS(season_length=12)], freq="MS").cross_validation(df=data, h=4, step_size=4, n_windows=2, level=[50, 99])
    np.testing.assert_allclose(r.backtests["AutoETS-lo-50"].to_numpy(), ref["AutoETS-lo-50"].to_numpy(), rtol=1e-9)
    r.save(tmp_path / "o")
    folder = pd.read_csv(tmp_path / "o" / "models" / "index.csv")["folder"].item()
    res = CliRunner().invoke(app, ["forecast", str(tmp_path / "o" / "models" / folder), "--horizon", "4", "--out", str(tmp_path / "f.csv")])
    assert res.exit_code == 0 and "50% interval" in res.output, res.output
    mine = pd.read_csv(tmp_path / "f.csv")
    for col in ("mean", *bands):
        np.testing.assert_allclose(mine[col].to_numpy(), fc[col].to_numpy(), rtol=1e-6, err_msg=col)
    for chosen in ("AutoETS", "StatsMedian"):  # statistical models keep their levels in their directories too
        from lstmtune.auto import final

        model = final.statmodel("lv", data, chosen, 12, "MS", members=("AutoETS", "AutoTheta") if chosen == "StatsMedian" else (), levels=(50, 99))
        model.save(tmp_path / chosen)
        back = CliRunner().invoke(app, ["forecast", str(tmp_path / chosen), "--horizon", "3", "--out", str(tmp_path / f"{chosen}.csv"), "-q"])
        assert back.exit_code == 0, back.output
        assert {"lower_50", "upper_99"} <= set(pd.read_csv(tmp_path / f"{chosen}.csv").columns)


def test_a_pools_members_in_each_window_are_the_best_on_the_other_windows():
    """Pool(top3)'s backtest in a window is the mean of the three candidates of lowest mean MASE
    over the other windows, never chosen on the window it is scored on."""
    from lstmtune.auto import backtests, combination
    from lstmtune.auto import run as auto_run
    from lstmtune.auto import score

    frame = _monthly("a", 72, 61)
    cutoffs = list(frame["ds"].iloc[[47, 59]])
    rng = np.random.default_rng(0)
    bt = backtests.base_backtests(frame, cutoffs, 12)
    names = ["m1", "m2", "m3", "m4", "m5"]
    for k, n in enumerate(names):
        bt[n] = bt["y"] + rng.normal(0, 1 + k, len(bt)) * np.where(bt["cutoff"] == cutoffs[0], 1.0, 5.0 - k)
        for level in (80, 95):
            bt[f"{n}-lo-{level}"], bt[f"{n}-hi-{level}"] = bt[n] - 1.0, bt[n] + 1.0
    assert combination.add_pool(bt, frame, names, auto_run.POOL, 12)
    per_window = {n: score.scaled_errors(bt, frame, n, 12)[1] for n in names}
    for k, cutoff in enumerate(cutoffs):
        other = 1 - k
        top = sorted(names, key=lambda n: per_window[n][other])[:3]
        rows = bt["cutoff"] == cutoff
        np.testing.assert_allclose(bt.loc[rows, auto_run.POOL], bt.loc[rows, top].mean(axis=1), rtol=1e-12)
        np.testing.assert_allclose(bt.loc[rows, f"{auto_run.POOL}-hi-95"], bt.loc[rows, top].mean(axis=1) + 1.0, rtol=1e-12)
    assert not combination.add_pool(bt[bt["cutoff"] == cutoffs[0]].copy(), frame, names, auto_run.POOL, 12)  # one window: no pool
    assert not combination.add_pool(bt, frame, names[:2], auto_run.POOL, 12)


@pytest.mark.slow  # trains LSTM ensembles
def test_a_chosen_pool_forecasts_the_mean_of_its_members_and_is_saved(tmp_path):
    from lstmtune.auto import backtests, combination, final
    from lstmtune.auto import run as auto_run
    from lstmtune.data import panel
    from lstmtune.forecast import composite

    frame = _monthly("a", 60, 62)
    settings = lstm.Settings(epochs=10, seeds=2, space="full")
    v = panel.triage(frame, 4)
    plan = backtests.plan_series(frame, v, 4, auto_run.FAMILIES, settings, 2)
    sc = backtests.score_series("a", frame, v, 4, auto_run.FAMILIES, settings, plan, lambda stage: None)
    board = sc.board.set_index("candidate")
    assert board.loc[auto_run.POOL, "family"] == "combo" and board.loc[auto_run.POOL_LSTM, "family"] == "lstm"
    for pool in (auto_run.POOL, auto_run.POOL_LSTM):
        members = combination.pool_members(sc.board, pool)
        assert len(members) == 3 and not set(members) & set(combination.combined_names())
        if pool == auto_run.POOL_LSTM:
            assert set(board.loc[members, "family"]) == {"lstm"}
        chosen = auto_run.dataclasses.replace(sc, chosen=pool)
        fc, *_, model = final.finish(chosen, 4, settings)
        singles = [final.finish(auto_run.dataclasses.replace(sc, chosen=n), 4, settings)[0] for n in members]
        np.testing.assert_allclose(fc["mean"].to_numpy(), np.mean([t["mean"].to_numpy() for t in singles], axis=0), rtol=1e-9)
        np.testing.assert_allclose(fc["upper_95"].to_numpy(), np.mean([t["upper_95"].to_numpy() for t in singles], axis=0), rtol=1e-9)
        model.save(tmp_path / pool)
        back = composite.load_any(tmp_path / pool).forecast(4)
        np.testing.assert_allclose(back["mean"].to_numpy(), fc["mean"].to_numpy(), rtol=1e-6)




def test_text_dates_and_values_are_parsed_as_the_cli_parses_them(no_arima):
    """A frame read with plain ``pd.read_csv`` (text dates) forecasts as the parsed frame does."""
    frame = _monthly("a", 60, 3)
    settings = lstm.Settings(epochs=2, seeds=1)
    parsed = auto(frame, horizon=6, candidates=("stats",), settings=settings)
    text = auto(frame.assign(ds=frame["ds"].dt.strftime("%Y-%m-%d"), y=frame["y"].map(repr)), horizon=6, candidates=("stats",), settings=settings)
    pd.testing.assert_frame_equal(text.forecasts, parsed.forecasts)
    assert (text.leaderboard["status"] == "ok").all()


@pytest.mark.parametrize("column, cell, needle", [("ds", "2010-13-45", "row 7, column 'ds': '2010-13-45' is not a date"),
                                                  ("y", "12,5", "row 7, column 'y': '12,5' is not a number")])
def test_a_cell_that_does_not_parse_is_named(column, cell, needle, no_arima):
    from lstmtune.errors import LstmtuneError

    frame = _monthly("a", 60, 3)
    frame = frame.assign(ds=frame["ds"].dt.strftime("%Y-%m-%d"), y=frame["y"].astype(object))
    frame.loc[7, column] = cell
    with pytest.raises(LstmtuneError, match=needle.replace("(", r"\(")):
        auto(frame, horizon=6, candidates=("stats",))


def test_frames_the_api_is_given_are_checked_as_the_cli_checks_files(no_arima):
    """No rows, a row without its series: one error naming it. Dates with a time zone: read as
    the CLI reads an offset (the zone dropped). A missing date: that series skipped, named."""
    from lstmtune.errors import LstmtuneError

    a, b = _monthly("a", 48, 0), _monthly("b", 48, 1)
    with pytest.raises(LstmtuneError, match="the data have no rows"):
        auto(a.iloc[:0], 6, candidates=("stats",))
    unnamed = pd.concat([a, b], ignore_index=True).astype({"unique_id": object})
    unnamed.loc[50, "unique_id"] = None
    with pytest.raises(LstmtuneError, match="row 50, column 'unique_id': missing"):
        auto(unnamed, 6, candidates=("stats",))
    with pytest.raises(LstmtuneError, match=r"row 500, column 'unique_id': missing"):  # the label as given, not np.int64(500)
        auto(unnamed.set_axis(unnamed.index * 10), 6, candidates=("stats",))
    # 1 and "1" (True and "True"): two series that every output would name alike (one model was lost)
    for one, other in ((1, "1"), (True, "True")):
        mixed = pd.concat([a.assign(unique_id=one), b.assign(unique_id=other)], ignore_index=True).astype({"unique_id": object})
        with pytest.raises(LstmtuneError, match=f"{one!r} and {other!r} are one series once written as text"):
            auto(mixed, 6, candidates=("stats",))
    naive = auto(a, 6, candidates=("stats",))
    zoned = auto(a.assign(ds=a["ds"].dt.tz_localize("Europe/Paris")), 6, candidates=("stats",))
    pd.testing.assert_frame_equal(zoned.forecasts, naive.forecasts)
    gap = b.copy()
    gap.loc[10, "ds"] = pd.NaT
    r = auto(pd.concat([a, gap], ignore_index=True), 6, candidates=("stats",))
    status = r.leaderboard.drop_duplicates("unique_id").set_index("unique_id")
    assert status.loc["a", "status"] == "ok"
    assert (status.loc["b", "status"], status.loc["b", "reason"]) == ("skipped", "1 missing date")
    assert r.exit_code == 3


@pytest.mark.parametrize("rows, needle", [([], "p.csv: no rows under the header"),
                                          ([("a", "2015-01-01", "1"), (" ", "2015-02-01", "2")], "p.csv: line 3, column 'unique_id': empty")])
def test_a_panel_file_without_rows_or_with_a_nameless_row_is_refused_naming_it(tmp_path, rows, needle):
    f = tmp_path / "p.csv"
    f.write_text("unique_id,ds,y\n" + "".join(f"{u},{d},{y}\n" for u, d, y in rows))
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "3", "--out", str(tmp_path / "o"), "--candidates", "stats", "-q"])
    assert res.exit_code == 2
    assert needle in res.output
    assert not (tmp_path / "o").exists()


def test_dates_across_a_clock_change_keep_their_days_or_become_utc_hours(tmp_path, no_arima):
    """Monthly dates in Paris time (offsets +01:00 and +02:00 mixed in the file): the calendar
    months, in the API and the CLI alike. Hourly ones across the autumn change: UTC hours, so
    that no hour repeats (the local times would give a duplicate date and skip the series)."""
    from lstmtune.data import panel

    monthly = _monthly("m", 60, 0).assign(ds=lambda f: f["ds"].dt.tz_localize("Europe/Paris"))
    f = tmp_path / "paris.csv"
    monthly.to_csv(f, index=False)
    assert len(set(pd.read_csv(f)["ds"].str[-6:])) == 2  # two offsets in the file
    assert panel.read(f)["ds"].equals(_monthly("m", 60, 0)["ds"])
    api = auto(pd.read_csv(f), 6, candidates=("stats",))
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "6", "--out", str(tmp_path / "o"), "--candidates", "stats", "-q"])
    assert res.exit_code == 0, res.output
    cli = pd.read_csv(tmp_path / "o" / "forecasts.csv", parse_dates=["ds"])
    assert list(api.forecasts["ds"]) == list(cli["ds"]) == list(pd.date_range("2015-01-01", periods=6, freq="MS"))
    hours = pd.date_range("2023-10-28", periods=96, freq="h", tz="Europe/Paris")
    hourly = pd.DataFrame({"unique_id": "h", "ds": hours, "y": 10 + np.sin(np.arange(96) * 2 * np.pi / 24)})
    r = auto(hourly, 6, candidates=("stats",))
    assert r.exit_code == 0 and r.utc == ("h",)  # saved, its CSVs mark them (below)
    assert r.forecasts["ds"].iloc[0] == hours[-1].tz_convert("UTC").tz_localize(None) + pd.Timedelta(hours=1)
    # In a file, beside the monthly series: the hourly series' times are UTC, and its outputs say so (+00:00);
    # before, they were written as bare times, one or two hours off for a reader in Paris.
    both = tmp_path / "both.csv"
    pd.concat([monthly.assign(ds=monthly["ds"].map(lambda t: t.isoformat())), hourly.assign(ds=hours.map(lambda t: t.isoformat()))]).to_csv(both, index=False)
    assert panel.read(both).attrs[panel.UTC] == ["h"]
    res = CliRunner().invoke(app, ["auto", str(both), "--horizon", "6", "--out", str(tmp_path / "b"), "--candidates", "stats"])
    assert res.exit_code == 0, res.output
    assert "note: h: times with UTC offsets read as UTC times" in " ".join(res.output.split())
    text = pd.read_csv(tmp_path / "b" / "forecasts.csv", dtype=str)
    h, m = text[text["unique_id"] == "h"], text[text["unique_id"] == "m"]
    assert h["ds"].str.endswith("+00:00").all() and not m["ds"].str.contains(r"\+|:").any()
    assert pd.to_datetime(h["ds"]).tolist() == list(pd.date_range(hours[-1].tz_convert("UTC") + pd.Timedelta(hours=1), periods=6, freq="h"))
    tested = pd.read_csv(tmp_path / "b" / "backtests.csv", dtype=str)
    assert tested.loc[tested["unique_id"] == "h", "cutoff"].str.endswith("+00:00").all()
    report = (tmp_path / "b" / "report.html").read_text()
    assert "Times of h are UTC" in report and f"<td>{h['ds'].iloc[0]}</td>" in report  # the report's table marks them too
    res = CliRunner().invoke(app, ["forecast", str(tmp_path / "b" / "models"), "--horizon", "6", "--out", str(tmp_path / "again.csv"), "-q"])
    assert res.exit_code == 0, res.output
    again = pd.read_csv(tmp_path / "again.csv", dtype=str)
    assert again.loc[again["unique_id"] == "h", "ds"].tolist() == h["ds"].tolist() and again.loc[again["unique_id"] == "m", "ds"].tolist() == m["ds"].tolist()
    # one series' model directory alone: its forecast marks the times too (before, bare times), the monthly one's days stay days
    index = pd.read_csv(tmp_path / "b" / "models" / "index.csv", dtype=str).set_index("unique_id")["folder"]
    for uid, expected in (("h", h), ("m", m)):
        res = CliRunner().invoke(app, ["forecast", str(tmp_path / "b" / "models" / index[uid]), "--horizon", "6", "--out", str(tmp_path / f"{uid}.csv"), "-q"])
        assert res.exit_code == 0, res.output
        dates = pd.read_csv(tmp_path / f"{uid}.csv", dtype=str)["date"]
        assert pd.to_datetime(dates).tolist() == pd.to_datetime(expected["ds"]).tolist()
        assert dates.str.endswith("+00:00").all() if uid == "h" else not dates.str.contains(r"\+|:").any()
        assert ("times of h are UTC" in " ".join(res.output.split())) == (uid == "h")
        import shutil  # moved out of models/ (no index beside it): the directory says so itself (bare times before)

        shutil.copytree(tmp_path / "b" / "models" / index[uid], tmp_path / f"moved_{uid}")
        res = CliRunner().invoke(app, ["forecast", str(tmp_path / f"moved_{uid}"), "--horizon", "6", "--out", str(tmp_path / f"moved_{uid}.csv"), "-q"])
        assert res.exit_code == 0 and pd.read_csv(tmp_path / f"moved_{uid}.csv", dtype=str)["date"].tolist() == dates.tolist(), res.output


def test_text_cells_in_the_api_read_as_in_a_file(no_arima):
    """'NA', 'nan', empty text: missing values; spaces around dates and names dropped; a
    boolean is not a quantity to forecast."""
    from lstmtune.errors import LstmtuneError

    a = _monthly("a", 48, 0)
    text = a.assign(unique_id=" a ", ds=a["ds"].dt.strftime(" %Y-%m-%d "), y=a["y"].map(repr))
    text.loc[[5, 9, 12], "y"] = ["NA", "nan", ""]
    r = auto(text, 6, candidates=("stats",), missing="interpolate")
    assert r.exit_code == 0 and set(r.forecasts["unique_id"]) == {"a"}
    assert "3 missing values interpolated" in r.leaderboard["reason"].iloc[0]
    with pytest.raises(LstmtuneError, match="column 'y'"):
        auto(a.assign(y=a["y"] > 100), 6, candidates=("stats",))


@pytest.mark.parametrize("column, cell, needle", [("y", "abc", "line 56, column 'y': 'abc' is not a number"),
                                                  ("ds", "notadate", "line 56, column 'ds': 'notadate' is not a date"),
                                                  ("y", "1e308", "line 50, column 'y': '1e308' is beyond 1e+30")])
def test_a_bad_cell_or_value_in_one_series_of_a_panel_skips_that_series_only(tmp_path, column, cell, needle, no_arima):
    a, b = _monthly("A", 48, 0), _monthly("B", 48, 1)
    frame = pd.concat([a, b], ignore_index=True).assign(ds=lambda f: f["ds"].dt.strftime("%Y-%m-%d"), y=lambda f: f["y"].map(repr))
    if cell == "1e308":
        frame.loc[frame["unique_id"] == "B", "y"] = cell  # every value: the figure of such a series once crashed the command
    else:
        frame.loc[54, column] = cell  # line 56 of the file: B's 7th row
    f = tmp_path / "p.csv"
    frame.to_csv(f, index=False)
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "6", "--out", str(tmp_path / "o"), "--candidates", "stats", "-q"])
    assert res.exit_code == 3, res.output
    board = pd.read_csv(tmp_path / "o" / "leaderboard.csv")
    first = board.drop_duplicates("unique_id").set_index("unique_id")
    assert first.loc["A", "status"] == "ok" and first.loc["B", "status"] == "skipped"
    assert needle in first.loc["B", "reason"]
    assert set(pd.read_csv(tmp_path / "o" / "forecasts.csv")["unique_id"]) == {"A"}


@pytest.mark.parametrize("argv, needle", [(["--freq", "nonsense"], "--freq 'nonsense' is not a pandas frequency"),
                                          (["--horizon", "99999999"], "--horizon 99999999: at most 100,000 steps"),
                                          # a multiple of zero or below: ZeroDivisionError, IndexError, or "1999-12-01 was due"
                                          (["--freq=0MS"], "--freq '0MS': a frequency's multiple must be positive"),
                                          (["--freq=0h"], "--freq '0h': a frequency's multiple must be positive"),
                                          (["--freq=-1D"], "--freq '-1D': a frequency's multiple must be positive"),
                                          # finer than the dates: a grid of 10^11 dates (MemoryError); too coarse: "not a pandas frequency"
                                          (["--freq", "ms"], "dates not regular at --freq ms"),
                                          (["--freq", "100000D"], "its dates at --freq 100000D would pass 2262-04-11")])
def test_a_bad_frequency_or_horizon_is_refused_before_anything_is_written(tmp_path, argv, needle):
    f = _write(tmp_path / "p.csv", _monthly("a", 48, 0))
    args = ["auto", str(f), "--out", str(tmp_path / "o"), "--candidates", "stats", "-q"]
    res = CliRunner().invoke(app, args + (argv if "--horizon" in argv else ["--horizon", "6", *argv]))
    assert res.exit_code == 2 and needle in res.output, res.output
    assert not (tmp_path / "o").exists()
    if "--horizon" in argv:  # plan refuses it as auto does (it said the series would pass 2262)
        res = CliRunner().invoke(app, ["plan", str(f), *argv])
        assert res.exit_code == 2 and needle in res.output, res.output


def test_a_row_with_more_fields_than_the_header_is_one_line(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("unique_id,ds,y\na,2015-01-01,1\na,2015-02-01,2,extra\n")
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "1", "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 2
    assert "p.csv: not a readable CSV file" in res.output and "not a readable CSV file (line 3 has 4 fields, the lines before it 3)" in res.output
    assert "Traceback" not in res.output


@pytest.mark.slow  # 2 s in the full run, end to end: kept out of the fast subset
def test_an_out_that_is_a_folder_or_lies_under_a_file_is_refused_in_one_line(tmp_path, no_arima):
    f = _write(tmp_path / "p.csv", _monthly("a", 48, 0))
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "3", "--out", str(tmp_path / "o"), "--candidates", "stats", "-q"])
    assert res.exit_code == 0, res.output
    (tmp_path / "afile").write_text("x")
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "3", "--out", str(tmp_path / "afile" / "sub"), "--candidates", "stats", "-q"])
    assert res.exit_code == 2 and "afile is a file, not a folder" in res.output, res.output
    model = tmp_path / "o" / "models" / "a"
    for out, needle in ((tmp_path / "o", "is a folder; give the CSV's path"), (tmp_path / "afile" / "x.csv", "afile is a file, not a folder"),
                        (model / "manifest.json", "would write over manifest.json in the model directory")):  # a model's own files are never written over
        before = {p.name: p.read_bytes() for p in model.iterdir()}
        res = CliRunner().invoke(app, ["forecast", str(model), "--horizon", "3", "--out", str(out), "-q"])
        assert res.exit_code == 2 and needle in res.output, res.output
        assert {p.name: p.read_bytes() for p in model.iterdir()} == before
    res = CliRunner().invoke(app, ["forecast", str(model), "--horizon", "3", "--out", str(model / "mine.csv"), "-q"])  # a new name beside them: fine
    assert res.exit_code == 0 and (model / "mine.csv").is_file() and {p.name: p.read_bytes() for p in model.iterdir() if p.name in before} == before
    history = _write(tmp_path / "history.csv", _monthly("a", 48, 0))  # nor its --data or --future file, CSV or PNG
    for flag, given, out in (("--data", history, history), ("--future", history, history), ("--data", tmp_path / "f.png", tmp_path / "f.csv")):
        res = CliRunner().invoke(app, ["forecast", str(model), "--horizon", "3", flag, str(given), "--out", str(out), "-q"])
        assert res.exit_code == 2 and f"would replace the {flag} file" in res.output, res.output
    assert history.read_text() == _monthly("a", 48, 0).to_csv(index=False)
    # nor any other file of the user's (it was silently replaced, and the PNG beside it); an
    # earlier forecast is replaced, its PNG too
    mine, notes = _write(tmp_path / "mine.csv", _monthly("b", 12, 1)), tmp_path / "notes.png"
    notes.write_text("my notes")
    for out, path in ((mine, mine), (tmp_path / "notes.csv", notes)):
        res = CliRunner().invoke(app, ["forecast", str(model), "--horizon", "3", "--out", str(out), "-q"])
        assert res.exit_code == 2 and f"{path} exists and is not a forecast lstmtune wrote" in " ".join(res.output.split()), res.output
    assert mine.read_text() == _monthly("b", 12, 1).to_csv(index=False) and notes.read_text() == "my notes" and not (tmp_path / "notes.csv").exists()
    for _ in range(2):
        res = CliRunner().invoke(app, ["forecast", str(model), "--horizon", "3", "--out", str(tmp_path / "again.csv"), "-q"])
        assert res.exit_code == 0 and (tmp_path / "again.png").is_file(), res.output


def test_an_error_is_its_own_first_line_without_quiet_too(tmp_path):
    f = _write(tmp_path / "p.csv", _monthly("a", 48, 0))
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "3", "--candidates", "foo", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert res.output.startswith("error: --candidates: foo"), repr(res.output[:80])


@pytest.mark.parametrize("edit, needle", [(("model", "Prophet"), "corrupted or edited: model 'Prophet' is not one lstmtune writes"),
                                          (("freq", "XYZ"), "corrupted or edited: freq 'XYZ' is not a pandas frequency"),
                                          (("freq", "D"), "corrupted or edited: freq 'D', but its data's dates are of frequency MS"),
                                          (("season_length", "twelve"), "corrupted or edited: season_length 'twelve' is not a whole number"),
                                          (("series_name", "other", "not resealed"), "edited or corrupted (its checksum does not match its content)")])
def test_an_edited_statistical_model_directory_is_refused_in_one_line(tmp_path, edit, needle, no_arima):
    """The manifest carries its own checksum (format 2): an edit is one line. One whose checksum
    was recomputed is checked field by field (it crashed `forecast` with a traceback, `describe`
    printed it as if valid, and a monthly model edited to daily forecast daily dates)."""
    import json

    from lstmtune.forecast import manifest as manifest_file

    f = _write(tmp_path / "one.csv", _monthly("one", 48, 0))
    assert CliRunner().invoke(app, ["auto", str(f), "--horizon", "3", "--out", str(tmp_path / "o"), "--candidates", "stats", "-q"]).exit_code == 0
    model = tmp_path / "o" / "models" / "one"
    manifest = json.loads((model / "manifest.json").read_text())
    manifest[edit[0]] = edit[1]
    if len(edit) == 2:
        manifest["checksum"] = manifest_file.content_hash(manifest)
    (model / "manifest.json").write_text(json.dumps(manifest))
    for args in (["forecast", str(model), "--horizon", "2", "--out", str(tmp_path / "f.csv")], ["describe", str(model)]):
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2 and needle in " ".join(res.output.split()), res.output
        assert "Traceback" not in res.output
    assert not (tmp_path / "f.csv").exists()


def test_series_of_one_or_two_rows_are_named_as_too_short_for_a_frequency_unless_the_panel_names_it(tmp_path):
    ok = _monthly("ok", 30, 0)
    one, two = _monthly("one", 1, 1), _monthly("two", 2, 2)
    f = _write(tmp_path / "p.csv", pd.concat([one, two]))
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "3", "--out", str(tmp_path / "o"), "--candidates", "stats", "-q"])
    assert res.exit_code == 2
    assert "skipped: one: 1 observation: too few to infer the frequency (give --freq)" in res.output
    assert "skipped: two: 2 observations: too few to infer the frequency" in res.output
    f = _write(tmp_path / "q.csv", pd.concat([ok, one, two]))  # the other series is monthly: they are read at MS
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "3", "--out", str(tmp_path / "o"), "--candidates", "stats", "-q"])
    assert res.exit_code == 3 and "skipped" not in res.output
    board = pd.read_csv(tmp_path / "o" / "leaderboard.csv").drop_duplicates("unique_id").set_index("unique_id")
    assert board.loc["one", "status"] == "constant" and board.loc["two", "status"] == "fallback"
    assert all("read at MS, the frequency of every other series that has one" in board.loc[u, "reason"] for u in ("one", "two"))
    # one value is not "a constant series" (a probe): its bands have no width, and it says why
    assert "a single observation: the forecast is that value, its bands of no width" in board.loc["one", "reason"]


@pytest.mark.figures  # the glyph warnings come from the rendering
def test_names_in_a_script_the_font_lacks_draw_without_warnings(tmp_path, monkeypatch):
    """matplotlib warned about every glyph of a CJK name; through `auto -q` that reached the
    terminal (drawn here, in this process, so that the warnings can be caught)."""
    import warnings

    monkeypatch.setenv("LSTMTUNE_DRAW_PROCESSES", "1")
    f = _write(tmp_path / "p.csv", _monthly("東京", 36, 0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "3", "--out", str(tmp_path / "o"), "--candidates", "stats", "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "report.html").exists()
    assert not [w for w in caught if "missing from font" in str(w.message)]


@pytest.mark.figures  # the glyph warnings come from the rendering
def test_a_forecasts_figure_titled_in_a_script_the_font_lacks_draws_without_warnings(tmp_path):
    """`lstmtune forecast` of a model from 東京.csv printed four matplotlib glyph warnings (a probe)."""
    import warnings

    from lstmtune.forecast import output as forecast_output

    dates = pd.date_range("2020-01-01", periods=24, freq="MS")
    table = pd.DataFrame({"date": pd.date_range("2022-01-01", periods=3, freq="MS"), "mean": 1.0, "median": 1.0,
                          "lower_80": 0.5, "upper_80": 1.5, "lower_95": 0.2, "upper_95": 1.8})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        forecast_output.plot(dates, np.arange(24.0), table, tmp_path / "f.png", title="東京: 3-step forecast")
    assert (tmp_path / "f.png").stat().st_size > 1000
    assert not [w for w in caught if "missing from font" in str(w.message)]


@pytest.mark.slow  # 2 s in the full run, end to end: kept out of the fast subset
def test_weeks_without_a_row_are_named_or_filled_as_missing_says(tmp_path, no_arima):
    """Demand data: a week without a row sold nothing. --missing error names the absent dates,
    zero fills them with 0 and interpolate linearly, a single file's empty cells alike."""
    rng = np.random.default_rng(5)
    weeks = pd.date_range("2021-01-04", periods=60, freq="W-MON")
    frame = pd.DataFrame({"unique_id": "w", "ds": weeks, "y": rng.poisson(20, 60).astype(float)}).drop(index=[20])
    f = _write(tmp_path / "p.csv", frame)
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "4", "--out", str(tmp_path / "e"), "--candidates", "stats", "-q"])
    assert res.exit_code == 2 and "skipped: w: 1 date absent from its W-MON dates (2021-05-24): add the rows, or fill them with --missing interpolate or --missing zero" in res.output, res.output
    for how, value in (("zero", 0.0), ("interpolate", (frame["y"].iloc[19] + frame["y"].iloc[20]) / 2)):
        out = tmp_path / how
        res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "4", "--out", str(out), "--candidates", "stats", "--missing", how, "-q"])
        assert res.exit_code == 0, res.output
        board = pd.read_csv(out / "leaderboard.csv")
        said = {"zero": "set to 0", "interpolate": "interpolated"}[how]
        assert board["reason"].iloc[0] == f"1 date absent from its W-MON dates (2021-05-24) inserted and {said}"  # counted once
        api = auto(frame, 4, candidates=("stats",), missing=how)
        fc = pd.read_csv(out / "forecasts.csv", parse_dates=["ds"])
        pd.testing.assert_frame_equal(fc, api.forecasts.reset_index(drop=True), check_dtype=False)  # the API fills as the CLI does
        filled = {"zero": 0.0, "interpolate": value}[how]
        expect = auto(pd.concat([frame, pd.DataFrame({"unique_id": ["w"], "ds": [weeks[20]], "y": [filled]})]).sort_values("ds"), 4, candidates=("stats",))
        pd.testing.assert_frame_equal(api.forecasts, expect.forecasts)  # the same as the row given with that value
    single = tmp_path / "single.csv"
    cells = frame.assign(y=frame["y"].astype(object))
    cells.loc[5, "y"] = ""
    cells[["ds", "y"]].to_csv(single, index=False)
    res = CliRunner().invoke(app, ["auto", str(single), "--horizon", "4", "--out", str(tmp_path / "s"), "-q"])
    assert res.exit_code == 2 and "single.csv: line 7, column 'y': is missing (use --missing interpolate or zero)" in res.output, res.output
    cells.loc[59, "y"] = ""  # the last row's value too: filled, not dropped
    cells[["ds", "y"]].to_csv(single, index=False)
    res = CliRunner().invoke(app, ["auto", str(single), "--horizon", "4", "--out", str(tmp_path / "s"), "--candidates", "stats", "--missing", "zero", "-q"])
    assert res.exit_code == 0, res.output
    reason = pd.read_csv(tmp_path / "s" / "leaderboard.csv")["reason"].iloc[0]
    assert reason == "1 date absent from its W-MON dates (2021-05-24) inserted and set to 0; 2 missing values set to 0", reason
    assert pd.read_csv(tmp_path / "s" / "forecasts.csv")["ds"].iloc[0] == str((weeks[-1] + pd.Timedelta(weeks=1)).date())
    res = CliRunner().invoke(app, ["auto", str(single), "--horizon", "4", "--out", str(tmp_path / "s2"), "--missing", "zeros", "-q"])
    assert res.exit_code == 2 and "--missing must be error, interpolate or zero, got 'zeros'" in res.output


@pytest.mark.slow  # two panels of auto, ten series
def test_zero_fills_each_series_to_the_date_most_end_on_and_a_mistyped_date_fills_nothing(no_arima):
    rng = np.random.default_rng(6)
    months = pd.date_range("2015-01-01", periods=48, freq="MS")
    ended = pd.DataFrame({"unique_id": "ended", "ds": months[:40], "y": rng.poisson(9, 40).astype(float)})  # its last 8 months sold nothing
    typo = pd.DataFrame({"unique_id": "typo", "ds": months, "y": rng.poisson(9, 48).astype(float)})
    typo.loc[47, "ds"] = pd.Timestamp("2048-12-01")  # for 2018-12-01: not the panel's end
    both = [pd.DataFrame({"unique_id": u, "ds": months, "y": rng.poisson(9, 48).astype(float)}) for u in ("a", "b")]
    weeks = pd.date_range("2016-09-04", periods=120, freq="W-SUN")  # weekly series end on their own date, not a month's
    weekly = [pd.DataFrame({"unique_id": f"w{k}", "ds": weeks[: 120 - 3 * (k == 2)], "y": rng.poisson(30, 120 - 3 * (k == 2)).astype(float)}) for k in range(3)]
    res = auto(pd.concat([ended, typo, *both, *weekly]), 6, candidates=("stats",), missing="zero")
    board = res.leaderboard.drop_duplicates("unique_id").set_index("unique_id")
    assert board.loc["ended", "reason"] == "8 dates absent from its MS dates (2018-05-01, 2018-06-01, 2018-07-01, ..., 8 of them after its last row, to the date most MS series end on) inserted and set to 0"
    assert board.loc["typo", "status"] == "skipped" and "mistyped date?" in board.loc["typo", "reason"]
    assert board.loc["w2", "reason"].startswith("3 dates absent from its W-SUN dates (2018-12-02, 2018-12-09, 2018-12-16, 3 of them after its last row, to the date most W-SUN series end on)")
    assert board.loc["w0", "reason"] in ("", None) or pd.isna(board.loc["w0", "reason"])  # ends where most weekly series do: nothing inserted
    first = res.forecasts.groupby("unique_id")["ds"].min()
    assert first["ended"] == first["a"] == pd.Timestamp("2019-01-01")
    assert first["w2"] == first["w0"] == weeks[-1] + pd.Timedelta(weeks=1)
    alone = auto(pd.concat([ended, typo]), 6, candidates=("stats",), missing="zero")  # no end two series share: nothing run on
    assert alone.forecasts.groupby("unique_id")["ds"].min()["ended"] == pd.Timestamp("2018-05-01")


@pytest.mark.slow  # three runs of auto (test_after_a_failed_fit_... checks the rule in the fast subset)
def test_a_chosen_candidate_that_cannot_be_fitted_on_every_observation_gives_way_to_the_next(monkeypatch, no_arima):
    """A log chosen on the positive values before the first origin cannot be fitted once zeros
    follow, say: the next by backtest MASE forecasts, said in the verdict and the leaderboard."""
    from lstmtune.auto import final

    data = _monthly("a", 40, 21)
    plain = auto(data, 4, candidates=("stats",))
    first, second = list(plain.leaderboard["candidate"])[:2]
    real = final.fit_chosen

    def failing(uid, frame, horizon, chosen, *args, **kwargs):
        if chosen == first:
            raise ValueError("log of zero")
        return real(uid, frame, horizon, chosen, *args, **kwargs)

    monkeypatch.setattr(final, "fit_chosen", failing)
    res = auto(data, 4, candidates=("stats",))
    assert res.exit_code == 0 and set(res.forecasts["model"]) == {second}
    board = res.leaderboard
    assert list(board.loc[board["chosen"], "candidate"]) == [second] and list(board["candidate"])[0] == first  # still ranked first
    assert res.verdicts["a"] == f"{first} had the lowest backtest MASE but could not be fitted on every observation (log of zero): forecasts are {second}'s, the next by backtest MASE"
    monkeypatch.setattr(final, "fit_chosen", lambda *a, **k: (_ for _ in ()).throw(ValueError("nothing fits")))
    res = auto(data, 4, candidates=("stats",))
    assert res.exit_code == 3 and res.leaderboard["status"].iloc[0] == "fallback" and "nothing fits" in res.leaderboard["reason"].iloc[0]


def test_after_a_failed_fit_candidates_made_of_it_are_skipped_not_counted(monkeypatch):
    """The next candidates are tried by backtest MASE, leaving out those that contain one that
    failed (a median or pool of it would fail too, or drop it silently); three tries at most."""
    import lstmtune.auto.run as auto_run
    from lstmtune.auto import backtests, final

    names = ["LSTM(log)", "DirectLSTM(log)", auto_run.LSTM_PAIR, auto_run.POOL_LSTM, "AutoETS", auto_run.STATS_MEDIAN, "AutoARIMA", "AutoTheta"]
    families = ["lstm", "lstm", "lstm", "lstm", "stats", "combo", "stats", "stats"]
    board = pd.DataFrame({"candidate": names, "family": families, "mase": np.arange(1.0, 9.0), "in_mcs": False, "chosen": [True] + [False] * 7})
    sc = backtests.Scored("a", _monthly("a", 48, 1), board, pd.DataFrame(), [], names[0], {}, {}, ["AutoETS", "AutoARIMA", "AutoTheta"], "MS", 12)
    tried = []

    def finish(s, *args, **kwargs):
        tried.append(s.chosen)
        if {"LSTM(log)", "DirectLSTM(log)", "AutoETS"} & final.members_of(s, s.chosen):
            raise ValueError("log of zero")
        return pd.DataFrame({"model": [s.chosen]}), s.board, s.backtests, "", [], None

    monkeypatch.setattr(final, "finish", finish)
    fc, board, *_ = final.finish_or_next(sc, 4, lstm.Settings())
    # the pair and the LSTM pool hold LSTM(log); the stats median holds AutoETS once it failed
    assert tried == ["LSTM(log)", "DirectLSTM(log)", "AutoETS", "AutoARIMA"] and list(fc["model"]) == ["AutoARIMA"]
    assert list(board.loc[board["chosen"], "candidate"]) == ["AutoARIMA"]
    tried.clear()
    monkeypatch.setattr(final, "NEXT_TRIES", 2)
    with pytest.raises(ValueError, match="log of zero"):  # two tries, both failed: the chosen one's error, for the fallback
        final.finish_or_next(sc, 4, lstm.Settings())
    assert tried == ["LSTM(log)", "DirectLSTM(log)", "AutoETS"]


@pytest.mark.slow  # runs auto end to end (the full run only: the fast subset stays under 90 s)
def test_with_missing_zero_a_series_of_ones_with_absent_months_is_intermittent_not_constant(no_arima):
    # the constant check once looked at the values before the zeros were filled in: a product
    # selling 1 in 28 of 48 months was forecast as the constant 1 with zero-width bands
    from lstmtune.data import panel

    ds = pd.date_range("2018-01-01", periods=48, freq="MS")
    keep = np.r_[0:48:2, 47, 45, 41, 37]
    frame = pd.DataFrame({"unique_id": "slow", "ds": ds[np.sort(np.unique(keep))], "y": 1.0})
    filled, inserted = panel.fill_absent(frame, "zero", "MS")
    assert panel.triage(filled, 4, missing="zero", inserted=inserted).status == "ok"
    assert panel.triage(filled, 4, missing="interpolate", inserted=inserted).status == "constant"  # interpolated between ones: ones
    r = auto(frame, 4, candidates=("stats",), missing="zero")
    chosen = r.leaderboard[r.leaderboard["chosen"]]
    assert chosen["status"].iloc[0] == "ok" and (r.forecasts["upper_95"] > r.forecasts["lower_95"]).all()


def test_families_with_no_candidate_for_a_series_say_so_instead_of_an_internal_error():
    # once "KeyError: 'family'": the LSTM pair was looked for on an empty leaderboard
    yearly = pd.DataFrame({"unique_id": "y", "ds": pd.date_range("1950-01-01", periods=40, freq="YS"), "y": np.arange(40.0) + np.sin(np.arange(40))})
    r = auto(yearly, 4, candidates=("hybrid",))
    assert r.leaderboard["reason"].iloc[0] == "no candidate of --candidates hybrid applies to this series (a hybrid needs a season and three cycles of it)"
    r = auto(_monthly("m", 48, 0), 4, candidates=("lstm",), time_budget=0)
    assert "no candidate could be backtested: LSTM and hybrid candidates left out: the time budget was spent" in r.leaderboard["reason"].iloc[0]


def test_a_file_of_values_without_dates_is_refused_rather_given_invented_dates(tmp_path):
    # its placeholder dates (1970, daily) once reached forecasts.csv and set a weekly season
    f = tmp_path / "values.csv"
    f.write_text("value\n" + "\n".join(str(100 + k % 5 + k) for k in range(48)) + "\n")
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "4", "--candidates", "stats", "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 2 and "values.csv: no date column" in res.output and not (tmp_path / "o").exists()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs a folder no one can create files in: Linux's /proc")
def test_an_out_whose_parent_cannot_be_written_is_refused_before_any_work(tmp_path, monkeypatch):
    import lstmtune.auto.run as run_mod

    monkeypatch.setattr(run_mod, "auto", lambda *a, **k: pytest.fail("trained before finding that --out cannot be written"))
    f = _write(tmp_path / "p.csv", _monthly("a", 48, 0))
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "3", "--out", "/proc/lstmtune-test-out", "-q"])
    assert res.exit_code == 2 and "--out /proc/lstmtune-test-out: cannot write in /proc" in res.output, res.output


def test_forecast_dates_past_what_pandas_holds_are_named_not_a_numpy_error():
    from lstmtune.data import panel

    yearly = pd.DataFrame({"unique_id": "y", "ds": pd.date_range("1950-01-01", periods=60, freq="YS"), "y": np.arange(60.0)})
    v = panel.triage(yearly, 300)
    assert v.status == "skip" and v.reason == "its 300 forecast dates would pass 2262-04-11, the last date pandas can hold: give a shorter --horizon"
    assert panel.triage(yearly, 200).status != "skip"  # 2209: fine


def test_an_old_pandas_frequency_name_is_read_quietly_and_a_wrong_one_names_the_dates_own(recwarn):
    # --freq M printed pandas' FutureWarning for every series, and every month-start series was
    # skipped without saying that its dates are regular at MS
    from lstmtune.data.series import current_alias

    assert [current_alias(a) for a in ("M", "Q", "H", "MS", "W", "ME")] == ["ME", "QE-DEC", "h", "MS", "W", "ME"]
    r = auto(_monthly("a", 48, 0), 4, candidates=("stats",), freq="M")
    assert "dates not regular at freq ME: the first, 2010-01-01, is not a ME date (the next one is 2010-01-31) (they are regular at MS: give freq MS" in r.leaderboard["reason"].iloc[0]
    from lstmtune.auto import plan as auto_plan

    assert auto_plan.plan(_monthly("a", 48, 0), 4, freq="M").skipped == 1  # plan reads it as auto does
    assert not [w for w in recwarn if issubclass(w.category, FutureWarning)]


@pytest.mark.slow  # runs auto end to end (the full run only: the fast subset stays under 90 s)
def test_interpolate_fills_between_observations_and_leaves_rows_without_a_value_at_the_ends_out(no_arima):
    # a file's blank future rows were filled with the last value, and the forecast started after them
    a = _monthly("a", 48, 0)
    a.loc[[0, 10], "y"] = np.nan
    future = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2014-01-01", periods=3, freq="MS"), "y": np.nan})
    frame = pd.concat([a, future], ignore_index=True)
    r = auto(frame, 4, candidates=("stats",), missing="interpolate")
    assert r.forecasts["ds"].iloc[0] == pd.Timestamp("2014-01-01")
    assert r.leaderboard["reason"].iloc[0] == "1 missing value interpolated; 4 rows without a value at its start or end left out (nothing beyond to interpolate toward)"
    alone = auto(a.iloc[1:], 4, candidates=("stats",), missing="interpolate")  # the same as the rows between the ends
    pd.testing.assert_frame_equal(r.forecasts, alone.forecasts)
    skipped = auto(frame, 4, candidates=("stats",))
    assert skipped.leaderboard["reason"].iloc[0] == "5 missing values (2010-01-01, 2010-11-01, 2014-01-01, ...): use missing interpolate or missing zero"  # named as Python names them


def test_a_series_of_tiny_values_is_skipped_asking_to_rescale_it():
    # values about 1e-14 once got AutoETS bands of +-3e-20 that covered nothing, and were chosen
    from lstmtune.data import panel

    a = _monthly("a", 48, 0)
    v = panel.triage(a.assign(y=a["y"] * 1e-16), 4)
    assert v.status == "skip" and "below 1e-05" in v.reason and "rescale the series" in v.reason
    assert panel.triage(a.assign(y=a["y"] * 1e-6), 4).status == "ok"  # about 1e-4: as the series itself
    assert panel.triage(a.assign(y=0.0), 4).status == "constant"  # zeros are not tiny values


@pytest.mark.slow  # runs auto end to end (the full run only: the fast subset stays under 90 s)
def test_a_panel_whose_series_column_has_another_name_is_pointed_to_id_column(tmp_path, no_arima):
    f = tmp_path / "p.csv"
    pd.concat([_monthly("a", 40, 0), _monthly("b", 40, 1)]).rename(columns={"unique_id": "store", "ds": "date", "y": "sales"}).to_csv(f, index=False)
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "2", "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 2 and "duplicate date" in res.output and "name its series column with --id-column" in " ".join(res.output.split())
    two = tmp_path / "two.csv"  # one series with two value columns: not a panel, no such hint
    _monthly("a", 40, 0).rename(columns={"ds": "date", "y": "sales"}).assign(price=1.0)[["date", "sales", "price"]].to_csv(two, index=False)
    res = CliRunner().invoke(app, ["auto", str(two), "--horizon", "2", "--out", str(tmp_path / "o2"), "-q"])
    assert res.exit_code == 2 and "--value-column" in res.output and "--id-column" not in res.output, res.output
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "2", "--out", str(tmp_path / "o"), "-q", "--id-column", "store", "--date-column", "date",
                                   "--value-column", "sales", "--candidates", "stats"])
    assert res.exit_code == 0, res.output


@pytest.mark.slow  # runs auto end to end (the full run only: the fast subset stays under 90 s)
def test_a_fallbacks_model_directory_is_named_as_forecasts_csv_names_it(tmp_path):
    # index.csv, `forecast DIR/models` and describe said SeasonalNaive where forecasts.csv said Constant (fallback)
    frame = pd.concat([_monthly("k", 40, 1).assign(y=7.0), _monthly("short", 10, 2)])
    f = _write(tmp_path / "p.csv", frame)
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "3", "--candidates", "stats", "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 3, res.output
    index = pd.read_csv(tmp_path / "o" / "models" / "index.csv").set_index("unique_id")["model"]
    said = pd.read_csv(tmp_path / "o" / "forecasts.csv").drop_duplicates("unique_id").set_index("unique_id")["model"]
    assert index.loc["k"] == said.loc["k"] == "Constant (fallback)" and index.loc["short"] == said.loc["short"]
    res = CliRunner().invoke(app, ["forecast", str(tmp_path / "o" / "models"), "--horizon", "3", "--out", str(tmp_path / "f.csv"), "-q"])
    assert res.exit_code == 0 and set(pd.read_csv(tmp_path / "f.csv")["model"]) == set(said)
    res = CliRunner().invoke(app, ["describe", str(tmp_path / "o" / "models")])  # the folder forecast reads whole: described whole
    assert res.exit_code == 0 and "2 series, one model directory each" in res.output and "Constant (fallback)" in res.output


def test_the_apis_arguments_are_checked_as_the_clis_options_are():
    """Each raised deep inside (AttributeError, TypeError, pandas' ValueError) or ran every series
    as a fallback with the reason only in the leaderboard."""
    from lstmtune.errors import LstmtuneError

    a = _monthly("a", 40, 0)
    for kwargs, needle in (({"season_length": 0}, "season_length must be a whole number of at least 1, got 0"),
                           ({"season_length": 2.5}, "season_length must be a whole number"), ({"windows": 0}, "windows must be a whole number of at least 1"),
                           ({"windows": "2"}, "windows must be a whole number"), ({"time_budget": "10"}, "time_budget must be seconds"),
                           ({"time_budget": float("nan")}, "time_budget must be seconds"), ({"settings": {"epochs": 5}}, "settings must be an lstmtune.auto.lstm.Settings, not a dict"),
                           ({"settings": lstm.Settings(epochs=0)}, "settings.epochs must be a whole number of at least 1, got 0"),
                           ({"settings": lstm.Settings(seed=-1)}, "settings.seed must be a whole number of at least 0"),
                           ({"settings": lstm.Settings(seeds=0)}, "settings.seeds must be")):
        with pytest.raises(LstmtuneError, match=re.escape(needle)):
            auto(a, 3, candidates=("stats",), **kwargs)
    with pytest.raises(LstmtuneError, match=re.escape("not a Series (a Series: series.rename('y')")):
        auto(a.set_index("ds")["y"], 3)
    with pytest.raises(LstmtuneError, match="the column 'y' twice"):
        auto(pd.concat([a, a[["y"]]], axis=1), 3)
    # series under another column's name were one series of repeated dates, skipped as "duplicate date"
    with pytest.raises(LstmtuneError, match=re.escape("no unique_id column and repeat dates: if 'id' names the series, rename it (data.rename(columns={'id': 'unique_id'}))")):
        auto(pd.concat([a, _monthly("b", 40, 1)]).rename(columns={"unique_id": "id"}), 3)
    # as the CLI takes them: a family or a comma list as text, one level as a number, a column that is also the index
    r = auto(a.set_index("unique_id", drop=False), 3, candidates="stats", levels=80)
    assert list(r.forecasts.columns[-2:]) == ["lower_80", "upper_80"] and set(r.leaderboard["family"]) <= {"stats", "fallback"}


def test_saving_a_result_where_nothing_was_forecast_writes_nothing_and_bad_paths_are_one_error(tmp_path, no_arima):
    """save() wrote a folder of empty tables where the command writes nothing; None or a number
    as a path raised TypeError, as did load_model(None)."""
    import lstmtune
    from lstmtune.errors import LstmtuneError

    a = _monthly("a", 40, 0)
    nothing = auto(pd.concat([a, a], ignore_index=True), 3, candidates=("stats",))
    assert nothing.exit_code == 2
    with pytest.raises(LstmtuneError, match=r"no series could be forecast \(a: .*duplicate date.*\); nothing was written"):
        nothing.save(tmp_path / "o")
    assert not (tmp_path / "o").exists()
    good = auto(a, 3, candidates=("stats",))
    for bad in (None, 5):
        with pytest.raises(LstmtuneError, match="give a folder's path"):
            good.save(bad)
        with pytest.raises(LstmtuneError, match="give a model directory's path"):
            lstmtune.load_model(bad)


def test_lstmtune_auto_is_callable_as_issue_22_names_it(no_arima):
    import lstmtune

    frame = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2010-01-01", periods=48, freq="MS"), "y": np.arange(48.0) + np.tile(np.arange(12.0), 4)})
    got = lstmtune.auto(frame, horizon=6, candidates=("stats",))
    pd.testing.assert_frame_equal(got.forecasts, auto(frame, 6, candidates=("stats",)).forecasts)
    assert "auto" in lstmtune.__all__ and lstmtune.auto.run.auto is auto  # still the package


def test_each_series_dates_are_written_as_alone_beside_an_hourly_one(tmp_path, no_arima):
    """forecasts.csv and backtests.csv wrote every series' dates with times once one series of
    the panel was hourly ("2024-02-10 00:00:00"): the daily series' lines now equal its own run's."""
    rng = np.random.default_rng(9)
    hours = pd.DataFrame({"unique_id": "hourly", "ds": pd.date_range("2024-01-10", periods=60, freq="h"), "y": 20 + 3 * np.sin(np.arange(60) * np.pi / 12) + rng.normal(0, 0.3, 60)})
    days = pd.DataFrame({"unique_id": "daily", "ds": pd.date_range("2024-01-01", periods=40, freq="D"), "y": rng.normal(0, 1, 40).cumsum() + 10})
    auto(pd.concat([hours, days]), 3, candidates=("stats",)).save(tmp_path / "panel")
    auto(days, 3, candidates=("stats",)).save(tmp_path / "alone")
    for name in ("forecasts.csv", "backtests.csv"):
        panel_lines = (tmp_path / "panel" / name).read_text().splitlines()
        alone = (tmp_path / "alone" / name).read_text().splitlines()
        assert [line for line in panel_lines if line.startswith("daily,")] == alone[1:]
        assert any(line.startswith("hourly,2024-01-12 12:00:00,") for line in panel_lines) == (name == "forecasts.csv")
    res = CliRunner().invoke(app, ["forecast", str(tmp_path / "panel" / "models"), "--horizon", "3", "--out", str(tmp_path / "again.csv"), "-q"])
    assert res.exit_code == 0 and (tmp_path / "again.csv").read_text() == (tmp_path / "panel" / "forecasts.csv").read_text()


@pytest.mark.slow  # 2 s in the full run, end to end: kept out of the fast subset
def test_an_edited_models_index_that_names_another_series_or_model_is_refused_per_series(tmp_path, no_arima):
    """An index.csv whose rows were swapped gave each series the other's forecasts, and one whose
    model column was edited relabelled them: each model directory knows its series and candidate."""
    data = pd.concat([_monthly("small", 48, 1), _monthly("big", 48, 2, level=500.0)])
    r = auto(data, 4, candidates=("stats",))
    r.save(tmp_path / "o")
    models = tmp_path / "o" / "models"
    index = pd.read_csv(models / "index.csv", dtype=str)

    def forecast(rows):
        pd.DataFrame(rows, columns=["unique_id", "folder", "model"]).to_csv(models / "index.csv", index=False)
        return CliRunner().invoke(app, ["forecast", str(models), "--horizon", "4", "--out", str(tmp_path / "f.csv"), "-q"])

    folder, label = dict(zip(index["unique_id"], index["folder"])), dict(zip(index["unique_id"], index["model"]))
    swapped = forecast([["small", folder["big"], label["big"]], ["big", folder["small"], label["small"]]])
    assert swapped.exit_code == 2 and "series 'small'" in swapped.output and "its folder holds the model of series 'big' (edited?)" in " ".join(swapped.output.split()), swapped.output
    other = "AutoARIMA" if label["small"] != "AutoARIMA" else "AutoETS"
    relabelled = forecast([["small", folder["small"], other], ["big", folder["big"], label["big"]]])
    assert relabelled.exit_code == 3 and f"model '{other}', but its folder holds '{label['small']}'" in " ".join(relabelled.output.split()), relabelled.output
    assert set(pd.read_csv(tmp_path / "f.csv")["unique_id"]) == {"big"}  # the other series forecast
    kept = forecast(index[["unique_id", "folder", "model"]].values.tolist())  # an index without the times column (before they were marked) reads as ever
    assert kept.exit_code == 0, kept.output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "f.csv"), pd.read_csv(tmp_path / "o" / "forecasts.csv"))
    for where, said in ((models, "not for a folder of model directories"), (models / folder["big"], "not for this model directory")):
        paths = CliRunner().invoke(app, ["forecast", str(where), "--horizon", "4", "--out", str(tmp_path / "p.csv"), "--paths"])
        text = " ".join(paths.output.split())  # --paths gave --data's reason ("forecasts from the data it holds")
        assert paths.exit_code == 2 and said in text and "not seeds' paths" in text and "data it holds" not in text, paths.output


def test_a_users_file_in_an_earlier_outputs_plots_or_models_is_refused_not_deleted(tmp_path, no_arima):
    """Only the folder's top level was checked: a file put in plots/ or a folder in models/ was
    deleted with the earlier output when auto wrote the folder again."""
    frame = _monthly("a", 48, 0)
    f = _write(tmp_path / "a.csv", frame)
    out = tmp_path / "o"

    def again():
        return CliRunner().invoke(app, ["auto", str(f), "--horizon", "3", "--candidates", "stats", "--out", str(out), "-q"])

    assert again().exit_code == 0
    folder = out / "models" / pd.read_csv(out / "models" / "index.csv")["folder"].item()  # and inside a model's own folder (a probe)
    for mine in (out / "plots" / "notes.txt", out / "models" / "other" / "manifest.json", folder / "notes.txt", folder / "mine" / "a.csv"):
        mine.parent.mkdir(exist_ok=True)
        mine.write_text("mine\n")
        res = again()
        assert res.exit_code == 2 and "which `lstmtune auto` did not write" in res.output and mine.read_text() == "mine\n", res.output
        mine.unlink()
        if mine.parent.name in ("other", "mine"):
            mine.parent.rmdir()
    assert again().exit_code == 0


def test_a_fallback_series_of_exactly_one_season_gets_the_naive_forecast_its_reason_names(tmp_path):
    """12 monthly observations: the reason said "(seasonal naive)" but forecasts.csv held
    "Naive (fallback)" (a probe). Seasonal naive on exactly one season has no residual to give
    its bands a width (a review): naive, and the reason says so; 13 get the seasonal naive."""
    frame = pd.DataFrame({"unique_id": "m12", "ds": pd.date_range("2020-01-01", periods=12, freq="MS"), "y": np.arange(1.0, 13.0)})
    r = auto(frame, horizon=3, candidates="stats")
    assert r.leaderboard["status"].item() == "fallback" and "(naive)" in r.leaderboard["reason"].item()
    assert set(r.forecasts["model"]) == {"Naive (fallback)"} and r.forecasts["mean"].tolist() == [12.0] * 3
    assert (r.forecasts["upper_80"] > r.forecasts["lower_80"]).all()
    r.save(tmp_path / "o")
    back = CliRunner().invoke(app, ["describe", str(tmp_path / "o" / "models" / "m12")])
    assert back.exit_code == 0 and "season length 1" in back.output, back.output
    longer = pd.DataFrame({"unique_id": "m13", "ds": pd.date_range("2020-01-01", periods=13, freq="MS"), "y": np.arange(1.0, 14.0)})
    r = auto(longer, horizon=3, candidates="stats")
    assert "(seasonal naive)" in r.leaderboard["reason"].item() and set(r.forecasts["model"]) == {"SeasonalNaive (fallback)"}
    assert r.forecasts["mean"].tolist() == [2.0, 3.0, 4.0] and (r.forecasts["upper_80"] > r.forecasts["lower_80"]).all()


def test_a_chosen_box_cox_network_that_cannot_fit_a_zero_gives_way_to_the_best_that_can_and_the_verdict_says_so(monkeypatch):
    """The verdict said "the next by backtest MASE" of the 4th candidate, the 2nd and 3rd (Box-Cox
    networks too) having failed unnamed; and the Box-Cox ones spent the three tries, so a series
    whose best four were Box-Cox ended on a fallback (a probe). Candidates on a positive scale
    are now passed over, named, without a try, once the series holds a value <= 0."""
    from lstmtune.auto import final
    from lstmtune.errors import LstmtuneError

    @dataclasses.dataclass
    class Series:  # the fields of a scored series that finish_or_next reads
        uid: str
        frame: pd.DataFrame
        chosen: str
        board: pd.DataFrame
        stats: tuple = ()

    names = ["LSTM(boxcox,d=1,lags=12)", "DirectLSTM(boxcox,d=1,lags=12)", "Hybrid(log,STL+LSTM,lags=12)", "LSTM(log,d=12,lags=12)",
             "DirectLSTM(d=12,lags=12)", "LSTM(d=12,lags=12)"]
    board = pd.DataFrame({"unique_id": "Z", "candidate": names, "mase": np.arange(1.0, 7.0), "chosen": [True] + [False] * 5})
    frame = pd.DataFrame({"ds": pd.date_range("2015-01-01", periods=4, freq="MS"), "y": [3.0, 2.0, 1.0, 0.0]})
    sc = Series("Z", frame, names[0], board)
    tried = []

    def finish(sc, *args):
        tried.append(sc.chosen)
        if re.search(r"\((log|boxcox),", sc.chosen):
            raise LstmtuneError("Box-Cox needs positive observations (1 at or below 0)")
        return "fc", sc.board, "bt", "verdict", [], "model"

    monkeypatch.setattr(final, "finish", finish)
    fc, out, _, verdict, _, _ = final.finish_or_next(sc, 6, lstm.Settings())
    assert tried == [names[0], "DirectLSTM(d=12,lags=12)"]  # the positive-scale ones passed over without a try
    assert out.loc[out["chosen"], "candidate"].tolist() == ["DirectLSTM(d=12,lags=12)"]
    assert verdict.endswith("forecasts are DirectLSTM(d=12,lags=12)'s, the best by backtest MASE that could be fitted "
                            "(not DirectLSTM(boxcox,d=1,lags=12), Hybrid(log,STL+LSTM,lags=12), LSTM(log,d=12,lags=12))"), verdict
    frame["y"] = [3.0, 2.0, 1.0, 0.5]  # a positive series: each is tried, the next named as the next
    tried.clear()
    with pytest.raises(LstmtuneError):
        final.finish_or_next(sc, 6, lstm.Settings())
    assert tried == names[:4]  # the chosen and the three tries, all failing here


def test_a_frame_dated_by_pandas_periods_is_read_as_their_start_dates():
    """`auto(frame)` with a Period column said "Period('2000Q1', 'Q-DEC') is not a date", while the
    same periods as text ("2000Q1") were read (a probe)."""
    y = 50 + np.arange(40.0) + 5 * np.sin(np.arange(40) * np.pi / 2)
    periods = pd.DataFrame({"unique_id": "q", "ds": pd.period_range("2000Q1", periods=40, freq="Q"), "y": y})
    stamps = periods.assign(ds=pd.date_range("2000-01-01", periods=40, freq="QS"))
    a, b = auto(periods, horizon=4, candidates="stats"), auto(stamps, horizon=4, candidates="stats")
    pd.testing.assert_frame_equal(a.forecasts, b.forecasts)
    assert a.forecasts["ds"].iloc[0] == pd.Timestamp("2010-01-01")


def test_the_reports_figure_of_a_series_whose_times_were_made_utc_says_so(tmp_path, monkeypatch):
    import types

    from lstmtune.auto import output
    from lstmtune.report import drawing

    drawn = []
    monkeypatch.setattr(drawing, "draw_all", lambda jobs: drawn.extend(jobs))
    hist = pd.concat([pd.DataFrame({"unique_id": u, "ds": pd.date_range("2024-01-01", periods=48, freq="h"), "y": np.arange(48.0)}) for u in ("h", "m")])
    fc = pd.concat([pd.DataFrame({"unique_id": u, "ds": pd.date_range("2024-01-03", periods=3, freq="h"), "model": "AutoETS", "mean": 1.0}) for u in ("h", "m")])
    output._figures(types.SimpleNamespace(history=hist, forecasts=fc, utc=("h",)), tmp_path / "plots")
    titles = {job.kwargs["title"] for job in drawn}
    assert titles == {"h (times UTC)", "m"}



def test_the_settings_levels_are_the_forecasts_levels_unless_given_otherwise(no_arima):
    """``settings=Settings(levels=(90,))`` gave the 80% and 95% columns without a word (a probe)."""
    from lstmtune.errors import LstmtuneError

    frame = _monthly("a", 48, 0)
    r = auto(frame, 3, candidates=("stats",), settings=lstm.Settings(levels=(90,)))
    assert [c for c in r.forecasts.columns if c.startswith(("lower", "upper"))] == ["lower_90", "upper_90"]
    assert [c for c in auto(frame, 3, candidates=("stats",), levels=(90,), settings=lstm.Settings(levels=(90,))).forecasts.columns if c.startswith("lower")] == ["lower_90"]
    with pytest.raises(LstmtuneError, match=re.escape("levels [80] and settings.levels [90] disagree")):
        auto(frame, 3, candidates=("stats",), levels=(80,), settings=lstm.Settings(levels=(90,)))


def test_every_submodule_of_auto_is_reached_as_an_attribute_right_after_import():
    """docs/AUTO.md's ``lstmtune.auto.lstm.Settings(space="full")`` raised AttributeError right
    after ``import lstmtune`` (a probe)."""
    import subprocess
    import sys
    from pathlib import Path

    import lstmtune.auto as package

    files = sorted(p.stem for p in Path(package.__file__).parent.glob("*.py") if p.stem != "__init__")
    assert sorted(package._SUBMODULES) == files
    code = "import sys, lstmtune; print(lstmtune.auto.lstm.Settings(space='full').space, 'jax' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split() == ["full", "False"]


def test_load_model_reads_autos_model_directories_of_every_kind(tmp_path, no_arima):
    """``lstmtune.load_model`` on a series' folder of auto's models/ said "corrupted or edited:
    lstmtune_version: Field required" (a probe), while ``lstmtune forecast`` read it."""
    import lstmtune

    r = auto(pd.concat([_monthly("a", 48, 0), _monthly("b", 60, 1)]), 3, candidates=("stats", "combo"))
    r.save(tmp_path / "o")
    index = pd.read_csv(tmp_path / "o" / "models" / "index.csv", dtype=str)
    for uid, folder in zip(index["unique_id"], index["folder"]):
        model = lstmtune.load_model(tmp_path / "o" / "models" / folder)
        mine = r.forecasts[r.forecasts["unique_id"] == uid]
        np.testing.assert_allclose(model.forecast(3)["mean"].to_numpy(), mine["mean"].to_numpy(), rtol=1e-9)
        assert model.describe()


def test_a_categorical_unique_id_reads_as_its_values_without_warnings(no_arima):
    """pandas warned "The default of observed=False is deprecated" at each groupby of a
    categorical ``unique_id`` (a probe)."""
    import warnings

    frame = pd.concat([_monthly("a", 48, 0), _monthly("b", 48, 1)])
    plain = auto(frame, 3, candidates=("stats",))
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        coded = auto(frame.assign(unique_id=frame["unique_id"].astype("category")), 3, candidates=("stats",))
    pd.testing.assert_frame_equal(coded.forecasts, plain.forecasts)


def test_messages_name_python_parameters_from_python_and_flags_on_the_command_line(tmp_path):
    """From Python, ``lstmtune.auto(frame, 0)`` said "--horizon must be ...", ``levels=(0,)``
    "--level 0" (a probe): the command line's flags, not the parameters the caller gave."""
    from typer.testing import CliRunner

    from lstmtune.cli.app import app
    from lstmtune.errors import LstmtuneError

    frame = _monthly("a", 48, 0)
    for kwargs, said in (({"horizon": 0}, "horizon must be a positive whole number"), ({"horizon": 3, "levels": (0,)}, "levels 0: interval levels are whole percentages from 1 to 99 (e.g. levels=(80, 95))"),
                         ({"horizon": 3, "candidates": "nets"}, "candidates: nets: choose among"), ({"horizon": 3, "missing": "drop"}, "missing must be error"),
                         ({"horizon": 3, "freq": "fortnightly"}, "freq 'fortnightly' is not a pandas frequency")):
        with pytest.raises(LstmtuneError) as err:
            auto(frame, **kwargs)
        assert str(err.value).startswith(said) and "--" not in str(err.value), str(err.value)
    frame.to_csv(tmp_path / "a.csv", index=False)
    res = CliRunner().invoke(app, ["auto", str(tmp_path / "a.csv"), "--horizon", "3", "--level", "0", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "--level 0: interval levels are whole percentages from 1 to 99 (e.g. --level 80 95)" in " ".join(res.output.split()), res.output


def test_level_takes_several_values_at_once(tmp_path):
    """``--level 50 99`` is ``--level 50 --level 99`` (as the issue and statsforecast's ``level=[...]``
    write it; Click alone took 99 for an extra argument): checked before anything is read, so a
    bad second level names itself, whichever form."""
    from lstmtune.cli.common import spread

    assert spread(["a.csv", "--level", "50", "99", "--horizon", "3"], "--level") == ["a.csv", "--level", "50", "--level", "99", "--horizon", "3"]
    assert spread(["--level=50", "99.5", "b.csv"], "--level") == ["--level=50", "--level", "99.5", "b.csv"]
    assert spread(["--level", "50", "--", "99"], "--level") == ["--level", "50", "--", "99"]
    assert spread(["--horizon", "50", "99"], "--level") == ["--horizon", "50", "99"]
    assert spread(["--level", "--horizon", "3"], "--level") == ["--level", "--horizon", "3"]
    for args in (["--level", "50", "100"], ["--level", "50", "--level", "100"], ["--level=50", "100"]):
        res = CliRunner().invoke(app, ["auto", str(tmp_path / "absent.csv"), "--horizon", "3", *args, "--out", str(tmp_path / "o")])
        assert res.exit_code == 2 and "--level 100: interval levels are whole percentages" in " ".join(res.output.split()), res.output
    assert not (tmp_path / "o").exists()


def test_a_forecast_clipped_wholly_to_zero_says_so(tmp_path):
    """A strictly positive series declining towards 0: its chosen model's band fell wholly below
    0, and clipping at 0 made the forecast and both bands 0, a band of no width, said nowhere
    (a probe). The leaderboard's reason now says from which step."""
    y = np.linspace(100, 4, 30) + np.tile([0.5, -0.5, 0.3, -0.3, 0.0], 6)
    f = _write(tmp_path / "decl.csv", pd.DataFrame({"ds": pd.date_range("2016-01-01", periods=30, freq="MS"), "y": y}))
    res = CliRunner().invoke(app, ["auto", str(f), "--horizon", "6", "--candidates", "stats", "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 0, res.output
    fc = pd.read_csv(tmp_path / "o" / "forecasts.csv")
    zero = np.flatnonzero((fc[["mean", "upper_95"]] == 0).all(axis=1).to_numpy())
    assert zero.size  # the case itself
    board = pd.read_csv(tmp_path / "o" / "leaderboard.csv")
    reason = board.loc[board["chosen"] == True, "reason"].iloc[0]  # noqa: E712
    assert f"fall below 0 from step {zero[0] + 1} of 6" in reason and "bands of no width" in reason
    other = _write(tmp_path / "m.csv", _monthly("m", 60, 0).drop(columns="unique_id"))
    res = CliRunner().invoke(app, ["auto", str(other), "--horizon", "6", "--candidates", "stats", "--out", str(tmp_path / "p"), "-q"])
    board = pd.read_csv(tmp_path / "p" / "leaderboard.csv")
    assert not board["reason"].fillna("").str.contains("below 0").any()


def test_a_statistical_model_left_out_of_the_final_fit_gives_way_with_its_reason(monkeypatch, no_arima):
    """A model whose final fit statsforecast leaves out (its bands collapsed on every observation,
    say) gave way with a KeyError for a reason; the reason statistical gives is said now."""
    from lstmtune.selection import statistical

    data = _monthly("a", 40, 21)
    plain = auto(data, 4, candidates=("stats",))
    first, second = list(plain.leaderboard["candidate"])[:2]
    real = statistical.forecast

    def without_first(frame, horizon, freq, season, levels=(80, 95), names=statistical.MODELS, n_jobs=1):
        table, failed = real(frame, horizon, freq, season, levels=levels, names=names, n_jobs=n_jobs)
        if first in names:
            table = table.drop(columns=[c for c in table.columns if c.split("-lo-")[0].split("-hi-")[0] == first])
            failed = [*failed, f"{first}: its bands have no width and miss its own forecasts (a test)"]
        return table, failed

    monkeypatch.setattr(statistical, "forecast", without_first)
    res = auto(data, 4, candidates=("stats",))
    assert set(res.forecasts["model"]) == {second}
    assert res.verdicts["a"].startswith(f"{first} had the lowest backtest MASE but could not be fitted on every observation ({first}: its bands have no width")


def test_the_calendar_harmonics_are_those_of_the_lowest_aicc_harmonic_regression():
    """`harmonics_for` against a NumPy least-squares fit of every K with AICc (FPP3 10.5): a
    smooth yearly wave keeps one pair; a season with a one-month spike gets more; the space's
    calendar network reads what it chose, named as before (the name seeds the ensemble)."""
    rng = np.random.default_rng(4)
    t = np.arange(120)
    dates = pd.date_range("2000-01-01", periods=120, freq="MS")

    def by_hand(y):
        d, ph = np.diff(y), (dates.month.to_numpy() - 1)[1:]
        scores = []
        for k in range(1, 7):
            cols = [np.ones_like(d)]
            for j in range(1, k + 1):
                a = 2 * np.pi * j * ph / 12
                cols += ([np.sin(a)] if 2 * j != 12 else []) + [np.cos(a)]
            x = np.column_stack(cols)
            n, q = x.shape
            sse = float(np.sum((d - x @ np.linalg.lstsq(x, d, rcond=None)[0]) ** 2))
            scores.append(n * np.log(sse / n) + 2 * (q + 1) + 2 * (q + 1) * (q + 2) / (n - q - 2))
        return int(np.argmin(scores)) + 1

    smooth = 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 120)
    spike = 100 + 0.5 * t + 30 * ((t % 12) == 11) + rng.normal(0, 1, 120)
    for y in (smooth, spike, 100 + rng.normal(0, 1, 120).cumsum()):
        assert lstm.harmonics_for(y, dates, "month") == by_hand(y)
    assert lstm.harmonics_for(smooth, dates, "month") == 1 and lstm.harmonics_for(spike, dates, "month") > 2
    settings = lstm.Settings(epochs=20, seeds=2)
    (name, config, _, _), *_ = lstm.space(spike, 12, settings, "MS", dates=dates.to_numpy())
    assert name.endswith(",month)") and config.calendar == (f"month:{lstm.harmonics_for(spike, dates, 'month')}",)
    assert lstm.space(spike, 12, settings, "MS")[0][1].calendar == ("month",)  # no dates given: the one pair
