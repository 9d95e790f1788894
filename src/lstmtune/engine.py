"""The population trainer: P independent stateful LSTMs trained as one compiled program.

Read top to bottom:

1. ``Architecture`` / ``Schedule`` are the static (shape-fixing) settings: they
   decide what gets compiled. ``Hyper`` holds the numeric ones, one value per
   replica, so replicas with different learning rates share a program.
2. ``train_step``   one minibatch of the tutorial's loop for one network:
                    forward from the carried state, mean loss, one Keras-Adam step.
3. ``train_epoch``  all minibatches in order (``lax.scan``), state reset to zero
                    at the start of each epoch (``model.reset_states()``).
4. ``predict``      the tutorial's walk-forward scoring: the training inputs run
                    through the B streams from a zero state, then the test inputs
                    continue those streams (test row j of a minibatch continues
                    the state of training stream j).
5. ``start`` / ``advance``  epochs in segments of ``eval_every``; after each
                    segment the network is scored (train/test RMSE in original
                    units) and, at checkpoint epochs, its predictions are kept.
                    ``advance`` runs ``chunk`` segments per call so the host can
                    report progress between calls.
6. ``train_population`` ``vmap`` over replicas, ``advance`` under ``jit``.

Keras semantics reproduced (``keras/src/layers/rnn/rnn.py``, ``trainers/jax``):
with batch size B there are B state streams; row j of minibatch k continues row j
of minibatch k-1; the state carried forward is the one computed by that step's
forward pass, with the weights *before* the update; no gradient flows through
the carried state; no shuffling.
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
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_experimental_ynn_fusion_type" not in flags:
        os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_experimental_ynn_fusion_type=").strip()
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
    """Shape-fixing model settings: one compiled program per distinct value.

    Attributes:
      units: LSTM units.
      batch_size: stateful batch size = number of state streams.
      recurrent_activation: ``"sigmoid"`` (Keras 3) or ``"hard_sigmoid"`` (Keras 2.0).
    """

    units: int = 1
    batch_size: int = 4
    recurrent_activation: str = "sigmoid"


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


class Data(NamedTuple):
    """A problem as device arrays, minibatched for the stateful streams (float32).

    K = training minibatches, J = test minibatches (padded), B = batch size.
    """

    train_x: object  # (K, B, T, F)
    train_y: object  # (K, B)
    test_x: object  # (J, B, T, F)
    y_min: object  # () scaler min of the target column
    y_scale: object  # () scaler scale of the target column
    train_prev: object  # (K*B,) observed value before each training target
    train_actual: object  # (K*B,)
    test_prev: object  # (J*B,) padded
    test_actual: object  # (J*B,) padded
    test_mask: object  # (J*B,) 1 for real test rows, 0 for padding


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
def make_data(problem: Problem, batch_size: int) -> Data:
    """Minibatch a problem's arrays for ``batch_size`` streams; pad the test part."""
    import jax.numpy as jnp

    n = len(problem.train_y)
    if n % batch_size:
        raise ValueError(f"{n} training rows do not divide into batch_size {batch_size}; trim them first")
    m = len(problem.test_y)
    m_pad = -(-m // batch_size) * batch_size
    pad = m_pad - m
    t, f = problem.train_x.shape[1:]

    def f32(a):
        return jnp.asarray(np.asarray(a, dtype=np.float32))

    test_x = np.concatenate([problem.test_x, np.zeros((pad, t, f))]) if pad else problem.test_x
    return Data(
        train_x=f32(problem.train_x.reshape(n // batch_size, batch_size, t, f)),
        train_y=f32(problem.train_y.reshape(n // batch_size, batch_size)),
        test_x=f32(test_x.reshape(m_pad // batch_size, batch_size, t, f)),
        y_min=f32(problem.scaler.min[-1]),
        y_scale=f32(problem.scaler.scale[-1]),
        train_prev=f32(problem.train_prev),
        train_actual=f32(problem.train_actual),
        test_prev=f32(np.pad(problem.test_prev, (0, pad))),
        test_actual=f32(np.pad(problem.test_actual, (0, pad))),
        test_mask=f32(np.pad(np.ones(m), (0, pad))),
    )


def init_population(seeds: Sequence[int], features: int, arch: Architecture):
    """Initial weights for each seed, stacked on a leading replica axis (NumPy).

    Each replica's weights depend only on its own seed, so a replica starts the
    same whichever population it is trained in.
    """
    from lstmtune.models import lstm

    nets = [lstm.init_params(np.random.default_rng(np.random.SeedSequence(int(s))), features, arch.units) for s in seeds]
    import jax

    return jax.tree_util.tree_map(lambda *xs: np.stack(xs), *nets)


# --------------------------------------------------------------------------- the program
def _build(arch: Architecture, schedule: Schedule):
    """Build the jitted population trainer for one (architecture, schedule)."""
    import jax
    import jax.numpy as jnp
    import optax

    from lstmtune.models import lstm
    from lstmtune.optim import keras_adam

    B, U = arch.batch_size, arch.units
    act = arch.recurrent_activation
    # Hyperparameters live in the optimizer state (optax.inject_hyperparams), so
    # under vmap each replica carries its own learning rate in one program.
    make_optimizer = optax.inject_hyperparams(keras_adam)

    def zero_state():
        return jnp.zeros((B, U), jnp.float32), jnp.zeros((B, U), jnp.float32)

    def loss_fn(params, x, y, state):
        yhat, new_state = lstm.forward(params, x, state, act)
        # Keras: mean over the last axis, then "sum_over_batch_size".
        return jnp.sum(jnp.square(y - yhat)) / B, new_state

    def train_step(optimizer, carry, batch):
        params, opt_state, state = carry
        x, y = batch
        # The carried state is an input, not a parameter: no gradient through it.
        state = jax.tree_util.tree_map(jax.lax.stop_gradient, state)
        (loss, new_state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, x, y, state)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return (params, opt_state, new_state), loss

    def train_epoch(optimizer, params, opt_state, data: Data):
        step = functools.partial(train_step, optimizer)
        (params, opt_state, _), losses = jax.lax.scan(step, (params, opt_state, zero_state()), (data.train_x, data.train_y))
        return params, opt_state, jnp.mean(losses)

    def predict(params, data: Data):
        def step(state, x):
            yhat, state = lstm.forward(params, x, state, act)
            return state, yhat

        state, train_pred = jax.lax.scan(step, zero_state(), data.train_x)
        _, test_pred = jax.lax.scan(step, state, data.test_x)
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

    def start(params, hyper: Hyper, data: Data):
        """A replica's training carry before its first epoch."""
        opt_state = make_optimizer(learning_rate=hyper.learning_rate).init(params)
        n_train = data.train_x.shape[0] * B
        n_test = data.test_x.shape[0] * B
        snapshots = (jnp.zeros((n_ckpt, n_train), jnp.float32), jnp.zeros((n_ckpt, n_test), jnp.float32))
        return params, opt_state, jnp.zeros([], jnp.int32), snapshots

    # The learning rate is read from the optimizer state (inject_hyperparams), so
    # this instance's own value is never used.
    optimizer = make_optimizer(learning_rate=0.0)

    def advance(carry, data: Data, first_segment):
        """Train ``chunk`` segments of ``eval_every`` epochs each, scoring after each segment."""

        def epoch_body(carry, epoch):
            params, opt_state, diverged = carry
            params, opt_state, loss = train_epoch(optimizer, params, opt_state, data)
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
                    rmse(train_pred, data, data.train_prev, data.train_actual, jnp.ones_like(data.train_actual)),
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

    return jax.jit(jax.vmap(start, in_axes=(0, 0, None))), jax.jit(jax.vmap(advance, in_axes=(0, None, None)))


_PROGRAMS: dict[tuple[Architecture, Schedule], object] = {}


def program(arch: Architecture, schedule: Schedule):
    """The compiled trainer for this architecture and schedule (built once per process).

    Data shapes (rows, timesteps, features) and the population size are
    argument shapes: JAX compiles once per distinct combination, and changing
    only numeric values (learning rates, data values, seeds) never recompiles.
    """
    _ensure_configured()
    key = (arch, schedule)
    if key not in _PROGRAMS:
        _PROGRAMS[key] = _build(arch, schedule)
    return _PROGRAMS[key]


def train_population(
    problem: Problem,
    arch: Architecture,
    schedule: Schedule,
    *,
    seeds: Sequence[int],
    learning_rate: Sequence[float] | float = 1e-3,
    params=None,
    on_epochs: Callable[[int, int], None] | None = None,
) -> PopulationResult:
    """Train one network per seed, all at once, and score them.

    Args:
      problem: prepared arrays (training rows must divide by the batch size).
      arch: shape-fixing settings.
      schedule: epochs, checkpoints and scoring frequency.
      seeds: one integer seed per replica; it alone decides the replica's
        initial weights.
      learning_rate: Adam learning rate, a scalar or one per replica.
      params: optional initial weights (a ``Params`` pytree with leading axis
        P) replacing the seeded initialisation (used to compare with Keras).
      on_epochs: progress callback ``(epochs_done, epochs_total)``, called
        after each call of the compiled program.

    Returns:
      A :class:`PopulationResult` of NumPy arrays.
    """
    _ensure_configured()
    import jax

    p = len(seeds)
    features = problem.train_x.shape[2]
    if params is None:
        params = init_population(seeds, features, arch)
    lr = np.broadcast_to(np.asarray(learning_rate, dtype=np.float32), (p,)).copy()
    data = make_data(problem, arch.batch_size)
    start, advance = program(arch, schedule)
    carry = start(params, Hyper(learning_rate=lr), data)
    chunks = []
    for first in range(0, schedule.segments, schedule.chunk):
        carry, scores = advance(carry, data, first)
        chunks.append(scores)
        if on_epochs is not None:
            jax.block_until_ready(scores)
            on_epochs((first + schedule.chunk) * schedule.eval_every, schedule.epochs)
    final, _, diverged, (train_snap, test_snap) = carry
    curves = np.concatenate([np.asarray(c) for c in chunks], axis=1)
    n_test = len(problem.test_y)
    return PopulationResult(
        checkpoints=np.asarray(schedule.checkpoints),
        train_pred=np.asarray(train_snap),
        test_pred=np.asarray(test_snap)[:, :, :n_test],
        eval_epochs=np.arange(1, schedule.segments + 1) * schedule.eval_every,
        curves=np.asarray(curves),
        diverged_epoch=np.asarray(diverged),
        params=jax.tree_util.tree_map(np.asarray, final),
    )
