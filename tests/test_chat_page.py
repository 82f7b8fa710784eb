"""Live Chat against the reference server: the page, the sidebar's unread count, the
tenant's switch in Settings, and the demo's automatic IT support."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Switch

from stratus_tui.api.errors import ServerUnreachable
from stratus_tui.app import StratusApp
from stratus_tui.records import chat
from stratus_tui.records.setup import steps
from stratus_tui.screens.pages.chat import ChatPage
from stratus_tui.screens.pages.settings import SettingsPage
from stratus_tui.server import db, support_bot
from stratus_tui.text import clean
from stratus_tui.widgets.chat_log import EMPTY, ChatBubble, ChatInput, ChatLog
from stratus_tui.widgets.sidebar import Sidebar
from tests.conftest import CONTOSO_ADMIN, MEMBER, NOW, TEAMADMIN, Login, user_id
from tests.hostile import HOSTILE, UNSTORABLE
from tests.tui import open_settings, settle, sidebar_entries, sign_in

HOSTILE_CASES = sorted(set(HOSTILE) - UNSTORABLE)


@pytest.fixture
def support_says(client: httpx.AsyncClient, login: Login) -> Callable[[str, str], Any]:
    """IT support answers ``upn``'s chat through the server's support route."""

    async def answer(upn: str, text: str) -> None:
        headers = await login("sysadmin@demo.stratus")
        sent = await client.post(
            f"/support/chats/{user_id(upn)}/messages", json={"text": text}, headers=headers
        )
        assert sent.status_code == 201, sent.text

    return answer


def stored(upn: str, author: str, text: str, name: str = "IT Support", at: int = NOW) -> None:
    """A message written straight into the server's database (any text, any name)."""
    user = db.User.get_by_id(user_id(upn))
    db.ChatMessage.create(
        tenant=user.tenant_id, user=user.id, author=author, author_name=name, text=text, sent_at=at
    )


def pairs(items: list[Any]) -> list[tuple[Any, Any]]:
    return list(zip(items[::2], items[1::2], strict=True))


def chat_page(app: StratusApp) -> ChatPage:
    return app.screen.query_one(ChatPage)


def bubbles(app: StratusApp) -> list[str]:
    return [bubble.visual.plain for bubble in app.screen.query(ChatBubble)]  # type: ignore[union-attr]


def chat_label(app: StratusApp) -> str:
    return str(app.screen.query_one(Sidebar).get_option("chat").prompt)


async def open_chat(pilot: Pilot[Any], user: str = MEMBER) -> ChatPage:
    await sign_in(pilot, user)
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot)
    return chat_page(pilot.app)


# --- the rules, without a UI ---------------------------------------------------------------


def test_the_counter_warns_near_the_limit() -> None:
    assert chat.counter(0) == ("0/500", "ok")
    assert chat.counter(449) == ("449/500", "ok")
    assert chat.counter(450) == ("450/500", "near")
    assert chat.counter(500) == ("500/500", "full")


def test_times_read_in_the_users_zone_with_the_day_when_not_today() -> None:
    zurich = ZoneInfo("Europe/Zurich")
    sent = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert chat.when(sent, zurich, date(2026, 11, 22)) == "13:00"
    assert chat.when(sent, zurich, date(2026, 11, 23)) == "22 Nov 13:00"
    assert chat.when(sent, zurich, date(2027, 1, 2)) == "22 Nov 2026 13:00"
    assert chat.zone_of("Not/AZone") is None and chat.zone_of("UTC") is not None


def test_unread_counts_supports_messages_after_the_last_seen() -> None:
    def message(id: int, author: str) -> Any:
        return chat.models.ChatMessage(
            id=id, user_id=1, author=author, author_name="x", text="t",
            sent_at=datetime(2026, 1, 1, tzinfo=UTC),
        )  # fmt: skip

    found = [message(1, "user"), message(2, "support"), message(3, "user"), message(4, "support")]
    assert chat.unread(found, read_id=None) == 1  # after the user's own last message
    assert chat.unread(found, read_id=1) == 2
    assert chat.unread(found, read_id=4) == 0


def test_features_are_for_the_tenants_own_admins() -> None:
    assert "features" in [step.id for step in steps(None, None, features=True)]
    assert "features" not in [step.id for step in steps(None, None)]
    reader = steps(None, None, changes_settings=False, features=True)  # a team admin's
    assert "features" not in [step.id for step in reader]


# --- the demo's IT support -------------------------------------------------------------------


def test_the_support_bot_answers_each_waiting_chat_once(server_db: object) -> None:
    stored(MEMBER, "user", "My headset is silent")
    stored(MEMBER, "user", "Since this morning")
    stored(CONTOSO_ADMIN, "user", "Contoso has chat switched off")
    assert support_bot.answer_waiting(NOW + 5) == 1  # Demo Corp only; one reply per turn
    last = db.ChatMessage.select().order_by(db.ChatMessage.id.desc()).get()
    assert (last.user_id, last.author, last.author_name) == (
        user_id(MEMBER),
        "support",
        "IT Support",
    )
    assert last.text == support_bot.REPLY and last.sent_at == NOW + 5
    assert support_bot.answer_waiting(NOW + 7) == 0  # answered: nothing waits
    stored(MEMBER, "user", "Thanks!")
    assert support_bot.answer_waiting(NOW + 9) == 1


def test_the_support_bot_runs_in_a_thread_and_stops(server_db: object) -> None:
    stored(MEMBER, "user", "Hello?")
    running = support_bot.run_in_thread(lambda: NOW, every=0.01)
    try:
        for _ in range(500):
            if db.ChatMessage.select().where(db.ChatMessage.author == "support").exists():
                break
            time.sleep(0.01)
    finally:
        running.stop()
    assert db.ChatMessage.select().where(db.ChatMessage.author == "support").count() == 1


# --- the page --------------------------------------------------------------------------------


async def test_live_chat_is_shown_only_where_the_tenant_enables_it(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, CONTOSO_ADMIN)  # Contoso: live chat off
        await settle(pilot)
        assert "chat" not in sidebar_entries(app)
        assert not app.screen.query(ChatPage)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_chat(pilot)
        assert "chat" in sidebar_entries(app)
        assert page.display and EMPTY in str(page.query_one("#chat-empty").render())
        assert app.focused is page.query_one(ChatInput)  # opening the page: ready to write


async def test_send_and_receive_without_a_refresh(
    make_app: Callable[..., StratusApp], support_says: Callable[[str, str], Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_chat(pilot)
        field = page.query_one(ChatInput)
        field.value = "My phone rings twice 📞"
        await pilot.press("enter")
        await settle(pilot)
        assert field.value == ""
        assert bubbles(app) == ["Amélie Dubois (you)  13:00\nMy phone rings twice 📞"]
        assert db.ChatMessage.get(db.ChatMessage.author == "user").text == "My phone rings twice 📞"

        await support_says(MEMBER, "Looking into it [b]now[/b]")
        page.poll()  # what the timer does every few seconds
        await settle(pilot)
        assert bubbles(app)[-1] == "IT Support  13:00\nLooking into it [b]now[/b]"
        log = page.query_one(ChatLog)
        assert log.max_scroll_y == 0 and log.scroll_offset.y <= 0  # all in view, at the bottom

        before = len(bubbles(app))
        page.poll()  # nothing new: nothing added or redrawn
        await settle(pilot)
        assert len(bubbles(app)) == before

        for number in range(30):  # more than a screenful: the newest stays in view
            stored(MEMBER, "support", f"Update {number}")
        page.poll()
        await settle(pilot)
        assert bubbles(app)[-1].endswith("Update 29")
        assert log.max_scroll_y > 0 and log.is_vertical_scroll_end


async def test_input_stops_at_500_characters_with_a_counter(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_chat(pilot)
        field = page.query_one(ChatInput)
        counter = page.query_one("#chat-counter")
        field.insert_text_at_cursor("x" * 449)
        await pilot.pause()
        assert str(counter.render()) == "449/500" and not counter.has_class("-near")
        await pilot.press("y")
        assert str(counter.render()) == "450/500" and counter.has_class("-near")
        field.insert_text_at_cursor("z" * 100)  # a paste: what fits is kept
        await pilot.pause()
        assert len(field.value) == 500 and field.value.endswith("z" * 50)
        assert str(counter.render()) == "500/500" and counter.has_class("-full")
        await pilot.press("q")  # full: refused
        assert len(field.value) == 500
        await pilot.press("enter")
        await settle(pilot)
        assert len(db.ChatMessage.get(db.ChatMessage.author == "user").text) == 500
        assert field.value == "" and str(counter.render()) == "0/500"


async def test_a_failed_send_keeps_the_text_and_says_why(
    make_app: Callable[..., StratusApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_chat(pilot)
        assert app.session is not None

        async def unreachable(*args: object, **kwargs: object) -> None:
            raise ServerUnreachable("http://stratus.test", "connection refused")

        monkeypatch.setattr(app.session.client, "create", unreachable)
        field = page.query_one(ChatInput)
        field.value = "Is anyone there?"
        await pilot.press("enter")
        await settle(pilot)
        assert field.value == "Is anyone there?"
        status = page.query_one("#chat-status")
        assert status.has_class("-error") and "connection refused" in str(status.render())
        assert not db.ChatMessage.select().exists()

        monkeypatch.undo()
        await pilot.press("enter")  # again, now that the server answers
        await settle(pilot)
        assert field.value == "" and not status.has_class("-shown")
        assert db.ChatMessage.get().text == "Is anyone there?"


async def test_hostile_chat_text_is_shown_literally(make_app: Callable[..., StratusApp]) -> None:
    """Every corpus string as a support name and text, and as the user's own text; one
    chat holds them all (a sign-in per string would cost a second each)."""
    for number, case in enumerate(HOSTILE_CASES):
        hostile = HOSTILE[case]
        stored(MEMBER, "support", hostile, name=hostile or "x", at=NOW - 100 + number)
        stored(MEMBER, "user", hostile, at=NOW - 100 + number)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        page = await open_chat(pilot)
        log = page.query_one(ChatLog)
        assert len(log.shown_ids) == 2 * len(HOSTILE_CASES) and app.is_running
        for case, pair in zip(HOSTILE_CASES, pairs(list(page.query(ChatBubble))), strict=True):
            for bubble in pair:
                content = bubble.visual
                assert clean(HOSTILE[case], keep="\n\t")[:24] in content.plain  # type: ignore[union-attr]
                region = Region(0, 0, bubble.size.width, bubble.size.height)
                strips = bubble.render_lines(region)
                shown = "".join(segment.text for strip in strips for segment in strip)
                expected = re.sub(r"\s", "", clean(HOSTILE[case], keep="\n\t"))[:24]
                assert expected in re.sub(r"[\s▎]", "", shown)  # wrapped, with a border
                assert not any(
                    segment.style is not None and segment.style.meta.get("@click")
                    for strip in strips
                    for segment in strip
                )
        assert log.max_scroll_x == 0  # a 10,000-letter word wraps: no sideways scrolling
        screen = app.export_screenshot()
        assert "\x1b" not in screen and "\x9b" not in screen and "\u202e" not in screen


async def test_unread_replies_count_in_the_sidebar_until_the_page_is_opened(
    make_app: Callable[..., StratusApp], support_says: Callable[[str, str], Any]
) -> None:
    stored(MEMBER, "user", "Printer on fire", at=NOW - 600)
    stored(MEMBER, "support", "On our way", at=NOW - 300)  # came while signed out
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, MEMBER)
        await settle(pilot)
        assert chat_label(app) == "5 Live Chat (1)"
        assert "1 unread message from IT support" in [n.message for n in app._notifications]

        await support_says(MEMBER, "Fire is out")
        chat_page(app).poll()  # the hidden page's poll
        await settle(pilot)
        assert chat_label(app) == "5 Live Chat (2)"
        assert "New message from IT support" in [n.message for n in app._notifications]

        await pilot.press("5")
        await settle(pilot)
        assert chat_label(app) == "5 Live Chat"
        assert await chat.read_marker(app.session.cache if app.session else None) == max(
            chat_page(app).query_one(ChatLog).shown_ids
        )
        await support_says(MEMBER, "Anything else?")  # arrives while on the page: read
        chat_page(app).poll()
        await settle(pilot)
        assert chat_label(app) == "5 Live Chat"


async def open_features(pilot: Pilot[Any]) -> None:
    """Sign in as Contoso's admin (live chat off) and open Settings' Features section."""
    settings = await open_settings(pilot, CONTOSO_ADMIN, "features")
    assert "features" in [step.id for step in settings.found]


async def test_the_settings_switch_shows_and_hides_live_chat_at_once(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_features(pilot)
        switch = app.screen.query_one("#live-chat-switch", Switch)
        assert not switch.value and app.focused is switch
        await pilot.press("space")
        await settle(pilot)
        contoso = db.Tenant.get(db.Tenant.name == "Contoso")
        assert contoso.live_chat_enabled and contoso.version == 2
        assert "chat" in sidebar_entries(app)
        assert app.screen.query(ChatPage)  # polling for replies already
        assert app.session is not None and app.session.user.live_chat_enabled

        await pilot.press("space")
        await settle(pilot)
        assert not db.Tenant.get_by_id(contoso.id).live_chat_enabled
        assert "chat" not in sidebar_entries(app) and not app.screen.query(ChatPage)
        assert app.screen.query_one(Sidebar).highlighted_option.id == "settings"  # type: ignore[union-attr]


async def test_a_stale_switch_is_not_overwritten(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_features(pilot)
        # Meanwhile another admin changes the time zone (not a conflict for the switch)...
        db.Tenant.update(time_zone="UTC", version=db.Tenant.version + 1).where(
            db.Tenant.name == "Contoso"
        ).execute()
        await pilot.press("space")
        await settle(pilot)
        assert db.Tenant.get(db.Tenant.name == "Contoso").live_chat_enabled
        # ...and then switches live chat off again behind this admin's back (a conflict).
        db.Tenant.update(live_chat_enabled=False, version=db.Tenant.version + 1).where(
            db.Tenant.name == "Contoso"
        ).execute()
        await pilot.press("space")  # the admin saw "on" and switches it off: theirs agrees
        await settle(pilot)
        status = str(app.screen.query_one("#features-status").render())
        assert "Someone else switched live chat off meanwhile" in status
        assert not app.screen.query_one("#live-chat-switch", Switch).value
        assert "chat" not in sidebar_entries(app)


async def test_team_admins_get_no_features_section(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, TEAMADMIN)
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        found = app.screen.query_one(SettingsPage).found
        assert "features" not in [step.id for step in found]


async def test_chat_switched_off_elsewhere_hides_the_page(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_chat(pilot)
        db.Tenant.update(live_chat_enabled=False).where(db.Tenant.name == "Demo Corp").execute()
        page.poll()
        await settle(pilot)
        assert "chat" not in sidebar_entries(app) and not app.screen.query(ChatPage)
        assert app.focused is app.screen.query_one(Sidebar)  # not lost with the page
        assert "Live chat was switched off for your tenant." in [
            n.message for n in app._notifications
        ]
