"""Writing aside and moving into place (store/fileio.py): what writers killed mid-write leave."""

import os
import socket
import subprocess
import sys
from pathlib import Path

from lstmtune.store.fileio import atomic_dir, atomic_path


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_what_a_killed_writer_left_beside_an_output_is_removed_by_the_next_write(tmp_path):
    """kill -9 while auto, fit or forecast wrote left a hidden, half-written copy of the outputs
    beside --out that no later run removed (a probe: .k5.u2tlpl1p/ held forecasts.csv, plots/)."""
    host = socket.gethostname().replace(".", "_")
    dead, live = _dead_pid(), os.getpid()
    out, csv = tmp_path / "out", tmp_path / "fc.csv"
    stale_dir = tmp_path / f".out.tmp-{host}-{dead}.abc123"
    stale_dir.mkdir()
    (stale_dir / "forecasts.csv").write_text("half")
    running_dir = tmp_path / f".out.tmp-{host}-{live}.def456"  # a writer still at work: left alone
    running_dir.mkdir()
    stale_file = tmp_path / f".fc.csv.tmp-{host}-{dead}.xyz.csv"
    stale_file.write_text("half")
    other_host = tmp_path / f".out.tmp-elsewhere-{dead}.ghi789"  # another machine's (a shared disk): its pid means nothing here
    other_host.mkdir()
    with atomic_dir(out) as tmp:
        (tmp / "forecasts.csv").write_text("whole")
        assert tmp.name.startswith(f".out.tmp-{host}-{live}.")
    with atomic_path(csv) as tmp:
        tmp.write_text("whole")
    assert (out / "forecasts.csv").read_text() == "whole" and csv.read_text() == "whole"
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert left == sorted([running_dir.name, other_host.name]), left


def test_outputs_half_moved_into_place_by_a_killed_run_are_refused_until_rerun(tmp_path, monkeypatch):
    """kill -9 while a run moved its outputs in one by one left results.csv and plots/ of the new
    study beside the old study's summary.csv: read as one run (a probe). A reader now refuses
    such a directory, naming the command that finishes the write; a writer killed before its
    first move changed nothing and is not refused. Folders replaced are set aside by a rename."""
    import pytest

    import lstmtune
    from lstmtune.errors import LstmtuneError
    from lstmtune.store.fileio import MOVING, REPLACED, atomic_outputs, check_outputs_whole

    out = tmp_path / "run"
    with atomic_outputs(out) as tmp:
        (tmp / "summary.csv").write_text("old")
        (tmp / "plots").mkdir()
        (tmp / "plots" / "a.png").write_text("old")
    renames = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (renames.append((Path(src), Path(dst))), real(src, dst))[1])
    with atomic_outputs(out, remove=("summary.csv",)) as tmp:  # the next run writes no summary: the old one goes
        (tmp / "plots").mkdir()
        (tmp / "plots" / "b.png").write_text("new")
    monkeypatch.undo()
    aside = {src.name: dst for src, dst in renames if src.parent == out}
    assert set(aside) == {"plots", "summary.csv"} and all(REPLACED in dst.parts for dst in aside.values())  # renamed aside, not removed between moves
    assert sorted(p.name for p in out.iterdir()) == ["plots"] and [p.name for p in (out / "plots").iterdir()] == ["b.png"]
    check_outputs_whole(out)
    host = socket.gethostname().replace(".", "_")
    killed = out / f".outputs.{host}.{_dead_pid()}.abc"  # what a run killed while writing aside leaves: nothing moved yet
    killed.mkdir()
    (killed / "summary.csv").write_text("written aside")
    check_outputs_whole(out)  # the directory's outputs are untouched: whole
    (killed / MOVING).write_text("lstmtune run\n")  # killed between two moves
    (killed / REPLACED).mkdir()
    with pytest.raises(LstmtuneError, match="were being moved into place when `lstmtune run` was killed"):
        check_outputs_whole(out)
    with pytest.raises(LstmtuneError, match="run `lstmtune run` on it again"):
        lstmtune.results(out)  # as report, fit and search's readers do
    check_outputs_whole(out, repairing="lstmtune run")  # the command that was killed may read it to finish
    (killed / "summary.csv").unlink()
    check_outputs_whole(out)  # only folders already replaced: every output was moved in
    (killed / "summary.csv").write_text("not yet moved")
    with atomic_outputs(out) as tmp:  # the rerun: the stale folder is removed
        (tmp / "summary.csv").write_text("new")
    check_outputs_whole(out)
    assert not killed.exists()
