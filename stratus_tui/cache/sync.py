"""History sync: the server's feed into the cache, incrementally, resumable, one at a time.

``sync_history`` first applies the server's privacy events (retention purges, erasures:
``cache.privacy``), then reads ``GET /conversations?after=CURSOR`` page by page from the
stored cursor and stores each page in one transaction (``ingest.ingest_page``). It fetches the
next page while the current one is being stored (in a worker thread, so the event loop
stays free for the UI), then prunes what fell out of the retention window.

Only one process syncs a cache at a time: an exclusive ``flock`` on ``<cache>.lock``,
waited for without blocking the event loop. The second process (a second SSH session of
the same admin) then continues from the cursor the first one stored. Even without the
lock nothing is counted twice: a page is stored only if the stored cursor is still the
one it was fetched after.

Progress: the feed gives no total, but each page carries ``latest_seq``, the newest change
in the caller's scope, so the share of the sequence range covered so far gives an honest
fraction, and from it the expected row count and the time left.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from stratus_tui.cache import ingest
from stratus_tui.cache.ingest import Clocks
from stratus_tui.cache.prefetch import Prefetcher
from stratus_tui.cache.privacy import follow_privacy
from stratus_tui.cache.store import NOTICE_UNREADABLE, Cache, is_corruption

if TYPE_CHECKING:
    from stratus_tui.api.client import StratusClient
    from stratus_tui.api.models import ConversationPage, CurrentUser

PAGE_SIZE = 10_000
LOCK_POLL = 0.1  # seconds between attempts to take another process's sync lock


@dataclass(frozen=True)
class SyncProgress:
    rows: int  # rows stored by this sync so far
    fraction: float | None  # share of the work done (None: not known yet)
    elapsed: float  # seconds since this sync started (after any wait for the lock)
    waiting: bool = False  # another process is syncing this cache: waiting for it

    @property
    def rate(self) -> float:
        return self.rows / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def expected(self) -> int | None:
        """The estimated number of rows this sync will store."""
        if not self.fraction:
            return None
        return max(self.rows, round(self.rows / self.fraction))

    @property
    def eta(self) -> float | None:
        """Seconds left, estimated (None until a page told how far there is to go)."""
        if not self.fraction or self.elapsed <= 0:
            return None
        return max(0.0, self.elapsed * (1 - self.fraction) / self.fraction)


@dataclass(frozen=True)
class SyncResult:
    added: int  # rows new to the cache
    changed: int  # stored rows replaced by a newer version
    pruned: int  # rows deleted as older than the retention window
    cursor: int
    pages: int
    seconds: float  # the sync itself, without waiting for the lock
    waited: float  # seconds spent waiting for another process's sync
    notices: tuple[str, ...] = ()  # worth telling the user (the cache was rebuilt...)
    # Rows the server's privacy events took away (retention purges) or anonymised (erasures).
    privacy_purged: int = 0
    privacy_erased: int = 0


Progress = Callable[[SyncProgress], None]


async def sync_history(
    client: StratusClient,
    cache: Cache,
    *,
    user: CurrentUser | None = None,
    page_size: int = PAGE_SIZE,
    now: Callable[[], float] = time.time,
    on_progress: Progress | None = None,
) -> SyncResult:
    """Bring the cache's history up to date with the server (see the module docstring).

    ``user`` is the signed-in user (``/auth/me`` is asked when not given). Raises the
    client's ``StratusError`` or ``store.CacheError``; what was stored stays stored.
    """
    from stratus_tui.api import models

    report = on_progress or (lambda progress: None)
    asked = time.monotonic()
    async with sync_lock(cache.lock_path, lambda: report(SyncProgress(0, None, 0.0, True))):
        waited = time.monotonic() - asked
        me = user or await client.me()
        # Teams give the time zones; services name the rows of the CSV and the lost-calls PDF.
        # Both at once; a refusal is reported as the teams' one, whichever came back first.
        answers = await asyncio.gather(
            client.get_all("/teams", models.Team, background=True),
            client.get_all("/services", models.Service, background=True),
            return_exceptions=True,
        )
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
        teams, services = cast(tuple[list[models.Team], list[models.Service]], tuple(answers))
        fetched_at = int(now())
        await asyncio.to_thread(
            cache.put_entities, "team", {str(t.id): t.model_dump_json() for t in teams}, fetched_at
        )
        await asyncio.to_thread(
            cache.put_entities,
            "service",
            {str(s.id): s.model_dump_json() for s in services},
            fetched_at,
        )
        clocks = Clocks.of({team.id: team.time_zone for team in teams}, me.time_zone or "UTC")
        try:
            notices = await asyncio.to_thread(_prepare, cache, me, clocks)
            followed = await follow_privacy(client, cache, clocks)
            result = await _pull(client, cache, clocks, page_size, report)
        except sqlite3.DatabaseError as error:
            if not is_corruption(error):
                raise
            # The file broke under us (disk trouble): start again on a new one, once.
            await asyncio.to_thread(cache.rebuild, NOTICE_UNREADABLE)
            notices = [NOTICE_UNREADABLE, *await asyncio.to_thread(_prepare, cache, me, clocks)]
            followed = await follow_privacy(client, cache, clocks)
            result = await _pull(client, cache, clocks, page_size, report)
        pruned = await asyncio.to_thread(ingest.prune, cache, clocks, now())
        await asyncio.to_thread(cache.set_state, {"last_sync": int(now())})
    return SyncResult(
        added=result.added,
        changed=result.changed,
        pruned=pruned,
        cursor=result.cursor,
        pages=result.pages,
        seconds=result.seconds,
        waited=waited,
        notices=tuple(notices),
        privacy_purged=followed.purged,
        privacy_erased=followed.erased,
    )


def scope_of(user: CurrentUser) -> str:
    """What decides which history the server sends this user (docs/architecture.md)."""
    if user.role == "system_admin":
        return "all"
    if user.role == "tenant_admin":
        return f"tenant:{user.tenant_id}"
    return "teams:" + ",".join(str(team) for team in sorted(user.team_ids))


def _prepare(cache: Cache, user: CurrentUser, clocks: Clocks) -> list[str]:
    """Before the pages: drop the history if the user's scope changed, recount buckets
    whose team changed time zone. Notices for the user."""
    notices = []
    scope = scope_of(user)
    stored = cache.get_state("scope")
    if stored is not None and stored != scope:
        ingest.reset_history(cache, "scope")
        notices.append("your access changed since the last sync: the history is fetched anew")
    cache.set_state({"scope": scope})
    moved = ingest.align_zones(cache, clocks)
    if moved:
        notices.append(f"{len(moved)} team(s) changed time zone: their figures were recounted")
    return notices


@dataclass
class _Pulled:
    added: int = 0
    changed: int = 0
    cursor: int = 0
    pages: int = 0
    seconds: float = 0.0


async def _pull(
    client: StratusClient, cache: Cache, clocks: Clocks, page_size: int, report: Progress
) -> _Pulled:
    """Fetch and store pages until the feed has no more.

    Pages are fetched ahead (``prefetch``). Parsing and storing are CPU work under the GIL
    and run in the worker thread one after the other, except that the next page is parsed
    while SQLite copies the current one's rows with the GIL released.
    """
    started = time.monotonic()
    done = _Pulled()
    after = await asyncio.to_thread(cache.cursor)
    first = latest = after
    ahead = Prefetcher(client, page_size)
    try:
        page = await asyncio.to_thread((await ahead.take(after)).decode)
        while True:
            if page.latest_seq is not None and page.latest_seq < after and not page.rows:
                # The server's history is older than ours: a new server database.
                await asyncio.to_thread(ingest.reset_history, cache, "server")
                after = first = latest = 0
                page = await asyncio.to_thread((await ahead.take(0)).decode)
                continue
            following = page.next_cursor if page.has_more else None
            if following is not None:
                ahead.want(following)
            stored = await asyncio.to_thread(
                ingest.ingest_page,
                cache,
                page.rows,
                after,
                page.next_cursor,
                clocks,
                None if following is None else functools.partial(_parse_ready, ahead, following),
            )
            if not stored.stored:
                # Another process stored pages meanwhile: go on from where it got to.
                after = stored.cursor
                page = await asyncio.to_thread((await ahead.take(after)).decode)
                continue
            done.added += stored.added
            done.changed += stored.changed
            done.pages += 1
            after = page.next_cursor
            latest = max(latest, page.latest_seq or 0, after)
            fraction = 1.0 if following is None else (after - first) / max(1, latest - first)
            report(SyncProgress(done.added + done.changed, fraction, time.monotonic() - started))
            if following is None:
                break
            if isinstance(stored.meanwhile, BaseException):
                raise stored.meanwhile
            if stored.meanwhile is not None:  # parsed in the worker while it stored this page
                ahead.taken(following)
                page = cast("ConversationPage", stored.meanwhile)
            else:
                page = await asyncio.to_thread((await ahead.take(following)).decode)
    finally:
        await ahead.close()
    done.cursor = after
    done.seconds = time.monotonic() - started
    return done


def _parse_ready(ahead: Prefetcher, after: int) -> ConversationPage | None:
    """In the worker thread: the page after ``after`` parsed, if it has arrived."""
    raw = ahead.ready(after)
    return None if raw is None else raw.decode()


@contextlib.asynccontextmanager
async def sync_lock(path: Path, on_wait: Callable[[], None] | None = None) -> AsyncIterator[None]:
    """Hold the exclusive sync lock of a cache; waits (politely) while another has it."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        told = False
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told and on_wait is not None:
                    on_wait()
                told = True
                await asyncio.sleep(LOCK_POLL)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def is_syncing(path: Path) -> bool:
    """True while some process holds the sync lock of the cache at ``path``."""
    lock = path.with_name(path.name + ".lock")
    try:
        descriptor = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False
