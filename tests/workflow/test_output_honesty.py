"""Issue 14 item 6 (part): honest timings and progress that survives a pipe."""

import json
import subprocess
import sys
import pytest

pytestmark = pytest.mark.slow  # the fast subset (pytest -m 'not slow') leaves this module out; the full run keeps it

STUDY = 'name = "h"\n[model]\nepochs = 4\n[runs]\nrepeats = 2\ndiagnostic_repeats = 2\n[grid]\nunits = [1, 2]\n'


def _run(tmp_path, *extra):
    return subprocess.run(
        [sys.executable, "-m", "lstmtune.cli", "run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "o"), *extra],
        capture_output=True, text=True, timeout=300,
    )


def test_piped_progress_is_plain_lines_and_a_rerun_keeps_the_first_timings(tmp_path):
    (tmp_path / "s.toml").write_text(STUDY)
    first = _run(tmp_path)
    assert first.returncode == 0, first.stderr
    lines = [x for x in first.stderr.splitlines() if x.startswith("population ")]
    assert len(lines) == 3 and "lstm units=1 batch=4, 2 replicas" in lines[0]  # 2 validation + 1 test population
    assert "\x1b" not in first.stderr  # no live bar escape codes in a log
    assert " s in all (" in first.stdout
    timings = json.loads((tmp_path / "o" / "environment.json").read_text())["timings"]
    second = _run(tmp_path, "--quiet")
    assert second.returncode == 0, second.stderr
    assert "(0 trained now, the rest already stored)" in second.stdout.replace("\n", " ")
    again = json.loads((tmp_path / "o" / "environment.json").read_text())["timings"]
    assert again["train_s"] == timings["train_s"] and again["runs_trained"] == timings["runs_trained"] > 0
    assert again["runs_trained_now"] == 0 and again["rerun_wall_s"] > 0
