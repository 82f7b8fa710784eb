"""Shared by the cache tests: sign in on the in-process server, sync, and check a cache."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from stratus_tui.api.client import StratusClient
from stratus_tui.cache.ingest import COLUMNS, retention_start
from stratus_tui.cache.rollup import LocalClock, contributions
from stratus_tui.cache.store import Cache
from stratus_tui.cache.sync import SyncResult, sync_history
from stratus_tui.server import db
from stratus_tui.server.seed import DEMO_PASSWORD
from tests.conftest import NOW

URL = "http://stratus.test"


@asynccontextmanager
async def signed_in(app: FastAPI, user: str) -> AsyncIterator[StratusClient]:
    async with StratusClient(URL, transport=httpx.ASGITransport(app=app)) as client:
        await client.login(user, DEMO_PASSWORD)
        yield client


async def sync_as(
    app: FastAPI, user: str, folder: Path, *, now: float = NOW, **options: Any
) -> tuple[Cache, SyncResult]:
    """Open ``user``'s cache under ``folder`` and sync it; the cache stays open."""
    async with signed_in(app, user) as client:
        me = await client.me()
        cache = Cache.open("test", URL, me.upn, folder=folder)
        result = await sync_history(client, cache, user=me, now=lambda: now, **options)
    return cache, result


def rollup_rows(connection: sqlite3.Connection) -> dict[tuple[Any, ...], tuple[int, ...]]:
    rows = connection.execute(
        "SELECT team_id, hour, kind, direction, direct, total, accepted, lost, voicemails,"
        " duration_sum, wait_sum FROM rollup"
    ).fetchall()
    return {tuple(row[:5]): tuple(row[5:]) for row in rows}


def zones(connection: sqlite3.Connection) -> tuple[dict[int, LocalClock], LocalClock]:
    import json

    text = connection.execute("SELECT value FROM state WHERE key = 'zones'").fetchone()[0]
    stored = json.loads(text)
    teams = {int(team): LocalClock(zone) for team, zone in stored["teams"].items()}
    return teams, LocalClock(stored["fallback"])


def check_consistent(cache: Cache) -> None:
    """The buckets equal a count over the stored rows; no duplicates; SQLite is happy."""
    with cache.read() as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = connection.execute(f"SELECT {COLUMNS} FROM conversation").fetchall()
        teams, fallback = zones(connection)
        expected = {
            key: tuple(counts)
            for key, counts in contributions(rows, teams, fallback).items()
            if counts[0]
        }
        assert rollup_rows(connection) == expected
        local = connection.execute(
            "SELECT count(*) FROM rollup WHERE total <= 0 OR local_hour NOT BETWEEN 0 AND 23"
        ).fetchone()[0]
        assert local == 0


def server_rows(where: str = "1", params: Iterable[Any] = ()) -> dict[int, tuple[Any, ...]]:
    """The server's conversations (bound peewee database) as cache rows by id."""
    connection = db.database.connection()
    found = connection.execute(
        f"SELECT {COLUMNS} FROM conversation WHERE {where}",
        list(params),
    ).fetchall()
    return {row[0]: tuple(row) for row in found}


def kept(rows: dict[int, tuple[Any, ...]], zone_of: Callable[[int], str], now: float) -> set[int]:
    """The ids of ``rows`` that retention keeps (each team's local month start)."""
    limits: dict[int, int] = {}
    result = set()
    for key, row in rows.items():
        team = row[3]
        if team not in limits:
            clock = LocalClock(zone_of(team))
            limits[team] = clock.hour_start(retention_start(zone_of(team), now))
        if row[9] >= limits[team]:
            result.add(key)
    return result


def cache_ids(cache: Cache) -> list[int]:
    with cache.read() as connection:
        return [row[0] for row in connection.execute("SELECT id FROM conversation ORDER BY id")]
