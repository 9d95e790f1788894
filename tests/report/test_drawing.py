"""Figures drawn on two cores (lstmtune.report.drawing): a spawned helper process draws some,
this process the rest; the same bytes as drawn here alone; a figure the helper fails is drawn
here."""

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


def test_figures_drawn_beside_this_process_have_the_same_bytes(tmp_path, two_processes, monkeypatch):
    rng = np.random.default_rng(0)
    curves = [np.abs(np.cumsum(rng.normal(size=(10, 300, 2)), axis=1)) + 100 for _ in range(5)]

    def jobs(folder):
        folder.mkdir()
        out = []
        for k, c in enumerate(curves):
            out.append(drawing.Job(figures.diagnostic_lines, (c,), folder / f"lines{k}.png", {"title": f"c{k}", "baseline": 120.0}))
            out.append(drawing.Job(figures.diagnostic_band, (c,), folder / f"band{k}.png", {"title": f"c{k}", "checkpoints": [100]}))
        return out

    drawing.draw_all(jobs(tmp_path / "two"))
    monkeypatch.setenv("LSTMTUNE_DRAW_PROCESSES", "1")
    drawing.draw_all(jobs(tmp_path / "one"))
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert len(names) == 10 and names == sorted(p.name for p in (tmp_path / "two").iterdir())
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


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
