"""Forecasters built from others, as ``lstmtune auto`` chooses them, with their directories.

- :class:`Transformed`: a forecaster trained on a transformed series (its logarithm, and/or
  the series with an STL seasonal component removed), whose forecasts are moved back: the
  seasonal component's last cycle added, the exponential taken (the median then being the
  point forecast: the back-transform of a mean is not a mean). :class:`Transform` is that
  transform, fitted on the observations the forecaster trains on.
- :class:`Combination`: the mean or median of members' forecasts (point and bounds).

A directory holds ``manifest.json`` (kind ``lstmtune-composite``) and one sub-directory per
member, each of its own kind (a forecaster's safetensors directory, a statistical model's);
every member checks its own files when read. The manifest carries the SHA-256 of its own
content (format 2; format 1, written before, had none and is still read), and what it holds
is checked for what a composite can be (:func:`_inconsistent`). No pickle.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd

from lstmtune.errors import LstmtuneError
from lstmtune.forecast.output import clip_nonnegative, value_columns
from lstmtune.forecast import manifest as manifest_file

KIND = "lstmtune-composite"
FORMAT_VERSION = 2
READABLE = (1, 2)
"""Format 2 adds the manifest's checksum."""
MANIFEST = manifest_file.MANIFEST


def guerrero_lambda(y: np.ndarray, m: int) -> float:
    """Guerrero's Box-Cox lambda of ``y`` (coreforecast's, season ``m``, at least 2)."""
    from coreforecast.scalers import boxcox_lambda

    return float(boxcox_lambda(np.asarray(y, dtype=np.float64), method="guerrero", season_length=max(int(m), 2)))


@dataclasses.dataclass(frozen=True)
class Transform:
    """The logarithm and/or the removal of an STL seasonal component (period ``m``), fitted on
    the observations a forecaster trains on; the seasonal component's last cycle is carried forward."""

    log: bool
    season: np.ndarray | None
    m: int
    lam: float | None = None  # Box-Cox's lambda (SciPy's boxcox), instead of the logarithm

    @classmethod
    def fit(cls, kind: str | None, y: np.ndarray, m: int) -> "Transform":
        """``kind``: None, ``"log"``, ``"boxcox"`` (lambda by Guerrero's method on ``y``, in [0, 1]),
        ``"stl"`` or ``"log+stl"``.

        Raises:
          ValueError: the logarithm or Box-Cox on observations not all positive (a candidate
            chosen on the positive values before the first origin then gives way to the next).
        """
        log = kind in ("log", "log+stl")
        season = None
        lam = None
        if log or kind == "boxcox":
            bad = int(np.sum(~(np.asarray(y, dtype=np.float64) > 0)))
            if bad:  # Box-Cox's lambda then lands near 0 and a 0 maps far below every other value: forecasts of inf or 0
                raise ValueError(f"{'Box-Cox' if kind == 'boxcox' else 'the logarithm'} needs positive observations ({bad} at or below 0)")
        if kind == "boxcox":
            lam = float(np.clip(guerrero_lambda(y, m), 0.0, 1.0))
        if kind in ("stl", "log+stl"):
            from statsmodels.tsa.seasonal import STL

            x = np.log(y) if log else np.asarray(y, dtype=np.float64)
            season = np.asarray(STL(x, period=m, robust=True).fit().seasonal, dtype=np.float64)
        return cls(log, season, int(m), lam)

    def _to(self, y) -> np.ndarray:
        if self.lam is not None:
            from scipy.special import boxcox

            return boxcox(np.asarray(y, dtype=np.float64), self.lam)
        return np.log(y) if self.log else np.asarray(y, dtype=np.float64)

    def _from(self, v: np.ndarray) -> np.ndarray:
        if self.lam is not None:
            from scipy.special import inv_boxcox

            if self.lam > 0:  # below -1/lambda no value maps there: the bound is 0
                v = np.maximum(v, -1.0 / self.lam)
            return inv_boxcox(v, self.lam)
        return np.exp(v) if self.log else v

    @property
    def bends(self) -> bool:
        """Whether the back-transform is nonlinear (the point forecast is then the median)."""
        return self.log or self.lam is not None

    def future_season(self, h: int) -> np.ndarray:
        if self.season is None:
            return np.zeros(h)
        n = len(self.season)
        return self.season[n - self.m + (np.arange(h) % self.m)]

    def forward(self, y: np.ndarray) -> np.ndarray:
        """The fitted observations, transformed."""
        x = self._to(y)
        return x - self.season if self.season is not None else x

    def forward_future(self, y: np.ndarray) -> np.ndarray:
        """Observations after the fitted ones (a backtest's outcomes), transformed alike."""
        x = self._to(y)
        return x - self.future_season(len(x))

    def back(self, table: pd.DataFrame) -> pd.DataFrame:
        """A forecast table in the series' units."""
        if not self.bends and self.season is None:
            return table
        out = table.copy()
        s = self.future_season(len(table))
        for c in value_columns(table):
            v = table["median" if (c == "mean" and self.bends) else c].to_numpy(dtype=np.float64) + s
            out[c] = self._from(v)
        return out

    def to_dict(self) -> dict:
        d = {"log": self.log, "m": self.m, "season_last_cycle": None if self.season is None else [float(v) for v in self.season[-self.m:]]}
        if self.lam is not None:
            d["boxcox_lambda"] = self.lam
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Transform":
        cycle = d.get("season_last_cycle")
        lam = d.get("boxcox_lambda")
        return cls(bool(d["log"]), None if cycle is None else np.asarray(cycle, dtype=np.float64), int(d["m"]), None if lam is None else float(lam))


def _loaders() -> dict:
    """Manifest kind -> loader, for the kinds only ``lstmtune auto`` writes."""
    from lstmtune.forecast import direct, statmodel

    return {statmodel.KIND: statmodel.load, direct.KIND: direct.load, KIND: load}


def is_auto_model(directory) -> bool:
    """Whether ``directory`` holds a model only ``lstmtune auto`` writes (statistical, direct or composite)."""
    return manifest_file.kind_of(directory) in _loaders()


def load_any(directory):
    """The model in ``directory``, whatever its kind (each checks its own files).

    Raises:
      LstmtuneError: a folder of model directories (a panel's: ``index.csv``) was said to be
        "not an lstmtune model directory" (a probe); it names the series' directories instead.
    """
    from lstmtune.errors import LstmtuneError
    from lstmtune.forecast import forecaster

    if isinstance(directory, (str, Path)) and (Path(directory) / "index.csv").is_file() and not (Path(directory) / MANIFEST).exists():  # panelmodels.INDEX (a module that imports this one)
        raise LstmtuneError(f"{directory}: a folder of model directories, one per series (index.csv names them): "
                            "load one of them, or forecast them all with `lstmtune forecast` on the folder")
    return _loaders().get(manifest_file.kind_of(directory), forecaster.load)(directory)


@dataclasses.dataclass(frozen=True)
class Transformed:
    """``inner`` (a forecaster trained on ``transform``'s output) with forecasts moved back."""

    inner: object
    transform: Transform
    series_name: str
    info: dict = dataclasses.field(default_factory=dict)
    history: tuple = ((), ())  # (dates, values): the series' last observations, for figures

    def forecast(self, horizon: int) -> pd.DataFrame:
        out = self.transform.back(self.inner.forecast(horizon))
        return clip_nonnegative(out) if self.info.get("nonnegative") else out

    def describe(self) -> list[str]:
        t = self.transform
        what = " and ".join(x for x in ("logarithm" if t.log else "", f"Box-Cox (lambda {t.lam:.3f})" if t.lam is not None else "", f"STL seasonal component (period {t.m}) removed" if t.season is not None else "") if x)
        head = (f"a forecaster trained on the series transformed ({what}), forecasts moved back" if what
                else "a forecaster trained on the series as it is" + (", its forecasts kept at or above 0 (the series never went below)" if self.info.get("nonnegative") else ""))
        return [head, *[f"  {line}" for line in self.inner.describe()],
                *[f"{k}: {v}" for k, v in self.info.items()]]

    def save(self, directory) -> Path:
        return _save(directory, {"rule": "transform", "transform": self.transform.to_dict(), "series_name": self.series_name, "info": self.info, "history": _history_dict(self.history)}, {"inner": self.inner})


@dataclasses.dataclass(frozen=True)
class Combination:
    """The ``rule`` (``"mean"`` or ``"median"``) of ``members``' forecasts, point and bounds."""

    members: tuple
    rule: str
    series_name: str
    info: dict = dataclasses.field(default_factory=dict)
    history: tuple = ((), ())  # (dates, values): the series' last observations, for figures

    def forecast(self, horizon: int) -> pd.DataFrame:
        tables = [m.forecast(horizon) for m in self.members]
        out = tables[0][["date"]].copy()
        for c in value_columns(tables[0]):
            stack = np.stack([t[c].to_numpy(dtype=np.float64) for t in tables])
            out[c] = stack.mean(axis=0) if self.rule == "mean" else np.median(stack, axis=0)
        return clip_nonnegative(out) if self.info.get("nonnegative") else out

    def describe(self) -> list[str]:
        lines = [f"the {self.rule} of {len(self.members)} forecasters' forecasts:"]
        for m in self.members:
            lines += [f"  {line}" for line in m.describe()]
        return lines + [f"{k}: {v}" for k, v in self.info.items()]

    def save(self, directory) -> Path:
        return _save(directory, {"rule": self.rule, "series_name": self.series_name, "info": self.info, "history": _history_dict(self.history)}, {f"member{i}": m for i, m in enumerate(self.members)})


HISTORY = 120
"""Observations kept in a composite's manifest for figures (the members hold what they need)."""


def history_of(dates, values) -> tuple:
    """The last :data:`HISTORY` observations, as a composite keeps them."""
    return (np.asarray(dates, dtype="datetime64[ns]")[-HISTORY:], np.asarray(values, dtype=np.float64)[-HISTORY:])


def _history_dict(history) -> dict:
    dates, values = history
    return {"ds": [str(pd.Timestamp(d)) for d in dates], "y": [float(v) for v in values]}


def _history(d: dict | None) -> tuple:
    if not d:
        return ((), ())
    return (pd.DatetimeIndex(d["ds"]).to_numpy(dtype="datetime64[ns]"), np.asarray(d["y"], dtype=np.float64))


def _save(directory, manifest: dict, members: dict) -> Path:
    from lstmtune.store.fileio import atomic_dir

    with atomic_dir(Path(directory)) as tmp:
        for name, member in members.items():
            member.save(tmp / name)
        m = json.loads(json.dumps({"kind": KIND, "format_version": FORMAT_VERSION, "members": list(members), **manifest}))
        m["checksum"] = manifest_file.content_hash(m)
        (tmp / MANIFEST).write_text(json.dumps(m, indent=1))
    return Path(directory)


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and bool(np.isfinite(x))


def _inconsistent(m: dict) -> str | None:
    """What in a composite's manifest cannot be one :func:`_save` wrote (None: nothing). The
    checksum catches an edit; this, an edit whose checksum was recomputed, or format 1."""
    rule, members = m.get("rule"), m.get("members")
    if rule not in ("transform", "mean", "median"):
        return f"rule {rule!r} is not one lstmtune writes (transform, mean or median)"
    if rule == "transform":
        if isinstance(members, list) and len(members) != 1:
            return f"a transform has one member, not {len(members)}"
        t = m.get("transform")
        if not isinstance(t, dict):
            return "transform: not a table of settings"
        if not isinstance(t.get("log"), bool):
            return f"transform.log {t.get('log')!r} is not true or false"
        period = t.get("m")
        if not isinstance(period, int) or isinstance(period, bool) or period < 1:
            return f"transform.m {period!r} is not a season length (a whole number, at least 1)"
        cycle = t.get("season_last_cycle")
        if cycle is not None and (not isinstance(cycle, list) or len(cycle) != period or not all(_number(v) for v in cycle)):
            return f"transform.season_last_cycle is not {period} finite numbers"
        lam = t.get("boxcox_lambda")
        if lam is not None and (not _number(lam) or not 0.0 <= lam <= 1.0 or t["log"]):
            return f"transform.boxcox_lambda {lam!r} is not a number in [0, 1] (without the logarithm)"
    if not isinstance(m.get("series_name", ""), str):
        return "series_name is not text"
    if not isinstance(m.get("info", {}), dict):
        return "info is not a table"
    history = m.get("history")
    if history is not None:
        if not isinstance(history, dict) or not isinstance(history.get("ds"), list) or not isinstance(history.get("y"), list):
            return "history: not dates (ds) and values (y)"
        if len(history["ds"]) != len(history["y"]):
            return f"history has {len(history['ds'])} dates for {len(history['y'])} values"
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in history["y"]):
            return "history.y: not numbers"
    return None


def composite_of(directory) -> Path | None:
    """The composite model whose member ``directory`` is (its parent's manifest lists it), or None.
    A member alone is not the model: its forecasts are transformed back, clipped or combined there."""
    directory = Path(directory)
    parent = directory.resolve().parent
    try:
        m = json.loads((parent / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(m, dict) or m.get("kind") != KIND:
        return None
    members = m.get("members")
    return directory.parent if isinstance(members, list) and directory.resolve().name in members else None


def is_composite(directory) -> bool:
    """Whether ``directory`` holds a composite model (its manifest says so)."""
    return manifest_file.kind_of(directory) == KIND


def load(directory):
    """A :class:`Transformed` or :class:`Combination` from its directory.

    Raises:
      LstmtuneError: a missing or unreadable manifest, another format, or a member that fails its own checks.
    """
    directory = Path(directory)
    m = manifest_file.read(directory, KIND, READABLE, "composite model")
    if m["format_version"] >= 2 and manifest_file.content_hash(m) != m.get("checksum"):
        raise LstmtuneError(f"{directory / MANIFEST}: edited or corrupted (its checksum does not match its content)")
    why = _inconsistent(m)
    if why is not None:
        raise LstmtuneError(f"{directory / MANIFEST}: corrupted or edited: {why}")
    names = m.get("members", ())
    if not isinstance(names, list) or not names:
        raise LstmtuneError(f"{directory / MANIFEST}: no members")
    for name in names:  # a member is a folder of this directory: never a path elsewhere
        if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\\" in name or not (directory / name).is_dir():
            raise LstmtuneError(f"{directory / MANIFEST}: member {name!r} is not a folder of this model directory")
    members = tuple(load_any(directory / name) for name in names)
    try:
        info, history, series_name = dict(m.get("info", {})), _history(m.get("history")), str(m.get("series_name", ""))
        if m.get("rule") == "transform":
            return Transformed(members[0], Transform.from_dict(m["transform"]), series_name, info, history)
        if m.get("rule") in ("mean", "median"):
            return Combination(members, m["rule"], series_name, info, history)
    except (KeyError, TypeError, ValueError) as err:  # pandas' DateParseError is a ValueError
        raise LstmtuneError(f"{directory / MANIFEST}: malformed ({type(err).__name__}: {str(err)[:80]})") from None
    raise LstmtuneError(f"{directory / MANIFEST}: unknown rule {m.get('rule')!r}")


__all__ = ["Combination", "Transform", "Transformed", "history_of", "is_auto_model", "is_composite", "load", "load_any"]
