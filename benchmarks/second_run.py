"""A user's first, second and third run of one `lstmtune` command, for one or more source trees:
each tree gets an empty compilation cache, then runs the command three times in fresh processes
(each into a new output folder). Prints, and appends to second_run_results.json, the wall time
of each run and how many programs it had to trace and store (files added to the cache's
``lstmtune-programs`` folder: 0 once nothing is left to compile).

The second run is the one `benchmarks/trees.py` does not time (it warms each tree once, then
times the runs after), and the one a user meets first after installing.

Usage: python benchmarks/second_run.py SRC [SRC ...] [--rounds 2] -- lstmtune ARGS...
  SRC: a tree's src/ folder (put first on PYTHONPATH); "{out}" in ARGS is replaced by a fresh folder.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from trees import _commit, timed  # noqa: E402


def _programs(cache: Path) -> int:
    folder = cache / "lstmtune-programs"
    return len(list(folder.glob("*.jax"))) if folder.exists() else 0


def sequence(src: str, args: list[str]) -> list[dict]:
    """Three runs of ``args`` with ``src`` on a fresh compilation cache."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        for k in ("first", "second", "third"):
            before = _programs(cache)
            seconds = timed(src, args, Path(tmp) / f"out-{k}", Path(tmp), {"LSTMTUNE_CACHE_DIR": str(cache)})
            out.append({"run": k, "wall_s": round(seconds, 2), "programs_traced": _programs(cache) - before})
    return out


if __name__ == "__main__":
    argv = sys.argv[1:]
    cut = argv.index("--")
    head, args = argv[:cut], argv[cut + 1 :]
    rounds = int(head.pop(head.index("--rounds") + 1)) if "--rounds" in head else 1
    if "--rounds" in head:
        head.remove("--rounds")
    record = {"command": "lstmtune " + " ".join(args), "date": time.strftime("%Y-%m-%d"), "machine": f"{os.cpu_count()} cores", "trees": []}
    results = {src: [] for src in head}
    for _ in range(rounds):  # interleaved: tree A's three runs, tree B's, then again
        for src in head:
            results[src].append(sequence(src, args))
            print(src, results[src][-1], flush=True)
    record["trees"] = [{"src": src, "commit": _commit(src), "rounds": runs} for src, runs in results.items()]
    out = Path(__file__).with_name("second_run_results.json")
    records = json.loads(out.read_text()) if out.exists() else []
    out.write_text(json.dumps([*records, record], indent=1))
