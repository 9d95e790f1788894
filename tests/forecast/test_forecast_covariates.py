"""Forecasting with covariates and calendar inputs: the forecaster frames each step as
training frames it, reads the covariates' future values only where a step needs them,
and says what is missing otherwise."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import lstmtune
from lstmtune.study import executor
from lstmtune.forecast import forecaster
from lstmtune.forecast import modelio
from lstmtune.study import planner
from lstmtune.workflow import studyfit
from lstmtune.study import spec as spec_mod
from lstmtune.cli.app import app
from lstmtune.errors import LstmtuneError
from lstmtune.study.spec import Config

COVARIATES = ("cpi", "unemp")
CALENDAR = ("month",)


def _frame(n: int = 60) -> pd.DataFrame:
    t = np.arange(n)
    rng = np.random.default_rng(0)
    cpi = 100 + 0.3 * t + rng.normal(0, 0.2, n)
    sales = 200 + 2 * t + 20 * np.sin(2 * np.pi * t / 12) + 0.5 * cpi + rng.normal(0, 3, n)
    unemp = 5 + np.sin(t / 7)
    return pd.DataFrame({"sales": sales, "cpi": cpi, "unemp": unemp}, index=pd.date_range("2001-01-01", periods=n, freq="MS"))


def _config(**kw) -> Config:
    base = dict(units=3, batch_size=3, epochs=25, learning_rate=0.01, recurrent_activation="sigmoid", interval=1, lags=2, timesteps=2, trim=None)
    return Config(**{**base, **kw})


@pytest.fixture(scope="module")
def fitted():
    frame = _frame()
    model = forecaster.fit(frame.iloc[:54], _config(), seeds=[3, 4, 5], horizon=4, covariates=COVARIATES, calendar=CALENDAR)
    return model, frame


def _future(frame: pd.DataFrame, start: int, rows: int) -> pd.DataFrame:
    return frame.iloc[start : start + rows][list(COVARIATES)]


def test_one_step_forecasts_with_covariates_equal_the_studys_walk_forward():
    """Fit without the test part: one-step forecasts through the test are the study's, bit for bit."""
    frame = _frame(48)
    series = lstmtune.load_series(frame, value_column="sales", covariates=list(COVARIATES))
    spec = spec_mod.from_dict(
        {
            "name": "fc",
            "seed": 5,
            "model": {"units": 3, "batch_size": 3, "epochs": 12},
            "transforms": {"lags": 2, "timesteps": 2},
            "data": {"test_size": 8, "covariates": list(COVARIATES), "calendar": list(CALENDAR)},
            "runs": {"mode": "summary", "repeats": 3},
            "evaluation": {"selection": "test"},
        }
    )
    plan = planner.plan(spec)
    prob = executor.validate(plan, series)[executor.problem_key(plan.populations[0])]
    assert prob.train_x.shape[2] == 2 * (1 + len(COVARIATES)) + 2 * len(CALENDAR)
    result = executor.LocalExecutor().run(plan.populations[0], prob)
    study_fc = prob.invert(result.test_pred[:, 0], "test")
    seeds = studyfit.seeds_for(spec, plan.configs[0], 3)
    model = forecaster.fit(series.head(40), plan.configs[0], seeds=seeds, calibrate=False, covariates=COVARIATES, calendar=CALENDAR)
    ours = model.one_step(series).tail(8)
    np.testing.assert_array_equal(ours.to_numpy().T, study_fc)


def test_each_recursive_step_is_a_one_step_forecast_on_the_history_extended_by_its_path(fitted):
    """Step h's inputs are framed from the history, the replica's own forecasts before h, the
    covariates' future values and the forecast date's calendar, as training frames them."""
    model, frame = fitted
    H = 4
    paths, _, _ = model.paths(H, future=_future(frame, 54, H))
    for p in range(len(model.seeds)):
        for h in range(H):
            ext = frame.iloc[: 54 + h + 1].copy()
            ext.iloc[54 : 54 + h, 0] = paths[p, :h]  # the replica's own forecasts fed back
            ext.iloc[54 + h, 0] = 0.0  # the target being forecast: never an input
            reference = model.one_step(ext).iloc[-1, p]
            np.testing.assert_allclose(paths[p, h], reference, rtol=1e-6)


@pytest.mark.parametrize("kw", [{"cell": "gru", "units": (3, 2)}, {"stateful": False, "batch_size": 4, "timesteps": 3, "lags": 1}])
def test_recursive_steps_match_one_step_for_other_networks(kw):
    frame = _frame(48)
    model = forecaster.fit(frame.iloc[:44][["sales", "cpi"]], _config(epochs=8, **kw), seeds=[7, 8], calibrate=False, covariates=("cpi",), calendar=("quarter",))
    paths, _, _ = model.paths(3, future=frame.iloc[44:47][["cpi"]])
    for p in range(2):
        for h in range(3):
            ext = frame.iloc[: 44 + h + 1].copy()
            ext.iloc[44 : 44 + h, 0] = paths[p, :h]
            np.testing.assert_allclose(paths[p, h], model.one_step(ext[["sales", "cpi"]]).iloc[-1, p], rtol=1e-6)


def test_a_future_covariate_is_read_only_by_the_steps_after_its_date(fitted):
    model, frame = fitted
    H = 5
    base = _future(frame, 54, H)
    ref, _, _ = model.paths(H, future=base)
    for k in range(H):
        changed = base.copy()
        changed.iloc[k, 0] += 50.0
        out, _, _ = model.paths(H, future=changed)
        np.testing.assert_array_equal(out[:, : k + 1], ref[:, : k + 1])  # steps up to its own date: unchanged
        if k + 1 < H:
            assert not np.allclose(out[:, k + 1], ref[:, k + 1])
    # horizon - 1 rows suffice (the last forecast date's covariates are never read)
    np.testing.assert_array_equal(model.paths(H, future=base.iloc[: H - 1])[0], ref)
    np.testing.assert_array_equal(model.paths(H, future={c: base[c].to_numpy()[: H - 1] for c in COVARIATES})[0], ref)


def test_a_newer_history_with_covariates_continues_like_the_fitted_end(fitted):
    model, frame = fitted
    a = model.forecast(3, future=_future(frame, 54, 3))
    b = model.forecast(3, frame.iloc[:54], future=_future(frame, 54, 3))
    np.testing.assert_allclose(a["mean"], b["mean"], rtol=1e-5)
    later = model.forecast(3, frame.iloc[:57], future=_future(frame, 57, 3))
    assert list(later["date"].dt.strftime("%Y-%m")) == ["2005-10", "2005-11", "2005-12"]


def test_the_backtest_and_calibration_run_with_covariates(fitted):
    model, _ = fitted
    assert model.backtest is not None and model.info["calibration_held_back"] > 2
    lstm = model.backtest[model.backtest["model"] == "lstm"]
    assert list(lstm["horizon"]) == [1, 2, 3, 4] and np.isfinite(lstm["rmse"]).all()


def test_saved_model_with_covariates_forecasts_identically(fitted, tmp_path):
    model, frame = fitted
    model.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["format_version"] == modelio.FORMAT_VERSION_EXTRAS
    assert manifest["framing"]["covariates"] == list(COVARIATES) and manifest["framing"]["calendar"] == list(CALENDAR)
    assert len(manifest["series"]["tail_covariates"]["cpi"]) == len(manifest["series"]["tail_values"])
    loaded = lstmtune.load_model(tmp_path / "m")
    future = _future(frame, 54, 6)
    pd.testing.assert_frame_equal(loaded.forecast(6, future=future), model.forecast(6, future=future))
    pd.testing.assert_frame_equal(loaded.forecast(6, frame.iloc[:52], future=_future(frame, 52, 6)), model.forecast(6, frame.iloc[:52], future=_future(frame, 52, 6)))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m, f: m.forecast(4), r"4-step forecast needs the covariates cpi, unemp at the first 3 forecast dates \(2005-07-01 .. 2005-09-01\)"),
        (lambda m, f: m.forecast(4, future=f[["cpi"]]), r"future: no column 'unemp'"),
        (lambda m, f: m.forecast(4, future=f.iloc[:2]), r"future: 2 rows; a 4-step forecast needs the covariates at the first 3 forecast dates"),
        (lambda m, f: m.forecast(4, future=f.shift(1, freq="MS")), r"future: row 1 is dated 2005-08-01, expected forecast date 2005-07-01"),
        (lambda m, f: m.forecast(4, future=f.assign(cpi=[1.0, np.nan, 2.0, 3.0])), r"future: column 'cpi' row 2: missing or non-finite"),
        # past float32: a RuntimeWarning and a forecast of garbage, while the history's reader refused it (a probe)
        (lambda m, f: m.forecast(4, future=f.assign(unemp=[1.0, 2.0, 1e31, 3.0])), r"future: column 'unemp' row 3: 1e\+31 is beyond 1e\+30: the networks read float32"),
        (lambda m, f: m.forecast(2, pd.Series(f["cpi"])), r"reads covariates \(cpi, unemp\): give a DataFrame"),
        (lambda m, f: m.one_step(_frame()[["sales", "cpi"]]), r"no column 'unemp'"),
    ],
)
def test_what_a_forecast_lacks_is_named(fitted, call, message):
    model, frame = fitted
    with pytest.raises(LstmtuneError, match=message):
        call(model, _future(frame, 54, 4))


def test_hourly_forecast_dates_are_named_with_their_times():
    from lstmtune.data import known_inputs

    hours = pd.date_range("2020-01-01", periods=3, freq="h")
    frame = pd.DataFrame({"cpi": [1.0, 2.0, 3.0]}, index=hours + pd.Timedelta(minutes=30))
    with pytest.raises(LstmtuneError, match=r"row 1 is dated 2020-01-01 00:30:00, expected forecast date 2020-01-01 00:00:00"):
        known_inputs.future_covariates(frame, ["cpi"], 3, hours)
    with pytest.raises(LstmtuneError, match=r"at the first 2 forecast dates \(2020-01-01 00:00:00 .. 2020-01-01 01:00:00\)"):
        known_inputs.future_covariates(None, ["cpi"], 3, hours)


def test_one_step_ahead_needs_no_future(fitted):
    model, frame = fitted
    one = model.forecast(1)
    assert len(one) == 1 and np.isfinite(one["mean"]).all()
    np.testing.assert_array_equal(one["mean"], model.forecast(4, future=_future(frame, 54, 4))["mean"][:1])


def test_the_python_api_fits_a_study_on_a_dataframe_with_more_columns():
    frame = _frame(48)  # sales, cpi, unemp; the study reads cpi only
    study = lstmtune.study_from_dict(
        {"name": "api", "data": {"value_column": "sales", "covariates": ["cpi"], "test_size": 6}, "model": {"units": 2, "batch_size": 3, "epochs": 5}, "runs": {"repeats": 2}}
    )
    model = lstmtune.fit(frame, study, horizon=2)
    assert model.value_name == "sales" and model.framing.covariates == ("cpi",)
    fc = model.forecast(2, future={"cpi": [frame["cpi"].iloc[-1]]})
    assert len(fc) == 2 and np.isfinite(fc["mean"]).all()
    with pytest.raises(LstmtuneError, match="the DataFrame has columns"):
        forecaster.fit(frame, _config(), seeds=[1], calibrate=False, covariates=("cpi",))


def test_calendar_inputs_need_dates_at_fit():
    frame = _frame(48)
    s = lstmtune.load_series(frame, value_column="sales")
    with pytest.raises(LstmtuneError, match="calendar inputs need dates"):
        forecaster.fit(dataclasses.replace(s, positional=True), _config(), seeds=[1], calibrate=False, calendar=CALENDAR)


def _write_study(tmp_path, date_format: str | None = None) -> tuple:
    frame = _frame(48)
    csv = tmp_path / "macro.csv"
    frame.rename_axis("date").reset_index().to_csv(csv, index=False, date_format=date_format or "%Y-%m-%d")
    spec = {
        "name": "cov",
        "data": {"source": str(csv), "value_column": "sales", "covariates": list(COVARIATES), "calendar": list(CALENDAR), "test_size": 6}
        | ({"date_format": date_format} if date_format else {}),
        "model": {"epochs": 15, "batch_size": 3, "units": 2},
        "runs": {"mode": "summary", "repeats": 2},
    }
    file = tmp_path / "cov.toml"
    file.write_text(spec_mod.dumps(spec_mod.from_dict(spec)))
    return file, frame


@pytest.mark.slow  # 3 s in the full run, end to end: kept out of the fast subset
@pytest.mark.figures
def test_cli_fits_a_covariate_study_and_forecasts_with_a_future_file(tmp_path):
    file, frame = _write_study(tmp_path)
    runner = CliRunner()
    res = runner.invoke(app, ["fit", str(file), "--out", str(tmp_path / "model"), "--horizon", "3"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["describe", str(tmp_path / "model")])
    assert res.exit_code == 0, res.output
    for said in ("fitted from", "2 seeds", "covariates cpi, unemp", "calendar month", "msis_95", "persistence"):
        assert said in res.output, said
    assert "missing" not in res.stderr
    backtest = (tmp_path / "model" / "backtest.csv").read_bytes()
    (tmp_path / "model" / "backtest.csv").unlink()  # deleted by hand: said, not silently left out
    res = runner.invoke(app, ["describe", str(tmp_path / "model")])
    assert res.exit_code == 0 and "msis_95" not in res.output, res.output
    assert res.stderr.startswith("note: ") and "backtest.csv is missing: fit wrote it from" in res.stderr, res.stderr
    (tmp_path / "model" / "backtest.csv").write_bytes(backtest)
    future = tmp_path / "future.csv"
    dates = pd.date_range("2005-01-01", periods=3, freq="MS").strftime("%Y-%m-%d")
    pd.DataFrame({"date": dates, "cpi": [115.0, 115.3, 115.6], "unemp": [5.1, 5.2, 5.3]}).to_csv(future, index=False)
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "3", "--future", str(future), "--out", str(tmp_path / "fc.csv")])
    assert res.exit_code == 0, res.output
    fc = pd.read_csv(tmp_path / "fc.csv")
    assert list(fc["date"]) == list(dates) and np.isfinite(fc["mean"]).all()
    assert "3-step forecast (2 seeds)" in res.output and "2005-01-01" in res.output and "80% interval" in res.output  # the table, printed
    # --paths: every seed's path, long; the table's mean and median are over these
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "3", "--future", str(future), "--out", str(tmp_path / "p.csv"), "--paths"])
    assert res.exit_code == 0 and "p_paths.csv" in res.output, res.output
    each = pd.read_csv(tmp_path / "p_paths.csv")
    assert list(each.columns) == ["date", "step", "seed", "value"] and len(each) == 3 * 2  # 2 seeds (the study's repeats)
    by_date = each.groupby("date", sort=False)["value"]
    np.testing.assert_allclose(by_date.mean().to_numpy(), fc["mean"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(by_date.median().to_numpy(), fc["median"].to_numpy(), rtol=1e-12)
    # a forecast written again without --paths removes the earlier one's paths (they no longer matched it)
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "2", "--future", str(future), "--out", str(tmp_path / "p.csv")])
    assert res.exit_code == 0 and "removed" in res.output and not (tmp_path / "p_paths.csv").exists(), res.output

    # A newer history (CSV): the target is the one numeric column that is not a covariate.
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "3", "--data", str(tmp_path / "macro.csv"), "--future", str(future), "--out", str(tmp_path / "again.csv")])
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "again.csv"), fc, rtol=1e-5)
    # another numeric column beside them: the model's own target is read (it asked for --value-column: a probe)
    pd.read_csv(tmp_path / "macro.csv").assign(extra=1.0).to_csv(tmp_path / "wider.csv", index=False)
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "3", "--data", str(tmp_path / "wider.csv"), "--future", str(future), "--out", str(tmp_path / "wider_fc.csv")])
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "wider_fc.csv"), pd.read_csv(tmp_path / "again.csv"))

    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "3", "--out", str(tmp_path / "none.csv")])
    assert res.exit_code != 0 and "--future FILE" in res.output and not (tmp_path / "none.csv").exists()
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"date": dates, "cpi": [115.0, "n/a", 115.6], "unemp": [5.1, 5.2, 5.3]}).to_csv(bad, index=False)
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "3", "--future", str(bad), "--out", str(tmp_path / "bad_fc.csv")])
    assert res.exit_code != 0 and "bad.csv: line 3, column 'cpi'" in res.output and not (tmp_path / "bad_fc.csv").exists()
    late = tmp_path / "late.csv"  # dated a year off: named by file and line, as its other errors are (it said "future: row 1")
    pd.DataFrame({"date": pd.date_range("2004-01-01", periods=3, freq="MS").strftime("%Y-%m-%d"), "cpi": [115.0, 115.3, 115.6], "unemp": [5.1, 5.2, 5.3]}).to_csv(late, index=False)
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "3", "--future", str(late), "--out", str(tmp_path / "late_fc.csv")])
    assert res.exit_code == 2 and "late.csv: line 2 is dated 2004-01-01, expected forecast date 2005-01-01" in " ".join(res.output.split()), res.output
    # --date-format applies to the --future file too
    us = tmp_path / "us.csv"
    pd.DataFrame({"date": pd.to_datetime(dates).strftime("%m/%d/%Y"), "cpi": [115.0, 115.3, 115.6], "unemp": [5.1, 5.2, 5.3]}).to_csv(us, index=False)
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "3", "--future", str(us), "--date-format", "%m/%d/%Y", "--out", str(tmp_path / "us_fc.csv")])
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "us_fc.csv"), fc)
    baddate = tmp_path / "baddate.csv"
    pd.DataFrame({"date": ["2005-01-01", "soon", "2005-03-01"], "cpi": [1.0, 2.0, 3.0], "unemp": [1.0, 2.0, 3.0]}).to_csv(baddate, index=False)
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "3", "--future", str(baddate), "--out", str(tmp_path / "x.csv")])
    assert res.exit_code != 0 and "baddate.csv: line 3, column 'date': 'soon' is not a date" in res.output
    # Cells the forecast never reads may be empty (a longer file with gaps past the horizon: it was
    # refused); one it reads is named by file and line; a repeated column is refused, as in a history
    longer = tmp_path / "longer.csv"
    pd.DataFrame({"date": pd.date_range("2005-01-01", periods=5, freq="MS").strftime("%Y-%m-%d"), "cpi": [115.0, 115.3, "", "", 1.0],
                  "unemp": [5.1, 5.2, "NA", "", 2.0]}).to_csv(longer, index=False)
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "3", "--future", str(longer), "--out", str(tmp_path / "longer_fc.csv")])
    assert res.exit_code == 0 and "Warning" not in res.stderr, res.output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "longer_fc.csv"), fc)
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "4", "--future", str(longer), "--out", str(tmp_path / "x.csv")])
    assert res.exit_code == 2 and "longer.csv: line 4, column 'cpi': is missing (the forecast reads it)" in res.output, res.output
    huge = tmp_path / "huge.csv"
    huge.write_text("date,cpi,unemp\n2005-01-01,1e39,5.1\n2005-02-01,115.3,5.2\n")
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "3", "--future", str(huge), "--out", str(tmp_path / "x.csv")])
    assert res.exit_code == 2 and "huge.csv: line 2, column 'cpi': 1e+39 is beyond 1e+30" in " ".join(res.output.split()), res.output
    assert "Warning" not in res.stderr
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("date,cpi,cpi,unemp\n2005-01-01,1,2,3\n2005-02-01,1,2,3\n2005-03-01,1,2,3\n")
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "3", "--future", str(repeated), "--out", str(tmp_path / "x.csv")])
    assert res.exit_code == 2 and "repeated.csv: the header names column 'cpi' more than once" in res.output, res.output
    assert not (tmp_path / "x.csv").exists()


def test_forecast_reads_dates_as_the_fitted_study_wrote_them(tmp_path):
    # A study whose dates are day/month/year: its model's --data and --future files are read
    # in that format without --date-format (they were refused as not dates); --date-format
    # still overrides it, and describe says which format is assumed.
    file, frame = _write_study(tmp_path, date_format="%d/%m/%Y")
    runner = CliRunner()
    res = runner.invoke(app, ["fit", str(file), "--out", str(tmp_path / "model"), "--horizon", "3"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["describe", str(tmp_path / "model")])
    assert res.exit_code == 0 and "dates written %d/%m/%Y" in res.output, res.output
    ahead = pd.date_range("2005-01-01", periods=3, freq="MS")
    values = {"cpi": [115.0, 115.3, 115.6], "unemp": [5.1, 5.2, 5.3]}
    future = tmp_path / "future.csv"
    pd.DataFrame({"date": ahead.strftime("%d/%m/%Y")} | values).to_csv(future, index=False)
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "3", "--future", str(future), "--out", str(tmp_path / "fc.csv")])
    assert res.exit_code == 0, res.output
    fc = pd.read_csv(tmp_path / "fc.csv")
    assert list(fc["date"]) == list(ahead.strftime("%Y-%m-%d")) and np.isfinite(fc["mean"]).all()
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "3", "--data", str(tmp_path / "macro.csv"), "--future", str(future), "--out", str(tmp_path / "again.csv")])
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "again.csv"), fc, rtol=1e-5)
    # another numeric column beside them: the model's own target is read (it asked for --value-column: a probe)
    pd.read_csv(tmp_path / "macro.csv").assign(extra=1.0).to_csv(tmp_path / "wider.csv", index=False)
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "3", "--data", str(tmp_path / "wider.csv"), "--future", str(future), "--out", str(tmp_path / "wider_fc.csv")])
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "wider_fc.csv"), pd.read_csv(tmp_path / "again.csv"))
    iso = tmp_path / "iso.csv"
    pd.DataFrame({"date": ahead.strftime("%Y-%m-%d")} | values).to_csv(iso, index=False)
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "3", "--future", str(iso), "--date-format", "%Y-%m-%d", "--out", str(tmp_path / "iso_fc.csv")])
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "iso_fc.csv"), fc)


def test_future_covariates_are_checked_wherever_their_dates_are_given(fitted, tmp_path):
    """A frame read by ``pd.read_csv`` (dates in a ``date`` column) or indexed by date text was
    taken by position, wrongly dated ones too, where the CLI refused the same file; a dict of
    text raised numpy's ValueError; a ``unique_id`` column's first series was read (a probe)."""
    model, frame = fitted
    good = _future(frame, 54, 4)
    expected = model.forecast(4, future=good)
    as_read = good.rename_axis("date").reset_index().assign(date=lambda f: f["date"].dt.strftime("%Y-%m-%d"))
    pd.testing.assert_frame_equal(model.forecast(4, future=as_read), expected)
    pd.testing.assert_frame_equal(model.forecast(4, future=good.set_axis(as_read["date"])), expected)
    for wrong in (as_read.assign(date=lambda f: pd.to_datetime(f["date"]) - pd.DateOffset(years=1)), good.set_axis(as_read["date"].str.replace("2005", "2004"))):
        with pytest.raises(LstmtuneError, match=r"future: row 1 is dated 2004-07-01, expected forecast date 2005-07-01"):
            model.forecast(4, future=wrong)
    with pytest.raises(LstmtuneError, match=r"future: column 'cpi' is not numeric"):
        model.forecast(4, future={"cpi": ["a", "b", "c"], "unemp": [1.0, 2.0, 3.0]})
    with pytest.raises(LstmtuneError, match=r"future: a unique_id column"):
        model.forecast(4, future=as_read.assign(unique_id="a"))
    from lstmtune.data import known_inputs

    f = tmp_path / "two.csv"
    pd.concat([as_read.assign(unique_id=u) for u in "ba"])[["unique_id", "date", *COVARIATES]].to_csv(f, index=False)
    with pytest.raises(LstmtuneError, match=f"{f}: a unique_id column: a --future file holds one series' future covariates"):
        known_inputs.read_future(f, COVARIATES)
    few = tmp_path / "few.csv"
    as_read.iloc[:2].to_csv(few, index=False)
    with pytest.raises(LstmtuneError, match=f"{few}: 2 rows; a 4-step forecast needs"):
        model.forecast(4, future=known_inputs.read_future(few, COVARIATES))


def test_fit_refuses_a_calendar_input_the_same_for_every_date_as_run_does():
    """200 hours all in January: `run` refused 'month', `fit` trained on it, and a forecast from
    a February history fed the network a month it never saw (a probe)."""
    hours = pd.Series(np.sin(np.arange(200) / 5) + 50, index=pd.date_range("2020-01-01", periods=200, freq="h"), name="load")
    spec = spec_mod.from_dict({"name": "c", "data": {"calendar": ["month"], "test_size": 12}, "model": {"epochs": 2, "batch_size": 4}, "runs": {"repeats": 2}})
    with pytest.raises(LstmtuneError, match=r"data.calendar = \['month'\]: 'month' is the same for every date of load \(every one in January\)"):
        lstmtune.fit(hours, spec, repeats=2, horizon=3)


def test_a_panel_study_with_covariates_is_refused_before_anything_is_written(tmp_path):
    from lstmtune.workflow import panelstudy

    frame = _frame()
    panel = pd.DataFrame({"unique_id": "a", "ds": frame.index, "y": frame["sales"].to_numpy(), "cpi": frame["cpi"].to_numpy()})
    spec = spec_mod.from_dict({"name": "p", "data": {"covariates": ["cpi"], "test_size": 6}, "model": {"epochs": 2}, "runs": {"repeats": 2}})
    for call in (panelstudy.run, panelstudy.search):
        with pytest.raises(LstmtuneError, match=r"\[data\] covariates = \['cpi'\]: not read from a long panel"):
            call(spec, panel, tmp_path / "o")
        assert not (tmp_path / "o").exists()


def test_a_future_file_that_is_empty_or_a_folder_is_worded_as_a_historys(tmp_path):
    """``--future`` said "not a readable CSV file ('No columns to parse from file')" and "Is a
    directory" where a history's file says "the file is empty" and "is a directory" (a probe)."""
    from lstmtune.data import known_inputs

    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "adir").mkdir()
    with pytest.raises(LstmtuneError, match=r"--future .*empty.csv: the file is empty$"):
        known_inputs.read_future(tmp_path / "empty.csv", ["cpi"])
    with pytest.raises(LstmtuneError, match=r"--future .*adir: is a directory, expected a CSV file$"):
        known_inputs.read_future(tmp_path / "adir", ["cpi"])
