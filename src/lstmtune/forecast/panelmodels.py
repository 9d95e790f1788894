"""A folder of model directories, one per series (``lstmtune auto``'s ``models/``, listed by
its ``index.csv``: ``unique_id, folder, model``): every series forecast in one tidy table.

A model directory that cannot be read or forecast is named, and the other series are still
forecast (one bad series never stops the others).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lstmtune.errors import LstmtuneError

INDEX = "index.csv"


def is_panel(folder) -> bool:
    """Whether ``folder`` holds an ``index.csv`` of model directories."""
    return (Path(folder) / INDEX).is_file()


def check_replaceable(folder) -> None:
    """Refuse to replace ``folder`` unless it is absent, empty, or a folder ``lstmtune fit``
    wrote for a panel: its ``index.csv`` and the model directories it lists, nothing else
    (``lstmtune auto``'s ``models/`` belongs to that run's outputs: never replaced here).

    Raises:
      LstmtuneError: naming the folder and what is in the way.
    """
    from lstmtune.forecast import modelio

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise LstmtuneError(f"--out {folder}: exists and is not a folder")
    if not folder.is_dir() or not any(folder.iterdir()):
        return
    refuse = f"--out {folder}: not empty and not a folder of model directories lstmtune fit wrote"
    if (folder.parent / ".lstmtune-auto").is_file():
        raise LstmtuneError(f"{refuse} (it is in lstmtune auto's output folder {folder.parent}); give a new or empty folder")
    try:
        listed = set(pd.read_csv(folder / INDEX, dtype=str, keep_default_na=False)["folder"])
    except (OSError, ValueError, KeyError):
        listed = None
    others = sorted(p.name for p in folder.iterdir() if p.name != INDEX and (listed is None or p.name not in listed or not modelio.written_by_save(p)))
    if listed is None or others:
        what = modelio.holding(others) if others else "no readable index.csv"
        raise LstmtuneError(f"{refuse} ({what}); give a new or empty folder")


def read_index(folder) -> pd.DataFrame:
    """The folder's ``index.csv``: ``unique_id, folder, model``, one row per series.

    Raises:
      LstmtuneError: an unreadable index, or one without its columns.
    """
    folder = Path(folder)
    try:
        index = pd.read_csv(folder / INDEX, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as err:
        raise LstmtuneError(f"{folder / INDEX}: not a readable index of model directories ({err})") from None
    lacking = [c for c in ("unique_id", "folder", "model") if c not in index.columns]
    if lacking:
        raise LstmtuneError(f"{folder / INDEX}: no {lacking[0]!r} column (an index written by lstmtune auto has unique_id, folder, model)")
    for column in ("unique_id", "folder"):  # one row per series, one series per folder: an edited index gave a series twice, or another's forecasts
        repeated = index[column].duplicated()
        if repeated.any():
            row = int(repeated.to_numpy().argmax())
            raise LstmtuneError(f"{folder / INDEX}: line {row + 2}, column {column!r}: {index[column].iloc[row]!r} again (first at line "
                                f"{int((index[column] == index[column].iloc[row]).to_numpy().argmax()) + 2}); each series has one row and its own folder")
    return index


def utc_rows(index: pd.DataFrame) -> pd.Series:
    """Which rows of an index (:func:`read_index`) are series whose times were made UTC (``times: UTC``)."""
    return index["times"] == "UTC" if "times" in index.columns else pd.Series(False, index=index.index)


def utc_times(model_dir) -> bool:
    """Whether ``model_dir`` is one series' folder of auto's ``models/`` whose times were made UTC
    (its row of the index beside it says so); False where no readable index names it."""
    folder = Path(model_dir).resolve()
    if not is_panel(folder.parent):
        return False
    try:
        index = read_index(folder.parent)
    except LstmtuneError:
        return False
    return bool((utc_rows(index) & (index["folder"] == folder.name)).any())


def _mismatch(model, uid: str, label: str) -> str | None:
    """How an index row disagrees with the model directory it names (the series the model was
    fitted on, the candidate it is), or None. An edited index gave a series another's forecasts,
    or relabelled them."""
    info = getattr(model, "info", None) or {}
    if info.get("source") != "lstmtune auto":  # fit's: its series named after a file, its index labels "LSTM <config>"
        return None
    name = getattr(model, "series_name", None)
    if isinstance(name, str) and name and name != uid:
        return f"its folder holds the model of series {name!r}"
    own = info.get("label") or getattr(model, "model", None)
    if isinstance(own, str) and own != label:
        return f"model {label!r}, but its folder holds {own!r}"
    return None


def forecast_all(folder, horizon: int) -> tuple[pd.DataFrame, list[str]]:
    """``(table, failures)``: ``unique_id, ds, model, mean, median, lower_<l>, upper_<l>...`` of
    every series that could be forecast, and one line per series that could not.

    Raises:
      LstmtuneError: an unreadable index, or one without its columns.
    """
    from lstmtune.forecast import composite

    folder = Path(folder)
    index = read_index(folder)
    root = folder.resolve()
    parts, failures = [], []
    for row, (uid, sub, label) in enumerate(index[["unique_id", "folder", "model"]].itertuples(index=False), start=2):
        where = folder / sub
        if not sub or where.resolve().parent != root:
            failures.append(f"series {uid!r}: {folder / INDEX} line {row}: folder {sub!r} is not a model directory inside {folder}")
            continue
        try:
            model = composite.load_any(where)
            mismatch = _mismatch(model, uid, label)
            if mismatch:
                failures.append(f"series {uid!r}: {folder / INDEX} line {row}: {mismatch} (edited?)")
                continue
            table = model.forecast(horizon)
        except Exception as err:  # noqa: BLE001 - one bad series never stops the others: named
            failures.append(f"series {uid!r} ({where}): {err}")
            continue
        parts.append(table.rename(columns={"date": "ds"}).assign(unique_id=uid, model=label))
    if not parts:
        return pd.DataFrame(columns=["unique_id", "ds", "model"]), failures
    out = pd.concat(parts, ignore_index=True)
    return out[["unique_id", "ds", "model", *[c for c in out.columns if c not in ("unique_id", "ds", "model")]]], failures


__all__ = ["utc_rows", "utc_times", "INDEX", "forecast_all", "is_panel", "read_index"]
