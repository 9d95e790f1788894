"""Issue 9 item 4: unbounded studies are refused at plan time, before anything is written."""

import dataclasses
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from lstmtune.study import budget
from lstmtune.study import executor
from lstmtune.study import planner
from lstmtune.study import spec
from lstmtune.cli.app import app
from lstmtune.data.series import load

pytestmark = pytest.mark.slow  # the fast subset (pytest -m 'not slow') leaves this module out; the full run keeps it


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
    assert "populations: 10 in 10 compiled programs (one per shape and phase" in text  # 5 shapes x (validation, test): the probe counted 10 written
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
    whole = executor.execute(plan, series).runs
    parts = executor.execute(dataclasses.replace(plan, populations=small), series).runs
    np.testing.assert_array_equal(whole["test_rmse"].to_numpy(), parts["test_rmse"].to_numpy())


def test_a_replica_too_large_for_the_machine_is_refused():
    s = spec.from_dict({"model": {"units": [4096, 4096], "batch_size": 4}, "transforms": {"timesteps": 2000}})
    with pytest.raises(Exception, match="needs about"):
        budget.check(s, 36, memory_bytes=2**30)


def test_a_million_repeats_are_refused_before_planning(tmp_path, monkeypatch):
    # 10^6 repeats is within the field's bound; planning them took ~50 s before a refusal
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(planner, "plan", lambda *a, **k: pytest.fail("planned a study already over --max-runs"))
    t0 = time.perf_counter()
    _refused(_cli(tmp_path, "plan", _file(tmp_path, "[runs]\nrepeats = 1000000\n")), "at least 2,000,000 trainings", "--max-runs 1,000,000")
    assert time.perf_counter() - t0 < 20  # a hang detector
    assert list(tmp_path.iterdir()) == [tmp_path / "s.toml"]


def test_the_largest_grid_allowed_is_refused_by_max_runs_without_expanding_it_twice(tmp_path, monkeypatch):
    # 10^5 configurations (MAX_CONFIGS) x 10 diagnostic repeats + the test phase: over 10^6 trainings.
    # Before: 37 s to load (a validator built per value) + 2 x 43 s of planning, then the refusal.
    monkeypatch.chdir(tmp_path)
    f = _file(tmp_path, "[runs]\nrepeats = 1\n[grid]\nunits = [%s]\nlags = [%s]\ntimesteps = [%s]\n" % (
        ", ".join(map(str, range(1, 101))), ", ".join(map(str, range(1, 101))), ", ".join(map(str, range(1, 11)))))
    t0 = time.perf_counter()
    _refused(_cli(tmp_path, "run", f, "--quiet"), "at least 1,000,010 trainings", "100,000 configurations x 10 repeats")
    assert time.perf_counter() - t0 < 30  # a hang detector (about 4 s on the 2-core machine)
    assert not (tmp_path / "runs").exists()


def test_max_runs_counts_every_phase_exactly():
    # validation selection: 3 configurations x 10 trainings (mode both: max(repeats 4, diagnostic 10)),
    # then the selected configuration of the one sub-study is tested: 10 more
    s = spec.from_dict({"runs": {"repeats": 4}, "grid": {"units": [1, 2, 3]}})
    assert budget.check(s, 36, max_runs=40).runs == 40
    with pytest.raises(Exception, match=r"plans (at least )?40 trainings, more than --max-runs 39 \(3 configurations x 10 repeats"):
        budget.check(s, 36, max_runs=39)
    backtest = spec.from_dict({"runs": {"repeats": 4, "mode": "summary"}, "evaluation": {"selection": "backtest", "folds": 3, "test_all": True},
                               "grid": {"units": [1, 2, 3]}})
    assert budget.check(backtest, 36).runs == 3 * 4 * 3 + 3 * 4


def test_an_epochs_grid_counts_its_trainings_once_and_its_runs_per_value():
    """A probe found `plan` saying "runs (trainings): 60" for 30 trainings, and --max-runs
    refusing epochs grids by that figure: the values of an epochs grid are checkpoints of one
    training (one replica per configuration family and repeat)."""
    s = spec.from_dict({"runs": {"repeats": 5, "diagnostic_repeats": 3}, "evaluation": {"selection": "validation", "validation_size": 6, "test_all": True},
                        "grid": {"units": [1, 2, 3], "epochs": [30, 60]}})
    est = budget.check(s, 36, max_runs=30)
    assert (est.runs, est.trainings) == (60, 30) and "runs: 60 (30 trainings" in "\n".join(est.lines())
    with pytest.raises(Exception, match=r"plans (at least )?30 trainings, more than --max-runs 29 \(3 configurations \(an epochs grid's values counted once"):
        budget.check(s, 36, max_runs=29)
    one = spec.from_dict({"runs": {"repeats": 3, "diagnostic_repeats": 2}, "evaluation": {"selection": "validation", "validation_size": 6},
                          "grid": {"units": [1, 2], "epochs": [20, 40, 60]}})
    est = budget.check(one, 36)
    assert (est.runs, est.trainings) == (21, 9)  # 2 families x 3 repeats, then the selected one's 3 in the test phase
    assert budget.check(s, 36).trainings == len({c.family for c in planner.plan(s).configs}) * 5 * 2
    plain = spec.from_dict({"runs": {"repeats": 4}, "grid": {"units": [1, 2, 3]}})
    assert budget.check(plain, 36).trainings == budget.check(plain, 36).runs == 40 and "runs (trainings): 40" in budget.check(plain, 36).lines()[1]


def test_under_multi_step_scoring_each_epochs_value_is_a_training_of_its_own():
    """With evaluation.horizon > 1 each epoch count trains apart (its final weights are run
    forward), yet plan and --max-runs counted the grid's values once: --max-runs 4 let 8
    trainings run (a probe)."""
    s = spec.from_dict({"model": {"units": 1, "epochs": 40}, "runs": {"repeats": 2, "mode": "summary"}, "evaluation": {"horizon": 3}, "grid": {"epochs": [20, 40, 60]}})
    trained = sum(len(p.replicas) for p in planner.plan(s).populations)
    assert trained == 6 and planner.plan(s).trainings == 6
    est = budget.check(s, 36, max_runs=8)
    assert est.trainings == 8 == est.runs and "runs (trainings): 8" in "\n".join(est.lines())  # 3 x 2, then the selected one's 2
    with pytest.raises(Exception, match=r"plans (at least )?8 trainings, more than --max-runs 7 \(3 configurations x 2 repeats"):
        budget.precheck(s, max_runs=7)
    with pytest.raises(Exception, match=r"more than --max-runs 7"):
        budget.check(s, 36, max_runs=7)


def test_curves_and_checkpoints_are_in_the_memory_estimate():
    s = spec.from_dict({"model": {"epochs": 1_000_000}, "runs": {"repeats": 1, "diagnostic_repeats": 10, "mode": "diagnostic"},
                        "evaluation": {"selection": "test"}})
    est = budget.check(s, 36)
    assert est.curve_bytes == 10 * 1_000_000 * 2 * 4  # (replicas, epochs, train/test) float32
    pop = planner.plan(s).populations[0]
    # 10 replicas x 10^6 scorings x 2 RMSEs x 4 bytes, on the device and again on the host
    assert budget.population_bytes(pop, 36) > 2 * est.curve_bytes
    # a scoring every epoch even without curves when checkpoints are coprime (gcd 1)
    s2 = spec.from_dict({"runs": {"mode": "summary", "repeats": 10}, "evaluation": {"selection": "test"}, "grid": {"epochs": [999_999, 1_000_000]}})
    pop2 = planner.plan(s2).populations[0]
    assert pop2.schedule.segments == 1_000_000 and budget.population_bytes(pop2, 36) > 2 * est.curve_bytes


def test_a_split_study_trains_and_gives_the_results_of_an_unsplit_one(tmp_path, monkeypatch):
    from lstmtune.workflow import study

    s = spec.from_dict({"seed": 5, "model": {"batch_size": 4, "epochs": 4}, "runs": {"repeats": 5, "mode": "summary"},
                        "evaluation": {"selection": "test"}, "grid": {"units": [1, 2]}})
    whole = study.run(s, tmp_path / "whole").results.runs
    pop = planner.plan(s).populations[0]
    per = budget.population_bytes(pop, 36) // pop.size  # the 1-unit population's bytes per replica, as split() counts
    sizes = []
    real_split = budget.split

    def recording_split(populations, n, **kw):
        out = real_split(populations, n, **kw)
        sizes.append([p.size for p in out])
        return out

    # the machine's memory, injected: room for two (not three) 1-unit replicas in half of it
    monkeypatch.setattr(budget, "available_memory", lambda: int(2.5 * per / budget.MEMORY_SHARE))
    monkeypatch.setattr(budget, "split", recording_split)
    parts = study.run(s, tmp_path / "parts").results.runs
    assert sizes and sizes[0][:3] == [2, 2, 1] and sum(sizes[0]) == 10
    key = ["config", "repeat"]
    a, b = whole.sort_values(key).reset_index(drop=True), parts.sort_values(key).reset_index(drop=True)
    np.testing.assert_array_equal(a["test_rmse"].to_numpy(), b["test_rmse"].to_numpy())  # bit-identical at batch 4


def test_a_search_too_large_is_refused_by_runs_and_by_memory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    f = _file(tmp_path, '[runs]\nrepeats = 5\n[search]\ntrials = 20\n[search.space.units]\ntype = "int"\nlow = 1\nhigh = 64\n')
    result = _cli(tmp_path, "plan", f)
    assert result.exit_code == 0, result.output
    assert "trials: 20" in result.output and "runs (trainings, at most): 135" in result.output  # 20 x 5 + the best's test + 3 x 10 diagnostic reruns
    _refused(_cli(tmp_path, "search", f, "--max-runs", "50", "--quiet"), "135 trainings", "--max-runs 50")
    s = spec.from_dict({"transforms": {"timesteps": 2000}, "search": {"trials": 4, "space": {"units": {"type": "int", "low": 1, "high": 4096}}}})
    with pytest.raises(Exception, match=r"largest point \(units=4096\) needs about"):
        budget.check_search(s, 36, memory_bytes=2**30)
    assert list(tmp_path.iterdir()) == [f]


@pytest.mark.parametrize("text, needle", [("[data]\ntest_size = 40\n", "leaves no training rows"),
                                          ("[model]\nbatch_size = 100\n", "batch_size 100 needs at least"),
                                          ("[transforms]\nlags = 40\n", "needs at least")])
def test_plan_refuses_what_run_refuses_on_the_data(tmp_path, monkeypatch, text, needle):
    # plan once printed a size (and "about 2 s") for studies run then refused
    monkeypatch.chdir(tmp_path)
    f = _file(tmp_path, text)
    # each names the study file, as its own checks do (the settings were refused without it)
    _refused(_cli(tmp_path, "plan", f), f"error: {f}: ", needle)
    _refused(_cli(tmp_path, "run", f, "--quiet"), f"error: {f}: ", needle)
    assert not (tmp_path / "runs").exists()


def test_a_searchs_count_takes_in_its_races_test_and_diagnostic_reruns(tmp_path):
    """`plan` and --max-runs counted trials x repeats x phases + the test: a pruned search trained
    each trial again at every rung it reached, and the best trials' diagnostic reruns were left
    out, so `--max-runs 10` let 30 to 40 trainings run. The count is now what a search trains at
    most, and equals what a search without pruning stores."""
    import sqlalchemy as sa

    from lstmtune.store.schema import runs_table
    from lstmtune.workflow import search

    space = {"units": {"type": "int", "low": 1, "high": 3}, "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True}}
    raw = {"name": "b", "seed": 3, "transforms": {"trim": 2}, "model": {"batch_size": 4, "epochs": 16}, "runs": {"repeats": 2, "diagnostic_repeats": 2},
           "search": {"sampler": "random", "trials": 4, "batch": 4, "space": space}}
    pruned = spec.from_dict({**raw, "search": {**raw["search"], "pruner": "successive_halving", "min_epochs": 1, "reduction_factor": 2}})
    # rungs 1, 2, 4, 8, 16 epochs: 4 + 2 + 1 + 1 + 1 trials, 2 repeats each; the test (2); 3 x 2 diagnostic reruns
    assert budget.check_search(pruned, 36, max_runs=None).runs == 9 * 2 + 2 + 3 * 2
    with pytest.raises(spec.SpecError, match=r"plans up to 26 trainings \(4 trials \(9 at their races' rungs\)"):
        budget.check_search(pruned, 36, max_runs=25)

    plain = spec.from_dict(raw)
    counted = budget.check_search(plain, 36, max_runs=None).runs
    assert counted == 4 * 2 + 2 + 3 * 2
    search.run(plain, tmp_path / "r")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'r' / 'study.db'}")
    try:
        with engine.connect() as conn:
            stored = conn.execute(sa.select(sa.func.count()).select_from(runs_table)).scalar()
    finally:
        engine.dispose()
    assert stored == counted


def test_sub_studies_selecting_one_configuration_make_the_counts_upper_bounds(tmp_path):
    """Two sub-studies both selecting units=1 trained it once for the test: plan said "runs
    (trainings): 50" and --max-runs 45 refused "plans 50 trainings" for a study of 40 (a probe)."""
    from lstmtune.study import budget

    s = spec.from_dict({"name": "subsame", "seed": 1, "model": {"epochs": 2}, "runs": {"mode": "summary", "repeats": 10},
                            "grids": {"a": {"units": [1, 2]}, "b": {"units": [1, 3]}}})
    est = budget.estimate(s, 36)
    assert est.upper and "runs (trainings, at most): 50" in est.lines() and est.programs == 3 + 2
    with pytest.raises(spec.SpecError, match="plans up to 50 trainings, more than --max-runs 45 .* plus the test phase \\(fewer where sub-studies select one configuration\\)"):
        budget.check(s, 36, max_runs=45)
    one = spec.from_dict({"name": "one", "model": {"epochs": 2}, "runs": {"mode": "summary", "repeats": 10}, "grid": {"units": [1, 2]}, "evaluation": {"selection": "test"}})
    with pytest.raises(spec.SpecError) as err:
        budget.check(one, 36, max_runs=5)
    assert "up to" not in str(err.value) and "plus the test phase" not in str(err.value)  # no separate test phase under selection = "test"
