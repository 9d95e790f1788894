"""The same `lstmtune` command timed for two source trees side by side: fresh processes,
interleaved (A, B, A, B, ...), each in a new output folder, on a warm compilation cache (one
untimed run of each first). Prints and appends to trees_results.json the median per tree.

Usage: python benchmarks/trees.py OLD_SRC NEW_SRC [--repeats 5] -- lstmtune ARGS...
  OLD_SRC / NEW_SRC: a tree's src/ folder (put first on PYTHONPATH), optionally followed by
  ``::PYTHON``, the interpreter of another virtual environment to run that tree with (to
  compare dependency versions too); "{out}" in ARGS is replaced by a fresh folder per run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(tree: str, args: list[str], out: Path, cwd: Path, env: dict | None = None) -> float:
    """Seconds of ``lstmtune ARGS`` with the tree's source ("{out}" in ARGS: ``out``), in a fresh process."""
    src, _, python = tree.partition("::")
    cmd = [python or sys.executable, "-m", "lstmtune.cli", *[a.replace("{out}", str(out)) for a in args]]
    t0 = time.perf_counter()
    subprocess.run(cmd, env={**os.environ, **(env or {}), "PYTHONPATH": src}, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - t0


def _once(tree: str, args: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        return timed(tree, args, Path(tmp) / "out", Path(tmp))


def _commit(tree: str) -> str:
    done = subprocess.run(["git", "-C", tree.partition("::")[0], "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


if __name__ == "__main__":
    argv = sys.argv[1:]
    cut = argv.index("--")
    head, args = argv[:cut], argv[cut + 1 :]
    repeats = int(head.pop(head.index("--repeats") + 1)) if "--repeats" in head else 5
    if "--repeats" in head:
        head.remove("--repeats")
    trees = head[:2]
    for src in trees:
        _once(src, args)  # warm the caches
    times = {src: [] for src in trees}
    for _ in range(repeats):
        for src in trees:
            times[src].append(_once(src, args))
    record = {"command": "lstmtune " + " ".join(args), "repeats": repeats, "date": time.strftime("%Y-%m-%d"), "machine": f"{os.cpu_count()} cores",
              "trees": [{"src": src, "commit": _commit(src), "median_s": round(statistics.median(t), 2), "runs_s": [round(x, 2) for x in t]} for src, t in times.items()]}
    print(json.dumps(record, indent=1))
    out = Path(__file__).with_name("trees_results.json")
    records = json.loads(out.read_text()) if out.exists() else []
    out.write_text(json.dumps([*records, record], indent=1))
