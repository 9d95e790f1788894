"""The tutorial's training loop written with real Keras 3: the reference lstmtune's
engine is tested and benchmarked against.

Kept out of the package: Keras is a test and benchmark dependency only.

Backend: TensorFlow for fidelity. With Keras 3.15 the JAX backend's ``fit``/``predict``
do not carry a stateful RNN's state between batches (the state variables are created
untracked, so the stateless JAX trainer sees zeros every batch: measured, the
forget-gate kernel gets exactly zero gradient on the second minibatch), and the torch
backend raises "modified by an inplace operation" on the second batch. Only the
TensorFlow backend reproduces the tutorial's stateful semantics. (The benchmark times
the JAX backend, the fastest here, whose cost per epoch is the same computation.)
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np


def build_model(
    units=(1,),
    batch_size: int = 4,
    timesteps: int = 1,
    features: int = 1,
    *,
    recurrent_activation: str = "sigmoid",
    cell: str = "lstm",
    stateful: bool = True,
    dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
    l1: float = 0.0,
    l2: float = 0.0,
    optimizer: str = "adam",
    learning_rate: float | None = None,
    momentum: float = 0.0,
    nesterov: bool = False,
    loss: str = "mse",
    huber_delta: float = 1.0,
    outputs: int = 1,
):
    """Recurrent layers -> Dense(outputs), compiled like the tutorial (loss, Keras optimizer)."""
    import keras

    units = (units,) if isinstance(units, int) else tuple(units)
    act = recurrent_activation
    if act == "hard_sigmoid":  # Keras 2.0's definition (Keras 3 changed it)
        act = lambda x: keras.ops.clip(0.2 * x + 0.5, 0.0, 1.0)  # noqa: E731
    layer_cls = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell]
    reg = (lambda: keras.regularizers.L1L2(l1=l1, l2=l2)) if (l1 or l2) else (lambda: None)
    if stateful:
        first = keras.Input(batch_shape=(batch_size, timesteps, features))
    else:
        first = keras.Input(shape=(timesteps, features))
    layers = [first]
    for i, u in enumerate(units):
        layers.append(
            layer_cls(
                u,
                stateful=stateful,
                recurrent_activation=act,
                return_sequences=i < len(units) - 1,
                dropout=dropout,
                recurrent_dropout=recurrent_dropout,
                kernel_regularizer=reg(),
                recurrent_regularizer=reg(),
                bias_regularizer=reg(),
            )
        )
    layers.append(keras.layers.Dense(outputs))
    model = keras.Sequential(layers)
    opt_cls = {
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
        "adagrad": keras.optimizers.Adagrad,
        "adamw": keras.optimizers.AdamW,
    }[optimizer]
    kwargs = {} if learning_rate is None else {"learning_rate": learning_rate}
    if optimizer == "sgd":
        kwargs.update(momentum=momentum, nesterov=nesterov)
    if optimizer == "rmsprop":
        kwargs.update(momentum=momentum)
    loss_obj = {"mse": "mean_squared_error", "mae": "mean_absolute_error"}.get(loss) or keras.losses.Huber(delta=huber_delta)
    model.compile(loss=loss_obj, optimizer=opt_cls(**kwargs))
    # The optimizer's slots built now, not on the first step: a train step that creates
    # variables is traced twice by tf.function. Same zeros either way; about 1 s less per model.
    model.optimizer.build(model.trainable_variables)
    return model


def _recurrent(model):
    return [layer for layer in model.layers if hasattr(layer, "reset_states")]


def set_weights(model, params) -> None:
    """Copy one lstmtune ``NetParams`` (NumPy, no replica axis) into the Keras model."""
    for layer, p in zip(_recurrent(model), params.layers):
        layer.set_weights([np.asarray(p.kernel), np.asarray(p.recurrent_kernel), np.asarray(p.bias)])
    model.layers[-1].set_weights([np.asarray(params.dense.kernel), np.asarray(params.dense.bias)])


def reset(model) -> None:
    for layer in _recurrent(model):
        if layer.stateful:
            layer.reset_states()


def fit_tutorial(model, x, y, batch_size: int, epochs: int) -> None:
    """The tutorial's loop: one epoch of fit without shuffling, then reset the state."""
    for _ in range(epochs):
        model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0, shuffle=False)
        reset(model)


def fit_by_batches(model, x, y, batch_size: int, epochs: int) -> None:
    """The same loop stepped by hand: ``train_on_batch`` on each minibatch in order, then reset
    the state. Keras's ``fit(shuffle=False)`` runs the same train step on the same slices, so the
    weights are the same bits (test_engine_keras.py checks it); it skips fit's per-call set-up
    (data adapter, callbacks), about a second per 20-epoch comparison."""
    for _ in range(epochs):
        for start in range(0, len(x), batch_size):
            model.train_on_batch(x[start:start + batch_size], y[start:start + batch_size])
        reset(model)


def forecast_test(model, train_x, test_x, batch_size: int) -> np.ndarray:
    """The tutorial's scoring: predict the training inputs to build state, then the test inputs.

    A test length that is not a multiple of the batch size is padded with zero
    rows at the end and their outputs dropped.
    """
    reset(model)
    model.predict(train_x, batch_size=batch_size, verbose=0)
    m = len(test_x)
    pad = (-m) % batch_size
    if pad:
        test_x = np.concatenate([test_x, np.zeros((pad,) + test_x.shape[1:], test_x.dtype)])
    out = model.predict(test_x, batch_size=batch_size, verbose=0)[:m, 0]
    reset(model)
    return out


def weights(model) -> list[np.ndarray]:
    """[kernel, recurrent kernel, bias] per recurrent layer, then [dense kernel, dense bias]."""
    out = []
    for layer in _recurrent(model):
        out += [np.asarray(w) for w in layer.get_weights()]
    return out + [np.asarray(w) for w in model.layers[-1].get_weights()]


def flat(params) -> list[np.ndarray]:
    """An lstmtune ``NetParams`` in the order of :func:`weights`."""
    out = []
    for p in params.layers:
        out += [np.asarray(p.kernel), np.asarray(p.recurrent_kernel), np.asarray(p.bias)]
    return out + [np.asarray(params.dense.kernel), np.asarray(params.dense.bias)]


# --------------------------------------------------------------------------- one network, both ways
# Shared by the fidelity tests of the engine (tests/engine) and of covariates (tests/data).

EPOCHS = 20


def _rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-3))


def _first(tree):
    import jax

    return jax.tree_util.tree_map(lambda a: np.asarray(a[0]), tree)


def compare(series, arch, framing, *, seed: int, epochs: int = EPOCHS, loop=fit_by_batches, **hyper):
    """Train one network with lstmtune and with Keras (``loop``: :func:`fit_by_batches` or the
    tutorial's :func:`fit_tutorial`) from the same weights; return differences."""
    from lstmtune.data import problem
    from lstmtune.engine import trainer as engine
    from lstmtune.selection import metrics

    prob = problem.prepare(series, framing, arch.batch_size)
    ours = engine.train_population(prob, arch, engine.Schedule.for_checkpoints([epochs]), seeds=[seed], **hyper)
    init = _first(engine.init_population([seed], prob.train_x.shape[2], arch))
    model = build_model(
        arch.units, arch.batch_size, prob.train_x.shape[1], prob.train_x.shape[2],
        recurrent_activation=arch.recurrent_activation, cell=arch.cell, stateful=arch.stateful,
        optimizer=arch.optimizer, nesterov=arch.nesterov, loss=arch.loss, **hyper,
    )
    set_weights(model, init)
    x = prob.train_x.astype(np.float32)
    loop(model, x, prob.train_y.astype(np.float32), arch.batch_size, epochs)
    keras_pred = forecast_test(model, x, prob.test_x.astype(np.float32), arch.batch_size)
    ours_w = flat(_first(ours.params))
    diffs = {"weights": max(_rel(a, b) for a, b in zip(ours_w, weights(model)))}
    diffs["moved"] = max(_rel(a, b) for a, b in zip(ours_w, flat(init)))
    diffs["forecast"] = _rel(ours.test_pred[0, -1], keras_pred)
    r_ours = metrics.rmse(prob.test_actual, prob.invert(ours.test_pred[0, -1], "test"))
    r_keras = metrics.rmse(prob.test_actual, prob.invert(keras_pred, "test"))
    diffs["rmse"] = abs(r_ours - r_keras) / r_keras
    print(f"\n{arch} {hyper}: {diffs}")
    return diffs


def _check(d, tol):
    assert d["weights"] < tol, d
    assert d["forecast"] < tol, d
    assert d["rmse"] < tol, d
    assert d["moved"] > 1e-2, f"weights barely moved, the comparison would be vacuous: {d}"
