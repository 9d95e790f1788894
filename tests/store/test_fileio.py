"""Writing aside and moving into place (store/fileio.py): what writers killed mid-write leave."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

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
    with pytest.raises(LstmtuneError, match="run it again with this directory as its output"):
        lstmtune.results(out)  # as report, fit and search's readers do
    check_outputs_whole(out, repairing="lstmtune run")  # the command that was killed may read it to finish
    (killed / "summary.csv").unlink()
    check_outputs_whole(out)  # only folders already replaced: every output was moved in
    (killed / "summary.csv").write_text("not yet moved")
    with atomic_outputs(out) as tmp:  # the rerun: the stale folder is removed
        (tmp / "summary.csv").write_text("new")
    check_outputs_whole(out)
    assert not killed.exists()


def test_a_folder_write_killed_between_its_two_renames_gets_its_earlier_folder_back(tmp_path):
    """atomic_dir renames the old folder to .NAME.old, then the new one into place: a kill between
    the two left no folder at all, and .NAME.old (a whole earlier auto output) stayed after the
    next write, which only removed it when the folder existed (a probe's targeted kill)."""
    import pytest

    out = tmp_path / "M"
    out.mkdir()
    (out / "f.txt").write_text("old")
    os.replace(out, tmp_path / ".M.old")  # what the kill left
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as tmp:  # a write that fails: the earlier folder is back, whole
            (tmp / "f.txt").write_text("half")
            raise RuntimeError
    assert (out / "f.txt").read_text() == "old" and not (tmp_path / ".M.old").exists()
    os.replace(out, tmp_path / ".M.old")
    with atomic_dir(out) as tmp:
        (tmp / "f.txt").write_text("new")
    assert (out / "f.txt").read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["M"]


def test_an_empty_or_unfinished_moving_marker_names_no_empty_command(tmp_path):
    """The marker was created, then written: a kill between left it empty, and every reader said
    "when `` was killed ... run `` on it again". It is now renamed into place whole; an unfinished
    one means nothing was moved."""
    from lstmtune.errors import LstmtuneError
    from lstmtune.store.fileio import MOVING, check_outputs_whole

    out = tmp_path / "run"
    out.mkdir()
    host = socket.gethostname().replace(".", "_")
    killed = out / f".outputs.{host}.{_dead_pid()}.abc"
    killed.mkdir()
    (killed / "summary.csv").write_text("not yet moved")
    (killed / f"{MOVING}.part").write_text("")
    check_outputs_whole(out)  # killed before the marker was in place: nothing moved
    (killed / MOVING).write_text("")
    try:
        check_outputs_whole(out)
    except LstmtuneError as err:
        assert "``" not in str(err) and "the command writing them" in str(err)
    else:
        raise AssertionError("refused nothing")


def test_a_path_under_a_file_or_a_write_protected_target_is_named_as_asked(tmp_path, monkeypatch):
    """``fit --out notes.txt/m`` said "notes.txt: File exists", ``fit --out ro/m`` (``ro`` read-only)
    named the temporary folder beside ``m``, and a write-protected model directory, forecast or
    figure was replaced by the rename, which needs only its folder writable (a probe; ``run`` and
    ``report`` refuse a read-only run directory). The check is the permission bits as the
    user's process sees them (``os.access``: root sees every file writable, hence the stand-in)."""
    import errno as errno_mod

    from lstmtune.store import fileio

    (tmp_path / "notes.txt").write_text("x")
    for writer in (fileio.atomic_path, fileio.atomic_dir):
        with pytest.raises(NotADirectoryError) as err:
            with writer(tmp_path / "notes.txt" / "m"):
                pass
        assert err.value.filename == str(tmp_path / "notes.txt" / "m")
    (tmp_path / "model").mkdir()
    (tmp_path / "f.csv").write_text("old")
    protected = {str(tmp_path / "model"), str(tmp_path / "f.csv")}
    real = os.access
    monkeypatch.setattr(fileio.os, "access", lambda p, mode: False if str(p) in protected and mode == os.W_OK else real(p, mode))
    for writer, target in ((fileio.atomic_dir, tmp_path / "model"), (fileio.atomic_path, tmp_path / "f.csv")):
        with pytest.raises(PermissionError, match="write-protected: not replaced") as err:
            with writer(target):
                pytest.fail("nothing is written")
        assert err.value.filename == str(target) and err.value.errno == errno_mod.EACCES
    assert (tmp_path / "f.csv").read_text() == "old" and (tmp_path / "model").is_dir()
    with fileio.atomic_path(tmp_path / "new.csv") as tmp:  # a new path: written as ever
        tmp.write_text("new")
    assert (tmp_path / "new.csv").read_text() == "new"
    monkeypatch.setattr(fileio.os, "access", real)
    (tmp_path / "new.csv").chmod(0o444)  # `chmod a-w`: refused for root too, whom os.access lets write anything (a review)
    with pytest.raises(PermissionError, match="write-protected"):
        with fileio.atomic_path(tmp_path / "new.csv") as tmp:
            tmp.write_text("newer")
    assert (tmp_path / "new.csv").read_text() == "new"
    (tmp_path / "new.csv").chmod(0o644)
    with fileio.atomic_path(tmp_path / "new.csv") as tmp:  # writable again: replaced
        tmp.write_text("newer")
    assert (tmp_path / "new.csv").read_text() == "newer"
    monkeypatch.setattr(fileio.tempfile, "mkdtemp", lambda **k: (_ for _ in ()).throw(PermissionError(errno_mod.EACCES, "Permission denied", str(tmp_path / ".m.tmp-x"))))
    with pytest.raises(PermissionError) as err:
        with fileio.atomic_dir(tmp_path / "m"):
            pass
    assert err.value.filename == str(tmp_path / "m")
