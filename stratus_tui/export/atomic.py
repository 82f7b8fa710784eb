"""Writing a file atomically and privately: the part every export shares (SECURITY.md D).

``atomic_write(path)`` hands out a binary stream on a temp file in the target's folder
(``.NAME.xxxx.tmp``, 0600); when the ``with`` block ends normally the file is flushed,
fsynced and renamed over ``path`` with ``os.replace``, then the folder is fsynced. When the
block raises, the temp file is removed and the exception goes on: a crash or an error leaves
the old file (or none), never half a file, never a stray temp file. A folder that has to be
created is 0700 (an existing one keeps its permissions). File-system problems become an
``ExportError`` of one line; every other exception passes through unchanged.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["ExportError", "atomic_write", "export_error", "prepare_folder"]


class ExportError(Exception):
    """A file could not be written: one line saying what and where."""


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[BinaryIO]:
    """A binary stream whose content replaces ``path`` when the block ends without error."""
    path = Path(path)
    folder = prepare_folder(path)
    try:
        descriptor, temp_name = tempfile.mkstemp(
            dir=folder, prefix=f".{path.name}.", suffix=".tmp"
        )  # mode 0600
    except OSError as error:
        raise export_error(f"cannot create a file in {folder}", error) from None
    temp = Path(temp_name)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            yield stream
            try:
                stream.flush()
                os.fsync(stream.fileno())
            except OSError as error:
                raise export_error(f"cannot write {path}", error) from None
        try:
            temp.replace(path)
        except OSError as error:
            raise export_error(f"cannot write {path}", error) from None
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_folder(folder)


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
