"""A reusable conformance suite for :class:`lstmtune.store.Store` implementations.

Subclass :class:`StoreConformance` in a ``test_*.py`` module (the name must
start with ``Test``) and define the fixtures:

- ``store``: an open store on an empty database, closed after the test;
- ``store_url`` (optional): the URL that ``store`` was opened on, for the tests
  that reopen the database, write to it with raw SQL or share it with other
  processes; those tests are skipped when it is not defined.

Every test uses a fresh, empty database.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from lstmtune.errors import LstmtuneError
from lstmtune.store import DONE, METRIC_COLUMNS, RUNNING, STATUS_COLUMNS, open_store

PARAMS = {  # shaped like lstmtune.study.spec.Config.params(): ints, floats, None, bools, lists (stacked units)
    "k1": {"units": 4, "batch_size": 1, "epochs": 10, "learning_rate": 0.001, "trim": None, "stateful": True},
    "k2": {"units": 8, "batch_size": 1, "epochs": 10, "learning_rate": 0.01, "trim": 3, "stateful": False},
    "k3": {"units": [8, 4], "batch_size": 2, "epochs": 20, "learning_rate": 0.01, "trim": None, "stateful": True},
}


def result(key: str, repeat: int, *, seed: int | None = None, rmse: float = 1.0, diverged: bool = False, **extra) -> dict:
    """A result row as lstmtune.study.planner produces it (params included, ignored by the store)."""
    row = {"config": key, **PARAMS.get(key, {}), "repeat": repeat, "seed": seed if seed is not None else 100 + repeat}
    for k, m in enumerate(METRIC_COLUMNS):
        row[m] = float("nan") if diverged else rmse + k
    row["diverged"] = diverged
    row["diverged_epoch"] = 7 if diverged else None
    row.update(extra)
    return row


def _claim_worker(url, study_id, owner, batches, barrier, queue):
    """Claim each batch in turn (in a spawned process); report what was claimed, or the error."""
    claimed = []
    try:
        store = open_store(url)
        try:
            barrier.wait(timeout=60)
            for batch in batches:
                claimed.extend(store.claim(study_id, batch, owner))
        finally:
            store.close()
        queue.put((owner, claimed, None))
    except BaseException as err:  # report, don't hang the parent
        queue.put((owner, claimed, f"{type(err).__name__}: {err}"))


def _doomed_worker(url, study_id, ready):
    """Finish one population, claim a second one, then wait to be killed."""
    store = open_store(url)
    store.claim(study_id, [("k1", 0, 1), ("k1", 1, 2)], "doomed")
    store.complete(study_id, "doomed", [result("k1", 0), result("k1", 1)], {("k1", 0): np.ones((3, 2))})
    store.claim(study_id, [("k2", 0, 3), ("k2", 1, 4)], "doomed")
    ready.set()
    time.sleep(120)


def _overlapping_batches(items, rounds, size, offset, reverse):
    out = []
    for i in range(rounds):
        batch = items[i * (size - 5) + offset : i * (size - 5) + offset + size]
        out.append(batch[::-1] if reverse else batch)
    return out


class StoreConformance:
    """The behaviour every Store must show (see lstmtune.store.base)."""

    @pytest.fixture
    def store_url(self):
        pytest.skip("this store has no database URL to reopen or share")

    @pytest.fixture
    def study(self, store):
        sid = store.open_study("s", "[study]\nname = 's'\n")
        store.add_configs(sid, list(PARAMS.items()))
        return sid

    # -- studies and configurations -----------------------------------------

    def test_open_study_idempotent_keeps_latest_spec(self, store):
        a = store.open_study("alpha", "v = 1")
        assert isinstance(a, int)
        assert store.open_study("alpha", "v = 1") == a
        assert store.open_study("alpha", "v = 2") == a
        assert store.spec_toml(a) == "v = 2"
        b = store.open_study("beta", "v = 3")
        assert b != a
        assert store.spec_toml(b) == "v = 3"
        assert store.spec_toml(a) == "v = 2"
        assert list(store.status()["study"]) == ["alpha", "beta"]

    def test_spec_toml_of_unknown_study(self, store):
        with pytest.raises(KeyError):
            store.spec_toml(12345)

    def test_add_configs_idempotent_and_ordered(self, store):
        sid = store.open_study("s", "")
        store.add_configs(sid, [("k2", PARAMS["k2"]), ("k1", PARAMS["k1"])])
        store.add_configs(sid, [("k1", PARAMS["k1"]), ("k3", PARAMS["k3"])])
        store.add_configs(sid, [("k1", PARAMS["k1"]), ("k2", PARAMS["k2"]), ("k3", PARAMS["k3"])])
        store.add_configs(sid, [])
        items = [(k, r, 10 * i + r) for i, k in enumerate(("k1", "k2", "k3")) for r in range(2)]
        assert len(store.claim(sid, items, "a")) == 6
        df = store.runs(sid, status=None)
        assert list(df["config"]) == ["k2", "k2", "k1", "k1", "k3", "k3"]  # order of first addition
        assert list(df["repeat"]) == [0, 1] * 3
        for name in PARAMS["k1"]:
            assert name in df.columns
        assert list(df["units"]) == [8, 8, 4, 4, [8, 4], [8, 4]]
        assert list(df["stateful"]) == [False, False, True, True, True, True]

    def test_configs_are_per_study(self, store):
        a = store.open_study("a", "")
        b = store.open_study("b", "")
        store.add_configs(a, [("k1", PARAMS["k1"])])
        with pytest.raises(ValueError, match="k1"):
            store.claim(b, [("k1", 0, 1)], "x")
        assert store.runs(b, status=None).empty

    # -- claims ---------------------------------------------------------------

    def test_claim_only_unclaimed(self, store, study):
        items = [("k1", 0, 11), ("k1", 1, 12), ("k2", 0, 21)]
        assert store.claim(study, items, "a") == [("k1", 0), ("k1", 1), ("k2", 0)]
        assert store.claim(study, items, "b") == []
        assert store.claim(study, items, "a") == []  # own running rows are not claimed twice
        more = [("k2", 1, 22), ("k1", 0, 11), ("k2", 0, 21), ("k3", 0, 31)]
        assert store.claim(study, more, "b") == [("k2", 1), ("k3", 0)]  # in the order given
        df = store.runs(study, status=RUNNING)
        assert len(df) == 5
        assert set(df["status"]) == {RUNNING}
        assert dict(zip(zip(df["config"], df["repeat"]), df["seed"])) == {
            ("k1", 0): 11, ("k1", 1): 12, ("k2", 0): 21, ("k2", 1): 22, ("k3", 0): 31}
        assert store.runs(study).empty  # nothing done yet

    def test_claim_edge_cases(self, store, study):
        assert store.claim(study, [], "a") == []
        assert store.claim(study, [("k1", 0, 1), ("k1", 0, 1)], "a") == [("k1", 0)]
        with pytest.raises(ValueError, match="nope"):
            store.claim(study, [("k1", 5, 1), ("nope", 0, 2)], "a")
        # the failed claim took nothing
        assert store.claim(study, [("k1", 5, 1)], "b") == [("k1", 5)]

    def test_large_seeds_and_many_items(self, store, study):
        seed = (2**32 - 1 << 31) ^ (2**32 - 1)  # the largest planner.seed_for can give
        items = [(k, r, seed - r) for k in PARAMS for r in range(500)]
        assert len(store.claim(study, items, "a")) == 1500
        df = store.runs(study, status=None)
        assert len(df) == 1500
        assert int(df["seed"].max()) == seed

    def test_done_runs_are_never_claimed_again(self, store, study):
        store.claim(study, [("k1", 0, 1)], "a")
        store.complete(study, "a", [result("k1", 0, seed=1)])
        assert store.cleanup_stale(study, 0.0) == 0
        assert store.claim(study, [("k1", 0, 1)], "b") == []

    # -- completion -------------------------------------------------------------

    def test_complete_round_trip(self, store, study):
        store.claim(study, [("k1", 0, 11), ("k1", 1, 12), ("k2", 0, 21), ("k2", 1, 22)], "a")
        curves = {
            ("k1", 0): np.arange(20, dtype=np.float32).reshape(10, 2) / 7,
            ("k1", 1): np.linspace(0, 1, 20).reshape(10, 2),  # float64 in, float32 out
            ("k2", 0): np.full((2, 3, 2), 0.25, dtype=np.float32),
        }
        rows = [
            result("k1", 0, seed=11, rmse=1.5, train_seconds=3.25),
            result("k1", 1, seed=12, rmse=2.5),
            result("k2", 0, seed=21, diverged=True),
        ]
        assert store.complete(study, "a", rows, curves) == 3
        df = store.runs(study)
        assert list(zip(df["config"], df["repeat"])) == [("k1", 0), ("k1", 1), ("k2", 0)]
        assert set(df["status"]) == {DONE}
        assert list(df["seed"]) == [11, 12, 21]
        for k, m in enumerate(METRIC_COLUMNS):
            assert df[m].dtype == float
            assert df[m].iloc[0] == 1.5 + k
            assert df[m].iloc[1] == 2.5 + k
            assert math.isnan(df[m].iloc[2])
        assert list(df["diverged"]) == [False, False, True]
        assert df["diverged"].dtype == bool
        assert df["diverged_epoch"].isna().tolist() == [True, True, False]
        assert int(df["diverged_epoch"].iloc[2]) == 7
        assert df["train_seconds"].iloc[0] == 3.25
        assert df["train_seconds"].isna().tolist() == [False, True, True]
        for name, value in PARAMS["k1"].items():
            got = df[name].iloc[0]
            assert (value is None and pd.isna(got)) or got == value
        assert df["units"].iloc[2] == 8 and df["trim"].iloc[2] == 3
        # the leading columns are those of the planner's rows
        expected = list(result("k1", 0))
        assert list(df.columns[: len(expected)]) == expected

        back = store.curves(study)
        assert set(back) == set(curves)
        for key, arr in curves.items():
            assert back[key].dtype == np.float32
            assert back[key].shape == arr.shape
            np.testing.assert_array_equal(back[key], arr.astype(np.float32))

        running = store.runs(study, status=RUNNING)
        assert list(zip(running["config"], running["repeat"])) == [("k2", 1)]
        assert running["test_rmse"].isna().all()
        assert len(store.runs(study, status=None)) == 4

    def test_complete_is_all_or_nothing(self, store, study):
        store.claim(study, [("k1", 0, 1), ("k1", 1, 2)], "a")
        bad = result("k1", 1)
        del bad["test_mase"]
        with pytest.raises(ValueError, match="test_mase"):
            store.complete(study, "a", [result("k1", 0), bad])
        with pytest.raises(ValueError, match="curve"):
            store.complete(study, "a", [result("k1", 0)], {("k1", 1): np.zeros(3)})
        with pytest.raises(ValueError, match="nope"):
            store.complete(study, "a", [result("k1", 0), result("nope", 0)])
        assert store.runs(study).empty
        assert store.curves(study) == {}
        assert len(store.runs(study, status=RUNNING)) == 2
        assert store.complete(study, "a", []) == 0

    def test_complete_never_overwrites_done_runs(self, store, study):
        store.claim(study, [("k1", 0, 1)], "a")
        assert store.complete(study, "a", [result("k1", 0, rmse=1.0)], {("k1", 0): np.ones(4)}) == 1
        assert store.complete(study, "b", [result("k1", 0, rmse=9.0)], {("k1", 0): np.zeros(4)}) == 0
        assert store.complete(study, "a", [result("k1", 0, rmse=9.0)]) == 0
        df = store.runs(study)
        assert len(df) == 1 and df["test_rmse"].iloc[0] == 1.0
        np.testing.assert_array_equal(store.curves(study)[("k1", 0)], np.ones(4))

    def test_complete_keeps_results_of_a_lost_claim(self, store, study):
        # a's claims were cleaned up as stale; one was re-claimed by b (still training it)
        store.claim(study, [("k1", 0, 1), ("k1", 1, 2)], "a")
        time.sleep(0.05)
        assert store.cleanup_stale(study, 0.01) == 2
        assert store.claim(study, [("k1", 1, 2)], "b") == [("k1", 1)]
        n = store.complete(study, "a", [result("k1", 0), result("k1", 1)], {("k1", 1): np.ones(2)})
        assert n == 2
        df = store.runs(study)
        assert list(df["repeat"]) == [0, 1]
        assert store.runs(study, status=RUNNING).empty
        assert store.release(study, "b") == 0
        assert store.complete(study, "b", [result("k1", 1, rmse=5.0)]) == 0
        assert store.runs(study)["test_rmse"].iloc[1] == 1.0
        assert list(store.curves(study)) == [("k1", 1)]

    # -- release, heartbeat, stale claims --------------------------------------

    def test_release_only_own_running_rows(self, store, study):
        other = store.open_study("other", "")
        store.add_configs(other, [("k1", PARAMS["k1"])])
        store.claim(study, [("k1", 0, 1), ("k1", 1, 2), ("k1", 2, 3)], "a")
        store.claim(study, [("k2", 0, 1)], "b")
        store.claim(other, [("k1", 0, 1)], "a")
        store.complete(study, "a", [result("k1", 0)])
        assert store.release(study, "a") == 2
        assert store.release(study, "a") == 0
        assert store.release(study, "nobody") == 0
        left = store.runs(study, status=None)
        assert sorted(zip(left["config"], left["repeat"], left["status"])) == [("k1", 0, DONE), ("k2", 0, RUNNING)]
        assert len(store.runs(other, status=RUNNING)) == 1
        # released runs can be claimed again
        assert store.claim(study, [("k1", 1, 2), ("k1", 2, 3)], "c") == [("k1", 1), ("k1", 2)]

    def test_heartbeat_and_cleanup_stale(self, store, study):
        other = store.open_study("other", "")
        store.add_configs(other, [("k1", PARAMS["k1"])])
        store.claim(study, [("k1", 0, 1), ("k1", 1, 2)], "alive")
        store.claim(study, [("k2", 0, 1), ("k2", 1, 2)], "dead")
        store.claim(other, [("k1", 0, 1)], "dead")
        store.complete(study, "dead", [result("k2", 1)])
        time.sleep(0.3)
        assert store.heartbeat("alive") == 2
        assert store.heartbeat("nobody") == 0
        assert store.cleanup_stale(study, 3600) == 0
        assert store.cleanup_stale(study, 0.2) == 1  # dead's running row; not its done row, not the other study
        df = store.runs(study, status=None)
        assert sorted(zip(df["config"], df["repeat"], df["status"])) == [
            ("k1", 0, RUNNING), ("k1", 1, RUNNING), ("k2", 1, DONE)]
        assert len(store.runs(other, status=RUNNING)) == 1
        time.sleep(0.05)
        assert store.cleanup_stale(study, 0.0) == 2
        assert store.cleanup_stale(study, 0.0) == 0
        assert len(store.runs(study)) == 1  # done rows are never stale
        assert store.claim(study, [("k2", 0, 1), ("k1", 0, 1)], "new") == [("k2", 0), ("k1", 0)]

    # -- reading ----------------------------------------------------------------

    def test_runs_of_empty_study(self, store, study):
        df = store.runs(study)
        assert df.empty
        for col in ("config", "repeat", "seed", *METRIC_COLUMNS, "diverged", "diverged_epoch", "status", *PARAMS["k1"]):
            assert col in df.columns
        assert store.curves(study) == {}

    def test_status_counts(self, store, study):
        empty = store.open_study("empty", "")
        assert store.status().set_index("study").loc["empty"].tolist() == [0, 0, 0, 0]
        store.claim(study, [("k1", 0, 1), ("k1", 1, 2), ("k2", 0, 3), ("k2", 1, 4)], "a")
        store.claim(study, [("k3", 0, 5)], "b")
        store.complete(study, "a", [result("k1", 0), result("k1", 1, diverged=True), result("k2", 0, diverged=True)])
        df = store.status()
        assert list(df.columns) == list(STATUS_COLUMNS)
        assert list(df["study"]) == ["empty", "s"]
        row = df.set_index("study").loc["s"]
        assert (row["configs"], row["done"], row["diverged"], row["running"]) == (3, 3, 2, 2)
        assert df.set_index("study").loc["empty"].tolist() == [0, 0, 0, 0]
        assert empty != study

    # -- the database -------------------------------------------------------------

    def test_reopen_keeps_everything(self, store, store_url, study):
        store.claim(study, [("k1", 0, 1), ("k1", 1, 2)], "a")
        store.complete(study, "a", [result("k1", 0)], {("k1", 0): np.eye(3)})
        store.close()
        again = open_store(store_url)
        try:
            assert again.open_study("s", "new") == study
            assert again.spec_toml(study) == "new"
            assert len(again.runs(study)) == 1
            assert len(again.runs(study, status=RUNNING)) == 1
            np.testing.assert_array_equal(again.curves(study)[("k1", 0)], np.eye(3))
        finally:
            again.close()

    def test_refuses_other_schema_version_without_writing(self, store, store_url, study):
        store.claim(study, [("k1", 0, 1), ("k1", 1, 2)], "a")
        store.complete(study, "a", [result("k1", 0)], {("k1", 0): np.ones(3)})
        store.close()
        engine = sa.create_engine(store_url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE lstmtune_meta SET value = '99' WHERE key = 'schema_version'"))
            before = _snapshot(engine)
            with pytest.raises(LstmtuneError) as info:
                open_store(store_url)
            message = str(info.value)
            assert "schema version 99" in message
            assert "version 1" in message
            assert "new database or migrate" in message
            assert _snapshot(engine) == before
        finally:
            engine.dispose()

    # -- concurrency ----------------------------------------------------------------

    def test_concurrent_claimers_in_threads(self, store, store_url, study):
        items = [(k, r, r) for k in PARAMS for r in range(40)]
        batches = {o: _overlapping_batches(items, 20, 10, off, rev) for o, off, rev in (("t1", 0, False), ("t2", 3, True))}
        got, errors = {}, []
        barrier = threading.Barrier(2)

        def work(owner):
            s = open_store(store_url)
            try:
                barrier.wait(timeout=30)
                got[owner] = [kr for b in batches[owner] for kr in s.claim(study, b, owner)]
            except BaseException as err:
                errors.append(err)
            finally:
                s.close()

        threads = [threading.Thread(target=work, args=(o,)) for o in batches]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors
        _assert_each_claimed_once(store, store_url, study, batches, got)

    def test_concurrent_claimers_in_processes(self, store, store_url, study):
        items = [(k, r, 1000 + r) for k in PARAMS for r in range(100)]
        batches = {o: _overlapping_batches(items, 20, 15, off, rev) for o, off, rev in (("p1", 0, False), ("p2", 5, True))}
        ctx = multiprocessing.get_context("spawn")
        barrier, queue = ctx.Barrier(2), ctx.Queue()
        procs = [
            ctx.Process(target=_claim_worker, args=(store_url, study, o, batches[o], barrier, queue)) for o in batches
        ]
        for p in procs:
            p.start()
        try:
            reports = [queue.get(timeout=120) for _ in procs]
        finally:
            for p in procs:
                p.join(30)
                if p.is_alive():
                    p.kill()
        errors = [err for _, _, err in reports if err]
        assert not errors, errors
        got = {owner: claimed for owner, claimed, _ in reports}
        _assert_each_claimed_once(store, store_url, study, batches, got)

    def test_killed_process_loses_only_its_population_in_flight(self, store, store_url, study):
        ctx = multiprocessing.get_context("spawn")
        ready = ctx.Event()
        p = ctx.Process(target=_doomed_worker, args=(store_url, study, ready))
        p.start()
        try:
            assert ready.wait(120), "worker did not get ready"
        finally:
            os.kill(p.pid, signal.SIGKILL)
            p.join(30)
        df = store.runs(study, status=None)
        assert sorted(zip(df["config"], df["repeat"], df["status"])) == [
            ("k1", 0, DONE), ("k1", 1, DONE), ("k2", 0, RUNNING), ("k2", 1, RUNNING)]
        time.sleep(0.05)
        assert store.cleanup_stale(study, 0.01) == 2
        assert store.claim(study, [("k1", 0, 1), ("k2", 0, 3), ("k2", 1, 4)], "next") == [("k2", 0), ("k2", 1)]
        np.testing.assert_array_equal(store.curves(study)[("k1", 0)], np.ones((3, 2)))


def _assert_each_claimed_once(store, store_url, study, batches, got):
    wanted = {(k, r) for bs in batches.values() for b in bs for k, r, _ in b}
    claimed = [kr for owner in got for kr in got[owner]]
    assert len(claimed) == len(set(claimed)), "an item was claimed twice"
    assert set(claimed) == wanted
    df = store.runs(study, status=RUNNING)
    assert len(df) == len(wanted)
    owners = {(k, int(r)): o for o, claimed_ in got.items() for k, r in claimed_}
    assert _owners(store_url, study) == owners
    for owner in got:
        assert got[owner], f"{owner} claimed nothing: no contention was exercised"


def _owners(store_url, study) -> dict:
    """(config, repeat) -> owner of every run row, read with raw SQL (owner is not part of runs())."""
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT config_key, repeat, owner FROM lstmtune_runs WHERE study_id = :s"), {"s": study}
            ).all()
    finally:
        engine.dispose()
    return {(k, int(r)): o for k, r, o in rows}


def _snapshot(engine) -> dict:
    with engine.connect() as conn:
        names = [n for n in sa.inspect(conn).get_table_names() if n.startswith("lstmtune_")]
        out = {n: conn.execute(sa.text(f'SELECT COUNT(*) FROM "{n}"')).scalar() for n in sorted(names)}
        out["schema_version"] = conn.execute(
            sa.text("SELECT value FROM lstmtune_meta WHERE key = 'schema_version'")
        ).scalar()
    return out


class RunningOwnersConformance:
    """``running_owners`` lists exactly the owners of running rows (mixed into StoreConformance users)."""

    def test_running_owners(self, store):
        sid = store.open_study("owners", "x = 1\n")
        store.add_configs(sid, [("aaaaaaaaaaaa", {"units": 1})])
        assert store.running_owners(sid) == []
        store.claim(sid, [("aaaaaaaaaaaa", 0, 1)], owner="host:1:a")
        store.claim(sid, [("aaaaaaaaaaaa", 1, 2)], owner="host:2:b")
        assert store.running_owners(sid) == ["host:1:a", "host:2:b"]
        store.release(sid, "host:1:a")
        assert store.running_owners(sid) == ["host:2:b"]
        other = store.open_study("owners-2", "x = 2\n")
        assert [(i, n) for i, n in store.studies() if n.startswith("owners")] == [(sid, "owners"), (other, "owners-2")]
