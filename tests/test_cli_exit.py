"""The command line's process: full collections rarer than by default while it runs, the heap frozen before the interpreter's finalization
(cli.app.main), so finalization skips the collection passes over it, and what a command
printed still reaches its reader."""

import subprocess
import sys

from lstmtune.cli.app import FULL_COLLECTION_EVERY

_CALL = """
import gc, sys
from lstmtune.cli.app import main
sys.argv = ["lstmtune", *sys.argv[1:]]
before = gc.get_freeze_count()
try:
    main()
except SystemExit as exit:
    code = exit.code
print("frozen", before, gc.get_freeze_count(), "code", code, "threshold", gc.get_threshold()[2])
"""


def test_main_freezes_the_heap_before_the_process_ends_and_keeps_its_exit_code():
    done = subprocess.run([sys.executable, "-c", _CALL, "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "auto" in done.stdout  # the help itself was printed
    words = done.stdout.split()
    at = words.index("frozen")
    before, after, code = int(words[at + 1]), int(words[at + 2]), words[at + 4]
    assert before == 0 and after > 1000
    assert code in ("0", "None")
    assert int(words[at + 6]) == FULL_COLLECTION_EVERY > 10  # full passes over the heap rarer than Python's default


def test_the_library_leaves_the_collector_alone():
    """Only the command line's own process changes the collector's thresholds."""
    done = subprocess.run([sys.executable, "-c", "import gc; before = gc.get_threshold(); import lstmtune, lstmtune.cli.app; print(gc.get_threshold() == before)"], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "True", done.stderr


def test_a_failing_command_still_exits_two_with_its_line_after_the_freeze(tmp_path):
    done = subprocess.run([sys.executable, "-m", "lstmtune.cli", "auto", str(tmp_path / "missing.csv"), "--horizon", "3"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "missing.csv" in done.stdout + done.stderr
