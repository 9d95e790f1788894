"""What the study report and the search report share: the Jinja environment (one base
template, ``templates/base.html``, that both pages extend) and image inlining."""

from __future__ import annotations

import base64
from pathlib import Path

import jinja2


def environment() -> jinja2.Environment:
    """The templates of ``lstmtune/report/templates`` (HTML autoescaped)."""
    return jinja2.Environment(loader=jinja2.PackageLoader("lstmtune.report", "templates"), autoescape=True)


def inline(plots: Path, name: str | None) -> str | None:
    """A PNG of ``plots`` as a data URI (the reports are single files), or None."""
    if name is None:
        return None
    return "data:image/png;base64," + base64.b64encode((Path(plots) / name).read_bytes()).decode()
