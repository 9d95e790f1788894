"""The tutorial's training loop written with real Keras 3 (JAX backend): the reference
lstmtune's engine is tested and benchmarked against.

Kept out of the package: Keras is a test and benchmark dependency only.

Backend: TensorFlow. With Keras 3.15 the JAX backend's ``fit``/``predict`` do not
carry a stateful RNN's state between batches (the state variables are created
untracked, so the stateless JAX trainer sees zeros every batch: measured, the
forget-gate kernel gets exactly zero gradient on the second minibatch), and the
torch backend raises "modified by an inplace operation" on the second batch.
Only the TensorFlow backend reproduces the tutorial's stateful semantics.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np


def build_model(units: int, batch_size: int, timesteps: int = 1, features: int = 1, recurrent_activation: str = "sigmoid"):
    """Stateful LSTM(units) -> Dense(1), compiled with MSE and Keras's default Adam."""
    import keras

    act = recurrent_activation
    if act == "hard_sigmoid":  # Keras 2.0's definition (Keras 3 changed it)
        act = lambda x: keras.ops.clip(0.2 * x + 0.5, 0.0, 1.0)  # noqa: E731
    model = keras.Sequential(
        [
            keras.Input(batch_shape=(batch_size, timesteps, features)),
            keras.layers.LSTM(units, stateful=True, recurrent_activation=act),
            keras.layers.Dense(1),
        ]
    )
    model.compile(loss="mean_squared_error", optimizer=keras.optimizers.Adam())
    return model


def set_weights(model, params) -> None:
    """Copy one lstmtune ``Params`` (NumPy) into the Keras model."""
    model.layers[0].set_weights([np.asarray(params.lstm.kernel), np.asarray(params.lstm.recurrent_kernel), np.asarray(params.lstm.bias)])
    model.layers[1].set_weights([np.asarray(params.dense.kernel), np.asarray(params.dense.bias)])


def reset(model) -> None:
    model.layers[0].reset_states()


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
    """[lstm kernel, recurrent kernel, bias, dense kernel, dense bias]."""
    return [np.asarray(w) for w in model.layers[0].get_weights() + model.layers[1].get_weights()]
