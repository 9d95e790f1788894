"""A user changing a diagnostic study's epochs: the study at 1000 epochs, then at 1500, then at
600, each in a fresh process, for one or more source trees, each tree on its own empty
compilation cache. Prints, and appends to epoch_change_results.json, each run's wall time and
the programs it had to trace and store (0 when every program it needs was compiled before).

Usage: python benchmarks/epoch_change.py SRC [SRC ...]
  SRC: a tree's src/ folder (put first on PYTHONPATH).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from second_run import _programs  # noqa: E402
from trees import _commit, timed  # noqa: E402

STUDY = """name = "epochs"
seed = 1
[model]
units = 2
batch_size = 4
epochs = {epochs}
[runs]
mode = "diagnostic"
diagnostic_repeats = 10
[evaluation]
selection = "test"
"""


def sequence(src: str) -> list[dict]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        for epochs in (1000, 1500, 600):
            study = Path(tmp) / f"e{epochs}.toml"
            study.write_text(STUDY.format(epochs=epochs))
            before = _programs(cache)
            seconds = timed(src, ["run", str(study), "--out", "{out}", "-q"], Path(tmp) / f"out{epochs}", Path(tmp), {"LSTMTUNE_CACHE_DIR": str(cache)})
            out.append({"epochs": epochs, "wall_s": round(seconds, 2), "programs_traced": _programs(cache) - before})
    return out


if __name__ == "__main__":
    record = {"trees": {}}
    for src in sys.argv[1:]:
        runs = sequence(src)
        record["trees"][f"{src} ({_commit(src)})"] = runs
        print(src, runs, flush=True)
    path = Path(__file__).with_name("epoch_change_results.json")
    history = json.loads(path.read_text()) if path.exists() else []
    path.write_text(json.dumps([*history, record], indent=1) + "\n")
