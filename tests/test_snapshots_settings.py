"""Settings as SVG snapshots: "Where to start" and each section, at 80x24 and 120x40."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from stratus_tui.app import StratusApp
from stratus_tui.screens.pages.settings import SettingsPage
from tests.conftest import ADMIN, TEAMADMIN
from tests.tui import settle, sign_in, steady

SIZES = [(80, 24), (120, 40)]
SECTIONS = [
    "org-units",
    "duty-profiles",
    "traits",
    "teams",
    "responsibilities",
    "workflows",
    "o365",
]


@pytest.fixture(autouse=True)
def _steady(steady_screen: None) -> None:
    """Fixed clock, no cursor blink, UTC."""


def settings(section: str | None = None, user: str = ADMIN) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await sign_in(pilot, user)
        await settle(pilot)
        await pilot.press("6")
        await steady(pilot)
        if section is not None:
            await pilot.app.screen.query_one(SettingsPage).open_section(section)
            await steady(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_where_to_start(
    snap_compare: Any, make_app: Callable[..., StratusApp], size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=settings())


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("section", SECTIONS)
def test_section(
    snap_compare: Any, make_app: Callable[..., StratusApp], section: str, size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=settings(section))


def test_a_team_admins_read_only_settings(
    snap_compare: Any, make_app: Callable[..., StratusApp]
) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=settings(user=TEAMADMIN))


def test_a_team_admins_read_only_tree(
    snap_compare: Any, make_app: Callable[..., StratusApp]
) -> None:
    run_before = settings("traits", user=TEAMADMIN)
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)
