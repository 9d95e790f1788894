"""Durable, concurrency-safe storage of study runs (see :class:`Store`).

Usage::

    from lstmtune.store import open_store, default_url

    with open_store(default_url(run_dir)) as store:
        sid = store.open_study(name, spec_toml)
        store.add_configs(sid, [(c.key, c.params()) for c in plan.configs])
        store.cleanup_stale(sid, max_age_s=600)
        mine = store.claim(sid, [(key, repeat, seed), ...], owner)
        ...train...
        store.complete(sid, owner, rows, curves)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lstmtune.store.base import Store

# Each name is imported from its module when first used, so that ``lstmtune.store.fileio``
# alone (the figures' atomic writes) does not import SQLAlchemy and pandas.
_WHERE = {
    "DONE": "base", "METRIC_COLUMNS": "base", "RUNNING": "base", "SCHEMA_VERSION": "base", "STATUS_COLUMNS": "base", "Store": "base",
    "MemoryStore": "memory", "SQLStore": "sql", "default_url": "sql",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"lstmtune.store.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'lstmtune.store' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})


def open_store(url: str, *, read_only: bool = False) -> Store:
    """Open (creating if new) the store at a SQLAlchemy URL.

    Args:
      url: a SQLAlchemy URL.
      read_only: only read (``lstmtune status``): an SQLite file is opened without
        creating or locking anything, so a read-only run directory can be inspected.

    Raises:
      LstmtuneError: the database cannot be opened, is read-only when writing is
        needed, is corrupt, or holds another schema version.
    """
    from lstmtune.store.sql import SQLStore

    return SQLStore(url, read_only=read_only)


__all__ = [
    "MemoryStore",
    "DONE",
    "METRIC_COLUMNS",
    "RUNNING",
    "SCHEMA_VERSION",
    "STATUS_COLUMNS",
    "SQLStore",
    "Store",
    "default_url",
    "open_store",
]
