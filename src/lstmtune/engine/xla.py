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
