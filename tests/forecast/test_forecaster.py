"""Issue 12: fit a configuration as a seed ensemble, save it safely, forecast with calibrated intervals."""

import dataclasses
import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import lstmtune
from lstmtune.study import executor
from lstmtune.forecast import forecaster
from lstmtune.forecast import intervals
from lstmtune.study import planner
from lstmtune.workflow import studyfit
from lstmtune.study import spec as spec_mod
from lstmtune.cli.app import app
from lstmtune.errors import LstmtuneError
from lstmtune.study.spec import Config

pytestmark = pytest.mark.slow  # the fast subset (pytest -m 'not slow') leaves this module out; the full run keeps it


def _config(**kw) -> Config:
    base = dict(units=4, batch_size=4, epochs=40, learning_rate=0.02, recurrent_activation="sigmoid", interval=1, lags=1, timesteps=1, trim=None)
    return Config(**{**base, **kw})


def _sine_trend(n: int) -> np.ndarray:
    t = np.arange(n)
    return 10 + 0.05 * t + 2 * np.sin(2 * np.pi * t / 12)


def _series(values, freq="MS", start="2000-01-01") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq=freq), name="y")


@pytest.fixture(scope="module")
def sine_model():
    truth = _sine_trend(132)
    model = forecaster.fit(_series(truth[:120]), _config(), seeds=[1, 2, 3, 4], horizon=6)
    return model, truth


def test_multi_step_forecast_recovers_sine_plus_trend(sine_model):
    model, truth = sine_model
    fc = model.forecast(12)
    err = fc["mean"].to_numpy() - truth[120:]
    persistence = truth[120:] - truth[119]
    assert np.sqrt(np.mean(err**2)) < 0.1  # amplitude 2: the recursive path follows the wave
    assert np.abs(err).max() < 0.2
    assert np.sqrt(np.mean(persistence**2)) > 1.5
    assert list(fc["date"].dt.strftime("%Y-%m-%d"))[:2] == ["2010-01-01", "2010-02-01"]
    assert list(fc.columns) == ["date", "mean", "median", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert (fc["lower_95"] <= fc["lower_80"]).all() and (fc["lower_80"] <= fc["median"]).all()
    assert (fc["median"] <= fc["upper_80"]).all() and (fc["upper_80"] <= fc["upper_95"]).all()


def test_saved_model_forecasts_bit_identically(sine_model, tmp_path):
    model, truth = sine_model
    model.save(tmp_path / "m")
    loaded = lstmtune.load_model(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["backtest.csv", "manifest.json", "weights.safetensors"]
    for history in (None, _series(truth[:125])):
        a, b = model.forecast(9, history), loaded.forecast(9, history)
        assert a.equals(b)
    assert loaded.seeds == (1, 2, 3, 4) and loaded.config == model.config
    np.testing.assert_array_equal(loaded.scaler.scale, model.scaler.scale)
    m = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert m["format_version"] == 1 and m["info"]["training_rows"] + m["info"]["trimmed_rows"] == 118  # 120 - 1 difference - 1 lag
    assert m["info"]["scaler_rows"] == 118 and m["series"]["frequency"] == "MS"
    # the same model saved again: the same weights file, byte for byte (two metadata keys came out in a random order)
    for k in range(8):
        model.save(tmp_path / f"again{k}")
        assert (tmp_path / f"again{k}" / "weights.safetensors").read_bytes() == (tmp_path / "m" / "weights.safetensors").read_bytes()
    # a model read back and written again: every file byte for byte, its creation time kept (an
    # auto rerun reading a series back rewrote its networks' manifests with a new time: a probe)
    import time

    time.sleep(1.1)
    loaded.save(tmp_path / "copy")
    for name in ("manifest.json", "weights.safetensors", "backtest.csv"):
        assert (tmp_path / "copy" / name).read_bytes() == (tmp_path / "m" / name).read_bytes(), name


def test_history_conditioning_without_retraining(sine_model):
    model, truth = sine_model
    # warming through the training series again reproduces the saved end state exactly
    assert model.forecast(5, _series(truth[:120])).equals(model.forecast(5))
    newer = model.forecast(4, _series(truth[:126]))
    assert newer["date"].iloc[0] == pd.Timestamp("2010-07-01")
    assert np.abs(newer["mean"].to_numpy() - truth[126:130]).max() < 0.2
    later_start = model.forecast(4, _series(truth[30:126], start="2002-07-01"))  # a window starting later keeps the phase
    assert later_start["date"].iloc[0] == pd.Timestamp("2010-07-01")


def test_a_history_of_another_frequency_is_refused_naming_both(sine_model):
    """A monthly model warmed through weekly observations would forecast nonsense; "W" and
    "W-SUN" style aliases of the same steps are accepted."""
    from lstmtune.errors import LstmtuneError

    model, truth = sine_model
    with pytest.raises(LstmtuneError, match="its dates are of frequency W-SAT, but this model was fitted on data of frequency MS"):
        model.forecast(3, _series(truth[:60], freq="W-SAT"))
    assert forecaster._same_frequency("W", "W-SUN") and not forecaster._same_frequency("QS", "MS")
    assert model.forecast(3, _series(truth[:120])).equals(model.forecast(3))  # the same frequency: as before
    # a history with a month absent, or with no rhythm, was warmed through as if consecutive
    gappy = _series(truth[:120]).drop(pd.Timestamp("2005-03-01"))
    with pytest.raises(LstmtuneError, match=r"1 date absent from its MS dates \(2005-03-01\): give the history with a row for every date"):
        model.forecast(3, gappy)
    rng = np.random.default_rng(0)
    odd = pd.Series(truth[:40], index=pd.DatetimeIndex(pd.Timestamp("2000-01-01") + pd.to_timedelta(np.cumsum(rng.integers(1, 90, 40)), unit="D")))
    with pytest.raises(LstmtuneError, match="its dates have no regular frequency; this model was fitted on data of frequency MS"):
        model.forecast(3, odd)


def test_a_history_without_dates_for_a_dated_model_is_refused_and_the_reverse(sine_model):
    """Before, values without dates warmed a monthly model and its forecast was dated 1970
    (positions read as days since the epoch), its streams' phase taken from the wrong days."""
    from lstmtune.data.series import Series, positions

    model, truth = sine_model
    bare = Series(name="bare", dates=positions(60), values=truth[:60], value_name="y", positional=True)
    with pytest.raises(LstmtuneError, match="bare: the history has no dates, but this model was fitted on dated data \\(frequency MS\\)"):
        model.forecast(3, bare)
    positional = forecaster.fit(bare, _config(epochs=2), seeds=[1], horizon=3)
    with pytest.raises(LstmtuneError, match="the history has dates, but this model was fitted on values without dates"):
        positional.forecast(3, _series(truth[:60]))
    assert positional.forecast(3, bare).equals(positional.forecast(3))  # values alone, as trained: accepted
    assert positional.forecast(3, pd.Series(truth[:60])).equals(positional.forecast(3))  # pandas values without dates too


def test_a_panel_given_to_a_single_series_model_is_named_as_a_panel(sine_model, tmp_path):
    """Before: "line 38, column 'ds': duplicate date", the second series' first row."""
    model, truth = sine_model
    model.save(tmp_path / "m")
    months = pd.date_range("2000-01-01", periods=60, freq="MS").strftime("%Y-%m-%d")
    pd.concat([pd.DataFrame({"unique_id": k, "ds": months, "y": truth[:60]}) for k in "ab"]).to_csv(tmp_path / "p.csv", index=False)
    res = CliRunner().invoke(app, ["forecast", str(tmp_path / "m"), "--data", str(tmp_path / "p.csv"), "--horizon", "2", "--out", str(tmp_path / "f.csv")])
    assert res.exit_code == 2 and "a panel (it has a unique_id column)" in res.output, res.output
    assert not (tmp_path / "f.csv").exists()


def test_one_step_forecasts_equal_the_studys_walk_forward():
    """Fit on the series without its test part: the one-step forecasts through the test
    period are the study's test forecasts for the same seeds and data, bit for bit."""
    series = lstmtune.load_series("shampoo")
    for model, transforms in (({"units": 2, "batch_size": 4, "epochs": 12}, {}), ({"units": [3, 2], "batch_size": 3, "epochs": 8, "optimizer": "sgd", "learning_rate": 0.05}, {"lags": 2, "timesteps": 2})):
        spec = spec_mod.from_dict({"name": "f", "seed": 5, "model": model, "transforms": transforms, "data": {"test_size": 8}, "runs": {"mode": "summary", "repeats": 3}, "evaluation": {"selection": "test"}})
        plan = planner.plan(spec)
        prob = executor.validate(plan, series)[executor.problem_key(plan.populations[0])]
        result = executor.LocalExecutor().run(plan.populations[0], prob)
        study_fc = prob.invert(result.test_pred[:, 0], "test")
        seeds = [r.seed for r in plan.populations[0].replicas]
        assert seeds == studyfit.seeds_for(spec, plan.configs[0], 3)
        head = dataclasses.replace(series, dates=series.dates[:-8], values=series.values[:-8])
        fitted = forecaster.fit(head, plan.configs[0], seeds=seeds, calibrate=False)
        ours = fitted.one_step(series).tail(8)
        np.testing.assert_array_equal(ours.to_numpy().T, study_fc)
        assert list(ours.index) == list(pd.DatetimeIndex(series.dates[-8:]))


# --------------------------------------------------------------------------- CLI, model directory errors
STUDY = """
name = "tiny"
seed = 3
[data]
source = "shampoo"
test_size = 6
[model]
batch_size = 4
epochs = 10
units = 2
[runs]
mode = "summary"
repeats = 3
"""


@pytest.fixture(scope="module")
def cli_model(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    (d / "s.toml").write_text(STUDY)
    result = CliRunner().invoke(app, ["fit", str(d / "s.toml"), "--out", str(d / "model"), "--horizon", "4"])
    assert result.exit_code == 0, result.output
    return d


def test_cli_fit_and_forecast(cli_model):
    d = cli_model
    result = CliRunner().invoke(app, ["forecast", str(d / "model"), "--horizon", "5", "--out", str(d / "fc.csv")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(d / "fc.csv")
    assert list(table.columns) == ["date", "mean", "median", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert list(table["date"]) == ["1904-01-01", "1904-02-01", "1904-03-01", "1904-04-01", "1904-05-01"]
    assert (d / "fc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    m = json.loads((d / "model" / "manifest.json").read_text())
    spec = spec_mod.load(d / "s.toml")
    config = spec_mod.expand(spec)[0].config
    assert m["seeds"] == studyfit.seeds_for(spec, config, 3) and m["config"]["epochs"] == 10
    back = pd.read_csv(d / "model" / "backtest.csv")
    assert set(back["model"]) == {"lstm", "persistence", "seasonal_naive"} and list(back["horizon"][:4]) == [1, 2, 3, 4]
    # --data: a newer history moves the forecast's start
    newer = pd.DataFrame({"date": pd.date_range("1901-01-01", periods=37, freq="MS").strftime("%Y-%m-%d"), "sales": np.r_[lstmtune.load_series("shampoo").values, 600.0]})
    newer.to_csv(d / "newer.csv", index=False)
    result = CliRunner().invoke(app, ["forecast", str(d / "model"), "--horizon", "2", "--data", str(d / "newer.csv"), "--out", str(d / "fc2.csv")])
    assert result.exit_code == 0, result.output
    assert list(pd.read_csv(d / "fc2.csv")["date"]) == ["1904-02-01", "1904-03-01"]
    assert "note:" not in result.output
    newer.assign(sales=newer["sales"] * 1000).to_csv(d / "thousands.csv", index=False)  # other units: forecast, with a note
    result = CliRunner().invoke(app, ["forecast", str(d / "model"), "--horizon", "2", "--data", str(d / "thousands.csv"), "--out", str(d / "fc3.csv"), "-q"])
    assert result.exit_code == 0 and "about 1e+03 times those the model was trained on (the same units?)" in " ".join(result.output.split())


def test_a_forecast_that_fails_after_its_figure_leaves_the_earlier_forecast_whole(cli_model, tmp_path, monkeypatch):
    """The figure was moved into place as soon as it was drawn, then the table written: an
    interruption between them left a new figure beside the old table and old paths (a probe,
    kill -9 at the table's temporary file). All are written aside first now."""
    from lstmtune.forecast import output as forecast_output

    out = tmp_path / "fc.csv"
    first = CliRunner().invoke(app, ["forecast", str(cli_model / "model"), "--horizon", "4", "--out", str(out), "--paths", "-q"])
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def interrupted(table, path):
        raise KeyboardInterrupt

    monkeypatch.setattr(forecast_output, "write_csv", interrupted)
    CliRunner().invoke(app, ["forecast", str(cli_model / "model"), "--horizon", "2", "--out", str(out), "--paths", "-q"])
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # the figure, the table and the paths: the first forecast's


def test_ctrl_c_during_fit_says_so_in_one_line(tmp_path, monkeypatch):
    """Typer turned Ctrl-C into exit 130 without a word (a probe: an empty stderr)."""
    from lstmtune.forecast import forecaster as forecaster_mod

    (tmp_path / "s.toml").write_text(STUDY)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(forecaster_mod, "fit", interrupted)
    result = CliRunner().invoke(app, ["fit", str(tmp_path / "s.toml"), "--out", str(tmp_path / "m"), "--horizon", "4"])
    assert result.exit_code == 130
    assert result.stderr.strip() == "interrupted: no output is left half-written (each is moved into place only once complete)", result.stderr
    assert not (tmp_path / "m").exists()


def test_forecast_dates_past_2262_are_one_line(cli_model, tmp_path):
    """A horizon whose dates pass pandas' last date raised OutOfBoundsDatetime (a fitted network),
    or "no statistical model fits this series" (an auto model): one line now, nothing written."""
    from lstmtune.forecast.statmodel import StatModel

    d = cli_model
    result = CliRunner().invoke(app, ["forecast", str(d / "model"), "--horizon", "5000", "--out", str(tmp_path / "f.csv")])
    assert result.exit_code == 2 and "the 5000 dates after 1903-12-01 would pass 2262-04-11" in " ".join(result.output.split())
    late = pd.DataFrame({"date": pd.date_range("2259-01-01", periods=36, freq="MS").strftime("%Y-%m-%d"), "sales": lstmtune.load_series("shampoo").values})
    late.to_csv(tmp_path / "late.csv", index=False)
    result = CliRunner().invoke(app, ["forecast", str(d / "model"), "--horizon", "6", "--data", str(tmp_path / "late.csv"), "--out", str(tmp_path / "f.csv")])
    assert result.exit_code == 2 and "the 6 dates after 2261-12-01 would pass" in " ".join(result.output.split())
    stat = StatModel("SeasonalNaive", 12, "MS", "shampoo", pd.date_range("1901-01-01", periods=36, freq="MS").to_numpy(), lstmtune.load_series("shampoo").values)
    stat.save(tmp_path / "stat")
    result = CliRunner().invoke(app, ["forecast", str(tmp_path / "stat"), "--horizon", "5000", "--out", str(tmp_path / "f.csv")])
    assert result.exit_code == 2 and "would pass 2262-04-11" in result.output and "no statistical model" not in result.output
    assert not (tmp_path / "f.csv").exists()
    from lstmtune.data.series import dates_after

    irregular = np.array(["2262-01-01", "2262-01-05", "2262-01-12"], dtype="datetime64[ns]")  # no frequency: the median step, which wrapped around
    with pytest.raises(LstmtuneError, match="the 40 dates after 2262-01-12 would pass"):
        dates_after(irregular, 40)


@pytest.mark.parametrize("content", [b"garbage\xff\n", b"", b"hello,world\n1,2\n", b"model,horizon,rmse\nlstm,x,1\n"])
def test_a_damaged_backtest_csv_is_one_line(cli_model, tmp_path, content):
    """backtest.csv is outside the manifest's checksum: read as it came, it raised
    UnicodeDecodeError, EmptyDataError, or KeyError halfway through describe's output."""
    import shutil

    shutil.copytree(cli_model / "model", tmp_path / "m")
    (tmp_path / "m" / "backtest.csv").write_bytes(content)
    for argv in (["describe", str(tmp_path / "m")], ["forecast", str(tmp_path / "m"), "--horizon", "2", "--out", str(tmp_path / "f.csv")]):
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 2 and "backtest.csv: not the backtest table `lstmtune fit` writes" in " ".join(result.output.split())
        assert "Traceback" not in result.output and not (tmp_path / "f.csv").exists()


def test_a_history_too_short_names_its_file(cli_model, tmp_path):
    (tmp_path / "two.csv").write_text("date,sales\n1904-01-01,1\n1904-02-01,2\n")
    result = CliRunner().invoke(app, ["forecast", str(cli_model / "model"), "--horizon", "2", "--data", str(tmp_path / "two.csv"), "--out", str(tmp_path / "f.csv")])
    assert result.exit_code == 2 and f"{tmp_path / 'two.csv'}: the history has 2 observations; this model needs at least" in " ".join(result.output.split())


def _broken_copy(src, dst, edit):
    import shutil

    shutil.copytree(src, dst)
    edit(dst)
    return dst


def _set(path, key, value):
    m = json.loads(path.read_text())
    m[key] = value
    path.write_text(json.dumps(m))


def _resealed(path, section, key, value):
    """The manifest with ``section.key`` set and its checksum recomputed (a deliberate edit)."""
    from lstmtune.forecast import manifest as manifest_file

    m = json.loads(path.read_text())
    m[section][key] = value
    m["checksum"] = manifest_file.content_hash(m)
    path.write_text(json.dumps(m))


def _resealed_all(path, section, key, value):
    """Every entry of the list ``section.key`` set to ``value``, resealed."""
    _resealed(path, section, key, [value] * len(json.loads(path.read_text())[section][key]))


def _resealed_calibration(path, level, value=1.0, length=None):
    """calibration.widen[level] set to ``value`` per horizon (``length`` of them), and exact to match, resealed."""
    from lstmtune.forecast import manifest as manifest_file

    m = json.loads(path.read_text())
    cal = m["calibration"]
    n = len(cal["origins"]) if length is None else length
    cal["widen"][level], cal["exact"][level] = [value] * n, [True] * n
    m["checksum"] = manifest_file.content_hash(m)
    path.write_text(json.dumps(m))


def _reversed_dates(d):
    return json.loads((d / "manifest.json").read_text())["series"]["tail_dates"][::-1]


def _resealed_top(path, key, value):
    from lstmtune.forecast import manifest as manifest_file

    m = json.loads(path.read_text())
    m[key] = value
    m["checksum"] = manifest_file.content_hash(m)
    path.write_text(json.dumps(m))


@pytest.mark.parametrize(
    "name, edit, message",
    [
        ("garbage", lambda d: (d / "manifest.json").write_bytes(b"{\x00\xff not json"), "corrupted"),
        ("edited", lambda d: _set(d / "manifest.json", "seeds", [1, 2, 3]), "edited or corrupted"),
        ("missing_key", lambda d: _set(d / "manifest.json", "scaler", {"scale": [1.0]}), "scaler.min"),
        ("newer", lambda d: _set(d / "manifest.json", "format_version", 3), "format_version 3 is not supported"),
        ("no_weights", lambda d: (d / "weights.safetensors").unlink(), "weights.safetensors: missing"),
        ("bad_weights", lambda d: (d / "weights.safetensors").write_bytes(b"\x08" + bytes(100)), "checksum"),
        ("no_manifest", lambda d: (d / "manifest.json").unlink(), "not an lstmtune model directory"),
        # edits with the checksum recomputed: TypeError, ValueError came out, or a forecast of another model (interval 0)
        ("units_text", lambda d: _resealed(d / "manifest.json", "config", "units", "abc"), "config.units: text where a number goes"),
        ("units_negative", lambda d: _resealed(d / "manifest.json", "config", "units", -1), "config.units: Input should be greater than or equal to 1"),
        ("interval_0", lambda d: _resealed(d / "manifest.json", "framing", "interval", 0), "framing.interval: Input should be greater than or equal to 1"),
        ("dates", lambda d: _resealed(d / "manifest.json", "series", "tail_dates", ["x"] * 4), "series.tail_dates"),
        ("no_values", lambda d: _resealed(d / "manifest.json", "series", "tail_values", []), "series.tail_values"),
        ("frequency", lambda d: _resealed(d / "manifest.json", "series", "frequency", "BOGUS"), "series.frequency 'BOGUS': not a pandas frequency"),
        # values no fit writes, resealed: forecast inf, blank cells or other numbers with exit 0 (a probe)
        ("scale_0", lambda d: _resealed_all(d / "manifest.json", "scaler", "scale", 0.0), "scaler.scale: not above 0"),
        ("scale_nan", lambda d: _resealed_all(d / "manifest.json", "scaler", "scale", float("nan")), "scaler.scale: not finite"),
        ("min_inf", lambda d: _resealed_all(d / "manifest.json", "scaler", "min", float("inf")), "scaler.min: not finite"),
        ("tail_nan", lambda d: _resealed_all(d / "manifest.json", "series", "tail_values", float("nan")), "series.tail_values: not finite"),
        ("next_rows", lambda d: _resealed_top(d / "manifest.json", "next_rows", -5), "next_rows -5: below 0"),
        # more, resealed (a probe): tracebacks (broadcasting, float('abc')), or exit 0 with blank bands or dates running backwards
        ("interval_40", lambda d: _resealed(d / "manifest.json", "framing", "interval", 40), "series.tail_values: 36 values, fewer than the 41 its framing reads"),
        ("level_text", lambda d: _resealed_calibration(d / "manifest.json", "abc"), "calibration.widen: level 'abc' is not a fraction"),
        ("widen_nan", lambda d: _resealed_calibration(d / "manifest.json", "0.8", float("nan")), "calibration.widen: not finite"),
        ("widen_short", lambda d: _resealed_calibration(d / "manifest.json", "0.8", 1.0, 1), "1 values for 4 horizons"),
        ("dates_backwards", lambda d: _resealed(d / "manifest.json", "series", "tail_dates", _reversed_dates(d)), "series.tail_dates: not in increasing order"),
        ("version_true", lambda d: _resealed_top(d / "manifest.json", "format_version", True), "format_version: Input should be a valid integer"),
        ("version_float", lambda d: _resealed_top(d / "manifest.json", "format_version", 1.0), "format_version: Input should be a valid integer"),
    ],
)
def test_damaged_model_directory_fails_with_one_line(cli_model, tmp_path, name, edit, message):
    d = _broken_copy(cli_model / "model", tmp_path / name, edit)
    with pytest.raises(LstmtuneError, match=message):
        forecaster.load(d)
    result = CliRunner().invoke(app, ["forecast", str(d), "--horizon", "3", "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message.split()[0] in result.output
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "x.png").exists()


def test_fit_refuses_ambiguous_and_unknown_configurations(tmp_path):
    spec = spec_mod.from_dict({"name": "g", "model": {"epochs": 2}, "grid": {"units": [1, 2]}})
    points = spec_mod.expand(spec)
    with pytest.raises(LstmtuneError, match="has 2 configurations; choose one with --config"):
        studyfit.choose(points, None)
    with pytest.raises(LstmtuneError, match="no configuration labelled 'units=3'; labels: units=1, units=2"):
        studyfit.choose(points, "units=3")
    assert studyfit.choose(points, "units=2")[0].config.units == 2
    assert studyfit.choose(points, None, {points[0].study: "units=1"})[0].config.units == 1
    result = CliRunner().invoke(app, ["fit", str(tmp_path / "nope"), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "no such run directory or study file" in result.output
    # horizon and repeats from Python: one error each (KeyError, broadcasting and TypeErrors came out)
    spec = spec_mod.from_dict({"name": "p", "model": {"epochs": 2}, "data": {"test_size": 3}})
    for kwargs, needle in (({"horizon": 0}, "horizon must be a whole number of steps, at least 1, got 0"), ({"horizon": 2.5}, "got 2.5"),
                           ({"horizon": -1}, "got -1"), ({"repeats": 1.5}, "repeats must be a whole number, at least 1, got 1.5")):
        with pytest.raises(LstmtuneError, match=re.escape(needle)):
            studyfit.fit(_series(_sine_trend(36)), spec, **kwargs)
    # an ensemble too large is refused before training (10^8 repeats ran for more than ten minutes)
    (tmp_path / "one.toml").write_text('name = "one"\n[data]\nsource = "shampoo"\n[model]\nepochs = 2\nunits = 256\n')
    for repeats, needle in (("100000000", "at most 1,000,000 networks"), ("1000000", "needs about")):
        result = CliRunner().invoke(app, ["fit", str(tmp_path / "one.toml"), "--out", str(tmp_path / "m"), "--repeats", repeats])
        assert result.exit_code == 2 and needle in " ".join(result.output.split()) and not (tmp_path / "m").exists(), result.output


def test_dates_continue_the_series_frequency():
    cfg = _config(epochs=2, batch_size=2)
    for freq, expected in (("QS-JAN", ["2010-01-01", "2010-04-01"]), ("YS", ["2040-01-01", "2041-01-01"]), ("W-SUN", ["2000-10-08", "2000-10-15"]), ("D", ["2000-02-10", "2000-02-11"])):
        s = _series(_sine_trend(40), freq=freq)
        fc = forecaster.fit(s, cfg, seeds=[0], calibrate=False).forecast(2)
        assert list(fc["date"].dt.strftime("%Y-%m-%d")) == expected, freq
    # months absent from the series (as `run` notes, and takes): the next months still, not the
    # median step's days (2003-05-02, 2003-06-02 came out), and the model keeps the frequency
    s = _series(_sine_trend(40))
    gapped = s.drop(s.index[[20, 21]])
    model = forecaster.fit(gapped, cfg, seeds=[0], calibrate=False)
    assert model.frequency == "MS"
    assert list(model.forecast(2)["date"].dt.strftime("%Y-%m-%d")) == ["2003-05-01", "2003-06-01"]


def test_split_conformal_quantile_and_calibration():
    s = np.arange(1.0, 11.0)  # 10 scores
    assert intervals.conformal_quantile(s, 0.8) == (9.0, True)  # ceil(11 * 0.8) = 9th smallest
    assert intervals.conformal_quantile(s, 0.95) == (10.0, False)  # rank 11 > 10: the largest, marked inexact
    # an ensemble that never spreads: the widening is the error quantile
    paths = np.zeros((5, 20, 1))
    actual = np.linspace(-1, 1, 20)[:, None]
    cal = intervals.calibrate(paths, actual)
    assert cal.widen["0.8"][0] == pytest.approx(np.sort(np.abs(actual[:, 0]))[int(np.ceil(21 * 0.8)) - 1])
    assert cal.origins == [20] and cal.widening(0.8, 3).tolist() == [cal.widen["0.8"][0]] * 3


def test_a_step_no_backtest_origin_reached_reuses_the_last_scored_steps_widening_without_a_warning():
    # fit --horizon longer than the held-back part: the last steps have no outcome at any origin;
    # they once got NaN bands (empty intervals in the forecast) and numpy's "Mean of empty slice"
    import warnings

    rng = np.random.default_rng(0)
    paths = rng.normal(size=(4, 6, 3))
    actual = rng.normal(size=(6, 3))
    actual[:, 2] = np.nan
    actual[5, 1] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cal = intervals.calibrate(paths, actual)
        table = intervals.backtest_table(paths, actual, [np.arange(10.0)] * 6, np.arange(10.0), None)
    assert cal.origins == [6, 5, 0]
    for level in ("0.8", "0.95"):
        assert np.isfinite(cal.widen[level]).all() and cal.widen[level][2] == cal.widen[level][1] and cal.exact[level][2] is False
    assert table[table["horizon"] == 3]["rmse"].isna().all() and table[table["horizon"] < 3]["rmse"].notna().all()


def test_interval_scores_in_the_backtest_table_follow_their_definition():
    # Gneiting & Raftery (2007), eq. 43, by hand: width, plus 2 / alpha times the miss.
    np.testing.assert_allclose(intervals.interval_score(np.array([0.0, 0.0, 0.0]), np.array([2.0, 2.0, 2.0]), np.array([1.0, 3.0, -0.5]), 0.8), [2.0, 12.0, 7.0])
    rng = np.random.default_rng(4)
    P, R, H = 30, 25, 2
    actual = rng.normal(0, 1, (R, H))
    paths = actual[None] + rng.normal(0, 0.4, (P, R, H)) + rng.normal(0, 1, (1, R, H))  # a too-narrow ensemble
    train = np.cumsum(rng.normal(0, 1, 50))
    table = intervals.backtest_table(paths, actual, [train] * R, train, None)
    row = table[(table["model"] == "lstm") & (table["horizon"] == 1)].iloc[0]
    scale = np.mean(np.abs(np.diff(train)))
    for level, pct in ((0.8, 80), (0.95, 95)):
        lo, hi = np.quantile(paths[:, :, 0], [(1 - level) / 2, (1 + level) / 2], axis=0)
        s = np.maximum(lo - actual[:, 0], actual[:, 0] - hi)
        med = np.median(paths[:, :, 0], axis=0)
        # each origin calibrated on the other R - 1 origins' scores: rank ceil(R * level) of R - 1
        q = np.array([np.sort(np.delete(s, i))[min(int(np.ceil(R * level)), R - 1) - 1] for i in range(R)])
        clo, chi = np.minimum(lo - q, med), np.maximum(hi + q, med)
        y = actual[:, 0]
        assert row[f"coverage_{pct}"] == pytest.approx(np.mean((clo <= y) & (y <= chi)))
        assert row[f"width_{pct}"] == pytest.approx(np.mean(chi - clo))
        assert row[f"msis_{pct}"] == pytest.approx(np.mean(intervals.interval_score(clo, chi, y, level)) / scale)
        assert row[f"msis_{pct}_ensemble"] == pytest.approx(np.mean(intervals.interval_score(lo, hi, y, level)) / scale)
        assert row[f"coverage_{pct}_ensemble"] < row[f"coverage_{pct}"]  # the narrow ensemble under-covers; calibration widens
    assert table[table["model"] == "persistence"]["msis_95"].isna().all()


def test_the_backtest_tables_bands_are_those_the_forecasts_draw_from_the_other_origins():
    # backtest.csv's coverage once used each level's leave-one-out band alone: with 3 origins the
    # 95% quantile is the largest other error, often the 80% one too, and the two coincided there
    # while the forecasts' bands (intervals.summarize) were nested and scaled apart
    rng = np.random.default_rng(7)
    P, R, H = 20, 3, 4
    actual = rng.normal(0, 1, (R, H))
    paths = actual[None] + rng.normal(0, 0.3, (P, R, H)) + rng.normal(0, 1, (1, R, H))
    table = intervals.backtest_table(paths, actual, [np.arange(10.0)] * R, np.arange(10.0), None).set_index(["model", "horizon"])
    coincided = 0
    for i in range(R):
        others = [j for j in range(R) if j != i]
        drawn = intervals.summarize(paths[:, i, :], np.arange(H), intervals.calibrate(paths[:, others, :], actual[others]))
        for h in range(H):
            bands = intervals.leave_one_out_bands(paths[:, :, h], actual[:, h])
            for level, pct in ((0.8, 80), (0.95, 95)):
                np.testing.assert_allclose(bands[level][0][i], drawn[f"lower_{pct}"][h], rtol=1e-12)
                np.testing.assert_allclose(bands[level][1][i], drawn[f"upper_{pct}"][h], rtol=1e-12)
            old95 = intervals.ensemble_bounds(paths[:, :, h], 0.95)  # the level alone, as before
            s95 = np.maximum(old95[0] - actual[:, h], actual[:, h] - old95[1])
            s80 = np.maximum(intervals.ensemble_bounds(paths[:, :, h], 0.8)[0] - actual[:, h], actual[:, h] - intervals.ensemble_bounds(paths[:, :, h], 0.8)[1])
            coincided += int(np.argmax(np.delete(s95, i)) == np.argmax(np.delete(s80, i)))
    assert coincided > 0  # the case the rule is for occurs here
    lstm = table.loc["lstm"]
    assert (lstm["width_95"] > lstm["width_80"]).all()  # before: 1.554 against 1.642 at step 4 (not even nested)
    for h in range(H):
        bands = intervals.leave_one_out_bands(paths[:, :, h], actual[:, h])
        for level, pct in ((0.8, 80), (0.95, 95)):
            lo, hi = bands[level]
            assert table.loc[("lstm", h + 1), f"coverage_{pct}"] == pytest.approx(np.mean((lo <= actual[:, h]) & (actual[:, h] <= hi)))
            assert table.loc[("lstm", h + 1), f"width_{pct}"] == pytest.approx(np.mean(hi - lo))
        assert (bands[0.95][0] <= bands[0.8][0]).all() and (bands[0.95][1] >= bands[0.8][1]).all()


def test_backtest_baselines_are_multi_step():
    histories = [np.arange(1.0, 13.0), np.arange(1.0, 14.0)]
    naive = intervals.seasonal_naive_paths(histories, 5, 4)
    assert naive.tolist() == [[9, 10, 11, 12, 9], [10, 11, 12, 13, 10]]


def test_fit_from_a_run_directory_uses_the_selected_configuration_and_its_seeds(tmp_path):
    spec = spec_mod.from_dict(
        {"name": "sel", "seed": 2, "data": {"test_size": 6}, "model": {"epochs": 6, "batch_size": 4}, "runs": {"mode": "summary", "repeats": 2}, "grid": {"units": [1, 2]}}
    )
    outcome = lstmtune.run(spec, tmp_path / "run")
    (selected,) = outcome.results.selected.values()
    model = studyfit.fit_source(tmp_path / "run", repeats=3, horizon=3)
    runs = pd.read_parquet(tmp_path / "run" / "results.parquet")
    study_seeds = runs[runs["label"] == selected].sort_values("repeat")["seed"].tolist()
    assert model.info["label"] == selected and model.info["chosen"] == "selected"
    assert list(model.seeds[:2]) == study_seeds and len(model.seeds) == 3  # the study's seeds, then more
    assert model.config == next(p.config for p in spec_mod.expand(spec) if p.label == selected)


def test_import_does_not_load_jax():
    import subprocess
    import sys

    code = "import sys, lstmtune; lstmtune.fit; lstmtune.load_model; print('jax' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_bands_are_nested_even_when_levels_are_calibrated_apart(sine_model):
    """A 95% band contains the 80% band, whatever each level's calibration says (here the
    80% level widened by 50 and the 95% narrowed by 50 at every horizon)."""
    H = 6
    cal = intervals.Calibration(widen={"0.8": [50.0] * H, "0.95": [-50.0] * H}, exact={"0.8": [True] * H, "0.95": [True] * H}, origins=[30] * H)
    table = dataclasses.replace(sine_model[0], calibration=cal).forecast(H)
    assert (table["lower_95"] <= table["lower_80"]).all() and (table["upper_95"] >= table["upper_80"]).all()
    assert (table["lower_80"] <= table["median"]).all() and (table["median"] <= table["upper_80"]).all()
    assert (table["upper_80"] - table["lower_80"] >= 100 - 1e-9).all()  # the 80% widening is applied


def test_a_level_with_too_few_origins_for_its_rank_gets_a_band_wider_than_the_narrower_levels():
    # with 8 backtest errors both the 80% and the 95% conformal quantiles are the largest error,
    # and the two bands coincided; such a step's 95% band now reaches at least the 80% band
    # scaled by z(0.975) / z(0.9) about the median. An exact level is left as calibrated.
    from statistics import NormalDist

    rng = np.random.default_rng(1)
    paths = rng.normal(size=(5, 4))
    q = {"0.8": [1.0] * 4, "0.95": [1.0] * 4}
    loose = intervals.Calibration(q, {"0.8": [True] * 4, "0.95": [False] * 4}, [8] * 4)
    tight = intervals.Calibration(q, {"0.8": [True] * 4, "0.95": [True] * 4}, [40] * 4)
    a = intervals.summarize(paths, np.arange(4), loose)
    b = intervals.summarize(paths, np.arange(4), tight)
    ratio = NormalDist().inv_cdf(0.975) / NormalDist().inv_cdf(0.9)
    np.testing.assert_allclose(a["upper_95"], np.maximum(b["upper_95"], a["median"] + (a["upper_80"] - a["median"]) * ratio))
    np.testing.assert_allclose(a["lower_95"], np.minimum(b["lower_95"], a["median"] - (a["median"] - a["lower_80"]) * ratio))
    assert (a["upper_95"] > a["upper_80"]).all() and (a["lower_95"] < a["lower_80"]).all()
    lo, hi = intervals.ensemble_bounds(paths, 0.95)
    np.testing.assert_allclose(b["upper_95"], np.maximum(hi + 1.0, b["upper_80"]))  # exact: as calibrated
    pd.testing.assert_frame_equal(a[["mean", "median", "lower_80", "upper_80"]], b[["mean", "median", "lower_80", "upper_80"]])
    # no calibration at all (fit(calibrate=False), a series too short to hold origins back): the raw quantiles, as before
    none = intervals.summarize(paths, np.arange(4), intervals.Calibration.none(4))
    pd.testing.assert_frame_equal(none, intervals.summarize(paths, np.arange(4), None))


def test_a_step_with_too_few_origins_for_its_level_is_never_narrower_than_the_last_step_that_had_enough():
    """fit --horizon 20 on 40 months: steps 17-20 had one backtest origin or none, and their 80%
    widening (the one error seen) was a fifth of step 16's: bands shrank where they should grow."""
    paths = np.zeros((3, 10, 3))
    actual = np.full((10, 3), np.nan)
    actual[:, 0] = np.linspace(1, 2, 10)  # 10 origins: exact at 80%
    actual[:2, 1] = [0.1, 0.2]  # 2 origins: too few for 80%'s rank, and small errors
    cal = intervals.calibrate(paths, actual)
    w = cal.widening(0.8, 4)
    assert cal.exactness(0.8, 3).tolist() == [True, False, False]
    assert w[0] == pytest.approx(np.sort(actual[:, 0])[int(np.ceil(11 * 0.8)) - 1])
    assert w[1] == w[0] and w[2] == w[0] and w[3] == w[0]  # step 3 reached by no origin: step 2's, as beyond the horizon
    big = actual.copy()
    big[:2, 1] = [5.0, 6.0]  # fewer origins but larger errors: their own, larger widening stands
    assert intervals.calibrate(paths, big).widening(0.8, 2)[1] == 6.0


def test_a_models_folder_of_daily_and_hourly_series_writes_its_dates_as_auto_writes_them(tmp_path):
    """`forecast MODELS` wrote 2001-09-16T00:00:00 where auto's forecasts.csv has 2001-09-16 00:00:00."""
    from lstmtune.forecast import panelmodels
    from lstmtune.forecast.statmodel import StatModel

    y = np.sin(np.arange(60) / 3) + 5
    StatModel("SeasonalNaive", 7, "D", "day", pd.date_range("2001-07-01", periods=60, freq="D").to_numpy(), y).save(tmp_path / "m" / "day")
    StatModel("SeasonalNaive", 24, "h", "hour", pd.date_range("2001-09-01", periods=60, freq="h").to_numpy(), y).save(tmp_path / "m" / "hour")
    pd.DataFrame({"unique_id": ["day", "hour"], "folder": ["day", "hour"], "model": ["SeasonalNaive"] * 2}).to_csv(tmp_path / "m" / "index.csv", index=False)
    result = CliRunner().invoke(app, ["forecast", str(tmp_path / "m"), "--horizon", "2", "--out", str(tmp_path / "f.csv"), "-q"])
    assert result.exit_code == 0, result.output
    from lstmtune.forecast.output import panel_csv

    table, _ = panelmodels.forecast_all(tmp_path / "m", 2)
    panel_csv(table, tmp_path / "as_auto.csv")  # as auto writes forecasts.csv
    assert (tmp_path / "f.csv").read_bytes() == (tmp_path / "as_auto.csv").read_bytes()
    text = (tmp_path / "f.csv").read_text()  # each series' dates as it alone has them
    assert "day,2001-08-30," in text and "hour,2001-09-03 12:00:00," in text


def test_describe_and_status_name_a_file_a_missing_path_and_autos_output_folder(tmp_path):
    """`describe FILE` said "no such model directory" of a file that exists; `describe` on auto's
    output folder gave no hint that its models/ holds the model directories; `status` said
    "no study.db here" of a missing path and of a file."""
    (tmp_path / "f.csv").write_text("a,b\n")
    (tmp_path / "auto_out").mkdir()
    (tmp_path / "auto_out" / ".lstmtune-auto").write_text("")
    for argv, needle in ((["describe", str(tmp_path / "f.csv")], "f.csv: a file, not a model directory"),
                         (["describe", str(tmp_path / "nope")], "nope: no such model directory"),
                         (["describe", str(tmp_path / "auto_out")], "lstmtune auto's output folder; its model directories are in"),
                         (["status", str(tmp_path / "nope")], "nope: no such run directory"),
                         (["status", str(tmp_path / "f.csv")], "f.csv: a file, not a run directory")):
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 2 and needle in " ".join(result.output.split()), (argv, result.output)


def test_a_composite_without_a_transform_is_described_as_what_it_does():
    """An auto LSTM kept at or above 0 without a transform was described "transformed (),
    forecasts moved back"."""
    from types import SimpleNamespace

    from lstmtune.forecast.composite import Transform, Transformed

    inner = SimpleNamespace(describe=lambda: ["inner line"])
    plain = Transformed(inner, Transform(False, None, 1), "s", {"nonnegative": True})
    assert plain.describe()[:2] == ["a forecaster trained on the series as it is, its forecasts kept at or above 0 (the series never went below)", "  inner line"]
    logged = Transformed(inner, Transform(True, None, 1), "s")
    assert logged.describe()[0] == "a forecaster trained on the series transformed (logarithm), forecasts moved back"


@pytest.mark.parametrize("given, freq", [("QS-FEB", "QS-NOV"), ("QE-AUG", "QE-NOV"), ("7D", "W-SUN")])
def test_a_statistical_model_saved_under_another_name_of_its_dates_frequency_reads_back(tmp_path, given, freq):
    """`auto --freq QS-FEB` on dates pandas names QS-NOV (the same dates) wrote statistical model
    directories that `describe` and `forecast` refused as "corrupted or edited" (a probe)."""
    from lstmtune.forecast.statmodel import StatModel, load

    dates = pd.date_range("2005-02-01", periods=40, freq=freq).to_numpy()
    y = 100 + np.arange(40.0)
    StatModel("SeasonalNaive", 4, given, "q", dates, y).save(tmp_path / "m")
    back = load(tmp_path / "m")
    assert back.freq == given
    result = CliRunner().invoke(app, ["forecast", str(tmp_path / "m"), "--horizon", "3", "--out", str(tmp_path / "f.csv"), "-q"])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "f.csv", parse_dates=["date"])["date"].tolist() == list(pd.date_range(pd.Timestamp(dates[-1]), periods=4, freq=freq)[1:])
    shifted = StatModel("SeasonalNaive", 4, "QS-JAN", "q", dates, y)  # dates of another grid: still refused
    shifted.save(tmp_path / "bad")
    with pytest.raises(LstmtuneError, match="corrupted or edited: freq 'QS-JAN'"):
        load(tmp_path / "bad")


def test_describe_names_an_mstl_models_two_seasons_and_the_times_of_sub_daily_dates():
    """describe said "season length 7" of an MSTL fitted with seasons 7 and 365, and
    "2024-01-01 to 2024-01-01" of 120 ten-minute observations (probes)."""
    from lstmtune.forecast.statmodel import StatModel

    y = np.sin(np.arange(800) / 3) + 5
    daily = StatModel("MSTL", 7, "D", "d", pd.date_range("2020-01-01", periods=800, freq="D").to_numpy(), y).describe()
    assert daily[0] == "statistical model: MSTL (statsforecast), season lengths 7 and 365, frequency D"
    minutes = StatModel("SeasonalNaive", 6, "10min", "t", pd.date_range("2024-01-01", periods=120, freq="10min").to_numpy(), y[:120]).describe()
    assert minutes[1] == "series: t, 120 observations 2024-01-01 00:00:00 to 2024-01-01 19:50:00"


def test_a_model_fitted_on_times_made_utc_forecasts_utc_times_and_says_so(tmp_path):
    """A study read hourly dates with UTC offsets as UTC times (its note says so), but the model
    `lstmtune fit` made from its run directory forecast bare times (a probe's leftover): now its
    forecasts' times carry +00:00, as auto's do, and `describe` says the times are UTC."""
    from lstmtune.study import results_io

    hours = pd.date_range("2024-03-29 00:00", periods=60, freq="h", tz="Europe/Paris")  # across the clock change
    f = tmp_path / "hourly.csv"
    pd.DataFrame({"date": hours.strftime("%Y-%m-%dT%H:%M:%S%z").str.replace(r"(\d\d)(\d\d)$", r"\1:\2", regex=True),
                  "value": _sine_trend(60)}).to_csv(f, index=False)
    spec = spec_mod.from_dict({"name": "zoned", "seed": 2, "data": {"source": str(f), "test_size": 6}, "model": {"epochs": 4, "batch_size": 4},
                               "runs": {"mode": "summary", "repeats": 2}, "grid": {"units": [1]}})
    lstmtune.run(spec, tmp_path / "run")
    back = results_io.read_series(tmp_path / "run", "hourly")
    assert back.utc and np.array_equal(back.dates, hours.tz_convert("UTC").tz_localize(None).to_numpy(dtype="datetime64[ns]"))
    studyfit.fit_source(tmp_path / "run", repeats=2, horizon=3).save(tmp_path / "model")
    runner = CliRunner()
    res = runner.invoke(app, ["forecast", str(tmp_path / "model"), "--horizon", "3", "--out", str(tmp_path / "fc.csv")])
    assert res.exit_code == 0, res.output
    dates = pd.read_csv(tmp_path / "fc.csv", dtype=str)["date"]
    assert dates.tolist() == ["2024-03-31T11:00:00+00:00", "2024-03-31T12:00:00+00:00", "2024-03-31T13:00:00+00:00"]
    assert "times UTC" in " ".join(res.output.split())
    res = runner.invoke(app, ["describe", str(tmp_path / "model")])
    assert res.exit_code == 0 and "times UTC" in res.output, res.output


def test_fit_refuses_a_constant_series():
    """An undertrained network on a constant series forecast a drift (5.48, 5.98, 6.48 ... from
    5s) with bands that excluded the constant (a probe); `run` refuses such a series, `auto` forecasts the constant."""
    spec = spec_mod.from_dict({"name": "w", "model": {"epochs": 4, "batch_size": 4}, "runs": {"repeats": 2}, "grid": {"units": [1]}})
    flat = _series(np.full(36, 5.0))
    with pytest.raises(LstmtuneError, match="every value is 5: a constant series leaves a network nothing to learn"):
        lstmtune.fit(flat, spec, repeats=2, horizon=3)
    with pytest.raises(LstmtuneError, match="every value is 5"):
        lstmtune.fit(flat, _config(epochs=4), repeats=2, horizon=3)


def test_forecast_levels_and_horizons_are_refused_in_one_line_before_any_work(sine_model):
    """levels=(80,) raised numpy's "Quantiles must be in the range [0, 1]", levels=(0.9,) a
    KeyError, levels=90 a TypeError; forecast(10**7) ran for over ten minutes before a date
    past 2262 refused it (a probe)."""
    model, _ = sine_model
    cases = {(80,): r"80 is not a fraction between 0 and 1 \(fractions: 0.8 for 80%\)", 90: "give a sequence of fractions", (): "at least one level",
             (0.9,): r"calibrated at 0.8, 0.95; other levels are the ensemble's raw quantiles \(calibrated=False\)", (True,): "True is not a fraction",
             (0.0,): "0.0 is not a fraction"}
    for levels, said in cases.items():
        with pytest.raises(LstmtuneError, match=said):
            model.forecast(3, levels=levels)
    raw = model.forecast(3, levels=(0.95, 0.5, 0.5), calibrated=False)
    assert [c for c in raw.columns if c.startswith("lower")] == ["lower_50", "lower_95"]
    pd.testing.assert_frame_equal(model.forecast(3, levels=(0.8, 0.95)), model.forecast(3))
    for horizon, said in ((10**7, "at most 100,000 steps"), (5000, "2262")):  # refused before the rollout
        with pytest.raises(LstmtuneError, match=said):
            model.forecast(horizon)


def test_monthly_dates_on_a_fixed_day_continue_on_that_day():
    """Monthly dates on the 15th have no pandas frequency: the forecast dates were the last
    plus the median step (30.4 days), drifting to the 16th, the 17th, the 20th ..."""
    from lstmtune.data.series import dates_after

    fifteenths = (pd.date_range("2019-01-01", periods=30, freq="MS") + pd.Timedelta(days=14)).to_numpy()
    ahead = dates_after(fifteenths, 14)
    assert list(ahead.day) == [15] * 14 and ahead[0] == pd.Timestamp("2021-07-15") and ahead[-1] == pd.Timestamp("2022-08-15")
    quarterly = np.array(["2019-03-10", "2019-06-10", "2019-09-10", "2019-12-10"], dtype="datetime64[ns]")
    assert list(dates_after(quarterly, 3)) == [pd.Timestamp(d) for d in ("2020-03-10", "2020-06-10", "2020-09-10")]
    with pytest.raises(LstmtuneError, match="would pass"):
        dates_after(np.array(["2261-10-15", "2261-11-15", "2261-12-15"], dtype="datetime64[ns]"), 10)


def test_fit_refuses_an_out_inside_a_run_directory(tmp_path):
    """A model saved in a run directory made the run's outputs differ from what it wrote: every
    rerun of the finished study redrew its report instead of "nothing changed" (a probe)."""
    from lstmtune.store.fileio import MARKER

    run = tmp_path / "run"
    run.mkdir()
    (run / MARKER).write_text("")
    for out in (run / "models", run / "a" / "b"):
        result = CliRunner().invoke(app, ["fit", str(tmp_path / "nope.toml"), "--out", str(out)])
        assert result.exit_code == 2 and f"--out {out}: inside the run directory {run.resolve()}" in " ".join(result.output.split())
        assert not out.exists()


def test_a_constant_series_model_describes_itself_as_constant():
    """auto keeps a constant series' forecast as statsforecast's seasonal naive of season 1;
    ``describe`` called it a seasonal model (a probe)."""
    from lstmtune.forecast.statmodel import StatModel

    dates = pd.date_range("2020-01-01", periods=24, freq="MS").to_numpy()
    model = StatModel("SeasonalNaive", 1, "MS", "c", dates, np.full(24, 5.0), info={"label": "Constant (fallback)"})
    assert model.describe()[0].startswith("a constant forecast: the series' last value, repeated")
    assert StatModel("SeasonalNaive", 12, "MS", "s", dates, np.arange(24.0)).describe()[0].startswith("statistical model: SeasonalNaive")
