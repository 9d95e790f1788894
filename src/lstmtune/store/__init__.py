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

from lstmtune.store.base import DONE, METRIC_COLUMNS, RUNNING, SCHEMA_VERSION, STATUS_COLUMNS, Store
from lstmtune.store.sql import SQLStore, default_url


def open_store(url: str) -> Store:
    """Open (creating if new) the store at a SQLAlchemy URL.

    Raises:
      LstmtuneError: the database cannot be opened or holds another schema version.
    """
    return SQLStore(url)


__all__ = [
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
