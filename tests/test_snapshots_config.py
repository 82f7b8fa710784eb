"""Agents and Configuring Services as SVG snapshots: both pages, a form with errors, the
conflict view and the bulk-edit diff."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from stratus_tui.app import StratusApp
from stratus_tui.screens.bulk_edit import BulkEditScreen
from stratus_tui.screens.conflict import ConflictScreen
from stratus_tui.screens.form import FormScreen
from stratus_tui.screens.pages.records_page import RecordsPage
from stratus_tui.server import db
from tests.conftest import ADMIN, user_id
from tests.tui import settle, sign_in, steady, wait_for_screen

Step = Callable[[Pilot[Any]], Awaitable[None]]


@pytest.fixture(autouse=True)
def _steady(steady_screen: None) -> None:
    """Fixed clock, no cursor blink, UTC."""


def page_as(user: str, key: str, *then: Step) -> Step:
    async def run_before(pilot: Pilot[Any]) -> None:
        await sign_in(pilot, user)
        await settle(pilot)
        await pilot.press(key)
        await steady(pilot)
        pilot.app.screen.query_one(RecordsPage).table.focus()
        for step in then:
            await step(pilot)
            if isinstance(pilot.app.screen, BulkEditScreen):
                await pilot.pause()  # its worker waits for the answer: nothing to settle
            else:
                await steady(pilot)

    return run_before


def keys(*pressed: str) -> Step:
    async def press(pilot: Pilot[Any]) -> None:
        await pilot.press(*pressed)

    return press


def to_agent(upn: str) -> Step:
    async def move(pilot: Pilot[Any]) -> None:
        pilot.app.screen.query_one(RecordsPage).table.move_cursor_to(user_id(upn))

    return move


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_agents_page(
    snap_compare: Any, make_app: Callable[..., StratusApp], size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=page_as(ADMIN, "2"))


def test_services_page_with_marks(snap_compare: Any, make_app: Callable[..., StratusApp]) -> None:
    run_before = page_as(ADMIN, "3", keys("space", "down", "down", "space", "M"))
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)


def test_agent_form_with_errors(snap_compare: Any, make_app: Callable[..., StratusApp]) -> None:
    async def bad_values(pilot: Pilot[Any]) -> None:
        form = await wait_for_screen(pilot, FormScreen)
        form.fields["first_name"].query_one(Input).value = "Ann"
        form.fields["upn"].query_one(Input).value = "ann.lee"
        form.fields["sip_uri"].query_one(Input).value = "ann@demo"
        await pilot.pause()
        await pilot.press("ctrl+s")

    run_before = page_as(ADMIN, "2", keys("n"), bad_values)
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)


def test_conflict_view(snap_compare: Any, make_app: Callable[..., StratusApp]) -> None:
    async def edit_while_someone_else_does(pilot: Pilot[Any]) -> None:
        form = await wait_for_screen(pilot, FormScreen)
        form.fields["first_name"].query_one(Input).value = "Mine"
        form.fields["last_name"].query_one(Input).value = "Both"
        await pilot.pause()
        target = user_id("member@demo.stratus")
        row = db.User.get_by_id(target)  # another admin saves first
        db.User.update(last_name="Theirs", active=False, version=row.version + 1).where(
            db.User.id == target
        ).execute()
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, ConflictScreen)

    run_before = page_as(ADMIN, "2", to_agent("member@demo.stratus"), keys("e"),
                         edit_while_someone_else_does)  # fmt: skip
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)


def test_bulk_edit_diff(snap_compare: Any, make_app: Callable[..., StratusApp]) -> None:
    async def choose(pilot: Pilot[Any]) -> None:
        await pilot.press("b")
        bulk = await wait_for_screen(pilot, BulkEditScreen)
        await pilot.pause()
        bulk.query_one("#bulk-field", Select).value = "max_concurrent_sessions"
        for _ in range(100):  # the value field is mounted after the choice (slower when loaded)
            await pilot.pause()
            if bulk.query("#bulk-value Input"):
                break
        bulk.query_one("#bulk-value Input", Input).value = "10"
        await pilot.pause()

    run_before = page_as(ADMIN, "3", keys("space", "down", "space", "down", "space"), choose)
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)
