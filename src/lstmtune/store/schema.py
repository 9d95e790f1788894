"""The store's SQL schema and how values are laid out in it: the tables (prefixed
``lstmtune_`` so that Optuna's tables can share the database), curves as little-endian
float32 bytes, missing values as NULL, and rows in chunks small enough for any backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from lstmtune.store.base import METRIC_COLUMNS

PREFIX = "lstmtune_"
_CHUNK = 200  # rows per multi-row statement (SQLite allows 32766 bound parameters)

metadata = sa.MetaData()

meta_table = sa.Table(
    f"{PREFIX}meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

studies_table = sa.Table(
    f"{PREFIX}studies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("spec_toml", sa.Text, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
)

configs_table = sa.Table(
    f"{PREFIX}configs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("study_id", sa.Integer, sa.ForeignKey(studies_table.c.id, ondelete="CASCADE"), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("params", sa.Text, nullable=False),  # JSON, in the configuration's field order
    sa.UniqueConstraint("study_id", "key", name=f"uq_{PREFIX}configs_study_key"),
)

runs_table = sa.Table(
    f"{PREFIX}runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("study_id", sa.Integer, nullable=False),
    sa.Column("config_key", sa.String(64), nullable=False),
    sa.Column("repeat", sa.Integer, nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("owner", sa.String(255), nullable=False),
    sa.Column("claimed_at", sa.Double, nullable=False),
    sa.Column("heartbeat_at", sa.Double, nullable=False),
    sa.Column("finished_at", sa.Double),
    sa.Column("train_seconds", sa.Double),
    *(sa.Column(m, sa.Double) for m in METRIC_COLUMNS),
    sa.Column("diverged", sa.Boolean),
    sa.Column("diverged_epoch", sa.Integer),
    sa.UniqueConstraint("study_id", "config_key", "repeat", name=f"uq_{PREFIX}runs_run"),
    sa.ForeignKeyConstraint(
        ["study_id", "config_key"],
        [configs_table.c.study_id, configs_table.c.key],
        name=f"fk_{PREFIX}runs_config",
        ondelete="CASCADE",
    ),
    sa.Index(f"ix_{PREFIX}runs_owner_status", "owner", "status"),
    sa.Index(f"ix_{PREFIX}runs_study_status", "study_id", "status"),
)

curves_table = sa.Table(
    f"{PREFIX}curves",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey(runs_table.c.id, ondelete="CASCADE"), primary_key=True),
    sa.Column("shape", sa.String(64), nullable=False),  # comma-separated dimensions
    sa.Column("dtype", sa.String(16), nullable=False),  # numpy dtype string, e.g. "<f4"
    sa.Column("data", sa.LargeBinary, nullable=False),  # the array's C-order bytes
)

TABLES = tuple(t.name for t in metadata.sorted_tables)
_CURVE_DTYPE = np.dtype("<f4")


def _chunks(seq: Sequence, n: int = _CHUNK):
    seq = list(seq)
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _missing(x: Any) -> bool:
    """None, NaN, pd.NA or NaT (arrays and other non-scalars are not missing)."""
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _float_or_none(x: Any) -> float | None:
    return None if _missing(x) else float(x)


def _int_or_none(x: Any) -> int | None:
    return None if _missing(x) else int(x)


def _encode(arr: np.ndarray) -> dict[str, Any]:
    a = np.ascontiguousarray(np.asarray(arr, dtype=_CURVE_DTYPE))
    return {"shape": ",".join(str(d) for d in a.shape), "dtype": a.dtype.str, "data": a.tobytes()}


def _decode(shape: str, dtype: str, data: bytes) -> np.ndarray:
    dims = tuple(int(d) for d in shape.split(",")) if shape else ()
    return np.frombuffer(data, dtype=np.dtype(dtype)).reshape(dims).copy()
