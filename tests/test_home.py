"""The Home dashboard driven as an on-call engineer would, against the reference server."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import Input, LoadingIndicator, Static

from stratus_tui.app import StratusApp
from stratus_tui.commands.export import LICENSE_USAGE_HEADER
from stratus_tui.config.settings import Profile, Settings
from stratus_tui.health import Level
from stratus_tui.screens.dialogs import DetailsDialog, SaveAsDialog
from stratus_tui.screens.main import MainScreen
from stratus_tui.screens.pages.home import HomePage
from stratus_tui.server import db
from stratus_tui.widgets.dashboard_cards import AgentsCard, RoutingBanner
from stratus_tui.widgets.instance_card import InstanceCard
from tests.conftest import ADMIN, MEMBER, SYSADMIN, Login, Served, named
from tests.tui import Clocks, settle, sign_in


async def set_state(
    client: httpx.AsyncClient, login: Login, instance: str, component: str, state: str
) -> None:
    """What an operator (or a failure) does to a component, through the server's admin route."""
    headers = await login(SYSADMIN)
    answer = await client.put(
        f"/admin/instances/{named(db.Instance, instance)}/components/{component}",
        json={"state": state},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text


async def home(pilot: object, username: str = ADMIN) -> HomePage:
    await sign_in(pilot, username)  # type: ignore[arg-type]
    await settle(pilot)  # type: ignore[arg-type]
    app = pilot.app  # type: ignore[attr-defined]
    assert isinstance(app.screen, MainScreen)
    page = app.screen.query_one(HomePage)
    assert page.data is not None
    return page


def banner_text(page: HomePage) -> str:
    return str(page.query_one(RoutingBanner).render())


async def refresh(pilot: object, page: HomePage) -> None:
    page.action_refresh()
    await settle(pilot)  # type: ignore[arg-type]


async def test_healthy_system(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await home(pilot)
        assert page.data and page.data.health.level is Level.OK
        assert not page.query_one(RoutingBanner).display
        assert len(page.query(InstanceCard)) == 5
        components = str(page.query_one("#components-card", Static).render())
        assert "20 of 20" in components
        agents = str(page.query_one(AgentsCard).render())
        assert "of 150" in agents


async def test_ich_stopped_everywhere_means_calls_cannot_be_routed(
    make_app: Callable[..., StratusApp], client: httpx.AsyncClient, login: Login
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await home(pilot)
        for instance in ("STRATUS-BE01", "STRATUS-BE02"):
            await set_state(client, login, instance, "ICH", "stopped")
        await refresh(pilot, page)
        assert page.data and page.data.health.level is Level.DOWN
        text = banner_text(page)
        assert "Calls cannot be routed" in text and "ICH" in text
        card = page.query_one("#instance-1", InstanceCard)
        assert "✖ ICH" in str(card.render()) and "STOPPED" in str(card.render())


async def test_one_of_two_cic_stopped_is_degraded(
    make_app: Callable[..., StratusApp], client: httpx.AsyncClient, login: Login
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await home(pilot)
        await set_state(client, login, "STRATUS-BE02", "CIC", "stopped")
        await refresh(pilot, page)
        assert page.data and page.data.health.level is Level.DEGRADED
        assert "can be routed" in banner_text(page)


async def test_refresh_keeps_focus_and_scroll(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        page = await home(pilot)
        card = page.query_one("#instance-4", InstanceCard)
        card.focus()
        await pilot.pause()
        page.scroll_to(y=12, animate=False)
        await pilot.pause()
        before = (app.focused, page.scroll_y)
        await pilot.press("r")
        await settle(pilot)
        assert (app.focused, page.scroll_y) == before
        assert app.focused is card  # the very same widget: nothing was rebuilt


async def test_a_refresh_never_covers_the_page_with_a_spinner(
    make_app: Callable[..., StratusApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Widget.loading overlays the whole page: every automatic refresh would repaint all of
    it (tens of KB a minute of idle output over SSH). The status line says "refreshing…"."""
    from stratus_tui.screens.pages import home as home_module

    answered = asyncio.Event()
    real = home_module.load_dashboard

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await answered.wait()
        return await real(*args, **kwargs)

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await home(pilot)
        monkeypatch.setattr(home_module, "load_dashboard", slow)
        worker = page.load(background=True)
        for _ in range(3):
            await pilot.pause()
        assert "refreshing" in str(page.query_one("#status-line", Static).render())
        assert not page.loading and not page.query(LoadingIndicator)
        answered.set()
        await worker.wait()


async def test_team_member_sees_the_status_only(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await home(pilot, MEMBER)
        assert not page.query(AgentsCard)
        assert page.data and page.data.license is None
        assert page.check_action("download", ()) is False


async def test_total_agents_opens_the_agents_page(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await home(pilot)
        page.query_one(AgentsCard).focus()
        await pilot.press("enter")
        assert app.screen.current_page == "agents"  # type: ignore[attr-defined]


async def test_instance_details_show_the_trusted_application(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await home(pilot)
        page.query_one("#instance-1", InstanceCard).focus()
        await pilot.press("i")
        assert isinstance(app.screen, DetailsDialog)
        shown = " ".join(str(static.render()) for static in app.screen.query(Static))
        assert "urn:application:stratus-be01" in shown and "6001" in shown
        tooltip = page.query_one("#instance-1", InstanceCard).tooltip
        assert "urn:application:stratus-be01" in str(tooltip)


async def test_automatic_refresh_does_not_keep_the_session_alive(
    make_app: Callable[..., StratusApp], clocks: Clocks, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await home(pilot)
        session = db.Session.select().order_by(db.Session.id.desc()).get()
        seen = db.Session.get_by_id(session.id).last_seen_at
        first = page.data.fetched_at if page.data else None
        clocks.advance(30)
        page._timer_refresh()
        await settle(pilot)
        assert page.data is not None and page.data.fetched_at != first  # it did refresh
        assert db.Session.get_by_id(session.id).last_seen_at == seen  # as a background request


async def test_pause_stops_the_automatic_refresh(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await home(pilot)
        page.action_toggle_pause()
        first = page.data
        page._timer_refresh()
        await settle(pilot)
        assert page.data is first
        assert "paused" in str(page.query_one("#status-line", Static).render())


@pytest.mark.socket
async def test_server_gone_mid_session_keeps_the_last_data(
    loopback_server: Served, clocks: Clocks
) -> None:
    profile = Profile(name="lab", url=loopback_server.url)
    app = StratusApp(Settings(profiles={"lab": profile}), profile, clock=clocks)
    async with app.run_test(size=(120, 40)) as pilot:
        page = await home(pilot)
        shown = page.data
        loopback_server.stop()
        await refresh(pilot, page)
        line = page.query_one("#status-line", Static)
        assert line.has_class("-offline")
        text = str(line.render())
        assert "Cannot reach" in text and "Showing data as of" in text
        assert page.data is shown and len(page.query(InstanceCard)) == 5
        clocks.advance(61)
        await pilot.press("down")  # the user is active: the keepalive is due, and fails
        for _ in range(5):
            app.check_session()
            await settle(pilot)
            clocks.advance(1)
        titles = [note.title for note in app._notifications]
        assert titles.count("Server unreachable") == 1  # said once, not every second
        assert app.is_running


async def test_download_the_license_usage_report(
    make_app: Callable[..., StratusApp], tmp_path: Path
) -> None:
    hostile = '=HYPERLINK("http://x")'
    db.OrgUnit.update(name=hostile).where(db.OrgUnit.name == "Sales").execute()
    target = tmp_path / "reports" / "usage.csv"
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await home(pilot)
        page.focus()
        await pilot.press("d")
        dialog = app.screen
        assert isinstance(dialog, SaveAsDialog)
        dialog.query_one("#path", Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert any(str(target) in str(note.message) for note in app._notifications)
    with target.open(encoding="utf-8-sig", newline="") as report:
        rows = list(csv.reader(report))
    assert rows[0] == list(LICENSE_USAGE_HEADER)
    demo = named(db.Tenant, "Demo Corp")
    expected = (
        db.LicenseUsage.select().where(db.LicenseUsage.tenant == demo).order_by(db.LicenseUsage.id)
    )
    assert len(rows) - 1 == expected.count()
    first = expected.first()
    assert rows[1][0] == first.date and rows[1][1] == "Demo Corp"
    assert rows[1][3:] == [
        str(first.concurrent_agents),
        str(first.configured_agents),
        str(first.supervisors),
        str(first.services),
    ]
    assert "'" + hostile in {row[2] for row in rows[1:]}  # neutralised, not a formula
    assert target.stat().st_mode & 0o777 == 0o600
