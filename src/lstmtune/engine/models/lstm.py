"""A stateful LSTM(units) -> Dense(1) forecaster with Keras 3 semantics.

Matches ``keras.layers.LSTM`` (implementation 2, the default) followed by
``keras.layers.Dense(1)``: see ``keras/src/layers/rnn/lstm.py``
(``LSTMCell.call`` and ``_compute_carry_and_output_fused``).

- gates in Keras order: input, forget, cell, output, stacked along the last
  axis of the kernel, recurrent kernel and bias;
- ``c' = f * c + i * tanh(z_c)``, ``h' = o * tanh(c')``;
- recurrent activation ``sigmoid`` (Keras 3 default) or ``hard_sigmoid`` as
  Keras 2.0 defined it, ``clip(0.2 x + 0.5, 0, 1)``;
- initialisation: kernel glorot_uniform, recurrent kernel orthogonal, bias zeros
  except the forget gate's ones (``unit_forget_bias``); Dense kernel
  glorot_uniform, bias zero.

Initial weights are drawn with NumPy on the host (no compiled init program per
shape); the distributions are Keras's, the draws are ours.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class LSTMParams(NamedTuple):
    kernel: jax.Array  # (features, 4 * units)
    recurrent_kernel: jax.Array  # (units, 4 * units)
    bias: jax.Array  # (4 * units,)


class DenseParams(NamedTuple):
    kernel: jax.Array  # (units, 1)
    bias: jax.Array  # (1,)


def glorot_uniform(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Keras ``GlorotUniform``: U(-l, l) with ``l = sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = shape
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


def orthogonal(rng: np.random.Generator, shape: tuple[int, int], gain: float = 1.0) -> np.ndarray:
    """Keras ``Orthogonal``: Q of a QR of a normal matrix, signs fixed by diag(R)."""
    rows, cols = shape
    flat = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return (gain * q.reshape(shape)).astype(np.float32)


def init_layer(rng: np.random.Generator, features: int, units: int) -> LSTMParams:
    """Draw one LSTM layer's initial weights (NumPy float32): kernel, then recurrent kernel."""
    bias = np.zeros(4 * units, dtype=np.float32)
    bias[units : 2 * units] = 1.0  # unit_forget_bias
    return LSTMParams(
        kernel=glorot_uniform(rng, (features, 4 * units)),
        recurrent_kernel=orthogonal(rng, (units, 4 * units)),
        bias=bias,
    )


def hard_sigmoid(x: jax.Array) -> jax.Array:
    """Keras 2.0's ``hard_sigmoid`` (Keras 3 changed it to ``relu6(x + 3) / 6``)."""
    return jnp.clip(0.2 * x + 0.5, 0.0, 1.0)


RECURRENT_ACTIVATIONS = {"sigmoid": jax.nn.sigmoid, "hard_sigmoid": hard_sigmoid}


def lstm_cell(
    p: LSTMParams, x: jax.Array, h: jax.Array, c: jax.Array, recurrent_activation: str = "sigmoid", input_masks=None, recurrent_masks=None
) -> tuple[jax.Array, jax.Array]:
    """One LSTM step for a batch of streams.

    Args:
      p: the layer's weights.
      x: inputs, shape ``(batch, features)``.
      h, c: hidden and carry state, shape ``(batch, units)``.
      recurrent_activation: ``"sigmoid"`` or ``"hard_sigmoid"``.
      input_masks / recurrent_masks: dropout masks per gate, ``(4, batch, features)``
        / ``(4, batch, units)``, or None (no dropout: the gates in one product).
        Keras (``implementation=1``) uses independent masks per gate when recurrent
        dropout is on and one shared input mask otherwise; the caller passes them
        accordingly.

    Returns:
      The new ``(h, c)``.
    """
    act = RECURRENT_ACTIVATIONS[recurrent_activation]
    if input_masks is None and recurrent_masks is None:
        z = x @ p.kernel
        z = z + h @ p.recurrent_kernel
        z = z + p.bias
        z_i, z_f, z_c, z_o = jnp.split(z, 4, axis=-1)
    else:
        k = jnp.split(p.kernel, 4, axis=-1)
        rk = jnp.split(p.recurrent_kernel, 4, axis=-1)
        b = jnp.split(p.bias, 4)
        z_i, z_f, z_c, z_o = [(x * input_masks[g]) @ k[g] + b[g] + (h * recurrent_masks[g]) @ rk[g] for g in range(4)]
    i, f, o = act(z_i), act(z_f), act(z_o)
    c = f * c + i * jnp.tanh(z_c)
    h = o * jnp.tanh(c)
    return h, c
