"""Writing a file atomically and privately: the part every export shares (SECURITY.md D).

``atomic_write(path)`` hands out a binary stream on a temp file in the target's folder
(``.NAME.xxxx.tmp``, 0600); when the ``with`` block ends normally the file is flushed,
fsynced and renamed over ``path`` with ``os.replace``, then the folder is fsynced. When the
block raises, the temp file is removed and the exception goes on: a crash or an error leaves
the old file (or none), never half a file, never a stray temp file. A folder that has to be
created is 0700 (an existing one keeps its permissions). File-system problems become an
``ExportError`` of one line; every other exception passes through unchanged.

``kill -9`` (or a power cut) runs no clean-up, so there a temp file does stay behind: never
in place of the target, which is only ever replaced whole. Such leftovers are recognisable
(``.NAME.*.tmp`` beside ``NAME``) and the next export to the same file removes them: every
temp file is held under an exclusive ``flock`` for as long as its writer (or the helper
process writing a part of it) lives, and the kernel drops that lock when the process dies,
however it dies. A temp file nobody holds is a dead export's, and goes; one that is held
belongs to an export still running (a second terminal writing the same file) and stays.
The lock, not the age or a process id, decides: a process id can be reused, and an export
of a million rows may run for a while.
"""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "ExportError",
    "atomic_write",
    "export_error",
    "locked_temp",
    "prepare_folder",
    "remove_stale_temps",
]

TEMP_SUFFIX = ".tmp"


class ExportError(Exception):
    """A file could not be written: one line saying what and where."""


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[BinaryIO]:
    """A binary stream whose content replaces ``path`` when the block ends without error."""
    path = Path(path)
    folder = prepare_folder(path)
    remove_stale_temps(path)
    try:
        descriptor, temp = locked_temp(folder, f".{path.name}.")
    except OSError as error:
        raise export_error(f"cannot create a file in {folder}", error) from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            yield stream
            try:
                stream.flush()
                os.fsync(stream.fileno())
            except OSError as error:
                raise export_error(f"cannot write {path}", error) from None
            try:
                temp.replace(path)  # still open, so still locked: no clean-up takes it
            except OSError as error:
                raise export_error(f"cannot write {path}", error) from None
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_folder(folder)


def locked_temp(folder: Path, prefix: str) -> tuple[int, Path]:
    """A new 0600 temp file ``PREFIX*.tmp`` in ``folder``, open and under an exclusive
    ``flock`` until the descriptor (and every copy of it, a child's too) is closed."""
    while True:
        descriptor, name = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=TEMP_SUFFIX)
        try:
            _lock(descriptor, wait=True)  # waits only while a clean-up looks at it
            if Path(name).stat().st_ino == os.fstat(descriptor).st_ino:
                return descriptor, Path(name)
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(descriptor)
            raise
        os.close(descriptor)  # a clean-up took it for a dead one between the two calls


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove the temp files that earlier exports to ``path`` left when they were killed
    (their lock is free); the ones removed. Never raises."""
    removed = []
    for candidate in path.parent.glob(glob.escape(f".{path.name}.") + "*" + TEMP_SUFFIX):
        if sys.platform == "win32":  # a file open elsewhere cannot be deleted: lock enough
            with contextlib.suppress(OSError):
                candidate.unlink()
                removed.append(candidate)
            continue
        try:
            descriptor = os.open(candidate, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            _lock(descriptor, wait=False)
            found = candidate.lstat()
            if stat.S_ISREG(found.st_mode) and found.st_ino == os.fstat(descriptor).st_ino:
                candidate.unlink()
                removed.append(candidate)
        except OSError:
            continue  # held: an export still writing it; or not ours to remove
        finally:
            os.close(descriptor)
    return removed


def _lock(descriptor: int, *, wait: bool) -> None:
    """An exclusive ``flock``; without ``wait``, ``BlockingIOError`` when another holds it.
    (On Windows nothing: there an open file cannot be deleted, see ``remove_stale_temps``.)"""
    if sys.platform != "win32":
        import fcntl

        fcntl.flock(descriptor, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)


def prepare_folder(path: Path) -> Path:
    """The folder for ``path``, created 0700 (with any missing parents) when it is missing."""
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder, not a file name")
    folder = path.parent
    missing: list[Path] = []
    current = folder
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    if current.exists() and not current.is_dir():
        raise ExportError(f"cannot write {path}: {current} is a file, not a folder")
    for created in reversed(missing):
        try:
            created.mkdir(mode=0o700)
        except FileExistsError:
            pass  # made meanwhile by someone else
        except OSError as error:
            raise export_error(f"cannot create the folder {created}", error) from None
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: {folder} is not a folder")
    return folder


def export_error(what: str, error: OSError) -> ExportError:
    reason = (error.strerror or str(error) or type(error).__name__).lower()
    return ExportError(f"{what}: {reason}")


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); Windows cannot open a folder, and needs not."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        descriptor = os.open(folder, flags)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
