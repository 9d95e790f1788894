"""The population trainer: P independent recurrent forecasters trained as one compiled program.

Read top to bottom:

1. ``Architecture`` / ``Schedule`` are the static (shape-fixing) settings: they
   decide what gets compiled. ``Hyper`` holds the numeric ones, one value per
   replica (learning rate, momentum, dropout rates, L1/L2, Huber delta, and the
   replica's PRNG key), so replicas with different values share a program.
2. ``train_step``   one minibatch for one network: forward from the carried
                    state (stateful) or from zeros (stateless), the Keras loss
                    plus L1/L2 penalties, one Keras-optimizer step.
3. ``train_epoch``  all minibatches in order (``lax.scan``); stateful: the state
                    starts at zero each epoch (``model.reset_states()``);
                    stateless: samples optionally shuffled each epoch.
4. ``predict``      walk-forward scoring. Stateful (the tutorial's): the training
                    inputs run through the B streams from a zero state, then the
                    test inputs continue those streams (test row j of a minibatch
                    continues training stream j). Stateless: each window alone.
5. ``start`` / ``advance``  epochs in segments of ``eval_every``; after each
                    segment the network is scored (train/test RMSE in original
                    units) and, at checkpoint epochs, its predictions are kept.
                    ``advance`` runs ``chunk`` segments per call so the host can
                    report progress between calls.
6. ``train_population`` ``vmap`` over replicas, ``advance`` under ``jit``.

Keras semantics reproduced (``keras/src/layers/rnn/rnn.py``, ``trainers/``):
with batch size B there are B state streams; row j of minibatch k continues row j
of minibatch k-1; the state carried forward is the one computed by that step's
forward pass, with the weights *before* the update; no gradient flows through
the carried state; no shuffling when stateful.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from lstmtune.problem import Problem


# --------------------------------------------------------------------------- XLA set-up
def configure_jax(cache_dir: str | os.PathLike | None = None) -> None:
    """Set XLA flags and the persistent compilation cache, before JAX starts its backend.

    - ``--xla_cpu_experimental_ynn_fusion_type=`` keeps large reductions out of
      YNNPACK, which is ~10x slower for this workload once replicas x batch
      reaches ~1024 (see ENGINE-NOTES).
    - The compilation cache lives in ``$LSTMTUNE_CACHE_DIR`` or the user's cache
      directory, so a repeated study skips compiling.

    Safe to call more than once; flags only take effect if JAX has not yet
    initialised its CPU backend.
    """
    from lstmtune import _xla

    _xla.set_flags()
    import jax

    if cache_dir is None:
        cache_dir = os.environ.get("LSTMTUNE_CACHE_DIR") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lstmtune", "xla"
        )
    if str(cache_dir).lower() not in ("", "0", "off", "none"):
        jax.config.update("jax_compilation_cache_dir", str(cache_dir))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


_configured = False


def _ensure_configured() -> None:
    global _configured
    if not _configured:
        configure_jax()
        _configured = True


# --------------------------------------------------------------------------- settings
@dataclasses.dataclass(frozen=True)
class Architecture:
    """Shape-fixing (static) model settings: one compiled program per distinct value.

    Attributes:
      units: units per recurrent layer, e.g. ``(1,)`` or ``(10, 10)``; an int means one layer.
      batch_size: minibatch size; when stateful, the number of state streams.
      recurrent_activation: ``"sigmoid"`` (Keras 3) or ``"hard_sigmoid"`` (Keras 2.0).
      cell: ``"lstm"`` or ``"gru"`` (Keras GRU, ``reset_after=True``).
      stateful: carry state across minibatches (the tutorial); else every window
        starts from zero state.
      shuffle: reshuffle the samples every epoch (stateless only).
      loss: ``"mse"``, ``"mae"`` or ``"huber"``.
      optimizer: ``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adagrad"`` or ``"adamw"``.
      nesterov: Nesterov momentum (sgd only).
      dropout: compile the dropout path (some replica has a non-zero rate).
      regularized: compile the L1/L2 penalty (some replica has a non-zero factor).
    """

    units: tuple[int, ...] | int = (1,)
    batch_size: int = 4
    recurrent_activation: str = "sigmoid"
    cell: str = "lstm"
    stateful: bool = True
    shuffle: bool = False
    loss: str = "mse"
    optimizer: str = "adam"
    nesterov: bool = False
    dropout: bool = False
    regularized: bool = False

    def __post_init__(self):
        if isinstance(self.units, int):
            object.__setattr__(self, "units", (self.units,))
        else:
            object.__setattr__(self, "units", tuple(int(u) for u in self.units))
        if self.shuffle and self.stateful:
            raise ValueError("shuffle requires stateful=False: a stateful network's streams must stay in order")


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Which epochs to train, score and keep.

    Attributes:
      checkpoints: epoch counts whose predictions are returned (e.g. 500 ... 6000);
        the run trains to the largest. A checkpoint equals a separate run of that
        many epochs with the same seed.
      eval_every: epochs between in-program scorings (1 = diagnostic curves after
        every epoch). Every checkpoint must be a multiple of it.
    """

    checkpoints: tuple[int, ...]
    eval_every: int

    @property
    def epochs(self) -> int:
        return max(self.checkpoints)

    @property
    def segments(self) -> int:
        return self.epochs // self.eval_every

    @property
    def chunk(self) -> int:
        """Segments per call of the compiled program: about a tenth of the run, so the
        host can report progress between calls. Results do not depend on it (the same
        operations run in the same order; tested bitwise)."""
        target = max(1, self.segments // 10)
        return max(d for d in range(1, target + 1) if self.segments % d == 0)

    @staticmethod
    def for_checkpoints(checkpoints: Sequence[int], *, diagnostic: bool = False) -> "Schedule":
        """Score every epoch when diagnostic, else only at checkpoint granularity (their gcd)."""
        checkpoints = tuple(sorted(set(int(c) for c in checkpoints)))
        if not checkpoints or checkpoints[0] < 1:
            raise ValueError(f"checkpoints must be positive epoch counts, got {checkpoints}")
        return Schedule(checkpoints, 1 if diagnostic else math.gcd(*checkpoints))

    def __post_init__(self):
        if any(c % self.eval_every for c in self.checkpoints):
            raise ValueError(f"checkpoints {self.checkpoints} must be multiples of eval_every {self.eval_every}")


class Hyper(NamedTuple):
    """Numeric hyperparameters, one value per replica (leading axis P)."""

    learning_rate: np.ndarray  # (P,) float32
    momentum: np.ndarray  # (P,) sgd / rmsprop momentum
    dropout: np.ndarray  # (P,) input dropout rate
    recurrent_dropout: np.ndarray  # (P,)
    l1: np.ndarray  # (P,)
    l2: np.ndarray  # (P,)
    huber_delta: np.ndarray  # (P,)
    key: np.ndarray  # (P, 2) uint32: the replica's PRNG key data (dropout, shuffling)


class Data(NamedTuple):
    """A problem as device arrays (float32), padded to whole minibatches.

    Stateful: training rows divide by B (trimmed beforehand); the test part is
    padded to a multiple of B. Stateless: the training part is padded too and the
    padding is masked out of the loss (Keras's last, smaller batch).
    """

    train_x: object  # (N, T, F)
    train_y: object  # (N,)
    train_mask: object  # (N,) 1 for real rows
    n_train: object  # () number of real training rows (for shuffling)
    test_x: object  # (M, T, F)
    y_min: object  # () scaler min of the target column
    y_scale: object  # () scaler scale of the target column
    train_prev: object  # (N,) observed value before each training target
    train_actual: object  # (N,)
    test_prev: object  # (M,)
    test_actual: object  # (M,)
    test_mask: object  # (M,) 1 for real test rows, 0 for padding


class PopulationResult(NamedTuple):
    """What one population run returns, as NumPy arrays (P replicas).

    Attributes:
      checkpoints: the epoch counts of the snapshots, shape ``(C,)``.
      train_pred / test_pred: scaled one-step forecasts at each checkpoint,
        shapes ``(P, C, n_train)`` and ``(P, C, n_test)`` (padding removed).
      eval_epochs: epochs at which ``curves`` were scored, ``(S,)``.
      curves: train and test RMSE in original units, ``(P, S, 2)`` (float32,
        computed in the compiled program).
      diverged_epoch: first epoch whose loss or weights were not finite, 0 if
        none, ``(P,)``.
      params: final weights (a ``Params`` pytree with leading axis P).
    """

    checkpoints: np.ndarray
    train_pred: np.ndarray
    test_pred: np.ndarray
    eval_epochs: np.ndarray
    curves: np.ndarray
    diverged_epoch: np.ndarray
    params: object


# --------------------------------------------------------------------------- data & init
def make_data(problem: Problem, arch: Architecture) -> Data:
    """Pad a problem's arrays to whole minibatches and move them to the device."""
    import jax.numpy as jnp

    B = arch.batch_size
    n, m = len(problem.train_y), len(problem.test_y)
    if arch.stateful and n % B:
        raise ValueError(f"{n} training rows do not divide into batch_size {B}; trim them first")
    n_pad = -(-n // B) * B - n
    m_pad = -(-m // B) * B - m

    def pad(a, k):
        a = np.asarray(a, dtype=np.float32)
        return np.concatenate([a, np.zeros((k,) + a.shape[1:], np.float32)]) if k else a

    f32 = lambda a: jnp.asarray(np.asarray(a, dtype=np.float32))  # noqa: E731
    return Data(
        train_x=f32(pad(problem.train_x, n_pad)),
        train_y=f32(pad(problem.train_y, n_pad)),
        train_mask=f32(pad(np.ones(n), n_pad)),
        n_train=jnp.asarray(n, jnp.int32),
        test_x=f32(pad(problem.test_x, m_pad)),
        y_min=f32(problem.scaler.min[-1]),
        y_scale=f32(problem.scaler.scale[-1]),
        train_prev=f32(pad(problem.train_prev, n_pad)),
        train_actual=f32(pad(problem.train_actual, n_pad)),
        test_prev=f32(pad(problem.test_prev, m_pad)),
        test_actual=f32(pad(problem.test_actual, m_pad)),
        test_mask=f32(pad(np.ones(m), m_pad)),
    )


def init_population(seeds: Sequence[int], features: int, arch: Architecture):
    """Initial weights for each seed, stacked on a leading replica axis (NumPy).

    Each replica's weights depend only on its own seed, so a replica starts the
    same whichever population it is trained in.
    """
    import jax

    from lstmtune.models import network

    nets = [network.init(np.random.default_rng(np.random.SeedSequence(int(s))), features, arch.units, arch.cell) for s in seeds]
    return jax.tree_util.tree_map(lambda *xs: np.stack(xs), *nets)


def replica_keys(seeds: Sequence[int]) -> np.ndarray:
    """Raw threefry key data (P, 2) uint32 per seed, for dropout masks and shuffling."""
    return np.stack([np.random.SeedSequence([int(s), 1]).generate_state(2, np.uint32) for s in seeds])


# --------------------------------------------------------------------------- the program
def _build(arch: Architecture, schedule: Schedule):
    """Build the population trainer for one (architecture, schedule): ``(start, advance)``."""
    import jax
    import jax.numpy as jnp
    import optax

    from lstmtune import optim
    from lstmtune.models import network

    B = arch.batch_size
    forward = functools.partial(network.forward, cell=arch.cell, recurrent_activation=arch.recurrent_activation)

    def zero_state():
        return network.zero_state(B, arch.units, arch.cell)

    def pointwise_loss(y, yhat, delta):
        # keras/src/losses/losses.py: mean over the last axis (size 1 here).
        err = yhat - y
        if arch.loss == "mse":
            return jnp.square(y - yhat)
        if arch.loss == "mae":
            return jnp.abs(y - yhat)
        abs_err = jnp.abs(err)
        return jnp.where(abs_err <= delta, 0.5 * jnp.square(err), delta * abs_err - 0.5 * jnp.square(delta))

    def loss_fn(params, x, y, mask, state, hyper, key):
        drop = network.Dropout(key, hyper.dropout, hyper.recurrent_dropout) if arch.dropout else None
        yhat, new_state = forward(params, x, state, dropout=drop)
        # Keras "sum_over_batch_size": sum over the rows actually in the batch / their number.
        loss = jnp.sum(mask * pointwise_loss(y, yhat, hyper.huber_delta)) / jnp.sum(mask)
        if arch.regularized:
            loss = loss + network.penalty(params, hyper.l1, hyper.l2)
        return loss, new_state

    def train_step(optimizer, hyper, carry, batch):
        params, opt_state, state = carry
        x, y, mask, key = batch
        if not arch.stateful:
            state = zero_state()
        # The carried state is an input, not a parameter: no gradient through it.
        state = jax.tree_util.tree_map(jax.lax.stop_gradient, state)
        (loss, new_state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, x, y, mask, state, hyper, key)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return (params, opt_state, new_state), loss

    def batches(data: Data, hyper: Hyper, epoch):
        """The epoch's minibatches (K, B, ...) with per-minibatch dropout keys."""
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

    def train_epoch(optimizer, hyper, params, opt_state, data: Data, epoch):
        step = functools.partial(train_step, optimizer, hyper)
        (params, opt_state, _), losses = jax.lax.scan(step, (params, opt_state, zero_state()), batches(data, hyper, epoch))
        return params, opt_state, jnp.mean(losses)

    def predict(params, data: Data):
        if not arch.stateful:
            one = lambda x: forward(params, x, network.zero_state(x.shape[0], arch.units, arch.cell))[0]  # noqa: E731
            return one(data.train_x), one(data.test_x)

        def step(state, x):
            yhat, state = forward(params, x, state)
            return state, yhat

        split = lambda a: a.reshape((a.shape[0] // B, B) + a.shape[1:])  # noqa: E731
        state, train_pred = jax.lax.scan(step, zero_state(), split(data.train_x))
        _, test_pred = jax.lax.scan(step, state, split(data.test_x))
        return train_pred.reshape(-1), test_pred.reshape(-1)

    def rmse(pred, data: Data, prev, actual, weight):
        forecast = (pred - data.y_min) / data.y_scale + prev
        return jnp.sqrt(jnp.sum(weight * jnp.square(forecast - actual)) / jnp.sum(weight))

    def all_finite(tree):
        return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(tree)]))

    checkpoint_slot = np.full(schedule.segments, -1, np.int32)
    for k, epoch in enumerate(schedule.checkpoints):
        checkpoint_slot[epoch // schedule.eval_every - 1] = k
    n_ckpt = len(schedule.checkpoints)

    def make_optimizer(hyper: Hyper):
        kwargs = {"learning_rate": hyper.learning_rate}
        if arch.optimizer in ("sgd", "rmsprop"):
            kwargs["momentum"] = hyper.momentum
        if arch.optimizer == "sgd":
            kwargs["nesterov"] = arch.nesterov
        return optim.make(arch.optimizer, **kwargs)

    def start(params, hyper: Hyper, data: Data):
        """A replica's training carry before its first epoch."""
        opt_state = make_optimizer(hyper).init(params)
        snapshots = (
            jnp.zeros((n_ckpt, data.train_x.shape[0]), jnp.float32),
            jnp.zeros((n_ckpt, data.test_x.shape[0]), jnp.float32),
        )
        return params, opt_state, jnp.zeros([], jnp.int32), snapshots

    def advance(carry, hyper: Hyper, data: Data, first_segment):
        """Train ``chunk`` segments of ``eval_every`` epochs each, scoring after each segment."""
        # Numeric hyperparameters are read from the optimizer state
        # (optax.inject_hyperparams), so this instance's own values are not used.
        optimizer = make_optimizer(hyper)

        def epoch_body(carry, epoch):
            params, opt_state, diverged = carry
            params, opt_state, loss = train_epoch(optimizer, hyper, params, opt_state, data, epoch)
            bad = ~(jnp.isfinite(loss) & all_finite(params))
            diverged = jnp.where((diverged == 0) & bad, epoch, diverged)
            return (params, opt_state, diverged), None

        def segment_body(carry, seg):
            params, opt_state, diverged, snapshots = carry
            first = seg * schedule.eval_every + 1
            (params, opt_state, diverged), _ = jax.lax.scan(
                epoch_body, (params, opt_state, diverged), first + jnp.arange(schedule.eval_every)
            )
            train_pred, test_pred = predict(params, data)
            scores = jnp.stack(
                [
                    rmse(train_pred, data, data.train_prev, data.train_actual, data.train_mask),
                    rmse(test_pred, data, data.test_prev, data.test_actual, data.test_mask),
                ]
            )
            slot = jnp.asarray(checkpoint_slot)[seg]
            keep = slot >= 0
            idx = jnp.maximum(slot, 0)
            snapshots = (
                snapshots[0].at[idx].set(jnp.where(keep, train_pred, snapshots[0][idx])),
                snapshots[1].at[idx].set(jnp.where(keep, test_pred, snapshots[1][idx])),
            )
            return (params, opt_state, diverged, snapshots), scores

        return jax.lax.scan(segment_body, carry, first_segment + jnp.arange(schedule.chunk))

    return jax.jit(jax.vmap(start, in_axes=(0, 0, None))), jax.jit(jax.vmap(advance, in_axes=(0, 0, None, None)))


_PROGRAMS: dict[tuple[Architecture, Schedule], object] = {}


def program(arch: Architecture, schedule: Schedule):
    """The compiled ``(start, advance)`` pair for this architecture and schedule.

    Data shapes (rows, timesteps, features) and the population size are
    argument shapes: JAX compiles once per distinct combination, and changing
    only numeric values (hyperparameters, data values, seeds) never recompiles.
    """
    _ensure_configured()
    key = (arch, schedule)
    if key not in _PROGRAMS:
        _PROGRAMS[key] = _build(arch, schedule)
    return _PROGRAMS[key]


def _per_replica(value, p: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=np.float32), (p,)).copy()


def train_population(
    problem: Problem,
    arch: Architecture,
    schedule: Schedule,
    *,
    seeds: Sequence[int],
    learning_rate: Sequence[float] | float | None = None,
    momentum: Sequence[float] | float = 0.0,
    dropout: Sequence[float] | float = 0.0,
    recurrent_dropout: Sequence[float] | float = 0.0,
    l1: Sequence[float] | float = 0.0,
    l2: Sequence[float] | float = 0.0,
    huber_delta: Sequence[float] | float = 1.0,
    params=None,
    on_epochs: Callable[[int, int], None] | None = None,
) -> PopulationResult:
    """Train one network per seed, all at once, and score them.

    Args:
      problem: prepared arrays (stateful: training rows divide by the batch size).
      arch: shape-fixing settings.
      schedule: epochs, checkpoints and scoring frequency.
      seeds: one integer seed per replica; it alone decides the replica's
        initial weights, dropout masks and shuffling.
      learning_rate: a scalar or one per replica; None: the optimizer's Keras default.
      momentum, dropout, recurrent_dropout, l1, l2, huber_delta: scalars or one
        per replica. Non-zero dropout or L1/L2 needs ``arch.dropout`` /
        ``arch.regularized`` (the paths are compiled only when asked for).
      params: optional initial weights (a ``NetParams`` pytree with leading axis
        P) replacing the seeded initialisation (used to compare with Keras).
      on_epochs: progress callback ``(epochs_done, epochs_total)``, called
        after each call of the compiled program.

    Returns:
      A :class:`PopulationResult` of NumPy arrays.
    """
    _ensure_configured()
    import jax

    from lstmtune import optim

    p = len(seeds)
    if not arch.dropout and (np.any(np.asarray(dropout)) or np.any(np.asarray(recurrent_dropout))):
        raise ValueError("dropout rates given but arch.dropout is False")
    if not arch.regularized and (np.any(np.asarray(l1)) or np.any(np.asarray(l2))):
        raise ValueError("l1/l2 given but arch.regularized is False")
    if learning_rate is None:
        learning_rate = optim.KERAS_DEFAULT_LEARNING_RATE[arch.optimizer]
    features = problem.train_x.shape[2]
    if params is None:
        params = init_population(seeds, features, arch)
    hyper = Hyper(
        learning_rate=_per_replica(learning_rate, p),
        momentum=_per_replica(momentum, p),
        dropout=_per_replica(dropout, p),
        recurrent_dropout=_per_replica(recurrent_dropout, p),
        l1=_per_replica(l1, p),
        l2=_per_replica(l2, p),
        huber_delta=_per_replica(huber_delta, p),
        key=replica_keys(seeds),
    )
    data = make_data(problem, arch)
    start, advance = program(arch, schedule)
    carry = start(params, hyper, data)
    chunks = []
    for first in range(0, schedule.segments, schedule.chunk):
        carry, scores = advance(carry, hyper, data, first)
        chunks.append(scores)
        if on_epochs is not None:
            jax.block_until_ready(scores)
            on_epochs((first + schedule.chunk) * schedule.eval_every, schedule.epochs)
    final, _, diverged, (train_snap, test_snap) = carry
    curves = np.concatenate([np.asarray(c) for c in chunks], axis=1)
    n_train, n_test = len(problem.train_y), len(problem.test_y)
    return PopulationResult(
        checkpoints=np.asarray(schedule.checkpoints),
        train_pred=np.asarray(train_snap)[:, :, :n_train],
        test_pred=np.asarray(test_snap)[:, :, :n_test],
        eval_epochs=np.arange(1, schedule.segments + 1) * schedule.eval_every,
        curves=curves,
        diverged_epoch=np.asarray(diverged),
        params=jax.tree_util.tree_map(np.asarray, final),
    )
