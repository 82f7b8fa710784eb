"""Reading the history feed fast (``api/feed.py``): every cell checked, hostile pages refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from stratus_tui.api import models as m
from stratus_tui.api.answers import Answer
from stratus_tui.api.client import StratusClient
from stratus_tui.api.errors import BadResponse
from stratus_tui.api.feed import decode_page
from stratus_tui.cache.prefetch import peek_next
from stratus_tui.server import db
from stratus_tui.server.app import server_context
from stratus_tui.server.clock import FakeClock
from stratus_tui.server.seed import DEMO_PASSWORD
from tests.conftest import ADMIN, SYSADMIN, TEAMADMIN

FIELDS = list(m.CONVERSATION_FIELDS)
ROW: list[Any] = [
    *(7, 12, 1, 3, 4, None, "call", "inbound", False, 1_780_000_000, None),
    *(1_780_000_050, "lost", 50, 0, True, "+41791234567"),
]


def answer(body: bytes | str, content_type: str = "application/json") -> Answer:
    raw = body.encode() if isinstance(body, str) else body
    return Answer("GET /conversations", 200, httpx.Headers({"content-type": content_type}), raw)


def page_body(rows: list[list[Any]], **extra: Any) -> str:
    document = {
        "fields": FIELDS,
        "rows": rows,
        "next_cursor": rows[-1][1] if rows else 0,
        "has_more": False,
        "latest_seq": 99,
    }
    document.update(extra)
    return json.dumps(document)


def decode(body: bytes | str, after: int = 0) -> m.ConversationPage:
    return decode_page(answer(body), "http://stratus.test", after)


def test_a_page_is_read_with_tuples_in_field_order() -> None:
    second = [*ROW[:2], *ROW[2:]]
    second[0], second[1] = 8, 13
    page = decode(page_body([ROW, second], has_more=True))
    assert page.fields == FIELDS
    assert page.rows == [tuple(ROW), tuple(second)]
    assert page.next_cursor == 13 and page.has_more and page.latest_seq == 99
    assert isinstance(page.rows[0][8], bool) and page.rows[0][5] is None


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("id", "7"),  # a string where an int belongs
        ("team_id", 3.0),  # a float
        ("started_at", True),  # a bool is not an int
        ("kind", "fax"),  # not one of the kinds
        ("direction", None),
        ("outcome", "maybe"),
        ("direct", 0),  # an int is not a bool
        ("customer_id", 41791234567),
    ],
)
def test_a_cell_of_the_wrong_type_refuses_the_page(column: str, value: Any) -> None:
    row = list(ROW)
    row[FIELDS.index(column)] = value
    with pytest.raises(BadResponse, match="does not match"):
        decode(page_body([row]))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (page_body([ROW[:-1]]), "does not match"),  # a short row
        (page_body([[*ROW, "extra"]]), "does not match"),  # a long row
        (page_body([ROW]).replace('"next_cursor"', '"next_cursor": 12, "next_cursor"'), "twice"),
        (page_body([ROW]).replace('"latest_seq": 99', '"latest_seq": NaN'), "valid integer"),
        (page_body([ROW]).replace("+41791234567", "\\ud800"), "not valid JSON"),
        ('{"fields": [], "rows": ' + "[" * 3000 + "]" * 3000 + "}", "not valid JSON|deeply"),
        ("[]", "does not match"),
        (page_body([], has_more=True), "has_more"),
        (page_body([ROW], next_cursor=5), "before the last row"),
    ],
)
def test_malformed_pages_are_refused_with_one_sentence(body: str, message: str) -> None:
    with pytest.raises(BadResponse, match=message):
        decode(body)


def test_rows_must_come_after_the_cursor_and_in_order() -> None:
    with pytest.raises(BadResponse, match="not after the cursor"):
        decode(page_body([ROW]), after=12)
    later = list(ROW)
    later[1] = 11
    with pytest.raises(BadResponse, match="seq order"):
        decode(page_body([ROW, later]))


def test_html_and_other_media_types_are_refused() -> None:
    with pytest.raises(BadResponse, match="HTML"):
        decode_page(answer("<html>login</html>", "text/html"), "http://x", 0)
    with pytest.raises(BadResponse, match="instead of JSON"):
        decode_page(answer(page_body([ROW]), "text/plain"), "http://x", 0)
    with pytest.raises(BadResponse, match="empty"):
        decode_page(answer(b"  "), "http://x", 0)


def test_a_newer_server_with_more_columns_in_another_order_is_read_by_name() -> None:
    fields = ["region", *reversed(FIELDS)]
    row = ["emea", *reversed(ROW)]
    page = decode(
        json.dumps({"fields": fields, "rows": [row], "next_cursor": 12, "has_more": False})
    )
    assert page.fields == FIELDS and page.rows == [tuple(ROW)] and page.latest_seq is None
    missing = [name for name in fields if name != "outcome"]
    body = json.dumps({"fields": missing, "rows": [], "next_cursor": 0, "has_more": False})
    with pytest.raises(BadResponse, match="missing outcome"):
        decode(body)


def test_escaped_text_still_gets_the_strict_key_check() -> None:
    row = list(ROW)
    row[-1] = "caf\u00e9 \u2603"
    body = page_body([row]).replace('"fields"', '"fi\\u0065lds"')
    assert decode(body).rows[0][-1] == "café ☃"
    twice = body.replace('"rows"', '"rows": [], "r\\u006fws"')
    with pytest.raises(BadResponse, match="twice"):
        decode(twice)


def test_the_next_cursor_is_peeked_from_the_tail() -> None:
    from stratus_tui.api.feed import RawPage

    body = page_body([ROW], has_more=True).replace(" ", "")
    assert peek_next(RawPage(answer(body), "x", 0)) == 12
    assert peek_next(RawPage(answer(page_body([ROW])), "x", 0)) is None  # the last page


async def test_the_client_reads_the_servers_pages_with_latest_seq(
    server_app: FastAPI, server_db: Path, clock: FakeClock
) -> None:
    server_app.state.context = server_context(clock=clock)
    transport = httpx.ASGITransport(app=server_app)
    for user, count in ((SYSADMIN, db.Conversation.select().count()), (ADMIN, None)):
        async with StratusClient("http://stratus.test", transport=transport) as client:
            await client.login(user, DEMO_PASSWORD)
            page = await client.conversation_page(0, 500)
            assert len(page.rows) == 500 and page.has_more
            assert all(isinstance(row, tuple) for row in page.rows)
            if count is not None:
                assert page.latest_seq == db.Conversation.select().count() == count
            whole = await client.conversation_page(page.latest_seq or 0)
            assert whole.rows == [] and not whole.has_more
    async with StratusClient("http://stratus.test", transport=transport) as client:
        await client.login(TEAMADMIN, DEMO_PASSWORD)
        page = await client.conversation_page(0, 10_000)
        teams = {row[3] for row in page.rows}
        newest = max(row[1] for row in page.rows)
        assert page.latest_seq == newest and not page.has_more
        managed = db.TeamManager.select().join(db.User).where(db.User.upn_key == TEAMADMIN)
        assert teams == {link.team_id for link in managed}
