"""The Keras-faithful optax optimizers against real Keras 3 optimizers (TensorFlow backend).

Each case runs 5 steps of fixed random float32 gradients on a (3, 4) float32
variable through ``keras.optimizers.X.apply_gradients`` and through our
transform (the factory called directly, eagerly; and ``make(...)`` both eagerly
and under ``jax.jit``), then compares the weights.

Tolerance:

* eager (op-by-op) runs must be *bitwise* equal to Keras (``assert_array_equal``):
  every factory does Keras's float32 operations in Keras's order;
* under ``jax.jit`` XLA's CPU compiler contracts ``a * b + c`` into a fused
  multiply-add and rewrites ``a / sqrt(b)`` as ``a * rsqrt(b)``, so jitted runs
  agree to about one float32 ulp and are checked with
  ``assert_allclose(rtol=1e-6, atol=1e-7)`` (measured: max rel 6e-7, max abs 6e-8).
"""

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from lstmtune.engine import optim

STEPS = 5
SHAPE = (3, 4)

# (optimizer name, Keras class name, hyperparameters shared by both sides)
CASES = [
    ("adam", "Adam", {}),
    ("adam", "Adam", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-6}),
    ("sgd", "SGD", {}),
    ("sgd", "SGD", {"momentum": 0.9}),
    ("sgd", "SGD", {"momentum": 0.9, "nesterov": True}),
    ("sgd", "SGD", {"learning_rate": 0.05, "momentum": 0.0, "nesterov": True}),
    ("rmsprop", "RMSprop", {}),
    ("rmsprop", "RMSprop", {"momentum": 0.5}),
    ("rmsprop", "RMSprop", {"centered": True}),
    ("rmsprop", "RMSprop", {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.3, "centered": True}),
    ("adagrad", "Adagrad", {}),
    ("adagrad", "Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-5}),
    ("adamw", "AdamW", {}),
    ("adamw", "AdamW", {"weight_decay": 0.1}),
    ("adamw", "AdamW", {"learning_rate": 0.01, "weight_decay": 0.1}),
]


def _case_id(case):
    name, _, hyper = case
    return name + "".join(f"-{k}={v}" for k, v in hyper.items())


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=SHAPE).astype(np.float32)
    grads = [rng.normal(scale=0.5, size=SHAPE).astype(np.float32) for _ in range(STEPS)]
    return w, grads


def _keras_run(cls_name, hyper, w, grads):
    import keras  # after conftest set KERAS_BACKEND=tensorflow

    assert keras.backend.backend() == "tensorflow"
    var = keras.Variable(w, dtype="float32")
    opt = getattr(keras.optimizers, cls_name)(**hyper)
    for g in grads:
        opt.apply_gradients([(keras.ops.convert_to_tensor(g), var)])
    return np.asarray(var.numpy())


def _optax_run(tx, w, grads, jit=False):
    params = jnp.asarray(w)
    state = tx.init(params)

    def step(params, state, g):
        updates, state = tx.update(g, state, params)
        return optax.apply_updates(params, updates), state

    if jit:
        step = jax.jit(step)
    for g in grads:
        params, state = step(params, state, jnp.asarray(g))
    return np.asarray(params)


def _compare(ours, ref, what, bitwise=True):
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.dtype == ref.dtype == np.float32
    diff = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
    rel = diff / np.maximum(np.abs(ref), np.finfo(np.float32).tiny)
    msg = f"{what}: max abs {diff.max():.3g}, max rel {rel.max():.3g}"
    if bitwise:
        np.testing.assert_array_equal(ours, ref, err_msg=msg)
    else:
        np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-7, err_msg=msg)


@pytest.fixture(scope="module")
def data():
    return _problem()


@pytest.mark.slow  # Keras fidelity: the full run keeps it (TensorFlow's import alone is about 8 s of a worker's fast subset)
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_keras(case, data):
    name, cls_name, hyper = case
    w, grads = data
    ref = _keras_run(cls_name, hyper, w, grads)
    assert not np.array_equal(ref, w)  # the optimizer really moved the weights
    _compare(_optax_run(optim.OPTIMIZERS[name](**hyper), w, grads), ref, "factory, eager")
    _compare(_optax_run(optim.make(name, **hyper), w, grads), ref, "make, eager")
    _compare(_optax_run(optim.make(name, **hyper), w, grads, jit=True), ref, "make, jit", bitwise=False)


@pytest.mark.slow  # Keras fidelity (as above)
def test_adamw_tiny_weights_within_tolerance():
    """AdamW returns ``target - params`` (see ``keras_adamw``): exact unless a weight is
    about as small as its step; there it is within ``rtol=1e-6, atol=1e-7`` of Keras
    (measured: max abs 9e-10, max rel 2e-6, on a few percent of such weights)."""
    w, grads = _problem(seed=4)
    w = (w * np.float32(1e-4)).astype(np.float32)
    ref = _keras_run("AdamW", {"weight_decay": 0.1}, w, grads)
    _compare(_optax_run(optim.make("adamw", weight_decay=0.1), w, grads), ref, "adamw tiny weights", bitwise=False)


def test_adamw_without_params_raises():
    tx = optim.keras_adamw()
    state = tx.init(jnp.zeros(3))
    with pytest.raises(ValueError, match="params"):
        tx.update(jnp.ones(3), state)


@pytest.mark.parametrize(
    ("name", "hyper"),
    [("adam", {}), ("sgd", {"momentum": 0.9, "nesterov": True}), ("rmsprop", {"momentum": 0.5, "centered": True}), ("adagrad", {}), ("adamw", {})],
)
def test_per_replica_learning_rate_under_vmap(name, hyper):
    """Engine pattern: hyperparameters in the vmapped state, one shared transform."""
    w, grads = _problem(seed=1)
    lrs = jnp.asarray([1e-3, 3e-2, 2e-1], jnp.float32)
    params = jnp.broadcast_to(jnp.asarray(w), (3, *SHAPE))
    state = jax.vmap(lambda p, lr: optim.make(name, learning_rate=lr, **hyper).init(p))(params, lrs)
    np.testing.assert_array_equal(state.hyperparams["learning_rate"], lrs)
    tx = optim.make(name, learning_rate=0.0, **hyper)  # its own learning rate is never read

    @jax.jit
    @jax.vmap
    def step(params, state, g):
        updates, state = tx.update(g, state, params)
        return optax.apply_updates(params, updates), state

    for g in grads:
        params, state = step(params, state, jnp.broadcast_to(jnp.asarray(g), (3, *SHAPE)))
    for k, lr in enumerate(np.asarray(lrs)):
        single = _optax_run(optim.make(name, learning_rate=float(lr), **hyper), w, grads, jit=True)
        # Vectorisation may change float32 rounding in the last bits only.
        np.testing.assert_allclose(params[k], single, rtol=1e-6, atol=1e-7)
    assert not np.allclose(params[0], params[2])


def test_per_replica_momentum_and_weight_decay_under_vmap():
    """momentum / weight_decay are injectable too; momentum 0 in one replica takes Keras's plain path."""
    w, grads = _problem(seed=2)
    for name, key, values in [("sgd", "momentum", [0.0, 0.5, 0.9]), ("rmsprop", "momentum", [0.0, 0.5, 0.9]), ("adamw", "weight_decay", [0.0, 0.004, 0.1])]:
        vals = jnp.asarray(values, jnp.float32)
        params = jnp.broadcast_to(jnp.asarray(w), (3, *SHAPE))
        state = jax.vmap(lambda p, v: optim.make(name, **{key: v}).init(p))(params, vals)
        tx = optim.make(name)

        def step(params, state, g):
            updates, state = tx.update(g, state, params)
            return optax.apply_updates(params, updates), state

        for g in grads:
            params, state = jax.jit(jax.vmap(step))(params, state, jnp.broadcast_to(jnp.asarray(g), (3, *SHAPE)))
        for k, v in enumerate(values):
            single = _optax_run(optim.make(name, **{key: v}), w, grads, jit=True)
            np.testing.assert_allclose(params[k], single, rtol=1e-6, atol=1e-7, err_msg=f"{name} {key}={v}")


def test_sgd_momentum_zero_keeps_buffer_zero_and_equals_plain_path():
    w, grads = _problem(seed=3)
    tx = optim.keras_sgd(0.1, momentum=0.0)
    params, state = jnp.asarray(w), tx.init(jnp.asarray(w))
    expected = w.copy()
    for g in grads:
        updates, state = tx.update(jnp.asarray(g), state, params)
        params = optax.apply_updates(params, updates)
        expected = expected - g * np.float32(0.1)  # Keras: var -= g * lr
    np.testing.assert_array_equal(params, expected)
    np.testing.assert_array_equal(state.momentum, np.zeros(SHAPE, np.float32))


def test_registry_and_defaults():
    assert set(optim.OPTIMIZERS) == {"adam", "sgd", "rmsprop", "adagrad", "adamw"}
    assert set(optim.KERAS_DEFAULT_LEARNING_RATE) == set(optim.OPTIMIZERS)
    for name, factory in optim.OPTIMIZERS.items():
        assert inspect.signature(factory).parameters["learning_rate"].default == optim.KERAS_DEFAULT_LEARNING_RATE[name]
        state = optim.make(name).init(jnp.zeros(2))
        assert float(state.hyperparams["learning_rate"]) == np.float32(optim.KERAS_DEFAULT_LEARNING_RATE[name])
        # Only the injectable hyperparameters live in the state; the rest stay Python values.
        assert set(state.hyperparams) <= optim.INJECTABLE
    assert set(optim.make("sgd").init(jnp.zeros(2)).hyperparams) == {"learning_rate", "momentum"}
    assert set(optim.make("adamw").init(jnp.zeros(2)).hyperparams) == {"learning_rate", "weight_decay"}


def test_make_rejects_unknown_optimizer_and_hyperparameter():
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamax'.*adagrad, adam, adamw, rmsprop, sgd"):
        optim.make("adamax")
    with pytest.raises(ValueError, match=r"'sgd' has no hyperparameter.*beta_1"):
        optim.make("sgd", beta_1=0.9)


def test_static_betas_matter():
    """Why make() keeps beta/rho static: Keras's ``1 - 0.9`` is a float64 subtraction, then
    cast; a float32 beta (as an injected hyperparameter would be) gives other bits."""
    g = np.linspace(-1, 1, 7).astype(np.float32)
    tx = optim.make("adam")
    assert "beta_1" not in tx.init(jnp.zeros(7)).hyperparams
    _, state = tx.update(jnp.asarray(g), tx.init(jnp.zeros(7)), jnp.zeros(7))
    mu = np.asarray(state.inner_state.mu)  # the first moment after one step from zero: (1 - beta_1) g
    np.testing.assert_array_equal(mu, g * np.float32(1 - 0.9))
    assert not np.array_equal(mu, g * (np.float32(1) - np.float32(0.9)))
