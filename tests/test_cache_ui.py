"""The TUI over the local cache: last known state at once, history synced, offline view."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
from fastapi import FastAPI
from textual.widgets import Static

from stratus_tui.api.client import StratusClient
from stratus_tui.app import StratusApp
from stratus_tui.config.settings import Profile, Settings
from stratus_tui.screens.main import MainScreen
from stratus_tui.screens.pages.home import HomePage
from stratus_tui.server import db
from stratus_tui.widgets.sync_status import SyncStatus
from tests.conftest import ADMIN, MEMBER, named
from tests.tui import PROFILE, Clocks, settle, sign_in


class SlowTransport(httpx.AsyncBaseTransport):
    """The in-process server behind a slow link: every answer takes ``delay`` seconds."""

    def __init__(self, app: FastAPI, delay: float) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.delay = delay

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/auth/login"):
            return await self.inner.handle_async_request(request)
        await asyncio.sleep(self.delay)
        return await self.inner.handle_async_request(request)


async def test_history_syncs_at_sign_in_for_staff(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN)
        await settle(pilot)
        assert app.session is not None and app.session.cache is not None
        status = str(app.screen.query_one(SyncStatus).query_one("#sync-text", Static).render())
        assert "History as of" in status
        with app.session.cache.read() as connection:
            cached = connection.execute("SELECT count(*) FROM conversation").fetchone()[0]
        demo = named(db.Tenant, "Demo Corp")
        assert cached == db.Conversation.select().where(db.Conversation.tenant_id == demo).count()


async def test_team_members_sync_no_history(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, MEMBER)
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert not app.screen.query(SyncStatus)


async def test_a_warm_cache_paints_the_dashboard_without_waiting_for_the_server(
    make_app: Callable[..., StratusApp], server_app: FastAPI, clocks: Clocks
) -> None:
    first = make_app()
    async with first.run_test(size=(120, 40)) as pilot:  # fills the cache
        await sign_in(pilot, ADMIN)
        await settle(pilot)

    def slow(profile: Profile) -> StratusClient:
        return StratusClient(profile.url, transport=SlowTransport(server_app, delay=1.0))

    settings = Settings(profiles={PROFILE.name: PROFILE})
    app = StratusApp(settings, PROFILE, client_factory=slow, clock=clocks)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN)
        for _ in range(20):  # a few frames, far less than the server's second
            await pilot.pause(0.02)
            page = app.screen.query(HomePage)
            if page and page.first().data is not None:
                break
        home = app.screen.query_one(HomePage)
        assert home.data is not None  # painted from the cache
        assert home.fetching  # while the server still has not answered
        assert "refreshing" in str(home.query_one("#status-line", Static).render())
        assert len(home.query("InstanceCard")) == 5
