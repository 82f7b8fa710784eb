"""The cache files on disk: find them, describe them, delete them (``stratus-tui cache``)."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

from stratus_tui.cache.store import BROKEN, LOCK_SUFFIX, SUFFIX, delete_files
from stratus_tui.config import paths

_NAME = re.compile(r"[0-9a-f]{20}" + re.escape(SUFFIX))


@dataclass(frozen=True)
class CacheFile:
    path: Path
    profile: str
    size: int  # bytes, with the write-ahead log
    server: str | None = None
    user: str | None = None
    last_sync: int | None = None
    conversations: int | None = None
    problem: str | None = None  # why it could not be read (it is rebuilt when next opened)


def _profile_folders(profile: str | None, folder: Path | None) -> list[Path]:
    root = folder or paths.cache_dir()
    if profile is not None:
        return [root / profile] if (root / profile).is_dir() else []
    return sorted(child for child in root.iterdir() if child.is_dir()) if root.is_dir() else []


def find_caches(profile: str | None = None, *, folder: Path | None = None) -> list[Path]:
    """The cache files of ``profile`` (all profiles: None), sorted."""
    found = []
    for profile_folder in _profile_folders(profile, folder):
        found += sorted(path for path in profile_folder.iterdir() if _NAME.fullmatch(path.name))
    return found


def describe(path: Path) -> CacheFile:
    """What ``stratus-tui cache`` shows of one file (read only: nothing is changed)."""
    size = sum(
        candidate.stat().st_size
        for candidate in (path, path.with_name(path.name + "-wal"))
        if candidate.exists()
    )
    info = CacheFile(path, path.parent.name, size)
    try:
        uri = path.resolve().as_uri() + "?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=2.0)) as connection:
            state = dict(connection.execute("SELECT key, value FROM state").fetchall())
            count = connection.execute("SELECT count(*) FROM conversation").fetchone()[0]
    except sqlite3.Error as error:
        return CacheFile(path, info.profile, size, problem=str(error))
    last = state.get("last_sync")
    return CacheFile(
        path,
        info.profile,
        size,
        server=state.get("server"),
        user=state.get("user"),
        last_sync=int(last) if last else None,
        conversations=int(count),
    )


def purge_caches(profile: str | None = None, *, folder: Path | None = None) -> list[Path]:
    """Delete the caches of ``profile`` (of every profile: None); the files deleted.

    A stratus-tui still running on a deleted cache keeps its open copy until it exits;
    nothing it does reaches the next one. Empty profile folders go too.
    """
    gone: list[Path] = []
    for profile_folder in _profile_folders(profile, folder):
        for path in find_caches(profile_folder.name, folder=profile_folder.parent):
            gone += delete_files(path)
        # Leftovers of caches whose database is gone: lock files, broken copies.
        for stray in sorted(profile_folder.iterdir()):
            name = stray.name
            base = name.split(BROKEN)[0] if BROKEN in name else name.removesuffix(LOCK_SUFFIX)
            if name != base and _NAME.fullmatch(base) and stray.is_file():
                with suppress(FileNotFoundError):
                    stray.unlink()
                    gone.append(stray)
        with suppress(OSError):
            profile_folder.rmdir()  # only when empty
    return gone
