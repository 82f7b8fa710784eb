"""Hostile text from the server is shown literally in the shell (SECURITY.md A1-A2).

The signed-in user's own names (header, user menu) and the server's error messages (the
sign-in screen) come from the server; each corpus string must render as text: no crash,
no action attached, nothing a terminal would act on.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import zip_longest

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
from stratus_tui.screens.login import LoginScreen
from stratus_tui.server import db
from stratus_tui.text import clean
from stratus_tui.widgets.sidebar import Sidebar
from tests.conftest import ADMIN, user_id
from tests.hostile import HOSTILE, UNSTORABLE
from tests.tui import PROFILE, Clocks, message, sign_in, wait_for_screen

CASES = sorted(set(HOSTILE) - UNSTORABLE)


def assert_inert(content: Content, raw: str) -> None:
    """Shown as the cleaned text, with no style or action coming from the data."""
    assert clean(raw)[:24] in content.plain
    assert not any("@click" in str(span.style) for span in content.spans)
    assert "\x1b" not in content.plain and "\x9b" not in content.plain


def visible_text(app: StratusApp) -> str:
    svg = app.export_screenshot()
    assert "\x1b" not in svg and "\x9b" not in svg and "\u202e" not in svg
    return svg


async def test_hostile_user_names_in_header_and_user_menu(
    make_app: Callable[..., StratusApp],
) -> None:
    """Corpus strings as the signed-in user's first and last names, two per sign-in, in one
    app (no cache: logging out then needs no question)."""
    app = make_app(use_cache=False)
    async with app.run_test(size=(120, 40)) as pilot:
        for first, last in zip_longest(CASES[::2], CASES[1::2], fillvalue=CASES[0]):
            db.User.update(first_name=HOSTILE[first], last_name=HOSTILE[last]).where(
                db.User.id == user_id(ADMIN)
            ).execute()
            await sign_in(pilot, ADMIN)
            user = app.screen.query_one("#user", Label)
            assert_inert(user.visual, HOSTILE[first])  # type: ignore[arg-type]
            card = app.screen.query_one(Sidebar).get_option("user").prompt
            assert isinstance(card, Content)
            assert_inert(card, HOSTILE[first][:20])
            if len(HOSTILE[first]) < 40:  # a long first name leaves no room for the last
                assert_inert(user.visual, HOSTILE[last][:10])  # type: ignore[arg-type]
            visible_text(app)
            await pilot.press("down", "up")  # still alive and responsive
            assert app.is_running, (first, last)
            await pilot.press("ctrl+l")  # log out, for the next names
            await wait_for_screen(pilot, LoginScreen)
            await pilot.pause()


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
        assert clean(" ".join(hostile.split()))[:24] in shown  # one line: whitespace collapsed
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
