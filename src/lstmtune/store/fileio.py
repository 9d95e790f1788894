"""Write files so that a failure never leaves a half-written result behind."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from lstmtune.errors import LstmtuneError


def file_in_the_way(path: Path) -> Path | None:
    """The nearest existing folder above ``path`` when it is in fact a file (``path`` can then
    never be created: name it in the error), else None."""
    above = next((p for p in Path(path).absolute().parents if p.exists()), None)
    return above if above is not None and not above.is_dir() else None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _host() -> str:
    return socket.gethostname().replace(".", "_")


def _tmp_prefix(target: Path) -> str:
    """The name a temporary file or folder beside ``target`` starts with: its writer's host and
    process, so that what a writer killed mid-write left is found and removed (:func:`_sweep_beside`)."""
    return f".{target.name}.tmp-{_host()}-{os.getpid()}."


_SWEPT: set = set()
"""The folders this process has swept (:func:`_sweep_beside`): once each, since a panel writes
one checkpoint or model folder per series into the same folder."""


def _sweep_beside(target: Path) -> None:
    """Remove the temporary files and folders that writers on this host left beside ``target``
    when they died (``kill -9`` mid-write left a hidden, half-written copy beside it for good);
    each folder once per process."""
    import glob

    parent = target.parent.resolve()
    if parent in _SWEPT:
        return
    _SWEPT.add(parent)
    head = f".*.tmp-{glob.escape(_host())}-"
    for left in parent.glob(head + "*"):
        pid = left.name.rsplit(f".tmp-{_host()}-", 1)[-1].split(".", 1)[0]
        if not pid.isdigit() or pid_alive(int(pid)):
            continue
        if left.is_dir() and not left.is_symlink():
            shutil.rmtree(left, ignore_errors=True)
        else:
            left.unlink(missing_ok=True)


def _ready_beside(target: Path) -> None:
    """Make ``target``'s folder, refusing what would be replaced or written in a way the user did
    not ask for, named by ``target`` (not by the temporary path beside it):
    - a file where a folder above it goes (``notes.txt/model``: "File exists" before);
    - a write-protected ``target``: a rename replaced it, as it only needs its folder writable,
      while ``run`` and ``report`` refuse a read-only run directory (a probe)."""
    blocked = file_in_the_way(target)
    if blocked is not None:
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    # the permission bits too: root may write anything (os.access says yes), and a `chmod a-w` is still meant
    if target.exists() and not target.is_symlink() and (not os.access(target, os.W_OK) or not target.stat().st_mode & 0o222):
        raise PermissionError(errno.EACCES, "write-protected: not replaced (make it writable, or give another path)", str(target))


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it into place only on success."""
    target = Path(target)
    _ready_beside(target)
    _sweep_beside(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(target), suffix=target.suffix, dir=target.parent)
    except OSError as err:  # named by the path asked for, not the temporary one beside it
        raise OSError(err.errno, err.strerror, str(target)) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp creates 0600
        try:
            os.replace(tmp_path, target)
        except OSError as err:  # a folder where the file goes, say: named by the path asked for
            raise OSError(err.errno, err.strerror, str(target)) from None
    finally:
        tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_paths(targets: Iterable[Path]) -> Iterator[list[Path]]:
    """Temporary paths beside several ``targets`` (a forecast's table, figure and paths), all
    written before any is moved into place, then moved in one after another: an interruption
    while drawing or writing leaves the earlier files whole (a new figure stood beside an old
    table when each file was moved in as soon as it was drawn). A kill in the microseconds
    between two of the final renames can still leave them mixed: files, unlike a run
    directory, carry no marker a reader checks."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(atomic_path(Path(t))) for t in targets]  # moved in as the stack unwinds, each written by then


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a temporary directory beside ``target``; it replaces ``target`` only on success."""
    target = Path(target)
    _ready_beside(target)
    _sweep_beside(target)
    old = target.with_name(f".{target.name}.old")
    if old.is_dir() and not old.is_symlink():  # a write killed between its two renames: the earlier folder is back
        if target.exists() or target.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(old, target)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(target), dir=target.parent))
    except OSError as err:  # named by the path asked for, not the temporary one beside it
        raise OSError(err.errno, err.strerror, str(target)) from None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp creates 0700
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- run directories
MARKER = ".lstmtune-run"
"""A file naming a directory as lstmtune's run directory: only such a directory is written into."""

OUTPUT_NAMES = frozenset(
    {
        MARKER, "study.toml", "results.csv", "results.parquet", "curves.npz", "curves.parquet", "summary.csv",
        "series.csv", "environment.json", "report.html", "plots", "study.db", "study.db-wal", "study.db-shm",
        "study.db-journal", "trials.csv", "search.html", "test_forecasts.csv", ".lstmtune-finished",
        "panel_summary.csv", "panel_configs.csv", "index.html", "series",
    }
)


KINDS = {"study": "`lstmtune run` (a study)", "search": "`lstmtune search`", "panel": "a panel's `lstmtune run --data`",
         "panel-search": "a panel's `lstmtune search --data`"}
"""What wrote a run directory, by the ``kind`` its marker records."""


def kind_of(marker: Path) -> str | None:
    return _marked(marker, "kind")


def _marked(marker: Path, key: str) -> str | None:
    try:
        value = json.loads(marker.read_text()).get(key)
    except (OSError, ValueError, AttributeError):  # an older or damaged marker: no claim about it
        return None
    return value if isinstance(value, str) else None


def claim_run_dir(out: Path, *, name: str, kind: str, inputs: Iterable[Path | str] = (), folders: tuple[str, ...] = ("plots",)) -> Path:
    """Check that ``out`` may be written, then create it and mark it as a run directory.

    ``out`` may be new, empty, or a run directory lstmtune wrote (its marker file,
    or an earlier version's ``study.db`` among nothing but lstmtune's outputs,
    which is adopted). Anything else is refused, so no user file is ever replaced.
    Outputs are never written through symbolic links, and no input (data file,
    study file) may lie where an output would be written, or in one of ``folders``, which
    the run writes into.

    Raises:
      LstmtuneError: one line naming the path and what is wrong.
    """
    out = Path(out)
    if out.is_symlink():
        raise LstmtuneError(f"--out {out}: is a symbolic link; give the real directory (outputs are never written through links)")
    if out.exists() and not out.is_dir():
        raise LstmtuneError(f"--out {out}: is a file, not a directory")
    resolved_out = out.resolve()
    for item in inputs:
        path = Path(item)
        if not path.exists():
            continue
        rp = path.resolve()
        if rp.parent == resolved_out and rp.name in OUTPUT_NAMES - {"study.toml"}:
            raise LstmtuneError(f"{path}: an input lies where lstmtune writes its output {out / rp.name}; move it or choose another --out")
        if rp.parent == resolved_out and rp.name == "study.toml" and not (out / MARKER).is_file():
            raise LstmtuneError(f"{path}: an input lies where lstmtune writes its output {out / rp.name}; move it or choose another --out")
        if resolved_out in rp.parents and rp.parts[len(resolved_out.parts)] in folders:
            raise LstmtuneError(f"{path}: an input lies in {out / rp.parts[len(resolved_out.parts)]}, which lstmtune writes into; move it or choose another --out")
    if out.is_dir():
        entries = {p.name for p in out.iterdir()}
        visible = {e for e in entries if not e.startswith(".outputs.")}
        if visible and MARKER not in entries and not ("study.db" in visible and visible <= OUTPUT_NAMES):
            raise LstmtuneError(
                f"--out {out}: the directory exists and is not an lstmtune run directory (no {MARKER} file); "
                f"choose a new or empty directory, so that none of its files is replaced"
            )
        for e in sorted(entries & OUTPUT_NAMES):
            if (out / e).is_symlink():
                raise LstmtuneError(f"--out {out}: {e} is a symbolic link; outputs are never written through links")
        if "plots" in folders:
            check_plots(out, f"--out {out}", "move it or choose another --out")
        was = kind_of(out / MARKER) if MARKER in entries else None
        # a panel search marked itself "panel" before this check: adopted, unless `run --data` wrote it (its panel_configs.csv)
        older_search = (was, kind) == ("panel", "panel-search") and "panel_configs.csv" not in entries
        if was is not None and was != kind and not older_search:
            raise LstmtuneError(f"--out {out}: written by {KINDS.get(was, was)}, not {KINDS.get(kind, kind)}; "
                                f"give another --out (their results would mix in one directory)")
    out.mkdir(parents=True, exist_ok=True)
    marker = out / MARKER
    if not marker.is_file() or (kind_of(marker) == kind and _marked(marker, "study") not in (None, name)):
        # new, or another study of this kind run into it: its outputs are this study's from now on
        # (the other's runs stay in its study.db); the marker named the first study for ever (a probe)
        marker.write_text(json.dumps({"format": 1, "kind": kind, "study": name}) + "\n")
    return out


def pid_alive(pid: int) -> bool:
    """True for a live process (a zombie, finished but not yet reaped, counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _stale_outputs(directory: Path) -> list[Path]:
    """``.outputs.<host>.<pid>.*`` folders of this host whose writer died (folders of older
    versions carry no pid: left alone)."""
    host = _host()
    out = []
    for tmp in Path(directory).glob(".outputs.*"):
        parts = tmp.name.split(".")
        if len(parts) >= 5 and parts[2] == host and parts[3].isdigit() and not pid_alive(int(parts[3])):
            out.append(tmp)
    return out


def remove_stale_outputs(directory: Path) -> int:
    """Remove ``.outputs.PID.*`` folders left by processes that died while writing."""
    stale = _stale_outputs(directory)
    for tmp in stale:
        shutil.rmtree(tmp, ignore_errors=True)
    return len(stale)


REPLACED = ".replaced"
"""Inside a temporary outputs folder: the folders its outputs replaced, removed with it (a
rename is quick; removing a folder of figures while outputs are half moved in is not)."""
MOVING = ".moving"
"""Inside a temporary outputs folder: created just before its first output is moved into place,
holding the command that writes them. A writer that died before it had changed nothing."""


def check_outputs_whole(directory: Path, repairing: str | None = None) -> None:
    """Refuse to read a run directory whose writer died while moving its outputs into place
    (its temporary folder holds :data:`MOVING` and outputs not yet moved): the outputs there
    then mix two writes. ``repairing``: the command now run, which may read it where it was the
    one interrupted (``lstmtune report`` redraws what a killed ``report`` half moved in).

    Raises:
      LstmtuneError: naming the directory and the command that finishes the write.
    """
    for tmp in _stale_outputs(directory):
        try:
            names = {p.name for p in tmp.iterdir()}
            writer = (tmp / MOVING).read_text(encoding="utf-8").strip() if MOVING in names else None
        except OSError:  # removed meanwhile by a rerun that is finishing the write
            continue
        if writer is None or not names - {MOVING, f"{MOVING}.part", REPLACED} or writer == repairing:
            continue
        raise LstmtuneError(f"{directory}: its outputs were being moved into place when `{writer or 'the command writing them'}` was killed, "
                            f"so they mix two writes; run it again with this directory as its output to finish them")


def _set_aside(path: Path, replaced: Path) -> None:
    """Move ``path`` (a file or a folder) into ``replaced``, removed later with it: a rename."""
    replaced.mkdir(exist_ok=True)
    os.replace(path, Path(tempfile.mkdtemp(prefix=path.name + ".", dir=replaced)) / path.name)


def _move_into_place(entry: Path, target: Path, replaced: Path, attempts: int = 5) -> None:
    """``os.replace(entry, target)``; a folder first moves the old one into ``replaced``.
    Another process writing the same run directory (two workers finishing one study) may
    replace or remove that folder meanwhile: then setting it aside and the move are tried again."""
    for attempt in range(attempts):
        try:
            if target.is_dir() and not target.is_symlink():
                _set_aside(target, replaced)
            os.replace(entry, target)
            return
        except (FileNotFoundError, OSError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def check_plots(directory: Path, named: str, advice: str) -> None:
    """Refuse a run directory whose ``plots/`` holds anything but the figures lstmtune draws
    there: the folder is replaced whole by the next figures, a user's file in it would be lost
    (``named``: how the directory is named in the refusal; ``advice``: what to do)."""
    plots = Path(directory) / "plots"
    if plots.is_dir() and not plots.is_symlink():
        other = sorted(p.name for p in plots.iterdir() if not ((p.suffix.lower() == ".png" or p.name == ".keys.json") and p.is_file() and not p.is_symlink()))
        if other:
            raise LstmtuneError(f"{named}: plots/{other[0]} is not a figure lstmtune drew (plots/ is replaced whole by the figures); {advice}")


WRITING = ".writing.lock"
"""In a run directory: the file :func:`writers_in_turn` locks."""


@contextlib.contextmanager
def writers_in_turn(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory``'s :data:`WRITING` file (``flock``: released when
    the process dies), so that processes sharing a run directory read their results and write
    their outputs one after another: the last to write then read a store at least as full as
    every earlier writer's, and its outputs are the ones left. Without ``fcntl`` (not a POSIX
    system), where the file cannot be opened, or where the file system takes no locks (NFS
    without a lock daemon: ENOLCK), nothing is held: the outputs are written as before."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    try:
        handle = open(Path(directory) / WRITING, "a+b")
    except OSError:
        yield
        return
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        except OSError:
            yield
            return
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def atomic_outputs(directory: Path, remove: Iterable[str] = (), writer: str = "lstmtune run") -> Iterator[Path]:
    """Yield a temporary folder inside ``directory``; on success move each entry into place.

    Other files of ``directory`` (a results database, say) are left alone, except those named in
    ``remove`` that this write did not produce: outputs an earlier run wrote which would
    otherwise stand beside the new ones (a summary beside results whose every run diverged).
    Folders left by writers that died are removed first; an output path that is a
    symbolic link is refused. ``writer``: the command writing, named to a reader should it be
    killed while moving the outputs in (:func:`check_outputs_whole`).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    remove_stale_outputs(directory)
    tmp = Path(tempfile.mkdtemp(prefix=f".outputs.{_host()}.{os.getpid()}.", dir=directory))
    try:
        yield tmp
        produced = {entry.name for entry in tmp.iterdir()}
        for name in produced | set(remove):
            if (directory / name).is_symlink():
                raise LstmtuneError(f"{directory / name}: is a symbolic link; outputs are never written through links")
        marker = tmp / f"{MOVING}.part"
        marker.write_text(writer + "\n", encoding="utf-8")
        os.replace(marker, tmp / MOVING)  # whole or absent; from here a kill leaves the outputs mixed: readers refuse them
        replaced = tmp / REPLACED
        for name in sorted(set(remove) - produced):  # set aside first: a kill from here on leaves outputs to move, detected
            try:
                _set_aside(directory / name, replaced)
            except FileNotFoundError:  # not there, or another writer of this directory moved it meanwhile
                pass
        for entry in list(tmp.iterdir()):
            if entry.name in (REPLACED, MOVING):
                continue
            target = directory / entry.name
            if entry.is_file():
                os.chmod(entry, 0o666 & ~_umask())
            else:
                os.chmod(entry, 0o777 & ~_umask())
            try:
                _move_into_place(entry, target, replaced=replaced)
            except OSError as err:  # a file where a folder goes, say: named by the output, not the temporary folder
                raise OSError(err.errno, err.strerror, str(target)) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
