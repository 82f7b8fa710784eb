"""The TUI shell driven as a user would, against the real reference server (in-process).

The app's monotonic clock and the server's wall clock are both fakes that the tests move
together, so ten idle minutes take microseconds.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Button, Input, OptionList

from stratus_tui.app import StratusApp
from stratus_tui.config.settings import Profile, Settings
from stratus_tui.screens.dialogs import ChoiceDialog
from stratus_tui.screens.expiry import ExpiryWarning
from stratus_tui.screens.login import LoginScreen
from stratus_tui.screens.main import MainScreen
from stratus_tui.server import db
from stratus_tui.server.app import server_context
from stratus_tui.server.clock import FakeClock
from stratus_tui.server.sessions import SessionPolicy
from stratus_tui.widgets.action_button import ActionButton
from stratus_tui.widgets.sidebar import Sidebar
from tests.conftest import ADMIN, MEMBER, SYSADMIN, TEAMADMIN, user_id
from tests.tui import PROFILE, Clocks, message, settle, sidebar_entries, sign_in


async def test_good_sign_in_opens_home_with_the_sidebar(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.current_page == "home"
        assert app.screen.query_one(Sidebar).has_focus


async def test_wrong_password_is_a_clear_message(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await sign_in(pilot, ADMIN, "wrong")
        assert isinstance(app.screen, LoginScreen)
        assert "Wrong user name or password" in message(app)


async def test_user_without_role_is_told_so(make_app: Callable[..., StratusApp]) -> None:
    db.UserRole.delete().where(db.UserRole.user == user_id(MEMBER)).execute()
    app = make_app()
    async with app.run_test() as pilot:
        await sign_in(pilot, MEMBER)
        assert isinstance(app.screen, LoginScreen)
        assert "no role" in message(app)


async def test_server_down_is_a_clear_message(clocks: Clocks) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    profile = Profile(name="down", url=f"http://127.0.0.1:{port}")
    app = StratusApp(Settings(profiles={"down": profile}), profile, clock=clocks)
    async with app.run_test() as pilot:
        await sign_in(pilot, ADMIN)
        assert isinstance(app.screen, LoginScreen)
        assert "Cannot reach" in message(app)


@pytest.mark.parametrize(
    ("username", "pages"),
    [
        (SYSADMIN, ["home", "agents", "services", "privacy", "settings", "reporting"]),
        (ADMIN, ["home", "agents", "services", "privacy", "chat", "settings", "reporting"]),
        (TEAMADMIN, ["home", "agents", "services", "privacy", "chat", "settings", "reporting"]),
        (MEMBER, ["home", "chat"]),
    ],
)
async def test_sidebar_follows_the_role(
    make_app: Callable[..., StratusApp], username: str, pages: list[str]
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, username)
        assert sidebar_entries(app) == [*pages, "user", "logout"]


async def test_number_keys_and_arrows_navigate(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN)
        main = app.screen
        assert isinstance(main, MainScreen)
        await pilot.press("7")
        assert main.current_page == "reporting"
        main.query_one(Sidebar).focus()
        await pilot.press("home", "down", "enter")
        assert main.current_page == "agents"


async def test_a_page_outside_the_role_is_refused(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, MEMBER)
        await pilot.press("2")
        assert app.screen.current_page == "home"  # type: ignore[attr-defined]


async def test_logout_returns_to_sign_in_and_ends_the_server_session(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN)
        await settle(pilot)
        assert app.session is not None and app.session.cache is not None
        cache_file = app.session.cache.path
        app.action_logout()
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog)  # keep or delete the local cache?
        await pilot.press("enter")  # the default: keep it
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "logged out" in message(app)
        assert app.screen.query_one("#username", Input).value == ADMIN
        assert cache_file.exists()
    assert db.Session.select().where(db.Session.ended_at.is_null()).count() == 0


async def test_logout_can_delete_the_local_cache(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN)
        await settle(pilot)
        assert app.session is not None and app.session.cache is not None
        cache_file = app.session.cache.path
        app.action_logout()
        await pilot.pause()
        app.screen.query_one("#delete", Button).press()
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "cache is deleted" in message(app)
    assert not cache_file.exists()


class EditForm(Screen[None]):
    """Stands for any page with a form: what is typed here must not survive expiry."""

    def compose(self) -> ComposeResult:
        yield Input(id="edit")


async def test_warning_at_nine_minutes_and_logout_at_ten_discards_edits(
    make_app: Callable[..., StratusApp], clocks: Clocks
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN)
        await app.push_screen(EditForm())
        app.screen.query_one("#edit", Input).value = "half-typed change"
        clocks.advance(539)
        app.check_session()
        await pilot.pause()
        assert not isinstance(app.screen, ExpiryWarning)
        clocks.advance(1)
        app.check_session()
        await pilot.pause()
        assert isinstance(app.screen, ExpiryWarning)
        clocks.advance(60)
        app.check_session()
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "10 minutes" in message(app) and "discarded" in message(app)
        assert not app.query(EditForm)
        assert len(app.screen_stack) == 1
    live = db.Session.select().where(
        db.Session.ended_at.is_null(), db.Session.idle_expires_at > clocks.server.now()
    )
    assert live.count() == 0  # the server session is over too


async def test_the_idle_limit_is_the_servers(
    make_app: Callable[..., StratusApp],
    clocks: Clocks,
    server_app: FastAPI,
    clock: FakeClock,
) -> None:
    app = make_app()
    server_app.state.context = server_context(clock=clock, policy=SessionPolicy(idle_timeout=90))
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN)
        assert app.session is not None and app.session.idle.idle_limit == 90
        clocks.advance(81)  # warned a tenth of the limit before its end
        app.check_session()
        await pilot.pause()
        assert isinstance(app.screen, ExpiryWarning)
        clocks.advance(9)
        app.check_session()
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "ended after 90 seconds without input" in message(app)


async def test_continue_at_nine_thirty_extends_the_session(
    make_app: Callable[..., StratusApp], clocks: Clocks
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN)
        clocks.advance(540)
        app.check_session()
        await pilot.pause()
        assert isinstance(app.screen, ExpiryWarning)
        clocks.advance(30)
        await pilot.press("space")  # any key continues
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        clocks.advance(500)  # 18:50 after sign-in, 8:20 after continuing
        app.check_session()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        answer = await app.session.client.me()  # type: ignore[union-attr]
        assert answer.upn == ADMIN  # the server session is alive too


async def test_keepalive_only_while_the_user_is_active(
    make_app: Callable[..., StratusApp], clocks: Clocks
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN)
        await settle(pilot)  # the first page's and the history's requests are the user's
        session = db.Session.select().order_by(db.Session.id.desc()).get()
        seen = session.last_seen_at
        for _ in range(4):  # four idle minutes: nothing is sent
            clocks.advance(60)
            app.check_session()
            await settle(pilot)
        assert db.Session.get_by_id(session.id).last_seen_at == seen
        await pilot.press("down")  # the user comes back
        clocks.advance(1)
        app.check_session()
        await settle(pilot)
        assert db.Session.get_by_id(session.id).last_seen_at > seen


async def test_o365_button_follows_the_domain(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        screen = app.screen
        button = screen.query_one("#o365", ActionButton)
        for username, enabled in [("megan@contoso.com", True), ("someone@demo.stratus", False)]:
            screen.query_one("#username", Input).value = username
            await pilot.pause()  # Input.Changed starts the (debounced) check
            await settle(pilot)
            assert button.disabled is not enabled


async def test_palette_offers_the_pages_of_the_role(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, TEAMADMIN)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Go to Reporting" in titles and "Go to Data Privacy" in titles
        assert "Log out" in titles


async def test_help_shows_the_focused_widget_and_the_keys(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN)
        await pilot.press("f1")
        from stratus_tui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(app.screen.sections)
        assert "Sidebar" in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_remapped_keys_work_and_show(make_app: Callable[..., StratusApp]) -> None:
    profile = PROFILE
    app = make_app(profile)
    app.settings = Settings(profiles={"lab": profile}, keymap={"page_reporting": "f7"})
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN)
        await pilot.press("f7")
        assert app.screen.current_page == "reporting"  # type: ignore[attr-defined]
        assert app.key_for("page_reporting") == "f7"
        option = app.screen.query_one(OptionList).get_option("reporting")
        assert str(option.prompt).startswith("f7 ")
