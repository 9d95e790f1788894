"""Write a forecast: the CSV table and a PNG of recent history, the forecast and its bands."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from lstmtune.store.fileio import atomic_path


def date_text(dates) -> list | np.ndarray:
    if not isinstance(dates, pd.DatetimeIndex) and np.issubdtype(np.asarray(dates).dtype, np.integer):
        return np.asarray(dates)  # positions of a values-only series
    idx = pd.DatetimeIndex(dates)
    with_time = bool((idx != idx.normalize()).any())
    return list(idx.strftime("%Y-%m-%dT%H:%M:%S" if with_time else "%Y-%m-%d"))


def panel_csv(table: pd.DataFrame, path, columns=("ds", "cutoff"), utc=()) -> None:
    """A long table (``unique_id`` and date ``columns``) as CSV, each series' dates written as that
    series alone would have them: days as ``2020-01-31``, times as ``2020-01-31 06:00:00``
    (pandas' own text; before, one hourly series gave every series of the panel times). The
    series in ``utc`` (times read from dates with offsets, made UTC) have theirs marked
    ``2020-01-31 06:00:00+00:00``."""
    out = table.copy()
    marked = out["unique_id"].isin(list(utc)).to_numpy() if len(utc) else np.zeros(len(out), bool)
    for column in [c for c in columns if c in out.columns and pd.api.types.is_datetime64_any_dtype(out[c])]:
        stamps = out[column]
        timed = (stamps != stamps.dt.normalize()).groupby(out["unique_id"], sort=False).transform("any")
        text = np.where(timed, stamps.dt.strftime("%Y-%m-%d %H:%M:%S"), stamps.dt.strftime("%Y-%m-%d"))
        out[column] = np.where(marked, stamps.dt.strftime("%Y-%m-%d %H:%M:%S+00:00"), text) if marked.any() else text
        out.loc[stamps.isna(), column] = ""
    out.to_csv(path, index=False)


def write_csv(table: pd.DataFrame, path: Path, utc: bool = False) -> Path:
    """``date, mean, median, lower_80, upper_80, lower_95, upper_95`` (dates as ISO text), atomically;
    ``utc``: times made UTC from dates with offsets, written so (``2024-04-05T15:00:00+00:00``)."""
    out = table.copy()
    dated = np.issubdtype(np.asarray(table["date"]).dtype, np.datetime64)  # not positions of a values-only series
    out["date"] = list(pd.DatetimeIndex(table["date"]).strftime("%Y-%m-%dT%H:%M:%S+00:00")) if utc and dated else date_text(table["date"])
    with atomic_path(Path(path)) as tmp:
        out.to_csv(tmp, index=False)
    return Path(path)


def paths_table(paths: np.ndarray, dates, seeds) -> pd.DataFrame:
    """Each replica's recursive path, long: ``date, step, seed, value`` (one row per seed and step)."""
    P, H = paths.shape
    return pd.DataFrame(
        {
            "date": np.tile(np.asarray(date_text(dates), dtype=object), P),
            "step": np.tile(np.arange(1, H + 1), P),
            "seed": np.repeat(np.asarray(seeds, dtype=np.int64), H),
            "value": np.asarray(paths, dtype=np.float64).ravel(),
        }
    )


def write_table(table: pd.DataFrame, path: Path) -> Path:
    """Any table as CSV, atomically."""
    with atomic_path(Path(path)) as tmp:
        table.to_csv(tmp, index=False)
    return Path(path)


def plot(history_x, history_y, table: pd.DataFrame, path: Path, *, title: str, recent: int = 120) -> Path:
    """History (the last ``recent`` observations), the ensemble mean and median, 80% and 95% bands.

    Args:
      history_x / history_y: the observations' dates (or positions) and values.
      table: from :meth:`lstmtune.forecast.forecaster.Forecaster.forecast`.
      path: the PNG to write (atomically).
      title: the figure's title.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    hx, hy = np.asarray(history_x)[-recent:], np.asarray(history_y)[-recent:]
    fx = np.asarray(table["date"])
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.plot(hx, hy, color="black", lw=1.2, label="observed")
    for k, level in enumerate(reversed(band_levels(table))):  # the widest band first, lighter
        ax.fill_between(fx, table[f"lower_{level}"], table[f"upper_{level}"], color="tab:blue", alpha=0.18 + 0.17 * min(k, 1), lw=0, label=f"{level}% interval")
    ax.plot(fx, table["mean"], color="tab:blue", lw=1.6, label="forecast (ensemble mean)")
    ax.plot(fx, table["median"], color="tab:blue", lw=1, ls="--", label="ensemble median")
    ax.set_title(re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", title))  # a user's name: no control characters
    ax.legend(loc="upper left", fontsize=8)
    import warnings

    fig.autofmt_xdate()
    with atomic_path(Path(path)) as tmp, warnings.catch_warnings():
        # a name in a script the font lacks (CJK, say) is drawn as boxes, as in the report; matplotlib
        # warned once per glyph on the terminal (a probe)
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        fig.tight_layout()
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return Path(path)


FORECAST_COLUMNS = ("mean", "median", "lower_80", "upper_80", "lower_95", "upper_95")
"""A forecast table's value columns at the default levels (80 and 95); other levels give
``lower_<level>`` / ``upper_<level>`` columns alike (:func:`value_columns`)."""


def band_levels(table) -> list[int]:
    """The interval levels (percent) a forecast table holds, from its ``lower_<level>`` columns, widest last."""
    return sorted(int(c[len("lower_"):]) for c in table.columns if c.startswith("lower_") and c[len("lower_"):].isdigit())


def value_columns(table) -> list[str]:
    """``mean``, ``median`` and every band's bounds that ``table`` holds."""
    return [c for c in table.columns if c in ("mean", "median") or re.fullmatch(r"(lower|upper)_\d+", str(c))]


def clip_nonnegative(table):
    """``table``'s forecast columns clipped at 0 (for a series that never went below it)."""
    out = table.copy()
    cols = value_columns(out)
    out[cols] = out[cols].clip(lower=0.0)
    return out
