"""A GRU cell with Keras 3 semantics, ``reset_after=True`` (the Keras default).

Matches ``keras.layers.GRUCell`` (``keras/src/layers/rnn/gru.py``, ``call``):
gates in Keras order update (z), reset (r), candidate (h), stacked along the last
axis; the bias has two rows, input bias and recurrent bias; the reset gate is
applied after the recurrent matrix product::

    x_z, x_r, x_h = split(x @ kernel + input_bias)
    r_z, r_r, r_h = split(h @ recurrent_kernel + recurrent_bias)
    z = act(x_z + r_z);  r = act(x_r + r_r)
    hh = tanh(x_h + r * r_h)
    h' = z * h + (1 - z) * hh

Initialisation: kernel glorot_uniform, recurrent kernel orthogonal, bias zeros.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from lstmtune.engine.models.lstm import RECURRENT_ACTIVATIONS, glorot_uniform, orthogonal


class GRUParams(NamedTuple):
    kernel: jax.Array  # (features, 3 * units)
    recurrent_kernel: jax.Array  # (units, 3 * units)
    bias: jax.Array  # (2, 3 * units): input bias, recurrent bias


def init(rng: np.random.Generator, features: int, units: int) -> GRUParams:
    return GRUParams(
        kernel=glorot_uniform(rng, (features, 3 * units)),
        recurrent_kernel=orthogonal(rng, (units, 3 * units)),
        bias=np.zeros((2, 3 * units), dtype=np.float32),
    )


def cell(p: GRUParams, x, h, input_masks=None, recurrent_masks=None, recurrent_activation: str = "sigmoid"):
    """One GRU step. ``x`` (batch, features), ``h`` (batch, units) -> new ``h``.

    Args:
      input_masks / recurrent_masks: dropout masks per gate, shape
        ``(3, batch, features)`` / ``(3, batch, units)``, or None (no dropout).
        Keras applies a separate mask per gate when recurrent dropout is used
        (implementation 1) and one shared mask otherwise; the caller decides by
        passing identical or independent masks.
    """
    act = RECURRENT_ACTIVATIONS[recurrent_activation]
    input_bias, recurrent_bias = p.bias[0], p.bias[1]
    if input_masks is None and recurrent_masks is None:
        x_z, x_r, x_h = jnp.split(x @ p.kernel + input_bias, 3, axis=-1)
        r_z, r_r, r_h = jnp.split(h @ p.recurrent_kernel + recurrent_bias, 3, axis=-1)
    else:
        k = jnp.split(p.kernel, 3, axis=-1)
        rk = jnp.split(p.recurrent_kernel, 3, axis=-1)
        ib = jnp.split(input_bias, 3)
        rb = jnp.split(recurrent_bias, 3)
        xm = [x * input_masks[g] for g in range(3)] if input_masks is not None else [x] * 3
        hm = [h * recurrent_masks[g] for g in range(3)] if recurrent_masks is not None else [h] * 3
        x_z, x_r, x_h = (xm[g] @ k[g] + ib[g] for g in range(3))
        r_z, r_r, r_h = (hm[g] @ rk[g] + rb[g] for g in range(3))
    z = act(x_z + r_z)
    r = act(x_r + r_r)
    hh = jnp.tanh(x_h + r * r_h)
    return z * h + (1 - z) * hh
