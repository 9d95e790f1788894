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
    assert len(lines) == 3  # 2 validation + 1 test population
    # small populations train side by side: their lines come in the order they finish
    assert sum("lstm units=1 batch=4, 2 replicas" in x for x in lines[:2]) == sum("lstm units=2 batch=4, 2 replicas" in x for x in lines[:2]) == 1
    assert "\x1b" not in first.stderr  # no live bar escape codes in a log
    assert " s in all (" in first.stdout
    timings = json.loads((tmp_path / "o" / "environment.json").read_text())["timings"]
    (tmp_path / "o" / ".lstmtune-finished").unlink()  # unstamped (as before the stamp existed): the rerun goes through the store
    second = _run(tmp_path, "--quiet")
    assert second.returncode == 0, second.stderr
    assert "(0 trained now, the rest already stored)" in second.stdout.replace("\n", " ")
    again = json.loads((tmp_path / "o" / "environment.json").read_text())["timings"]
    assert again["train_s"] == timings["train_s"] and again["runs_trained"] == timings["runs_trained"] > 0
    assert again["runs_trained_now"] == 0 and again["rerun_wall_s"] > 0


def _invoke(tmp_path, *extra):
    """``lstmtune run`` in this process (the reruns need no fresh process: a subprocess costs
    seconds of imports each); the same fields as ``subprocess.run``'s result."""
    import types

    from typer.testing import CliRunner

    from lstmtune.cli.app import app

    r = CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "o"), *extra])
    return types.SimpleNamespace(returncode=r.exit_code, stdout=r.stdout, stderr=r.stderr)


def _flat(text):
    return " ".join(text.split())


def _files(folder):
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_a_rerun_with_nothing_changed_prints_what_the_run_printed_and_writes_nothing(tmp_path):
    """Issue 24 item 2: nothing to train and nothing changed -> nothing recomputed or redrawn;
    any change (an output touched, the data) -> the study runs again."""
    import os

    from pathlib import Path

    import lstmtune.data.datasets as builtin

    csv = tmp_path / "d.csv"
    csv.write_text((Path(builtin.__file__).parent / "shampoo-sales.csv").read_text())
    (tmp_path / "s.toml").write_text(STUDY + f'[data]\nsource = "{csv}"\n')
    first = _invoke(tmp_path, "--quiet")
    assert first.returncode == 0, first.stderr
    files = _files(tmp_path / "o")
    second = _invoke(tmp_path, "--quiet")
    assert second.returncode == 0, second.stderr
    assert "nothing trained, recomputed or redrawn" in _flat(second.stdout)
    import re

    body = first.stdout[: re.search(r"\n\d+ runs[;( ]", first.stdout).start() + 1]  # all but the line of timings
    assert second.stdout.startswith(body) and "Baselines on the same test split" in body
    said = re.search(r"\n(\d+ runs( \([^)]*\))?)[;]", first.stdout).group(1)  # the run's count, refits included ("4 runs" of 8 before: a probe)
    assert f"{said}, all stored" in _flat(second.stdout), (said, second.stdout)
    assert _files(tmp_path / "o") == files  # nothing written
    report = tmp_path / "o" / "report.html"
    os.utime(report, ns=(report.stat().st_atime_ns, report.stat().st_mtime_ns + 1_000_000))  # an output touched
    third = _invoke(tmp_path, "--quiet")
    assert "(0 trained now, the rest already stored)" in _flat(third.stdout)
    assert "nothing trained, recomputed" in _flat(_invoke(tmp_path, "--quiet").stdout)  # stamped again
    csv.write_text(csv.read_text().replace("266.0", "267.0", 1))  # the data changed: trained afresh
    fourth = _invoke(tmp_path, "--quiet")
    assert fourth.returncode == 0, fourth.stderr
    assert "already stored" not in _flat(fourth.stdout) and "nothing trained" not in _flat(fourth.stdout)
