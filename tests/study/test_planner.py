"""The planner: grouping configurations into populations (families = checkpoints of one
run), seeding, executing on the engine, program reuse and reproducibility."""

import numpy as np
import pandas as pd
import pytest

from lstmtune.data import series as data
from lstmtune.engine import trainer as engine
from lstmtune.study import executor
from lstmtune.selection import metrics
from lstmtune.study import planner
from lstmtune.data import problem
from lstmtune.study import results as resultset
from lstmtune.study import spec


def _spec(grid=None, grids=None, *, trim=2, batch=4, epochs=10, repeats=3, diag=2, mode="summary", seeding="per-config", seed=11, **model):
    raw = {
        "name": "t",
        "seed": seed,
        "transforms": {} if trim is None else {"trim": trim},
        "model": {"batch_size": batch, "epochs": epochs, **model},
        "runs": {"mode": mode, "repeats": repeats, "diagnostic_repeats": diag, "seeding": seeding},
    }
    if grid is not None:
        raw["grid"] = grid
    if grids is not None:
        raw["grids"] = grids
    return spec.from_dict(raw)


@pytest.fixture(scope="module")
def shampoo():
    return data.load("shampoo")


# --------------------------------------------------------------------------- grouping
def test_epoch_configs_are_checkpoints_of_one_family_per_shape():
    s = _spec({"units": [1, 2], "batch_size": [2, 4], "epochs": [10, 20]})
    p = planner.plan(s)
    assert len(p.configs) == 8
    assert p.repeats == 3 and p.curve_repeats == 0
    assert p.runs == 24
    assert len(p.populations) == 4
    assert [(pop.arch.units, pop.arch.batch_size) for pop in p.populations] == [((1,), 2), ((1,), 4), ((2,), 2), ((2,), 4)]
    for pop in p.populations:
        assert pop.schedule.checkpoints == (10, 20)
        assert pop.schedule.eval_every == 10  # summary mode: scored only at checkpoint granularity
        assert pop.schedule.epochs == 20
        assert pop.size == 3
        assert [r.repeat for r in pop.replicas] == [0, 1, 2]
        assert len({r.family for r in pop.replicas}) == 1
        assert sorted(c.epochs for c in pop.configs) == [10, 20]
        assert {(c.layers, c.batch_size) for c in pop.configs} == {(pop.arch.units, pop.arch.batch_size)}
        assert pop.framing.trim == 2 and pop.framing.test_size == 12
    # every configuration is in exactly one population
    assert sorted(c.key for pop in p.populations for c in pop.configs) == sorted(c.key for c in p.configs)


def test_learning_rates_share_one_population_as_per_replica_values():
    s = _spec({"learning_rate": [1e-3, 1e-2]}, units=2)
    p = planner.plan(s)
    assert len(p.configs) == 2
    assert len(p.populations) == 1
    pop = p.populations[0]
    assert pop.arch == engine.Architecture(2, 4, "sigmoid")
    assert pop.size == 6  # 2 families x 3 repeats
    assert len({r.family for r in pop.replicas}) == 2
    assert [r.config.learning_rate for r in pop.replicas] == [1e-3] * 3 + [1e-2] * 3
    assert [r.repeat for r in pop.replicas] == [0, 1, 2, 0, 1, 2]
    # different families get different seeds under per-config seeding
    assert len({r.seed for r in pop.replicas}) == 6


def test_recurrent_activation_needs_separate_programs():
    s = _spec({"recurrent_activation": ["sigmoid", "hard_sigmoid"]})
    p = planner.plan(s)
    assert len(p.populations) == 2
    assert [pop.arch.recurrent_activation for pop in p.populations] == ["sigmoid", "hard_sigmoid"]
    assert all(pop.size == 3 for pop in p.populations)


def test_mode_both_scores_every_epoch_and_trains_the_larger_repeat_count():
    p = planner.plan(_spec({"units": [1, 2]}, mode="both", repeats=4, diag=2))
    assert p.repeats == 4 and p.curve_repeats == 2
    assert all(pop.schedule.eval_every == 1 and pop.size == 4 for pop in p.populations)
    p = planner.plan(_spec({"units": [1, 2]}, mode="both", repeats=3, diag=5))
    assert p.repeats == 5 and p.curve_repeats == 5
    assert all(pop.schedule.eval_every == 1 and pop.size == 5 for pop in p.populations)
    p = planner.plan(_spec({"units": [1]}, mode="diagnostic", repeats=30, diag=2))
    assert p.repeats == 2 and p.curve_repeats == 2
    assert p.populations[0].schedule.eval_every == 1


def test_configs_repeated_across_sub_studies_are_trained_once():
    s = _spec(grids={"a": {"units": [1, 2]}, "b": {"epochs": [5, 10]}})
    p = planner.plan(s)
    assert len(p.points) == 4
    assert len(p.configs) == 3  # units=1 @ 10 epochs appears in both sub-studies
    assert len(p.populations) == 2
    assert p.populations[0].schedule.checkpoints == (5, 10)
    assert p.populations[1].schedule.checkpoints == (10,)


# --------------------------------------------------------------------------- seeds
def test_seed_for_is_deterministic_and_depends_on_study_seed_and_repeat():
    s = _spec({"units": [1]})
    c = spec.expand(s)[0].config
    a = planner.seed_for(s, c, 0)
    assert a == planner.seed_for(s, c, 0)
    assert isinstance(a, int) and 0 <= a < 2**63
    assert planner.seed_for(s, c, 1) != a
    assert planner.seed_for(_spec({"units": [1]}, seed=12), c, 0) != a


def test_per_config_seeding_ignores_epochs_only():
    s = _spec({"units": [1, 2], "epochs": [5, 10]})
    cfg = {p.label: p.config for p in spec.expand(s)}
    for r in range(3):
        assert planner.seed_for(s, cfg["units=1, epochs=5"], r) == planner.seed_for(s, cfg["units=1, epochs=10"], r)
        assert planner.seed_for(s, cfg["units=1, epochs=5"], r) != planner.seed_for(s, cfg["units=2, epochs=5"], r)


def test_shared_seeding_gives_repeat_r_the_same_seed_everywhere():
    s = _spec({"units": [1, 2], "batch_size": [2, 4]}, seeding="shared")
    configs = [p.config for p in spec.expand(s)]
    for r in range(3):
        assert len({planner.seed_for(s, c, r) for c in configs}) == 1
    assert planner.seed_for(s, configs[0], 0) != planner.seed_for(s, configs[0], 1)
    pops = planner.plan(s).populations
    assert len({tuple(r.seed for r in pop.replicas) for pop in pops}) == 1


# --------------------------------------------------------------------------- execute
TINY = dict(grid={"units": [1, 2], "epochs": [5, 10]}, repeats=3, diag=2, batch=4, trim=2, mode="both")


@pytest.fixture(scope="module")
def tiny(shampoo):
    s = _spec(**TINY)
    return s, executor.execute(planner.plan(s), shampoo)


def test_execute_runs_table(tiny):
    s, res = tiny
    runs = res.runs
    assert len(runs) == 12
    for col in ("config", "units", "epochs", "repeat", "seed", "test_rmse", "test_mae", "test_mape", "test_smape", "test_mase", "train_rmse", "diverged"):
        assert col in runs.columns, col
    assert sorted(runs.groupby(["units", "epochs"]).size().items()) == [((1, 5), 3), ((1, 10), 3), ((2, 5), 3), ((2, 10), 3)]
    assert runs.groupby("config")["repeat"].apply(sorted).map(tuple).unique().tolist() == [(0, 1, 2)]
    assert not runs["diverged"].any()
    assert np.isfinite(runs[["test_rmse", "test_mae", "test_mape", "test_smape", "test_mase", "train_rmse"]].to_numpy()).all()
    # RMSE >= MAE per run (same errors)
    assert (runs["test_rmse"] >= runs["test_mae"] - 1e-9).all()
    # epoch checkpoints of a family share seeds; units differ
    seeds = runs.set_index(["units", "epochs", "repeat"])["seed"]
    for r in range(3):
        assert seeds[(1, 5, r)] == seeds[(1, 10, r)]
        assert seeds[(1, 5, r)] != seeds[(2, 5, r)]
    assert res.baselines["persistence"]["rmse"] == pytest.approx(136.761, abs=5e-4)
    assert res.counts == [{"batch_size": 4, "values": 36, "differences": 35, "pairs": 34, "train": 22, "test": 12, "trimmed": 2, "train_used": 20}]


def test_execute_curves_one_per_config(tiny):
    s, res = tiny
    keys = {p.config.key: p.config for p in res.points}
    assert set(res.curves) == set(keys)
    for k, c in res.curves.items():
        assert c.shape == (2, keys[k].epochs, 2)
        assert c.dtype == np.float32
        assert np.isfinite(c).all()
    by = {(c.units, c.epochs): k for k, c in keys.items()}
    for u in (1, 2):
        # the 5-epoch config is the first half of the 10-epoch run (one family)
        np.testing.assert_array_equal(res.curves[by[(u, 5)]], res.curves[by[(u, 10)]][:, :5])
        # last in-program test RMSE (float32) matches the float64 score of the checkpoint
        rows = res.runs[res.runs["config"] == by[(u, 5)]].sort_values("repeat")
        np.testing.assert_allclose(res.curves[by[(u, 5)]][:, -1, 1], rows["test_rmse"].to_numpy()[:2], rtol=1e-4)


def test_checkpoint_equals_a_separate_run_of_that_length(tiny, shampoo):
    s, res = tiny
    point = next(p for p in res.points if p.config.units == 1 and p.config.epochs == 5)
    rows = res.runs[res.runs["config"] == point.config.key].sort_values("repeat")
    seeds = [int(x) for x in rows["seed"]]
    prob = problem.prepare(shampoo, problem.Framing(trim=2, test_size=12), 4)
    direct = engine.train_population(
        prob, engine.Architecture(1, 4, "sigmoid"), engine.Schedule.for_checkpoints([5]), seeds=seeds, learning_rate=1e-3
    )
    test_rmse = metrics.rmse(prob.test_actual, prob.invert(direct.test_pred[:, 0], "test"))
    train_rmse = metrics.rmse(prob.train_actual, prob.invert(direct.train_pred[:, 0], "train"))
    np.testing.assert_allclose(rows["test_rmse"].to_numpy(), test_rmse, rtol=1e-6)
    np.testing.assert_allclose(rows["train_rmse"].to_numpy(), train_rmse, rtol=1e-6)
    # and the 10-epoch checkpoint of the same family is a different (longer) training
    rows10 = res.runs[(res.runs["units"] == 1) & (res.runs["epochs"] == 10)].sort_values("repeat")
    assert not np.allclose(rows10["test_rmse"].to_numpy(), test_rmse, rtol=1e-6)


def test_group_scores_and_is_paired(shampoo):
    s = _spec(grids={"u": {"units": [1, 2]}, "e": {"epochs": [5, 10]}}, mode="summary", repeats=3)
    res = executor.execute(planner.plan(s), shampoo)
    assert resultset.studies(res) == ["u", "e"]
    assert len(res.runs) == 9  # units=1 @ 10 epochs is shared by both sub-studies
    assert res.curves == {}
    assert resultset.is_paired(res, "e") is True
    assert resultset.is_paired(res, "u") is False
    scores = resultset.group_scores(res, "e")
    assert list(scores) == ["epochs=5", "epochs=10"]
    assert all(v.shape == (3,) for v in scores.values())
    # units=1 in "u" and epochs=10 in "e" are the same configuration: same scores
    np.testing.assert_array_equal(resultset.group_scores(res, "u")["units=1"], scores["epochs=10"])
    mae = resultset.group_scores(res, "u", "test_mae")
    assert list(mae) == ["units=1", "units=2"]

    shared = _spec(grids={"u": {"units": [1, 2]}}, mode="summary", repeats=3, seeding="shared")
    assert resultset.is_paired(executor.execute(planner.plan(shared), shampoo), "u") is True


# --------------------------------------------------------------------------- programs
def test_one_compiled_program_per_population(shampoo):
    s = _spec({"units": [1, 2], "batch_size": [2, 4]}, trim=None, epochs=13, repeats=2, mode="summary")
    p = planner.plan(s)
    expected = {engine.program_key(pop.arch, pop.schedule) for pop in p.populations}
    assert len(expected) == 4
    engine.program.cache_clear()  # programs other tests in this process built
    before = engine.program.cache_info().misses
    res = executor.execute(p, shampoo)
    assert engine.program.cache_info().misses - before == 4  # one program built per population
    for key in expected:  # ... and these are they: asking again builds nothing
        engine.program(*key)
    assert engine.program.cache_info().misses - before == 4
    assert {(a.units, a.batch_size) for a, *_ in expected} == {((1,), 2), ((1,), 4), ((2,), 2), ((2,), 4)}
    assert {tuple(rest) for _, *rest in expected} == {(1, 1, False)}  # one call of one segment, one checkpoint
    assert len(res.runs) == 8
    # a second study with the same shapes (different seed) compiles nothing new
    executor.execute(planner.plan(_spec({"units": [1, 2], "batch_size": [2, 4]}, trim=None, epochs=13, repeats=2, mode="summary", seed=99)), shampoo)
    assert engine.program.cache_info().misses - before == 4


# --------------------------------------------------------------------------- reproducibility
def test_same_spec_gives_bit_identical_runs(tiny, shampoo):
    s, res = tiny
    again = executor.run_study(s, shampoo)
    pd.testing.assert_frame_equal(res.runs, again.runs, check_exact=True)
    assert set(res.curves) == set(again.curves)
    for k in res.curves:
        np.testing.assert_array_equal(res.curves[k], again.curves[k])


def test_small_populations_train_side_by_side_on_their_own_cpu_devices_with_the_same_bits(monkeypatch):
    """Populations too small to split across the cores train two at a time, each on its own CPU
    device (lstmtune asks JAX for one CPU device per usable core, $LSTMTUNE_CPU_DEVICES)."""
    s = spec.from_dict({"name": "lanes", "seed": 2, "model": {"batch_size": 4, "epochs": 30}, "grid": {"units": [1, 2, 3, 4]},
                        "runs": {"mode": "both", "repeats": 3, "diagnostic_repeats": 2}})
    p = planner.plan(s)
    series = data.load("shampoo")
    if not engine.lanes():
        pytest.skip("one CPU device here: nothing to train side by side")
    used = []
    real = executor.LocalExecutor.run

    def run(self, population, problem, on_epochs=None, device=None):
        used.append(device)
        return real(self, population, problem, on_epochs, device)

    monkeypatch.setattr(executor.LocalExecutor, "run", run)
    together = executor.execute(p, series, executor=executor.LocalExecutor())
    assert len({d.id for d in used if d is not None}) == 2  # both lanes used
    used.clear()
    alone = executor.execute(p, series, executor=executor.LocalExecutor(side_by_side=False))
    assert used == [None] * 4
    pd.testing.assert_frame_equal(together.runs, alone.runs, check_exact=True)
    assert together.curves.keys() == alone.curves.keys() and all(np.array_equal(together.curves[k], alone.curves[k]) for k in alone.curves)


def test_a_program_trains_on_the_same_lane_whatever_the_timing(monkeypatch):
    """JAX compiles a program for one device and keys its compilation cache by that device. A
    population sent to whichever lane was free first landed on the other lane in a second run,
    whose timing differs (nothing to compile), and was compiled again there: the default study's
    second run took 8.7 s instead of 5.4 s. Each process (each reset below) gives every program
    the same lane, however long the others take."""
    import time

    s = spec.from_dict({"name": "lanes", "seed": 2, "model": {"batch_size": 4, "epochs": 5}, "grid": {"units": [1, 2, 3, 4]},
                        "runs": {"mode": "summary", "repeats": 2}})
    p = planner.plan(s)
    problems = executor.validate(p, data.load("shampoo"))
    jobs = [executor.Job(i, pop, problems[executor.problem_key(pop)], frozenset()) for i, pop in enumerate(p.populations)]

    def lanes_with(slow):
        monkeypatch.setattr(executor, "_LANES", {})  # a fresh process
        monkeypatch.setattr(executor, "_LOAD", {})
        used = {}

        def run(self, population, problem, on_epochs=None, device=None):
            time.sleep(0.3 if population.arch.units == slow else 0.01)
            used[population.arch.units] = device

        monkeypatch.setattr(executor.LocalExecutor, "run", run)
        assert len(list(executor.LocalExecutor()._side_by_side(jobs, None, ["lane 0", "lane 1"]))) == 4
        return used

    first = lanes_with(slow=(4,))
    assert set(first.values()) == {"lane 0", "lane 1"}
    for slow in [(1,), (2,), (3,)]:
        assert lanes_with(slow) == first


def test_the_dearest_populations_are_trained_first_and_the_results_keep_the_plans_order(monkeypatch):
    """Side by side, the dearest population started last ran alone at the end while a core idled:
    they are taken dearest first (executor._cost). The runs table keeps the plan's order."""
    s = spec.from_dict({"name": "order", "seed": 2, "model": {"batch_size": 4, "epochs": 20}, "grid": {"units": [1, 3, 2]},
                        "runs": {"mode": "summary", "repeats": 2}})
    p = planner.plan(s)
    series = data.load("shampoo")
    taken = []
    real = executor.LocalExecutor.run

    def run(self, population, problem, on_epochs=None, device=None):
        taken.append(population.arch.units)
        return real(self, population, problem, on_epochs, device)

    monkeypatch.setattr(executor.LocalExecutor, "run", run)
    r = executor.execute(p, series, executor=executor.LocalExecutor(side_by_side=False))
    assert taken == [(3,), (2,), (1,)]
    keys = [c.key for c in p.configs]
    assert list(dict.fromkeys(r.runs["config"])) == keys  # units 1, 3, 2: as planned


def test_other_epoch_counts_of_a_shape_share_its_program_and_its_lane(monkeypatch):
    """Epoch counts are arguments of the compiled program, so populations of one shape and other
    epochs run one program; it keeps one lane (another lane would compile it again there)."""
    import dataclasses

    s = spec.from_dict({"name": "lanes", "seed": 2, "model": {"batch_size": 4, "epochs": 10}, "runs": {"mode": "summary", "repeats": 2}})
    p = planner.plan(s)
    pop = p.populations[0]
    problem = executor.validate(p, data.load("shampoo"))[executor.problem_key(pop)]
    monkeypatch.setattr(executor, "_LANES", {})  # a fresh process
    monkeypatch.setattr(executor, "_LOAD", {})
    others = [dataclasses.replace(pop, schedule=engine.Schedule.for_checkpoints([e])) for e in (10, 20, 30, 40)]
    assert len({engine.program_key(o.arch, o.schedule) for o in others}) == 1
    assert len({executor._lane(o, problem, 2) for o in others}) == 1
