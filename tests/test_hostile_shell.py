"""Hostile text from the server is shown literally in the shell (SECURITY.md A1-A2).

The signed-in user's own names (header, user menu) and the server's error messages (the
sign-in screen) come from the server; each corpus string must render as text: no crash,
no action attached, nothing a terminal would act on.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from textual.content import Content
from textual.widgets import Label

from stratus_tui.api.client import StratusClient
from stratus_tui.app import StratusApp
from stratus_tui.config.settings import Settings
from stratus_tui.server import db
from stratus_tui.text import clean
from stratus_tui.widgets.sidebar import Sidebar
from tests.conftest import ADMIN, user_id
from tests.hostile import HOSTILE
from tests.tui import PROFILE, Clocks, message, sign_in

CASES = sorted(set(HOSTILE) - {"lone_surrogate", "empty"})  # the server cannot store those


def assert_inert(content: Content, raw: str) -> None:
    """Shown as the cleaned text, with no style or action coming from the data."""
    assert clean(raw)[:24] in content.plain
    assert not any("@click" in str(span.style) for span in content.spans)
    assert "\x1b" not in content.plain and "\x9b" not in content.plain


def visible_text(app: StratusApp) -> str:
    svg = app.export_screenshot()
    assert "\x1b" not in svg and "\x9b" not in svg and "\u202e" not in svg
    return svg


@pytest.mark.parametrize("case", CASES)
async def test_hostile_user_names_in_header_and_user_menu(
    make_app: Callable[..., StratusApp], case: str
) -> None:
    hostile = HOSTILE[case]
    db.User.update(first_name=hostile, last_name=hostile).where(
        db.User.id == user_id(ADMIN)
    ).execute()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN)
        user = app.screen.query_one("#user", Label)
        assert_inert(user.visual, hostile)  # type: ignore[arg-type]
        sidebar = app.screen.query_one(Sidebar)
        card = sidebar.get_option("user").prompt
        assert isinstance(card, Content)
        assert_inert(card, hostile[:20])
        visible_text(app)
        await pilot.press("down", "up")  # still alive and responsive
        assert app.is_running


def hostile_server(detail: str) -> Starlette:
    async def refuse(request: Request) -> JSONResponse:
        body = {"type": "about:blank", "title": detail, "status": 401, "detail": detail}
        return JSONResponse(body, status_code=401, media_type="application/problem+json")

    async def o365(request: Request) -> JSONResponse:
        return JSONResponse({"domain": detail, "enabled": False})

    return Starlette(
        routes=[
            Route("/api/v1/auth/login", refuse, methods=["POST"]),
            Route("/api/v1/auth/o365-config", o365),
        ]
    )


@pytest.mark.parametrize("case", CASES)
async def test_hostile_server_messages_on_the_sign_in_screen(clocks: Clocks, case: str) -> None:
    hostile = HOSTILE[case]
    server = hostile_server(hostile or "x")

    def client(profile: object) -> StratusClient:
        return StratusClient(PROFILE.url, transport=httpx.ASGITransport(app=server))

    app = StratusApp(
        Settings(profiles={"lab": PROFILE}), PROFILE, client_factory=client, clock=clocks
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, ADMIN, "whatever")
        shown = message(app)
        assert clean(hostile)[:24] in shown
        visible_text(app)
        assert app.is_running


@pytest.mark.parametrize("case", CASES)
async def test_notifications_show_hostile_text_literally(
    make_app: Callable[..., StratusApp], case: str
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.notify(HOSTILE[case] or "x", title=HOSTILE[case])  # a widget's notify
        await pilot.pause()
        note = list(app._notifications)[-1]
        assert note.message == clean(HOSTILE[case] or "x", keep="\n")
        assert note.markup is False
        visible_text(app)
        assert app.is_running
