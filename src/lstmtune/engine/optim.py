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
float32 results agree to the last bits. The other Keras optimizers
(:func:`keras_sgd`, :func:`keras_rmsprop`, :func:`keras_adagrad`,
:func:`keras_adamw`) are written the same way.

Conventions shared by every factory here:

* The update includes the learning rate and its sign, so
  ``optax.apply_updates(params, updates)`` performs Keras's ``var -= ...`` /
  ``var += ...``. IEEE ``a - b`` is ``a + (-b)`` exactly, so this is bitwise.
* Arithmetic is float32, in Keras's operation order (Keras's TensorFlow backend
  runs each ``ops`` call as one float32 kernel).
* ``learning_rate``, ``momentum`` and ``weight_decay`` may be traced JAX scalars
  (``optax.inject_hyperparams``; per replica under ``jax.vmap``). Keras chooses
  code paths on ``momentum`` in Python; here the choice is made per element with
  ``jnp.where`` so the same path is taken for traced values.
* Hyperparameters that Keras uses as ``1 - x`` (``beta_1``, ``beta_2``, ``rho``)
  must stay Python floats: Keras evaluates ``1 - 0.9`` in float64 and rounds
  once to float32, which differs from ``1 - float32(0.9)`` evaluated in float32.
  :func:`make` therefore passes them (and the other non-injectable settings) as
  ``static_args`` of ``optax.inject_hyperparams``. Wrapping a factory in a bare
  ``optax.inject_hyperparams(factory)`` turns them into float32 arrays and costs
  one-ulp agreement with Keras.
"""

from __future__ import annotations

import inspect
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

_F32 = jnp.float32
_map = jax.tree_util.tree_map


def _zeros(params):
    return _map(jnp.zeros_like, params)


# --------------------------------------------------------------------------- Adam / AdamW
class KerasAdamState(NamedTuple):
    count: jax.Array  # int32 scalar: steps taken
    mu: optax.Updates
    nu: optax.Updates


def _adam_init(params) -> KerasAdamState:
    return KerasAdamState(count=jnp.zeros([], jnp.int32), mu=_zeros(params), nu=_zeros(params))


def _adam_moments(updates, state: KerasAdamState, learning_rate, beta_1, beta_2):
    """Keras ``Adam.update_step`` up to the variable update: (alpha, m, v, count)."""
    count = state.count + 1
    local_step = count.astype(_F32)
    beta_1_power = jnp.power(jnp.asarray(beta_1, _F32), local_step)
    beta_2_power = jnp.power(jnp.asarray(beta_2, _F32), local_step)
    lr = jnp.asarray(learning_rate, _F32)
    alpha = lr * jnp.sqrt(1 - beta_2_power) / (1 - beta_1_power)
    mu = _map(lambda m, g: m + (g - m) * (1 - beta_1), state.mu, updates)
    nu = _map(lambda v, g: v + (jnp.square(g) - v) * (1 - beta_2), state.nu, updates)
    return alpha, mu, nu, count


def keras_adam(
    learning_rate: float | jax.Array = 1e-3,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
) -> optax.GradientTransformation:
    """Adam exactly as Keras 3 computes it (defaults are Keras's).

    ``keras/src/optimizers/adam.py``, ``Adam.update_step`` (``amsgrad=False``)::

        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m += (g - m) * (1 - beta_1)
        v += (g**2 - v) * (1 - beta_2)
        var -= (m * alpha) / (sqrt(v) + epsilon)

    The update includes the learning rate and its sign, so
    ``optax.apply_updates(params, updates)`` performs Keras's ``var -= ...``.
    Wrap with ``optax.inject_hyperparams`` (best via :func:`make`, which keeps
    ``beta_1``/``beta_2``/``epsilon`` static) to make the learning rate a
    per-replica array.
    """

    def update_fn(updates, state, params=None):
        del params
        alpha, mu, nu, count = _adam_moments(updates, state, learning_rate, beta_1, beta_2)
        step = _map(lambda m, v: -((m * alpha) / (jnp.sqrt(v) + epsilon)), mu, nu)
        return step, KerasAdamState(count=count, mu=mu, nu=nu)

    return optax.GradientTransformation(_adam_init, update_fn)


def keras_adamw(
    learning_rate: float | jax.Array = 1e-3,
    weight_decay: float | jax.Array = 0.004,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
) -> optax.GradientTransformation:
    """AdamW exactly as Keras 3 computes it (defaults are Keras's).

    ``keras/src/optimizers/adamw.py`` is ``Adam`` with a mandatory
    ``weight_decay``; the decay itself is applied by the base optimizer
    (``BaseOptimizer._backend_apply_gradients`` calls ``_apply_weight_decay``
    *before* ``update_step``; the TensorFlow backend's override in
    ``keras/src/backend/tensorflow/optimizer.py`` does
    ``variable.assign_sub(variable * wd * lr)``)::

        var -= (var * wd) * lr          # decoupled decay, on the old weights
        var -= Adam step (see keras_adam)

    The Adam step does not read ``var``, so the moments are the plain Adam ones.
    ``update`` needs ``params``. To reproduce Keras's two successive roundings,
    the returned update is ``target - params`` where ``target`` is the Keras
    result computed in Keras's order; ``params + (target - params)`` equals
    ``target`` exactly whenever the two are within a factor of 2 of each other
    (Sterbenz), i.e. unless a weight is about as small as its step, where
    agreement is to an ulp of the step.
    """

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError("keras_adamw needs `params` in update() for the weight decay.")
        alpha, mu, nu, count = _adam_moments(updates, state, learning_rate, beta_1, beta_2)
        lr = jnp.asarray(learning_rate, _F32)
        wd = jnp.asarray(weight_decay, _F32)

        def one(p, m, v):
            decayed = p - p * wd * lr
            target = decayed - (m * alpha) / (jnp.sqrt(v) + epsilon)
            return target - p

        return _map(one, params, mu, nu), KerasAdamState(count=count, mu=mu, nu=nu)

    return optax.GradientTransformation(_adam_init, update_fn)


# --------------------------------------------------------------------------- SGD
class KerasSGDState(NamedTuple):
    momentum: optax.Updates  # velocity buffer; stays zero while momentum == 0


def keras_sgd(
    learning_rate: float | jax.Array = 0.01,
    momentum: float | jax.Array = 0.0,
    nesterov: bool = False,
) -> optax.GradientTransformation:
    """SGD exactly as Keras 3 computes it (defaults are Keras's).

    ``keras/src/optimizers/sgd.py``, ``SGD.update_step``::

        if momentum != 0:
            m = m * momentum - g * lr
            if nesterov: var += m * momentum - g * lr
            else:        var += m
        else:
            var -= g * lr

    Keras picks the branch in Python (and only allocates ``m`` when
    ``momentum != 0``). Here ``momentum`` may be traced, so the velocity buffer
    is always allocated and the branch is chosen with ``jnp.where(momentum != 0,
    ...)``: both branches are computed in Keras's order and the selected one is
    returned, so ``momentum == 0`` is bitwise Keras's plain path (including
    signed zeros and non-finite gradients) and the buffer stays zero.
    ``nesterov`` is a static Python bool.
    """
    if not isinstance(nesterov, bool):
        raise TypeError(f"keras_sgd: `nesterov` must be a Python bool, got {nesterov!r}")
    if isinstance(momentum, (int, float)) and not 0 <= momentum <= 1:
        raise ValueError(f"keras_sgd: `momentum` must be in [0, 1] (Keras's check), got {momentum!r}")

    def init_fn(params):
        return KerasSGDState(momentum=_zeros(params))

    def update_fn(updates, state, params=None):
        del params
        lr = jnp.asarray(learning_rate, _F32)
        mom = jnp.asarray(momentum, _F32)
        use_momentum = mom != 0  # Keras's Python `if self.momentum != 0`, per replica

        def velocity(m, g):
            return jnp.where(use_momentum, m * mom - g * lr, m)

        def step(m_new, g):
            plain = -(g * lr)
            if nesterov:
                return jnp.where(use_momentum, m_new * mom - g * lr, plain)
            return jnp.where(use_momentum, m_new, plain)

        m = _map(velocity, state.momentum, updates)
        return _map(step, m, updates), KerasSGDState(momentum=m)

    return optax.GradientTransformation(init_fn, update_fn)


# --------------------------------------------------------------------------- RMSprop
class KerasRMSpropState(NamedTuple):
    velocity: optax.Updates  # moving average of g**2
    momentum: optax.Updates  # stays zero while momentum == 0 (Keras: not allocated)
    average_gradient: optax.Updates  # moving average of g; zero unless centered


def keras_rmsprop(
    learning_rate: float | jax.Array = 0.001,
    rho: float = 0.9,
    momentum: float | jax.Array = 0.0,
    epsilon: float = 1e-7,
    centered: bool = False,
) -> optax.GradientTransformation:
    """RMSprop exactly as Keras 3 computes it (defaults are Keras's).

    ``keras/src/optimizers/rmsprop.py``, ``RMSprop.update_step``::

        v = rho * v + (1 - rho) * g**2
        if centered:
            a = rho * a + (1 - rho) * g
            denominator = (v - a**2) + epsilon
        else:
            denominator = v + epsilon
        increment = (lr * g) / sqrt(denominator)
        if momentum > 0:
            mom = momentum * mom + increment
            var -= mom
        else:
            var -= increment

    ``rho`` must be a Python float (Keras's ``1 - rho`` is a float64 subtraction)
    and ``centered`` a Python bool. ``momentum`` may be traced: the
    ``momentum > 0`` branch is selected with ``jnp.where`` as in
    :func:`keras_sgd`, so ``momentum == 0`` is bitwise Keras's plain path.
    """
    if not isinstance(centered, bool):
        raise TypeError(f"keras_rmsprop: `centered` must be a Python bool, got {centered!r}")

    def init_fn(params):
        return KerasRMSpropState(velocity=_zeros(params), momentum=_zeros(params), average_gradient=_zeros(params))

    def update_fn(updates, state, params=None):
        del params
        lr = jnp.asarray(learning_rate, _F32)
        mom_coef = jnp.asarray(momentum, _F32)
        use_momentum = mom_coef > 0
        velocity = _map(lambda v, g: rho * v + (1 - rho) * jnp.square(g), state.velocity, updates)
        if centered:
            average = _map(lambda a, g: rho * a + (1 - rho) * g, state.average_gradient, updates)
            denominator = _map(lambda v, a: v - jnp.square(a) + epsilon, velocity, average)
        else:
            average = state.average_gradient
            denominator = _map(lambda v: v + epsilon, velocity)
        increment = _map(lambda g, d: (lr * g) / jnp.sqrt(d), updates, denominator)
        mom = _map(lambda m, inc: jnp.where(use_momentum, mom_coef * m + inc, m), state.momentum, increment)
        step = _map(lambda m, inc: -jnp.where(use_momentum, m, inc), mom, increment)
        return step, KerasRMSpropState(velocity=velocity, momentum=mom, average_gradient=average)

    return optax.GradientTransformation(init_fn, update_fn)


# --------------------------------------------------------------------------- Adagrad
class KerasAdagradState(NamedTuple):
    accumulator: optax.Updates  # initial_accumulator_value + sum of g**2


def keras_adagrad(
    learning_rate: float | jax.Array = 0.001,
    initial_accumulator_value: float = 0.1,
    epsilon: float = 1e-7,
) -> optax.GradientTransformation:
    """Adagrad exactly as Keras 3 computes it (defaults are Keras's).

    ``keras/src/optimizers/adagrad.py``, ``Adagrad.build`` / ``update_step``::

        acc = initial_accumulator_value          # float32, at build
        acc += g**2
        var -= (lr * g) / sqrt(acc + epsilon)
    """

    def init_fn(params):
        return KerasAdagradState(accumulator=_map(lambda p: jnp.full_like(p, initial_accumulator_value), params))

    def update_fn(updates, state, params=None):
        del params
        lr = jnp.asarray(learning_rate, _F32)
        acc = _map(lambda a, g: a + jnp.square(g), state.accumulator, updates)
        step = _map(lambda g, a: -((lr * g) / jnp.sqrt(a + epsilon)), updates, acc)
        return step, KerasAdagradState(accumulator=acc)

    return optax.GradientTransformation(init_fn, update_fn)


# --------------------------------------------------------------------------- registry
OPTIMIZERS: dict[str, Callable[..., optax.GradientTransformation]] = {
    "adam": keras_adam,
    "sgd": keras_sgd,
    "rmsprop": keras_rmsprop,
    "adagrad": keras_adagrad,
    "adamw": keras_adamw,
}

from lstmtune.engine.params import KERAS_DEFAULT_LEARNING_RATE  # noqa: E402  (re-exported: the optimizers' defaults)

# Hyperparameters that live in the optimizer state (and may differ per replica
# under vmap). Everything else is static: bools, and floats that Keras uses as
# ``1 - x`` in float64 or only at build time.
INJECTABLE = frozenset({"learning_rate", "momentum", "weight_decay"})


def make(name: str, **hyper) -> optax.GradientTransformationExtraArgs:
    """``optax.inject_hyperparams(OPTIMIZERS[name])(**hyper)`` with Keras-faithful statics.

    ``learning_rate``, ``momentum`` and ``weight_decay`` (where the optimizer
    has them) become entries of ``state.hyperparams`` and may be per-replica
    arrays under ``jax.vmap``; all other arguments (``beta_1``, ``beta_2``,
    ``rho``, ``epsilon``, ``initial_accumulator_value``, ``nesterov``,
    ``centered``) are passed as ``static_args`` so they keep Keras's float64
    ``1 - x`` arithmetic. Omitted arguments take Keras's defaults.
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; known optimizers: {', '.join(sorted(OPTIMIZERS))}")
    factory = OPTIMIZERS[key]
    parameters = inspect.signature(factory).parameters
    unknown = sorted(set(hyper) - set(parameters))
    if unknown:
        raise ValueError(f"optimizer {key!r} has no hyperparameter(s) {unknown}; it takes {list(parameters)}")
    static = tuple(p for p in parameters if p not in INJECTABLE)
    return optax.inject_hyperparams(factory, static_args=static)(**hyper)
