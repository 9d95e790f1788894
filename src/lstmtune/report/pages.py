"""What the study report and the search report share: the Jinja environment (one base
template, ``templates/base.html``, that both pages extend) and image inlining."""

from __future__ import annotations

import base64
from pathlib import Path

import jinja2
import numpy as np


def number(x, scale: float, least: int = 0) -> str:
    """``x`` with the decimals that give about 4 significant digits at the data's ``scale``
    (e.g. the persistence RMSE), and at least ``least``: 84.72 at scale 83, 0.8123 at scale 0.8
    (filter ``num``; ``least`` keeps a table's usual decimals, 136.761 for shampoo's
    persistence, where data of a small scale get more: 0.001368, not 0.001)."""
    if x is None or not np.isfinite(x):
        return "—"
    decimals = 2 if not (scale and np.isfinite(scale) and scale > 0) else int(min(8, max(0, 3 - np.floor(np.log10(scale)))))
    return f"{x:.{max(decimals, least)}f}"


def short(x: float) -> str:
    """``x`` to 3 significant digits with at least one decimal (a figure's legend): 98.3, 136.8,
    0.00137 (``.1f`` wrote 0.0 for data of a small scale)."""
    if not np.isfinite(x) or x == 0:
        return f"{x:.1f}"
    return f"{x:.{int(max(1, 2 - np.floor(np.log10(abs(x)))))}f}"


def environment() -> jinja2.Environment:
    """The templates of ``lstmtune/report/templates`` (HTML autoescaped), with the ``num`` filter."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("lstmtune.report", "templates"), autoescape=True)
    env.filters["num"] = number
    return env


def inline(plots: Path, name: str | None) -> str | None:
    """A PNG of ``plots`` as a data URI (the reports are single files), or None."""
    if name is None:
        return None
    return "data:image/png;base64," + base64.b64encode((Path(plots) / name).read_bytes()).decode()
