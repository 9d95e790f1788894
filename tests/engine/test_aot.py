"""Programs stored once traced (engine/aot.py) give the same bits as programs traced afresh."""

import jax
import numpy as np
import pytest

from lstmtune.data import series as data
from lstmtune.data.problem import Framing, prepare
from lstmtune.engine import aot
from lstmtune.engine import trainer as engine


def _train(batch_size=4, units=2, stateful=True, epochs=30, seeds=(3, 4, 5)):
    problem = prepare(data.load("shampoo"), Framing(1, 1, 1, test_size=12, trim=None, feature_range=(-1.0, 1.0)), batch_size)
    arch = engine.Architecture(units=(units,), batch_size=batch_size, stateful=stateful, shuffle=not stateful)
    return engine.train_population(problem, arch, engine.Schedule.for_checkpoints([10, epochs], diagnostic=True), seeds=list(seeds))


def _bits(result):
    return [result.test_pred, result.train_pred, result.curves, result.diverged_epoch, *jax.tree_util.tree_leaves(result.params)]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setattr(aot, "_folder", lambda: tmp_path)
    monkeypatch.setattr(aot, "_memory", {})
    return tmp_path


@pytest.mark.parametrize("stateful", [True, False])
def test_a_program_stored_and_read_back_gives_the_bits_of_one_traced_afresh(folder, monkeypatch, stateful):
    exported = _train(stateful=stateful)  # exported, stored, run
    stored = sorted(folder.glob("*.jax"))
    assert len(stored) == 2  # start and advance
    monkeypatch.setattr(aot, "_memory", {})
    read_back = _train(stateful=stateful)  # read from disk: not traced
    assert sorted(folder.glob("*.jax")) == stored
    monkeypatch.setattr(aot, "_folder", lambda: None)
    plain = _train(stateful=stateful)  # jax.jit as ever
    for a, b, c in zip(_bits(exported), _bits(read_back), _bits(plain)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(c))
        np.testing.assert_array_equal(np.asarray(b), np.asarray(c))


def test_a_damaged_program_is_traced_afresh_and_another_shape_is_another_program(folder, monkeypatch):
    first = _train()
    for path in folder.glob("*.jax"):
        path.write_bytes(b"not a program")
    monkeypatch.setattr(aot, "_memory", {})
    again = _train()
    for a, b in zip(_bits(first), _bits(again)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    _train(units=3)
    assert len(list(folder.glob("*.jax"))) == 4


def test_the_key_holds_shapes_settings_and_the_engines_source():
    leaves, tree = aot._leaves((np.zeros((2, 3), np.float32), 5))
    assert leaves[1].dtype == np.int32
    k = aot._key("start", ("a",), leaves, tree, "cpu")
    assert k != aot._key("start", ("b",), leaves, tree, "cpu")
    assert k != aot._key("start", ("a",), [np.zeros((2, 4), np.float32), leaves[1]], tree, "cpu")
    assert k != aot._key("start", ("a",), leaves, tree, "gpu")
    assert len(aot._source_digest()) == 64


def test_a_population_split_across_cpu_devices_is_stored_and_read_back_bit_for_bit(folder, monkeypatch):
    if engine.cpu_shards(64) < 2:
        pytest.skip("one CPU device here: nothing to split")
    seeds = range(100, 116)
    monkeypatch.setattr(engine, "SHARD_WORK", 0)  # split whatever the size
    assert engine.cpu_shards(len(seeds), 1.0) == 2
    exported = _train(seeds=seeds)
    stored = sorted(folder.glob("*.jax"))
    assert len(stored) >= 2  # start, advance (and advance again for the carry's sharding as start leaves it)
    monkeypatch.setattr(aot, "_memory", {})
    read_back = _train(seeds=seeds)
    assert sorted(folder.glob("*.jax")) == stored
    monkeypatch.setattr(aot, "_folder", lambda: None)
    plain_bits = _bits(_train(seeds=seeds))
    for a, b, c in zip(_bits(exported), _bits(read_back), plain_bits):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(c))
        np.testing.assert_array_equal(np.asarray(b), np.asarray(c))


def test_released_programs_unmap_their_code_and_train_the_same_bits_again(folder):
    from pathlib import Path

    if not Path("/proc/self/maps").exists():
        pytest.skip("counting memory mappings needs Linux's /proc")

    def mappings():
        with open("/proc/self/maps", "rb") as maps:
            return sum(1 for _ in maps)

    before = _bits(_train(units=3, epochs=12))
    assert aot._memory
    for n in range(1, 41):  # 40 more programs, as a long run over many shapes compiles
        jax.jit(lambda x, n=n: (x * n).sum())(np.ones(n, np.float32))
    held = mappings()
    assert aot.crowded(0.0, 0.0) and not aot.crowded(1e9, 0.0)
    aot.release()
    assert not aot._memory and mappings() < held - 60  # about three mappings per program, unmapped
    assert not aot.crowded(0.0, 0.01)  # no growth since: mappings JAX does not hold never make every call release
    assert not aot.release_if_crowded(0.0, 0.01) and aot.release_if_crowded(0.0, 0.0)
    for a, b in zip(before, _bits(_train(units=3, epochs=12))):  # read back from disk: the same bits
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


_ACROSS_LANES = r"""
import json, sys
import jax, jax.monitoring, numpy as np
from lstmtune.data import series as data
from lstmtune.data.problem import Framing, prepare
from lstmtune.engine import trainer as engine
compiled = []
jax.monitoring.register_event_listener(
    lambda event, **_: compiled.append(event) if event == "/jax/compilation_cache/cache_misses" else None)
problem = prepare(data.load("shampoo"), Framing(1, 1, 1, test_size=12, trim=None, feature_range=(-1.0, 1.0)), 4)
arch = engine.Architecture(units=(3,), batch_size=4)
def train(device):
    r = engine.train_population(problem, arch, engine.Schedule.for_checkpoints([7]), seeds=[1, 2], device=device)
    return [np.asarray(x).tolist() for x in (r.test_pred, r.train_pred)]
first = train(jax.devices("cpu")[0])
before = len(compiled)
second = train(jax.devices("cpu")[1])
print(json.dumps({"first": before, "second": len(compiled) - before, "same": first == second}))
"""


@pytest.mark.slow
def test_a_program_compiled_for_one_cpu_lane_is_read_back_for_the_other(tmp_path):
    """A fresh compilation cache: the population's programs compile on lane 0; on lane 1 they are
    read back from the persistent cache (no miss: no XLA compilation) and give the same bits."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "LSTMTUNE_CACHE_DIR": str(tmp_path), "LSTMTUNE_CPU_DEVICES": "2"}
    out = subprocess.run([sys.executable, "-c", _ACROSS_LANES], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    counts = json.loads(out.stdout.strip().splitlines()[-1])
    assert counts["same"]
    assert counts["first"] >= 2  # start and advance, at least
    assert counts["second"] == 0, counts
