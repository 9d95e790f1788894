"""The ``manifest.json`` of the model directories ``lstmtune auto`` writes (statistical, direct,
composite): which kind of model a directory holds, and the manifest read and checked once."""

from __future__ import annotations

import json
from pathlib import Path

from lstmtune.errors import LstmtuneError

MANIFEST = "manifest.json"


def kind_of(directory) -> str | None:
    """The ``kind`` its manifest names, or None (no readable manifest)."""
    try:
        return json.loads((Path(directory) / MANIFEST).read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        return None


def read(directory, kind: str, format_version: int, what: str) -> dict:
    """The manifest of a model directory of ``kind`` and ``format_version``.

    Raises:
      LstmtuneError: no readable manifest, or one of another kind or format (``what`` names the expected model).
    """
    directory = Path(directory)
    try:
        m = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError) as err:
        raise LstmtuneError(f"{directory}: not a readable model directory ({err})") from None
    if not isinstance(m, dict) or m.get("kind") != kind or m.get("format_version") != format_version:
        raise LstmtuneError(f"{directory / MANIFEST}: not a {what} of format {format_version}")
    return m


__all__ = ["MANIFEST", "kind_of", "read"]
