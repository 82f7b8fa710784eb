"""Writing history into the cache: a page per transaction, rollups kept exact, retention.

Every page of the feed is stored in ONE ``BEGIN IMMEDIATE`` transaction that checks the
stored cursor, replaces the rows, moves the hourly buckets (``rollup.contributions``
through ``schema.UPSERT_ROLLUP``) and advances the cursor. So whatever stops a sync (quit,
``kill -9``, a dropped network) leaves pages either wholly stored or not at all, and the
next sync resumes from the last stored cursor.

A row that is already stored (the server gave it a new ``seq`` because it changed) first
takes its old contribution back out (negative counts through the same upsert), then adds
the new one, so the buckets always equal a count over the stored rows. Buckets left empty
are deleted.

Rows are lists or tuples in ``CONVERSATION_FIELDS`` order, the table's column order.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, islice
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from stratus_tui.api.errors import BadResponse
from stratus_tui.cache.rollup import BucketKey, Counts, LocalClock, contributions, known_zone
from stratus_tui.cache.schema import UPSERT_ROLLUP
from stratus_tui.cache.store import Cache, set_state, team_ids

COLUMNS = (
    "id, seq, tenant_id, team_id, service_id, agent_id, kind, direction, direct, started_at, "
    "answered_at, ended_at, outcome, wait_seconds, duration_seconds, voicemail, customer_id"
)
INSERT = f"INSERT OR REPLACE INTO conversation ({COLUMNS}) VALUES ({', '.join('?' * 17)})"  # noqa: S608
_ROW = f"({', '.join('?' * 17)})"
STAGE = f"INSERT INTO temp.staging ({COLUMNS}) VALUES {_ROW}"  # noqa: S608
STAGE_ROWS = 50  # 850 values per statement: within SQLite's oldest limit of 999
STAGE_MANY = f"INSERT INTO temp.staging ({COLUMNS}) VALUES {', '.join([_ROW] * STAGE_ROWS)}"  # noqa: S608
COPY = f"INSERT OR REPLACE INTO conversation ({COLUMNS}) SELECT {COLUMNS} FROM temp.staging"  # noqa: S608
DELETE_EMPTY = (
    "DELETE FROM rollup WHERE team_id = ? AND hour = ? AND kind = ? AND direction = ? "
    "AND direct = ? AND total = 0"
)
RETENTION_MONTHS = 4
# The id of the last privacy event applied (cache/privacy.py); a reset forgets it, as the
# history fetched next is the server's current one, and a replaced server numbers anew.
PRIVACY_STATE = "privacy_event"
_ID = itemgetter(0)


@dataclass
class Clocks:
    """Each team's local clock; ``fallback`` (the user's zone) for teams not known."""

    teams: dict[int, LocalClock] = field(default_factory=dict)
    fallback: LocalClock = field(default_factory=lambda: LocalClock("UTC"))

    @classmethod
    def of(cls, zones: dict[int, str], fallback: str) -> Clocks:
        """Clocks for ``zones`` (team -> zone name); a name the tz database does not know
        (the server's text is not trusted) counts as the fallback zone, itself UTC then."""
        default = LocalClock(fallback if known_zone(fallback) else "UTC")
        teams = {team: LocalClock(zone) for team, zone in zones.items() if known_zone(zone)}
        return cls(teams, default)

    def zone_of(self, team: int) -> str:
        return str(self.teams.get(team, self.fallback).zone.key)


@dataclass(frozen=True)
class Ingested:
    stored: bool  # False: the stored cursor was not the page's start (someone else's page)
    added: int  # rows new to the cache
    changed: int  # rows that replaced a stored version of themselves
    cursor: int  # the stored cursor afterwards
    meanwhile: object = None  # what ``meanwhile()`` returned (or raised), if it ran


def ingest_page(
    cache: Cache,
    rows: Sequence[Sequence[Any]],
    after: int,
    next_cursor: int,
    clocks: Clocks,
    meanwhile: Callable[[], Any] | None = None,
) -> Ingested:
    """Store one page fetched with ``after`` (one transaction; see the module docstring).

    ``meanwhile`` is other CPU work (the sync parses the next page) run while SQLite moves
    this page's rows with the GIL released; its result is ``Ingested.meanwhile``.
    """
    ids = list(map(_ID, rows))
    if len(set(ids)) != len(ids):  # one record twice in a page: its last version counts
        rows = list({row[0]: row for row in rows}.values())
        ids = list(map(_ID, rows))
    with cache.write() as connection:
        stored = int(_state(connection, "cursor") or 0)
        if stored != after:
            return Ingested(False, 0, 0, stored)
        changed, extra = 0, None
        if rows:
            newest = connection.execute("SELECT max(id) FROM conversation").fetchone()[0] or 0
            old: list[Any] = []
            if min(ids) <= newest:  # only ids up to the newest stored one can be stored
                known = json.dumps([i for i in ids if i <= newest])
                old = connection.execute(
                    f"SELECT {COLUMNS} FROM conversation "  # noqa: S608
                    "WHERE id IN (SELECT value FROM json_each(?))",
                    (known,),
                ).fetchall()
            removed = contributions(old, clocks.teams, clocks.fallback) if old else {}
            _add(connection, removed, clocks, -1)
            buckets, extra = _store_rows(connection, rows, clocks, meanwhile)
            _add(connection, buckets, clocks, 1)
            connection.executemany(DELETE_EMPTY, list(removed))
            changed = len(old)
        set_state(connection, {"cursor": next_cursor})
    return Ingested(True, len(rows) - changed, changed, next_cursor, extra)


def _store_rows(
    connection: sqlite3.Connection,
    rows: Sequence[Sequence[Any]],
    clocks: Clocks,
    meanwhile: Callable[[], Any] | None,
) -> tuple[dict[BucketKey, Counts], Any]:
    """Insert ``rows`` (replacing stored versions) and return their contributions.

    The rows go to a constraint-free temporary table first (cheap to bind), then into
    ``conversation`` with one ``INSERT ... SELECT``: a single SQLite step that releases the
    GIL for all its B-tree and index work. Meanwhile this thread computes the rollup
    contributions, so the two overlap (on another core) instead of adding up.
    """
    connection.execute(f"CREATE TEMP TABLE IF NOT EXISTS staging ({COLUMNS})")
    whole = len(rows) - len(rows) % STAGE_ROWS
    try:
        # STAGE_ROWS rows per statement: binding is per value anyway, but the per-statement
        # cost (reset, step, GIL release and retake) is paid once for them all.
        connection.executemany(
            STAGE_MANY,
            [
                tuple(chain.from_iterable(rows[i : i + STAGE_ROWS]))
                for i in range(0, whole, STAGE_ROWS)
            ],
        )
        connection.executemany(STAGE, rows[whole:])
    except OverflowError:
        raise BadResponse(
            "The server's history holds a number too large to store; nothing was kept of that page"
        ) from None
    copy = _copier().submit(connection.execute, COPY)
    try:
        buckets = contributions(rows, clocks.teams, clocks.fallback)
        extra = None if meanwhile is None else _call(meanwhile)
    finally:
        copy.result()  # the connection is ours again only when the copy is done
    connection.execute("DELETE FROM temp.staging")
    return buckets, extra


def _call(function: Callable[[], object]) -> object:
    """``function()``, or the exception it raised: it is the caller's, not this page's."""
    try:
        return function()
    except Exception as error:
        return error


@functools.cache
def _copier() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="cache-copy")


def _add(
    connection: sqlite3.Connection,
    buckets: dict[BucketKey, Counts],
    clocks: Clocks,
    sign: int,
) -> None:
    """Add (``sign`` 1) or take out (-1) contributions to the hourly buckets."""
    rows = []
    for key, counts in buckets.items():
        team, hour = key[0], key[1]
        local = clocks.teams.get(team, clocks.fallback).describe(hour)
        rows.append((*key, *local, *(sign * count for count in counts)))
    connection.executemany(UPSERT_ROLLUP, rows)


def _state(connection: sqlite3.Connection, key: str) -> str | None:
    row = connection.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def reset_history(cache: Cache, reason: str) -> None:
    """Drop the stored history and its buckets: the next pages start from the beginning."""
    with cache.write() as connection:
        connection.execute("DELETE FROM conversation")
        connection.execute("DELETE FROM rollup")
        set_state(connection, {"cursor": 0, "reset_reason": reason, PRIVACY_STATE: None})


def rebuild_rollups(cache: Cache, teams: Iterable[int], clocks: Clocks, batch: int = 50_000) -> int:
    """Recount the buckets of ``teams`` from their stored rows (their time zone changed)."""
    chosen = sorted(set(teams))
    counted = 0
    with cache.write() as connection:
        for team in chosen:
            connection.execute("DELETE FROM rollup WHERE team_id = ?", (team,))
            rows = connection.execute(
                f"SELECT {COLUMNS} FROM conversation WHERE team_id = ?",  # noqa: S608
                (team,),
            )
            while chunk := list(islice(rows, batch)):
                _add(connection, contributions(chunk, clocks.teams, clocks.fallback), clocks, 1)
                counted += len(chunk)
    return counted


def retention_start(time_zone: str, now: float, months: int = RETENTION_MONTHS) -> int:
    """Local midnight, in ``time_zone``, of the first day of the month ``months`` before
    ``now``'s month: the oldest moment the cache keeps (epoch seconds)."""
    zone = ZoneInfo(time_zone)
    local = datetime.fromtimestamp(now, zone)
    index = local.year * 12 + local.month - 1 - months
    return int(datetime(index // 12, index % 12 + 1, 1, tzinfo=zone).timestamp())


def prune(cache: Cache, clocks: Clocks, now: float) -> int:
    """Delete rows and buckets older than each team's retention start; rows deleted.

    Each team's limit is its own local midnight (the user's zone for unknown teams),
    moved to the start of its local hour, so a bucket goes exactly with its rows. Index
    lookups per team: cheap enough to run after every sync.
    """
    deleted = 0
    with cache.write() as connection:
        teams = set(team_ids(connection, "conversation")) | set(team_ids(connection, "rollup"))
        for team in sorted(teams):
            clock = clocks.teams.get(team, clocks.fallback)
            limit = clock.hour_start(retention_start(str(clock.zone.key), now))
            cursor = connection.execute(
                "DELETE FROM conversation WHERE team_id = ? AND started_at < ?", (team, limit)
            )
            deleted += max(cursor.rowcount, 0)
            connection.execute("DELETE FROM rollup WHERE team_id = ? AND hour < ?", (team, limit))
    return deleted


def align_zones(cache: Cache, clocks: Clocks) -> list[int]:
    """Before ingesting: recount the buckets of stored teams whose time zone changed since
    they were counted, then record the zones this sync counts in. The teams recounted."""
    with cache.read() as connection:
        teams = team_ids(connection, "rollup")
    moved: list[int] = []
    text = cache.get_state("zones")
    if text is not None:
        before = json.loads(text)
        known, fallback = before["teams"], before["fallback"]
        moved = [team for team in teams if known.get(str(team), fallback) != clocks.zone_of(team)]
        if moved:
            rebuild_rollups(cache, moved, clocks)
    zones = {str(team): str(clock.zone.key) for team, clock in clocks.teams.items()}
    cache.set_state({"zones": {"teams": zones, "fallback": str(clocks.fallback.zone.key)}})
    return moved
