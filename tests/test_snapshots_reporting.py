"""Reporting as SVG snapshots: the team list, a filtered list, a team's report with chart and
heatmap at 80x24 and 120x40, and the chart cursor on one hour."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from stratus_tui.app import StratusApp
from stratus_tui.screens.pages.reporting import ReportingPage
from stratus_tui.widgets.team_list import TeamList
from tests.conftest import ADMIN, TEAMADMIN
from tests.tui import settle, sign_in, steady

SIZES = [(80, 24), (120, 40)]
Step = Callable[[Pilot[Any]], Awaitable[None]]


@pytest.fixture(autouse=True)
def _steady(steady_screen: None) -> None:
    """Fixed clock, no cursor blink, UTC."""


def reporting_as(user: str, *then: Step) -> Step:
    async def run_before(pilot: Pilot[Any]) -> None:
        await sign_in(pilot, user)
        await settle(pilot)
        await pilot.press("7")
        await steady(pilot)
        for step in then:
            await step(pilot)
            await steady(pilot)

    return run_before


def team(name: str) -> Step:
    async def open_it(pilot: Pilot[Any]) -> None:
        page = pilot.app.screen.query_one(ReportingPage)
        page.open_team(next(row for row in page.query_one(TeamList).teams if row.name == name))

    return open_it


def keys(*pressed: str) -> Step:
    async def press(pilot: Pilot[Any]) -> None:
        await pilot.press(*pressed)

    return press


@pytest.mark.parametrize("size", SIZES)
def test_team_list(
    snap_compare: Any, make_app: Callable[..., StratusApp], size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=reporting_as(ADMIN))


def test_team_list_filtered(snap_compare: Any, make_app: Callable[..., StratusApp]) -> None:
    run_before = reporting_as(TEAMADMIN, keys("slash", *"l2"))
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_team_report(
    snap_compare: Any, make_app: Callable[..., StratusApp], size: tuple[int, int]
) -> None:
    run_before = reporting_as(ADMIN, team("Support L1"))
    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


def test_team_report_heatmap(snap_compare: Any, make_app: Callable[..., StratusApp]) -> None:
    """Scrolled down to the heatmap, its cursor moved onto a cell: the cell's numbers show."""
    run_before = reporting_as(ADMIN, team("Support L1"), keys("tab", "right", "right", "down"))
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)


def test_chart_cursor_on_a_data_point(
    snap_compare: Any, make_app: Callable[..., StratusApp]
) -> None:
    run_before = reporting_as(ADMIN, team("Support L1"), keys("end", "left", "left", "left"))
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)


def test_range_choices(snap_compare: Any, make_app: Callable[..., StratusApp]) -> None:
    """f, then Enter: the ranges the figures can cover, the one in use marked."""
    run_before = reporting_as(ADMIN, team("Support L1"), keys("f", "enter"))
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_custom_range_dialog(snap_compare: Any, make_app: Callable[..., StratusApp]) -> None:
    """Custom…: two local dates, both included, checked as typed (here the end is wrong)."""
    run_before = reporting_as(
        ADMIN,
        team("Support L1"),
        keys("f", "enter", "end", "enter"),
        keys("tab", "home", "ctrl+k", *"2026-13-01"),
    )
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)
