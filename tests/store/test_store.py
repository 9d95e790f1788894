"""lstmtune.store: the conformance suite on SQLite (always) and PostgreSQL (when configured),
plus SQLite specifics."""

from __future__ import annotations

import os
import sqlite3

import numpy as np
import pytest
import sqlalchemy as sa

from lstmtune.errors import LstmtuneError
from lstmtune.store import SCHEMA_VERSION, SQLStore, Store, default_url, open_store
from lstmtune.store.schema import metadata
from store_conformance import RunningOwnersConformance, StoreConformance, result

POSTGRES_ENV = "LSTMTUNE_TEST_POSTGRES_URL"


class TestSQLiteStore(StoreConformance, RunningOwnersConformance):
    @pytest.fixture
    def store_url(self, tmp_path):
        return default_url(tmp_path)

    @pytest.fixture
    def store(self, store_url):
        s = SQLStore(store_url)
        yield s
        s.close()


class TestMemoryStore(StoreConformance):
    """In memory: no ``store_url``, so the tests that reopen or share a database do not apply."""

    @pytest.fixture
    def store(self):
        from lstmtune.store import MemoryStore

        s = MemoryStore()
        yield s
        s.close()


class TestPostgresStore(StoreConformance, RunningOwnersConformance):
    """Needs a scratch database: the tests drop the lstmtune_* tables in it."""

    @pytest.fixture
    def store_url(self):
        url = os.environ.get(POSTGRES_ENV)
        if not url:
            pytest.skip(f"{POSTGRES_ENV} is not set (e.g. postgresql+psycopg://user:password@localhost/scratch_db)")
        _drop_tables(url)
        yield url
        _drop_tables(url)

    @pytest.fixture
    def store(self, store_url):
        s = SQLStore(store_url)
        yield s
        s.close()


def _drop_tables(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        metadata.drop_all(engine)
    finally:
        engine.dispose()


# -- SQLite specifics ---------------------------------------------------------------


def test_open_store_and_default_url(tmp_path):
    url = default_url(tmp_path)
    assert url == f"sqlite:///{tmp_path.as_posix()}/study.db"
    with open_store(url) as store:
        assert isinstance(store, Store) and isinstance(store, SQLStore)
        assert store.SCHEMA_VERSION == SCHEMA_VERSION == 1
        store.open_study("s", "")
    assert (tmp_path / "study.db").is_file()


def test_sqlite_is_in_wal_mode_with_schema_version(tmp_path):
    SQLStore(default_url(tmp_path)).close()
    with sqlite3.connect(tmp_path / "study.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT value FROM lstmtune_meta WHERE key = 'schema_version'").fetchone()[0] == "1"
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names == {"lstmtune_meta", "lstmtune_studies", "lstmtune_configs", "lstmtune_runs", "lstmtune_curves"}


def test_refused_database_is_not_touched(tmp_path):
    """A database of another schema version: not even its journal mode changes."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE lstmtune_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO lstmtune_meta VALUES ('schema_version', '2')")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(LstmtuneError, match=r"old\.db has lstmtune schema version 2; this lstmtune reads version 1"):
        open_store(f"sqlite:///{path}")
    assert path.read_bytes() == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} == {"lstmtune_meta"}
    conn.close()


def test_foreign_tables_without_meta_are_refused(tmp_path):
    path = tmp_path / "x.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE lstmtune_runs (id INTEGER PRIMARY KEY)")
    conn.close()
    with pytest.raises(LstmtuneError, match="lstmtune_runs"):
        open_store(f"sqlite:///{path}")


def test_missing_directory_and_bad_url(tmp_path):
    with pytest.raises(LstmtuneError, match="does not exist"):
        open_store(default_url(tmp_path / "nope"))
    with pytest.raises(LstmtuneError, match="not a database URL"):
        open_store("no url at all")
    assert not (tmp_path / "nope").exists()


def test_shares_a_database_with_optuna(tmp_path):
    optuna = pytest.importorskip("optuna")
    url = default_url(tmp_path)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="o", storage=url)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    with open_store(url) as store:
        sid = store.open_study("s", "")
        store.add_configs(sid, [("k1", {"units": 4})])
        store.claim(sid, [("k1", 0, 1)], "a")
        store.complete(sid, "a", [result("k1", 0)], {("k1", 0): np.zeros(2)})
        assert len(store.runs(sid)) == 1
    again = optuna.load_study(study_name="o", storage=url)
    assert len(again.trials) == 2
    with open_store(url) as store:
        assert len(store.runs(sid)) == 1


def test_write_transactions_begin_immediate(tmp_path):
    """SQLite write transactions take the write lock up front (no 'database is locked' on upgrade)."""
    store = SQLStore(default_url(tmp_path))
    statements = []

    @sa.event.listens_for(store._engine, "connect")  # noqa: SLF001
    def trace(dbapi_connection, _record):
        dbapi_connection.set_trace_callback(statements.append)

    store._engine.dispose()  # noqa: SLF001 - reconnect with the trace
    sid = store.open_study("s", "")
    store.runs(sid)
    store.close()
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE", "BEGIN"]


_WRITER = """
import sys
from lstmtune.store import SQLStore
w = SQLStore(sys.argv[1])
w.add_configs(w.open_study("s", "x"), [(f"k{i:06d}", {"units": i, "pad": "p" * 300}) for i in range(2000, 22000)])
w.close()
"""


@pytest.mark.slow  # a writer process
def test_a_read_only_store_reads_what_another_process_writes_meanwhile_and_leaves_no_files(tmp_path):
    # A read-only open once used immutable=1 in a writable folder: a writer's checkpoint then
    # changed pages under it ("database disk image is malformed"), and it kept reading old counts.
    import subprocess
    import sys

    from lstmtune.store.schema import configs_table

    url = default_url(tmp_path)
    w = SQLStore(url)
    w.add_configs(w.open_study("s", "x"), [(f"k{i:06d}", {"units": i, "pad": "p" * 300}) for i in range(2000)])
    w.close()
    listing = sorted(p.name for p in tmp_path.iterdir())
    reader = SQLStore(url, read_only=True)
    with reader._engine.connect() as conn:
        assert conn.execute(sa.select(configs_table.c.key).where(configs_table.c.id == 1500)).scalar() == "k001499"  # pages cached
    subprocess.run([sys.executable, "-c", _WRITER, url], check=True)
    with reader._engine.connect() as conn:
        keys = [k for (k,) in conn.execute(sa.select(configs_table.c.key).order_by(configs_table.c.id))]
        with pytest.raises(sa.exc.OperationalError, match="readonly"):  # and it changes nothing
            conn.execute(sa.text("delete from lstmtune_configs"))
    assert len(keys) == len(set(keys)) == 22000
    reader.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # no study.db-wal / -shm left behind


def test_switching_to_the_write_ahead_log_tries_again_while_another_opener_holds_it():
    """Two processes opening a new SQLite store at once: SQLite answers one "database is locked"
    at once, without waiting on the busy timeout (CI: test_two_processes_share_one_study failed so,
    with a traceback). The switch is tried again within the timeout; past it, the error stands."""
    import sqlite3

    from lstmtune.store.sql import _write_ahead_log

    tries, closed = [], []

    class Raw:
        def cursor(self):
            return self

        def execute(self, sql):
            tries.append(sql)
            if len(tries) < 3:
                raise sqlite3.OperationalError("database is locked")

        def close(self):
            closed.append(1)

    _write_ahead_log(Raw, within_s=5, pause_s=0)
    assert tries == ["PRAGMA journal_mode=WAL"] * 3 and len(closed) >= 3
    tries.clear()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _write_ahead_log(Raw, within_s=0, pause_s=0)
    assert len(tries) == 1
