"""A store in this process's memory: the same contract, nothing written to disk.

:class:`MemoryStore` is :class:`~lstmtune.store.sql.SQLStore` on an in-memory
SQLite database: one connection shared by this process's threads (the executor's
heartbeat thread among them), each call made under a lock. It passes the store
conformance suite (``tests/test_store.py``) except the tests that reopen a database
or share it with other processes, which an in-memory database cannot do. It is
what :func:`lstmtune.study.executor.execute` uses when no store is given (searches'
diagnostic reruns, the Python API, tests).
"""

from __future__ import annotations

import functools
import threading

from lstmtune.store.sql import SQLStore

_PUBLIC = (
    "open_study", "spec_toml", "add_configs", "claim", "complete", "release", "heartbeat",
    "cleanup_stale", "studies", "running_owners", "runs", "curves", "status",
)


class MemoryStore(SQLStore):
    """Results kept in memory for the life of this object (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        super().__init__("sqlite://")


def _locked(method):
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return call


for _name in _PUBLIC:
    setattr(MemoryStore, _name, _locked(getattr(SQLStore, _name)))
