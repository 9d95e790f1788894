"""fit_many: every job of one shape trained as one stacked population, each model equal to
the one fitted alone."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstmtune.errors import LstmtuneError
from lstmtune.forecast import batch, direct, forecaster


def _series(n, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 20 + 0.2 * t + 4 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)
    return pd.Series(y, index=pd.date_range("2012-01-01", periods=n, freq="MS"))


def _config(lags):
    from lstmtune.study import spec

    raw = {"name": "t", "model": {"units": 3, "epochs": 25, "batch_size": 8, "stateful": False, "shuffle": True}, "transforms": {"interval": 1, "lags": lags}}
    return spec.expand(spec.from_dict(raw, "t"))[0].config


def test_fit_many_equals_fitting_each_job_alone():
    a, b = _series(60, 0), _series(84, 1)
    jobs = [
        batch.Job(a, _config(3), (1, 2)),
        batch.Job(b, _config(3), (3, 4, 5)),  # same shape as the first: one population
        batch.Job(b, _config(4), (6,)),  # another width of input: another
        batch.Job(a, direct.Spec(interval=12, lags=12, horizon=5, units=3, epochs=25), (7, 8), horizon=5),
        batch.Job(b, direct.Spec(interval=12, lags=12, horizon=5, units=3, epochs=25), (9,), horizon=5),
        batch.Job(a.head(20), direct.Spec(interval=12, lags=12, horizon=5, epochs=25), (1,), horizon=5),  # too short
    ]
    models = batch.fit_many(jobs)
    for job, model in zip(jobs[:3], models[:3]):
        alone = forecaster.fit(job.history, job.config, seeds=list(job.seeds), calibrate=False)
        pd.testing.assert_frame_equal(model.forecast(6, calibrated=False), alone.forecast(6, calibrated=False), check_exact=True)
    for job, model in zip(jobs[3:5], models[3:5]):
        alone = direct.fit(job.history, job.config, seeds=job.seeds)
        np.testing.assert_array_equal(model.paths(5)[0], alone.paths(5)[0])
    assert isinstance(models[5], LstmtuneError) and "needs at least" in str(models[5])


def test_a_calendared_job_reads_the_month_and_equals_fitting_it_alone(tmp_path):
    a, b = _series(60, 0), _series(84, 1)
    cal = batch.Calendared(_config(2), ("month",))
    assert cal.lags == 2 and cal.interval == 1 and cal.epochs == 25  # its settings read through
    assert batch.unwrapped(cal) == (cal.config, ("month",)) and batch.unwrapped(cal.config) == (cal.config, ())
    jobs = [batch.Job(a, cal, (1, 2)), batch.Job(b, cal, (3,)), batch.Job(a, _config(2), (1, 2))]
    models = batch.fit_many(jobs)
    assert models[0].framing.calendar == ("month",) and models[2].framing.calendar == ()
    for job, model in zip(jobs[:2], models[:2]):
        alone = forecaster.fit(job.history, cal.config, seeds=list(job.seeds), calibrate=False, calendar=("month",))
        pd.testing.assert_frame_equal(model.forecast(6, calibrated=False), alone.forecast(6, calibrated=False), check_exact=True)
    # the month is an input: the same weights seen from another calendar month forecast otherwise
    assert not np.array_equal(models[0].forecast(6, calibrated=False)["mean"], models[2].forecast(6, calibrated=False)["mean"])
    again = forecaster.load(models[0].save(tmp_path / "m"))
    pd.testing.assert_frame_equal(again.forecast(6, calibrated=False), models[0].forecast(6, calibrated=False), check_exact=True)


def test_a_stateful_configuration_is_refused_with_a_reason():
    from lstmtune.study import spec

    raw = {"name": "t", "model": {"units": 1, "epochs": 2, "batch_size": 1}}
    config = spec.expand(spec.from_dict(raw, "t"))[0].config
    (out,) = batch.fit_many([batch.Job(_series(40, 0), config, (1,))])
    assert isinstance(out, LstmtuneError) and "stateless" in str(out)


@pytest.mark.parametrize("cap", [2, 3])
def test_populations_split_at_the_cap_change_nothing(monkeypatch, cap):
    jobs = [batch.Job(_series(60 + 6 * k, k), _config(3), (k, k + 10)) for k in range(3)]
    whole = batch.fit_many(jobs)
    monkeypatch.setattr(batch, "MAX_REPLICAS", cap)
    split = batch.fit_many(jobs)
    for x, y in zip(whole, split):
        pd.testing.assert_frame_equal(x.forecast(4, calibrated=False), y.forecast(4, calibrated=False), check_exact=True)


def _cost(spans, count, levels):
    from lstmtune.engine.trainer import PAD

    return sum(-(-sum(count[i:j]) // PAD) * PAD * levels[j - 1] + batch.CALL_COST for i, j in spans)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 400), st.integers(1, 12)), min_size=1, max_size=40), st.sampled_from([1, 4, 8]))
def test_buckets_partition_the_jobs_on_the_rows_grid_at_the_least_cost(jobs, size):
    rows, replicas = [r for r, _ in jobs], [k for _, k in jobs]
    out = batch.buckets(rows, replicas, size)
    assert sorted(i for members, _ in out for i in members) == list(range(len(jobs)))  # every job once
    grid = {size * math.ceil(batch.ROWS_GRID**k) for k in range(60)}
    for members, padded in out:
        assert padded in grid and all(rows[i] <= padded for i in members)
        assert padded < batch.ROWS_GRID * max(max(rows[i] for i in members), size) + size  # at most one grid step above
    levels = sorted({batch.padded_rows(r, size) for r in rows})
    count = [sum(k for r, k in jobs if batch.padded_rows(r, size) == level) for level in levels]
    index = {level: j for j, level in enumerate(levels)}
    spans = [(index[batch.padded_rows(min(rows[i] for i in members), size)], index[padded] + 1) for members, padded in out]
    # the cost of the buckets chosen is the least over every way to cut the sorted levels
    best = min(_cost(list(zip((0, *cuts), (*cuts, len(levels)))), count, levels)
               for r in range(len(levels)) for cuts in itertools.combinations(range(1, len(levels)), r)) if len(levels) <= 10 else None
    assert best is None or _cost(spans, count, levels) == best


def test_series_of_very_different_lengths_train_in_buckets_as_they_would_together(monkeypatch):
    from lstmtune.engine import trainer as engine

    jobs = [batch.Job(_series(n, k), _config(3), (k, k + 10)) for k, n in enumerate((30, 36, 150, 160, 400))]
    calls = []
    real = engine.train_stacked

    def spy(problems, *args, **kwargs):
        calls.append(kwargs.get("rows"))
        return real(problems, *args, **kwargs)

    monkeypatch.setattr(engine, "train_stacked", spy)
    bucketed = batch.fit_many(jobs)
    assert len(calls) > 1  # the short series did not pay for the long one's rows
    monkeypatch.setattr(batch, "CALL_COST", 1e12)
    calls.clear()
    together = batch.fit_many(jobs)
    assert len(calls) == 1
    for x, y in zip(bucketed, together):
        pd.testing.assert_frame_equal(x.forecast(4, calibrated=False), y.forecast(4, calibrated=False), check_exact=True)


def test_a_network_reading_calendar_harmonics_saves_loads_and_says_so(tmp_path):
    import json

    a = _series(60, 0)
    cal = batch.Calendared(_config(2), ("month:3",))
    (model,) = batch.fit_many([batch.Job(a, cal, (1, 2))])
    alone = forecaster.fit(a, cal.config, seeds=[1, 2], calibrate=False, calendar=("month:3",))
    pd.testing.assert_frame_equal(model.forecast(6, calibrated=False), alone.forecast(6, calibrated=False), check_exact=True)
    path = model.save(tmp_path / "m")
    again = forecaster.load(path)
    pd.testing.assert_frame_equal(again.forecast(6, calibrated=False), model.forecast(6, calibrated=False), check_exact=True)
    assert "calendar month (3 harmonics)" in "\n".join(again.describe())
    from lstmtune.forecast import manifest as manifest_file

    manifest = json.loads((path / "manifest.json").read_text())
    manifest["framing"]["calendar"] = ["month:9"]
    manifest["checksum"] = manifest_file.content_hash(manifest)  # a deliberate edit, resealed
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(LstmtuneError, match=r"manifest.json: corrupted or edited: framing.calendar: 'month:9' is no calendar input"):
        forecaster.load(path)
