"""Live Chat as SVG snapshots: the page with a conversation, the sidebar's unread count, and
Settings' "Features" with the live chat switch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from stratus_tui.app import StratusApp
from stratus_tui.screens.pages.settings import SettingsPage
from stratus_tui.server import db, support_bot
from stratus_tui.widgets.chat_log import ChatInput
from tests.conftest import ADMIN, MEMBER, NOW, user_id
from tests.tui import settle, sign_in, steady

SIZES = [(80, 24), (120, 40)]
HOUR = 3600
# (minutes before NOW, author, name, text): yesterday's exchange, then today's.
CONVERSATION = [
    (26 * 60, "user", "Amélie Dubois",
     "Bonjour! Since this morning my softphone says «no service» for every call."),
    (25 * 60, "support", "Søren Nørgaard",
     "Thanks Amélie, we restarted the SIP gateway in Zürich. Does it work now?"),
    (20, "user", "Amélie Dubois",
     "Yes, calls work again. One more thing: my 王 headset shows no battery level."),
    (5, "support", "IT Support", support_bot.REPLY),
]  # fmt: skip


@pytest.fixture(autouse=True)
def _steady(steady_screen: None) -> None:
    """Fixed clock, no cursor blink, UTC."""


@pytest.fixture
def conversation(server_db: object) -> None:
    member = db.User.get_by_id(user_id(MEMBER))
    for minutes, author, name, text in CONVERSATION:
        db.ChatMessage.create(
            tenant=member.tenant_id, user=member.id, author=author, author_name=name,
            text=text, sent_at=NOW - minutes * 60,
        )  # fmt: skip


def chat(typed: str = "") -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await sign_in(pilot, MEMBER)
        await settle(pilot)
        await pilot.press("5")
        await steady(pilot)
        if typed:
            pilot.app.screen.query_one(ChatInput).insert_text_at_cursor(typed)
            await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_a_conversation(
    snap_compare: Any,
    make_app: Callable[..., StratusApp],
    conversation: None,
    size: tuple[int, int],
) -> None:
    typed = "Merci beaucoup! The headset is a Jabra Evolve2 65."
    assert snap_compare(make_app(), terminal_size=size, run_before=chat(typed))


def test_an_empty_chat_near_the_limit(
    snap_compare: Any, make_app: Callable[..., StratusApp]
) -> None:
    """No messages yet, and 460 characters typed: the counter warns."""
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=chat("x" * 460))


def test_unread_replies_in_the_sidebar(
    snap_compare: Any, make_app: Callable[..., StratusApp], conversation: None
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        member = db.User.get_by_id(user_id(MEMBER))
        for text in ("Could you send a photo of the headset?", "Or its serial number."):
            db.ChatMessage.create(
                tenant=member.tenant_id, user=member.id, author="support",
                author_name="IT Support", text=text, sent_at=NOW,
            )  # fmt: skip
        await sign_in(pilot, MEMBER)
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_the_features_section(
    snap_compare: Any, make_app: Callable[..., StratusApp], size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await sign_in(pilot, ADMIN)
        await settle(pilot)
        await pilot.press("6")
        await steady(pilot)
        await pilot.app.screen.query_one(SettingsPage).open_section("features")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)
