"""The ``lstmtune`` command line: a thin registry of commands over the library.

Every command parses its arguments, calls the public API and prints. Bad input
(:class:`~lstmtune.errors.LstmtuneError`) is printed as one red line and exits
with status 2; nothing is written. The commands live by concern in
:mod:`.data_commands`, :mod:`.study_commands` and :mod:`.forecast_commands`;
importing them registers them on :data:`app` (in ``--help``'s order).
"""

from __future__ import annotations

import gc
import sys

from lstmtune.cli.common import app
# Importing a command module registers its commands; --help lists them in this order.
from lstmtune.cli import data_commands  # noqa: F401, I001
from lstmtune.cli import study_commands  # noqa: F401, I001
from lstmtune.cli import forecast_commands  # noqa: F401, I001
from lstmtune.cli import auto_commands  # noqa: F401, I001


FULL_COLLECTION_EVERY = 100
"""Collections of the middle generation between two of the whole heap in a command (Python's
default: 10); see :func:`main`."""


def main() -> None:
    """Run the command line; the process ends after it.

    The garbage collector looks at the whole heap ten times less often than by default
    (:data:`FULL_COLLECTION_EVERY`). A command imports JAX, SciPy, statsmodels and pandas
    into a heap that grows by hundreds of thousands of objects, and each full pass over it
    took about 85 ms: five of them were 0.42 s of `lstmtune reproduce`'s 6 s on the 2-core
    development machine (benchmarks/RESULTS.md, ninth session). The young generations are
    still collected as usual, so short-lived cycles are freed as before; a long command's
    older garbage waits longer. As mypy does for its own start, for the same reason.

    Before the interpreter's finalization, every object is moved out of the garbage
    collector's reach (:func:`gc.freeze`): finalization otherwise walks the whole heap of
    JAX, SciPy and pandas objects in collection passes, about 0.5 s of every command on the
    2-core development machine (benchmarks/RESULTS.md, seventh session). Objects are still
    released by reference counting and ``atexit`` handlers still run; only garbage held in
    reference cycles is left to the operating system, which reclaims the whole process. A
    program that runs commands in its own process and goes on afterwards calls :data:`app`
    instead (as the tests do with Typer's runner), which freezes nothing.
    """
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
    try:
        app()
    except SystemExit as done:
        if done.code in INTERRUPTED:
            _end_interrupted(done.code)
        raise
    finally:
        gc.freeze()


INTERRUPTED = (130, 143)
"""Exit statuses of a command stopped by Ctrl-C or SIGTERM (it has said what it kept)."""


def _end_interrupted(code: int) -> None:
    """End an interrupted command's process now, without the interpreter's finalization.

    A command interrupted while XLA compiled a program in one of its threads (a first run, with
    nothing in the compilation cache) aborted at exit after its one line: "pure virtual method
    called", "terminate called without an active exception" or an LLVM error, and exit status 134
    instead of 130 (3 of 8 Ctrl-C's 4 s into a 5-series `auto` with an empty cache; a probe). The
    finalization destroyed what the compiling thread still used. Everything the command keeps is
    written and every partial output removed before its status is known here; what the
    finalization would still do is stopped by hand: the figure helpers it started and a Ray
    session it joined. Its other children die with it (the statistical workers ask to,
    :mod:`lstmtune.selection.processes`)."""
    import os
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C while helpers stop: ignored, the process ends as below
        try:
            signal.signal(sig, signal.SIG_IGN)
        except (ValueError, OSError):  # not the main thread
            pass
    try:
        _stop_helpers()
    finally:
        os._exit(code)


def _stop_helpers() -> None:
    """Flush the output, stop the figure helpers and leave a Ray session (see :func:`_end_interrupted`)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed pipe: nothing more to say
            pass
    drawing = sys.modules.get("lstmtune.report.drawing")
    if drawing is not None:
        try:
            drawing.discard()
        except Exception:  # noqa: BLE001
            pass
    ray = sys.modules.get("ray")
    if ray is not None:
        try:
            if ray.is_initialized():
                ray.shutdown()
        except Exception:  # noqa: BLE001
            pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
