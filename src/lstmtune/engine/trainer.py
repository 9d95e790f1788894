"""The population trainer: P independent recurrent forecasters trained as one compiled program.

Read top to bottom:

1. ``Architecture`` holds the static (shape-fixing) settings: it decides what gets
   compiled; of a ``Schedule`` only whether its calls run one segment or several and its
   number of checkpoints do (its epoch counts are arguments). ``Hyper`` holds the numeric ones, one value per
   replica (learning rate, momentum, dropout rates, L1/L2, Huber delta, and the
   replica's PRNG key), so replicas with different values share a program.
2. ``make_data`` / ``init_population``: a problem's arrays padded to whole
   minibatches; each seed's initial weights (NumPy).
3. ``program``: the steps of :mod:`lstmtune.engine.steps` (loss, train step,
   minibatches, epoch, predict, score, ``start`` / ``advance``) under ``vmap``
   over replicas and ``jit``, compiled once per (architecture, :func:`program_key`, shapes).
4. ``train_population``: pads the population to a multiple of ``PAD`` (so a
   replica's bits do not depend on the others), splits it across CPU devices
   when it is large, and calls ``advance`` until the schedule is done, reporting
   progress between calls.

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

from lstmtune.engine import params
from lstmtune.data.problem import Problem


# --------------------------------------------------------------------------- XLA set-up
def configure_jax(cache_dir: str | os.PathLike | None = None) -> None:
    """Set XLA flags and the persistent compilation cache, before JAX starts its backend.

    - ``--xla_cpu_experimental_ynn_fusion_type=`` keeps large reductions out of
      YNNPACK, which is ~10x slower for this workload once replicas x batch
      reaches ~1024 (see ENGINE-NOTES).
    - The compilation cache lives in ``$LSTMTUNE_CACHE_DIR`` or the user's cache
      directory, so a repeated study skips compiling; a program compiled for one CPU
      device is read back for the others (:func:`lstmtune.engine.xla.share_single_device_programs`).

    Safe to call more than once; flags only take effect if JAX has not yet
    initialised its CPU backend.
    """
    from lstmtune.engine import xla as _xla

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
        _xla.share_single_device_programs()


@functools.cache
def _ensure_configured() -> None:
    """:func:`configure_jax` once per process (with the default cache directory)."""
    configure_jax()


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
      outputs: width of the Dense head: 1, the one-step model (the tutorial's); H, a
        *direct* multi-step head that outputs H steps at once (MQ-RNN style), trained on
        ``(rows, H)`` targets with the loss averaged over the H outputs (Keras's mean over
        the last axis); stateless only. Scored in the program on its first output.
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
    outputs: int = 1

    def __post_init__(self):
        if isinstance(self.units, int):
            object.__setattr__(self, "units", (self.units,))
        else:
            object.__setattr__(self, "units", tuple(int(u) for u in self.units))
        if self.shuffle and self.stateful:
            raise ValueError("shuffle requires stateful=False: a stateful network's streams must stay in order")
        if self.outputs < 1 or (self.outputs > 1 and self.stateful):
            raise ValueError(f"outputs must be 1, or several with stateful=False (a direct head), got {self.outputs} (stateful={self.stateful})")


CALL_SEGMENTS = 100
"""The segments a call of a compiled program can run (:attr:`Schedule.length`): a
diagnostic run of 1000 epochs in 10 calls, of 6000 in 60."""


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
        """Segments per call of the compiled program: about a tenth of the run (at most
        :data:`CALL_SEGMENTS`), so the host can report progress between calls; the last call
        may run fewer. Results do not depend on it (the same operations run in the same
        order; tested bitwise)."""
        return min(CALL_SEGMENTS, max(1, self.segments // 10))

    @property
    def length(self) -> int:
        """The segments a call of its compiled program holds: 1 when every call runs one
        segment, else :data:`CALL_SEGMENTS` (a call runs ``chunk`` of them), so runs of any
        length share one program."""
        return 1 if self.chunk == 1 else CALL_SEGMENTS

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


Hyper = NamedTuple("Hyper", [(name, np.ndarray) for name in params.NUMERIC] + [("key", np.ndarray)])
Hyper.__doc__ = """Numeric hyperparameters, one value per replica (leading axis P): a ``(P,)`` float32
array per parameter of :data:`lstmtune.study.params.NUMERIC` (learning rate, momentum, dropout
rates, L1/L2, Huber delta, ...), then ``key``: ``(P, 2)`` uint32, the replica's PRNG key
data (dropout masks, shuffling)."""


def make_hyper(arch: Architecture, seeds: Sequence[int], **values) -> Hyper:
    """A population's :class:`Hyper`: each numeric parameter a scalar or one value per seed.

    Omitted parameters take their declared defaults (``learning_rate``: the
    optimizer's Keras default).

    Raises:
      TypeError: a name that is not a numeric parameter.
      ValueError: non-zero dropout or L1/L2 without the architecture's code path.
    """
    unknown = sorted(set(values) - set(params.NUMERIC))
    if unknown:
        raise TypeError(f"not numeric parameters: {unknown}; numeric: {list(params.NUMERIC)}")
    for flag, names in params.COMPILES.items():
        if not getattr(arch, flag) and any(np.any(np.asarray(values.get(n, 0.0))) for n in names):
            raise ValueError(f"{' / '.join(names)} given but arch.{flag} is False")
    p = len(seeds)
    resolved = {}
    for name in params.NUMERIC:
        value = values.get(name, params.NUMERIC_DEFAULTS[name])
        if name == "learning_rate" and value is None:
            value = params.KERAS_DEFAULT_LEARNING_RATE[arch.optimizer]
        resolved[name] = np.broadcast_to(np.asarray(value, dtype=np.float32), (p,)).copy()
    return Hyper(**resolved, key=replica_keys(seeds))


class Data(NamedTuple):
    """A problem as device arrays (float32), padded to whole minibatches.

    Stateful: training rows divide by B (trimmed beforehand); the test part is
    padded to a multiple of B. Stateless: the training part is padded too and the
    padding is masked out of the loss (Keras's last, smaller batch).
    """

    train_x: object  # (N, T, F)
    train_y: object  # (N,), or (N, H) for a direct head
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
        shapes ``(P, C, n_train)`` and ``(P, C, n_test)`` (padding removed); a direct
        head's, ``(P, C, n_train, H)`` and ``(P, C, n_test, H)``.
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

    from lstmtune.engine.models import network

    nets = [network.init(np.random.default_rng(np.random.SeedSequence(int(s))), features, arch.units, arch.cell, arch.outputs) for s in seeds]
    return jax.tree_util.tree_map(lambda *xs: np.stack(xs), *nets)


def replica_keys(seeds: Sequence[int]) -> np.ndarray:
    """Raw threefry key data (P, 2) uint32 per seed, for dropout masks and shuffling."""
    return np.stack([np.random.SeedSequence([int(s), 1]).generate_state(2, np.uint32) for s in seeds])


# --------------------------------------------------------------------------- the program
@functools.cache
def program(arch: Architecture, length: int, checkpoints: int, stacked: bool = False):
    """The compiled ``(start, advance)`` pair for this architecture, calls of ``length``
    segments (:attr:`Schedule.length`) and ``checkpoints`` kept forecasts (:func:`lstmtune.engine.steps.start` /
    :func:`lstmtune.engine.steps.advance` under ``vmap`` and ``jit``; :func:`program_key` gives
    a schedule's). The start reads the weights and settings only: one serves every data shape,
    schedule and checkpoint count of an architecture and population size.

    Data shapes (rows, timesteps, features) and the population size are argument shapes, and
    so are a schedule's epochs between scorings and its checkpoints' epochs: JAX compiles once
    per distinct combination of shapes, ``length`` and ``checkpoints``, and changing only numbers
    (hyperparameters, data values, seeds, epoch counts, the segments a call runs) never recompiles.
    ``stacked``: every replica has its own data (leading axis P), padded to the longest, and a
    minibatch with no real row is a no-op (:func:`train_stacked`).
    """
    _ensure_configured()
    import jax

    from lstmtune.engine import steps

    start = functools.partial(steps.start, arch)
    advance = functools.partial(steps.advance, arch, length, skip_empty=stacked)
    d = 0 if stacked else None
    return jax.jit(jax.vmap(start)), jax.jit(jax.vmap(advance, in_axes=(0, 0, d, None, None, None, None)))


def program_key(arch: Architecture, schedule: Schedule, stacked: bool = False) -> tuple:
    """:func:`program`'s arguments for a schedule: what of it fixes the compiled program."""
    return arch, schedule.length, len(schedule.checkpoints), stacked


PAD = 8
"""Populations are padded to a multiple of PAD replicas (copies of the last one, dropped
from the results). XLA vectorises the replica axis; at sizes that are multiples of 8 every
replica gets the same arithmetic, so its bits do not depend on how many others share its
program (tests/test_population_invariance.py), and a shard of such a size gives the same
bits as the whole."""

SHARD_WORK = 1.5e7
"""Replica x epoch x row count (:func:`work`) from which a population is split across CPU
devices: about half a second of training on one core (shampoo: 420 replicas x 1000
epochs). Splitting compiles a larger program (+0.15 to 0.3 s, once per machine with the
persistent cache) and saves 35-45% of the run time on 2 cores (benchmarks/cpu_shards.py),
so smaller populations run on one device. The split never changes a result (see PAD)."""


def work(p: int, problem: Problem, schedule: "Schedule") -> float:
    """Replicas x epochs x (training + test rows): what one population costs, roughly."""
    return float(p) * schedule.epochs * (len(problem.train_y) + len(problem.test_y))


STACKED_SHARD_WORK = 2e8
"""The same threshold for a stacked population (:func:`train_stacked`), in :func:`stacked_work`'s
units: about 0.3 s of training on one core. On ``lstmtune auto``'s populations (batch 8, 4
units, 11-14 lag inputs, one-step or 12-step heads) one unit measured 1.4-1.6 ns (2-core
machine, 2026-12-05); splitting from there took an 8-series panel's LSTM training from 16.9 s
to 10.0 s. Replica x epoch x row counts alone (:func:`work`) put these populations, 10-20 times
dearer per row than the tutorial's, below :data:`SHARD_WORK`."""


def stacked_work(p: int, rows: int, epochs: int, arch: "Architecture", timesteps: int, features: int) -> float:
    """What a stacked population costs, roughly: replicas x epochs x rows x timesteps x the
    cell's multiply-adds per row (4 gates of ``units x (inputs + units + 1)`` per layer) plus
    the head's."""
    cell, width = 0, features
    for u in arch.units:
        cell += 4 * u * (width + u + 1)
        width = u
    return float(p) * epochs * rows * (timesteps * cell + arch.outputs * (width + 1))


def cpu_shards(p: int, amount: float = float("inf"), threshold: float | None = None) -> int:
    """CPU devices to split a population of ``p`` replicas across (1: no split).

    Args:
      p: replicas.
      amount: the population's :func:`work`; below ``threshold`` (:data:`SHARD_WORK`) it is not split.
      threshold: the amount from which it is split (None: :data:`SHARD_WORK`).

    Raises:
      LstmtuneError: ``$LSTMTUNE_CPU_DEVICES`` is not a positive whole number.
    """
    import jax

    from lstmtune.engine import xla as _xla
    from lstmtune.errors import LstmtuneError

    try:
        wanted = _xla.cpu_devices()
    except ValueError as err:
        raise LstmtuneError(str(err)) from None
    if amount < (SHARD_WORK if threshold is None else threshold):
        return 1
    return max(1, min(wanted, len(jax.devices("cpu")), p // PAD))


def lanes() -> list:
    """The CPU devices on which small populations train side by side, one each (one core
    each: a population too small to split runs on one core, so two of them take the time of
    one). Empty when there is only one."""
    import jax

    from lstmtune.engine import xla as _xla

    try:
        wanted = _xla.cpu_devices()
    except ValueError:
        wanted = 1
    found = jax.devices("cpu")[:wanted]
    return found if len(found) > 1 else []


def runs_alone(p: int, arch: Architecture, problem: Problem, schedule: "Schedule") -> bool:
    """Whether a population takes the whole machine: on a GPU, or split across the CPU devices
    (:func:`cpu_shards`); otherwise it may train beside another on its own CPU device (:func:`lanes`)."""
    device = device_for(p, arch)
    return device.platform != "cpu" or cpu_shards(p, work(p, problem, schedule)) > 1


DEVICES = ("auto", "cpu", "gpu")

GPU_MIN_REPLICAS = 3000
GPU_MIN_UNITS = 32
"""``auto`` trains on a GPU, when JAX sees one, populations of at least GPU_MIN_REPLICAS
replicas or with a layer of at least GPU_MIN_UNITS units; smaller ones on the CPU. From
the H200 measurements in issue 13 (1 unit, batch 4: 2.66 µs per replica-epoch at 30
replicas, 0.16 at 3,000, against ~0.38 and ~0.17 on 2 CPU cores; 50 units, batch 32,
1,000 points: 49 µs at 30 replicas): small populations of small models are bound by the
GPU's per-step launch latency. Provisional: not re-measured on a GPU by this version."""


def device_for(p: int, arch: Architecture, choice: str | None = None):
    """The device a population trains on: ``choice`` (default ``$LSTMTUNE_DEVICE``, else
    ``auto``) of :data:`DEVICES`.

    Raises:
      LstmtuneError: an unknown choice, or ``gpu`` when JAX sees no GPU.
    """
    import jax

    from lstmtune.errors import LstmtuneError

    choice = (choice or os.environ.get("LSTMTUNE_DEVICE") or "auto").strip().lower()
    if choice not in DEVICES:
        raise LstmtuneError(f"the device must be one of {', '.join(DEVICES)}, got {choice!r} (--device or LSTMTUNE_DEVICE)")
    try:
        gpus = jax.devices("gpu")
    except RuntimeError:  # no GPU backend in this JAX
        gpus = []
    if choice == "gpu" and not gpus:
        raise LstmtuneError("--device gpu: JAX sees no GPU here; install the CUDA build (pip install 'lstmtune[gpu]') or use --device cpu")
    if choice == "gpu" or (choice == "auto" and gpus and (p >= GPU_MIN_REPLICAS or max(arch.units) >= GPU_MIN_UNITS)):
        return gpus[0]
    return jax.devices("cpu")[0]


def _padded(tree, size: int):
    """Every leaf's leading axis extended to ``size`` by repeating its last entry."""
    import jax

    def pad(a):
        a = np.asarray(a)
        extra = size - a.shape[0]
        return np.concatenate([a, np.repeat(a[-1:], extra, axis=0)]) if extra else a

    return jax.tree_util.tree_map(pad, tree)


def train_population(
    problem: Problem,
    arch: Architecture,
    schedule: Schedule,
    hyper: Hyper | None = None,
    *,
    seeds: Sequence[int],
    params=None,
    on_epochs: Callable[[int, int], None] | None = None,
    device=None,
    **numeric,
) -> PopulationResult:
    """Train one network per seed, all at once, and score them.

    Args:
      problem: prepared arrays (stateful: training rows divide by the batch size).
      arch: shape-fixing settings.
      schedule: epochs, checkpoints and scoring frequency.
      hyper: the replicas' numeric settings (:func:`make_hyper`); or give them as
        ``**numeric``, by name (:data:`lstmtune.study.params.NUMERIC`), each a scalar or
        one per replica; omitted ones take their defaults.
      seeds: one integer seed per replica; it alone decides the replica's
        initial weights, dropout masks and shuffling.
      params: optional initial weights (a ``NetParams`` pytree with leading axis
        P) replacing the seeded initialisation (used to compare with Keras).
      on_epochs: progress callback ``(epochs_done, epochs_total)``, called
        after each call of the compiled program.
      device: the JAX device to train on, whole (None: :func:`device_for`'s choice, split
        across CPU devices when large enough: :func:`cpu_shards`). The bits do not depend on it.

    Returns:
      A :class:`PopulationResult` of NumPy arrays.

    Raises:
      TypeError / ValueError: see :func:`make_hyper`.
    """
    _ensure_configured()

    p = len(seeds)
    if hyper is None:
        hyper = make_hyper(arch, seeds, **numeric)
    elif numeric:
        raise TypeError("give the numeric settings either as a Hyper or by name, not both")
    if params is None:
        params = init_population(seeds, problem.train_x.shape[2], arch)
    data = make_data(problem, arch)
    if device is None:
        device = device_for(p, arch)
        shards = cpu_shards(p, work(p, problem, schedule)) if device.platform == "cpu" else 1
    else:
        shards = 1
    size = -(-p // (PAD * shards)) * PAD * shards
    params, hyper = _padded(params, size), _padded(hyper, size)
    return _run(arch, schedule, params, hyper, data, p, len(problem.train_y), len(problem.test_y), device, shards, on_epochs)


def _run(arch, schedule, params, hyper, data, p: int, n_train: int, n_test: int, device, shards: int, on_epochs, stacked: bool = False) -> PopulationResult:
    """Place the padded population on its device(s), run the compiled program, return the first ``p`` replicas."""
    import jax

    from lstmtune.engine import aot, steps

    size = len(hyper.key)
    snapshots = jax.tree_util.tree_map(lambda a: np.zeros((size,) + a.shape, a.dtype), steps.snapshots(len(schedule.checkpoints), data, stacked))
    if shards > 1:  # the replica axis split across CPU devices, one core each; data copied to each (or split, stacked)
        from jax.sharding import Mesh, NamedSharding, PartitionSpec

        mesh = Mesh(np.array(jax.devices("cpu")[:shards]), ("replica",))
        params, hyper, snapshots = jax.device_put((params, hyper, snapshots), NamedSharding(mesh, PartitionSpec("replica")))
        data = jax.device_put(data, NamedSharding(mesh, PartitionSpec("replica") if stacked else PartitionSpec()))
    else:  # committed to the chosen device: the compiled program runs there
        params, hyper, data, snapshots = jax.device_put((params, hyper, data, snapshots), device)

    static = program_key(arch, schedule, stacked)
    start, advance = program(*static)  # one cache key per program
    # traced once per architecture, population and machine, then read back: the start depends
    # neither on the data's shapes nor on the schedule
    carry = (*aot.call("start", start, (arch,), params, hyper, classes=(Hyper,)), snapshots)
    chunks = []
    slots = steps.checkpoint_slots(schedule)
    length = schedule.length
    for first in range(0, schedule.segments, schedule.chunk):
        count = min(schedule.chunk, schedule.segments - first)
        call_slots = np.full(length, -1, np.int32)
        call_slots[:count] = slots[first:first + count]
        carry, scores = aot.call("advance", advance, static, carry, hyper, data, first, np.int32(schedule.eval_every), call_slots, np.int32(count),
                                 classes=(Data, Hyper))
        chunks.append((scores, count))
        if on_epochs is not None:
            jax.block_until_ready(scores)
            on_epochs((first + count) * schedule.eval_every, schedule.epochs)
    final, _, diverged, (train_snap, test_snap) = carry
    curves = np.concatenate([np.asarray(c)[:p, :count] for c, count in chunks], axis=1)
    return PopulationResult(
        checkpoints=np.asarray(schedule.checkpoints),
        train_pred=np.asarray(train_snap)[:p, :, :n_train],
        test_pred=np.asarray(test_snap)[:p, :, :n_test],
        eval_epochs=np.arange(1, schedule.segments + 1) * schedule.eval_every,
        curves=curves,
        diverged_epoch=np.asarray(diverged)[:p],
        params=jax.tree_util.tree_map(lambda a: np.asarray(a)[:p], final),
    )


def train_stacked(problems: Sequence[Problem], arch: Architecture, schedule: Schedule, hyper: Hyper | None = None, *, seeds: Sequence[int],
                  on_epochs: Callable[[int, int], None] | None = None, rows: int | None = None) -> PopulationResult:
    """Train one network per seed, replica ``i`` on ``problems[i]``, all at once (stateless only).

    Many series, configurations of one shape, and seeds become one compiled program: every
    problem's rows are padded (masked) to the longest's, and a minibatch holding no real row
    changes nothing, so a replica trains exactly as it would among any other problems of its
    shape: its result does not depend on which, or how many, were stacked with it (tested
    bitwise). ``hyper``: the replicas' numeric settings (:func:`make_hyper`; None: the defaults).
    ``rows``: pad the training rows to at least this many (a shape shared with other populations).

    Returns:
      A :class:`PopulationResult` whose ``train_pred`` / ``test_pred`` keep the padded rows:
      replica ``i``'s are the first ``len(problems[i].train_y)`` / ``len(problems[i].test_y)``.

    Raises:
      ValueError: a stateful architecture (its streams cannot be padded), problems of
        different input shapes, or not one problem per seed.
    """
    _ensure_configured()

    if arch.stateful:
        raise ValueError("stacked populations are stateless only: a stateful network's streams cannot be padded")
    if len(problems) != len(seeds) or not problems:
        raise ValueError(f"one problem per seed: {len(problems)} problems, {len(seeds)} seeds")
    shapes = {tuple(pr.train_x.shape[1:]) + tuple(np.shape(pr.train_y)[1:]) for pr in problems}
    if len(shapes) > 1:
        raise ValueError(f"stacked problems must share timesteps, features and outputs: {sorted(shapes)}")
    p, B = len(seeds), arch.batch_size
    n = -(-max(max(len(pr.train_y) for pr in problems), rows or 0) // B) * B
    m = -(-max(len(pr.test_y) for pr in problems) // B) * B
    datas = [make_data(pr, arch) for pr in problems]

    def grow(a, rows):
        a = np.asarray(a)
        return np.concatenate([a, np.zeros((rows - a.shape[0],) + a.shape[1:], a.dtype)]) if a.shape[0] < rows else a

    rows_of = {"train_x": n, "train_y": n, "train_mask": n, "train_prev": n, "train_actual": n, "test_x": m, "test_prev": m, "test_actual": m, "test_mask": m}
    data = Data(**{f: np.stack([grow(getattr(d, f), rows_of[f]) if f in rows_of else np.asarray(getattr(d, f)) for d in datas]) for f in Data._fields})
    device = device_for(p, arch)
    amount = stacked_work(p, n + m, schedule.epochs, arch, problems[0].train_x.shape[1], problems[0].train_x.shape[2])
    shards = cpu_shards(p, amount, STACKED_SHARD_WORK) if device.platform == "cpu" else 1
    size = -(-p // (PAD * shards)) * PAD * shards
    params = _padded(init_population(seeds, problems[0].train_x.shape[2], arch), size)
    hyper = _padded(make_hyper(arch, seeds) if hyper is None else hyper, size)
    return _run(arch, schedule, params, hyper, _padded(data, size), p, n, m, device, shards, on_epochs, stacked=True)
