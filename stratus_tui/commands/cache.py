"""``stratus-tui cache [--purge] [--profile P]``: list the local caches, or delete them.

The caches hold conversation history (customer numbers among it), so deleting them is one
command. Listing reads each file without changing it. Exit codes: 0 done, 1 a file could
not be deleted or the cache folder not read.
"""

from __future__ import annotations

from datetime import datetime

from stratus_tui.commands import emit, say_error
from stratus_tui.text import clean

FAILED = 1


def _when(epoch: int | None) -> str:
    if epoch is None:
        return "never synced"
    return "synced " + datetime.fromtimestamp(epoch).astimezone().strftime("%Y-%m-%d %H:%M")


def run(*, purge: bool, profile: str | None) -> int:
    from stratus_tui.cache.files import describe, find_caches, purge_caches
    from stratus_tui.config.paths import cache_dir

    whose = f"of the profile '{profile}'" if profile else "of every profile"
    try:
        if purge:
            gone = purge_caches(profile)
            caches = [path for path in gone if path.name.endswith(".sqlite3")]
            for path in gone:
                emit(f"Deleted {path}\n")
            if not gone:
                emit(f"No local cache {whose} to delete (in {cache_dir()})\n")
            else:
                count = len(caches)
                emit(f"Deleted {count} local cache{'' if count == 1 else 's'} {whose}\n")
            return 0
        paths = find_caches(profile)
    except OSError as error:
        say_error("cache", f"{error.filename or cache_dir()}: {error.strerror or error}")
        return FAILED
    if not paths:
        emit(f"No local cache {whose} (in {cache_dir()})\n")
        return 0
    for path in paths:
        info = describe(path)
        who = clean(f"{info.user or '?'} on {info.server or '?'}")
        if info.problem:
            state = f"unreadable ({info.problem}; rebuilt when next used)"
        else:
            state = f"{info.conversations or 0:,} conversations, {_when(info.last_sync)}"
        emit(f"{info.profile}: {who}\n  {path} ({info.size / 1_000_000:.1f} MB), {state}\n")
    return 0
