"""Writing an ``auto`` result: its CSVs and a report page, moved into place together.

The output folder is refused when it holds anything but an earlier ``auto`` result (a marker
file says so), so ``--out`` never replaces a folder of the user's.
"""

from __future__ import annotations

import contextlib

import html
import re
from pathlib import Path

import pandas as pd

from lstmtune.errors import LstmtuneError

MARKER = ".lstmtune-auto"
MAX_FIGURES = 50
"""Series drawn in the report (a large panel's pages would be mostly pictures); the CSVs hold every series."""
STORE = ".lstmtune-series"
"""The folder of an ``auto`` output directory where its series stay stored (the checkpoint of the
run that wrote it): a later run into the same directory reads back every series whose data and
settings did not change (:func:`seed_checkpoint`, :func:`keep_checkpoint`)."""
FILES = ("forecasts.csv", "leaderboard.csv", "backtests.csv", "report.html", "plots", "models", MARKER, STORE)


def _check_target(directory: Path, inputs=()) -> Path:
    """``directory`` made absolute, after refusing a link, a file, a folder holding anything but
    an earlier ``auto`` output, or one that holds an input."""
    import os

    from lstmtune.store.fileio import file_in_the_way

    directory = Path(directory)
    if directory.is_symlink():
        raise LstmtuneError(f"{directory}: is a symbolic link; give a real folder (outputs are never written through links)")
    directory = Path(os.path.abspath(directory))
    if directory.exists() and not directory.is_dir():
        raise LstmtuneError(f"{directory}: exists and is not a folder")
    blocked = file_in_the_way(directory)
    if blocked is not None:
        raise LstmtuneError(f"--out {directory}: {blocked} is a file, not a folder")
    for path in inputs:
        if Path(os.path.abspath(path)).is_relative_to(directory):
            raise LstmtuneError(f"--out {directory}: holds the input {path}; give another folder (--out is replaced as a whole)")
    _can_write_beside(directory)
    if directory.is_dir():
        names = {p.name for p in directory.iterdir()}
        if names and MARKER not in names:
            raise LstmtuneError(f"{directory}: not empty and not an earlier `lstmtune auto` output; give a new or empty folder")
        foreign = sorted(names - set(FILES)) or _foreign_inside(directory)
        if foreign:
            raise LstmtuneError(f"{directory}: holds {foreign[0]!r}, which `lstmtune auto` did not write (the folder is replaced as a whole); move it or give another folder")
    return directory


def _foreign_inside(directory: Path) -> list[str]:
    """What ``plots/``, ``models/`` and the stored series (:data:`STORE`) of an earlier output hold
    that auto does not write there (a user's file in them was deleted with the folder): plots named
    ``series<k>.png``; ``index.csv`` and the model folders it names, holding only what a model
    directory holds; a folder per series holding a slot's files."""
    out = []
    plots, models = directory / "plots", directory / "models"
    if plots.is_dir():
        out += [f"plots/{p.name}" for p in plots.iterdir() if not (p.is_file() and re.fullmatch(r"series\d+\.png", p.name))]
    elif plots.exists():
        out.append("plots")
    if models.is_dir():
        try:
            named = set(pd.read_csv(models / "index.csv", dtype=str, keep_default_na=False)["folder"])
        except (OSError, ValueError, KeyError, pd.errors.ParserError):
            named = set()
        for p in models.iterdir():
            if p.name == "index.csv" and p.is_file():
                continue
            out += _foreign_in_model(p, f"models/{p.name}") if p.name in named and p.is_dir() and not p.is_symlink() else [f"models/{p.name}"]
    elif models.exists():
        out.append("models")
    store = directory / STORE
    if store.is_dir() and not store.is_symlink():  # a stored series' folder: slot.json, its tables, its model
        for p in store.iterdir():
            if not (p.is_dir() and not p.is_symlink() and re.fullmatch(r"[0-9a-f]{24}", p.name)):
                out.append(f"{STORE}/{p.name}")
                continue
            out += [f"{STORE}/{p.name}/{q.name}" for q in p.iterdir() if q.name not in _SLOT_FILES]
    elif store.exists() or store.is_symlink():
        out.append(STORE)
    return sorted(out)


_SLOT_FILES = frozenset({"slot.json", "forecast.parquet", "board.parquet", "backtest.parquet", "model"})


def _foreign_in_model(folder: Path, shown: str) -> list[str]:
    """What a model folder auto wrote holds besides its own files (a manifest, weights, a
    backtest table, a statistical model's data) and the member folders its manifest names."""
    import json

    from lstmtune.forecast import modelio, statmodel

    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        members = set(manifest.get("members", ())) if isinstance(manifest, dict) and isinstance(manifest.get("members", ()), list) else set()
    except (OSError, ValueError):
        members = set()
    own = modelio.OWN_FILES | {statmodel.DATA}
    out = []
    for p in folder.iterdir():
        if p.is_dir() and not p.is_symlink() and p.name in members:
            out += _foreign_in_model(p, f"{shown}/{p.name}")
        elif not (p.is_file() and not p.is_symlink() and p.name in own):
            out.append(f"{shown}/{p.name}")
    return out


def _can_write_beside(directory: Path) -> None:
    """Refuse, before any training, a folder whose nearest existing parent cannot be written in
    (the checkpoint and the finished folder are created there)."""
    import tempfile

    parent = directory.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    try:
        tempfile.TemporaryDirectory(dir=parent, prefix=".lstmtune-probe-").cleanup()
    except OSError as err:
        raise LstmtuneError(f"--out {directory}: cannot write in {parent} ({err.strerror or err})") from None


def checkpoint_for(directory: Path) -> Path:
    """Where a run writing ``directory`` keeps its per-series checkpoint: a hidden folder beside it
    (the output folder is replaced whole at the end, so it cannot hold it).

    Raises:
      LstmtuneError: that path is a link or a file.
    """
    import os

    target = Path(os.path.abspath(directory))
    path = target.parent / f".{target.name}.lstmtune-auto-partial"
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise LstmtuneError(f"{path}: exists and is not a folder lstmtune auto wrote (its checkpoint); move it away")
    return path


def drop_checkpoint(path: Path) -> None:
    """Remove a run's checkpoint."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def seed_checkpoint(path: Path, directory: Path) -> bool:
    """Before a run writing ``directory``: where no interrupted run left a checkpoint at ``path``,
    the series the run that wrote ``directory`` stored (``directory/STORE``) become it, linked, not
    copied, where the file system allows (the checkpoint's folders are replaced whole, never
    edited, so a link is never written through). Whether it did."""
    import os
    import shutil

    store = Path(directory) / STORE
    if path.exists() or path.is_symlink() or store.is_symlink() or not store.is_dir():
        return False

    def link(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    aside = path.with_name(f"{path.name}.seed-{os.getpid()}")  # linked aside, then moved into place whole: a
    try:  # second run into the same --out never reads a half-linked series
        shutil.copytree(store, aside, copy_function=link, symlinks=True)
        os.rename(aside, path)
    except (OSError, shutil.Error):
        shutil.rmtree(aside, ignore_errors=True)
        return False
    return True


def keep_checkpoint(path: Path, directory: Path, uids) -> None:
    """After a run wrote ``directory``: its checkpoint, less the series not in this run, becomes
    ``directory/STORE`` (moved: both are in ``directory``'s folder). Where it cannot be moved, it
    is removed, as before this store existed: the next run computes every series."""
    import os

    from lstmtune.auto import checkpoint

    if not path.is_dir() or path.is_symlink():
        return
    wanted = {checkpoint.folder_name(uid) for uid in uids}
    try:
        for child in path.iterdir():
            if child.name not in wanted:
                _remove(child)
        target = Path(directory) / STORE
        if target.exists() or target.is_symlink():
            _remove(target)
        os.replace(path, target)
    except OSError:
        drop_checkpoint(path)


def _remove(path: Path) -> None:
    """A folder with what it holds, or a file or link (a link's target untouched)."""
    import shutil

    shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()


def save(result, directory) -> Path:
    """Write ``result`` into ``directory`` (see :meth:`lstmtune.auto.run.AutoResult.save`)."""
    from lstmtune.errors import LstmtuneError
    from lstmtune.store.fileio import atomic_dir

    if result.exit_code == 2:  # as the command: a folder of empty tables is not written
        reasons = result.leaderboard.drop_duplicates("unique_id")
        said = "; ".join(f"{u}: {r}" for u, r in zip(reasons["unique_id"].head(3), reasons["reason"].head(3)))
        raise LstmtuneError(f"no series could be forecast ({said}); nothing was written")
    if not isinstance(directory, (str, Path)):
        raise LstmtuneError(f"save: give a folder's path, not {directory!r}")
    from lstmtune.forecast.output import panel_csv

    directory = _check_target(directory)
    with atomic_dir(directory) as tmp:
        utc = set(result.utc)  # times read from dates with offsets are UTC times, and say so
        panel_csv(result.forecasts, tmp / "forecasts.csv", utc=utc)  # each series' dates as it alone would have them
        result.leaderboard.to_csv(tmp / "leaderboard.csv", index=False)
        panel_csv(result.backtests, tmp / "backtests.csv", utc=utc)
        (tmp / "report.html").write_text(render(result, _figures(result, tmp / "plots")), encoding="utf-8")
        _models(result.models, tmp / "models", utc)
        (tmp / MARKER).write_text("lstmtune auto output\n")
    return directory


def folder_name(uid: str, taken: set) -> str:
    """A model folder's name for series ``uid``: its letters, digits, ``-``, ``_`` and ``.``, made unique."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(uid)).strip("._")[:80] or "series"
    name, k = base, 1
    while name.lower() in taken or name.lower() == "index.csv":  # unique on case-insensitive file systems too
        k += 1
        name = f"{base}_{k}"
    taken.add(name.lower())
    return name


def _models(models: dict, root: Path, utc=frozenset()) -> None:
    """``models/<folder>/`` per series and ``models/index.csv`` (``unique_id, folder, model``, and
    ``times``: ``UTC`` for a series whose times were made UTC, which ``lstmtune forecast`` marks)."""
    if not models:
        return
    root.mkdir()
    taken, rows = set(), []
    for uid, model in models.items():
        folder = folder_name(uid, taken)
        if uid in utc:  # the directory says so itself, wherever it is moved (index.csv says so for the folder)
            model.info["times"] = "UTC"
        model.save(root / folder)
        rows.append({"unique_id": uid, "folder": folder, "model": model.info.get("label") or getattr(model, "model", None) or "LSTM",
                     "times": "UTC" if uid in utc else ""})
    pd.DataFrame(rows).to_csv(root / "index.csv", index=False)


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p>(none)</p>"
    return frame.to_html(index=False, float_format=lambda x: f"{x:.4g}", na_rep="", escape=True, border=0)


def _figures(result, plots: Path) -> dict[str, str]:
    """``unique_id -> data URI`` of its history-and-forecast figure (the first :data:`MAX_FIGURES` series)."""
    from lstmtune.forecast.output import band_levels
    from lstmtune.report import drawing, figures, pages

    if result.history is None or result.forecasts.empty:
        return {}
    plots.mkdir(exist_ok=True)
    jobs, names = [], {}
    utc = {str(u) for u in getattr(result, "utc", ())}  # times made UTC: the figure's title says so, as the tables mark them
    history = {str(k): v for k, v in result.history.groupby("unique_id", sort=False)}
    for i, (uid, fc) in enumerate(result.forecasts.groupby("unique_id", sort=False)):
        uid = str(uid)
        if i >= MAX_FIGURES:
            break
        if uid not in history:
            continue
        h = history[uid].sort_values("ds").tail(max(4 * len(fc), 48))
        name = f"series{i}.png"
        bands = {level: (fc[f"lower_{level}"].to_numpy(), fc[f"upper_{level}"].to_numpy()) for level in band_levels(fc)}
        jobs.append(drawing.Job(figures.forecast_plot, (h["ds"].to_numpy(), h["y"].to_numpy(), fc["ds"].to_numpy(), fc["mean"].to_numpy(), bands),
                                plots / name, {"title": str(uid) + (" (times UTC)" if uid in utc else ""), "label": str(fc["model"].iloc[0])}))
        names[uid] = name
    try:
        drawing.draw_all(jobs)  # on two cores when there are many
    except Exception:  # noqa: BLE001 - a figure that cannot be drawn (values matplotlib cannot place) is left out, the others kept
        for job in jobs:
            if not job.path.exists():
                with contextlib.suppress(Exception):
                    job()
    return {uid: pages.inline(plots, name) for uid, name in names.items() if (plots / name).exists()}


def _summary(board: pd.DataFrame, n_series: int) -> list[str]:
    """The panel at a glance (:func:`lstmtune.auto.score.panel_summary`), and what the budget left out."""
    from lstmtune.auto import score

    summary = score.panel_summary(board)
    parts = []
    if n_series > 1:
        parts += ["<h2>The panel</h2>", "<p>Series by status:</p>", _table(summary["status"]),
                  "<p>Chosen forecasters by family (backtest MASE of the chosen candidates):</p>", _table(summary["families"]),
                  "<p>The series with the highest backtest MASE of their chosen candidate:</p>", _table(summary["worst"])]
    if not summary["budget"].empty:
        listed = ", ".join(html.escape(str(u)) for u in summary["budget"]["unique_id"].head(20))
        more = f" and {len(summary['budget']) - 20} more" if len(summary["budget"]) > 20 else ""
        parts.append(f"<p><b>The time budget bound:</b> LSTM and hybrid candidates were left out for {len(summary['budget'])} series ({listed}{more}); "
                     "their forecasts come from the statistical models only.</p>")
    if not summary["budget_stats"].empty:
        parts.append(f"<p><b>The time budget bound:</b> AutoARIMA was left out for {len(summary['budget_stats'])} series "
                     f"({html.escape(names(summary['budget_stats']['unique_id']))}): the statistical fits together would have exceeded the budget.</p>")
    return parts


def names(uids) -> str:
    """Series names for a sentence: the first five, then how many more."""
    uids = [str(u) for u in uids]
    return ", ".join(uids[:5]) + (f" and {len(uids) - 5} more series" if len(uids) > 5 else "")


def render(result, images: dict[str, str] | None = None) -> str:
    """The report: per series, the verdict in words, its figure, the leaderboard and the forecasts."""
    images = images or {}
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>lstmtune auto</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto}td,th{padding:2px 8px;text-align:right}</style></head><body>",
        f"<h1>lstmtune auto</h1><p>{len(result.verdicts)} series in {result.wall_s:.1f} s. Candidates are scored on the same "
        "rolling-origin backtests (each forecasting the horizon as the final forecast does); the lowest mean backtest MASE "
        "is chosen. The model confidence set (in_mcs) is reported beside the choice, not used for it.</p>",
    ]
    if result.utc:
        parts.append(f"<p>Times of {html.escape(names(result.utc))} are UTC: their dates carried UTC offsets (readings finer than daily, read as UTC "
                     "so that a change of offset repeats or skips no hour).</p>")
    board = result.leaderboard
    parts += _summary(board, len(result.verdicts))
    for uid, text in result.verdicts.items():
        parts.append(f"<h2>{html.escape(str(uid))}</h2><p><b>{html.escape(text)}</b></p>")
        if uid in images:
            parts.append(f"<img alt='history and forecast of {html.escape(str(uid))}' src='{images[uid]}' style='max-width:100%'>")
        rows = board[board["unique_id"] == uid].drop(columns=["unique_id"]) if not board.empty else board
        parts.append(_table(rows.dropna(axis=1, how="all")))
        fc = result.forecasts[result.forecasts["unique_id"] == uid].drop(columns=["unique_id"])
        parts.append(_table(fc.assign(ds=fc["ds"].astype(str) + ("+00:00" if uid in result.utc else ""))))  # UTC times marked, as in forecasts.csv
    if len(result.verdicts) > MAX_FIGURES:
        parts.append(f"<p>Figures drawn for the first {MAX_FIGURES} series; every series is in the CSVs.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


__all__ = ["FILES", "MARKER", "STORE", "checkpoint_for", "drop_checkpoint", "keep_checkpoint", "names", "render", "save", "seed_checkpoint"]
