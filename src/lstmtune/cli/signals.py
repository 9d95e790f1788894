"""Ctrl-C and SIGTERM raised where the process is, never in the middle of a write to the results
store, an import or a garbage-collection callback (the signal waits until the process has left
it, then raises): the handlers every command runs under (:func:`handled`), and what a process
forked meanwhile gets. Nothing of the command line's output here (:mod:`lstmtune.cli.interrupts`
says what was kept)."""

from __future__ import annotations

import contextlib
import os
import time


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, so that claims are released and partial outputs
    removed as on Ctrl-C."""


_PENDING: dict = {"error": None, "active": False, "retry": False, "watcher": None}
"""The interruption a signal asked for but could not raise yet, and what delivers it later."""
NUDGE_S = 0.1
"""How often a deferred interruption is tried again (it raises once the process has left the store)."""


def _check_term(*_args) -> None:
    """Raise at a safe point (between chunks of training, and at the end) the Ctrl-C or
    SIGTERM whose handler could not raise where the process was (see ``_must_defer``)."""
    error, _PENDING["error"] = _PENDING["error"], None
    if error is not None:
        raise error()


# Code that a raise must not cut in half: a database transaction interrupted between its
# BEGIN and its bookkeeping can keep the write lock, and the release of claims that follows
# then waits on that lock until "database is locked". And an import: a raise inside one (JAX's,
# whose extension was initialising) ended `search` with a segmentation fault, an abort or an
# ImportError traceback in 7 of 20 signals 1.5-1.9 s after its start (a probe).
_DEFER_IN = ("sqlalchemy", "sqlite3", "psycopg", "psycopg2", "lstmtune.store", "importlib._bootstrap", "importlib._bootstrap_external")


def _must_defer(frame) -> bool:
    """Whether a signal arrived where raising would leave things half done: inside a
    garbage-collection callback (the raise is printed and dropped), inside the store or inside an import."""
    import gc

    callbacks = {getattr(cb, "__code__", None) for cb in gc.callbacks}
    while frame is not None:
        name = frame.f_globals.get("__name__", "") or ""
        if frame.f_code in callbacks or any(name == m or name.startswith(m + ".") for m in _DEFER_IN):
            return True
        frame = frame.f_back
    return False


def _on_signal(signum, frame) -> None:
    """Ctrl-C or SIGTERM: raise where the process is unless that is unsafe (``_must_defer``);
    then it is tried again every :data:`NUDGE_S` until the process has left the store (or the
    next ``_check_term`` raises it). A second signal while one waits raises at once."""
    import signal

    error = _Terminated if signum == signal.SIGTERM else KeyboardInterrupt
    retry, _PENDING["retry"] = _PENDING["retry"], False
    if retry:  # a nudge from _deliver_later, not a new signal
        if not _PENDING["active"] or _PENDING["error"] is None:
            return
        error = _PENDING["error"]
    if (retry or _PENDING["error"] is None) and _must_defer(frame):
        _PENDING["error"] = error
        _deliver_later(signum)
        return
    _PENDING["error"] = None
    raise error()


def _deliver_later(signum) -> None:
    """A thread that nudges the main thread's handler every :data:`NUDGE_S` while an
    interruption waits (``_thread.interrupt_main``: Python's handler runs again, no signal is sent)."""
    import _thread
    import threading

    watcher = _PENDING["watcher"]
    if watcher is not None and watcher.is_alive():
        return

    def nudge():
        while True:
            time.sleep(NUDGE_S)
            if not _PENDING["active"] or _PENDING["error"] is None:
                return
            _PENDING["retry"] = True
            _thread.interrupt_main(signum)

    _PENDING["watcher"] = threading.Thread(target=nudge, name="lstmtune-deferred-signal", daemon=True)
    _PENDING["watcher"].start()


def _settle() -> None:
    """A Python call: a nudge already sent runs its handler here (before the handlers are restored)."""


_BLOCKED: dict = {}
"""The signal mask each forking thread had before :func:`_block_for_fork`, by thread id."""


def _ours() -> set:
    import signal

    return {sig for sig in (signal.SIGTERM, signal.SIGINT) if signal.getsignal(sig) is _on_signal}


def _block_for_fork() -> None:
    """Before a fork while a command's handlers are installed: hold SIGTERM and SIGINT back, so
    none reaches the child before it has the default handlers (see :func:`_default_handlers_in_child`)."""
    import signal
    import threading

    mine = _ours()
    if mine:
        _BLOCKED[threading.get_ident()] = signal.pthread_sigmask(signal.SIG_BLOCK, mine)


def _unblock_after_fork() -> None:
    """The forking thread's signal mask as it was (a signal held back meanwhile is delivered now)."""
    import signal
    import threading

    mask = _BLOCKED.pop(threading.get_ident(), None)
    if mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _default_handlers_in_child() -> None:
    """A process forked while a command runs (statsforecast's ``n_jobs`` pool, say) gets the
    system's default actions back (SIGTERM and SIGINT end it, with no traceback) and nothing pending: its parent ends it with SIGTERM (a pool's
    ``terminate()``), which must end it at once. With the command's handler inherited, a worker
    printed a traceback, or deferred the signal and never exited while the command waited on it.
    The signals are held back from the fork until the default handlers are in place (a pool that
    closes while a worker is still starting sends SIGTERM in that window: the worker raised in
    its start-up, or the signal was dropped and the worker lived on, and the command waited on it
    for ever); then the mask is restored and a signal held back ends the child."""
    import signal

    _PENDING.update(error=None, retry=False, active=False, watcher=None)
    if signal.getsignal(signal.SIGTERM) is _on_signal:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if signal.getsignal(signal.SIGINT) is _on_signal:  # Ctrl-C reaches the whole process group: a worker ends at once,
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # silently (with Python's handler it printed a KeyboardInterrupt traceback
    _unblock_after_fork()                              # under the command's one line, a probe), and the command says what it kept


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_block_for_fork, after_in_parent=_unblock_after_fork, after_in_child=_default_handlers_in_child)


_DEPTH = [0]
"""How many :func:`handled` contexts are open (a command's, and :func:`_interruptible`'s inside it)."""


@contextlib.contextmanager
def handled(any_sigterm: bool = True):
    """Ctrl-C and SIGTERM raise KeyboardInterrupt (SIGTERM its subclass ``_Terminated``) where the
    process is, unless that is unsafe (inside the store, an import or a garbage-collection
    callback: :func:`_must_defer`), then as soon as it has left it. Installed in the main thread
    only, SIGINT not where Ctrl-C is ignored (nohup, &), SIGTERM over any handler (Ray's, say) or,
    with ``any_sigterm`` False, only over the default one; the handlers before are put back on
    leaving, and a signal still held back then is dropped (the command is over)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _DEPTH[0] == 0:
        _PENDING.update(error=None, retry=False)
    _DEPTH[0] += 1
    _PENDING["active"] = True
    previous = {}
    if any_sigterm or signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, _on_signal)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, _on_signal)
    try:
        yield
    finally:
        _DEPTH[0] -= 1
        if _DEPTH[0] == 0:
            _PENDING["active"] = False
            if _PENDING["watcher"] is not None:
                _PENDING["watcher"].join()
                _PENDING["watcher"] = None
            _settle()
            _PENDING.update(error=None, retry=False)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
