"""Fidelity of the engine's extensions to real Keras 3 (TensorFlow backend; see
keras_reference.py and test_engine_keras.py): stacked and GRU cells, regularisation, other
optimizers and losses, longer windows, stateless training and the dropout path at rate 0,
each trained for 20 epochs from the same initial weights as Keras.

Tolerance: 1e-5, as in test_engine_keras.py. A file of its own so that the two halves of the
fidelity suite run on different test workers.
"""

import zlib

import pytest
from keras_reference import _check, compare

from lstmtune.data import problem
from lstmtune.data import series as data
from lstmtune.engine import trainer as engine

pytestmark = pytest.mark.slow  # the fast subset (pytest -m 'not slow') leaves this module out; the full run keeps it


@pytest.fixture(scope="module")
def shampoo():
    return data.load("shampoo")


EXTENSIONS = {
    "stacked lstm (4, 3)": (engine.Architecture((4, 3), 4), problem.Framing(trim=2), {}),
    "gru": (engine.Architecture(3, 2, cell="gru"), problem.Framing(trim=2), {}),
    "stacked gru (3, 2)": (engine.Architecture((3, 2), 4, cell="gru"), problem.Framing(trim=2), {}),
    "l1 l2": (engine.Architecture(2, 4, regularized=True), problem.Framing(trim=2), {"l1": 1e-3, "l2": 1e-3}),
    "sgd momentum nesterov": (engine.Architecture(2, 4, optimizer="sgd", nesterov=True), problem.Framing(trim=2), {"learning_rate": 0.05, "momentum": 0.9}),
    "sgd plain": (engine.Architecture(2, 4, optimizer="sgd"), problem.Framing(trim=2), {}),
    "rmsprop": (engine.Architecture(2, 4, optimizer="rmsprop"), problem.Framing(trim=2), {}),
    "adagrad": (engine.Architecture(2, 4, optimizer="adagrad"), problem.Framing(trim=2), {"learning_rate": 0.01}),
    "adamw": (engine.Architecture(2, 4, optimizer="adamw"), problem.Framing(trim=2), {}),
    "mae loss": (engine.Architecture(2, 4, loss="mae"), problem.Framing(trim=2), {}),
    "huber loss": (engine.Architecture(2, 4, loss="huber"), problem.Framing(trim=2), {"huber_delta": 0.3}),
    "lags 3 timesteps 3": (engine.Architecture(2, 4), problem.Framing(lags=3, timesteps=3), {}),
    "batch 5 (trim 2, test padded)": (engine.Architecture(1, 5), problem.Framing(), {}),
    "stateless, partial last batch": (engine.Architecture(2, 8, stateful=False), problem.Framing(timesteps=3), {}),
    "dropout path at rate 0": (engine.Architecture(2, 4, dropout=True), problem.Framing(trim=2), {"dropout": 0.0, "recurrent_dropout": 0.0}),
    "gru dropout path at rate 0": (engine.Architecture(2, 4, cell="gru", dropout=True), problem.Framing(trim=2), {"dropout": 0.0, "recurrent_dropout": 0.0}),
}


@pytest.mark.parametrize("name", list(EXTENSIONS))
def test_extension_matches_keras(shampoo, name):
    arch, framing, hyper = EXTENSIONS[name]
    d = compare(shampoo, arch, framing, seed=zlib.crc32(name.encode()) % 10_000, **hyper)
    _check(d, 1e-5)
