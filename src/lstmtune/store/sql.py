"""A :class:`~lstmtune.store.base.Store` on any SQL database SQLAlchemy speaks.

SQLite (one file next to the study's results, the default) and PostgreSQL (for
several hosts) are the tested backends. Tables are prefixed ``lstmtune_`` so
that Optuna's tables can live in the same database.

SQLite specifics: the database runs in WAL mode (readers never block the
writer), every connection waits up to 30 s for a lock (``busy_timeout``), and
write transactions start with ``BEGIN IMMEDIATE``, so they take the write lock
up front and queue behind one another instead of failing with "database is
locked" half-way through.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from lstmtune.errors import LstmtuneError
from lstmtune.store.base import DONE, METRIC_COLUMNS, RUNNING, SCHEMA_VERSION, STATUS_COLUMNS, Store
from lstmtune.store.schema import (
    TABLES, configs_table, curves_table, meta_table, metadata, runs_table, studies_table, _chunks, _decode, _encode,
    _float_or_none, _int_or_none,
)
from lstmtune.store.sqlite import _BUSY_TIMEOUT_S, _configure_pysqlite, _writable


def default_url(run_dir: Path | str) -> str:
    """The default store of a run directory: ``sqlite:///<run_dir>/study.db``."""
    return f"sqlite:///{(Path(run_dir) / 'study.db').as_posix()}"


def _write_ahead_log(connect, within_s: float, pause_s: float = 0.05) -> None:
    """Switch a SQLite file to write-ahead logging (``connect()``: a new driver connection).

    Two processes opening a new store at once can both hold a read lock while each asks for the
    write lock the switch needs; SQLite then answers one "database is locked" at once, without
    waiting on the busy timeout (it would deadlock). That one tries again, for up to ``within_s``
    seconds (CI: two processes sharing one study failed here, with a traceback)."""
    deadline = time.monotonic() + within_s
    while True:
        raw = connect()
        try:
            cur = raw.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
            return
        except Exception as err:  # noqa: BLE001 - the driver's OperationalError
            if "locked" not in str(err) or time.monotonic() >= deadline:
                raise
        finally:
            raw.close()
        time.sleep(pause_s)


class SQLStore(Store):
    """A store in the database at a SQLAlchemy URL.

    Opening creates the tables in a new database and records the schema
    version. A database written by another schema version is refused, and
    left untouched.

    Args:
      url: e.g. ``sqlite:///runs/x/study.db`` or
        ``postgresql+psycopg://user:password@host/db``.

    Raises:
      LstmtuneError: the database cannot be opened, or it holds another
        lstmtune schema version.
    """

    def __init__(self, url: str, *, read_only: bool = False):
        self.read_only = read_only
        try:
            self._url = sa.engine.make_url(url)
        except sa.exc.ArgumentError as err:
            raise LstmtuneError(f"{url!r} is not a database URL: {err}") from None
        self.url = self._url.render_as_string(hide_password=True)
        self._sqlite = self._url.get_backend_name() == "sqlite"
        self._sqlite_file = self._sqlite and self._url.database not in (None, "", ":memory:") and not str(
            self._url.database
        ).startswith("file:")
        connect_args = {"timeout": _BUSY_TIMEOUT_S} if self._sqlite else {}
        query_only = False
        if self._sqlite_file:
            path = Path(self._url.database)
            parent = path.parent
            if not parent.is_dir():
                raise LstmtuneError(f"database {self.url}: directory {parent} does not exist")
            if path.exists() and not path.is_file():
                raise LstmtuneError(f"database {self.url}: {path} is not a regular file")
            writable = _writable(path)
            if read_only:
                if not path.is_file():
                    raise LstmtuneError(f"database {self.url}: no such file")
                if not writable:
                    # A folder SQLite cannot write to: read as immutable, without -wal/-shm files or locks.
                    ro = f"file:{path.resolve().as_posix()}?mode=ro&immutable=1&uri=true"
                    self._url = sa.engine.make_url(f"sqlite:///{ro}")
                else:
                    # An ordinary connection that refuses to change anything (query_only, set on
                    # connect below): it takes WAL read locks, so a process writing meanwhile is
                    # read consistently, and the last connection to close checkpoints and removes
                    # the -wal and -shm files (a mode=ro connection cannot, and left them behind;
                    # an immutable one read stale pages while another process wrote).
                    query_only = True
            elif not writable:
                raise LstmtuneError(f"database {self.url}: {path if path.exists() else parent} is read-only; lstmtune needs to write its results there")
        try:
            if self._sqlite and self._url.database in (None, "", ":memory:"):
                # In memory: one database per connection, so one connection, shared by threads.
                from sqlalchemy.pool import StaticPool

                self._engine = sa.create_engine(self._url, connect_args={**connect_args, "check_same_thread": False}, poolclass=StaticPool)
            else:
                self._engine = sa.create_engine(self._url, connect_args=connect_args)
        except (ImportError, sa.exc.ArgumentError) as err:
            raise LstmtuneError(f"cannot open database {self.url}: {' '.join(str(err).split())}") from None
        if self._sqlite and self._url.get_driver_name() == "pysqlite":
            _configure_pysqlite(self._engine, query_only=query_only)
        self._writer = self._engine.execution_options(lstmtune_write=True)
        try:
            self._open()
        except LstmtuneError:
            self._engine.dispose()
            raise
        except sa.exc.DatabaseError as err:  # locked, read-only, corrupt or truncated, not a database
            self._engine.dispose()
            raise LstmtuneError(f"cannot open database {self.url}: {' '.join(str(err.orig).split())}") from None
        except BaseException:
            self._engine.dispose()
            raise

    # -- opening -----------------------------------------------------------

    def _open(self) -> None:
        with self._engine.connect() as conn:
            present = self._check_version(conn)
        if self.read_only:
            if not present:
                raise LstmtuneError(f"database {self.url} holds no lstmtune results")
            return
        if self._sqlite_file:
            # Persistent in the file; a no-op once set. Outside any transaction.
            try:
                _write_ahead_log(self._engine.raw_connection, _BUSY_TIMEOUT_S)
            except Exception as err:  # noqa: BLE001 - the driver's own error, raised past SQLAlchemy: one line
                raise LstmtuneError(f"cannot open database {self.url}: {' '.join(str(err).split())}") from None
        if present:
            return
        with self._writer.begin() as conn:
            if self._url.get_backend_name() == "postgresql":
                # Serialise concurrent creators of a new database.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7355608)"))
            if self._check_version(conn):
                return
            metadata.create_all(conn, checkfirst=True)
            conn.execute(sa.insert(meta_table).values(key="schema_version", value=str(SCHEMA_VERSION)))

    def _check_version(self, conn: sa.Connection) -> bool:
        """True if the schema is present and of our version; raise if of another; False if absent."""
        names = set(sa.inspect(conn).get_table_names())
        if meta_table.name not in names:
            ours = sorted(names & set(TABLES))
            if ours:
                raise LstmtuneError(
                    f"database {self.url} has lstmtune tables ({', '.join(ours)}) but no {meta_table.name} table; "
                    "it was not written by this lstmtune: use a new database"
                )
            return False
        value = conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")).scalar()
        if value is None:
            raise LstmtuneError(
                f"database {self.url} has a {meta_table.name} table without a schema_version; use a new database"
            )
        if value.strip() != str(SCHEMA_VERSION):
            raise LstmtuneError(
                f"database {self.url} has lstmtune schema version {value}; this lstmtune reads version "
                f"{SCHEMA_VERSION}; use a new database or migrate"
            )
        missing = [t for t in TABLES if t not in names]
        if missing:
            raise LstmtuneError(f"database {self.url} lacks lstmtune tables {', '.join(missing)}; use a new database")
        return True

    # -- writing -----------------------------------------------------------

    def open_study(self, name: str, spec_toml: str) -> int:
        t = studies_table
        now = time.time()
        with self._writer.begin() as conn:
            for _ in range(2):
                row = conn.execute(sa.select(t.c.id, t.c.spec_toml).where(t.c.name == name)).first()
                if row is not None:
                    if row.spec_toml != spec_toml:
                        conn.execute(sa.update(t).where(t.c.id == row.id).values(spec_toml=spec_toml, updated_at=now))
                    return int(row.id)
                try:
                    with conn.begin_nested():
                        res = conn.execute(
                            sa.insert(t).values(name=name, spec_toml=spec_toml, created_at=now, updated_at=now)
                        )
                    return int(res.inserted_primary_key[0])
                except sa.exc.IntegrityError:
                    continue  # created concurrently: read it back
        raise RuntimeError(f"could not create or find study {name!r}")  # pragma: no cover

    def spec_toml(self, study_id: int) -> str:
        t = studies_table
        with self._engine.connect() as conn:
            text = conn.execute(sa.select(t.c.spec_toml).where(t.c.id == study_id)).scalar()
        if text is None:
            raise KeyError(f"no study with id {study_id} in {self.url}")
        return text

    def studies(self) -> list[tuple[int, str]]:
        t = studies_table
        with self._engine.connect() as conn:
            return [(int(i), n) for i, n in conn.execute(sa.select(t.c.id, t.c.name).order_by(t.c.id))]

    def add_configs(self, study_id: int, configs: Sequence[tuple[str, dict[str, Any]]]) -> None:
        rows = {}
        for key, params in configs:
            rows.setdefault(str(key), {"study_id": study_id, "key": str(key), "params": json.dumps(params)})
        if not rows:
            return
        ordered = list(rows.values())  # keep the caller's order: it is the order of runs()
        with self._writer.begin() as conn:
            self._insert_ignore(conn, configs_table, ordered, ("study_id", "key"))

    def claim(self, study_id: int, items: Sequence[tuple[str, int, int]], owner: str) -> list[tuple[str, int]]:
        now = time.time()
        wanted: dict[tuple[str, int], int] = {}
        for key, repeat, seed in items:
            wanted.setdefault((str(key), int(repeat)), int(seed))
        if not wanted:
            return []
        # A fixed order over all claimers: concurrent overlapping inserts cannot deadlock (PostgreSQL).
        rows = [
            {
                "study_id": study_id,
                "config_key": k,
                "repeat": r,
                "seed": seed,
                "status": RUNNING,
                "owner": owner,
                "claimed_at": now,
                "heartbeat_at": now,
            }
            for (k, r), seed in sorted(wanted.items())
        ]
        try:
            with self._writer.begin() as conn:
                got = self._insert_ignore(conn, runs_table, rows, ("study_id", "config_key", "repeat"))
        except sa.exc.IntegrityError:
            missing = self._missing_configs(study_id, {k for k, _ in wanted})
            if missing:
                raise ValueError(
                    f"claim: configurations {', '.join(sorted(missing))} were not added to study {study_id} "
                    "(add_configs first)"
                ) from None
            raise
        return [kr for kr in wanted if (study_id, *kr) in got]

    def complete(
        self,
        study_id: int,
        owner: str,
        results: Sequence[Mapping[str, Any]],
        curves: Mapping[tuple[str, int], np.ndarray] | None = None,
    ) -> int:
        recs: dict[tuple[str, int], dict[str, Any]] = {}
        for r in results:
            missing = [k for k in ("config", "repeat", "seed", *METRIC_COLUMNS, "diverged") if k not in r]
            if missing:
                raise ValueError(f"complete: a result lacks {', '.join(missing)}: {dict(r)!r}")
            key = (str(r["config"]), int(r["repeat"]))
            recs[key] = {
                "seed": int(r["seed"]),
                **{m: _float_or_none(r[m]) for m in METRIC_COLUMNS},
                "train_seconds": _float_or_none(r.get("train_seconds")),
                "diverged": bool(r["diverged"]),
                "diverged_epoch": _int_or_none(r.get("diverged_epoch")),
            }
        blobs = {}
        for key, arr in (curves or {}).items():
            key = (str(key[0]), int(key[1]))
            if key not in recs:
                raise ValueError(f"complete: curve for {key} but no result for that run")
            blobs[key] = _encode(arr)
        if not recs:
            return 0
        now = time.time()
        t = runs_table

        def done_values(key):
            return {"status": DONE, "owner": owner, "finished_at": now, **{k: v for k, v in recs[key].items() if k != "seed"}}

        recorded: dict[tuple[str, int], int] = {}  # run -> run id
        with self._writer.begin() as conn:
            existing = self._locked_rows(conn, study_id, recs)
            updates, inserts = [], []
            for key in recs:
                row = existing.get(key)
                if row is None:
                    inserts.append(key)
                elif row.status != DONE:  # ours, or re-claimed by another owner after we went stale
                    updates.append((row.id, key))
            if updates:
                stmt = sa.update(t).where(t.c.id == sa.bindparam("b_id")).values(
                    {c: sa.bindparam(f"b_{c}") for c in done_values(updates[0][1])}
                )
                conn.execute(stmt, [{"b_id": i, **{f"b_{c}": v for c, v in done_values(k).items()}} for i, k in updates])
                recorded.update((k, i) for i, k in updates)
            for key in inserts:  # claim lost (cleaned up as stale): record it anyway
                values = {"study_id": study_id, "config_key": key[0], "repeat": key[1], "seed": recs[key]["seed"],
                          "claimed_at": now, "heartbeat_at": now, **done_values(key)}
                try:
                    with conn.begin_nested():
                        res = conn.execute(sa.insert(t).values(values))
                    recorded[key] = int(res.inserted_primary_key[0])
                    continue
                except sa.exc.IntegrityError:
                    pass
                row = self._locked_rows(conn, study_id, {key: None}).get(key)
                if row is None:
                    raise ValueError(
                        f"complete: configuration {key[0]} was not added to study {study_id} (add_configs first)"
                    )
                if row.status != DONE:
                    conn.execute(sa.update(t).where(t.c.id == row.id).values(done_values(key)))
                    recorded[key] = int(row.id)
            stored = [{"run_id": recorded[k], **blob} for k, blob in blobs.items() if k in recorded]
            if stored:
                ids = [b["run_id"] for b in stored]
                for chunk in _chunks(ids):
                    conn.execute(sa.delete(curves_table).where(curves_table.c.run_id.in_(chunk)))
                conn.execute(sa.insert(curves_table), stored)
        return len(recorded)

    def release(self, study_id: int, owner: str) -> int:
        t = runs_table
        with self._writer.begin() as conn:
            res = conn.execute(
                sa.delete(t).where(t.c.study_id == study_id, t.c.owner == owner, t.c.status == RUNNING)
            )
            return int(res.rowcount)

    def heartbeat(self, owner: str) -> int:
        t = runs_table
        with self._writer.begin() as conn:
            res = conn.execute(
                sa.update(t).where(t.c.owner == owner, t.c.status == RUNNING).values(heartbeat_at=time.time())
            )
            return int(res.rowcount)

    def cleanup_stale(self, study_id: int, max_age_s: float) -> int:
        t = runs_table
        cutoff = time.time() - float(max_age_s)
        with self._writer.begin() as conn:
            res = conn.execute(
                sa.delete(t).where(t.c.study_id == study_id, t.c.status == RUNNING, t.c.heartbeat_at < cutoff)
            )
            return int(res.rowcount)

    # -- reading -----------------------------------------------------------

    def running_owners(self, study_id: int) -> list[str]:
        t = runs_table
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.c.owner).where(t.c.study_id == study_id, t.c.status == RUNNING).distinct().order_by(t.c.owner)
            )
            return [r[0] for r in rows]

    def runs(self, study_id: int, status: str | None = DONE) -> pd.DataFrame:
        r, c = runs_table, configs_table
        with self._engine.connect() as conn:
            cfgs = conn.execute(
                sa.select(c.c.key, c.c.params).where(c.c.study_id == study_id).order_by(c.c.id)
            ).all()
            q = (
                sa.select(r, c.c.id.label("config_order"))
                .join(c, sa.and_(c.c.study_id == r.c.study_id, c.c.key == r.c.config_key))
                .where(r.c.study_id == study_id)
                .order_by(c.c.id, r.c.repeat)
            )
            if status is not None:
                q = q.where(r.c.status == status)
            found = conn.execute(q).all()
        params = {key: json.loads(text) for key, text in cfgs}
        param_names = list(dict.fromkeys(name for p in params.values() for name in p))
        tail = ["repeat", "seed", *METRIC_COLUMNS, "diverged", "diverged_epoch", "status", "train_seconds"]
        records = [
            {
                "config": row.config_key,
                **params[row.config_key],
                "repeat": row.repeat,
                "seed": row.seed,
                **{m: getattr(row, m) for m in METRIC_COLUMNS},
                "diverged": row.diverged,
                "diverged_epoch": row.diverged_epoch,
                "status": row.status,
                "train_seconds": row.train_seconds,
            }
            for row in found
        ]
        df = pd.DataFrame.from_records(records, columns=["config", *param_names, *tail])
        for col in (*METRIC_COLUMNS, "train_seconds"):
            df[col] = df[col].astype(float)
        df["repeat"] = df["repeat"].astype("int64")
        df["seed"] = df["seed"].astype("int64")
        df["diverged"] = df["diverged"].astype("boolean")
        if not df["diverged"].isna().any():
            df["diverged"] = df["diverged"].astype(bool)
        df["diverged_epoch"] = df["diverged_epoch"].astype("Int64")
        return df

    def curves(self, study_id: int) -> dict[tuple[str, int], np.ndarray]:
        r, cv = runs_table, curves_table
        q = (
            sa.select(r.c.config_key, r.c.repeat, cv.c.shape, cv.c.dtype, cv.c.data)
            .join(cv, cv.c.run_id == r.c.id)
            .where(r.c.study_id == study_id)
            .order_by(r.c.id)
        )
        with self._engine.connect() as conn:
            return {(row.config_key, int(row.repeat)): _decode(row.shape, row.dtype, row.data) for row in conn.execute(q)}

    def status(self) -> pd.DataFrame:
        s, r = studies_table, runs_table
        is_done = r.c.status == DONE

        def count(cond):
            return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)

        q = (
            sa.select(
                s.c.name.label("study"),
                sa.func.count(sa.distinct(r.c.config_key)).label("configs"),
                count(is_done).label("done"),
                count(sa.and_(is_done, r.c.diverged.is_(True))).label("diverged"),
                count(r.c.status == RUNNING).label("running"),
            )
            .select_from(s.outerjoin(r, r.c.study_id == s.c.id))
            .group_by(s.c.id, s.c.name)
            .order_by(s.c.name)
        )
        with self._engine.connect() as conn:
            rows = [tuple(row) for row in conn.execute(q)]
        df = pd.DataFrame.from_records(rows, columns=list(STATUS_COLUMNS))
        for col in STATUS_COLUMNS[1:]:
            df[col] = df[col].astype("int64")
        return df

    def close(self) -> None:
        """Close the store. A SQLite file's write-ahead log is first copied into the file
        (``wal_checkpoint(TRUNCATE)``): another connection still open in this process (Optuna's
        storage, in a search) kept SQLite from doing so when the last one closed, so ``study.db``
        alone held nothing of a finished search until a later command opened it."""
        if self._sqlite_file and not self.read_only:
            try:
                raw = self._engine.raw_connection()
                try:
                    raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    raw.close()
            except Exception:  # noqa: BLE001 - a busy or vanished file: SQLite checkpoints it later
                pass
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"SQLStore({self.url!r})"

    # -- helpers -----------------------------------------------------------

    def _insert_ignore(
        self, conn: sa.Connection, table: sa.Table, rows: list[dict], unique: tuple[str, ...]
    ) -> set[tuple]:
        """Insert rows, skipping those whose ``unique`` columns already exist; return the inserted unique tuples."""
        cols = [table.c[u] for u in unique]
        name = conn.dialect.name
        if name in ("sqlite", "postgresql") and conn.dialect.insert_returning:
            insert = sqlite_dialect.insert if name == "sqlite" else pg_dialect.insert
            got: set[tuple] = set()
            for chunk in _chunks(rows):
                stmt = insert(table).values(chunk).on_conflict_do_nothing(index_elements=cols).returning(*cols)
                got.update(tuple(row) for row in conn.execute(stmt))
            return got
        # Any other database: one savepoint per row.
        got = set()
        for row in rows:
            try:
                with conn.begin_nested():
                    conn.execute(sa.insert(table).values(row))
                got.add(tuple(row[u] for u in unique))
            except sa.exc.IntegrityError:
                exists = conn.execute(
                    sa.select(sa.literal(1)).where(*(table.c[u] == row[u] for u in unique))
                ).first()
                if exists is None:
                    raise
        return got

    def _locked_rows(self, conn: sa.Connection, study_id: int, keys: Iterable[tuple[str, int]]) -> dict:
        """Rows of the given runs, locked until the transaction ends (where the database locks rows)."""
        t = runs_table
        keys = set(keys)
        out = {}
        for chunk in _chunks(sorted({k for k, _ in keys})):
            q = (
                sa.select(t.c.id, t.c.config_key, t.c.repeat, t.c.status, t.c.owner)
                .where(t.c.study_id == study_id, t.c.config_key.in_(chunk))
                .order_by(t.c.id)
                .with_for_update()
            )
            for row in conn.execute(q):
                if (row.config_key, row.repeat) in keys:
                    out[(row.config_key, row.repeat)] = row
        return out

    def _missing_configs(self, study_id: int, keys: set[str]) -> set[str]:
        c = configs_table
        found = set()
        with self._engine.connect() as conn:
            for chunk in _chunks(sorted(keys)):
                found.update(conn.execute(sa.select(c.c.key).where(c.c.study_id == study_id, c.c.key.in_(chunk))).scalars())
        return keys - found
