"""The model directory: a fitted forecaster on disk, safe to load from anyone.

Layout of ``MODEL_DIR/``::

    manifest.json        format version, versions, configuration, framing, scaler,
                         last observations and dates, seeds, calibration, checksums
    weights.safetensors  the ensemble's weights and each stream's final state (float32)
    backtest.csv         h-step accuracy and interval coverage, with the baselines'

No pickle anywhere: the weights are flat float32 tensors (safetensors: a JSON
header and raw bytes), the rest is JSON. The manifest holds the SHA-256 of the
weights file and of its own content, so a corrupted or edited file is refused
(with one line naming it) instead of forecasting something else. The directory
is written to a temporary folder and moved into place only when complete.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
import pandas as pd
import pydantic

from lstmtune.forecast import intervals
from lstmtune.forecast import manifest as manifest_file
from lstmtune.engine import rollout
from lstmtune.data import transforms
from lstmtune.errors import LstmtuneError
from lstmtune.data.problem import Framing
from lstmtune.study.spec import Config

if TYPE_CHECKING:  # the forecaster imports this module; this one only reads a Forecaster's fields
    from lstmtune.forecast.forecaster import Forecaster

FORMAT_VERSION = 1  # a model without covariates or calendar inputs
FORMAT_VERSION_EXTRAS = 2  # one that reads them (older lstmtune refuses it by version)
READABLE = (FORMAT_VERSION, FORMAT_VERSION_EXTRAS)
MANIFEST = "manifest.json"
WEIGHTS = "weights.safetensors"
BACKTEST = "backtest.csv"


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


class _Scaler(_Strict):
    scale: list[float] = pydantic.Field(min_length=1)
    min: list[float] = pydantic.Field(min_length=1)
    data_min: list[float] = pydantic.Field(min_length=1)
    data_max: list[float] = pydantic.Field(min_length=1)


class _FramingM(_Strict):
    interval: int = pydantic.Field(ge=1)
    lags: int = pydantic.Field(ge=1)
    timesteps: int = pydantic.Field(ge=1)
    trim: int | None = pydantic.Field(ge=0)
    feature_range: tuple[float, float]
    covariates: list[str] = []
    calendar: list[str] = []


class _SeriesM(_Strict):
    name: str
    value_name: str
    positional: bool
    frequency: str | None
    tail_dates: list[str] = pydantic.Field(min_length=1)
    tail_values: list[float] = pydantic.Field(min_length=1)
    first_training_target: str
    tail_covariates: dict[str, list[float]] = {}


class _Calib(_Strict):
    method: str
    widen: dict[str, list[float]]
    exact: dict[str, list[bool]]
    origins: list[int]


class _Manifest(_Strict):
    format_version: pydantic.StrictInt  # true or 1.0 are no format
    lstmtune_version: str
    created: str
    config: dict[str, Any]
    framing: _FramingM
    scaler: _Scaler
    series: _SeriesM
    seeds: list[int]
    next_rows: int
    calibration: _Calib
    info: dict[str, Any]
    weights: dict[str, str]
    checksum: str


def _tensors(f: Forecaster) -> dict[str, np.ndarray]:
    import jax

    out = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(f.net.params)[0]:
        out["params" + jax.tree_util.keystr(path)] = np.ascontiguousarray(leaf, dtype=np.float32)
    for path, leaf in jax.tree_util.tree_flatten_with_path(f.state)[0]:
        out["state" + jax.tree_util.keystr(path)] = np.ascontiguousarray(leaf, dtype=np.float32)
    return out


def format_version(f: Forecaster) -> int:
    """The format ``f`` is written in: 2 when it reads covariates or calendar inputs, else 1."""
    return FORMAT_VERSION_EXTRAS if f.framing.covariates or f.framing.calendar else FORMAT_VERSION


def manifest(f: Forecaster, weights_sha256: str) -> dict:
    """The manifest of ``f`` (JSON-ready), given its weights file's SHA-256."""
    from lstmtune._version import __version__

    m = {
        "format_version": format_version(f),
        "lstmtune_version": __version__,
        "created": f.created or datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "config": f.config.params(),
        "framing": {
            "interval": f.framing.interval,
            "lags": f.framing.lags,
            "timesteps": f.framing.timesteps,
            "trim": f.framing.trim,
            "feature_range": list(f.framing.feature_range),
        },
        "scaler": {k: [float(x) for x in getattr(f.scaler, k)] for k in ("scale", "min", "data_min", "data_max")},
        "series": {
            "name": f.series_name,
            "value_name": f.value_name,
            "positional": f.positional,
            "frequency": f.frequency,
            "tail_dates": [str(d) for d in f.tail_dates.astype("datetime64[ns]")],
            "tail_values": [float(v) for v in f.tail_values],
            "first_training_target": str(np.datetime64(f.first_date, "ns")),
        },
        "seeds": [int(s) for s in f.seeds],
        "next_rows": int(f.next_rows),
        "calibration": f.calibration.to_dict(),
        "info": f.info,
        "weights": {"file": WEIGHTS, "sha256": weights_sha256},
    }
    if m["format_version"] == FORMAT_VERSION_EXTRAS:
        m["framing"] |= {"covariates": list(f.framing.covariates), "calendar": list(f.framing.calendar)}
        if f.framing.covariates:
            m["series"]["tail_covariates"] = {name: [float(v) for v in f.tail_covariates[:, j]] for j, name in enumerate(f.framing.covariates)}
    m["checksum"] = manifest_file.content_hash(json.loads(json.dumps(m)))
    return m


OWN_FILES = frozenset({MANIFEST, WEIGHTS, BACKTEST})
"""What :func:`save` writes into a model directory."""


def written_by_save(directory: Path) -> bool:
    """Whether ``directory`` holds only what :func:`save` writes, its manifest a fitted model's."""
    try:
        names = {p.name for p in directory.iterdir()}
        m = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return names <= OWN_FILES and isinstance(m, dict) and {"format_version", "config", "weights"} <= set(m)


def holding(names: list[str]) -> str:
    """``it holds 'a' and 2 more``: what is in the way in a folder that may not be replaced."""
    return f"it holds {names[0]!r}" + (f" and {len(names) - 1} more" if len(names) > 1 else "")


def check_replaceable(directory: str | Path) -> None:
    """Refuse to replace ``directory`` unless it is absent, empty, or a model directory
    :func:`save` wrote (a folder holding a ``manifest.json`` of something else, or any other
    file beside a model's, is never deleted).

    Raises:
      LstmtuneError: naming the directory and what is in the way.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise LstmtuneError(f"{directory}: exists and is not a directory")
    if not directory.is_dir() or not any(directory.iterdir()) or written_by_save(directory):
        return
    others = sorted(p.name for p in directory.iterdir() if p.name not in OWN_FILES)
    what = holding(others) if others else "its manifest.json is not a fitted model's"
    raise LstmtuneError(f"{directory}: not empty and not a model directory lstmtune fit wrote ({what}); choose a new --out")


def save(f: Forecaster, directory: str | Path) -> Path:
    """Write ``f`` to ``directory`` (replaced as a whole, atomically).

    Returns:
      The directory.
    """
    from safetensors.numpy import save_file

    from lstmtune.store.fileio import _umask, atomic_dir

    directory = Path(directory)
    check_replaceable(directory)
    with atomic_dir(directory) as tmp:
        # one metadata key: safetensors writes its metadata in a random key order, so two keys
        # made the same model's file differ from one save to the next
        save_file(_tensors(f), str(tmp / WEIGHTS), metadata={"format": f"lstmtune-forecaster {format_version(f)}"})
        os.chmod(tmp / WEIGHTS, 0o666 & ~_umask())  # safetensors writes 0600
        digest = hashlib.sha256((tmp / WEIGHTS).read_bytes()).hexdigest()
        (tmp / MANIFEST).write_text(json.dumps(manifest(f, digest), indent=2))
        if f.backtest is not None:
            f.backtest.to_csv(tmp / BACKTEST, index=False)
    return directory


def _read_backtest(directory: Path) -> pd.DataFrame | None:
    """``backtest.csv`` (None where absent: the manifest holds the calibration).

    Raises:
      LstmtuneError: it is not the table fit writes (not CSV, no model or horizon column, text where numbers go).
    """
    path = directory / BACKTEST
    if not path.is_file():
        return None
    def damaged(why: str) -> LstmtuneError:
        return LstmtuneError(f"{path}: not the backtest table `lstmtune fit` writes ({why}): the directory changed since `lstmtune fit` wrote it; "
                             "fit again, or delete this file (the forecasts do not depend on it)")

    try:
        table = pd.read_csv(path, float_precision="round_trip")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as err:
        raise damaged(type(err).__name__) from None
    for column in ("model", "horizon"):
        if column not in table.columns:
            raise damaged(f"no column {column!r}")
    for column in [c for c in table.columns if c != "model"]:
        numbers = pd.to_numeric(table[column], errors="coerce")
        if (numbers.isna() & table[column].notna()).any() or (column == "horizon" and (numbers.isna() | (numbers % 1 != 0)).any()):
            raise damaged(f"column {column!r} holds text where numbers go")
        table[column] = numbers
    return table


def _read_manifest(directory: Path) -> _Manifest:
    path = directory / MANIFEST
    if not directory.is_dir():
        raise LstmtuneError(f"{directory}: a file, not a model directory" if directory.exists() else f"{directory}: no such model directory")
    if not path.is_file():
        if (directory / ".lstmtune-auto").is_file():  # auto's output folder: its models are in models/
            raise LstmtuneError(f"{directory}: lstmtune auto's output folder; its model directories are in {directory / 'models'} (one per series)")
        raise LstmtuneError(f"{directory}: no {MANIFEST}; not an lstmtune model directory (written by `lstmtune fit`)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise LstmtuneError(f"{path}: corrupted, not valid JSON ({err})") from None
    if not isinstance(raw, dict) or "format_version" not in raw:
        raise LstmtuneError(f"{path}: corrupted, no format_version")
    version = raw["format_version"]
    if version not in READABLE:
        raise LstmtuneError(
            f"{path}: model format_version {version!r} is not supported; this lstmtune reads formats {', '.join(map(str, READABLE))} "
            f"(a newer format needs a newer lstmtune; otherwise refit with `lstmtune fit`)"
        )
    try:
        m = _Manifest.model_validate(raw)
    except pydantic.ValidationError as err:
        e = err.errors()[0]
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        raise LstmtuneError(f"{path}: corrupted or edited: {where}: {e['msg']}") from None
    if manifest_file.content_hash(raw) != m.checksum:
        raise LstmtuneError(f"{path}: edited or corrupted (its checksum does not match its content); refit with `lstmtune fit`")
    why = _inconsistent(m)
    if why is not None:
        raise LstmtuneError(f"{path}: corrupted or edited: {why}")
    return m


def _inconsistent(m: _Manifest) -> str | None:
    """What in a manifest of the right types cannot be a model fit wrote (None: nothing)."""
    from lstmtune.data.series import frequency_offset

    s, sc = m.series, m.scaler
    if len(s.tail_dates) != len(s.tail_values):
        return f"series.tail_dates has {len(s.tail_dates)} dates for {len(s.tail_values)} tail_values"
    if not s.positional and pd.to_datetime(pd.Series(s.tail_dates), errors="coerce").isna().any():
        return "series.tail_dates: not dates"
    if s.frequency is not None and frequency_offset(s.frequency) is None:
        return f"series.frequency {s.frequency!r}: not a pandas frequency"
    if len({len(sc.scale), len(sc.min), len(sc.data_min), len(sc.data_max)}) != 1:
        return "scaler: scale, min, data_min and data_max of different lengths"
    # values no fit writes (a manifest edited with its checksum recomputed forecast inf, blank cells
    # or other numbers, exit 0: a probe)
    for name in ("scale", "min", "data_min", "data_max"):
        if not np.all(np.isfinite(np.asarray(getattr(sc, name), dtype=np.float64))):
            return f"scaler.{name}: not finite"
    if not np.all(np.asarray(sc.scale, dtype=np.float64) > 0):
        return "scaler.scale: not above 0"
    if np.any(np.asarray(sc.data_max, dtype=np.float64) < np.asarray(sc.data_min, dtype=np.float64)):
        return "scaler.data_max below scaler.data_min"
    if not np.all(np.isfinite(np.asarray(s.tail_values, dtype=np.float64))):
        return "series.tail_values: not finite"
    if m.next_rows < 0:
        return f"next_rows {m.next_rows}: below 0"
    if not m.seeds:
        return "seeds: none"
    lo, hi = m.framing.feature_range
    if not lo < hi:
        return f"framing.feature_range {m.framing.feature_range}: the lower end must be below the upper"
    fr = m.framing
    need = fr.interval + fr.lags + fr.timesteps - 1
    if len(s.tail_values) < need:
        return f"series.tail_values: {len(s.tail_values)} values, fewer than the {need} its framing reads (interval + lags + timesteps - 1)"
    if not s.positional and not pd.DatetimeIndex(pd.to_datetime(pd.Series(s.tail_dates))).is_monotonic_increasing:
        return "series.tail_dates: not in increasing order"
    return _inconsistent_calibration(m.calibration)


def _inconsistent_calibration(cal: _Calib) -> str | None:
    """What in the calibration no fit writes: levels that are not fractions, a level widened but
    not marked (or the reverse), a list not one value per horizon, a value not finite."""
    for level in cal.widen:
        try:
            ok = 0 < float(level) < 1
        except ValueError:
            ok = False
        if not ok:
            return f"calibration.widen: level {level!r} is not a fraction between 0 and 1"
    if set(cal.widen) != set(cal.exact):
        return "calibration: widen and exact name different levels"
    steps = len(cal.origins)
    for name, table in (("widen", cal.widen), ("exact", cal.exact)):
        for level, values in table.items():
            if len(values) != steps:
                return f"calibration.{name}[{level!r}]: {len(values)} values for {steps} horizons (origins)"
    if not all(np.all(np.isfinite(np.asarray(v, dtype=np.float64))) for v in cal.widen.values()):
        return "calibration.widen: not finite"
    if any(o < 0 for o in cal.origins):
        return "calibration.origins: below 0"
    return None


def read(directory: str | Path) -> dict:
    """Read a model directory written by :func:`save`: the :class:`~lstmtune.forecast.forecaster.Forecaster`'s
    fields, by name (:func:`lstmtune.forecast.forecaster.load` builds it).

    Raises:
      LstmtuneError: the directory, manifest or weights are missing, corrupted,
        edited, or of another format version; the message names the file.
    """
    import jax
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    from lstmtune.engine.models import network

    directory = Path(directory)
    m = _read_manifest(directory)
    wpath = directory / m.weights.get("file", WEIGHTS)
    if not wpath.is_file():
        raise LstmtuneError(f"{wpath}: missing; the model directory is incomplete")
    if hashlib.sha256(wpath.read_bytes()).hexdigest() != m.weights.get("sha256"):
        raise LstmtuneError(f"{wpath}: does not match the manifest's checksum (corrupted or replaced)")
    try:
        tensors = load_file(str(wpath))
    except (SafetensorError, OSError) as err:
        raise LstmtuneError(f"{wpath}: unreadable ({err})") from None
    from lstmtune.study import configs as configs_mod

    try:
        configs_mod._check_model({k: v for k, v in m.config.items() if k in configs_mod._MODEL_KEYS})  # what a study file may hold
    except pydantic.ValidationError as err:
        e = err.errors()[0]
        raise LstmtuneError(f"{directory / MANIFEST}: corrupted or edited: config.{e['loc'][0] if e['loc'] else '?'}: {e['msg'].removeprefix('Value error, ')}") from None
    try:
        params = dict(m.config)
        if isinstance(params.get("units"), list):
            params["units"] = tuple(params["units"])
        config = Config(**params)
    except TypeError as err:
        raise LstmtuneError(f"{directory / MANIFEST}: config: {err}") from None
    B, P = config.batch_size, len(m.seeds)
    fr, s = m.framing, m.series
    from lstmtune.data.problem import calendar_parts

    for kind in fr.calendar:
        try:
            calendar_parts(kind)
        except ValueError as err:
            raise LstmtuneError(f"{directory / MANIFEST}: corrupted or edited: framing.calendar: {err}") from None
    framing = Framing(
        fr.interval, fr.lags, fr.timesteps, test_size=0, trim=fr.trim, feature_range=tuple(fr.feature_range),
        covariates=tuple(fr.covariates), calendar=tuple(fr.calendar),
    )
    lacking = [c for c in framing.covariates if len(s.tail_covariates.get(c, ())) != len(s.tail_values)]
    if lacking:
        raise LstmtuneError(f"{directory / MANIFEST}: series.tail_covariates: {lacking[0]!r} missing or of the wrong length")
    template = network.init(np.random.default_rng(0), framing.features, config.layers, config.cell)
    state_template = tuple(tuple(np.zeros((B, u), np.float32) for _ in range(2 if config.cell == "lstm" else 1)) for u in config.layers)

    def rebuild(prefix: str, tree):
        leaves = []
        for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
            name = prefix + jax.tree_util.keystr(path)
            arr = tensors.get(name)
            if arr is None or arr.shape != (P,) + np.shape(leaf):
                raise LstmtuneError(f"{wpath}: tensor {name} missing or of the wrong shape for the manifest's configuration")
            leaves.append(arr)
        return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(tree), leaves)

    net = rollout.network_for(config, rebuild("params", template), B)
    backtest = _read_backtest(directory)
    cal = m.calibration
    return dict(
        config=config,
        framing=framing,
        scaler=transforms.MinMaxScaler(*(np.asarray(getattr(m.scaler, k), dtype=np.float64) for k in ("scale", "min", "data_min", "data_max"))),
        net=net,
        state=rebuild("state", state_template),
        next_rows=m.next_rows,
        seeds=tuple(m.seeds),
        tail_dates=np.asarray([np.datetime64(d, "ns") for d in s.tail_dates], dtype="datetime64[ns]"),
        tail_values=np.asarray(s.tail_values, dtype=np.float64),
        first_date=np.datetime64(s.first_training_target, "ns"),
        frequency=s.frequency,
        positional=s.positional,
        series_name=s.name,
        value_name=s.value_name,
        calibration=intervals.Calibration(cal.widen, cal.exact, cal.origins),
        backtest=backtest,
        info=m.info,
        tail_covariates=np.stack([np.asarray(s.tail_covariates[c], dtype=np.float64) for c in framing.covariates], axis=1) if framing.covariates else None,
        created=m.created,
    )


__all__ = ["FORMAT_VERSION", "read", "save"]
