"""Splitting a population across CPU cores: speed-up against one device, by population size.

Each setting runs in its own process (the device count is fixed when JAX starts):
``LSTMTUNE_CPU_DEVICES=1`` (one device, the whole population in one program) against the
default (one device per core, splitting populations of at least ``engine.SHARD_WORK``),
and, with ``--force``, splitting every population, to choose that threshold. Shampoo, stateful LSTM, batch 4; each
population is trained once to compile, then ``--trials`` times; the median is reported.
Results are checked bit-identical across settings.

    python benchmarks/cpu_shards.py [--epochs 1000] [--sizes 16,32,64,128,300,600,3000] [--units 1] [--force]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time, hashlib
import numpy as np
from lstmtune.data import series as data
from lstmtune.engine import trainer as engine
from lstmtune.data.problem import Framing, prepare
import jax
args = json.loads(sys.argv[1])
if args["force"]:
    engine.SHARD_WORK = 0.0
prob = prepare(data.load("shampoo"), Framing(1, 1, 1, test_size=12, trim=None, feature_range=(-1.0, 1.0)), 4)
arch = engine.Architecture(units=(args["units"],), batch_size=4)
sched = engine.Schedule.for_checkpoints([args["epochs"]])
out = {}
for p in args["sizes"]:
    seeds = list(range(p))
    t0 = time.perf_counter(); r = engine.train_population(prob, arch, sched, seeds=seeds); first = time.perf_counter() - t0
    times = []
    for _ in range(args["trials"]):
        t0 = time.perf_counter(); r = engine.train_population(prob, arch, sched, seeds=seeds); times.append(time.perf_counter() - t0)
    out[p] = {"first_s": first, "median_s": float(np.median(times)), "shards": engine.cpu_shards(p, engine.work(p, prob, sched)),
              "digest": hashlib.sha256(np.ascontiguousarray(r.test_pred).tobytes()).hexdigest()[:16]}
print(json.dumps({"devices": len(jax.devices()), "results": out}))
"""


def child(devices: str | None, args, force: bool) -> dict:
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    if devices is not None:
        env["LSTMTUNE_CPU_DEVICES"] = devices
    payload = json.dumps({"sizes": args.sizes, "epochs": args.epochs, "units": args.units, "trials": args.trials, "force": force})
    done = subprocess.run([sys.executable, "-c", CHILD, payload], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=1000)
    ap.add_argument("--units", type=int, default=1)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--sizes", default="16,32,64,128,300,600,3000")
    ap.add_argument("--force", action="store_true", help="split every population (engine.SHARD_WORK = 0), to choose the threshold")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    args.sizes = [int(x) for x in args.sizes.split(",")]
    t0 = time.time()
    one = child("1", args, False)
    many = child(None, args, args.force)
    rows = []
    for p in args.sizes:
        a, b = one["results"][str(p)], many["results"][str(p)]
        rows.append(
            {"replicas": p, "one_device_s": a["median_s"], "split_s": b["median_s"], "shards": b["shards"],
             "speedup": a["median_s"] / b["median_s"], "identical": a["digest"] == b["digest"], "first_one_s": a["first_s"], "first_split_s": b["first_s"]}
        )
    report = {"cores": many["devices"], "epochs": args.epochs, "units": args.units, "force": args.force, "rows": rows, "wall_s": time.time() - t0}
    print(json.dumps(report, indent=1))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
