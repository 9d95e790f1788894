"""The ``manifest.json`` of the model directories ``lstmtune auto`` writes (statistical, direct,
composite): which kind of model a directory holds, and the manifest read and checked once."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from lstmtune.errors import LstmtuneError

MANIFEST = "manifest.json"


def kind_of(directory) -> str | None:
    """The ``kind`` its manifest names, or None (no readable manifest)."""
    try:
        return json.loads((Path(directory) / MANIFEST).read_text()).get("kind")
    except (OSError, ValueError, AttributeError, TypeError):  # TypeError: not a path (None), refused by the loader
        return None


def content_hash(manifest: dict) -> str:
    """SHA-256 of a manifest's content without its ``checksum`` field (keys sorted)."""
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def read(directory, kind: str, format_version: int | tuple[int, ...], what: str) -> dict:
    """The manifest of a model directory of ``kind`` and ``format_version`` (one of them, if several).

    Raises:
      LstmtuneError: no readable manifest, or one of another kind or format (``what`` names the expected model).
    """
    versions = format_version if isinstance(format_version, tuple) else (format_version,)
    directory = Path(directory)
    try:
        m = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError) as err:
        raise LstmtuneError(f"{directory}: not a readable model directory ({err})") from None
    version = m.get("format_version") if isinstance(m, dict) else None
    if not isinstance(m, dict) or m.get("kind") != kind or isinstance(version, bool) or version not in versions:
        raise LstmtuneError(f"{directory / MANIFEST}: not a {what} of format {' or '.join(map(str, versions))}")
    return m


__all__ = ["MANIFEST", "content_hash", "kind_of", "read"]
