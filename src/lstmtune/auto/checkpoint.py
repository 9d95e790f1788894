"""Per-series checkpoints of an ``auto`` run, so an interrupted panel resumes where it stopped.

Each finished series (forecast, skipped or on a fallback) is written to its own folder as
soon as its chunk is done: its forecast, leaderboard rows and backtests (parquet: exact
floats and types), its verdict, its model directory, and the key it was computed under (a
SHA-256 of the series' dates and values, every setting that shapes its result, lstmtune's
source and its libraries' versions). The command keeps a finished run's checkpoint in its output directory
(:data:`lstmtune.auto.output.STORE`), so a later run into it recomputes only what changed. A rerun
with the same data and settings reads a series back instead of computing it when its key
matches; any other key is computed afresh. Folders are written aside and moved into place
whole, so a kill leaves no half-written series.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import pandas as pd

from lstmtune.errors import LstmtuneError

TABLES = ("forecast", "board", "backtest")
READING = 1
"""The version of the rules that read a series (its frequency and season): part of every key, so
that a checkpoint written under other rules is computed again (raise it when they change)."""


def series_key(frame: pd.DataFrame, settings: dict) -> str:
    """The SHA-256 of a series (its dates and values) and the settings that shape its result."""
    h = hashlib.sha256()
    h.update(pd.util.hash_pandas_object(frame[["ds", "y"]].reset_index(drop=True), index=False).to_numpy().tobytes())
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return h.hexdigest()


def panel_key(panel: pd.DataFrame) -> str:
    """The SHA-256 of a whole panel (``unique_id``, ``ds``, ``y``, in its rows' order): what a series'
    result depends on when global networks learn from every series (renaming a series changes
    the order they see them in)."""
    h = hashlib.sha256()
    frame = panel[["unique_id", "ds", "y"]].astype({"unique_id": str}).reset_index(drop=True)
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


#: JAX's accelerator plugins: installed, they move the networks onto a GPU (other bits than a CPU's)
PLUGINS = ("jax-cuda12-plugin", "jax-cuda13-plugin", "jax-rocm60-plugin", "jax-rocm7-plugin", "libtpu")


def library_versions() -> dict:
    """The versions of the libraries a series' result comes from, and what decides the machine
    its networks run on (the processor's architecture, JAX's accelerator plugins and
    ``$JAX_PLATFORMS``; no import needed): part of every key, so that a store kept across an
    upgrade of one of them, or moved between a GPU machine and a CPU one, is computed again."""
    import os

    return {**_installed(), "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "")}


@functools.cache
def _installed() -> dict:
    import platform
    from importlib import metadata

    out = {}
    for name in ("jax", "jaxlib", "optax", "numpy", "pandas", "scipy", "statsmodels", "statsforecast", *PLUGINS):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    out["machine"] = platform.machine()
    return out


def folder_name(uid: str) -> str:
    """The name of series ``uid``'s folder in a checkpoint."""
    return hashlib.sha256(str(uid).encode()).hexdigest()[:24]


def _folder(root: Path, uid: str) -> Path:
    return root / folder_name(uid)


@functools.cache
def code_digest() -> str:
    """The SHA-256 of lstmtune's own source: part of every key, so that a series stored by other
    code (an output directory kept across an upgrade) is computed again."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def read(root, uid: str, key: str) -> dict | None:
    """The slot stored for series ``uid`` under ``key``, or None (absent, another key, unreadable)."""
    from lstmtune.forecast.composite import load_any

    folder = _folder(Path(root), uid)
    try:
        meta = json.loads((folder / "slot.json").read_text())
    except (OSError, ValueError):
        return None
    if meta.get("key") != key or meta.get("unique_id") != str(uid):
        return None
    try:
        slot = {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES if (folder / f"{name}.parquet").exists()}
        slot["verdict"] = meta["verdict"]
        if (folder / "model").is_dir():
            slot["model"] = load_any(folder / "model")
    except (OSError, ValueError, KeyError, LstmtuneError):
        return None
    return slot


def write(root, uid: str, key: str, slot: dict) -> None:
    """Store a finished series' slot (written aside, moved into place whole)."""
    from lstmtune.store.fileio import atomic_dir

    folder = _folder(Path(root), uid)
    with atomic_dir(folder) as tmp:
        for name in TABLES:
            if slot.get(name) is not None:
                slot[name].to_parquet(tmp / f"{name}.parquet", index=False)
        if slot.get("model") is not None:
            slot["model"].save(tmp / "model")
        (tmp / "slot.json").write_text(json.dumps({"unique_id": str(uid), "key": key, "verdict": slot.get("verdict", "")}))


__all__ = ["READING", "code_digest", "folder_name", "library_versions", "panel_key", "read", "series_key", "write"]
