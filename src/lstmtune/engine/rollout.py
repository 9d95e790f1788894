"""Run a trained ensemble forward: warm the recurrent state through a history, then forecast.

The layout is the engine's (``engine.predict``, stateful): with batch size B
there are B state streams, and the r-th framed pair counted from the first
pair used (``offset``) is row ``r % B`` of minibatch ``r // B``, so it continues
stream ``r % B``. Warming a history through :func:`warm` therefore runs the
same computation as the walk-forward scoring of a study, and the one-step
forecasts it returns are the study's forecasts for the same weights and data.

A multi-step forecast from an origin is recursive: the step-h input is framed
from observed differences and, where those are not yet observed, the
forecast ones; step h runs on stream ``(rows + h - 1) % B`` from that stream's
state. Every replica follows its own path, so the ensemble's spread grows
with the horizon.

Transforms run on the host in float64 (as :meth:`lstmtune.data.problem.Problem.invert`);
the network runs on the device in float32.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from lstmtune.data import transforms
from lstmtune.data.problem import Framing


@dataclasses.dataclass(frozen=True)
class Network:
    """A trained ensemble's shape settings and weights.

    Attributes:
      cell: ``"lstm"`` or ``"gru"``.
      recurrent_activation: ``"sigmoid"`` or ``"hard_sigmoid"``.
      units: units per layer.
      batch_size: B, the number of state streams (stateful).
      stateful: carry state between rows; else every window starts from zero.
      params: a ``NetParams`` pytree of NumPy float32 arrays, leading axis P (replicas).
    """

    cell: str
    recurrent_activation: str
    units: tuple[int, ...]
    batch_size: int
    stateful: bool
    params: object

    @property
    def replicas(self) -> int:
        import jax

        return int(jax.tree_util.tree_leaves(self.params)[0].shape[0])


def network_for(config, params, batch_size: int | None = None) -> Network:
    """The :class:`Network` of ``params`` trained as ``config`` (any object with a configuration's
    ``cell``, ``recurrent_activation``, ``layers``, ``batch_size`` and ``stateful``)."""
    B = config.batch_size if batch_size is None else batch_size
    return Network(config.cell, config.recurrent_activation, tuple(config.layers), B, config.stateful, params)


@functools.lru_cache(maxsize=None)
def _kernels(cell: str, recurrent_activation: str, units: tuple[int, ...], batch_size: int, stateful: bool):
    """Compiled ``(warm, step)`` for one network shape (JAX retraces per argument shape)."""
    import jax

    from lstmtune.engine import trainer as engine
    from lstmtune.engine.models import network

    engine._ensure_configured()
    forward = functools.partial(network.forward, cell=cell, recurrent_activation=recurrent_activation)

    def warm_one(params, x):
        # x: (K, B, T, F). Returns the one-step forecasts (K, B) and the state after each minibatch.
        def body(state, xb):
            if not stateful:
                state = network.zero_state(batch_size, units, cell)
            yhat, state = forward(params, xb, state)
            return state, (yhat, state)

        _, (yhat, states) = jax.lax.scan(body, network.zero_state(batch_size, units, cell), x)
        return yhat, states

    def step_one(params, state, x):
        # x: (R, T, F), state: per-layer (R, units) arrays, one row per origin.
        return forward(params, x, state)

    return jax.jit(jax.vmap(warm_one, in_axes=(0, None))), jax.jit(jax.vmap(step_one, in_axes=(0, 0, 0)))


def _kernels_for(net: Network):
    return _kernels(net.cell, net.recurrent_activation, tuple(net.units), net.batch_size, net.stateful)


def scale_inputs(raw: np.ndarray, scaler: transforms.MinMaxScaler) -> np.ndarray:
    """Scale raw inputs ``(..., timesteps, features)`` as :func:`lstmtune.data.problem.prepare` does (float32 out)."""
    flat = np.asarray(raw, dtype=np.float64).reshape(raw.shape[:-2] + (-1,))
    scaled = flat * scaler.scale[:-1] + scaler.min[:-1]  # transforms.scale, input columns only
    return scaled.reshape(raw.shape).astype(np.float32)


def target_windows(diffs: np.ndarray, framing: Framing) -> np.ndarray:
    """Windows of the ``lags + timesteps - 1`` differences before each target ``(..., span)`` as
    raw inputs ``(..., timesteps, lags)``."""
    return np.lib.stride_tricks.sliding_window_view(diffs, framing.lags, axis=-1)


def unscale_target(scaled: np.ndarray, scaler: transforms.MinMaxScaler) -> np.ndarray:
    """A scaled forecast of the difference, in original units (Problem.invert's formula)."""
    return (np.asarray(scaled, dtype=np.float64) - scaler.min[-1]) / scaler.scale[-1]


@dataclasses.dataclass(frozen=True)
class Warmed:
    """An ensemble warmed through a history.

    Attributes:
      offset: index of the first framed pair used (row 0 of stream 0).
      rows: pairs used, ``pairs - offset``.
      one_step: scaled one-step forecasts of those pairs, ``(P, rows)``.
      states: per-layer state after each minibatch, leaves ``(P, K, B, units)``.
    """

    offset: int
    rows: int
    one_step: np.ndarray
    states: tuple


def warm(net: Network, series, framing: Framing, scaler: transforms.MinMaxScaler, offset: int) -> Warmed:
    """Run every framed pair of ``series`` from ``offset`` on through the streams.

    Args:
      net: the ensemble.
      series: the observations, a :class:`~lstmtune.data.series.Series` (needed when the
        framing reads covariates or calendar inputs) or values in original units ``(n,)``.
      framing: the framing it was trained with.
      scaler: its scaler.
      offset: first pair to use (the alignment of the streams).

    Returns:
      The :class:`Warmed` ensemble.
    """
    import jax

    from lstmtune.data.problem import frame_inputs

    _, raw, _ = frame_inputs(series, framing)
    x = scale_inputs(raw[offset:], scaler)
    rows, B = len(x), net.batch_size
    K = -(-rows // B)
    pad = warm_minibatches(K) * B - rows
    x = np.concatenate([x, np.zeros((pad,) + x.shape[1:], np.float32)])
    warm_fn, _ = _kernels_for(net)
    yhat, states = warm_fn(net.params, x.reshape((-1, B) + x.shape[1:]))
    yhat = np.asarray(yhat).reshape(net.replicas, -1)[:, :rows]
    return Warmed(offset, rows, yhat, jax.tree_util.tree_map(lambda a: np.asarray(a)[:, :K], states))


def warm_minibatches(k: int) -> int:
    """Minibatches the warm-up runs for ``k`` of history: the next power of two. The kernel is
    compiled once per shape, so histories of every length share a few programs instead of one
    each (``lstmtune auto`` warms hundreds of ensembles on histories of as many lengths); the
    minibatches after the ``k``-th come later in the scan and change nothing before them (tested bitwise)."""
    return 1 << max(int(k) - 1, 0).bit_length()


def stream_states(warmed: Warmed, rows: int, batch_size: int) -> tuple:
    """Each stream's state after the first ``rows`` rows: leaves ``(P, B, units)``.

    Stream j last ran row ``r`` = the largest ``r < rows`` with ``r % B == j``,
    in minibatch ``r // B``; a stream that has not run yet is at zero.
    """
    import jax

    j = np.arange(batch_size)
    last = rows - 1 - ((rows - 1 - j) % batch_size)  # last row of stream j below rows (negative: none)
    k = np.maximum(last, 0) // batch_size

    def pick(leaf):  # leaf (P, K, B, U)
        chosen = leaf[:, k, j, :]  # (P, B, U)
        return np.where((last >= 0)[None, :, None], chosen, 0.0).astype(np.float32)

    return jax.tree_util.tree_map(pick, warmed.states)


def recursive(
    net: Network,
    framing: Framing,
    scaler: transforms.MinMaxScaler,
    histories: list[np.ndarray],
    states: list[tuple],
    next_rows: list[int],
    horizon: int,
    extras: list[np.ndarray] | None = None,
) -> np.ndarray:
    """Recursive multi-step forecasts from several origins at once.

    Args:
      net: the ensemble (P replicas).
      framing, scaler: as trained.
      histories: per origin, the observations up to it (original units).
      states: per origin, each stream's state (leaves ``(P, B, units)``), e.g. from :func:`stream_states`.
      next_rows: per origin, the rows already run (the next step runs on stream ``next_rows % B``).
      horizon: steps ahead, H >= 1.
      extras: per origin, the raw covariate and calendar inputs of each step ``(H, timesteps, k)``
        (:func:`lstmtune.data.known_inputs.step_inputs`); None for a model without them.

    Returns:
      Forecasts in original units, shape ``(P, R, H)`` for R origins.
    """
    import jax

    P, R, B = net.replicas, len(histories), net.batch_size
    span = framing.lags + framing.timesteps - 1
    tail = framing.interval + span  # observations a step needs before its target
    # values[p, r, :] = the last `tail` observations of origin r, then the forecasts.
    values = np.zeros((P, R, tail + horizon))
    for r, h in enumerate(histories):
        values[:, r, :tail] = np.asarray(h, dtype=np.float64)[-tail:]
    state = jax.tree_util.tree_map(lambda *leaves: np.stack(leaves, axis=1), *states)  # leaves (P, R, B, U)
    streams = np.asarray(next_rows) % B
    _, step_fn = _kernels_for(net)
    rows_idx = np.arange(R)
    if extras is not None:
        extras = np.stack(extras)  # (R, H, T, k)
    for h in range(horizon):
        t = tail + h  # index of the target in `values`
        # the span differences before the target's: d[i] = v[i + interval] - v[i]
        diffs = values[:, :, t - span : t] - values[:, :, t - span - framing.interval : t - framing.interval]
        raw = target_windows(diffs, framing)  # (P, R, T, lags)
        if extras is not None:
            known = extras[:, h]  # (R, T, k): the same for every replica
            raw = np.concatenate([raw, np.broadcast_to(known, (P,) + known.shape)], axis=-1)
        x = scale_inputs(raw, scaler)  # (P, R, T, F)
        active = jax.tree_util.tree_map(lambda leaf: leaf[:, rows_idx, streams, :], state)  # (P, R, U)
        if not net.stateful:
            active = jax.tree_util.tree_map(np.zeros_like, active)
        yhat, new = step_fn(net.params, active, x)
        for leaf, upd in zip(jax.tree_util.tree_leaves(state), jax.tree_util.tree_leaves(new)):
            leaf[:, rows_idx, streams, :] = np.asarray(upd)
        values[:, :, t] = values[:, :, t - framing.interval] + unscale_target(np.asarray(yhat), scaler)
        streams = (streams + 1) % B
    return values[:, :, tail:]


def from_origins(net: Network, series, framing: Framing, scaler: transforms.MinMaxScaler, offset: int, origins, horizon: int, extras=None) -> np.ndarray:
    """Recursive ``horizon``-step forecasts from each origin of ``series``: what a forecast made
    at that point would have been, each step's forecast fed back as the next input.

    The state at origin ``t`` is the state after walking, one step at a time with the observed
    inputs, through every framed pair whose target precedes ``t`` (:func:`warm`), as the
    walk-forward scoring of a study reaches it.

    Args:
      net, framing, scaler, offset: the trained ensemble, its framing, scaler and first pair used.
      series: the observations (values or a :class:`~lstmtune.data.series.Series`); only those
        before each origin are read.
      origins: indices of the first forecast observation, each after the first pair's target.
      horizon: steps ahead, H >= 1.
      extras: per origin, the covariate and calendar inputs of each step (see :func:`recursive`).

    Returns:
      Forecasts in original units, ``(P, R, H)`` for R origins.
    """
    values = np.asarray(getattr(series, "values", series), dtype=np.float64)
    warmed = warm(net, series, framing, scaler, offset)
    tail = framing.interval + framing.lags + framing.timesteps - 1
    rows = [int(t) - tail - offset for t in origins]  # pairs whose target precedes the origin
    states = [stream_states(warmed, r, net.batch_size) for r in rows]
    return recursive(net, framing, scaler, [values[: int(t)] for t in origins], states, rows, horizon, extras)

