"""Issue 9 item 3 and parts of 7: run directories are owned; nothing of the user's is
replaced; stale temporary folders, zombie workers and SIGTERM are handled."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lstmtune.store import fileio
from lstmtune.study import runner
from lstmtune.cli.app import app
from lstmtune.data.series import load

pytestmark = pytest.mark.slow  # the fast subset (pytest -m 'not slow') leaves this module out; the full run keeps it

STUDY = """
name = "{name}"
seed = 2
[data]
source = "{source}"
[model]
batch_size = 4
epochs = {epochs}
[runs]
mode = "summary"
repeats = 2
[evaluation]
selection = "test"
[grid]
units = [1, 2]
"""


def _study(tmp_path, name="owned", source="shampoo", epochs=5, file="s.toml"):
    f = tmp_path / file
    f.write_text(STUDY.format(name=name, source=source, epochs=epochs))
    return f


def _cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _one_line_error(result, *needles):
    assert result.exit_code == 2, result.output
    lines = [x for x in result.output.strip().splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert "Traceback" not in result.output
    for n in needles:
        assert n in result.output.replace("\n", ""), (n, result.output)


def test_out_at_a_foreign_directory_is_refused_and_untouched(tmp_path):
    foreign = tmp_path / "mine"
    (foreign / "plots").mkdir(parents=True)
    (foreign / "plots" / "my_figure.png").write_bytes(b"precious")
    (foreign / "results.csv").write_text("mine\n")
    result = _cli("run", _study(tmp_path), "--out", foreign, "--quiet")
    _one_line_error(result, "not an lstmtune run directory")
    assert (foreign / "plots" / "my_figure.png").read_bytes() == b"precious"
    assert (foreign / "results.csv").read_text() == "mine\n"
    assert sorted(p.name for p in foreign.iterdir()) == ["plots", "results.csv"]


def test_a_file_of_the_users_in_a_run_directorys_plots_is_refused_not_deleted(tmp_path):
    """plots/ is replaced whole by a run's figures: a note put there was deleted by the rerun (a
    probe of the README's "no file of yours is replaced")."""
    study = _study(tmp_path, epochs=2)
    assert _cli("run", study, "--out", tmp_path / "r", "--quiet").exit_code == 0
    (tmp_path / "r" / "plots" / "notes.txt").write_text("mine\n")
    _cli("run", _study(tmp_path, epochs=3), "--out", tmp_path / "r", "--quiet")  # a changed study: it would redraw
    result = _cli("run", _study(tmp_path, epochs=3), "--out", tmp_path / "r", "--quiet")
    _one_line_error(result, "plots/notes.txt is not a figure lstmtune drew")
    assert (tmp_path / "r" / "plots" / "notes.txt").read_text() == "mine\n"
    # `lstmtune report` replaces plots/ whole too: it deleted the note and said "wrote report.html" (a docs probe)
    result = _cli("report", tmp_path / "r")
    _one_line_error(result, "plots/notes.txt is not a figure lstmtune drew")
    assert (tmp_path / "r" / "plots" / "notes.txt").read_text() == "mine\n"
    (tmp_path / "r" / "plots" / "notes.txt").unlink()
    assert _cli("run", _study(tmp_path, epochs=3), "--out", tmp_path / "r", "--quiet").exit_code == 0
    assert _cli("report", tmp_path / "r").exit_code == 0


def test_out_naming_a_file_is_refused(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    _one_line_error(_cli("run", _study(tmp_path), "--out", f, "--quiet"), "is a file")
    assert f.read_text() == "x"


@pytest.mark.parametrize("name", ["..", ".", "a/b", ".hidden", "x y", "-rf"])
def test_names_are_plain_identifiers(tmp_path, name):
    result = _cli("run", _study(tmp_path, name=name), "--quiet")
    _one_line_error(result, "name")
    assert not (tmp_path / "runs").exists()


def test_an_input_inside_out_is_never_overwritten(tmp_path, monkeypatch):
    s = load("shampoo")
    csv = tmp_path / "series.csv"
    pd.DataFrame({"date": pd.DatetimeIndex(s.dates).strftime("%Y-%m-%d %H:00"), "v": s.values}).to_csv(csv, index=False)
    before = csv.read_bytes()
    monkeypatch.chdir(tmp_path)
    result = _cli("run", _study(tmp_path, source=csv), "--out", ".", "--quiet")
    _one_line_error(result, "series.csv", "input")
    assert csv.read_bytes() == before


def test_outputs_are_never_written_through_symlinks(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    _one_line_error(_cli("run", _study(tmp_path), "--out", link, "--quiet"), "symbolic link")
    assert list(real.iterdir()) == []
    out = tmp_path / "out"
    assert _cli("run", _study(tmp_path), "--out", out, "--quiet").exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    import shutil

    shutil.rmtree(out / "plots")
    (out / "plots").symlink_to(elsewhere, target_is_directory=True)
    _one_line_error(_cli("run", _study(tmp_path), "--out", out, "--quiet"), "symbolic link")
    assert list(elsewhere.iterdir()) == []


def test_an_older_run_directory_is_adopted(tmp_path):
    out = tmp_path / "old"
    assert _cli("run", _study(tmp_path), "--out", out, "--quiet").exit_code == 0
    (out / fileio.MARKER).unlink()  # as written by lstmtune before the marker existed
    assert _cli("run", _study(tmp_path), "--out", out, "--quiet").exit_code == 0
    assert (out / fileio.MARKER).is_file()


def test_stale_output_folders_of_dead_writers_are_removed(tmp_path):
    host = socket.gethostname().replace(".", "_")
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".outputs.{host}.{dead.pid}.abc"
    live = tmp_path / f".outputs.{host}.{os.getpid()}.def"
    for d in (stale, live):
        d.mkdir()
        (d / "report.html").write_text("half")
    with fileio.atomic_outputs(tmp_path) as tmp:
        (tmp / "x.txt").write_text("done")
    assert not stale.exists() and live.exists() and (tmp_path / "x.txt").read_text() == "done"


def test_a_zombie_worker_counts_as_dead():
    child = subprocess.Popen(["true"])
    deadline = time.time() + 10
    while time.time() < deadline:  # exited but not reaped: a zombie
        if Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            break
        time.sleep(0.01)
    owner = f"{socket.gethostname()}:{child.pid}:abcd"
    assert runner._is_dead(owner)
    child.wait()


def _done(db):
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return con.execute("select count(*) from lstmtune_runs where status = 'done'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_sigterm_releases_claims_and_exits_143(tmp_path, record_property):
    f = tmp_path / "s.toml"
    f.write_text(STUDY.format(name="term", source="shampoo", epochs=1500).replace("units = [1, 2]", "units = [1, 2, 3, 4, 5, 6]"))
    out = tmp_path / "out"
    env = dict(os.environ, LSTMTUNE_CACHE_DIR=str(tmp_path / "xla"))
    proc = subprocess.Popen([sys.executable, "-m", "lstmtune.cli", "run", str(f), "--out", str(out), "--quiet"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while _done(out / "study.db") == 0 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, (proc.returncode, err)
    assert "terminated" in err and "Traceback" not in err
    with sqlite3.connect(out / "study.db") as con:
        assert con.execute("select count(*) from lstmtune_runs where status = 'running'").fetchone()[0] == 0
    record_property("figure", "SIGTERM mid-study: exit 143, 0 claims left running")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM sent to itself ends the process on Windows")
def test_a_signal_inside_a_store_transaction_waits_for_the_next_safe_point(tmp_path):
    # CI once saw "database is locked" (exit 2) instead of 143: SIGTERM raised inside a
    # write transaction kept its lock, and releasing the claims then timed out on it.
    import typer
    from lstmtune.cli import interrupts as sc
    from lstmtune.store import open_store

    here = {"__name__": "lstmtune.store.sql", "os": os, "signal": signal}
    exec("def write(conn, sa):\n"
         "    os.kill(os.getpid(), signal.SIGTERM)\n"
         "    for _ in range(1000):\n"  # the handler runs between these bytecodes, inside the store
         "        conn.execute(sa.text('select 1'))\n", here)
    order = []

    def study():
        import sqlalchemy as sa

        with open_store(f"sqlite:///{tmp_path / 'db.db'}") as store:
            with store._writer.begin() as conn:
                here["write"](conn, sa)
                order.append("transaction finished")
            order.append("committed")
            sc._check_term()  # the safe point: raises the SIGTERM that arrived inside
            order.append("not reached")

    with pytest.raises(typer.Exit) as exit_:
        sc._interruptible(study, tmp_path)
    assert exit_.value.exit_code == 143 and order == ["transaction finished", "committed"]
    with pytest.raises(sc._Terminated):  # outside the store, the handler raises at once
        sc._on_signal(signal.SIGTERM, sys._getframe())
    sc._check_term()  # nothing left pending


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM sent to itself ends the process on Windows")
def test_a_signal_deferred_in_the_store_arrives_soon_after_the_process_leaves_it(tmp_path):
    # no safe point follows (as in the loop that waits for other workers): the handler is tried again
    import typer
    from lstmtune.cli import interrupts as sc

    here = {"__name__": "lstmtune.store.sql", "os": os, "signal": signal, "time": time}
    exec("def inside():\n"
         "    os.kill(os.getpid(), signal.SIGTERM)\n"
         "    t = time.time()\n"
         "    while time.time() - t < 0.5:\n"  # half a second more in the store: the nudges wait
         "        pass\n", here)
    order = []

    def study():
        here["inside"]()
        order.append("left the store")
        t = time.time()
        while time.time() - t < 20:  # no _check_term here
            pass
        order.append("not reached")

    t0 = time.time()
    with pytest.raises(typer.Exit) as exit_:
        sc._interruptible(study, tmp_path)
    assert exit_.value.exit_code == 143 and order == ["left the store"] and time.time() - t0 < 10


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM sent to itself ends the process on Windows")
def test_a_second_signal_while_one_waits_raises_at_once(tmp_path):
    import typer
    from lstmtune.cli import interrupts as sc

    here = {"__name__": "lstmtune.store.sql", "os": os, "signal": signal}
    exec("def inside(order):\n"
         "    os.kill(os.getpid(), signal.SIGTERM)\n"
         "    for _ in range(1000):\n"
         "        pass\n"
         "    order.append('the first one waits')\n"
         "    os.kill(os.getpid(), signal.SIGTERM)\n"
         "    for _ in range(10_000_000):\n"
         "        pass\n"
         "    order.append('not reached')\n", here)
    order = []
    with pytest.raises(typer.Exit) as exit_:
        sc._interruptible(lambda: here["inside"](order), tmp_path)
    assert exit_.value.exit_code == 143 and order == ["the first one waits"]
    assert sc._PENDING["error"] is None and not sc._PENDING["active"]


_POOL_INSIDE_A_COMMAND = """
import multiprocessing, os, sys, time
from pathlib import Path

forks = [0]
late = sys.argv[2] == "late"
# Every second worker starts late (this hook runs before lstmtune's in the child), so the pool
# closes while it is still starting: the window a loaded machine opens now and then.
os.register_at_fork(before=lambda: forks.__setitem__(0, forks[0] + 1),
                    after_in_child=lambda: time.sleep(0.3) if late and forks[0] % 2 == 0 else None)
from lstmtune.cli import interrupts

def work():
    # statsforecast's n_jobs: a forked pool, closed by terminate(), which sends SIGTERM to its workers
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert pool.map(abs, range(-50, 0), chunksize=1) == list(range(50, 0, -1))
    return "done"

for _ in range(int(sys.argv[3])):
    print(interrupts._interruptible(work, Path(sys.argv[1])), flush=True)
"""


@pytest.mark.parametrize("start, times", [("prompt", 10), ("late", 3)])
def test_pool_workers_forked_inside_a_command_die_quietly_when_the_pool_closes(tmp_path, start, times):
    # A forked worker inherited the command's SIGTERM handler: on the pool's terminate() it
    # raised (a traceback per worker on stderr) or deferred (the command hung in join, for ever).
    # A worker still starting when the pool closed got the SIGTERM before its default handler
    # was back: it raised in its start-up, or dropped the signal and lived on (a hang).
    script = tmp_path / "pool.py"
    script.write_text(_POOL_INSIDE_A_COMMAND)
    done = subprocess.run([sys.executable, str(script), str(tmp_path), start, str(times)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["done"] * times
    assert "Terminated" not in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_status_shows_a_dead_workers_claims_as_abandoned(tmp_path):
    from lstmtune.study import planner
    from lstmtune.study import spec
    from lstmtune.study.progress import study_status
    from lstmtune.store import open_store

    dead = subprocess.Popen(["true"])
    dead.wait()
    owner = f"{socket.gethostname()}:{dead.pid}:dead"
    s = spec.from_dict({"name": "st", "runs": {"repeats": 2, "mode": "summary"}, "evaluation": {"selection": "test"}, "grid": {"units": [1]}})
    plan = planner.plan(s)
    with open_store(f"sqlite:///{tmp_path / 'db.db'}") as store:
        sid, _ = runner.open_study(store, plan, load("shampoo"))
        store.claim(sid, [(plan.configs[0].key, r, 1) for r in range(2)], owner)
        row = study_status(store).iloc[0]
    assert (row["running"], row["abandoned"], row["pending"]) == (0, 2, 0)


def test_report_never_writes_through_symbolic_links(tmp_path):
    out = tmp_path / "out"
    assert _cli("run", _study(tmp_path), "--out", out, "--quiet").exit_code == 0
    precious = tmp_path / "precious.html"
    precious.write_text("mine")
    (out / "report.html").unlink()
    (out / "report.html").symlink_to(precious)
    _one_line_error(_cli("report", out), "symbolic link")
    assert precious.read_text() == "mine"
    (out / "report.html").unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    import shutil

    shutil.rmtree(out / "plots")
    (out / "plots").symlink_to(elsewhere, target_is_directory=True)
    _one_line_error(_cli("report", out), "symbolic link")
    assert list(elsewhere.iterdir()) == []
    link = tmp_path / "link"
    link.symlink_to(out, target_is_directory=True)
    _one_line_error(_cli("report", link), "symbolic link")
    (out / "plots").unlink()
    result = _cli("report", out)  # the real directory, links gone: redrawn in place
    assert result.exit_code == 0, result.output
    assert (out / "report.html").is_file() and not (out / "report.html").is_symlink()
    assert (out / "plots" / "series.png").is_file() and not list(out.glob(".outputs.*"))


def test_a_damaged_or_edited_run_directory_is_named_in_one_line_by_fit_and_report(tmp_path):
    import shutil

    out = tmp_path / "out"
    assert _cli("run", _study(tmp_path), "--out", out, "--quiet").exit_code == 0
    cut = {name: (out / name).read_bytes()[: (out / name).stat().st_size // 2] for name in ("curves.npz", "results.parquet")}  # cut short, as by a full disk
    for name, damage in (("results.parquet", b"junk"), ("curves.npz", b"junk"), ("environment.json", b"{}"), ("series.csv", b"junk\n"),
                         ("curves.npz", cut["curves.npz"]), ("results.parquet", cut["results.parquet"])):
        bad = tmp_path / f"bad-{name}-{len(damage)}"
        shutil.copytree(out, bad)
        (bad / name).write_bytes(damage)
        for argv in (("fit", bad, "--out", tmp_path / f"m-{bad.name}"), ("report", bad)):
            _one_line_error(_cli(*argv), f"{name}: unreadable or incomplete", "rerun `lstmtune run`")
        assert not (tmp_path / f"m-{bad.name}").exists()
    # files that parse but are not what the run wrote: KeyError, TypeError, AttributeError came out of the report,
    # and fit trained on a series.csv cut short
    import json

    import pandas as pd

    def env(**change):
        return lambda d: (d / "environment.json").write_text(json.dumps({**json.loads((d / "environment.json").read_text()), **change}))

    for label, edit, needle in (
        ("columns", lambda d: pd.DataFrame({"x": [1]}).to_parquet(d / "results.parquet"), "results.parquet: not what `lstmtune run` wrote (no column 'config')"),
        ("metric", lambda d: pd.read_parquet(d / "results.parquet").drop(columns=["test_rmse"]).to_parquet(d / "results.parquet"), "(no column 'test_rmse')"),
        ("baselines", env(baselines=5), "environment.json: not what `lstmtune run` wrote (baselines is int, not dict)"),
        ("selected", env(selected=[1]), "(selected is list, not dict)"),
        ("bogus", env(selection_metric="bogus"), "(selection_metric 'bogus' is not a column of results.parquet)"),
        ("short", lambda d: (d / "series.csv").write_text("".join((d / "series.csv").read_text().splitlines(keepends=True)[:18])),
         "series.csv: not what `lstmtune run` wrote (17 observations, where the study's test phase had 36)"),
    ):
        bad = tmp_path / f"content-{label}"
        shutil.copytree(out, bad)
        edit(bad)
        for argv in (("fit", bad, "--out", tmp_path / f"m-{label}"), ("report", bad)):
            _one_line_error(_cli(*argv), needle, "rerun `lstmtune run`")
        assert not (tmp_path / f"m-{label}").exists()
    edited = tmp_path / "edited"  # study.toml changed after the run: its results are not that study's
    shutil.copytree(out, edited)
    (edited / "study.toml").write_text((edited / "study.toml").read_text().replace("epochs = 5", "epochs = 3"))
    for argv in (("fit", edited, "--out", tmp_path / "m-edited"), ("report", edited)):
        _one_line_error(_cli(*argv), "none of its configurations has a run in results.parquet")
    assert _cli("fit", out, "--out", tmp_path / "m").exit_code == 0  # the intact directory still fits
    unfinished = tmp_path / "unfinished"  # killed before its outputs: its store holds what was trained
    unfinished.mkdir()
    shutil.copy(out / "study.db", unfinished / "study.db")
    _one_line_error(_cli("fit", unfinished, "--out", tmp_path / "m-unfinished"), "missing study.toml", "a run still in progress, or an interrupted one: rerun `lstmtune run` with the same --out")


def test_a_run_directory_written_by_another_command_is_refused(tmp_path):
    # `run` into a search's directory (or the reverse) once mixed both results: fit then fitted
    # the old search's best trial, and the report described runs of another study
    import json

    def marked(name, kind):
        d = tmp_path / name
        d.mkdir()
        (d / fileio.MARKER).write_text(json.dumps({"format": 1, "kind": kind, "study": "x"}) + "\n")
        return d

    for was, now, words in (("search", "study", "written by `lstmtune search`, not `lstmtune run` (a study)"),
                            ("study", "search", "written by `lstmtune run` (a study), not `lstmtune search`"),
                            ("panel-search", "panel", "not a panel's `lstmtune run --data`"),
                            ("study", "panel", "written by `lstmtune run` (a study)")):
        with pytest.raises(fileio.LstmtuneError, match="give another --out") as err:
            fileio.claim_run_dir(marked(f"{was}-{now}", was), name="x", kind=now)
        assert words in str(err.value)
    assert fileio.claim_run_dir(marked("old-panel-search", "panel"), name="x", kind="panel-search").is_dir()  # marked "panel" before the kinds were told apart
    ran = marked("panel-run", "panel")
    (ran / "panel_configs.csv").write_text("config,wins,pooled_scaled_error\n")  # written by `run --data` only: a search there mixed both
    with pytest.raises(fileio.LstmtuneError, match="not a panel's `lstmtune search --data`"):
        fileio.claim_run_dir(ran, name="x", kind="panel-search")
    assert fileio.claim_run_dir(marked("same", "study"), name="y", kind="study").is_dir()
    assert fileio._marked(tmp_path / "same" / fileio.MARKER, "study") == "y"  # its outputs are y's now: the marker says so
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / fileio.MARKER).write_text("not json")
    assert fileio.claim_run_dir(damaged, name="x", kind="study").is_dir()


def test_a_panels_input_where_its_run_writes_is_refused_and_untouched(tmp_path):
    """`run --data` and `search --data` wrote over their own panel file when it lay at an output
    path (OUT/results.csv, a series' copy under OUT/data/); a single study refused it."""
    import json

    s = load("shampoo")
    panel = pd.DataFrame({"unique_id": "a", "ds": pd.DatetimeIndex(s.dates).strftime("%Y-%m-%d"), "y": s.values})
    out = tmp_path / "o"
    (out / "data").mkdir(parents=True)
    (out / fileio.MARKER).write_text(json.dumps({"format": 1, "kind": "panel-search", "study": "owned"}) + "\n")
    for where, argv in ((out / "results.csv", ["run", _study(tmp_path)]), (out / "data" / "a.csv", ["search", _study(tmp_path, file="t.toml")])):
        panel.to_csv(where, index=False)
        before = where.read_bytes()
        if argv[0] == "search":
            text = argv[1].read_text().replace("[grid]\nunits = [1, 2]\n", "")
            argv[1].write_text(text + '[search]\nsampler = "random"\ntrials = 2\n[search.space.units]\ntype = "int"\nlow = 1\nhigh = 2\n')
            (out / fileio.MARKER).write_text(json.dumps({"format": 1, "kind": "panel-search", "study": "owned"}) + "\n")
        else:
            (out / fileio.MARKER).write_text(json.dumps({"format": 1, "kind": "panel", "study": "owned"}) + "\n")
        result = _cli(*argv, "--data", where, "--out", out, "--quiet")
        _one_line_error(result, str(where.name), "an input lies")
        assert where.read_bytes() == before


def test_status_of_a_store_holding_no_study_says_so_in_one_line(tmp_path):
    """A search whose every trial failed before training (points that do not fit the data) leaves
    a store with no study in it: status drew an empty table, a blank line."""
    from typer.testing import CliRunner

    from lstmtune.cli.app import app
    from lstmtune.store import default_url, open_store

    open_store(default_url(tmp_path)).close()  # the tables, no study
    result = CliRunner().invoke(app, ["status", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("no study has stored a run yet (nothing was trained)") and len(result.output.strip().splitlines()) == 1


def test_status_of_a_run_directory_whose_runs_went_to_storage_says_so(tmp_path):
    """`status DIR` of a run made with --storage said "not a run directory written by `lstmtune
    run`" (a docs probe): it was, its runs are stored at the URL given then."""
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    assert _cli("run", _study(tmp_path, epochs=2), "--out", tmp_path / "r", "--storage", url, "--quiet").exit_code == 0
    _one_line_error(_cli("status", tmp_path / "r"), "its runs were stored with --storage", "lstmtune status --storage URL")
    assert _cli("status", "--storage", url).exit_code == 0


def test_status_counts_the_test_phase_of_a_test_all_study_against_its_plan(tmp_path):
    """With test_all every configuration is tested: the test phase showed "(selected only)"
    with no totals (a docs probe). An honest study without it keeps "selected only"."""
    from lstmtune.study.progress import study_status
    from lstmtune.store import default_url, open_store

    text = STUDY.format(name="ta", source="shampoo", epochs=2).replace('selection = "test"', 'selection = "validation"')
    for test_all, out in ((True, tmp_path / "all"), (False, tmp_path / "selected")):
        f = tmp_path / f"{out.name}.toml"
        f.write_text(text.replace("[evaluation]\n", f"[evaluation]\ntest_all = {str(test_all).lower()}\n"))
        assert _cli("run", f, "--out", out, "--quiet").exit_code == 0
        with open_store(default_url(out), read_only=True) as store:
            test = study_status(store).set_index("study").filter(like="test phase", axis=0)
        assert ("selected only" in test.index[0]) is not test_all
        if test_all:
            assert tuple(test.iloc[0][["configs done", "configs", "runs done", "pending", "runs"]]) == (2, 2, 4, 0, 4)


_WORKER_SIGNALS = """
import signal, sys
from pathlib import Path
from lstmtune.cli import interrupts
from lstmtune.selection import processes

def child():
    return [int(h) if isinstance(h, int) else getattr(h, "__name__", str(h)) for h in map(signal.getsignal, (signal.SIGINT, signal.SIGTERM))]

def work():
    with processes.Pool(1) as pool:
        return pool.apply_async(child).get(60)

ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # started in the background (&, nohup): Ctrl-C is not this process's
print(ignored, interrupts._interruptible(work, Path(sys.argv[1])))
"""


def test_statistical_workers_forked_inside_a_command_end_on_ctrl_c_without_a_traceback(tmp_path):
    # Ctrl-C reaches the whole process group: a worker with Python's handler printed a
    # KeyboardInterrupt traceback under the command's one line (a probe). Now SIGINT ends it as
    # SIGTERM does, by the system's default action.
    script = tmp_path / "workers.py"
    script.write_text(_WORKER_SIGNALS)
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    ignored, handlers = done.stdout.strip().split(" ", 1)
    # where the command itself ignores Ctrl-C (run in the background by a shell without job
    # control), its workers keep ignoring it: no handler was installed to replace
    sigint = signal.SIG_IGN if ignored == "True" else signal.SIG_DFL
    assert handlers == f"[{int(sigint)}, {int(signal.SIG_DFL)}]"


def test_an_interrupted_command_ends_its_process_without_the_interpreters_finalization(monkeypatch):
    """Interrupted while XLA compiled in a thread (a first run), a command aborted in the
    interpreter's finalization after its one line ("pure virtual method called", status 134;
    3 of 8 Ctrl-C's in a probe): an interrupted command's process now ends at once."""
    import gc
    import importlib

    from lstmtune.report import drawing

    app_mod = importlib.import_module("lstmtune.cli.app")  # the module (lstmtune.cli.app is also its Typer app's name)

    ended, discarded = [], []

    def exit_now(code):
        ended.append(code)
        raise SystemExit(code)

    monkeypatch.setattr(os, "_exit", exit_now)
    monkeypatch.setattr(gc, "freeze", lambda: None)  # main's, for a process about to end: not this one's
    monkeypatch.setattr(gc, "set_threshold", lambda *a: None)
    monkeypatch.setattr(drawing, "discard", lambda: discarded.append(1))
    for code, expected in ((130, [130]), (143, [143]), (2, []), (0, [])):
        ended.clear()
        monkeypatch.setattr(app_mod, "app", lambda code=code: sys.exit(code))
        with pytest.raises(SystemExit) as out:
            app_mod.main()
        assert out.value.code == code and ended == expected
    assert len(discarded) == 2  # the figure helpers stopped by hand, as finalization would have


def test_a_second_signal_while_an_interrupted_command_stops_its_helpers_still_ends_the_process(monkeypatch):
    import importlib

    app_mod = importlib.import_module("lstmtune.cli.app")
    handlers, ended = {}, []
    monkeypatch.setattr(signal, "signal", lambda sig, handler: handlers.__setitem__(sig, handler))
    monkeypatch.setattr(os, "_exit", lambda code: ended.append(code))

    def second_ctrl_c():
        raise KeyboardInterrupt

    monkeypatch.setattr(app_mod, "_stop_helpers", second_ctrl_c)
    with pytest.raises(KeyboardInterrupt):  # (os._exit ends a real process here)
        app_mod._end_interrupted(130)
    assert ended == [130] and handlers == {signal.SIGINT: signal.SIG_IGN, signal.SIGTERM: signal.SIG_IGN}


_POOL_LEFT = """
import os, sys, time
from pathlib import Path
from lstmtune.selection import processes

def sleep_a_while(path):
    Path(path).write_text(str(os.getpid()))
    time.sleep(20)
    Path(path).write_text(f"{os.getpid()} done")

pid_file = Path(sys.argv[1])
try:
    with processes.Pool(1) as pool:
        pool.apply_async(sleep_a_while, (str(pid_file),))
        while not (pid_file.exists() and pid_file.read_text()):
            time.sleep(0.05)
        raise KeyboardInterrupt
except KeyboardInterrupt:
    pass
print(pid_file.read_text())
"""


def test_statistical_workers_end_at_once_when_their_pool_is_left_by_an_interrupt(tmp_path):
    """SIGTERM to the command alone: the pool's shutdown waited for the fits already running
    (an 8 s fit, 8 s to stop; a container gives 10 s before SIGKILL). A review."""
    script = tmp_path / "left.py"
    script.write_text(_POOL_LEFT)
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "pid")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "done" not in done.stdout  # the pool was left before the fit ended, not after
    pid = int(done.stdout.strip())
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"worker {pid} still runs")



def test_a_signal_during_an_import_waits_until_the_import_is_done(tmp_path, monkeypatch):
    """A raise inside an import (JAX's, its extension initialising) ended `search` with a
    segmentation fault, an abort or an ImportError traceback (7 of 20 signals at 1.5-1.9 s; a probe)."""
    from lstmtune.cli import interrupts

    (tmp_path / "being_imported.py").write_text("import sys\nfrom lstmtune.cli import interrupts\nDEFERRED = interrupts._must_defer(sys._getframe())\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import being_imported

    assert being_imported.DEFERRED is True
    assert interrupts._must_defer(sys._getframe()) is False  # here, after it: raised at once


_TERM_IN_A_COMMAND = """
import os, signal, time
import typer
from lstmtune.cli.common import _handles_errors

signal.signal(signal.SIGTERM, signal.SIG_DFL)  # as from a shell (a test runner's worker may ignore it, and children inherit that)

@_handles_errors
def command():
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(10)

try:
    command()
except typer.Exit as done:
    print("exit", done.exit_code, signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
"""


def test_sigterm_to_a_command_without_its_own_handler_says_so_and_exits_143(tmp_path):
    # fit, forecast and report ended with 143 and nothing said, where Ctrl-C said that no output
    # is left half-written (a probe)
    script = tmp_path / "term.py"
    script.write_text(_TERM_IN_A_COMMAND)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert done.stdout.split() == ["exit", "143", "True"]  # the default handler back afterwards
    assert "terminated: no output is left half-written" in " ".join(done.stderr.split())


def test_a_command_stopped_before_its_output_exists_does_not_say_it_saved_there(tmp_path, monkeypatch):
    import typer

    from lstmtune.cli import interrupts

    def stopped():
        raise KeyboardInterrupt

    said = []
    monkeypatch.setattr(interrupts.err_console, "print", lambda text, **_: said.append(str(text)))
    with pytest.raises(typer.Exit) as exit_:
        interrupts._interruptible(stopped, tmp_path / "never")  # interrupted at 1 s said "finished populations are saved in never" (a probe)
    assert exit_.value.exit_code == 130 and "stopped before anything was written" in said[0] and "saved" not in said[0]
    with pytest.raises(typer.Exit):
        interrupts._interruptible(stopped, tmp_path)  # it exists: what it keeps, as before
    assert "finished populations are saved in" in said[1]


_TERM_DURING_AN_IMPORT = """
import os, signal, sys, time
from pathlib import Path
import typer
from lstmtune.cli.common import _handles_errors

signal.signal(signal.SIGTERM, signal.SIG_DFL)  # as from a shell
here = Path(sys.argv[1])
(here / "slow_module.py").write_text(
    "import os, signal, time\\n"
    "from pathlib import Path\\n"
    "os.kill(os.getpid(), signal.SIGTERM)\\n"
    "time.sleep(0.3)\\n"
    "Path(__file__).with_name('imported').write_text('whole')\\n")
sys.path.insert(0, str(here))

@_handles_errors
def command():
    import slow_module  # noqa: F401
    for _ in range(100):  # Python between the waits: the deferred signal is delivered here, within 0.1 s
        time.sleep(0.1)

try:
    command()
except typer.Exit as done:
    print("exit", done.exit_code)
"""


def test_sigterm_during_a_commands_import_arrives_once_the_import_is_done(tmp_path):
    # fit's SIGTERM raised inside JAX's import: a segmentation fault, or the signal swallowed by an
    # XLA garbage-collection callback and the model written with exit 0 (a review)
    script = tmp_path / "term_import.py"
    script.write_text(_TERM_DURING_AN_IMPORT)
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert done.stdout.split() == ["exit", "143"] and (tmp_path / "imported").read_text() == "whole"


def test_status_of_a_study_stopped_in_its_selection_shows_its_test_phase_not_started(tmp_path, monkeypatch):
    """A study killed during its validation phase showed that phase alone: 12 runs where `plan`
    counted 24 (a probe)."""
    from lstmtune.study import executor
    from lstmtune.study.progress import study_status
    from lstmtune.store import default_url, open_store

    text = STUDY.format(name="half", source="shampoo", epochs=2).replace('selection = "test"', 'selection = "validation"')
    real = executor.execute
    calls = []

    def stop_before_the_test(spec, series, store, *args, **kwargs):
        calls.append(1)
        if len(calls) > 1:  # the selection phase ran; the test phase would be next
            raise KeyboardInterrupt
        return real(spec, series, store, *args, **kwargs)

    for test_all, expected in ((True, (0, 2, 0, 4, 4)), (False, (0, "-", 0, "-", "-"))):
        f = tmp_path / f"h{test_all}.toml"
        f.write_text(text.replace("[evaluation]\n", f"[evaluation]\ntest_all = {str(test_all).lower()}\n"))
        out = tmp_path / f"o{test_all}"
        calls.clear()
        monkeypatch.setattr(executor, "execute", stop_before_the_test)
        _cli("run", f, "--out", out, "--quiet")
        monkeypatch.setattr(executor, "execute", real)
        with open_store(default_url(out), read_only=True) as store:
            frame = study_status(store).set_index("study")
        row = frame.loc["half (test phase: not started)"]
        assert tuple(row[["configs done", "configs", "runs done", "pending", "runs"]]) == expected
        assert len(frame) == 2
