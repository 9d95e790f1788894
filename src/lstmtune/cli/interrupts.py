"""Ctrl-C and SIGTERM for long commands: exit 130 or 143 with one line saying what was kept,
never in the middle of a write to the results store (the signal waits until the process has
left it, then raises)."""

from __future__ import annotations

from pathlib import Path

import typer

from lstmtune.cli.common import _u, err_console
from lstmtune.cli.signals import _PENDING, _Terminated, _check_term, _must_defer, _on_signal, handled  # noqa: F401 - this module's names before


def _interruptible(fn, out: Path, kept="finished populations are saved in {out}; run the same command again to resume.", finished=None):
    """Run ``fn``; on Ctrl-C (exit 130) or SIGTERM (exit 143) say what was kept (``kept``, or
    what ``kept()`` returns then, ``{out}`` filled in). For a study: claims are
    released, finished populations are kept in the store. A signal held back until ``fn`` had
    returned (it arrived while the outputs were moved into place) says that the command had
    finished (``finished(result)``: what it wrote; default: its outputs in ``out``)."""
    done = False
    try:
        with handled():
            result = fn()
            done = True
            _check_term()  # a signal deferred late (held while the outputs were moved into place): still report it
            return result
    except KeyboardInterrupt as err:
        what = "terminated" if isinstance(err, _Terminated) else "interrupted"
        if done:  # the outputs were written before the signal was acted on: say so, not what an unfinished run keeps
            said = finished(result) if finished is not None else f"the command had finished: its outputs in {_u(str(out))} are complete"
        elif not callable(kept) and not Path(out).exists():  # stopped before it was created: nothing kept there (it said "saved in OUT": a probe)
            said = f"stopped before anything was written ({_u(str(out))} was not created)"
        else:
            said = (kept() if callable(kept) else kept).format(out=_u(str(out)))
        err_console.print(f"[yellow]{what}[/]: {said}", soft_wrap=True)
        raise typer.Exit(code=143 if isinstance(err, _Terminated) else 130) from None
