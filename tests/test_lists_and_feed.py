"""Paged lists with filters, and the conversation feed with its monotonic cursor."""

from __future__ import annotations

from typing import Any

import httpx

from stratus_tui.api import models as m
from stratus_tui.server import db
from tests.conftest import ADMIN, SYSADMIN, TEAMADMIN, Login, named


async def collect(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    """Every item of a list, following next_cursor page by page."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        answer = await client.get(path, params=query, headers=headers)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_pages_cover_every_item_once(client: httpx.AsyncClient, login: Login) -> None:
    headers = await login(ADMIN)
    users = await collect(client, "/users", headers, limit=17)
    ids = [user["id"] for user in users]
    assert len(ids) == len(set(ids))
    demo = named(db.Tenant, "Demo Corp")
    assert len(ids) == db.User.select().where(db.User.tenant == demo).count()
    first = (await client.get("/users", params={"limit": 17}, headers=headers)).json()
    assert first["total"] == len(ids)


async def test_a_bad_cursor_is_400(client: httpx.AsyncClient, login: Login) -> None:
    answer = await client.get("/users", params={"cursor": "abc"}, headers=await login(ADMIN))
    assert answer.status_code == 400


async def test_limit_is_bounded(client: httpx.AsyncClient, login: Login) -> None:
    answer = await client.get("/users", params={"limit": 5000}, headers=await login(ADMIN))
    assert answer.status_code == 422


async def test_search_folds_case_beyond_ascii(client: httpx.AsyncClient, login: Login) -> None:
    headers = await login(ADMIN)
    for query in ("zoë", "ZOË", "müller", "łukasz"):
        found = (await client.get("/users", params={"q": query}, headers=headers)).json()["items"]
        assert found, query
        assert all(
            query.casefold() in f"{u['first_name']} {u['last_name']} {u['upn']}".casefold()
            for u in found
        )


async def test_filters_combine_with_the_scope(client: httpx.AsyncClient, login: Login) -> None:
    headers = await login(TEAMADMIN)
    l1, sales = named(db.Team, "Support L1"), named(db.Team, "Sales Switzerland")
    mine = (
        await client.get("/users", params={"team_id": l1, "limit": 1000}, headers=headers)
    ).json()
    assert mine["items"] and all(l1 in user["team_ids"] for user in mine["items"])
    other = (await client.get("/users", params={"team_id": sales}, headers=headers)).json()
    assert all(
        set(user["team_ids"]) & {l1, named(db.Team, "Support L2")} for user in other["items"]
    )


async def feed(
    client: httpx.AsyncClient, headers: dict[str, str], after: int = 0, **params: Any
) -> m.ConversationPage:
    answer = await client.get("/conversations", params={"after": after, **params}, headers=headers)
    assert answer.status_code == 200, answer.text
    return m.ConversationPage.model_validate_json(answer.content)


async def test_feed_pages_follow_the_cursor_in_seq_order(
    client: httpx.AsyncClient, login: Login
) -> None:
    headers = await login(SYSADMIN)
    seen: list[int] = []
    cursor = 0
    while True:
        page = await feed(client, headers, cursor, limit=3000)
        assert page.fields == list(m.CONVERSATION_FIELDS)
        seqs = [row[1] for row in page.rows]
        assert seqs == sorted(seqs) and (not seqs or seqs[0] > cursor)
        seen.extend(seqs)
        assert page.next_cursor >= cursor
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert len(seen) == len(set(seen)) == db.Conversation.select().count()
    empty = await feed(client, headers, cursor)
    assert empty.rows == [] and empty.next_cursor == cursor and not empty.has_more


async def test_feed_rows_are_typed_conversations(client: httpx.AsyncClient, login: Login) -> None:
    page = await feed(client, await login(SYSADMIN), limit=500)
    for row in page.rows:
        conversation = m.Conversation.model_validate(dict(zip(page.fields, row, strict=True)))
        assert isinstance(conversation.direct, bool)
        assert conversation.ended_at >= conversation.started_at
        stored = db.Conversation.get_by_id(conversation.id)
        assert conversation.customer_id == stored.customer_id


async def test_feed_returns_only_what_is_new_after_the_cursor(
    client: httpx.AsyncClient, login: Login
) -> None:
    headers = await login(ADMIN)
    page = await feed(client, headers, limit=10_000)
    while page.has_more:
        page = await feed(client, headers, page.next_cursor, limit=10_000)
    latest = db.Conversation.select().order_by(db.Conversation.seq.desc()).first()
    demo = named(db.Tenant, "Demo Corp")
    row = db.Conversation.get(db.Conversation.tenant_id == demo)
    # A change (as an erasure makes) moves the record to the head of the feed.
    db.Conversation.update(seq=latest.seq + 1, customer_id="erased").where(
        db.Conversation.id == row.id
    ).execute()
    news = await feed(client, headers, page.next_cursor)
    assert [r[0] for r in news.rows] == [row.id]
    assert news.rows[0][-1] == "erased"


async def test_feed_is_scoped_to_the_callers_teams(client: httpx.AsyncClient, login: Login) -> None:
    headers = await login(TEAMADMIN)
    page = await feed(client, headers, limit=10_000)
    managed = {named(db.Team, "Support L1"), named(db.Team, "Support L2")}
    team_column = page.fields.index("team_id")
    assert page.rows and {row[team_column] for row in page.rows} <= managed
    total = db.Conversation.select().where(db.Conversation.team_id.in_(sorted(managed))).count()
    seen = len(page.rows)
    while page.has_more:
        page = await feed(client, headers, page.next_cursor, limit=10_000)
        seen += len(page.rows)
    assert seen == total


async def test_feed_limit_is_bounded(client: httpx.AsyncClient, login: Login) -> None:
    answer = await client.get(
        "/conversations", params={"limit": 10_001}, headers=await login(ADMIN)
    )
    assert answer.status_code == 422


async def test_license_counts_agents_and_supervisors(
    client: httpx.AsyncClient, login: Login
) -> None:
    licenses = (await client.get("/license", headers=await login(ADMIN))).json()
    assert [item["tenant_name"] for item in licenses] == ["Demo Corp"]
    demo = licenses[0]
    assert 0 < demo["agents_configured"] <= demo["agents_allowed"]
    assert 0 < demo["supervisors_configured"] <= demo["supervisors_allowed"]


async def test_license_usage_is_scoped_and_filtered_by_date(
    client: httpx.AsyncClient, login: Login
) -> None:
    headers = await login(TEAMADMIN)
    page = (
        await client.get(
            "/license-usage",
            params={"date_from": "2026-11-01", "date_to": "2026-11-07", "limit": 1000},
            headers=headers,
        )
    ).json()
    assert page["items"]
    assert {item["date"] for item in page["items"]} <= {f"2026-11-0{day}" for day in range(1, 8)}
    assert {item["ou_name"] for item in page["items"]} == {"Customer Support"}
