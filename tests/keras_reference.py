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
):
    """Recurrent layers -> Dense(1), compiled like the tutorial (loss, Keras optimizer)."""
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
    layers.append(keras.layers.Dense(1))
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
