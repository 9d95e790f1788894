"""Covariates and calendar inputs (issue 14, item 2): loading, framing, scaling on training
rows only, Keras fidelity with several features, and a study end to end."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lstmtune.data import series as data
from lstmtune.study import identity
from lstmtune.data import problem
from lstmtune.study import spec as spec_mod
from lstmtune.cli.app import app
from lstmtune.errors import DataError, LstmtuneError

pytestmark = pytest.mark.slow  # the fast subset (pytest -m 'not slow') leaves this module out; the full run keeps it


def _csv(tmp_path, n=48, missing_at=None, name="macro.csv"):
    dates = pd.date_range("2001-01-01", periods=n, freq="MS")
    t = np.arange(n)
    rng = np.random.default_rng(0)
    cpi = 100 + 0.3 * t + rng.normal(0, 0.2, n)
    sales = 200 + 2 * t + 20 * np.sin(2 * np.pi * t / 12) + 0.5 * cpi + rng.normal(0, 3, n)
    frame = pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "sales": sales.round(3), "cpi": cpi.round(3), "unemp": (5 + np.sin(t / 7)).round(3)})
    if missing_at is not None:
        frame["cpi"] = frame["cpi"].astype(object)
        frame.loc[missing_at, "cpi"] = ""
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path, frame


def test_covariate_columns_load_under_the_missing_value_policy(tmp_path):
    path, frame = _csv(tmp_path)
    s = data.load(path, value_column="sales", covariates=["cpi", "unemp"])
    assert [k for k, _ in s.covariates] == ["cpi", "unemp"]
    np.testing.assert_array_equal(s.covariate("cpi"), frame["cpi"].to_numpy(dtype=float))
    np.testing.assert_array_equal(s.head(10).covariate("unemp"), frame["unemp"].to_numpy(dtype=float)[:10])

    path, _ = _csv(tmp_path, missing_at=5, name="gap.csv")
    with pytest.raises(DataError, match=r"gap.csv: line 7, column 'cpi': is missing"):
        data.load(path, value_column="sales", covariates=["cpi"])
    filled = data.load(path, value_column="sales", covariates=["cpi"], missing="interpolate")
    c = filled.covariate("cpi")
    t = filled.dates.astype("datetime64[D]").astype(float)
    assert np.isfinite(c).all() and np.isclose(c[5], np.interp(t[5], [t[4], t[6]], [c[4], c[6]]))  # linear in time
    dropped = data.load(path, value_column="sales", covariates=["cpi"], missing="drop")
    assert len(dropped) == 47 and len(dropped.covariate("cpi")) == 47 and not np.isnan(dropped.covariate("cpi")).any()

    with pytest.raises(DataError, match=r"macro.csv: no covariate column 'gdp'; columns: \['date', 'sales', 'cpi', 'unemp'\]"):
        data.load(tmp_path / "macro.csv", value_column="sales", covariates=["gdp"])


def test_covariates_are_differenced_framed_and_scaled_on_training_rows_only(tmp_path):
    path, _ = _csv(tmp_path)
    s = data.load(path, value_column="sales", covariates=["cpi"])
    fr = problem.Framing(lags=2, timesteps=1, test_size=12, covariates=("cpi",))
    p = problem.prepare(s, fr, 1)
    assert p.train_x.shape[2] == fr.features == 4
    # Unscaled: the covariate's differences framed like the target's.
    cdiff = np.diff(s.covariate("cpi"))
    raw = np.stack([cdiff[j : j + 2] for j in range(len(cdiff) - 2)])  # (pairs, lags)
    lo, hi = fr.feature_range
    col_min, col_scale = p.scaler.min[2:4], p.scaler.scale[2:4]
    unscaled = (p.test_x[:, 0, 2:4] - col_min) / col_scale
    np.testing.assert_allclose(unscaled, raw[-12:], rtol=1e-9, atol=1e-9)
    # Changing the covariate inside the test period changes no training input and no scaler parameter.
    changed = dataclasses.replace(s, covariates=(("cpi", s.covariate("cpi") * np.r_[np.ones(40), 3 * np.ones(8)]),))
    q = problem.prepare(changed, fr, 1)
    np.testing.assert_array_equal(q.train_x, p.train_x)
    np.testing.assert_array_equal(q.scaler.min, p.scaler.min)
    assert not np.array_equal(q.test_x, p.test_x)


def test_calendar_inputs_are_the_forecast_dates_sin_cos(tmp_path):
    path, _ = _csv(tmp_path)
    s = data.load(path, value_column="sales")
    fr = problem.Framing(lags=1, timesteps=1, test_size=12, calendar=("month",))
    p = problem.prepare(s, fr, 1)
    x = np.concatenate([p.train_x, p.test_x])[:, 0, 1:3]
    unscaled = (x - p.scaler.min[1:3]) / p.scaler.scale[1:3]
    # Pair j forecasts observation j + 2 (one lag, one difference); the last pairs are the test.
    months = pd.DatetimeIndex(s.dates).month.to_numpy()[-len(unscaled):]
    angle = 2 * np.pi * (months - 1) / 12
    np.testing.assert_allclose(unscaled, np.stack([np.sin(angle), np.cos(angle)], axis=1), atol=1e-9)
    positional = dataclasses.replace(s, positional=True)
    with pytest.raises(LstmtuneError, match="calendar inputs need dates"):
        problem.prepare(positional, fr, 1)


def test_a_calendar_input_constant_on_the_series_dates_is_refused_naming_it():
    """`calendar = ["dayofweek"]` on weekly dates (every one a Wednesday) was accepted: a
    constant input (a probe)."""
    from lstmtune.data.series import Series
    from lstmtune.study.executor import prepare_checked
    from lstmtune.study.spec import SpecError

    weekly = Series(name="w", dates=pd.date_range("2020-01-01", periods=60, freq="W-WED").to_numpy(), values=np.arange(60.0), value_name="v")
    with pytest.raises(SpecError, match=r"data.calendar = \['dayofweek'\]: 'dayofweek' is the same for every date of w \(every one a Wednesday\)"):
        prepare_checked(weekly, problem.Framing(lags=1, timesteps=1, test_size=12, calendar=("dayofweek",)), 1)
    yearly = Series(name="y", dates=pd.date_range("1950-01-01", periods=60, freq="YS").to_numpy(), values=np.arange(60.0), value_name="v")
    with pytest.raises(SpecError, match=r"'month' is the same for every date of y \(every one in January\)"):
        prepare_checked(yearly, problem.Framing(lags=1, timesteps=1, test_size=12, calendar=("month",)), 1)
    assert prepare_checked(weekly, problem.Framing(lags=1, timesteps=1, test_size=12, calendar=("month",)), 1) is not None


def test_several_features_match_keras(tmp_path):
    """The engine on covariate and calendar inputs (F = 5) against Keras 3, as tests/test_engine_keras.py does for F = 1."""
    from keras_reference import _check, compare

    from lstmtune.engine import trainer as engine

    path, _ = _csv(tmp_path)
    s = data.load(path, value_column="sales", covariates=["cpi", "unemp"])
    fr = problem.Framing(lags=1, timesteps=2, test_size=12, trim=None, covariates=("cpi", "unemp"), calendar=("month",))
    assert fr.features == 5
    _check(compare(s, engine.Architecture(3, 2), fr, seed=17), 1e-5)


def _study(tmp_path, **data_extra):
    path, _ = _csv(tmp_path)
    spec = {
        "name": "cov",
        "data": {"source": str(path), "value_column": "sales", "covariates": ["cpi"], "calendar": ["month"], **data_extra},
        "model": {"epochs": 20, "batch_size": 4},
        "runs": {"mode": "summary", "repeats": 3},
        "grid": {"units": [1, 2]},
    }
    file = tmp_path / "cov.toml"
    file.write_text(spec_mod.dumps(spec_mod.from_dict(spec)))
    return file


@pytest.mark.figures
def test_a_study_with_covariates_runs_and_reports(tmp_path):
    file = _study(tmp_path)
    res = CliRunner().invoke(app, ["run", str(file), "--out", str(tmp_path / "run"), "-q"])
    assert res.exit_code == 0, res.output
    series = pd.read_csv(tmp_path / "run" / "series.csv")
    assert list(series.columns) == ["date", "sales", "cpi"]
    assert len(pd.read_csv(tmp_path / "run" / "results.csv")) == 6
    html = (tmp_path / "run" / "report.html").read_text()
    assert "Forecasts of the test period" in html
    assert "The covariates (cpi) are taken at their observed values in the test period, as if known in advance" in html
    # The report's one-step forecasts of the test are the ones the stored test RMSE scored.
    from lstmtune.study import results_io
    from lstmtune.forecast import testpaths

    results, _ = results_io.read(tmp_path / "run")
    table = pd.read_csv(tmp_path / "run" / "test_forecasts.csv")
    paths = testpaths.from_table(table, results.series, results.spec.data.test_size)
    key = table["config"].iloc[0]
    scored = results.runs[results.runs["config"] == key].sort_values("repeat")["test_rmse"].to_numpy()
    np.testing.assert_allclose(paths.rmse(), scored, rtol=1e-6)
    res = CliRunner().invoke(app, ["report", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["fit", str(tmp_path / "run"), "--out", str(tmp_path / "model"), "--horizon", "2"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "1", "--out", str(tmp_path / "fc.csv")])
    assert res.exit_code == 0 and len(pd.read_csv(tmp_path / "fc.csv")) == 1, res.output


def test_inputs_are_part_of_the_stored_identity(tmp_path):
    path, _ = _csv(tmp_path)
    s = data.load(path, value_column="sales", covariates=["cpi"])
    plain = spec_mod.from_dict({"data": {"source": str(path), "value_column": "sales"}})
    cov = spec_mod.from_dict({"data": {"source": str(path), "value_column": "sales", "covariates": ["cpi"]}})
    cal = spec_mod.from_dict({"data": {"source": str(path), "value_column": "sales", "covariates": ["cpi"], "calendar": ["month"]}})
    base = data.load(path, value_column="sales")
    fps = {identity.fingerprint(plain, base), identity.fingerprint(cov, s), identity.fingerprint(cal, s)}
    assert len(fps) == 3
    with pytest.raises(Exception, match="names must not repeat"):
        spec_mod.from_dict({"data": {"calendar": ["month", "month"]}})


def test_dropping_rows_that_miss_a_covariate_names_the_column_that_left_none(tmp_path):
    """A covariate column with no value, read with missing = "drop", emptied the series, and the
    refusal said only that a series of 0 observations was too short (with test_size 0)."""
    from lstmtune.data.series import load
    from lstmtune.errors import DataError

    path = tmp_path / "h.csv"
    path.write_text("date,y,x,empty\n" + "".join(f"2015-{m:02d}-01,{m},{m * 2},\n" for m in range(1, 13)))
    assert len(load(path, value_column="y", missing="drop", covariates=["x"])) == 12
    with pytest.raises(DataError, match=r"h.csv: dropping the rows that miss a value \(missing: drop\) left none: column 'empty' has no value"):
        load(path, value_column="y", missing="drop", covariates=["x", "empty"])


def test_calendar_harmonics_are_fourier_terms_and_one_harmonic_is_the_sin_cos_pair_bit_for_bit():
    """``month:K`` reads the first K harmonics of the cycle (twenty-ninth session); ``month`` is
    the one pair it always was, to the bit (saved models and studies unchanged)."""
    phase = np.arange(12)
    one = problem.calendar_features(phase, "month")
    angle = 2 * np.pi * phase / 12  # the formula before harmonics
    np.testing.assert_array_equal(np.stack(one), np.stack([np.sin(angle), np.cos(angle)]))
    three = problem.calendar_features(phase, "month:3")
    want = [f(2 * np.pi * k * phase / 12) for k in (1, 2, 3) for f in (np.sin, np.cos)]
    np.testing.assert_allclose(np.stack(three), np.stack(want), atol=1e-15)
    # a quarter's full basis: harmonic 2's sine is 0 at every quarter, so left out (no constant input)
    q = problem.calendar_features(np.arange(4), "quarter:2")
    np.testing.assert_allclose(q[2], [1, -1, 1, -1], atol=1e-15)
    assert len(q) == problem.calendar_width("quarter:2") == 3 and problem.calendar_width("month:6") == 11 and problem.calendar_width("dayofweek") == 2
    # twelve months, eleven features and a constant: the full basis (any monthly profile is linear in it)
    basis = np.column_stack([np.ones(12), *problem.calendar_features(phase, "month:6")])
    assert np.linalg.matrix_rank(basis) == 12
    assert problem.Framing(lags=2, calendar=("month:3", "quarter")).features == 2 + 6 + 2
    for bad in ("month:0", "month:7", "quarter:3", "week", "month:", "month:x"):
        with pytest.raises(ValueError, match="is no calendar input"):
            problem.calendar_parts(bad)
    assert problem.calendar_label("month:3") == "month (3 harmonics)" and problem.calendar_label("month") == "month"
