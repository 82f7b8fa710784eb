"""The safe-text helper, the idle clock and the role-filtered pages: pure logic, no UI."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from stratus_tui.auth.idle import IdleClock, IdleState, expired_message
from stratus_tui.navigation import visible_pages
from stratus_tui.text import REPLACEMENT, clean
from tests.hostile import HOSTILE


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_clean_leaves_nothing_a_terminal_would_act_on(name: str) -> None:
    shown = clean(HOSTILE[name])
    assert not any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in shown)
    assert "\u202e" not in shown
    shown.encode("utf-8")  # no lone surrogate survives


def test_clean_makes_controls_visible_and_keeps_text() -> None:
    assert clean("\x1b]52;c;SGk=\x07") == "␛]52;c;SGk=␇"
    assert clean("abc\u202edcba") == f"abc{REPLACEMENT}dcba"
    assert clean("[@click=app.quit]x[/]") == "[@click=app.quit]x[/]"  # markup is Content's job
    assert clean("Zoë Łukasz 王") == "Zoë Łukasz 王"
    assert clean(None) == ""
    assert clean(42) == "42"


def test_clean_keeps_newlines_only_when_asked() -> None:
    assert clean("a\nb") == "a␊b"
    assert clean("a\nb\tc", keep="\n\t") == "a\nb\tc"


def test_clean_cuts_very_long_values() -> None:
    assert clean("x" * 10_000, max_length=10) == "x" * 9 + "…"
    assert len(clean("x" * 10)) == 10


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_idle_clock_warns_at_nine_minutes_and_expires_at_ten() -> None:
    clock = FakeMonotonic()
    idle = IdleClock(clock=clock)
    clock.now += 539
    assert idle.state() is IdleState.ACTIVE
    clock.now += 1
    assert idle.state() is IdleState.WARNING
    clock.now += 60
    assert idle.state() is IdleState.EXPIRED


def test_input_extends_the_session() -> None:
    clock = FakeMonotonic()
    idle = IdleClock(clock=clock)
    clock.now += 570
    idle.user_input()
    clock.now += 500
    assert idle.state() is IdleState.ACTIVE


def test_a_suspended_process_is_expired_at_once() -> None:
    clock = FakeMonotonic()
    idle = IdleClock(clock=clock)
    clock.now += 3600  # ctrl+z for an hour, then fg
    assert idle.state() is IdleState.EXPIRED
    assert not idle.keepalive_due()


@pytest.mark.parametrize(
    ("limit", "warning", "keepalive", "said"),
    [
        (600, 60, 60, "10 minutes"),
        (3600, 60, 60, "60 minutes"),
        (60, 6, 6, "1 minute"),
        (4, 0.4, 0.4, "4 seconds"),
        (0, 0.1, 0.1, "1 second"),  # a server's nonsense is taken as one second
    ],
)
def test_the_clock_follows_the_servers_limit(
    limit: int, warning: float, keepalive: float, said: str
) -> None:
    clock = FakeMonotonic()
    idle = IdleClock.for_limit(limit, clock=clock)
    assert idle.idle_limit == max(limit, 1)
    assert idle.warning_before == pytest.approx(warning)
    assert idle.keepalive_every == pytest.approx(keepalive)
    assert idle.keepalive_every < idle.idle_limit  # the server hears of input in time
    assert f"after {said} without input" in expired_message(idle.idle_limit)
    clock.now += idle.idle_limit - idle.warning_before - 0.01
    assert idle.state() is IdleState.ACTIVE
    clock.now += 0.02
    assert idle.state() is IdleState.WARNING
    clock.now += idle.warning_before
    assert idle.state() is IdleState.EXPIRED


def test_keepalive_only_after_input_and_at_most_every_minute() -> None:
    clock = FakeMonotonic()
    idle = IdleClock(clock=clock)
    clock.now += 300
    assert not idle.keepalive_due()  # no input: the server must not be told otherwise
    idle.user_input()
    assert idle.keepalive_due()
    idle.keepalive_sent()
    clock.now += 10
    idle.user_input()
    assert not idle.keepalive_due()  # at most one a minute
    clock.now += 50
    assert idle.keepalive_due()


@dataclass
class User:
    role: str
    tenant_id: int | None = 1
    live_chat_enabled: bool = False


@pytest.mark.parametrize(
    ("role", "chat", "pages"),
    [
        ("system_admin", False, ["home", "agents", "services", "privacy", "settings", "reporting"]),
        (
            "tenant_admin",
            True,
            ["home", "agents", "services", "privacy", "chat", "settings", "reporting"],
        ),
        ("team_admin", False, ["home", "agents", "services", "privacy", "settings", "reporting"]),
        (
            "team_admin",
            True,
            ["home", "agents", "services", "privacy", "chat", "settings", "reporting"],
        ),
        ("team_member", False, ["home"]),
        ("team_member", True, ["home", "chat"]),
    ],
)
def test_sidebar_pages_by_role(role: str, chat: bool, pages: list[str]) -> None:
    tenant = None if role == "system_admin" else 1
    user = User(role, tenant, chat)
    assert [page.id for page in visible_pages(user)] == pages


def test_a_failed_keepalive_is_retried_later_not_every_second() -> None:
    clock = FakeMonotonic()
    idle = IdleClock(clock=clock)
    clock.now += 61
    idle.user_input()
    assert idle.keepalive_due()
    idle.keepalive_failed()
    clock.now += 1
    assert not idle.keepalive_due()
    clock.now += 15
    assert idle.keepalive_due()
