"""Stacked recurrent networks (LSTM or GRU layers) -> Dense(1) (or Dense(H), a direct head), with Keras dropout.

Layer l passes its full output sequence to layer l+1 (``return_sequences=True``
for all but the last); the Dense layer reads the last layer's final output.
Each layer carries its own state: ``(h, c)`` for LSTM, ``(h,)`` for GRU.

Dropout follows Keras 3's ``DropoutRNNCell``: masks are drawn once per call of the
layer (one minibatch of sequences) and reused at every timestep; values are 0 or
``1 / (1 - rate)`` (inverted dropout); training only. With ``recurrent_dropout > 0``
Keras switches the cell to ``implementation=1`` and draws an independent mask per
gate for the inputs and for the recurrent state; with only ``dropout`` it uses one
input mask shared by the gates. Both are reproduced here, chosen per replica.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from lstmtune.engine.models import gru, lstm

GATES = {"lstm": 4, "gru": 3}


class NetParams(NamedTuple):
    layers: tuple  # one LSTMParams / GRUParams per layer
    dense: lstm.DenseParams


def init(rng: np.random.Generator, features: int, units: tuple[int, ...], cell: str = "lstm", outputs: int = 1) -> NetParams:
    """Draw initial weights layer by layer (NumPy), then the Dense layer (``outputs`` wide)."""
    layers = []
    inputs = features
    for u in units:
        if cell == "lstm":
            layers.append(lstm.init_layer(rng, inputs, u))
        else:
            layers.append(gru.init(rng, inputs, u))
        inputs = u
    dense = lstm.DenseParams(kernel=lstm.glorot_uniform(rng, (units[-1], outputs)), bias=np.zeros(outputs, dtype=np.float32))
    return NetParams(layers=tuple(layers), dense=dense)


def zero_state(batch: int, units: tuple[int, ...], cell: str = "lstm") -> tuple:
    z = lambda u: jnp.zeros((batch, u), jnp.float32)  # noqa: E731
    if cell == "lstm":
        return tuple((z(u), z(u)) for u in units)
    return tuple((z(u),) for u in units)


class Dropout(NamedTuple):
    """Per-replica dropout settings for one forward pass (training only)."""

    key: jax.Array  # PRNG key for this minibatch
    rate: jax.Array  # () input dropout rate
    recurrent_rate: jax.Array  # () recurrent dropout rate


def _masks(key, rate, shape, gates, independent):
    """``gates`` masks of ``shape``: independent draws, or one draw repeated."""
    keep = 1.0 - rate
    draws = jax.random.bernoulli(key, keep, (gates,) + shape)
    draws = jnp.where(independent, draws, jnp.broadcast_to(draws[:1], draws.shape))
    # Keras: ones * bernoulli(keep) / keep; rate 0 gives exactly 1.
    return jnp.where(draws, 1.0 / keep, 0.0).astype(jnp.float32)


def forward(params: NetParams, x: jax.Array, state: tuple, *, cell: str = "lstm", recurrent_activation: str = "sigmoid", dropout: Dropout | None = None):
    """Run a minibatch of sequences through the stack, then the Dense head.

    Args:
      params: network weights.
      x: ``(batch, timesteps, features)``; row j continues stream j (stateful).
      state: per-layer states from :func:`zero_state` or a previous call.
      cell: ``"lstm"`` or ``"gru"``.
      recurrent_activation: ``"sigmoid"`` or ``"hard_sigmoid"``.
      dropout: masks' randomness and rates, or None (inference, or no dropout).

    Returns:
      ``(yhat, state)``: forecasts ``(batch,)`` (a direct head's ``(batch, H)``) and the
      per-layer final states.
    """
    seq = [x[:, t, :] for t in range(x.shape[1])]
    new_state = []
    for l, (p, s) in enumerate(zip(params.layers, state)):
        in_masks = rec_masks = None
        if dropout is not None:
            gates = GATES[cell]
            k_in, k_rec = jax.random.split(jax.random.fold_in(dropout.key, l))
            independent = dropout.recurrent_rate > 0  # Keras implementation 1
            in_masks = _masks(k_in, dropout.rate, seq[0].shape, gates, independent)
            rec_masks = _masks(k_rec, dropout.recurrent_rate, s[0].shape, gates, True)
        outs = []
        if cell == "lstm":
            h, c = s
            for x_t in seq:
                h, c = lstm.lstm_cell(p, x_t, h, c, recurrent_activation, in_masks, rec_masks)
                outs.append(h)
            new_state.append((h, c))
        else:
            (h,) = s
            for x_t in seq:
                h = gru.cell(p, x_t, h, in_masks, rec_masks, recurrent_activation)
                outs.append(h)
            new_state.append((h,))
        seq = outs
    yhat = seq[-1] @ params.dense.kernel + params.dense.bias
    return (yhat[:, 0] if yhat.shape[1] == 1 else yhat), tuple(new_state)


def penalty(params: NetParams, l1: jax.Array, l2: jax.Array) -> jax.Array:
    """Keras L1L2 regularization of every recurrent layer's kernel, recurrent kernel and bias.

    ``keras.regularizers.L1L2``: ``l1 * sum(|w|) + l2 * sum(w**2)`` per weight, added to the loss.
    """
    total = jnp.zeros([], jnp.float32)
    for p in params.layers:
        for w in (p.kernel, p.recurrent_kernel, p.bias):
            # |w| written as w * sign(w) so its gradient is sign(w), 0 at w = 0, as in
            # TensorFlow; jax.grad(jnp.abs) is 1 at 0, which moves zero-initialised
            # biases that Keras leaves in place.
            total = total + l1 * jnp.sum(w * jax.lax.stop_gradient(jnp.sign(w))) + l2 * jnp.sum(jnp.square(w))
    return total
