"""XLA flags lstmtune relies on, set in the environment before JAX starts its backend.

- ``--xla_cpu_experimental_ynn_fusion_type=`` keeps large reductions out of YNNPACK,
  which is ~10x slower for this workload once replicas x batch reaches ~1024 (see
  ENGINE-NOTES). It also makes results independent of whether the flag happened to
  be set.
- ``--xla_force_host_platform_device_count=N`` gives JAX one CPU device per core
  (``N``: ``$LSTMTUNE_CPU_DEVICES``, default the cores this process may use), so a
  population can be split across cores (:func:`lstmtune.engine.trainer.train_population`);
  ``LSTMTUNE_CPU_DEVICES=1`` turns that off.

JAX reads XLA_FLAGS once, when its backend starts, so this runs when ``lstmtune`` is
imported (it only edits an environment variable). Flags already in XLA_FLAGS are kept.
"""

import os


def cpu_devices() -> int:
    """CPU devices to ask for: ``$LSTMTUNE_CPU_DEVICES``, else the usable cores."""
    given = os.environ.get("LSTMTUNE_CPU_DEVICES", "").strip()
    if given:
        try:
            n = int(given)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"LSTMTUNE_CPU_DEVICES must be a positive whole number, got {given!r}")
        return n
    return usable_cores()


def usable_cores() -> int:
    """The cores this process may run on (``taskset``, a container's CPU set), not the machine's."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def flags() -> tuple[str, ...]:
    try:
        n = cpu_devices()
    except ValueError:
        n = 1  # reported by the engine when it trains (lstmtune.engine.trainer.cpu_shards), not at import
    return ("--xla_cpu_experimental_ynn_fusion_type=", f"--xla_force_host_platform_device_count={n}")


def set_flags() -> None:
    current = os.environ.get("XLA_FLAGS", "")
    missing = [f for f in flags() if f.split("=")[0] not in current]
    if missing:
        os.environ["XLA_FLAGS"] = " ".join([current, *missing]).strip()


def share_single_device_programs() -> bool:
    """Key JAX's persistent compilation cache for a one-device CPU program without naming its
    device, so that a program compiled for one CPU lane is read back for another instead of
    compiled again (JAX strips the device for GPUs only: ``jax._src.cache_key``). The executable
    is then loaded for the device it runs on, with the same bits (tested:
    tests/engine/test_aot.py). A population split across devices keeps its devices in the key,
    and so does every program of another platform.

    This reaches into two private JAX functions (``cache_key.get`` and the compile options'
    hash); where either has changed shape, nothing is done (the programs are then compiled once
    per lane, as JAX does by default). Returns whether it applies.
    """
    import contextvars
    import inspect

    try:
        from jax._src import cache_key
    except ImportError:
        return False
    get, options = getattr(cache_key, "get", None), getattr(cache_key, "_hash_serialized_compile_options", None)
    if get is None or options is None:
        return False
    if getattr(get, "_lstmtune_shared", False):
        return True
    try:
        signature = inspect.signature(get)
        if "strip_device_assignment" not in inspect.signature(options).parameters or "backend" not in signature.parameters:
            return False
    except (TypeError, ValueError):
        return False
    on_cpu = contextvars.ContextVar("lstmtune_cache_key_on_cpu", default=False)

    def keyed(*args, **kwargs):  # the platform, for the options' hash below
        bound = signature.bind(*args, **kwargs)
        token = on_cpu.set(getattr(bound.arguments.get("backend"), "platform", None) == "cpu")
        try:
            return get(*args, **kwargs)
        finally:
            on_cpu.reset(token)

    def hash_options(hash_obj, compile_options_obj, strip_device_assignment=False):
        if not strip_device_assignment and on_cpu.get():
            try:
                assignment = compile_options_obj.device_assignment
                strip_device_assignment = assignment is not None and assignment.replica_count() * assignment.computation_count() == 1
            except Exception:  # noqa: BLE001 - an options object of another shape: keyed as JAX keys it
                strip_device_assignment = False
        return options(hash_obj, compile_options_obj, strip_device_assignment=strip_device_assignment)

    keyed._lstmtune_shared = True
    cache_key._hash_serialized_compile_options = hash_options
    cache_key.get = keyed
    return True
