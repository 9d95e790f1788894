"""A finished study's stamp: rerunning it with nothing changed prints what it printed and stops.

When ``lstmtune run`` finishes a study, it writes :data:`STAMP` into the run directory: a key
and the size and modification time of every file the run left there, with the text the run
printed. The key covers what the outputs depend on: the study's settings, the SHA-256 of
every file they name (the data, covariates), the command's storage and executor, and the size
and modification time of every file of this installed lstmtune (code, templates, built-in
data), and the versions of Python and of the libraries the numbers and figures come from. A rerun whose key and files are all unchanged has nothing to train, recompute or
redraw: it prints the stored text and stops, importing neither JAX nor pandas nor the store.
Anything different (a file of the run touched, removed or added; another setting or data;
another lstmtune) and the study runs as usual and is stamped again.

A study whose runs all diverged (exit 3) is never stamped.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

STAMP = ".lstmtune-finished"
FORMAT = 1


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _named_files(value, found: dict) -> None:
    """Every existing file a setting names, by its path, with its SHA-256."""
    if isinstance(value, dict):
        for v in value.values():
            _named_files(v, found)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _named_files(v, found)
    elif isinstance(value, str) and value and len(value) < 4096 and value not in found:
        try:
            if os.path.isfile(value):
                found[value] = _sha256(value)
        except (OSError, ValueError):
            pass


def _code() -> list:
    """``(path, size, mtime_ns)`` of every file of the installed lstmtune."""
    import lstmtune

    root = Path(lstmtune.__file__).parent
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            st = os.stat(os.path.join(dirpath, name))
            out.append([os.path.relpath(os.path.join(dirpath, name), root), st.st_size, st.st_mtime_ns])
    return out


DEPENDENCIES = ("numpy", "pandas", "scipy", "statsmodels", "statsforecast", "matplotlib", "jax", "jaxlib", "optax", "jinja2", "pyarrow")


def _versions() -> dict:
    """Python's and the dependencies' versions: a baseline or a figure may change with them."""
    import sys
    from importlib import metadata

    out = {"python": sys.version}
    for name in DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def key(settings: dict, options: dict) -> str:
    """The key of a study: its ``settings`` (a JSON-able dump of the study), the files they
    name, the command's ``options``, this lstmtune's files and its dependencies' versions."""
    files: dict = {}
    _named_files(settings, files)
    blob = json.dumps({"format": FORMAT, "settings": settings, "files": files, "options": options, "code": _code(), "versions": _versions()},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _listing(out: Path) -> dict:
    """``relative path -> [size, mtime_ns]`` of every file under ``out`` but the stamp."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(out):
        dirnames.sort()
        for name in filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, out)
            if rel == STAMP:
                continue
            st = os.lstat(path)
            found[rel] = [st.st_size, st.st_mtime_ns]
    return found


def stamp(out, study_key: str, text: str, summary: dict) -> None:
    """Stamp the finished run in ``out`` (written aside, then moved into place)."""
    out = Path(out)
    body = {"format": FORMAT, "key": study_key, "files": _listing(out), "text": text, "summary": summary}
    tmp = out / f".{STAMP}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(body))
    os.replace(tmp, out / STAMP)


def forget(out) -> tuple[bytes, int] | None:
    """Remove the stamp (a run is about to change the directory); returns its bytes and
    modification time, for :func:`put_back` should the run be refused."""
    path = Path(out) / STAMP
    try:
        kept = (path.read_bytes(), path.stat().st_mtime_ns)
        path.unlink()
    except OSError:  # none there (or unreadable: nothing to put back)
        return None
    return kept


def put_back(out, kept: tuple[bytes, int] | None) -> None:
    """The stamp :func:`forget` removed, as it was (a refused run leaves the directory as it found
    it; a stamp whose files changed never replays anyway)."""
    if kept is None:
        return
    path = Path(out) / STAMP
    try:
        tmp = path.with_name(f"{STAMP}.{os.getpid()}.tmp")
        tmp.write_bytes(kept[0])
        os.utime(tmp, ns=(kept[1], kept[1]))
        os.replace(tmp, path)
    except OSError:
        pass


def replay(out, study_key: str) -> dict | None:
    """The stored ``{"text", "summary"}`` of a finished run in ``out`` whose key and files are
    unchanged; None otherwise."""
    path = Path(out) / STAMP
    try:
        body = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict) or body.get("format") != FORMAT or body.get("key") != study_key:
        return None
    if body.get("files") != _listing(Path(out)):
        return None
    return {"text": body.get("text", ""), "summary": body.get("summary", {})}


__all__ = ["STAMP", "forget", "key", "replay", "stamp"]
