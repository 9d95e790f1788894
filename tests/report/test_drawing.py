"""Figures drawn on two cores (lstmtune.report.drawing): a helper process draws some,
this process the rest; the same bytes as drawn here alone; a figure the helper fails, or
cannot receive, is drawn here; a user's script is not run again."""

import os
import time

import numpy as np
import pytest

from lstmtune.report import drawing, figures


@pytest.fixture
def two_processes(monkeypatch):
    monkeypatch.setenv("LSTMTUNE_DRAW_PROCESSES", "2")
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


def _writes_pid(text, path):  # importable by the helper: this module is on its path
    time.sleep(0.05)
    path.write_text(f"{text} {os.getpid()}")


def _writes_size(text, data, path):
    path.write_text(f"{text} {data.size} {os.getpid()}")


def _waits_for_the_helper(folder, path):
    """This process's first job: waits until the helper has drawn something (so that the
    tests do not depend on how fast a process starts on a busy machine)."""
    deadline = time.time() + 60
    while time.time() < deadline and not any(f.read_text().split()[-1] != str(os.getpid()) for f in folder.glob("*.txt") if f.read_text()):
        time.sleep(0.02)
    path.write_text(f"first {os.getpid()}")


def _fails_in_the_helper(parent, path):
    if os.getpid() != parent:
        (path.parent / f"tried-{path.stem}.txt").write_text(f"tried {os.getpid()}")
        raise RuntimeError("not in the helper")
    path.write_text(f"done {os.getpid()}")


def test_the_helper_draws_some_and_this_process_the_rest(tmp_path, two_processes):
    jobs = [drawing.Job(_waits_for_the_helper, (tmp_path,), tmp_path / "0.txt")]
    jobs += [drawing.Job(_writes_pid, (f"job{i}",), tmp_path / f"{i}.txt") for i in range(1, 16)]
    drawing.draw_all(jobs)
    done = [(tmp_path / f"{i}.txt").read_text().split() for i in range(16)]
    assert [d[0] for d in done] == ["first", *[f"job{i}" for i in range(1, 16)]]  # every job, once, in its own file
    pids = [int(d[1]) for d in done]
    assert pids[0] == os.getpid() and pids[-1] != os.getpid() and len(set(pids)) == 2, pids  # this process from the front, the helper from the back


def test_a_figure_the_helper_fails_is_drawn_here(tmp_path, two_processes):
    jobs = [drawing.Job(_waits_for_the_helper, (tmp_path,), tmp_path / "first.txt")]
    jobs += [drawing.Job(_fails_in_the_helper, (os.getpid(),), tmp_path / f"{i}.txt") for i in range(10)]
    drawing.draw_all(jobs)
    assert (tmp_path / "tried-9.txt").is_file()  # the helper took the last job, failed it
    assert all((tmp_path / f"{i}.txt").read_text() == f"done {os.getpid()}" for i in range(10))  # every one drawn here


@pytest.mark.slow  # every figure kind drawn twice, in a helper process and here
def test_figures_drawn_beside_this_process_have_the_same_bytes(tmp_path, two_processes, monkeypatch):
    rng = np.random.default_rng(0)
    curves = [np.abs(np.cumsum(rng.normal(size=(10, 300, 2)), axis=1)) + 100 for _ in range(5)]
    dates = np.arange("2001-01", "2004-01", dtype="datetime64[M]").astype("datetime64[ns]")
    history, test = rng.normal(size=24).cumsum(), rng.normal(size=12)
    paths = (dates[:24], history, dates[24:], test, test + rng.normal(size=(10, 12)), test + rng.normal(size=(10, 12)))

    def jobs(folder):
        folder.mkdir()
        out = []
        for k, c in enumerate(curves):
            out.append(drawing.Job(figures.diagnostic_lines, (c,), folder / f"lines{k}.png", {"title": f"c{k}", "baseline": 120.0}))
            out.append(drawing.Job(figures.diagnostic_band, (c,), folder / f"band{k}.png", {"title": f"c{k}", "checkpoints": [100]}))
        out.append(drawing.Job(figures.test_forecasts, paths, folder / "test.png", {"label": "units=1"}))
        return out

    import matplotlib

    monkeypatch.setitem(matplotlib.rcParams, "lines.linewidth", 7.0)  # a user's style: not in the report, whoever draws
    drawing.draw_all(jobs(tmp_path / "two"))
    try:
        assert drawing.prestart(11) == 2
        drawing.draw_all(jobs(tmp_path / "ahead"))  # every figure by the helpers started ahead
    finally:
        drawing.discard()
    monkeypatch.setenv("LSTMTUNE_DRAW_PROCESSES", "1")
    matplotlib.rcParams["lines.linewidth"] = 1.5
    drawing.draw_all(jobs(tmp_path / "one"))
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert len(names) == 11 and "test.png" in names
    for other in ("two", "ahead"):
        assert names == sorted(p.name for p in (tmp_path / other).iterdir())
        for name in names:
            assert (tmp_path / "one" / name).read_bytes() == (tmp_path / other / name).read_bytes(), (other, name)


@pytest.mark.slow  # 3 s in the full run, end to end: kept out of the fast subset
def test_a_users_script_without_a_main_guard_runs_once(tmp_path):
    # multiprocessing's spawn would import the script again in the helper, and run it there
    import subprocess
    import sys

    script = tmp_path / "mine.py"
    script.write_text(
        "import os\n"
        "from pathlib import Path\n"
        "import numpy as np\n"
        "from lstmtune.report import drawing, figures\n"
        f"Path({str(tmp_path / 'ran.log')!r}).open('a').write(f'{{os.getpid()}}\\n')\n"
        "x = np.arange(30.0)\n"
        f"jobs = [drawing.Job(figures.series_plot, (x, np.sin(x + k)), Path({str(tmp_path)!r}) / f'f{{k}}.png', {{'title': str(k)}}) for k in range(12)]\n"
        "drawing.draw_all(jobs)\n"
    )
    env = {**os.environ, "LSTMTUNE_DRAW_PROCESSES": "2"}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len((tmp_path / "ran.log").read_text().split()) == 1
    assert len(list(tmp_path.glob("f*.png"))) == 12


def test_a_job_the_helper_cannot_receive_is_drawn_here(tmp_path, two_processes):
    jobs = [drawing.Job(_waits_for_the_helper, (tmp_path,), tmp_path / "first.txt")]
    jobs += [drawing.Job(_writes_pid, (f"job{i}",), tmp_path / f"{i}.txt") for i in range(9)]
    odd = drawing.Job(_writes_object, (object(),), tmp_path / "object.txt")  # no JSON or array form
    assert drawing._message(odd) is None
    drawing.draw_all([*jobs, odd])  # the helper takes it first (from the back) and gives it back
    assert (tmp_path / "object.txt").read_text() == f"object {os.getpid()}"


def _writes_object(thing, path):
    path.write_text(f"object {os.getpid()}")


def test_arguments_reach_the_helper_as_they_were():
    import json

    args = (np.arange(3.0), np.array(["2020-01", "2020-02"], dtype="datetime64[M]"), np.float64(np.nan), np.int64(7),
            {80: (np.zeros(2), np.ones(2)), "x": [1, "a", None, True]}, [("panel", [("l", "s")])], tmp := __import__("pathlib").Path("/a/b"))
    arrays: list = []
    head = json.loads(json.dumps(drawing._encode(args, arrays)))
    back = drawing._decode(head, {f"a{i}": a for i, a in enumerate(arrays)})
    assert isinstance(back, tuple) and len(back) == len(args) and back[6] == tmp
    np.testing.assert_array_equal(back[0], args[0])
    assert back[1].dtype == args[1].dtype and (back[1] == args[1]).all()
    assert np.isnan(back[2]) and isinstance(back[2], np.float64) and back[3] == 7 and isinstance(back[3], np.int64)
    assert set(back[4]) == {80, "x"} and isinstance(back[4][80], tuple) and back[4]["x"] == [1, "a", None, True]
    assert back[5] == [("panel", [("l", "s")])]


def _prints_then_writes(text, path):
    print("a figure function that prints", flush=True)
    path.write_text(f"{text} {os.getpid()}")


def test_what_a_figure_prints_in_the_helper_does_not_garble_its_answers(tmp_path, two_processes):
    jobs = [drawing.Job(_waits_for_the_helper, (tmp_path,), tmp_path / "0.txt")]
    jobs += [drawing.Job(_prints_then_writes, (f"job{i}",), tmp_path / f"{i}.txt") for i in range(1, 12)]
    drawing.draw_all(jobs)
    pids = [int((tmp_path / f"{i}.txt").read_text().split()[1]) for i in range(12)]
    assert len(set(pids)) == 2 and pids[-1] != os.getpid()  # the helper's answers stayed in step: it kept its figures
    assert sum(p != os.getpid() for p in pids) >= 1


# --------------------------------------------------------------------------- helpers started ahead
@pytest.fixture
def no_ready_helpers():
    yield
    drawing.discard()


def _pid_of(path):
    return int(path.read_text().split()[-1])


def test_a_helper_started_ahead_draws_a_small_report_alone(tmp_path, two_processes, no_ready_helpers):
    assert drawing.prestart(3) == 1  # below MIN_JOBS: one helper
    jobs = [drawing.Job(_writes_pid, (f"job{i}",), tmp_path / f"{i}.txt") for i in range(3)]
    drawing.draw_all(jobs)
    pids = {_pid_of(tmp_path / f"{i}.txt") for i in range(3)}
    assert len(pids) == 1 and os.getpid() not in pids  # this process drew none of them
    assert drawing._READY == []  # taken, and closed once done


@pytest.mark.slow  # 2 s in the full run, end to end: kept out of the fast subset
def test_helpers_started_ahead_for_a_large_report_share_it_and_this_process_draws_none(tmp_path, two_processes, no_ready_helpers):
    assert drawing.prestart(20) == 2
    jobs = [drawing.Job(_writes_pid, (f"job{i}",), tmp_path / f"{i}.txt") for i in range(16)]
    drawing.draw_all(jobs)
    done = [(tmp_path / f"{i}.txt").read_text().split() for i in range(16)]
    assert [d[0] for d in done] == [f"job{i}" for i in range(16)]
    pids = {int(d[1]) for d in done}
    assert os.getpid() not in pids and len(pids) >= 1


def test_what_helpers_started_ahead_cannot_draw_is_drawn_here(tmp_path, two_processes, no_ready_helpers):
    assert drawing.prestart(3) == 1
    drawing._READY[0].proc.kill()  # the helper is gone before the report is drawn
    drawing._READY[0].proc.wait()
    jobs = [drawing.Job(_writes_pid, (f"job{i}",), tmp_path / f"{i}.txt") for i in range(4)]
    jobs.append(drawing.Job(_fails_in_the_helper, (os.getpid(),), tmp_path / "fails.txt"))
    drawing.draw_all(jobs)
    assert all(_pid_of(tmp_path / f"{i}.txt") == os.getpid() for i in range(4))
    assert (tmp_path / "fails.txt").read_text() == f"done {os.getpid()}"


def test_no_helper_is_started_ahead_on_one_process_or_for_no_figure(monkeypatch, no_ready_helpers):
    monkeypatch.setenv("LSTMTUNE_DRAW_PROCESSES", "1")
    assert drawing.prestart(30) == 0
    monkeypatch.setenv("LSTMTUNE_DRAW_PROCESSES", "2")
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert drawing.prestart(0) == 0


def test_figures_added_while_the_helpers_draw_are_drawn_by_them(tmp_path, two_processes, no_ready_helpers):
    assert drawing.prestart(20) == 2
    batch = drawing.start([drawing.Job(_writes_pid, (f"job{i}",), tmp_path / f"{i}.txt") for i in range(4)])
    deadline = time.time() + 60
    while time.time() < deadline and not all((tmp_path / f"{i}.txt").is_file() for i in range(4)):
        time.sleep(0.02)  # drawn before wait() is called: this process was free meanwhile
    assert all((tmp_path / f"{i}.txt").is_file() for i in range(4))
    batch.add([drawing.Job(_writes_pid, ("late",), tmp_path / "late.txt")])
    batch.wait()
    pids = {_pid_of(p) for p in tmp_path.glob("*.txt")}
    assert len(list(tmp_path.glob("*.txt"))) == 5 and os.getpid() not in pids


def _waits_for(flag, path):
    (path.parent / "started").touch()
    deadline = time.time() + 60
    while time.time() < deadline and not flag.exists():
        time.sleep(0.02)
    path.write_text(f"slow {os.getpid()}")


def test_a_cancelled_batch_draws_nothing_more_and_lets_its_helper_go(tmp_path, two_processes, no_ready_helpers):
    import threading

    assert drawing.prestart(3) == 1
    flag = tmp_path / "go"
    jobs = [drawing.Job(_writes_pid, (f"job{i}",), tmp_path / f"{i}.txt") for i in range(5)]
    jobs.append(drawing.Job(_waits_for, (flag,), tmp_path / "slow.txt"))  # the helper takes it first (from the back)
    batch = drawing.start(jobs)
    deadline = time.time() + 60
    while time.time() < deadline and not (tmp_path / "started").exists():
        time.sleep(0.02)
    threading.Timer(0.3, flag.touch).start()
    batch.cancel()
    assert (tmp_path / "slow.txt").is_file()  # the figure being drawn is finished
    assert not list(tmp_path.glob("[0-9].txt"))  # the others never are
    assert not [t for t in threading.enumerate() if t.name == "lstmtune-draw-helper"]


def test_a_command_that_fails_before_its_report_stops_the_helpers_it_started(tmp_path, two_processes, monkeypatch):
    from typer.testing import CliRunner

    from lstmtune.cli.app import app

    started = []
    real = drawing.prestart
    monkeypatch.setattr(drawing, "prestart", lambda n: started.append(real(n)) or started[-1])
    out = tmp_path / "theirs"
    out.mkdir()
    (out / "notes.txt").write_text("someone else's folder")  # refused when the study claims it, after the helpers started
    result = CliRunner().invoke(app, ["run", "--out", str(out), "-q"])
    assert result.exit_code == 2, result.output
    assert started == [2]  # the default study's report: two helpers were started ...
    assert drawing._READY == []  # ... and stopped with the command, not left for a later one


@pytest.mark.slow  # 2 s in the full run, end to end: kept out of the fast subset
def test_a_helper_that_stops_reading_is_stopped_instead_of_blocking_a_large_job(tmp_path, two_processes, monkeypatch):
    """A helper stuck before reading (in its imports, say) once blocked this process for good
    on a job larger than the pipe's buffer; now it is killed after TIMEOUT_S and the job is
    drawn here."""
    import subprocess
    import sys

    monkeypatch.setattr(drawing, "TIMEOUT_S", 1.0)
    stuck = drawing._Helper.__new__(drawing._Helper)
    stuck.proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    big = drawing.Job(_writes_size, ("big", np.zeros(1 << 20)), tmp_path / "big.txt")  # an 8 MiB array: far past a pipe's buffer
    message = drawing._message(big)
    assert len(message) > 1 << 22
    t0 = time.monotonic()
    with pytest.raises(OSError, match="stopped reading"):
        stuck.draw(message)
    assert time.monotonic() - t0 < 30
    assert stuck.proc.wait(timeout=10) != 0  # killed
    stuck.kill()

    monkeypatch.setattr(drawing, "_READY", [])
    hung = drawing._Helper.__new__(drawing._Helper)
    hung.proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    drawing._READY.append(hung)
    drawing.draw_all([big])  # the helper takes it, stops reading, is killed: drawn here
    assert (tmp_path / "big.txt").read_text() == f"big {1 << 20} {os.getpid()}"
    assert hung.proc.poll() is not None  # the stuck helper was stopped
