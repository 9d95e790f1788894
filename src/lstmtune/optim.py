"""Keras-faithful optimizers as optax gradient transformations.

optax's ``adam`` places epsilon inside the bias correction
(``m_hat / (sqrt(v_hat) + eps)``) while Keras folds the bias correction into the
step size and adds epsilon to the raw second moment (``keras/src/optimizers/adam.py``,
``Adam.update_step``)::

    alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    m += (g - m) * (1 - beta_1)
    v += (g**2 - v) * (1 - beta_2)
    var -= (m * alpha) / (sqrt(v) + epsilon)

The two differ by a time-varying rescaling of epsilon, which no composition of
optax's stock transformations reproduces, so :func:`keras_adam` is written here in
optax's ``init``/``update`` form, with the same operation order as Keras so
float32 results agree to the last bits.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax


class KerasAdamState(NamedTuple):
    count: jax.Array  # int32 scalar: steps taken
    mu: optax.Updates
    nu: optax.Updates


def keras_adam(
    learning_rate: float | jax.Array = 1e-3,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
) -> optax.GradientTransformation:
    """Adam exactly as Keras 3 computes it (defaults are Keras's).

    The update includes the learning rate and its sign, so
    ``optax.apply_updates(params, updates)`` performs Keras's ``var -= ...``.
    Wrap with ``optax.inject_hyperparams`` to make the learning rate a
    per-replica array.
    """

    def init_fn(params):
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return KerasAdamState(count=jnp.zeros([], jnp.int32), mu=zeros, nu=jax.tree_util.tree_map(jnp.zeros_like, params))

    def update_fn(updates, state, params=None):
        del params
        dtype = jnp.float32
        count = state.count + 1
        local_step = count.astype(dtype)
        beta_1_power = jnp.power(jnp.asarray(beta_1, dtype), local_step)
        beta_2_power = jnp.power(jnp.asarray(beta_2, dtype), local_step)
        lr = jnp.asarray(learning_rate, dtype)
        alpha = lr * jnp.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        mu = jax.tree_util.tree_map(lambda m, g: m + (g - m) * (1 - beta_1), state.mu, updates)
        nu = jax.tree_util.tree_map(lambda v, g: v + (jnp.square(g) - v) * (1 - beta_2), state.nu, updates)
        step = jax.tree_util.tree_map(lambda m, v: -((m * alpha) / (jnp.sqrt(v) + epsilon)), mu, nu)
        return step, KerasAdamState(count=count, mu=mu, nu=nu)

    return optax.GradientTransformation(init_fn, update_fn)
