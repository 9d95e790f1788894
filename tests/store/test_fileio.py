"""Writing aside and moving into place (store/fileio.py): what writers killed mid-write leave."""

import os
import socket
import subprocess
import sys

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
