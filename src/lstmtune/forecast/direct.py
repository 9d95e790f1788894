"""A direct multi-step LSTM ensemble: each network outputs all H steps at once (MQ-RNN style).

A recursive one-step network feeds its own forecasts back as inputs, so its errors compound
over the horizon; a *direct* network is trained on what it is used for: from the last
``lags`` differences (at lag ``interval``) of the series, the next H differences together
(``engine.Architecture(outputs=H)``: Dense(H) head, loss averaged over the H outputs,
stateless, shuffled). The forecast of step h is its difference added to the value ``interval``
steps before (observed, or forecast when ``h > interval``). One min-max scaler (range
[-1, 1]) is fitted on every difference the windows read. Every seed is one replica of one
population: one compiled program.

Training windows need ``lags`` differences and the H after them, so a series gives
``n - interval - lags - H + 1`` windows; a model forecasts at most the H it was trained for.

A directory holds ``manifest.json`` (kind ``lstmtune-direct``: the settings, the scaler, the
last observations, the calibration, the SHA-256 of the weights) and ``weights.safetensors``
(float32, no pickle). Loading checks the checksum.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lstmtune.data import transforms
from lstmtune.data.messages import day
from lstmtune.data.problem import Counts, Framing, Problem
from lstmtune.data.series import dates_after
from lstmtune.errors import LstmtuneError
from lstmtune.forecast import intervals
from lstmtune.forecast import manifest as manifest_file

KIND = "lstmtune-direct"
FORMAT_VERSION = 1
MANIFEST, WEIGHTS = manifest_file.MANIFEST, "weights.safetensors"
RECENT = 120  # observations kept with the model (at least the interval + lags a forecast reads)
MIN_WINDOWS = 8


@dataclasses.dataclass(frozen=True)
class Spec:
    """A direct network's settings: differencing ``interval``, ``lags`` input differences,
    ``units``, ``epochs``, ``batch_size``; ``horizon`` (H outputs) is set when fitted."""

    interval: int = 1
    lags: int = 1
    units: int = 4
    epochs: int = 300
    batch_size: int = 8
    horizon: int = 0

    def minimum_length(self, horizon: int) -> int:
        """Observations needed for :data:`MIN_WINDOWS` training windows."""
        return self.interval + self.lags + horizon + MIN_WINDOWS - 1


def windows(z: np.ndarray, lags: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Every ``(inputs (R, lags), targets (R, horizon))`` pair of consecutive values of ``z``."""
    r = len(z) - lags - horizon + 1
    start = np.arange(max(r, 0))[:, None]
    return z[start + np.arange(lags)], z[start + lags + np.arange(horizon)]


def problem_for(y: np.ndarray, spec: Spec) -> Problem:
    """The training arrays of ``y`` for a direct head of ``spec.horizon`` outputs (no test part).

    ``train_prev`` / ``train_actual`` are the first output's: the engine scores its one-step forecasts.

    Raises:
      LstmtuneError: fewer than :data:`MIN_WINDOWS` training windows.
    """
    d, L, H = spec.interval, spec.lags, spec.horizon
    if len(y) < spec.minimum_length(H):
        raise LstmtuneError(f"{len(y)} observations: a direct network of {L} lags, differencing {d} and horizon {H} needs at least {spec.minimum_length(H)}")
    z = y[d:] - y[:-d]
    scaler = transforms.fit_scaler(z[:, None])
    zs = transforms.scale(scaler, z[:, None])[:, 0]
    x, target = windows(zs, L, H)
    r = len(x)
    first = np.arange(r) + L  # index in z of each window's first target: y[first + d] = z[first] + y[first]
    empty = np.zeros(0)
    return Problem(
        train_x=x[:, None, :], train_y=target, test_x=np.zeros((0, 1, L)), test_y=empty, scaler=scaler,
        train_prev=y[first], train_actual=y[first + d], test_prev=empty, test_actual=empty,
        counts=Counts(values=len(y), differences=len(z), pairs=r, train=r, test=0, trimmed=0, train_used=r),
        framing=Framing(interval=d, lags=L, timesteps=1, test_size=0),
    )


def architecture(spec: Spec):
    """The engine's static settings of a direct network."""
    from lstmtune.engine import trainer as engine

    return engine.Architecture(units=spec.units, batch_size=spec.batch_size, stateful=False, shuffle=True, outputs=spec.horizon)


@dataclasses.dataclass(frozen=True)
class DirectForecaster:
    """A fitted ensemble of direct networks and the last observations it forecasts from.

    Attributes:
      spec: the settings (``spec.horizon``: the steps it forecasts at most).
      seeds: one per replica.
      scaler: the differences' min-max scaler.
      params: the ensemble's weights (a ``NetParams`` of NumPy float32 arrays, leading axis P).
      dates / values: the last observations (at least ``interval + lags``).
      frequency: the series' pandas frequency alias (None: irregular).
      series_name: where the data came from.
      calibration: widening of the ensemble's quantile bands (None: the raw bands).
      info: provenance.
    """

    spec: Spec
    seeds: tuple[int, ...]
    scaler: transforms.MinMaxScaler
    params: object
    dates: np.ndarray
    values: np.ndarray
    frequency: str | None
    series_name: str
    calibration: intervals.Calibration | None = None
    info: dict = dataclasses.field(default_factory=dict)

    @property
    def history(self) -> tuple[np.ndarray, np.ndarray]:
        return self.dates, self.values

    def paths(self, horizon: int) -> tuple[np.ndarray, np.datetime64, np.ndarray]:
        """Each replica's forecast ``(P, horizon)``, the last observed date, and the dates kept.

        Raises:
          LstmtuneError: a horizon that is not a whole number from 1 to the one trained.
        """
        H = self.spec.horizon
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or not 1 <= horizon <= H:
            raise LstmtuneError(f"horizon must be a whole number of steps from 1 to {H} (this direct model was trained for {H}), got {horizon!r}")
        d, L = self.spec.interval, self.spec.lags
        y = self.values
        z = y[-L:] - y[-L - d : len(y) - d]
        x = transforms.scale(self.scaler, z[:, None])[:, 0].astype(np.float32)
        out = np.asarray(_predict(self.params, self.spec.units, x[None, None, :]), dtype=np.float64)[:, 0, :]  # (P, H) scaled
        diffs = (out - self.scaler.min[0]) / self.scaler.scale[0]
        levels = np.concatenate([np.broadcast_to(y[-d:], (len(diffs), d)), np.zeros_like(diffs)], axis=1)
        for h in range(H):  # step h adds its difference to the value d steps before it
            levels[:, d + h] = diffs[:, h] + levels[:, h]
        return levels[:, d : d + int(horizon)], self.dates[-1], self.dates

    def forecast(self, horizon: int, *, calibrated: bool = True, levels=None) -> pd.DataFrame:
        """``date, mean, median, lower_80, upper_80, lower_95, upper_95`` for ``horizon`` steps
        (the calibration's levels; ``levels``, fractions, for raw bands)."""
        paths, _, dates = self.paths(horizon)
        return self.summarize(paths, self.future_dates(int(horizon), dates), calibrated=calibrated, levels=levels)

    def summarize(self, paths: np.ndarray, dates, *, calibrated: bool = True, levels=None) -> pd.DataFrame:
        """Ensemble paths ``(P, H)`` -> the forecast table (as :meth:`lstmtune.forecast.forecaster.Forecaster.summarize`)."""
        return intervals.summarize(paths, dates, self.calibration if calibrated else None, levels)

    def future_dates(self, horizon: int, history_dates: np.ndarray):
        """The ``horizon`` dates after the history's last (the series' frequency)."""
        return dates_after(history_dates, horizon, self.frequency)

    def describe(self) -> list[str]:
        s = self.spec
        lines = [
            f"fitted from {self.info.get('source', '?')}: {self.info.get('label', '')}",
            f"a direct multi-step LSTM: {s.units} units, Dense({s.horizon}) head; inputs: the last {s.lags} differences at lag {s.interval}",
            (f"ensemble: {len(self.seeds)} seeds, each a global network trained {s.epochs} epochs (batch {s.batch_size}, shuffled) on the "
             f"{self.info['pooled_windows']} windows of {self.info['pooled_series']} series, each series scaled by its own differences' range"
             if "pooled_series" in self.info else
             f"ensemble: {len(self.seeds)} seeds, each trained {s.epochs} epochs (batch {s.batch_size}, shuffled) on every window of the series"),
            f"data: {self.series_name}, dates to {day(self.dates[-1])}" + (f", frequency {self.frequency}" if self.frequency else ""),
            f"forecasts at most {s.horizon} steps",
        ]
        how = self.info.get("calibration")
        lines.append(f"calibration: {how}" if how and self.calibration is not None else "calibration: none (intervals are the raw ensemble quantiles)")
        return lines

    def save(self, directory) -> Path:
        """Write the model directory (an existing one is replaced only once the new one is complete)."""
        from safetensors.numpy import save_file

        from lstmtune.store.fileio import atomic_dir

        with atomic_dir(Path(directory)) as tmp:
            save_file(_flatten(self.params), str(tmp / WEIGHTS))
            digest = hashlib.sha256((tmp / WEIGHTS).read_bytes()).hexdigest()
            sc = self.scaler
            manifest = {
                "kind": KIND, "format_version": FORMAT_VERSION, "spec": dataclasses.asdict(self.spec), "seeds": [int(x) for x in self.seeds],
                "scaler": {k: [float(v) for v in np.asarray(getattr(sc, k))] for k in ("scale", "min", "data_min", "data_max")},
                "dates": [str(pd.Timestamp(x)) for x in self.dates], "values": [float(v) for v in self.values],
                "frequency": self.frequency, "series_name": self.series_name,
                "calibration": None if self.calibration is None else dataclasses.asdict(self.calibration),
                "info": self.info, "weights": {"file": WEIGHTS, "sha256": digest},
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
        return Path(directory)


def _flatten(params) -> dict[str, np.ndarray]:
    out = {}
    for i, layer in enumerate(params.layers):
        for name in layer._fields:
            out[f"layer{i}.{name}"] = np.ascontiguousarray(getattr(layer, name), dtype=np.float32)
    out["dense.kernel"] = np.ascontiguousarray(params.dense.kernel, dtype=np.float32)
    out["dense.bias"] = np.ascontiguousarray(params.dense.bias, dtype=np.float32)
    return out


def _unflatten(tensors: dict[str, np.ndarray]):
    from lstmtune.engine.models import lstm, network

    layers = []
    while f"layer{len(layers)}.kernel" in tensors:
        i = len(layers)
        layers.append(lstm.LSTMParams(*(tensors[f"layer{i}.{name}"] for name in lstm.LSTMParams._fields)))
    return network.NetParams(layers=tuple(layers), dense=lstm.DenseParams(tensors["dense.kernel"], tensors["dense.bias"]))


def _predict(params, units: int, x: np.ndarray):
    """Every replica's outputs ``(P, rows, H)`` for inputs ``x (rows, 1, lags)``, from a zero state."""
    import jax

    from lstmtune.engine import trainer as engine
    from lstmtune.engine.models import network

    engine._ensure_configured()
    state = network.zero_state(x.shape[0], (units,))
    return jax.vmap(lambda p: network.forward(p, x, state)[0])(params)


def fit(history: pd.Series, spec: Spec, *, seeds: Sequence[int], series_name: str = "", info: dict | None = None) -> DirectForecaster:
    """Train ``spec`` (its ``horizon`` set) as a seed ensemble on every window of ``history``
    (a pandas Series with a DatetimeIndex).

    Raises:
      LstmtuneError: the series is too short, or a replica diverged.
    """
    from lstmtune.engine import trainer as engine

    if spec.horizon < 1:
        raise LstmtuneError(f"a direct network needs its horizon (got {spec.horizon})")
    problem = problem_for(history.to_numpy(dtype=np.float64), spec)
    seeds = [int(s) for s in seeds]
    result = engine.train_population(problem, architecture(spec), engine.Schedule.for_checkpoints([spec.epochs]), seeds=seeds)
    return assemble(history, spec, seeds, problem, result.params, result.diverged_epoch, series_name, info)


def assemble(history: pd.Series, spec: Spec, seeds: Sequence[int], problem: Problem, params, diverged_epoch, series_name: str = "", info: dict | None = None) -> DirectForecaster:
    """The :class:`DirectForecaster` of an ensemble trained on ``problem`` (from ``history``).

    Raises:
      LstmtuneError: a replica diverged.
    """
    from lstmtune.data.series import regular_frequency

    if (np.asarray(diverged_epoch) > 0).any():
        bad = [int(s) for s, e in zip(seeds, diverged_epoch) if e > 0]
        raise LstmtuneError(f"{len(bad)} of {len(seeds)} direct replicas diverged (seeds {bad[:5]})")
    y = history.to_numpy(dtype=np.float64)
    dates = np.asarray(history.index, dtype="datetime64[ns]")
    keep = max(RECENT, spec.interval + spec.lags)
    return DirectForecaster(spec, tuple(int(s) for s in seeds), problem.scaler, params, dates[-keep:], y[-keep:], regular_frequency(dates), series_name,
                            None, {"training_windows": problem.counts.train, **(info or {})})


def is_direct(directory) -> bool:
    """Whether ``directory`` holds a direct model (its manifest says so)."""
    return manifest_file.kind_of(directory) == KIND


def load(directory) -> DirectForecaster:
    """A :class:`DirectForecaster` from its directory.

    Raises:
      LstmtuneError: a missing or unreadable file, another format, or weights whose checksum differs.
    """
    from safetensors.numpy import load_file

    directory = Path(directory)
    m = manifest_file.read(directory, KIND, FORMAT_VERSION, "direct model")
    try:
        raw = (directory / WEIGHTS).read_bytes()
    except OSError as err:
        raise LstmtuneError(f"{directory}: not a readable model directory ({err})") from None
    weights = m.get("weights")
    if not isinstance(weights, dict) or not isinstance(weights.get("sha256"), str):
        raise LstmtuneError(f"{directory / MANIFEST}: malformed (no weights checksum)")
    if hashlib.sha256(raw).hexdigest() != weights["sha256"]:
        raise LstmtuneError(f"{directory / WEIGHTS}: checksum differs from the manifest's (the file was changed or damaged)")
    spec = m.get("spec")
    if not isinstance(spec, dict):
        raise LstmtuneError(f"{directory / MANIFEST}: malformed (spec is {type(spec).__name__}, not a table)")
    for k, v in spec.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < (0 if k == "horizon" else 1):
            raise LstmtuneError(f"{directory / MANIFEST}: malformed (spec.{k} = {v!r:.40}: a positive whole number expected)")
    try:
        params = _unflatten(load_file(str(directory / WEIGHTS)))
        sc = transforms.MinMaxScaler(**{k: np.asarray(v, dtype=np.float64) for k, v in m["scaler"].items()})
        cal = m.get("calibration")
        return DirectForecaster(
            Spec(**m["spec"]), tuple(m["seeds"]), sc, params, pd.DatetimeIndex(m["dates"]).to_numpy(dtype="datetime64[ns]"),
            np.asarray(m["values"], dtype=np.float64), m.get("frequency"), m.get("series_name", ""),
            None if cal is None else intervals.Calibration(cal["widen"], cal["exact"], cal["origins"]), dict(m.get("info", {})),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise LstmtuneError(f"{directory / MANIFEST}: malformed ({err})") from None


__all__ = ["DirectForecaster", "Spec", "architecture", "assemble", "fit", "is_direct", "load", "problem_for", "windows"]
