"""Helpers for driving the TUI in tests (the fixtures that build apps are in conftest)."""

from __future__ import annotations

import contextlib
from typing import Any, TypeVar

from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, Static
from textual.worker import WorkerCancelled

from stratus_tui.app import StratusApp
from stratus_tui.config.settings import Profile
from stratus_tui.screens.login import LoginScreen
from stratus_tui.screens.pages.settings import SettingsPage
from stratus_tui.server.clock import FakeClock
from stratus_tui.widgets.sidebar import Sidebar

W = TypeVar("W", bound=Widget)
PROFILE = Profile(name="lab", url="http://stratus.test", label_color="green")


class Clocks:
    """The app's monotonic clock and the server's clock, moved together."""

    def __init__(self, server: FakeClock) -> None:
        self.server = server
        self.monotonic = 5000.0

    def __call__(self) -> float:
        return self.monotonic

    def advance(self, seconds: float) -> None:
        self.monotonic += seconds
        self.server.advance(int(seconds))


async def sign_in(pilot: Pilot[Any], username: str, password: str = "demo") -> None:
    """Fill in the sign-in form and submit it (values set directly: key presses are slow)."""
    app = pilot.app
    await pilot.pause()  # the sign-in screen is the default screen: let it compose
    screen = app.screen
    assert isinstance(screen, LoginScreen)
    screen.query_one("#username", Input).value = username
    screen.query_one("#password", Input).value = password
    await screen.sign_in().wait()
    # A successful sign-in starts the session in a worker (the cache opens in a thread) and
    # then pushes the main screen: wait for both, or a loaded machine sees the login screen.
    for worker in [w for w in app.workers if w.group == "sign-in"]:
        with contextlib.suppress(WorkerCancelled):
            await worker.wait()
    for _ in range(200):
        if app.session is None or not isinstance(app.screen, LoginScreen):
            break
        await pilot.pause(0.01)
    await pilot.pause()


async def settle(pilot: Pilot[Any], rounds: int = 3) -> None:
    """Wait for every worker; a cancelled one is fine (ending a session cancels on purpose).

    Rounds until no new worker started meanwhile: a page mounted by the last key press
    starts its workers a refresh later, and a loaded machine would otherwise act on a page
    whose choices have not arrived (a form's team list empty, say).
    """
    waited: set[object] = set()
    for _ in range(rounds):
        fresh = [worker for worker in pilot.app.workers if worker not in waited]
        if not fresh and waited:
            break
        waited.update(fresh)
        for worker in fresh:
            with contextlib.suppress(WorkerCancelled):
                await worker.wait()
        await pilot.pause()


async def steady(pilot: Pilot[Any]) -> None:
    """For snapshots: every worker done (the history sync too), no toast left on screen.

    More rounds of ``settle``: a page may start one worker after another's answer (the
    history sync after the first dashboard), and on a loaded machine its toast would
    otherwise land after the notifications were cleared.
    """
    await settle(pilot, rounds=10)
    pilot.app.clear_notifications()
    await pilot.pause()


def message(app: StratusApp) -> str:
    return str(app.screen.query_one("#message", Static).render())


def sidebar_entries(app: StratusApp) -> list[str]:
    sidebar = app.screen.query_one(Sidebar)
    return [str(sidebar.get_option_at_index(i).id) for i in range(sidebar.option_count)]


async def wait_for_screen(pilot: Pilot[Any], kind: type[Any], tries: int = 200) -> Any:
    """Until ``kind`` is the active screen (a dialog a worker waits on: ``settle`` would wait
    for that worker, which waits for the user)."""
    for _ in range(tries):
        if isinstance(pilot.app.screen, kind):
            return pilot.app.screen
        await pilot.pause(0.01)
    raise AssertionError(f"{kind.__name__} did not open; the screen is {pilot.app.screen!r}")


async def open_settings(pilot: Pilot[Any], user: str, section: str | None = None) -> SettingsPage:
    """Sign in as ``user``, open Settings (6) and, given one, a section of it."""
    await sign_in(pilot, user)
    await settle(pilot)
    await pilot.press("6")
    await settle(pilot)
    settings = pilot.app.screen.query_one(SettingsPage)
    if section is not None:
        await settings.open_section(section)
        await settle(pilot)
    return settings


async def open_page(pilot: Pilot[Any], user: str, key: str, kind: type[W]) -> W:
    """Sign in as ``user``, press ``key`` (a page's number) and focus the page's table."""
    await sign_in(pilot, user)
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)
    page = pilot.app.screen.query_one(kind)
    page.table.focus()  # type: ignore[attr-defined]
    await pilot.pause()
    return page
