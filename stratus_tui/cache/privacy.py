"""The cache follows the server's privacy events: retention purges and erasures.

The history feed sends what is new or changed, never what was deleted, so a retention
purge on the server would leave its rows in every cache. The server therefore records each
purge and each erasure as an event (``GET /privacy/events?after=N``), and ``sync_history``
calls ``follow_privacy`` first: it reads the events after the last one applied (the
``privacy_event`` state key) and applies them all in ONE transaction with that key, so an
event is applied wholly or not at all, and never skipped:

- ``purge``: the tenant's rows that started before ``before`` are deleted and their
  contributions taken out of the hourly buckets (the same arithmetic as a changed row's,
  so the buckets still equal a count over the stored rows; emptied buckets go).
- ``erase``: those conversations' customer identifiers become ``ERASED_CUSTOMER``. The
  buckets hold no identifiers, so they stay as they are. (The server also gives the rows
  a new change sequence, so the feed brings them again, anonymised.)

A cache that never followed the events and holds no history (the first sync, a rebuilt or
reset cache) records the newest event id without applying anything: the history it is
about to fetch is the server's current one, purged and anonymised already. A cache that
holds history but no event id (written before this existed, or reset while following a
replaced server) applies every event from the first: applying one twice changes nothing.

A server that does not publish the events (404) is followed no further; anything else the
server answers stops the sync, as a failed feed page does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stratus_tui.api.errors import BadResponse, NotFound
from stratus_tui.api.models import ERASED_CUSTOMER, PRIVACY_EVENT_PAGE
from stratus_tui.cache.ingest import COLUMNS, DELETE_EMPTY, PRIVACY_STATE, Clocks, _add
from stratus_tui.cache.rollup import contributions
from stratus_tui.cache.store import Cache, set_state, team_ids

if TYPE_CHECKING:
    from stratus_tui.api.client import StratusClient
    from stratus_tui.api.models import PrivacyEvent

STATE_KEY = PRIVACY_STATE  # the id of the last privacy event applied (or skipped)


@dataclass(frozen=True)
class Followed:
    events: int  # events read
    purged: int  # cached conversations deleted by purges
    erased: int  # cached conversations anonymised by erasures
    last_id: int | None  # the event id stored afterwards (None: the server has no feed)
    applied: bool  # False: recorded the newest id without applying (nothing to apply to)


async def fetch_events(
    client: StratusClient, after: int, limit: int = PRIVACY_EVENT_PAGE
) -> tuple[list[PrivacyEvent], int]:
    """Every event after ``after`` (page by page) and the last id; raises ``NotFound`` when
    the server has no events feed."""
    from stratus_tui.api.models import PrivacyEventPage

    events: list[PrivacyEvent] = []
    while True:
        page = await client.get(
            "/privacy/events",
            PrivacyEventPage,
            params={"after": after, "limit": limit},
            background=True,
        )
        ids = [event.id for event in page.events]
        if ids != sorted(set(ids)) or (ids and (ids[0] <= after or page.last_id != ids[-1])):
            raise BadResponse(
                "The server's privacy events are out of order or repeated; "
                "the local cache was left as it was"
            )
        if page.last_id < after:
            raise BadResponse("The server's privacy events went backwards; nothing was applied")
        events.extend(page.events)
        after = page.last_id
        if len(page.events) < limit:
            return events, after


async def follow_privacy(client: StratusClient, cache: Cache, clocks: Clocks) -> Followed:
    """Apply the server's privacy events not applied yet (see the module docstring)."""
    import asyncio

    stored = await asyncio.to_thread(cache.get_state, STATE_KEY)
    after = int(stored) if stored is not None else 0
    try:
        events, last_id = await fetch_events(client, after)
    except NotFound:
        return Followed(0, 0, 0, None, False)
    return await asyncio.to_thread(apply_events, cache, events, stored, last_id, clocks)


def apply_events(
    cache: Cache,
    events: Sequence[PrivacyEvent],
    expected: str | None,
    last_id: int,
    clocks: Clocks,
) -> Followed:
    """Apply ``events`` and store ``last_id``, in one transaction; ``expected`` is the
    stored id they were fetched after (another process that applied them meanwhile wins)."""
    purged = erased = 0
    with cache.write() as connection:
        row = connection.execute("SELECT value FROM state WHERE key = ?", (STATE_KEY,)).fetchone()
        current = None if row is None else str(row[0])
        if current != expected:  # applied meanwhile by another process: leave it
            return Followed(len(events), 0, 0, None if current is None else int(current), False)
        empty = connection.execute("SELECT 1 FROM conversation LIMIT 1").fetchone() is None
        apply = not (expected is None and empty)
        if apply:
            for event in events:
                if event.kind == "purge" and event.before is not None:
                    before = int(event.before.timestamp())
                    purged += purge(connection, event.tenant_id, before, clocks)
                elif event.kind == "erase" and event.conversation_ids:
                    erased += erase(connection, event.conversation_ids)
        set_state(connection, {STATE_KEY: last_id})
    return Followed(len(events), purged, erased, last_id, apply)


def purge(connection: sqlite3.Connection, tenant_id: int, before: int, clocks: Clocks) -> int:
    """Delete the tenant's rows that started before ``before``, their contributions taken
    out of the buckets (in the caller's transaction); how many rows went."""
    deleted = 0
    for team in team_ids(connection, "conversation"):
        rows: list[Any] = connection.execute(
            f"SELECT {COLUMNS} FROM conversation "  # noqa: S608
            "WHERE team_id = ? AND started_at < ? AND tenant_id = ?",
            (team, before, tenant_id),
        ).fetchall()
        if not rows:
            continue
        removed = contributions(rows, clocks.teams, clocks.fallback)
        _add(connection, removed, clocks, -1)
        connection.executemany(DELETE_EMPTY, list(removed))
        connection.execute(
            "DELETE FROM conversation WHERE team_id = ? AND started_at < ? AND tenant_id = ?",
            (team, before, tenant_id),
        )
        deleted += len(rows)
    return deleted


def erase(connection: sqlite3.Connection, ids: Sequence[int]) -> int:
    """Give those stored conversations the erased placeholder; how many were stored."""
    import json

    cursor = connection.execute(
        "UPDATE conversation SET customer_id = ? "
        "WHERE id IN (SELECT value FROM json_each(?)) AND customer_id != ?",
        (ERASED_CUSTOMER, json.dumps(list(ids)), ERASED_CUSTOMER),
    )
    return max(cursor.rowcount, 0)
