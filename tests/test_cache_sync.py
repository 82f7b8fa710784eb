"""History sync against the in-process reference server: scope, rollups, changes, retention."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from stratus_tui.api.client import StratusClient
from stratus_tui.api.errors import BadResponse
from stratus_tui.cache import ingest
from stratus_tui.cache.store import NOTICE_UNREADABLE, Cache
from stratus_tui.cache.sync import SyncProgress, sync_history
from stratus_tui.server import db
from stratus_tui.server.app import server_context
from stratus_tui.server.clock import FakeClock
from stratus_tui.server.seed import DEMO_PASSWORD
from stratus_tui.server.top_up import top_up_history
from tests.cache_helpers import (
    URL,
    cache_ids,
    check_consistent,
    kept,
    server_rows,
    sync_as,
)
from tests.conftest import ADMIN, NOW, SYSADMIN, TEAMADMIN, named

DAY = 86_400


@pytest.fixture
def app(server_app: FastAPI, server_db: Path, clock: FakeClock) -> FastAPI:
    server_app.state.context = server_context(clock=clock)
    return server_app


def team_zone(team: int) -> str:
    return str(db.Team.get_by_id(team).time_zone)


def tenant_rows(user: str) -> dict[int, tuple[object, ...]]:
    tenant = db.User.get(db.User.upn_key == user).tenant_id
    return server_rows("tenant_id = ?", [tenant])


async def test_the_first_sync_stores_the_users_history_with_exact_rollups(
    app: FastAPI, tmp_path: Path
) -> None:
    steps: list[SyncProgress] = []
    cache, result = await sync_as(app, ADMIN, tmp_path, page_size=2000, on_progress=steps.append)
    expected = tenant_rows(ADMIN)
    assert set(cache_ids(cache)) == kept(expected, team_zone, NOW)
    assert result.added + result.changed == len(expected) and result.changed == 0
    assert result.cursor == max(row[1] for row in expected.values()) == cache.cursor()
    assert result.pages == -(-len(expected) // 2000)
    assert cache.last_sync() == NOW
    check_consistent(cache)
    # Progress: rows rise, the fraction comes from latest_seq and ends at 1.
    assert [step.rows for step in steps] == sorted(step.rows for step in steps)
    assert steps[-1].fraction == 1.0 and steps[-1].rows == len(expected)
    assert all(step.fraction is not None and 0 < step.fraction <= 1 for step in steps)
    assert steps[0].expected is not None and steps[0].expected >= steps[0].rows
    # The teams are cached as entities, for the TUI to paint at once.
    teams, fetched_at = cache.get_entities("team")
    assert fetched_at == NOW and {json.loads(t)["tenant_id"] for t in teams.values()} == {
        db.User.get(db.User.upn_key == ADMIN).tenant_id
    }
    cache.close()


async def test_the_next_sync_fetches_only_what_is_new(app: FastAPI, tmp_path: Path) -> None:
    cache, _ = await sync_as(app, SYSADMIN, tmp_path)
    before = cache.cursor()
    added = top_up_history(NOW + 3 * 3600)  # three more hours of calls on the server
    assert added > 0
    _, result = await sync_as(app, SYSADMIN, tmp_path, now=NOW + 3 * 3600)
    assert result.added == added and result.changed == 0 and result.pages == 1
    assert result.cursor == before + added
    assert set(cache_ids(cache)) == kept(server_rows(), team_zone, NOW + 3 * 3600)
    check_consistent(cache)
    _, again = await sync_as(app, SYSADMIN, tmp_path, now=NOW + 3 * 3600)
    assert again.added == again.changed == 0 and again.cursor == result.cursor
    cache.close()


async def test_a_changed_record_moves_out_of_its_old_bucket(app: FastAPI, tmp_path: Path) -> None:
    cache, _ = await sync_as(app, ADMIN, tmp_path)
    tenant = db.User.get(db.User.upn_key == ADMIN).tenant_id
    record = (
        db.Conversation.select()
        .where(db.Conversation.tenant_id == tenant, db.Conversation.outcome == "accepted")
        .order_by(db.Conversation.id)
        .first()
    )
    newest = db.Conversation.select(db.Conversation.seq).order_by(-db.Conversation.seq).scalar()
    # A later correction: lost after all, five hours later, and so a new change sequence.
    db.Conversation.update(
        outcome="lost",
        agent_id=None,
        answered_at=None,
        duration_seconds=0,
        started_at=record.started_at + 5 * 3600,
        ended_at=record.ended_at + 5 * 3600,
        seq=newest + 1,
    ).where(db.Conversation.id == record.id).execute()
    _, result = await sync_as(app, ADMIN, tmp_path)
    assert (result.added, result.changed) == (0, 1)
    with cache.read() as connection:
        stored = connection.execute(
            "SELECT outcome, started_at, seq FROM conversation WHERE id = ?", (record.id,)
        ).fetchone()
    assert stored == ("lost", record.started_at + 5 * 3600, newest + 1)
    check_consistent(cache)
    cache.close()


async def test_retention_keeps_four_months_before_the_current_one(
    app: FastAPI, tmp_path: Path
) -> None:
    cache, first = await sync_as(app, SYSADMIN, tmp_path)
    assert first.pruned == len(server_rows()) - len(cache_ids(cache))  # before July 1 local
    later = NOW + 45 * DAY  # January 2027: the cache keeps September 1 onwards
    _, result = await sync_as(app, SYSADMIN, tmp_path, now=later)
    remaining = set(cache_ids(cache))
    assert result.pruned > 0
    assert remaining == kept(server_rows(), team_zone, later)
    for team in {row[3] for row in server_rows().values()}:
        start = ingest.retention_start(team_zone(team), later)
        with cache.read() as connection:
            oldest = connection.execute(
                "SELECT min(started_at), min(hour) FROM conversation JOIN rollup USING (team_id)"
                " WHERE team_id = ?",
                (team,),
            ).fetchone()
        assert oldest[0] >= start and oldest[1] >= start
    check_consistent(cache)
    cache.close()


class CorruptSecondPage(httpx.AsyncBaseTransport):
    """The server's answers, with the feed page after ``after`` broken (a kind it never had)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.after: int | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        after = request.url.params.get("after")
        if request.url.path.endswith("/conversations") and after == str(self.after):
            body = (await response.aread()).replace(b'"lost"', b'"gone"', 1)
            return httpx.Response(response.status_code, headers=response.headers, content=body)
        return response


async def test_a_malformed_page_writes_nothing_of_itself(app: FastAPI, tmp_path: Path) -> None:
    transport = CorruptSecondPage(httpx.ASGITransport(app=app))
    async with StratusClient(URL, transport=transport) as client:
        await client.login(ADMIN, DEMO_PASSWORD)
        first = await client.conversation_page(0, 1000)
        transport.after = first.next_cursor
        cache = Cache.open("test", URL, ADMIN, folder=tmp_path)
        with pytest.raises(BadResponse, match="does not match"):
            await sync_history(client, cache, page_size=1000, now=lambda: NOW)
    assert cache.cursor() == first.next_cursor
    assert cache_ids(cache) == sorted(row[0] for row in first.rows)
    check_consistent(cache)
    cache.close()


async def test_caches_are_partitioned_by_user(app: FastAPI, tmp_path: Path) -> None:
    admin, _ = await sync_as(app, ADMIN, tmp_path)
    team_admin, _ = await sync_as(app, TEAMADMIN, tmp_path)
    assert admin.path != team_admin.path and admin.path.parent == team_admin.path.parent
    assert "demo" not in admin.path.name and "admin" not in team_admin.path.name
    managed = {
        link.team_id
        for link in db.TeamManager.select().join(db.User).where(db.User.upn_key == TEAMADMIN)
    }
    with team_admin.read() as connection:
        teams = {row[0] for row in connection.execute("SELECT DISTINCT team_id FROM conversation")}
    assert teams == managed
    assert set(cache_ids(team_admin)) < set(cache_ids(admin))
    admin.close()
    team_admin.close()


async def test_a_changed_scope_fetches_the_history_anew(app: FastAPI, tmp_path: Path) -> None:
    cache, _ = await sync_as(app, TEAMADMIN, tmp_path)
    before = set(cache_ids(cache))
    extra = named(db.Team, "Billing")
    user = db.User.get(db.User.upn_key == TEAMADMIN)
    db.TeamManager.insert(user=user.id, team=extra).execute()
    _, result = await sync_as(app, TEAMADMIN, tmp_path)
    assert any("access changed" in notice for notice in result.notices)
    after = set(cache_ids(cache))
    billing = set(server_rows("team_id = ?", [extra]))
    assert after == before | billing and billing
    check_consistent(cache)
    cache.close()


async def test_a_server_with_older_history_is_synced_from_scratch(
    app: FastAPI, tmp_path: Path
) -> None:
    cache, first = await sync_as(app, ADMIN, tmp_path)
    cache.set_state({"cursor": first.cursor + 1_000_000})  # as if the server started over
    _, result = await sync_as(app, ADMIN, tmp_path)
    assert result.cursor == first.cursor and result.added == len(tenant_rows(ADMIN))
    assert cache.get_state("reset_reason") == "server"
    check_consistent(cache)
    cache.close()


async def test_a_team_moving_time_zone_gets_its_buckets_recounted(
    app: FastAPI, tmp_path: Path
) -> None:
    cache, _ = await sync_as(app, ADMIN, tmp_path)
    team = named(db.Team, "Support L1")
    db.Team.update(time_zone="Asia/Kolkata").where(db.Team.id == team).execute()
    _, result = await sync_as(app, ADMIN, tmp_path)
    assert any("time zone" in notice for notice in result.notices)
    with cache.read() as connection:
        minutes = connection.execute(
            "SELECT DISTINCT hour % 3600 FROM rollup WHERE team_id = ?", (team,)
        ).fetchall()
    assert minutes == [(1800,)]  # India is UTC+5:30: its hours start at half past
    check_consistent(cache)
    cache.close()


async def test_a_page_stored_by_someone_else_is_not_counted_twice(
    app: FastAPI, tmp_path: Path
) -> None:
    cache = Cache.open("test", URL, ADMIN, folder=tmp_path)
    async with StratusClient(URL, transport=httpx.ASGITransport(app=app)) as client:
        await client.login(ADMIN, DEMO_PASSWORD)
        page = await client.conversation_page(0, 500)
    clocks = ingest.Clocks.of({}, "Europe/Zurich")
    cache.set_state({"zones": {"teams": {}, "fallback": "Europe/Zurich"}})
    first = ingest.ingest_page(cache, page.rows, 0, page.next_cursor, clocks)
    second = ingest.ingest_page(cache, page.rows, 0, page.next_cursor, clocks)
    assert first.stored and first.added == 500
    assert not second.stored and second.cursor == page.next_cursor
    assert len(cache_ids(cache)) == 500
    check_consistent(cache)
    cache.close()


async def test_damage_found_during_a_sync_rebuilds_and_starts_again(
    app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ingest.ingest_page
    calls = {"n": 0}

    def failing_once(*args: object, **options: object) -> ingest.Ingested:
        calls["n"] += 1
        if calls["n"] == 2:
            raise sqlite3.DatabaseError("database disk image is malformed")
        return real(*args, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest, "ingest_page", failing_once)
    cache, result = await sync_as(app, ADMIN, tmp_path, page_size=3000)
    assert NOTICE_UNREADABLE in result.notices
    assert set(cache_ids(cache)) == kept(tenant_rows(ADMIN), team_zone, NOW)
    assert list(tmp_path.glob("test/*.broken-*"))  # noqa: ASYNC240 - a test, no event loop to spare
    check_consistent(cache)
    cache.close()
