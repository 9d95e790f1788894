"""A global direct LSTM: one network per seed trained on the windows of many series.

Cross-learning (NeuralForecast's global models; Smyl's ES-RNN): a short series has too few
windows to train a network of its own, but many series together have plenty. Each series is
differenced at ``interval`` and its differences min-max scaled to [-1, 1] *by its own
scaler* (the range of its own differences), so series of any level and scale share one
network; the windows of every series (``lags`` differences in, the next H out, as
:mod:`lstmtune.forecast.direct` frames one series) are pooled into one training set. Each
seed is one replica; every replica of every :class:`PooledJob` of one shape trains in one
compiled program (:func:`lstmtune.forecast.batch.fit_many`).

The fitted network forecasts each series as a :class:`~lstmtune.forecast.direct.DirectForecaster`
holding the shared weights, that series' scaler and its last observations: it is saved,
loaded and described like any direct model. A series too short to give a training window of
its own is still forecast when it has the ``interval + lags`` observations the inputs read
(and at least two differences to scale by): that is what cross-learning is for.

Unlike a local network, a global one depends on the other series it was trained with: its
result is reproducible for the same panel and seed, not series by series.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from lstmtune.data import transforms
from lstmtune.data.problem import Counts, Framing, Problem
from lstmtune.errors import LstmtuneError
from lstmtune.forecast import direct

MIN_WINDOWS = direct.MIN_WINDOWS
"""Pooled training windows needed at least (over all series)."""


@dataclasses.dataclass(frozen=True)
class PooledJob:
    """One global ensemble to fit: ``spec`` (its horizon set) on the windows of every series
    of ``histories`` (pandas Series with a DatetimeIndex), one replica per seed; ``names``
    label the series' forecasters."""

    histories: tuple[pd.Series, ...]
    spec: direct.Spec
    seeds: tuple[int, ...]
    names: tuple[str, ...] = ()
    info: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class _Member:
    scaler: transforms.MinMaxScaler | None  # None: too few observations to scale or forecast
    windows: int


def _scaled(y: np.ndarray, spec: direct.Spec):
    """``(scaler, inputs, targets)`` of one series (``None`` scaler: fewer than two differences)."""
    d = spec.interval
    if len(y) < d + 2:
        return None, np.zeros((0, spec.lags)), np.zeros((0, spec.horizon))
    z = y[d:] - y[:-d]
    scaler = transforms.fit_scaler(z[:, None])
    zs = transforms.scale(scaler, z[:, None])[:, 0]
    x, t = direct.windows(zs, spec.lags, spec.horizon)
    return scaler, x, t


def problem_for(histories: Sequence[np.ndarray], spec: direct.Spec) -> tuple[Problem, list[_Member]]:
    """The pooled training arrays of the series ``histories`` (no test part), and each series'
    scaler and window count. ``train_prev`` / ``train_actual`` are placeholders: a pooled
    network's one-step training error has no single scale, and nothing reads it.

    Raises:
      LstmtuneError: fewer than :data:`MIN_WINDOWS` windows over all series.
    """
    xs, ts, members = [], [], []
    for y in histories:
        scaler, x, t = _scaled(np.asarray(y, dtype=np.float64), spec)
        xs.append(x)
        ts.append(t)
        members.append(_Member(scaler, len(x)))
    x, target = np.concatenate(xs), np.concatenate(ts)
    r = len(x)
    if r < MIN_WINDOWS:
        raise LstmtuneError(f"{r} training windows over {len(members)} series: a global network of {spec.lags} lags, differencing {spec.interval} "
                            f"and horizon {spec.horizon} needs at least {MIN_WINDOWS}")
    zeros, empty = np.zeros(r), np.zeros(0)
    unit = transforms.MinMaxScaler(scale=np.ones(1), min=np.zeros(1), data_min=np.zeros(1), data_max=np.ones(1))
    problem = Problem(
        train_x=x[:, None, :], train_y=target, test_x=np.zeros((0, 1, spec.lags)), test_y=empty, scaler=unit,
        train_prev=zeros, train_actual=zeros, test_prev=empty, test_actual=empty,
        counts=Counts(values=sum(len(h) for h in histories), differences=r, pairs=r, train=r, test=0, trimmed=0, train_used=r),
        framing=Framing(interval=spec.interval, lags=spec.lags, timesteps=1, test_size=0),
    )
    return problem, members


def assemble(job: PooledJob, members: Sequence[_Member], params, diverged_epoch) -> list:
    """Each series' :class:`~lstmtune.forecast.direct.DirectForecaster` (the shared weights, its
    own scaler and last observations), or a :class:`LstmtuneError` where it cannot be forecast.

    Raises:
      LstmtuneError: a replica diverged (no series gets a forecaster).
    """
    from lstmtune.data.series import regular_frequency

    spec, seeds = job.spec, job.seeds
    if (np.asarray(diverged_epoch) > 0).any():
        bad = [int(s) for s, e in zip(seeds, diverged_epoch) if e > 0]
        raise LstmtuneError(f"{len(bad)} of {len(seeds)} global replicas diverged (seeds {bad[:5]})")
    total = sum(m.windows for m in members)
    out: list = []
    for k, (history, member) in enumerate(zip(job.histories, members)):
        name = job.names[k] if k < len(job.names) else ""
        y = history.to_numpy(dtype=np.float64)
        if member.scaler is None or len(y) < spec.interval + spec.lags:
            out.append(LstmtuneError(f"{len(y)} observations: a global network of {spec.lags} lags and differencing {spec.interval} "
                                     f"reads {spec.interval + spec.lags} (and at least two differences)"))
            continue
        dates = np.asarray(history.index, dtype="datetime64[ns]")
        keep = max(direct.RECENT, spec.interval + spec.lags)
        info = {"training_windows": member.windows, "pooled_series": len(members), "pooled_windows": total, **job.info}
        out.append(direct.DirectForecaster(spec, tuple(int(s) for s in seeds), member.scaler, params, dates[-keep:], y[-keep:], regular_frequency(dates),
                                           name, None, info))
    return out


__all__ = ["MIN_WINDOWS", "PooledJob", "assemble", "problem_for"]
