"""XLA flags lstmtune relies on, set in the environment before JAX starts its backend.

``--xla_cpu_experimental_ynn_fusion_type=`` keeps large reductions out of YNNPACK,
which is ~10x slower for this workload once replicas x batch reaches ~1024 (see
ENGINE-NOTES). It also makes results independent of whether the flag happened to
be set: JAX reads XLA_FLAGS once, when its backend starts, so this runs when
``lstmtune`` is imported (it only edits an environment variable).
"""

import os

FLAGS = ("--xla_cpu_experimental_ynn_fusion_type=",)


def set_flags() -> None:
    current = os.environ.get("XLA_FLAGS", "")
    missing = [f for f in FLAGS if f.split("=")[0] not in current]
    if missing:
        os.environ["XLA_FLAGS"] = " ".join([current, *missing]).strip()
