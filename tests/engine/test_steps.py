"""The engine's steps alone (lstmtune.engine.steps): one training step against real Keras,
``predict`` against a NumPy LSTM."""

import numpy as np
import pytest
from keras_reference import build_model, flat, set_weights, weights

from lstmtune.data import series as data
from lstmtune.engine import trainer as engine
from lstmtune.data import problem
from lstmtune.engine import steps


def _rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-3))


@pytest.fixture(scope="module")
def prob():
    return problem.prepare(data.load("shampoo"), problem.Framing(1, 2, 1, test_size=12, trim=None, feature_range=(-1.0, 1.0)), 4)


def _one(tree):
    import jax

    return jax.tree_util.tree_map(lambda a: np.asarray(a[0]), tree)


def _hyper(arch, seed=0):
    import jax

    return jax.tree_util.tree_map(lambda a: a[0], engine.make_hyper(arch, [seed], learning_rate=1e-2))


@pytest.mark.slow  # Keras fidelity: the full run keeps it (TensorFlow's import alone is about 8 s of a worker's fast subset)
@pytest.mark.parametrize("optimizer, loss", [("adam", "mse"), ("sgd", "mae"), ("rmsprop", "huber")])
def test_one_train_step_matches_keras(prob, optimizer, loss):
    """One minibatch from a zero state: the updated weights and the carried state."""
    import jax.numpy as jnp

    arch = engine.Architecture(units=(3,), batch_size=4, optimizer=optimizer, loss=loss)
    params = _one(engine.init_population([11], prob.train_x.shape[2], arch))
    hyper = _hyper(arch)
    x, y = prob.train_x[:4].astype(np.float32), prob.train_y[:4].astype(np.float32)
    optimizer_ = steps.make_optimizer(arch, hyper)
    carry = (params, optimizer_.init(params), steps.zero_state(arch))
    (new, _, state), value = steps.train_step(arch, optimizer_, hyper, carry, (jnp.asarray(x), jnp.asarray(y), jnp.ones(4), hyper.key))

    model = build_model(arch.units, 4, x.shape[1], x.shape[2], optimizer=optimizer, loss=loss, learning_rate=1e-2)
    set_weights(model, params)
    keras_loss = model.train_on_batch(x, y)
    want = weights(model)
    assert max(_rel(a, b) for a, b in zip(flat(new), want)) < 1e-5
    assert max(_rel(a, b) for a, b in zip(flat(new), flat(params))) > 1e-3  # the step moved the weights
    np.testing.assert_allclose(float(value), float(np.asarray(keras_loss).ravel()[0]), rtol=1e-5)
    # The state carried on is the forward pass's, with the weights before the update.
    layer = model.layers[0] if hasattr(model.layers[0], "states") else model.layers[1]
    np.testing.assert_allclose(np.asarray(state[0][0]), np.asarray(layer.states[0]), rtol=1e-5, atol=1e-7)


def _numpy_lstm_walk_forward(params, train_x, test_x, batch_size):
    """Keras LSTM -> Dense in float64: B streams through the training rows, then the test rows."""
    (p,) = params.layers
    W, U, b = (np.asarray(a, np.float64) for a in (p.kernel, p.recurrent_kernel, p.bias))
    Wd, bd = np.asarray(params.dense.kernel, np.float64), np.asarray(params.dense.bias, np.float64)
    units = U.shape[0]
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    h, c = np.zeros((batch_size, units)), np.zeros((batch_size, units))
    out = []
    for rows in (train_x, test_x):
        preds = []
        for k in range(0, len(rows), batch_size):
            x = np.asarray(rows[k : k + batch_size], np.float64)
            for t in range(x.shape[1]):
                z = x[:, t] @ W + h @ U + b
                i, f, g, o = np.split(z, 4, axis=-1)
                c = sig(f) * c + sig(i) * np.tanh(g)
                h = sig(o) * np.tanh(c)
            preds.append((h @ Wd + bd)[:, 0])
        out.append(np.concatenate(preds))
    return out


def test_predict_matches_a_numpy_lstm(prob):
    import jax.numpy as jnp

    arch = engine.Architecture(units=(5,), batch_size=4)
    params = _one(engine.init_population([3], prob.train_x.shape[2], arch))
    d = engine.make_data(prob, arch)
    train, test = steps.predict(arch, params, d)
    want_train, want_test = _numpy_lstm_walk_forward(params, np.asarray(d.train_x), np.asarray(d.test_x), 4)
    np.testing.assert_allclose(np.asarray(train), want_train, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(test), want_test, rtol=1e-5, atol=1e-6)
    # The test rows continue the training streams: from a zero state they would differ.
    fresh = np.asarray(steps.forward(arch, params, jnp.asarray(d.test_x[:4]), steps.zero_state(arch))[0])
    assert not np.allclose(fresh, np.asarray(test)[:4], rtol=1e-4)
