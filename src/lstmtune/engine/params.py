"""The engine's per-replica numeric inputs: names, defaults and the code paths they need.

The engine batches these numbers across a population (one value per replica, see
:class:`lstmtune.engine.trainer.Hyper`); everything else about a network fixes the
compiled program (:class:`lstmtune.engine.trainer.Architecture`). Plain values, no study
concepts: :mod:`lstmtune.study.spec` declares the user-facing parameters with these
defaults and checks at import that it declares exactly these as numeric.
"""

from __future__ import annotations

NUMERIC_DEFAULTS: dict[str, float | None] = {
    "learning_rate": None,  # None: the optimizer's Keras default (KERAS_DEFAULT_LEARNING_RATE)
    "momentum": 0.0,
    "huber_delta": 1.0,
    "dropout": 0.0,
    "recurrent_dropout": 0.0,
    "l1": 0.0,
    "l2": 0.0,
}
"""Numeric parameter -> default, in the order of :class:`lstmtune.engine.trainer.Hyper`'s fields."""

NUMERIC: tuple[str, ...] = tuple(NUMERIC_DEFAULTS)

COMPILES: dict[str, tuple[str, ...]] = {"dropout": ("dropout", "recurrent_dropout"), "regularized": ("l1", "l2")}
"""Architecture flag -> the numeric parameters whose non-zero values need its code path."""

KERAS_DEFAULT_LEARNING_RATE: dict[str, float] = {"adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-3, "sgd": 1e-2}
"""Keras 3's default learning rate per optimizer (``keras/src/optimizers/*.py``): used when ``learning_rate`` is omitted."""
