"""Variants of `lstmtune auto --candidates lstm` on the three development sets (never the check set).

Each variant changes one thing; the score is the mean MASE on the held-out last h points of
every series (as benchmarks/panel.py scores them), the development panel, the short set and
the seasonal-short set reported apart:

- the training settings (`lstm.Settings`): seeds, epochs, units, batch size;
- `windows=1`: one backtest window instead of two (more data before the origin, so more
  candidates can be backtested on short series, chosen on fewer points);
- `mean of all`: no choice among the LSTM candidates at all: the mean of the final forecasts of
  every candidate that can be backtested (each still a seed ensemble);
- `scaler centred (max-abs)` / `scaler standard`: the networks' inputs and targets (the
  differences) centred on their training mean instead of min-max scaled onto [-1, 1], so that a
  network whose output stays at 0 forecasts the mean difference (a drift, as ARIMA's and Theta's
  trend does); divided by their largest distance from the mean or by their standard deviation.
  An experiment: the engine's scaler is replaced for the whole process (every LSTM candidate,
  recursive and direct, reads it), no option of lstmtune;
- `loss mae`: every LSTM candidate (recursive and direct) trained on the mean absolute error
  instead of the squared error (MASE scores absolute errors; a network fitted to the
  conditional median is less pulled by the heavy-tailed differences of a crisis); the names,
  hence the seeds, unchanged. An experiment from outside: the candidates' configurations and
  the direct networks' architecture are replaced in this process;
- `pool of the top 3`: no choice of one candidate: the forecast is always `Pool(top3 LSTM)`,
  the mean of the three LSTM candidates of lowest backtest MASE (forecast pooling,
  Kourentzes, Barrow and Petropoulos 2019), where the series has three; else the choice;
- `sequence input`: the recursive candidates (not the calendar ones) read their k lags as a
  sequence of k steps of one value (timesteps k, lags 1) instead of one step of k values; their
  names gain `seq,`, which also gives them other seeds (a name seeds its ensemble).

Usage: python benchmarks/lstm_variants.py   (each variant in a fresh process; writes
lstm_variants_results.json; --only NAME runs one and prints it; --every-family scores `auto`
with every family instead of `--candidates lstm`)
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from panel import _mase, dev_panel, seasonal_short_panel, short_panel  # noqa: E402

SEASON = {"MS": 12, "QS": 4, "YS": 1}


def synthetic_set() -> list:
    """``benchmarks/panel_scale.py``'s monthly panel, seed 0, 30 series (a development set since the
    twentieth session), each series as the others are given: ``(uid, frame, h, freq)``."""
    from panel_scale import synthetic_panel

    return [(u, f.drop(columns="unique_id").reset_index(drop=True), 12, "MS") for u, f in synthetic_panel(30, seed=0).groupby("unique_id")]


EVERY_FAMILY = False
SETS = {"dev": dev_panel, "short": short_panel, "seasonal-short": seasonal_short_panel, "synthetic": synthetic_set}
VARIANTS = {
    "default": {},
    "seeds 10": {"seeds": 10},
    "epochs 150": {"epochs": 150},
    "epochs 600": {"epochs": 600},
    "units 2": {"units": 2},
    "units 8": {"units": 8},
    "batch 4": {"batch_size": 4},
    "windows=1": "windows",
    "mean of all": "mean",
    "scaler centred (max-abs)": "maxabs",
    "scaler standard": "std",
    "sequence input": "seq",
    "loss mae": "mae",
    "pool of the top 3": "pool",
    "second differences": "d2",
    "point forecast the median of the seeds": "median",
    "second differences where KPSS asks": "d2kpss",
    "second differences in place where KPSS asks": "d2kpss-replace",
    "recursive steps clipped to the training range": "clip",
    "linear highway (LSTNet's autoregressive component)": "highway",
    "calendar as three harmonics": "harmonics",
    "calendar as two harmonics": "harmonics2",
    "calendar as every harmonic": "harmonics-all",
    "seed 1": {"seed": 1},
    "quarter as both harmonics": "harmonics-quarter",
    "quarter as both harmonics, seed 1": ("harmonics-quarter", {"seed": 1}),
    "calendar as every harmonic, seed 1": ("harmonics-all", {"seed": 1}),
    "calendar as three harmonics, seed 1": ("harmonics", {"seed": 1}),
    "one calendar pair (before the harmonics)": "one-pair",
    "one calendar pair, epochs 150": ("one-pair", {"epochs": 150}),
    "epochs 150 (harmonics by AICc)": {"epochs": 150},
}


def _sequence_space(space):
    """``lstm.space`` with its plain recursive candidates reading their lags as a sequence."""
    from lstmtune.study import spec as spec_mod

    def seq(y, season, settings, freq=None, **given):
        out = []
        for name, config, transform, family in space(y, season, settings, freq, **given):
            if name.startswith("LSTM(") and "," not in name.split("lags=")[1].rstrip(")"):
                raw = {"name": "auto", "seed": settings.seed,
                       "model": {"units": settings.units, "epochs": settings.epochs, "batch_size": settings.batch_size, "stateful": False, "shuffle": True},
                       "transforms": {"interval": config.interval, "lags": 1, "timesteps": config.lags}}
                config, name = spec_mod.expand(spec_mod.from_dict(raw, "auto"))[0].config, name.replace("LSTM(", "LSTM(seq,")
            out.append((name, config, transform, family))
        return out

    return seq


def _with_loss(space, loss: str):
    """``lstm.space`` with every network trained on ``loss``; the direct networks' too."""
    import dataclasses

    from lstmtune.forecast import direct
    from lstmtune.forecast.batch import Calendared

    architecture = direct.architecture
    direct.architecture = lambda spec: dataclasses.replace(architecture(spec), loss=loss)

    def swapped(y, season, settings, freq=None, **given):
        out = []
        for name, config, transform, family in space(y, season, settings, freq, **given):
            if isinstance(config, Calendared):
                config = Calendared(dataclasses.replace(config.config, loss=loss), config.calendar)
            elif not isinstance(config, direct.Spec):
                config = dataclasses.replace(config, loss=loss)
            out.append((name, config, transform, family))
        return out

    return swapped


class _Diff:
    """The first differences of the series (the first one repeated, to keep its length) around
    another transform: a network differencing them again at lag 1 trains on second differences;
    forecasts and bounds are summed back from the last observation (an experiment)."""

    def __init__(self, inner, last: float):
        self.inner, self.last = inner, last

    bends = False

    @staticmethod
    def _diff(x: np.ndarray, before: float | None) -> np.ndarray:
        d = np.diff(x, prepend=x[0] if before is None else before)
        if before is None and len(d) > 1:
            d[0] = d[1]
        return d

    def forward(self, y):
        return self._diff(self.inner.forward(y), None)

    def forward_future(self, y):
        return self._diff(self.inner.forward_future(y), self.last)

    def back(self, table):
        out = table.copy()
        from lstmtune.forecast.composite import value_columns

        for c in value_columns(table):
            out[c] = self.last + np.cumsum(table[c].to_numpy(dtype=np.float64))
        return self.inner.back(out)


def _with_second_differences(space, mode: str):
    """``lstm.space`` with candidates on the series' first differences, differenced again at lag 1
    by the network (second differences): added for every series (``d2``), added where the KPSS
    tests (statsforecast's ``ndiffs``, as AutoARIMA chooses d) ask for two differences
    (``d2kpss``), or in place of the lag-1 candidates there (``d2kpss-replace``)."""
    from lstmtune.auto import lstm
    from lstmtune.forecast.composite import Transform

    class Shim:
        @staticmethod
        def fit(kind, y, m):
            if kind is not None and kind.endswith("+d2"):
                base = kind[: -len("+d2")]
                inner = Transform.fit(None if base == "none" else base, y, m)
                return _Diff(inner, float(inner.forward(y)[-1]))
            return Transform.fit(kind, y, m)

    lstm.Transform = Shim

    def wants(y) -> bool:
        if mode == "d2":
            return True
        from statsforecast.arima import ndiffs

        try:
            return int(ndiffs(np.asarray(y, dtype=np.float64), test="kpss")) >= 2
        except Exception:  # noqa: BLE001
            return False

    def spaced(y, season, settings, freq=None, **given):
        out = space(y, season, settings, freq, **given)
        if not wants(y):
            return out
        extra = []
        for name, config, transform, family in out:
            if family != "lstm" or getattr(config, "interval", 1) != 1 or ",month" in name or ",quarter" in name or ",dayofweek" in name:
                continue
            extra.append((name.replace("(", "(d2,", 1), config, f"{transform or 'none'}+d2", family))
        if mode == "d2kpss-replace":
            kept = {n.replace("(d2,", "(", 1) for n, *_ in extra}
            out = [c for c in out if c[0] not in kept]
        return out + extra

    return spaced


def _with_highway():
    """Every network (recursive and direct) gains LSTNet's autoregressive component (Lai et al.
    2018): a linear map of the last step's inputs (the lags, and the calendar where read) added to
    the Dense head's output, trained jointly. Zero-initialised, so each network starts as before
    and draws the same initial weights. An experiment from outside: the engine's ``init`` and
    ``forward`` are replaced in this process (run with ``LSTMTUNE_AOT=0``)."""
    from typing import NamedTuple

    from lstmtune.engine.models import lstm as cells, network

    class HighwayNet(NamedTuple):
        layers: tuple
        dense: cells.DenseParams
        highway: cells.DenseParams

    init, forward = network.init, network.forward

    def init_h(rng, features, units, cell="lstm", outputs=1):
        p = init(rng, features, units, cell, outputs)
        zero = cells.DenseParams(kernel=np.zeros((features, outputs), np.float32), bias=np.zeros(outputs, np.float32))
        return HighwayNet(p.layers, p.dense, zero)

    def forward_h(params, x, state, **kwargs):
        yhat, new_state = forward(network.NetParams(params.layers, params.dense), x, state, **kwargs)
        if isinstance(params, HighwayNet):
            linear = x[:, -1, :] @ params.highway.kernel + params.highway.bias
            yhat = yhat + (linear[:, 0] if linear.shape[1] == 1 else linear)
        return yhat, new_state

    network.init, network.forward = init_h, forward_h


def _with_harmonics(count: int, cycles=("month", "quarter", "dayofweek")):
    """Every calendar network reads the first ``count`` harmonics of each cycle in ``cycles`` (at
    most half its period: all of them with 6), one (sin, cos) pair of the others, whatever AICc
    chose (Fourier terms, :func:`lstmtune.data.problem.calendar_features`). The experiments
    before AICc's choice became the default (twenty-ninth session; ``one-pair`` gives the networks
    before it). An experiment from outside: the calendar's framing is replaced in this process."""
    from lstmtune.data import problem

    plain = problem.extra_inputs

    def extra_inputs(series, framing, pairs):
        names = [problem.calendar_parts(kind)[0] for kind in framing.calendar]
        kinds = tuple(problem.calendar_input(n, min(count, problem.CALENDAR_PERIODS[n] // 2) if n in cycles else 1) for n in names)
        return plain(series, dataclasses.replace(framing, calendar=kinds), pairs)

    problem.extra_inputs = extra_inputs


def _centred_scaler(kind: str):
    """A replacement for ``transforms.fit_scaler``: the same affine form (``x * scale + min``),
    centred on each column's mean."""
    from lstmtune.data import transforms

    minmax = transforms.fit_scaler

    def fit(matrix, feature_range=(-1.0, 1.0)):
        base = minmax(matrix, feature_range)
        m = np.asarray(matrix, dtype=np.float64)
        mean = m.mean(axis=0)
        spread = np.abs(m - mean).max(axis=0) if kind == "maxabs" else m.std(axis=0)
        scale = 1.0 / np.where(spread == 0.0, 1.0, spread)
        return transforms.MinMaxScaler(scale=scale, min=-mean * scale, data_min=base.data_min, data_max=base.data_max)

    return fit


def _mean_of_all(train, h, settings):
    """The mean of every backtestable LSTM candidate's final forecast (no choice among them)."""
    from lstmtune.auto import backtests, lstm
    from lstmtune.data import panel

    verdict = panel.triage(train, h)
    plan = backtests.plan_series(train, verdict, h, ("lstm",), settings, 2)
    before = int((train["ds"] <= plan.cutoffs[0]).sum())
    paths = []
    for name, config, transform, _ in plan.neural:
        steps = h if name.startswith("DirectLSTM(") else 1
        if before - config.interval - config.lags - steps + 1 < (lstm.direct.MIN_WINDOWS if steps > 1 else 1):
            continue  # cannot be trained before the first backtest origin: never a member
        table, _ = lstm.forecast(train, h, name, config, settings, None, transform, verdict.season)
        paths.append(table[name].to_numpy())
    return np.mean(paths, axis=0)


def run(variant) -> dict:
    from lstmtune.auto import lstm
    from lstmtune.auto.run import auto

    if isinstance(variant, tuple):  # an experiment and its settings
        variant, given = variant
    else:
        given = variant if isinstance(variant, dict) else {}
    if variant == "seq":
        lstm.space = _sequence_space(lstm.space)
    if variant == "pool":
        import dataclasses

        from lstmtune.auto import backtests, run as auto_run

        score = backtests.score_series

        def pooled(*args, **kwargs):
            sc = score(*args, **kwargs)
            return dataclasses.replace(sc, chosen=auto_run.POOL_LSTM) if auto_run.POOL_LSTM in set(sc.board["candidate"]) else sc

        backtests.score_series = pooled
    if variant == "mae":
        lstm.space = _with_loss(lstm.space, "mae")
    if variant == "median":
        columns = lstm._columns

        def median_point(table, name, levels):
            out = columns(table, name, levels)
            out[name] = table["median"].to_numpy()
            return out

        lstm._columns = median_point
    if variant in ("d2", "d2kpss", "d2kpss-replace"):
        lstm.space = _with_second_differences(lstm.space, variant)
    if variant == "clip":
        from lstmtune.engine import rollout

        unscale = rollout.unscale_target
        # each recursive step's scaled difference kept within the range the scaler saw in
        # training ([-1, 1]): no step changes more than any training difference did
        rollout.unscale_target = lambda scaled, scaler: unscale(np.clip(np.asarray(scaled, dtype=np.float64), -1.0, 1.0), scaler)
    if variant == "highway":
        _with_highway()
    if variant in ("harmonics", "harmonics2", "harmonics-all"):
        _with_harmonics({"harmonics": 3, "harmonics2": 2, "harmonics-all": 6}[variant])
    if variant == "one-pair":  # the calendar network as before the twenty-ninth session
        lstm.harmonics_for = lambda y, dates, kind: 1
    if variant == "harmonics-quarter":
        _with_harmonics(2, cycles=("quarter",))
    if variant in ("maxabs", "std"):
        from lstmtune.data import transforms

        transforms.fit_scaler = _centred_scaler(variant)
    settings = lstm.Settings(**given)
    out = {}
    for set_name, panel_of in SETS.items():
        t0, scores, series = time.perf_counter(), [], {}
        for uid, frame, h, freq in panel_of():
            train, test = frame.iloc[:-h].assign(unique_id=uid), frame.iloc[-h:]
            if variant == "mean":
                mean = _mean_of_all(train, h, settings)
            else:
                kwargs = {"windows": 1} if variant == "windows" else {}
                families = {} if EVERY_FAMILY else {"candidates": ("lstm",)}
                mean = auto(train, h, settings=settings, **families, **kwargs).forecasts["mean"].to_numpy()
            scores.append(_mase(test["y"].to_numpy(), mean, train["y"].to_numpy(), SEASON[freq]))
            series[uid] = round(float(scores[-1]), 4)
        out[set_name] = {"mean_mase": round(float(np.mean(scores)), 3), "wall_s": round(time.perf_counter() - t0, 1), "series": dict(series)}
    return out


if __name__ == "__main__":
    # each variant in its own process: one process compiling every variant's programs ran out
    # of memory for XLA's compiled code (LLVM "Unable to allocate section memory")
    import subprocess

    EVERY_FAMILY = "--every-family" in sys.argv  # `auto` with every family, not `--candidates lstm`
    if "--only" in sys.argv:
        name = sys.argv[sys.argv.index("--only") + 1]
        print(json.dumps({name: run(VARIANTS[name])}), flush=True)
        sys.exit(0)
    results = {}
    for name in VARIANTS:
        done = subprocess.run([sys.executable, __file__, "--only", name], capture_output=True, text=True, check=True)
        results.update(json.loads(done.stdout.strip().splitlines()[-1]))
        print(name, results[name], flush=True)
    Path(__file__).with_name("lstm_variants_results.json").write_text(json.dumps(results, indent=1))
