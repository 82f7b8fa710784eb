"""``stratus-tui sync``: fill or refresh the local cache's conversation history.

Signs in like the other headless commands, opens the cache of that user on that server
and runs the same sync as the TUI (``stratus_tui.cache.sync``). Progress goes to stderr:
a bar redrawn in place (``\\r``) on a terminal, a plain line every few seconds otherwise;
the summary goes to stdout. Exit codes: 0 synced, 3 could not sync (one line on stderr),
130 interrupted (what was stored stays stored: the next sync resumes there).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from stratus_tui.api.errors import StratusError
from stratus_tui.commands import INTERRUPTED, CommandError, emit, say_error

if TYPE_CHECKING:
    from stratus_tui.cache.store import Cache
    from stratus_tui.cache.sync import SyncProgress, SyncResult
    from stratus_tui.commands.connect import Target

FAILED = 3
BAR = 20


def clock_text(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def progress_text(progress: SyncProgress, *, bar: bool) -> str:
    """One line: rows (of about how many), a bar on a terminal, rate and time left."""
    if progress.waiting:
        return "Another stratus-tui is syncing this cache; waiting for it to finish…"
    rows = f"{progress.rows:,}"
    expected = progress.expected
    parts = [f"History: {rows} of ~{expected:,} rows" if expected else f"History: {rows} rows"]
    if bar and progress.fraction is not None:
        filled = min(BAR, int(progress.fraction * BAR))
        parts.append(f"[{'#' * filled}{'.' * (BAR - filled)}] {progress.fraction:4.0%}")
    parts.append(f"{progress.rate:,.0f} rows/s")
    eta = progress.eta
    if eta is not None and progress.fraction is not None and progress.fraction < 1:
        parts.append(f"about {clock_text(eta)} left")
    return "  ".join(parts)


class ProgressLine:
    """Shows sync progress on ``stream``: in place on a terminal, else every few seconds."""

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.interval = 0.2 if self.tty else 5.0
        self.clock = clock
        self.shown_at: float | None = None
        self.drawn = False

    def __call__(self, progress: SyncProgress) -> None:
        now = self.clock()
        last = progress.fraction == 1.0
        if progress.waiting:
            self.finish()
            emit(progress_text(progress, bar=False) + "\n", self.stream)
            return
        if not self.tty and (last or self.shown_at is None):
            # Plain lines: one every few seconds, none at the end (the summary follows).
            self.shown_at = now if self.shown_at is None else self.shown_at
            return
        if not last and self.shown_at is not None and now - self.shown_at < self.interval:
            return
        self.shown_at = now
        text = progress_text(progress, bar=self.tty)
        if self.tty:
            emit(f"\r{text}\x1b[K", self.stream)
            self.drawn = True
        else:
            emit(text + "\n", self.stream)

    def finish(self) -> None:
        """End the line drawn in place, so what follows starts on its own line."""
        if self.drawn:
            emit("\n", self.stream)
            self.drawn = False


def summary(result: SyncResult, cache: Cache) -> str:
    rows = result.added + result.changed
    rate = f" ({rows / result.seconds:,.0f} rows/s)" if rows and result.seconds > 0 else ""
    size = sum(
        p.stat().st_size
        for p in (cache.path, cache.path.with_name(cache.path.name + "-wal"))
        if p.exists()
    )
    privacy = ""
    if result.privacy_purged or result.privacy_erased:
        privacy = (
            f"Following the server's data privacy: {result.privacy_purged:,} deleted "
            f"(its retention), {result.privacy_erased:,} anonymised (erasures)\n"
        )
    return (
        f"Synced {rows:,} conversation{'' if rows == 1 else 's'} in {result.seconds:.1f} s{rate}: "
        f"{result.added:,} new, {result.changed:,} changed, {result.pruned:,} pruned "
        f"(older than 4 months)\n"
        f"{privacy}"
        f"Cache {cache.path} ({size / 1_000_000:.1f} MB), cursor {result.cursor}\n"
    )


def run(
    *,
    profile: str | None,
    url: str | None,
    user: str | None,
    page_size: int,
    err: TextIO | None = None,
) -> int:
    """The whole command; returns the exit code. Never raises, never prints a traceback."""
    name = "sync"
    progress = ProgressLine(err or sys.stderr)
    try:
        from stratus_tui.cache.store import CacheError
        from stratus_tui.commands.connect import resolve_target

        target = resolve_target(profile=profile, url=url, user=user)
        for warning in target.warnings:
            say_error(name, f"warning: {warning}")
        try:
            cache, result = asyncio.run(_sync(target, page_size, progress))
        finally:
            progress.finish()
    except KeyboardInterrupt:
        say_error(name, "interrupted (what was stored is kept; the next sync resumes there)")
        return INTERRUPTED
    except (CommandError, StratusError, CacheError) as error:
        say_error(name, str(error))
        return FAILED
    except Exception as error:  # the last resort: one line, never a traceback
        say_error(name, f"unexpected error: {type(error).__name__}: {error}")
        return FAILED
    for notice in result.notices:
        say_error(name, f"note: {notice}")
    emit(summary(result, cache))
    return 0


async def _sync(target: Target, page_size: int, progress: ProgressLine) -> tuple[Cache, SyncResult]:
    from stratus_tui.cache.store import ADHOC_PROFILE, Cache
    from stratus_tui.cache.sync import sync_history
    from stratus_tui.commands.connect import signed_in

    async with signed_in(target) as client:
        me = await client.me()
        if me.role == "team_member":
            raise CommandError(
                f"{me.upn} is a team member: only administrators have conversation history to sync"
            )
        profile = target.profile or ADHOC_PROFILE
        cache = await asyncio.to_thread(Cache.open, profile, target.url, me.upn)
        if cache.notice:
            progress.finish()
            say_error("sync", f"note: {cache.notice}")
        try:
            result = await sync_history(
                client, cache, user=me, page_size=page_size, on_progress=progress
            )
        finally:
            cache.close()
    return cache, result
