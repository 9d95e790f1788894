"""The training program's steps, one replica at a time, as pure functions.

Each takes the static settings first (``arch``: :class:`lstmtune.engine.trainer.Architecture`;
for :func:`advance` the segments per call) and then
arrays, a schedule's epoch counts among them; none keeps state.
:func:`lstmtune.engine.trainer.program` composes :func:`start` and :func:`advance` under
``vmap`` (over replicas) and ``jit``. Read top to bottom:

1. :func:`loss`          forward pass from a state, the Keras loss plus L1/L2.
2. :func:`train_step`    one minibatch: gradients (none through the carried
                         state), one optimizer update, the state carried on.
3. :func:`minibatches`   an epoch's minibatches (shuffled when asked) and
                         their dropout keys.
4. :func:`train_epoch`   all minibatches in order (``lax.scan``) from a zero state.
5. :func:`predict`       walk-forward one-step forecasts of the training and
                         test rows (test stream j continues training stream j).
6. :func:`rmse`          scaled forecasts back to original units, scored.
7. :func:`start` / :func:`advance`  the state before the first epoch; epochs in
                         segments, scored after each, checkpoint forecasts kept.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from lstmtune.engine import optim
from lstmtune.engine.models import network


def zero_state(arch, batch_size: int | None = None):
    """The recurrent state of ``batch_size`` streams (default: the architecture's), all zeros."""
    return network.zero_state(arch.batch_size if batch_size is None else batch_size, arch.units, arch.cell)


def forward(arch, params, x, state, dropout=None):
    """``(yhat (B,) or (B, H), new state)`` for inputs ``x (B, T, F)`` from ``state``."""
    return network.forward(params, x, state, cell=arch.cell, recurrent_activation=arch.recurrent_activation, dropout=dropout)


def pointwise_loss(arch, y, yhat, delta):
    """Keras's per-row loss (``keras/src/losses/losses.py``: mean over the last axis, of size 1
    for the one-step model, H for a direct head)."""
    err = yhat - y
    if arch.loss == "mse":
        value = jnp.square(y - yhat)
    elif arch.loss == "mae":
        value = jnp.abs(y - yhat)
    else:
        abs_err = jnp.abs(err)
        value = jnp.where(abs_err <= delta, 0.5 * jnp.square(err), delta * abs_err - 0.5 * jnp.square(delta))
    return jnp.mean(value, axis=-1) if value.ndim == 2 else value


def loss(arch, params, x, y, mask, state, hyper, key, skip_empty=False):
    """``(loss, new state)`` of one minibatch: Keras "sum_over_batch_size" over its real rows, plus L1/L2.

    ``skip_empty``: a minibatch may hold no real row (a stacked population's shorter series);
    its loss is then 0, not 0/0.
    """
    drop = network.Dropout(key, hyper.dropout, hyper.recurrent_dropout) if arch.dropout else None
    yhat, new_state = forward(arch, params, x, state, dropout=drop)
    rows = jnp.maximum(jnp.sum(mask), 1.0) if skip_empty else jnp.sum(mask)
    value = jnp.sum(mask * pointwise_loss(arch, y, yhat, hyper.huber_delta)) / rows
    if arch.regularized:
        value = value + network.penalty(params, hyper.l1, hyper.l2)
    return value, new_state


def make_optimizer(arch, hyper):
    """The Keras-equivalent optimizer with this replica's numeric settings (:mod:`lstmtune.engine.optim`)."""
    kwargs = {"learning_rate": hyper.learning_rate}
    if arch.optimizer in ("sgd", "rmsprop"):
        kwargs["momentum"] = hyper.momentum
    if arch.optimizer == "sgd":
        kwargs["nesterov"] = arch.nesterov
    return optim.make(arch.optimizer, **kwargs)


def train_step(arch, optimizer, hyper, carry, batch, skip_empty=False):
    """One minibatch: ``((params, opt_state, state), loss)``.

    The state carried on is the one the forward pass computed with the weights
    before the update (Keras); stateless networks start every minibatch from zeros.
    ``skip_empty``: a minibatch without a real row changes nothing (no optimizer step), so a
    series padded to a longer one's rows trains exactly as alone.
    """
    params, opt_state, state = carry
    x, y, mask, key = batch
    if not arch.stateful:
        state = zero_state(arch)
    # The carried state is an input, not a parameter: no gradient through it.
    state = jax.tree_util.tree_map(jax.lax.stop_gradient, state)
    (value, new_state), grads = jax.value_and_grad(functools.partial(loss, arch, skip_empty=skip_empty), has_aux=True)(params, x, y, mask, state, hyper, key)
    updates, new_opt_state = optimizer.update(grads, opt_state, params)
    new_params = optax.apply_updates(params, updates)
    if skip_empty:
        real = jnp.sum(mask) > 0
        keep = lambda new, old: jax.tree_util.tree_map(lambda a, b: jnp.where(real, a, b), new, old)  # noqa: E731
        new_params, new_opt_state = keep(new_params, params), keep(new_opt_state, opt_state)
    return (new_params, new_opt_state, new_state), value


def minibatches(arch, data, hyper, epoch):
    """The epoch's minibatches ``(K, B, ...)`` with one dropout key each."""
    B = arch.batch_size
    key = jax.random.fold_in(jax.random.wrap_key_data(hyper.key), epoch)
    n = data.train_x.shape[0]
    k = n // B
    if arch.shuffle:
        # Permute the real rows; padding rows stay at the end (Keras's last batch).
        idx = jnp.arange(n)
        scores = jnp.where(idx < data.n_train, jax.random.uniform(jax.random.fold_in(key, 0), (n,)), 2.0 + idx)
        order = jnp.argsort(scores)
        take = lambda a: a[order].reshape((k, B) + a.shape[1:])  # noqa: E731
    else:
        take = lambda a: a.reshape((k, B) + a.shape[1:])  # noqa: E731
    keys = jax.random.split(jax.random.fold_in(key, 1), k)
    return take(data.train_x), take(data.train_y), take(data.train_mask), keys


def train_epoch(arch, optimizer, hyper, params, opt_state, data, epoch, skip_empty=False):
    """All minibatches in order from a zero state (``model.reset_states()``): ``(params, opt_state, mean loss)``."""
    step = functools.partial(train_step, arch, optimizer, hyper, skip_empty=skip_empty)
    (params, opt_state, _), losses = jax.lax.scan(step, (params, opt_state, zero_state(arch)), minibatches(arch, data, hyper, epoch))
    return params, opt_state, jnp.mean(losses)


def predict(arch, params, data):
    """Walk-forward one-step forecasts (scaled) of the training rows, then of the test rows.

    Stateful: the training inputs run through the B streams from a zero state and
    the test inputs continue them. Stateless: every window from zeros.
    """
    if not arch.stateful:
        one = lambda x: forward(arch, params, x, zero_state(arch, x.shape[0]))[0]  # noqa: E731
        return one(data.train_x), one(data.test_x)

    def step(state, x):
        yhat, state = forward(arch, params, x, state)
        return state, yhat

    B = arch.batch_size
    split = lambda a: a.reshape((a.shape[0] // B, B) + a.shape[1:])  # noqa: E731
    state, train_pred = jax.lax.scan(step, zero_state(arch), split(data.train_x))
    _, test_pred = jax.lax.scan(step, state, split(data.test_x))
    return train_pred.reshape(-1), test_pred.reshape(-1)


def rmse(pred, data, prev, actual, weight):
    """RMSE in original units of scaled one-step forecasts (inverse scaling, then the observed
    previous value added); a direct head is scored on its first output, its one-step forecast."""
    if pred.ndim == 2:
        pred = pred[:, 0]
    forecast = (pred - data.y_min) / data.y_scale + prev
    return jnp.sqrt(jnp.sum(weight * jnp.square(forecast - actual)) / jnp.sum(weight))


def all_finite(tree):
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(tree)]))


def checkpoint_slots(schedule) -> np.ndarray:
    """Per segment, the checkpoint index whose forecasts it keeps, or -1."""
    slots = np.full(schedule.segments, -1, np.int32)
    for k, epoch in enumerate(schedule.checkpoints):
        slots[epoch // schedule.eval_every - 1] = k
    return slots


def start(arch, params, hyper):
    """A replica's training state before its first epoch: ``(params, opt_state, diverged epoch)``.
    It depends on the architecture and the replica's settings only, not on the data, so one
    compiled start serves every data shape of an architecture (the checkpoint forecasts' zeros,
    which do, are made apart: :func:`snapshots`)."""
    return params, make_optimizer(arch, hyper).init(params), jnp.zeros([], jnp.int32)


def snapshots(checkpoints: int, data, stacked: bool = False):
    """Zeros with room for the forecasts of ``checkpoints`` checkpoints, per replica:
    ``(train (C, rows[, H]), test (C, test rows[, H]))`` (``stacked``: ``data`` has a leading
    replica axis). NumPy, so no program is compiled for them."""
    skip = 1 if stacked else 0
    head = data.train_y.shape[1 + skip:]  # () one-step, (H,) a direct head
    return (
        np.zeros((checkpoints, data.train_x.shape[skip]) + head, np.float32),
        np.zeros((checkpoints, data.test_x.shape[skip]) + head, np.float32),
    )


def advance(arch, length: int, carry, hyper, data, first_segment, eval_every, slots, count, skip_empty=False):
    """Train ``count`` segments of ``eval_every`` epochs, scoring after each: ``(carry, scores (length, 2))``.

    ``length``: the segments a call can hold (1, or :data:`lstmtune.engine.trainer.CALL_SEGMENTS`);
    ``count`` (at most ``length``) of them run and score, the rest of ``scores`` is zeros.

    ``eval_every``, ``count`` and ``slots`` (per segment of this call, the checkpoint whose
    forecasts it keeps, or -1: :func:`checkpoint_slots`) are arguments, not constants, so one
    compiled program serves every epoch count and checkpoint list of a shape.
    ``skip_empty``: minibatches without a real row are no-ops (a stacked population, where
    every replica has its own data padded to the longest).
    """
    # Numeric hyperparameters are read from the optimizer state
    # (optax.inject_hyperparams), so this instance's own values are not used.
    optimizer = make_optimizer(arch, hyper)

    def segment_body(carry, segment):
        params, opt_state, diverged, snapshots = carry
        seg, slot = segment
        first = seg * eval_every + 1

        def epoch_body(i, carry):
            params, opt_state, diverged = carry
            epoch = first + i
            params, opt_state, value = train_epoch(arch, optimizer, hyper, params, opt_state, data, epoch, skip_empty)
            bad = ~(jnp.isfinite(value) & all_finite(params))
            diverged = jnp.where((diverged == 0) & bad, epoch, diverged)
            return params, opt_state, diverged

        params, opt_state, diverged = jax.lax.fori_loop(0, eval_every, epoch_body, (params, opt_state, diverged))
        train_pred, test_pred = predict(arch, params, data)
        scores = jnp.stack(
            [
                rmse(train_pred, data, data.train_prev, data.train_actual, data.train_mask),
                rmse(test_pred, data, data.test_prev, data.test_actual, data.test_mask),
            ]
        )
        keep = slot >= 0
        idx = jnp.maximum(slot, 0)
        snapshots = (
            snapshots[0].at[idx].set(jnp.where(keep, train_pred, snapshots[0][idx])),
            snapshots[1].at[idx].set(jnp.where(keep, test_pred, snapshots[1][idx])),
        )
        return (params, opt_state, diverged, snapshots), scores

    if length == 1:  # one segment (a summary run's call): no loop around it
        return jax.lax.scan(segment_body, carry, (first_segment + jnp.arange(1), slots))

    def call_body(i, state):
        carry, scores = state
        carry, score = segment_body(carry, (first_segment + i, slots[i]))
        return carry, scores.at[i].set(score)

    return jax.lax.fori_loop(0, count, call_body, (carry, jnp.zeros((length, 2), jnp.float32)))
