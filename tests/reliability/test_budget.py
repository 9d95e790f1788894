"""Issue 9 item 4: unbounded studies are refused at plan time, before anything is written."""

import time

import numpy as np
import pytest
from typer.testing import CliRunner

from lstmtune import budget, planner, spec
from lstmtune.cli import app
from lstmtune.data import load


def _cli(tmp_path, *args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _file(tmp_path, text):
    f = tmp_path / "s.toml"
    f.write_text(text)
    return f


def _refused(result, *needles):
    assert result.exit_code == 2, result.output
    lines = [x for x in result.output.strip().splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in result.output, result.output
    for n in needles:
        assert n in result.output.replace("\n", ""), (n, result.output)


def test_a_million_configuration_grid_is_refused_at_once(tmp_path, monkeypatch, record_property):
    monkeypatch.chdir(tmp_path)
    f = _file(tmp_path, "[grid]\nunits = [%s]\nlags = [%s]\nepochs = [%s]\n" % tuple(", ".join(map(str, range(1, 101))) for _ in range(3)))
    t0 = time.perf_counter()
    result = _cli(tmp_path, "run", f, "--quiet")
    seconds = time.perf_counter() - t0
    _refused(result, "1,000,000 configurations")
    assert seconds < 20  # a hang detector, not a benchmark (it takes milliseconds)
    assert not (tmp_path / "runs").exists()
    record_property("figure", f"10^6-configuration grid refused in {seconds:.2f} s (was: silent for > 150 s)")


@pytest.mark.parametrize(
    "section, key",
    [("[runs]\nrepeats = 1e9", "runs.repeats"), ("[model]\nepochs = 1e12", "model.epochs"), ("[model]\nunits = 100000000", "model.units"),
     ("[model]\nunits = [4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]", "model.units"),
     ("[transforms]\nlags = 1e9", "transforms.lags"), ("[grid]\nepochs = [10, 1e15]", "epochs")],
)
def test_absurd_sizes_are_refused_in_one_line(tmp_path, monkeypatch, section, key):
    monkeypatch.chdir(tmp_path)
    _refused(_cli(tmp_path, "run", _file(tmp_path, section + "\n"), "--quiet"), key)
    assert not (tmp_path / "runs").exists()


def test_max_runs_refuses_before_writing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    f = _file(tmp_path, '[runs]\nrepeats = 50\n[evaluation]\nselection = "test"\n[grid]\nunits = [1, 2, 3]\n')
    _refused(_cli(tmp_path, "run", f, "--max-runs", "100", "--quiet"), "150 trainings", "--max-runs 100")
    assert not (tmp_path / "runs").exists()


def test_plan_prints_the_estimate_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _cli(tmp_path, "plan")
    assert result.exit_code == 0, result.output
    text = result.output
    # the default study: 5 configurations x 30 repeats on validation, then every one tested (test_all)
    assert "configurations: 5" in text and "runs (trainings): 300" in text
    assert "populations: 10 in 5 compiled programs" in text
    assert "peak memory" in text and "expected wall time" in text
    assert list(tmp_path.iterdir()) == []


def test_grid_search_over_a_huge_int_range_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    f = _file(tmp_path, '[search]\nsampler = "grid"\n[search.space.units]\ntype = "int"\nlow = 1\nhigh = 4000\n[search.space.lags]\ntype = "int"\nlow = 1\nhigh = 1000\n')
    _refused(_cli(tmp_path, "search", f, "--quiet"), "4,000,000 points")


def test_populations_too_large_for_memory_are_split_with_the_same_results():
    s = spec.from_dict({"seed": 3, "model": {"batch_size": 4, "epochs": 6}, "runs": {"repeats": 6, "mode": "summary"},
                        "evaluation": {"selection": "test"}, "grid": {"units": [1, 2]}})
    series = load("shampoo")
    plan = planner.plan(s)
    one = budget.population_bytes(plan.populations[0], len(series)) // plan.populations[0].size
    small = budget.split(plan.populations, len(series), memory_bytes=int(one * 2 / budget.MEMORY_SHARE) + 1)
    assert [p.size for p in small[:3]] == [2, 2, 2]  # units=1: two replicas per part
    assert len(small) > len(plan.populations) and sum(p.size for p in small) == 12
    whole = planner.execute(plan, series).runs
    import dataclasses

    parts = planner.execute(dataclasses.replace(plan, populations=small), series).runs
    np.testing.assert_array_equal(whole["test_rmse"].to_numpy(), parts["test_rmse"].to_numpy())


def test_a_replica_too_large_for_the_machine_is_refused():
    s = spec.from_dict({"model": {"units": [4096, 4096], "batch_size": 4}, "transforms": {"timesteps": 2000}})
    with pytest.raises(Exception, match="needs about"):
        budget.check(s, 36, memory_bytes=2**30)
