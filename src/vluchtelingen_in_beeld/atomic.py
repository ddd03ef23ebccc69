"""Writing so that a reader finds the old file or folder, or the complete new one: never half.

One implementation for the store, the outputs and snapshots:

- :func:`write_file`: one file, written beside its place, flushed, renamed into place.
- :func:`write_files`: several files, all or nothing (the last one, a manifest, last).
- :func:`building`: a folder built beside its place and swapped in whole at the end.
- :func:`recover`: what a killed process left beside a folder, restored or removed.
- :func:`holding`: one writer at a time for a folder (or the store), by a lock file that
  names its process; a dead process's lock is recognised and taken over.

Every temporary name has one pattern, ``.<name>.<kind>-<pid>-<8 hex>`` (``kind`` is
``tmp``, ``old`` or ``bak``), so a leftover says which process made it and whether that
process still runs.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

from vluchtelingen_in_beeld.errors import Locked

#: ``.<name>.<kind>-<pid>-<tag>``: a temporary name (see :func:`temp_path`).
TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old|bak)-(?P<pid>\d+)-(?P<tag>[0-9a-f]{8})$")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id still runs (a leftover of a dead one can go)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process
        return True
    return True


def temp_path(path: Path, kind: str = "tmp", *, folder: Path | None = None) -> Path:
    """A temporary name for ``path`` (in ``folder``, default beside it) of this process."""
    return (folder or path.parent) / f".{path.name}.{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def owner(path: Path) -> int | None:
    """The process id in a temporary name, or ``None`` if ``path`` is not one."""
    m = TEMP_NAME.match(path.name)
    return int(m["pid"]) if m else None


def sync_write(path: Path, data: bytes) -> None:
    """Write ``path`` and flush it to disk before returning (not atomic by itself).

    A failure names the file (a full disk says where), and leaves nothing half-written to
    be mistaken for the whole: callers write to a temporary name.
    """
    try:
        with path.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
        raise


def sync_folder(path: Path) -> None:
    """Flush a folder's entries (a rename in it) to disk, where the platform can."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_file(path: Path, data: bytes) -> None:
    """Write ``path`` so that it is either the old file or the complete new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        sync_write(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_files(files: Mapping[Path, bytes]) -> None:
    """Write every file of ``files``, in order, all or nothing.

    Each is first written to a temporary name; then each is moved into place (the last
    one, a manifest, last). If a move fails, the files already moved are put back as they
    were, so no table is left without its manifest. A folder in a file's way is an error
    (:class:`IsADirectoryError`) before anything is written.
    """
    for path in files:
        if path.is_dir():
            raise IsADirectoryError(21, "a folder of that name is in the way", str(path))
    temps: dict[Path, Path] = {}
    moved: list[tuple[Path, Path | None]] = []  # (path, its backup)
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            temps[path] = tmp = temp_path(path)
            sync_write(tmp, data)
        for path, tmp in temps.items():
            backup = None
            if path.exists():
                backup = temp_path(path, "bak")
                os.replace(path, backup)
            moved.append((path, backup))
            os.replace(tmp, path)
    except BaseException:
        for path, backup in reversed(moved):
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, path)
                elif path.exists():
                    path.unlink()
        for tmp in temps.values():
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    for _, backup in moved:
        if backup is not None:
            with contextlib.suppress(OSError):
                backup.unlink()


def remove(path: Path) -> None:
    """Remove a leftover: a folder with what it holds, or a file or symlink (its target stays).

    Best effort: what cannot be removed now is left for a later clean-up.
    """
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def swap_folder(staging: Path, final: Path, *, trash: Path | None = None) -> None:
    """Put the complete folder ``staging`` at ``final``, replacing what was there.

    Two renames (the old folder aside, the new one in), then the old one is removed. A
    process killed between the two renames leaves the old folder under its ``old`` name;
    :func:`recover` puts it back.
    """
    old = temp_path(final, "old", folder=trash)
    moved = final.exists() or final.is_symlink()
    if moved:
        os.replace(final, old)
    try:
        os.replace(staging, final)
    except BaseException:
        if moved and not (final.exists() or final.is_symlink()):
            os.replace(old, final)  # put the old one back: never leave nothing
        raise
    sync_folder(final.parent)
    if moved:
        remove(old)


@contextlib.contextmanager
def building(final: Path, *, work: Path | None = None) -> Iterator[Path]:
    """Yield an empty folder to build ``final`` in; swap it in if the block ends well.

    The folder is made in ``work`` (default: beside ``final``, on the same file system)
    under a temporary name; if the block raises, or the process is interrupted, it is
    removed and ``final`` stays as it was. Beside ``final``, what dead processes left of
    it is first cleaned up (:func:`recover`); a ``work`` folder shared by many finals (the
    store's ``.tmp``) is its owner's to clean.
    """
    folder = work or final.parent
    folder.mkdir(parents=True, exist_ok=True)
    if work is None:
        recover(final)
    staging = temp_path(final, folder=folder)
    staging.mkdir()
    try:
        yield staging
        swap_folder(staging, final, trash=folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def recover(final: Path) -> list[Path]:
    """Clean up after processes that died while writing ``final``; return what was removed.

    A folder a dead process swapped halfway (the old one moved aside, the new one not yet
    in) is put back; its half-built staging folders and backups are removed. Leftovers of
    processes that still run are left alone.
    """
    folder = final.parent
    if not folder.is_dir():
        return []
    removed = []
    for p in sorted(folder.iterdir()):
        m = TEMP_NAME.match(p.name)
        if not m or m["name"] != final.name or pid_alive(int(m["pid"])):
            continue
        if m["kind"] == "old" and not final.exists():
            os.replace(p, final)  # the swap was cut between its two renames
            continue
        remove(p)
        removed.append(p)
    return removed


#: Locks this process holds (a writer that calls another writer of the same folder).
_HELD: dict[Path, int] = {}


def _holder(lockfile: Path) -> tuple[int, str] | None:
    """(pid, since) written in a lock file, or ``None`` if it is gone or unreadable."""
    try:
        text = lockfile.read_text("utf-8")
    except (FileNotFoundError, OSError, UnicodeDecodeError):
        return None
    pid, _, since = text.strip().partition(" ")
    return (int(pid), since) if pid.isdigit() else (0, since)


@contextlib.contextmanager
def holding(lockfile: Path, *, wait: float = 0.0, poll: float = 0.05) -> Iterator[None]:
    """Hold ``lockfile`` (created exclusively, holding ``<pid> <time>``) for the block.

    A lock whose process no longer runs (or that names none) is stale: it is removed and
    taken. A lock of a running process is waited for at most ``wait`` seconds (polled,
    a bounded number of times), then :class:`Locked` is raised. Nested use in one process
    is allowed. The file is removed at the end only if it is still this process's.
    """
    key = lockfile.absolute()
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    lockfile.parent.mkdir(parents=True, exist_ok=True)
    mine = f"{os.getpid()} {datetime.now(UTC).isoformat(timespec='seconds')}"
    tries = max(1, int(wait / poll) + 1)
    for attempt in range(tries + 1):
        try:
            fd = os.open(lockfile, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            held = _holder(lockfile)
            if held is not None and held[0] > 0 and held[0] != os.getpid() and pid_alive(held[0]):
                if attempt + 1 >= tries:
                    raise Locked(lockfile, held[0], held[1]) from None
                time.sleep(poll)
                continue
            with contextlib.suppress(FileNotFoundError):
                lockfile.unlink()  # stale: its process is gone
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(mine)
        break
    else:  # pragma: no cover - a lock that keeps coming back stale
        held = _holder(lockfile) or (0, "?")
        raise Locked(lockfile, held[0], held[1])
    _HELD[key] = 1
    try:
        yield
    finally:
        del _HELD[key]
        if _holder(lockfile) == (os.getpid(), mine.split(" ", 1)[1]):
            with contextlib.suppress(OSError):
                lockfile.unlink()
