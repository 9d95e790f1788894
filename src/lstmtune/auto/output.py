"""Writing an ``auto`` result: its CSVs and a report page, moved into place together.

The output folder is refused when it holds anything but an earlier ``auto`` result (a marker
file says so), so ``--out`` never replaces a folder of the user's.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from lstmtune.errors import LstmtuneError

MARKER = ".lstmtune-auto"
FILES = ("forecasts.csv", "leaderboard.csv", "backtests.csv", "report.html", MARKER)


def _check_target(directory: Path) -> None:
    if directory.is_symlink():
        raise LstmtuneError(f"{directory}: is a symbolic link; give a real folder (outputs are never written through links)")
    if directory.exists() and not directory.is_dir():
        raise LstmtuneError(f"{directory}: exists and is not a folder")
    if directory.is_dir() and any(directory.iterdir()) and not (directory / MARKER).is_file():
        raise LstmtuneError(f"{directory}: not empty and not an earlier `lstmtune auto` output; give a new or empty folder")


def save(result, directory) -> Path:
    """Write ``result`` into ``directory`` (see :meth:`lstmtune.auto.run.AutoResult.save`)."""
    from lstmtune.store.fileio import atomic_dir

    directory = Path(directory)
    _check_target(directory)
    with atomic_dir(directory) as tmp:
        result.forecasts.to_csv(tmp / "forecasts.csv", index=False)
        result.leaderboard.to_csv(tmp / "leaderboard.csv", index=False)
        result.backtests.to_csv(tmp / "backtests.csv", index=False)
        (tmp / "report.html").write_text(render(result), encoding="utf-8")
        (tmp / MARKER).write_text("lstmtune auto output\n")
    return directory


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p>(none)</p>"
    return frame.to_html(index=False, float_format=lambda x: f"{x:.4g}", na_rep="", escape=True, border=0)


def render(result) -> str:
    """The report: per series, the verdict in words, the leaderboard and the forecasts."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>lstmtune auto</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto}td,th{padding:2px 8px;text-align:right}</style></head><body>",
        f"<h1>lstmtune auto</h1><p>{len(result.verdicts)} series in {result.wall_s:.1f} s. Candidates are scored on the same "
        "rolling-origin backtests (each forecasting the horizon as the final forecast does); the lowest mean backtest MASE "
        "is chosen. The model confidence set (in_mcs) is reported beside the choice, not used for it.</p>",
    ]
    board = result.leaderboard
    for uid, text in result.verdicts.items():
        parts.append(f"<h2>{html.escape(str(uid))}</h2><p><b>{html.escape(text)}</b></p>")
        rows = board[board["unique_id"] == uid].drop(columns=["unique_id"]) if not board.empty else board
        parts.append(_table(rows.dropna(axis=1, how="all")))
        fc = result.forecasts[result.forecasts["unique_id"] == uid].drop(columns=["unique_id"])
        parts.append(_table(fc.assign(ds=fc["ds"].astype(str))))
    parts.append("</body></html>")
    return "\n".join(parts)


__all__ = ["FILES", "MARKER", "render", "save"]
