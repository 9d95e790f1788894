"""The documented Python API: `import lstmtune` is light, and its functions work end to end."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import lstmtune


def test_import_does_not_import_jax():
    code = "import sys, lstmtune; lstmtune.load_study; print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_load_series_from_pandas_and_run(tmp_path):
    base = lstmtune.load_series("shampoo")
    s = pd.Series(base.values, index=pd.DatetimeIndex(base.dates), name="sales")
    series = lstmtune.load_series(s)
    np.testing.assert_array_equal(series.values, base.values)
    spec = lstmtune.study_from_dict({"name": "api", "model": {"epochs": 3}, "runs": {"repeats": 2, "mode": "summary"}, "grid": {"units": [1, 2]}})
    assert "configurations: 2" in lstmtune.plan(spec, series)
    outcome = lstmtune.run(spec, tmp_path / "out")
    runs, summary = lstmtune.results(tmp_path / "out")
    assert len(runs) == 4 and summary["selected"].sum() == 1
    assert outcome.results.selected["api"] in set(summary["config"])
    # after run and results imported the report package, lstmtune.report is still the function
    # ("'module' object is not callable" in a notebook's next cell: a probe), and the package
    (tmp_path / "out" / "report.html").unlink()
    assert lstmtune.report(tmp_path / "out") == tmp_path / "out" / "report.html" and (tmp_path / "out" / "report.html").is_file()
    from lstmtune.report import html

    assert html.__name__ == "lstmtune.report.html" and lstmtune.report.html is html
    with pytest.raises(TypeError):
        lstmtune.load_series(pd.Series([1.0, 2.0]))
    with pytest.raises(AttributeError):
        lstmtune.nothing_here


def test_load_series_from_a_dataframe_with_covariates():
    base = lstmtune.load_series("shampoo")
    idx = pd.DatetimeIndex(base.dates)
    frame = pd.DataFrame({"sales": base.values, "promo": np.arange(len(base), dtype=float)}, index=idx)
    s = lstmtune.load_series(frame, value_column="sales", covariates=["promo"])
    np.testing.assert_array_equal(s.values, base.values)
    np.testing.assert_array_equal(s.covariate("promo"), np.arange(len(base)))
    assert lstmtune.load_series(frame[["sales"]]).value_name == "sales"
    with pytest.raises(TypeError, match="say which is the target"):
        lstmtune.load_series(frame)
    with pytest.raises(ValueError, match="no column 'price'"):
        lstmtune.load_series(frame, value_column="sales", covariates=["price"])
    with pytest.raises(TypeError, match="needs a DatetimeIndex or PeriodIndex"):
        lstmtune.load_series(frame.reset_index(drop=True))
    by_period = lstmtune.load_series(frame.set_axis(frame.index.to_period("M")), value_column="sales", covariates=["promo"])  # dated by each month's start
    np.testing.assert_array_equal(by_period.dates, s.dates)
    np.testing.assert_array_equal(by_period.values, s.values)
    gappy = frame.copy()
    gappy.iloc[3, 1] = np.nan
    with pytest.raises(ValueError, match="promo: missing or non-finite values"):
        lstmtune.load_series(gappy, value_column="sales", covariates=["promo"])


def test_load_series_refuses_what_it_cannot_use_in_one_clear_error():
    """A pandas Series ignored CSV options (``missing="interpolate"`` then refused the gaps it was
    to fill), a list was opened as a file name ("File name too long"), an array was dumped whole
    in the message, ``covariates="cpi"`` was read as its letters, and the target could be its own
    covariate (a probe)."""
    from lstmtune.errors import DataError

    base = lstmtune.load_series("shampoo")
    s = pd.Series(base.values, index=pd.DatetimeIndex(base.dates), name="sales")
    with pytest.raises(TypeError, match=r"options for CSV files do not apply to a pandas Series: \['missing'\].*series.interpolate"):
        lstmtune.load_series(s, missing="interpolate")
    for given, kind in ((list(base.values), "list"), (base.values, "ndarray")):
        with pytest.raises(TypeError, match=f"or a pandas Series or DataFrame indexed by dates; got a {kind}$"):
            lstmtune.load_series(given)
    frame = pd.DataFrame({"sales": base.values, "cpi": np.arange(36.0)}, index=s.index)
    assert [name for name, _ in lstmtune.load_series(frame, value_column="sales", covariates="cpi").covariates] == ["cpi"]
    with pytest.raises(DataError, match="no column 'nope'"):
        lstmtune.load_series(frame, value_column="nope")
    for covariates in (["sales"], ["cpi", "cpi"]):
        with pytest.raises(DataError, match="is named twice"):
            lstmtune.load_series(frame, value_column="sales", covariates=covariates)


def test_a_zoned_hourly_pandas_series_is_marked_utc_as_a_file_is():
    """A tz-aware hourly pandas Series became UTC times with nothing said or marked (its model's
    describe() neither), while the same data from a CSV or through auto is marked (a probe)."""
    hours = pd.date_range("2020-03-07", periods=72, freq="h", tz="US/Eastern")  # across the change to summer time
    x = pd.Series(np.sin(np.arange(72.0) / 3) * 10 + 50, index=hours, name="load")
    s = lstmtune.load_series(x)
    assert s.utc and any("read as UTC times" in n for n in s.notes)
    assert pd.Timestamp(s.dates[0]) == hours[0].tz_convert("UTC").tz_localize(None)
    days = pd.Series(np.arange(30.0) + 1, index=pd.date_range("2020-03-01", periods=30, freq="D", tz="US/Eastern"))
    assert not lstmtune.load_series(days).utc  # daily dates keep their local calendar, as a file's do
    model = lstmtune.fit(x, lstmtune.study_from_dict({"model": {"units": 1, "epochs": 3}}), repeats=2, horizon=2)
    assert model.info.get("times") == "UTC" and any("times UTC" in line for line in model.describe())


def test_the_api_refuses_or_reads_what_it_is_given_instead_of_failing_inside(tmp_path):
    """``plan(spec, "shampoo")`` planned a 7-observation series (the name's length), a dict as the
    study failed on "'dict' object has no attribute 'model'", ``run(..., series=<pandas Series>)``
    on "'Series' object has no attribute 'dates'", and ``fit(..., Config, repeats=0)`` trained 30
    seeds (a probe)."""
    from lstmtune.errors import LstmtuneError
    from lstmtune.forecast.forecaster import Config

    spec = lstmtune.default_study()
    assert lstmtune.plan(spec, "shampoo") == lstmtune.plan(spec, lstmtune.load_series("shampoo"))
    with pytest.raises(TypeError, match="expected a study .*got a dict"):
        lstmtune.plan({"name": "x"}, "shampoo")
    with pytest.raises(TypeError, match="expected a study .*got a dict"):
        lstmtune.run({"name": "x"}, tmp_path / "x")
    with pytest.raises(TypeError, match="got a list"):
        lstmtune.plan(spec, [1.0, 2.0, 3.0])
    sales = lstmtune.load_series("shampoo").to_pandas()
    small = lstmtune.study_from_dict({"name": "p", "model": {"epochs": 3}, "runs": {"repeats": 2, "mode": "summary"}, "grid": {"units": [1]}})
    outcome = lstmtune.run(small, tmp_path / "p", series=sales)
    assert len(outcome.results.runs) == 2 and outcome.results.series.values.tolist() == sales.tolist()
    config = Config(units=1, epochs=3, batch_size=4, learning_rate=0.001, recurrent_activation="sigmoid", interval=1, lags=1, timesteps=1, trim=None)
    with pytest.raises(LstmtuneError, match="repeats must be a whole number, at least 1, got 0"):
        lstmtune.fit(sales, config, repeats=0, horizon=2)


def test_small_api_wordings(tmp_path):
    """A model's repr printed every weight array; a one-row ``future=`` said "1 rows"; a panel's
    folder of model directories was "not an lstmtune model directory" to load_model (a probe)."""
    from lstmtune.errors import LstmtuneError
    from lstmtune.forecast.forecaster import Config

    sales = lstmtune.load_series("shampoo").to_pandas()
    config = Config(units=1, epochs=3, batch_size=4, learning_rate=0.001, recurrent_activation="sigmoid", interval=1, lags=1, timesteps=1, trim=None)
    model = lstmtune.fit(sales, config, repeats=2, horizon=2)
    assert repr(model) == "Forecaster('Sales': 2 seeds, units=1, epochs=3, frequency=MS, last date 1903-12-01 00:00:00)"
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "index.csv").write_text("unique_id,folder\n")
    with pytest.raises(LstmtuneError, match="a folder of model directories, one per series"):
        lstmtune.load_model(tmp_path / "models")
    from lstmtune.data import known_inputs

    future = pd.DataFrame({"cpi": [1.0]}, index=pd.DatetimeIndex(["2004-01-01"]))
    with pytest.raises(LstmtuneError, match=r"future: 1 row; a 3-step forecast"):
        known_inputs.future_covariates(future, ["cpi"], 3, pd.date_range("2004-01-01", periods=3, freq="MS").to_numpy())


def test_auto_refuses_a_file_as_its_checkpoint_and_columns_several_levels_deep(tmp_path):
    """``checkpoint=`` a file raised NotADirectoryError from deep in the first write; a frame with
    MultiIndex columns reached statsforecast, whose error became every series' reason (a probe)."""
    from lstmtune.errors import LstmtuneError

    frame = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2010-01-01", periods=30, freq="MS"), "y": np.arange(30.0)})
    (tmp_path / "file").write_text("x")
    with pytest.raises(LstmtuneError, match="checkpoint .*file: exists and is not a folder"):
        lstmtune.auto(frame, horizon=3, candidates="stats", checkpoint=tmp_path / "file")
    deep = frame.copy()
    deep.columns = pd.MultiIndex.from_tuples([("k", c) for c in frame.columns])
    with pytest.raises(LstmtuneError, match="several levels deep"):
        lstmtune.auto(deep, horizon=3, candidates="stats")


def test_fit_names_its_series_and_booleans_are_not_numbers():
    """fit's errors said "history:" of the series it was given; load_series took True and False
    as 1 and 0, where auto refuses them (a probe)."""
    from lstmtune.errors import DataError, LstmtuneError
    from lstmtune.forecast.forecaster import Config

    config = Config(units=1, epochs=3, batch_size=4, learning_rate=0.001, recurrent_activation="sigmoid", interval=1, lags=1, timesteps=1, trim=None)
    with pytest.raises(LstmtuneError, match="^series: a pandas Series needs a DatetimeIndex"):
        lstmtune.fit(pd.Series(np.arange(10.0)), config, repeats=2, horizon=2)
    sales = lstmtune.load_series("shampoo").to_pandas()
    with pytest.raises(DataError, match="true/false values, not numbers"):
        lstmtune.load_series(sales > 300)


def test_a_study_dicts_source_may_be_a_path():
    """``{"data": {"source": pathlib.Path(...)}}`` was refused as "Input should be a valid string"
    (a probe); a path is a path."""
    from pathlib import Path

    assert lstmtune.study_from_dict({"data": {"source": Path("sales.csv")}}).data.source == "sales.csv"


def test_auto_from_python_names_its_parameters_not_the_command_lines_options():
    """``lstmtune.auto(frame, 3, freq="D")`` on monthly data was told to "give --freq MS, or leave
    --freq out" (a probe): from Python the parameter is ``freq``."""
    frame = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2010-01-01", periods=40, freq="MS"), "y": np.arange(40.0)})
    reason = lstmtune.auto(frame, horizon=3, candidates="stats", freq="D").leaderboard["reason"].iloc[0]
    assert "give freq MS, or leave freq out" in reason and "--freq" not in reason


def test_describe_says_a_feature_range_other_than_the_default():
    """The manifest kept a feature range of [0, 1], describe() did not say it (a probe)."""
    sales = lstmtune.load_series("shampoo").to_pandas()
    model = lstmtune.fit(sales, lstmtune.study_from_dict({"model": {"units": 1, "epochs": 3}, "transforms": {"feature_range": [0.0, 1.0]}}), repeats=2, horizon=2)
    assert "feature_range=[0.0, 1.0]" in model.describe()[1]
