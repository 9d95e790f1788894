"""Resume after a killed study, and two processes on one study (SQLite store)."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from lstmtune.study import spec
from lstmtune.workflow import study

pytestmark = pytest.mark.slow  # the fast subset (pytest -m 'not slow') leaves this module out; the full run keeps it

STUDY = """
name = "resume"
seed = 11
[transforms]
trim = 2
[model]
batch_size = 4
epochs = 300
[runs]
mode = "summary"
repeats = 6
[evaluation]
selection = "test"  # one phase: 36 runs in the store
[grid]
units = [1, 2, 3, 4, 5, 6]
"""


def _cli(args, env_extra=None, **kw):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.Popen([sys.executable, "-m", "lstmtune.cli", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _done(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return con.execute("select count(*) from lstmtune_runs where status = 'done'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # tables not created yet


@pytest.fixture()
def study_file(tmp_path):
    path = tmp_path / "resume.toml"
    path.write_text(STUDY)
    return path


def test_killed_study_resumes_without_recomputing(study_file, tmp_path, record_property):
    out = tmp_path / "killed"
    db = out / "study.db"
    # A fresh compilation cache: every population compiles, so the study takes long enough to kill mid-way.
    proc = _cli(["run", str(study_file), "--out", str(out), "--quiet"], {"LSTMTUNE_CACHE_DIR": str(tmp_path / "xla")})
    deadline = time.time() + 120
    while _done(db) == 0 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = _done(db)
    assert 0 < done_before < 36, f"kill landed at {done_before} of 36 runs; the test needs a mid-study kill"
    assert not (out / "report.html").exists()  # outputs are written only at the end
    with sqlite3.connect(db) as con:
        finished = dict(con.execute("select config_key || ':' || repeat, finished_at from lstmtune_runs where status = 'done'"))
        running_after_kill = con.execute("select count(*) from lstmtune_runs where status = 'running'").fetchone()[0]

    s = spec.load(study_file)
    resumed = study.run(s, out)
    trained = resumed.results.timings["populations_trained"]
    assert trained == 6 - done_before // 6  # only the missing populations (6 runs each)
    with sqlite3.connect(db) as con:
        again = dict(con.execute("select config_key || ':' || repeat, finished_at from lstmtune_runs where status = 'done'"))
        assert con.execute("select count(*) from lstmtune_runs where status = 'running'").fetchone()[0] == 0
    assert len(again) == 36
    for key, when in finished.items():  # nothing finished before the kill was recomputed
        assert again[key] == when
    print(f"killed after {done_before} runs; {running_after_kill} were left running and were reclaimed")

    fresh = study.run(s, tmp_path / "uninterrupted")
    pd.testing.assert_frame_equal(resumed.results.runs, fresh.results.runs, check_exact=True)
    record_property("figure", f"kill -9 after {done_before} of 36 runs: 0 finished runs recomputed, {running_after_kill} stale claims reclaimed, bit-identical")


# Each worker's first training waits (up to 120 s) until both workers hold a claim, so that
# neither can finish the whole study before the other starts (a slow start under load made
# "both trained part of it" depend on timing).
_BARRIER = '''
import sqlite3, sys, time
from lstmtune.engine import trainer as engine
db, real, first = sys.argv.pop(1), engine.train_population, [True]

def owners():
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return con.execute("select count(distinct owner) from lstmtune_runs").fetchone()[0]
    except sqlite3.OperationalError:
        return 0

def train_population(*args, **kwargs):
    deadline = time.time() + 120
    while first[0] and owners() < 2 and time.time() < deadline:
        time.sleep(0.05)
    first[0] = False
    return real(*args, **kwargs)

engine.train_population = train_population
from lstmtune.cli.app import main

sys.argv[0] = "lstmtune"
main()
'''


def test_two_processes_share_one_study(study_file, tmp_path, record_property):
    out = tmp_path / "shared"
    env = dict(os.environ)  # the usual compilation cache: the barrier below makes both processes train
    args = [sys.executable, "-c", _BARRIER, str(out / "study.db"), "run", str(study_file), "--out", str(out), "--quiet"]
    procs = [subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (stdout, stderr) in zip(procs, results):
        assert p.returncode == 0, stderr
        assert "locked" not in stderr.lower()
        assert "Best configuration" in stdout
    with sqlite3.connect(out / "study.db") as con:
        rows = con.execute("select config_key, repeat, count(*) from lstmtune_runs group by config_key, repeat").fetchall()
        owners = [o for (o,) in con.execute("select distinct owner from lstmtune_runs")]
        statuses = {s for (s,) in con.execute("select distinct status from lstmtune_runs")}
    assert len(rows) == 36 and all(n == 1 for *_, n in rows)  # every run exactly once
    assert statuses == {"done"}
    assert len(owners) == 2, f"both processes should have trained part of the study: {owners}"
    # And the shared result equals a single process's.
    record_property("figure", f"2 workers: 36/36 runs each computed exactly once, by {len(owners)} owners, no lock errors")
    alone = study.run(spec.load(study_file), tmp_path / "alone")
    shared = pd.read_parquet(out / "results.parquet")
    pd.testing.assert_frame_equal(shared, alone.results.runs, check_exact=True, check_dtype=False)
