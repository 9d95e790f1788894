"""Compiled programs kept across processes: traced and lowered once per shape, then read back.

JAX's persistent compilation cache keeps XLA's executables, but a fresh process still traces
and lowers every program in Python before that cache is consulted: in a fresh default study
about 1.4 s of the training's 5 s. ``jax.export`` serialises a lowered program (StableHLO and
its calling convention); reading it back skips the tracing and lowering, and XLA's
executable then comes from the persistent cache as before.

A program is keyed by its name, its static settings, its arguments' tree, shapes and dtypes,
the platform, the JAX version, the XLA flags and the engine's own source, and stored as
``<compilation cache>/lstmtune-programs/<key>.jax`` (written aside, moved into place).
Anything unreadable, or a program whose tree cannot be serialised, is traced as usual. A
population split across CPU devices is stored too, keyed by its arguments' shardings; a
program on one device is stored once for every device of its platform.
The numbers do not change: a program read back runs the same StableHLO (tested bitwise in
tests/engine/test_aot.py). ``LSTMTUNE_AOT=0`` turns it off.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import numpy as np

FOLDER = "lstmtune-programs"
_memory: dict = {}


_done: set = set()


def register(*classes) -> None:
    """Register NamedTuples for jax.export's tree serialisation (the engine's own and optax's
    always; the caller's, such as the trainer's data and hyperparameters, given)."""
    from jax import export
    from optax.schedules._inject import InjectStatefulHyperparamsState

    from lstmtune.engine import optim
    from lstmtune.engine.models import gru, lstm, network

    known = [lstm.LSTMParams, lstm.DenseParams, gru.GRUParams, network.NetParams, network.Dropout,
             optim.KerasAdamState, optim.KerasSGDState, optim.KerasRMSpropState, optim.KerasAdagradState, InjectStatefulHyperparamsState]
    for cls in [*known, *classes]:
        if cls in _done:
            continue
        _done.add(cls)
        try:
            export.register_namedtuple_serialization(cls, serialized_name=f"{cls.__module__}.{cls.__qualname__}")
        except ValueError:  # registered already
            pass


@functools.cache
def _source_digest() -> str:
    """The engine's source: a changed program is never read back for the new code."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for path in sorted([*root.glob("*.py"), *root.glob("models/*.py")]):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _folder() -> Path | None:
    if os.environ.get("LSTMTUNE_AOT", "1").strip().lower() in ("0", "off", "false", "no"):
        return None
    import jax

    cache = jax.config.jax_compilation_cache_dir
    return Path(cache) / FOLDER if cache else None


def _leaves(args):
    import jax

    leaves, tree = jax.tree_util.tree_flatten(args)
    return [np.int32(x) if isinstance(x, (int, np.integer)) and not isinstance(x, bool) else x for x in leaves], tree


def _key(name: str, static, leaves, tree, platform: str) -> str:
    import jax
    import jaxlib
    import optax

    sig = [(tuple(np.shape(x)), str(getattr(x, "dtype", type(x))), _placement(x)) for x in leaves]
    config = {k: getattr(jax.config, k, None) for k in ("jax_enable_x64", "jax_default_matmul_precision", "jax_threefry_partitionable")}
    text = repr((name, static, sig, str(tree), platform, jax.__version__, jaxlib.__version__, optax.__version__, sorted(config.items()),
                 os.environ.get("XLA_FLAGS", ""), _source_digest()))
    return hashlib.sha256(text.encode()).hexdigest()


def _placement(x) -> str | None:
    """An argument's sharding as far as it shapes the program: a split population's devices; one
    device's program is the same on every device of the platform (and so is its executable:
    :func:`lstmtune.engine.xla.share_single_device_programs`)."""
    sharding = getattr(x, "sharding", None)
    if sharding is not None and len(sharding.device_set) == 1:
        return "one device"
    return repr(sharding)


def _platform(leaves) -> str | None:
    """The platform all array arguments live on (None: several platforms)."""
    devices = set()
    for x in leaves:
        sharding = getattr(x, "sharding", None)
        if sharding is not None:
            devices |= set(sharding.device_set)
    if len({d.platform for d in devices}) > 1:
        return None
    if not devices:
        import jax

        return jax.default_backend()
    platform = next(iter(devices)).platform
    if platform == "gpu":  # jax.export names it "cuda" or "rocm"
        from jax import export

        return export.default_export_platform()
    return platform


def call(name: str, fn, static, *args, classes=()):
    """``fn(*args)`` (``fn`` jitted; ``static``: what else fixes its program; ``classes``: the
    NamedTuples of the arguments' trees besides the engine's), through a program read back
    from disk when one was stored for this key, else exported, stored and run."""
    folder = _folder()
    if folder is not None:
        register(*classes)
    leaves, tree = _leaves(args)
    platform = _platform(leaves) if folder is not None else None
    if platform is None:
        return fn(*args)
    key = _key(name, static, leaves, tree, platform)
    run = _memory.get(key)
    if run is None:
        run = _read(folder / f"{key}.jax") or _export(fn, args, leaves, tree, platform, folder / f"{key}.jax") or fn  # fn: as ever
        _memory[key] = run
    import jax

    return run(*jax.tree_util.tree_unflatten(tree, leaves))


def _read(path: Path):
    from jax import export

    try:
        blob = path.read_bytes()
    except OSError:
        return None
    try:
        return export.deserialize(bytearray(blob)).call
    except Exception:  # noqa: BLE001 - unreadable or from another version: traced afresh
        return None


def _export(fn, args, leaves, tree, platform: str, path: Path):
    import jax
    from jax import export

    try:
        exported = export.export(fn, platforms=[platform])(*jax.tree_util.tree_unflatten(tree, leaves))
        blob = exported.serialize()
    except Exception:  # noqa: BLE001 - a tree or program export cannot serialise: the usual path
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(blob)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache: this process still runs the exported program
    return exported.call


_after_release = 0
"""Memory mappings this process held just after its last :func:`release` (0: none yet)."""


def _mappings() -> tuple[int, int] | None:
    """``(held, limit)``: this process's memory mappings and the kernel's per-process limit (None off Linux)."""
    try:
        limit = int(Path("/proc/sys/vm/max_map_count").read_text())
        with open("/proc/self/maps", "rb") as maps:
            return sum(1 for _ in maps), limit
    except (OSError, ValueError):
        return None


def crowded(fraction: float = 0.5, growth: float = 0.1) -> bool:
    """Whether this process holds more than ``fraction`` of the memory mappings the kernel allows
    one process (Linux's ``vm.max_map_count``; False where that cannot be read), and at least
    ``growth`` of that limit more than just after its last :func:`release` (so that mappings
    JAX does not hold never make every call release).

    Every compiled XLA program keeps about three mappings for its code while it is cached, and
    JAX caches every program a process compiles: a long process compiling tens of thousands of
    shapes (``lstmtune auto`` on a panel of series of many lengths, one after another) would
    abort in LLVM ("Unable to allocate section memory") at about 65,000. :func:`release` frees them.
    """
    counts = _mappings()
    if counts is None:
        return False
    held, limit = counts
    return held > fraction * limit and held - _after_release >= growth * limit


def release() -> None:
    """Drop every compiled program this process holds (the programs read back here and JAX's
    in-memory caches), so their code is unmapped; programs needed again are read back from the
    stored programs and the persistent cache. Call it only where nothing is running."""
    import jax

    global _after_release
    _memory.clear()
    jax.clear_caches()
    counts = _mappings()
    _after_release = 0 if counts is None else counts[0]


def release_if_crowded(fraction: float = 0.5, growth: float = 0.1) -> bool:
    """:func:`release` when :func:`crowded` (``fraction``, ``growth``); whether it did. For the
    loops of a long process, between one piece of work and the next (nothing running)."""
    if not crowded(fraction, growth):
        return False
    release()
    return True


__all__ = ["FOLDER", "call", "crowded", "register", "release", "release_if_crowded"]
