"""SQLite specifics: WAL mode is set by the store; here each connection waits for locks
(``busy_timeout``), enforces foreign keys, and starts write transactions with
``BEGIN IMMEDIATE`` so that writers queue instead of failing half-way through."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

_BUSY_TIMEOUT_S = 30


def _writable(path: Path) -> bool:
    """Whether SQLite can write the database file and its -wal/-shm files beside it."""
    parent = path.parent
    return (os.access(path, os.W_OK) if path.exists() else True) and os.access(parent, os.W_OK)


def _configure_pysqlite(engine: sa.Engine, *, query_only: bool = False) -> None:
    """Busy timeout and foreign keys per connection (``query_only``: no change to the database
    allowed); BEGIN IMMEDIATE for writes.

    pysqlite's own transaction handling is switched off (``isolation_level =
    None``) so that SQLAlchemy's "begin" event decides how a transaction
    starts: write transactions (the store's ``_writer`` engine) take the write
    lock at once, so two writers queue on the busy timeout instead of one
    failing when it upgrades a read lock.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA foreign_keys=ON")
        if query_only:
            cur.execute("PRAGMA query_only=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("lstmtune_write") else "BEGIN")


