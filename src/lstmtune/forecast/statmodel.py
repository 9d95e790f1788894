"""A statistical model's directory (``lstmtune auto`` writes one per series it forecasts with
statsforecast): its specification and the data to refit it deterministically, no pickle.

``manifest.json`` names the kind, the model (``AutoETS``, ``AutoARIMA``, ``AutoTheta``,
``SeasonalNaive``, ``CrostonOptimized``, ``TSB``, ``MSTL`` or ``StatsMedian``, the median of the models its
``info["members"]`` names), the season length, the
frequency and the SHA-256 of ``data.json`` (the series: dates and values). Loading checks the
checksum; forecasting refits on the data (statsforecast's fits are deterministic) and returns
the table :meth:`lstmtune.forecast.forecaster.Forecaster.forecast` returns.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from lstmtune.data.series import dates_after, frequency_offset, infer_frequency
from lstmtune.errors import LstmtuneError
from lstmtune.forecast.output import clip_nonnegative
from lstmtune.forecast import manifest as manifest_file

KIND = "statsforecast"
FORMAT_VERSION = 2
READABLE = (1, 2)
"""Format 2 adds the manifest's own checksum (format 1's covered the data only)."""
MANIFEST, DATA = manifest_file.MANIFEST, "data.json"
MEDIAN = "StatsMedian"


@dataclasses.dataclass(frozen=True)
class StatModel:
    """A statistical forecaster: ``model`` refitted on ``dates``/``values`` at each forecast."""

    model: str
    season_length: int
    freq: str
    series_name: str
    dates: np.ndarray
    values: np.ndarray
    info: dict = dataclasses.field(default_factory=dict)

    def forecast(self, horizon: int) -> pd.DataFrame:
        """``date, mean, median, lower_80, upper_80, lower_95, upper_95`` for ``horizon`` steps
        (the levels of ``info["levels"]``, default 80 and 95)."""
        from lstmtune.selection import statistical

        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
            raise LstmtuneError(f"horizon must be a positive whole number of steps, got {horizon!r}")
        dates_after(self.dates, int(horizon), self.freq)  # one line where the dates would pass 2262 (statsforecast would overflow)
        frame = pd.DataFrame({"unique_id": self.series_name, "ds": pd.DatetimeIndex(self.dates), "y": self.values})
        names = tuple(self.info.get("members", statistical.MODELS)) if self.model == MEDIAN else (self.model,)
        levels = tuple(int(x) for x in self.info.get("levels", (80, 95)))
        t, failed = statistical.forecast(frame, int(horizon), self.freq, self.season_length, levels=levels, names=names)
        if self.model == MEDIAN:
            fitted = [n for n in names if n in t.columns]
            cols = {"mean": t[fitted].median(axis=1)}
            for level in levels:
                cols[f"lower_{level}"] = t[[f"{n}-lo-{level}" for n in fitted]].median(axis=1)
                cols[f"upper_{level}"] = t[[f"{n}-hi-{level}" for n in fitted]].median(axis=1)
        else:
            cols = {"mean": t[self.model]}
            for level in levels:
                cols[f"lower_{level}"], cols[f"upper_{level}"] = t[f"{self.model}-lo-{level}"], t[f"{self.model}-hi-{level}"]
        out = pd.DataFrame({"date": pd.DatetimeIndex(t["ds"]), "mean": cols["mean"].to_numpy(), "median": cols["mean"].to_numpy(),
                            **{f"{side}_{level}": cols[f"{side}_{level}"].to_numpy() for level in levels for side in ("lower", "upper")}})
        return clip_nonnegative(out) if self.info.get("nonnegative") else out

    def describe(self) -> list[str]:
        from lstmtune.data.messages import day
        from lstmtune.selection.statistical import MULTIPLE, second_season

        longer = second_season(self.freq, self.season_length) if self.model in MULTIPLE else None
        seasons = f"season lengths {self.season_length} and {longer}" if longer else f"season length {self.season_length}"
        ends = pd.DatetimeIndex([self.dates[0], self.dates[-1]])
        first, last = (day(d) for d in ends) if (ends == ends.normalize()).all() else (str(d) for d in ends)  # sub-daily: both with their times
        head = f"statistical model: {self.model} (statsforecast), {seasons}, frequency {self.freq}"
        if str(self.info.get("label", "")).startswith("Constant"):  # a constant series' (a probe: read as a seasonal model)
            head = f"a constant forecast: the series' last value, repeated (statsforecast's {self.model}, {seasons}), frequency {self.freq}"
        return [
            head,
            f"series: {self.series_name}, {len(self.values)} observations {first} to {last}",
            "refitted on these observations at each forecast (deterministic)",
            *[f"{k}: {v}" for k, v in self.info.items()],
        ]

    def save(self, directory) -> Path:
        """Write the model directory (written aside, moved into place when complete)."""
        from lstmtune.store.fileio import atomic_dir

        data = json.dumps({"ds": [str(pd.Timestamp(d)) for d in self.dates], "y": [float(v) for v in self.values]}).encode()
        manifest = json.loads(json.dumps({
            "kind": KIND, "format_version": FORMAT_VERSION, "model": self.model, "season_length": int(self.season_length),
            "freq": self.freq, "series_name": self.series_name, "data_sha256": hashlib.sha256(data).hexdigest(), "info": self.info,
        }))
        manifest["checksum"] = manifest_file.content_hash(manifest)
        with atomic_dir(Path(directory)) as tmp:
            (tmp / DATA).write_bytes(data)
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
        return Path(directory)


def is_statistical(directory) -> bool:
    """Whether ``directory`` holds a statistical model (its manifest says so)."""
    return manifest_file.kind_of(directory) == KIND


def load(directory) -> StatModel:
    """Read a directory written by :meth:`StatModel.save`.

    Raises:
      LstmtuneError: a missing or unreadable file, another format version, or data that do
        not match the manifest's checksum.
    """
    directory = Path(directory)
    m = manifest_file.read(directory, KIND, READABLE, "statistical model")
    if m["format_version"] >= 2 and manifest_file.content_hash(m) != m.get("checksum"):
        raise LstmtuneError(f"{directory / MANIFEST}: edited or corrupted (its checksum does not match its content)")
    try:
        raw = (directory / DATA).read_bytes()
    except OSError as err:
        raise LstmtuneError(f"{directory}: not a readable model directory ({err})") from None
    if hashlib.sha256(raw).hexdigest() != m.get("data_sha256"):
        raise LstmtuneError(f"{directory / DATA}: does not match the manifest's checksum (corrupted or replaced)")
    _check(directory / MANIFEST, m)
    d = json.loads(raw)
    dates = pd.DatetimeIndex(d["ds"]).to_numpy(dtype="datetime64[ns]")
    given = infer_frequency(dates)
    if given is not None and frequency_offset(given) != frequency_offset(m["freq"]) and not _on_grid(dates, m["freq"]):
        # a format 1 manifest, edited: dates of another step (QS-FEB and QS-NOV, 7D and W-SUN, name the same dates)
        raise LstmtuneError(f"{directory / MANIFEST}: corrupted or edited: freq {m['freq']!r}, but its data's dates are of frequency {given}")
    return StatModel(m["model"], int(m["season_length"]), m["freq"], m["series_name"], dates, np.asarray(d["y"], dtype=np.float64), dict(m.get("info", {})))


def _on_grid(dates: np.ndarray, freq: str) -> bool:
    """Whether ``dates`` are the dates frequency ``freq`` steps through from the first of them."""
    try:
        grid = pd.date_range(pd.Timestamp(dates[0]), periods=len(dates), freq=freq)
    except (TypeError, ValueError, OverflowError):  # pandas' OutOfBoundsDatetime is a ValueError
        return False
    return bool(np.array_equal(grid.to_numpy(dtype="datetime64[ns]"), dates))


def _check(path: Path, m: dict) -> None:
    """Refuse a manifest whose fields :meth:`StatModel.forecast` could not use (edited by hand:
    format 1, whose checksum covered the data only, or a checksum recomputed), naming the field."""
    from lstmtune.selection import statistical

    known = (*statistical.MODELS, *statistical.INTERMITTENT, *statistical.MULTIPLE, MEDIAN)

    def edited(why: str) -> LstmtuneError:
        return LstmtuneError(f"{path}: corrupted or edited: {why}")

    if m.get("model") not in known:
        raise edited(f"model {m.get('model')!r} is not one lstmtune writes ({', '.join(known)})")
    season = m.get("season_length")
    if isinstance(season, bool) or not isinstance(season, int) or season < 1:
        raise edited(f"season_length {season!r} is not a whole number of at least 1")
    if not isinstance(m.get("series_name"), str):
        raise edited(f"series_name {m.get('series_name')!r} is not text")
    if frequency_offset(m.get("freq")) is None:
        raise edited(f"freq {m.get('freq')!r} is not a pandas frequency")
    info = m.get("info", {})
    if not isinstance(info, dict):
        raise edited("info is not an object")
    members = info.get("members", statistical.MODELS)
    if not isinstance(members, list | tuple) or not members or any(x not in known[:-1] for x in members):
        raise edited(f"info.members {members!r} are not models lstmtune writes")
    levels = info.get("levels", (80, 95))
    if not isinstance(levels, list | tuple) or not levels or any(isinstance(x, bool) or not isinstance(x, int) or not 0 < x < 100 for x in levels):
        raise edited(f"info.levels {levels!r} are not whole percentages between 1 and 99")


__all__ = ["KIND", "StatModel", "is_statistical", "load"]
