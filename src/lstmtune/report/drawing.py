"""Figures drawn on two cores: a helper process draws some of a report's figures while this
process draws the others.

A study's report draws tens of figures, one after another, on one core (about 0.15 s each
here), after training has let both cores go. The helper is a fresh interpreter running only
this module (``python -m lstmtune.report.drawing``): not a fork (forking a process that runs
JAX's threads can deadlock), and not :mod:`multiprocessing`'s spawn, which would import the
user's own script again in the helper (and run it, where it has no ``__main__`` guard). It
imports NumPy and matplotlib (about 0.4 s), so it is only started for :data:`MIN_JOBS` figures
or more, on a machine of two cores or more. Work is shared as it goes: this process takes
figures from the front of the list, the helper one at a time from the back. Jobs travel to it over
its standard input as JSON and a NumPy ``.npz`` (never pickled: the package unpickles nothing,
tests/reliability/test_no_pickle.py), the figure function by its module and name; it answers
one byte per job. A job whose arguments do not fit that form is drawn here. A figure the helper could not draw is drawn here; a helper
that cannot start leaves every figure to this process. The same figure function draws the same
bytes in either process (tests/report/test_drawing.py).

**Helpers started ahead** (:func:`prestart`): a command that will draw a report starts its
helpers before its own imports and training, so that theirs (NumPy, matplotlib: about 0.4 s
each) run on a core this process leaves idle while it imports alone. The next
:func:`draw_all` then sends every figure it can to them and draws only the others here,
so this process need not import matplotlib at all: one helper for a report of fewer than
:data:`MIN_JOBS` figures, else one per process allowed. Helpers not used by the time the
process ends are closed then; a command that ends without drawing them stops its own
(:func:`discard`).

``LSTMTUNE_DRAW_PROCESSES=1`` draws everything in this process.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import dataclasses
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

MIN_JOBS = 8
"""Fewer figures than this are drawn here: the helper's start would cost more than it saves."""
TIMEOUT_S = 120.0
"""A helper that takes longer than this over one figure is stopped; its figures are drawn here."""


@dataclasses.dataclass(frozen=True)
class Job:
    """One figure: ``draw(*args, path, **kwargs)`` (a function of :mod:`lstmtune.report.figures`)."""

    draw: Callable
    args: tuple
    path: Path
    kwargs: dict = dataclasses.field(default_factory=dict)
    portable: bool = True
    """False keeps the job in this process (its arguments would make the helper import much more)."""

    def __call__(self) -> None:
        with _defaults():
            self.draw(*self.args, self.path, **self.kwargs)


@contextlib.contextmanager
def _defaults():
    """Matplotlib's own defaults while drawing, in this process and the helper alike (a
    user's style or matplotlibrc would otherwise reach only the figures drawn here)."""
    import matplotlib

    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        yield


def _processes() -> int:
    import sys

    if getattr(sys, "frozen", False):  # a bundled application: sys.executable is not a Python to run -m with
        return 1
    try:
        wanted = int(os.environ.get("LSTMTUNE_DRAW_PROCESSES", "2"))
    except ValueError:
        wanted = 2
    try:  # the cores this process may use (the report never imports the engine's lstmtune.engine.xla.usable_cores)
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(wanted, cores))


def _encode(obj, arrays: list):
    """``obj`` as JSON values, its arrays appended to ``arrays``; TypeError for anything else."""
    import numpy as np

    if isinstance(obj, (np.ndarray, np.generic)):
        a = np.asarray(obj)
        if a.dtype.hasobject:
            raise TypeError("an array of Python objects")
        arrays.append(a)
        return {"array": len(arrays) - 1, "scalar": isinstance(obj, np.generic)}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, Path):
        return {"path": str(obj)}
    if isinstance(obj, (tuple, list)):
        return {"tuple" if isinstance(obj, tuple) else "list": [_encode(x, arrays) for x in obj]}
    if isinstance(obj, dict):
        return {"dict": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    raise TypeError(f"{type(obj).__name__} is not sent to the drawing helper")


def _decode(obj, arrays):
    if not isinstance(obj, dict):
        return obj
    if "array" in obj:
        a = arrays[f"a{obj['array']}"]
        return a[()] if obj["scalar"] else a
    if "path" in obj:
        return Path(obj["path"])
    if "tuple" in obj:
        return tuple(_decode(x, arrays) for x in obj["tuple"])
    if "list" in obj:
        return [_decode(x, arrays) for x in obj["list"]]
    return {_decode(k, arrays): _decode(v, arrays) for k, v in obj["dict"]}


def _message(job: Job) -> bytes | None:
    """The job as bytes for the helper (length-prefixed JSON, then a length-prefixed ``.npz``), or None."""
    import io
    import json

    import numpy as np

    arrays: list = []
    try:
        head = json.dumps({"draw": [job.draw.__module__, job.draw.__qualname__], "args": _encode(job.args, arrays),
                           "path": str(job.path), "kwargs": _encode(job.kwargs, arrays)}).encode()
    except (TypeError, ValueError, AttributeError):
        return None
    buffer = io.BytesIO()
    np.savez(buffer, **{f"a{i}": a for i, a in enumerate(arrays)})
    body = buffer.getvalue()
    return len(head).to_bytes(8, "little") + head + len(body).to_bytes(8, "little") + body


class _Helper:
    """The helper process: one job at a time over a pipe."""

    def __init__(self):
        import subprocess
        import sys

        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}  # what this process can import
        # -P: not the working directory first on its path (a numpy.py there is not numpy)
        self.proc = subprocess.Popen([sys.executable, "-P", "-m", "lstmtune.report.drawing"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env)

    def draw(self, message: bytes) -> bool:
        """Send one job; True once the helper says it drew it. A helper that takes none of the
        job for :data:`TIMEOUT_S`, or is silent that long after it, is killed (OSError: this job
        and the rest are drawn here)."""
        self._send(message)
        try:
            import selectors

            with selectors.DefaultSelector() as sel:
                sel.register(self.proc.stdout, selectors.EVENT_READ)
                if not sel.select(TIMEOUT_S):
                    self.proc.kill()
                    raise OSError("the drawing helper stopped answering")
        except (ValueError, NotImplementedError, PermissionError):  # a pipe select cannot watch (Windows): wait
            pass
        answer = self.proc.stdout.read(1)
        if not answer:
            raise OSError("the drawing helper has gone")
        return answer == b"1"

    def _send(self, message: bytes) -> None:
        """Write ``message`` to the helper, a pipe's worth at a time as it reads: a helper that
        stops reading (stuck in its imports, say) would otherwise block this process for good
        on a job larger than the pipe's buffer (64 KiB on Linux)."""
        import selectors
        import time

        pipe = self.proc.stdin
        try:
            if os.name == "nt":  # select() watches sockets only there
                raise OSError
            fd = pipe.fileno()
            os.set_blocking(fd, False)
        except (AttributeError, OSError, ValueError):  # no non-blocking pipes to watch here (Windows): a plain write
            pipe.write(message)
            pipe.flush()
            return
        view, deadline = memoryview(message), time.monotonic() + TIMEOUT_S
        try:
            with selectors.DefaultSelector() as sel:
                sel.register(fd, selectors.EVENT_WRITE)
                while view:
                    if not sel.select(max(0.0, deadline - time.monotonic())):
                        self.proc.kill()
                        raise OSError("the drawing helper stopped reading")
                    try:
                        sent = os.write(fd, view)
                    except BlockingIOError:
                        continue
                    view, deadline = view[sent:], time.monotonic() + TIMEOUT_S
        finally:
            with contextlib.suppress(OSError, ValueError):
                os.set_blocking(fd, True)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass

    def close(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            self.proc.kill()
            self.proc.wait()


_READY: list[_Helper] = []
"""Helpers started by :func:`prestart`, waiting for the next :func:`draw_all`."""


def prestart(figures: int) -> int:
    """Start, now, the helpers that the next :func:`draw_all` will use for about ``figures``
    figures (see the module): one below :data:`MIN_JOBS` figures, else one per process
    allowed; none on one core, with ``LSTMTUNE_DRAW_PROCESSES=1``, or for no figure.
    Returns how many are waiting."""
    want = 0 if figures < 1 or _processes() < 2 else (1 if figures < MIN_JOBS else _processes())
    while len(_READY) < want:
        try:
            _READY.append(_Helper())
        except Exception:  # noqa: BLE001 - no helper: the figures are drawn as without prestart
            break
    return len(_READY)


@atexit.register
def discard() -> None:
    """Stop the helpers :func:`prestart` started that no :func:`start` took (the command failed
    before its report, or drew none), at once: each command's helpers serve its own report."""
    while _READY:
        _READY.pop().kill()


def _serve() -> None:
    """The helper's loop: read a job, draw it, answer ``1`` (drawn) or ``0`` (failed).
    Matplotlib and the figures are imported first, while the parent may still be busy."""
    import gc
    import importlib
    import io
    import json
    import sys

    import numpy as np

    from lstmtune.report import figures

    figures._pyplot()

    inp = sys.stdin.buffer
    out = os.fdopen(os.dup(1), "wb")  # the answers' own channel: whatever a job prints goes to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def part() -> bytes | None:
        size = inp.read(8)
        return inp.read(int.from_bytes(size, "little")) if len(size) == 8 else None

    while (head := part()) is not None and (body := part()) is not None:
        try:
            job = json.loads(head)
            stream = io.BytesIO(body)
            with np.load(stream, allow_pickle=False) as stored:
                arrays = dict(stored)
            module, name = job["draw"]
            draw = importlib.import_module(module)
            for attr in name.split("."):
                draw = getattr(draw, attr)
            Job(draw, _decode(job["args"], arrays), Path(job["path"]), _decode(job["kwargs"], arrays))()
            answer = b"1"
        except Exception:  # noqa: BLE001 - drawn by the parent instead, where its error shows
            answer = b"0"
        out.write(answer)
        out.flush()
    gc.freeze()  # the process ends: no collection passes over its heap at finalization


class Batch:
    """Figures being drawn: :func:`start` sends them to the helpers at once, :meth:`add` sends
    more while they draw, :meth:`wait` draws what is left here and returns once every figure is
    on disk. A process that has other work between the two (writing its tables, say) does it
    while the helpers draw."""

    def __init__(self, jobs: Sequence[Job]):
        jobs = list(jobs)
        self._portable = collections.deque(j for j in jobs if j.portable)
        self._local = [j for j in jobs if not j.portable]
        self._ready = [_READY.pop() for _ in range(len(_READY))]
        self._left_over: list[Job] = []
        self._more = threading.Condition()
        self._closed = False
        self._threads: list[threading.Thread] = []
        if self._ready or (len(jobs) >= MIN_JOBS and _processes() >= 2 and len(self._portable) >= 2):
            self._threads = [threading.Thread(target=self._helper, args=(process,), name="lstmtune-draw-helper", daemon=True)
                             for process in (self._ready or [None])]
            for thread in self._threads:
                thread.start()

    def add(self, jobs: Sequence[Job]) -> None:
        """More figures, drawn by the helpers if they are still drawing (else at :meth:`wait`)."""
        with self._more:
            for job in jobs:
                (self._portable if job.portable else self._local).append(job)
            self._more.notify_all()

    def _take(self, front: bool, block: bool) -> Job | None:
        with self._more:
            while block and not self._portable and not self._closed:
                self._more.wait()
            if not self._portable:
                return None
            return self._portable.popleft() if front else self._portable.pop()

    def _helper(self, process: _Helper | None) -> None:
        if process is None:
            try:
                process = _Helper()
            except Exception:  # noqa: BLE001 - no helper: this process draws everything
                return
        try:
            while (job := self._take(front=False, block=True)) is not None:
                try:
                    message = _message(job)
                    if message is None:  # arguments the helper cannot receive
                        self._left_over.append(job)
                        continue
                    if not process.draw(message):
                        self._left_over.append(job)
                except BaseException:  # noqa: BLE001 - the helper is gone or broke: this job and the rest are drawn here
                    self._left_over.append(job)
                    return
        finally:
            process.close()

    def cancel(self) -> None:
        """Draw nothing more (the figures being drawn are finished) and let the helpers go."""
        with self._more:
            self._closed = True
            self._portable.clear()
            self._more.notify_all()
        for thread in self._threads:
            thread.join()

    def wait(self) -> None:
        """Draw here what the helpers cannot take (everything, without helpers; from the front
        beside one started now), then wait for them: every figure is drawn on return."""
        with self._more:
            self._closed = True
            self._more.notify_all()
        interrupted = True
        try:
            while self._local:
                self._local.pop(0)()
            while (not self._threads or not self._ready) and (job := self._take(front=True, block=False)) is not None:
                job()
            for thread in self._threads:
                thread.join()
            interrupted = False
        finally:
            if interrupted:
                with self._more:  # the helpers take nothing more
                    self._portable.clear()
                for thread in self._threads:
                    thread.join()
        for job in [*self._left_over, *self._portable]:  # what a helper failed, and what none was left to take
            job()


def start(jobs: Sequence[Job]) -> Batch:
    """Start drawing ``jobs`` with the helpers (see :class:`Batch`); :meth:`Batch.wait` finishes."""
    return Batch(jobs)


def draw_all(jobs: Sequence[Job]) -> None:
    """Draw every job, with helper processes: those :func:`prestart` started (this process
    then draws only what they cannot take), else one started now when there are enough jobs
    (this process drawing from the front, the helper from the back; see the module)."""
    start(jobs).wait()


__all__ = ["MIN_JOBS", "Batch", "Job", "discard", "draw_all", "prestart", "start"]


if __name__ == "__main__":
    _serve()
