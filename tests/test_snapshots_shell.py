"""What the user sees of the shell, as SVG snapshots in snapshots/ (80x24 and 120x40).

``snap_compare`` runs its own event loop, so these are plain functions with ``run_before``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from stratus_tui.app import StratusApp
from stratus_tui.config.settings import Profile
from stratus_tui.server.seed import DEMO_ACCOUNTS, DEMO_PASSWORD
from tests.conftest import ADMIN, MEMBER
from tests.tui import Clocks, sign_in, steady

SIZES = [(80, 24), (120, 40)]
DEMO = Profile(name="demo", url="http://stratus.test", username=ADMIN, label_color="green")


@pytest.fixture(autouse=True)
def _steady(steady_screen: None) -> None:
    """Every snapshot here uses the fixed clock and no cursor blink."""


@pytest.fixture
def demo_app(make_app: Callable[..., StratusApp]) -> StratusApp:
    return make_app(DEMO, demo_accounts=DEMO_ACCOUNTS, demo_password=DEMO_PASSWORD)


async def settle(pilot: Pilot[Any]) -> None:
    """Let the O365 check of the prefilled user name finish."""
    for worker in list(pilot.app.workers):
        if worker.group == "o365":
            await worker.wait()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_login(snap_compare: Any, demo_app: StratusApp, size: tuple[int, int]) -> None:
    assert snap_compare(demo_app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_sidebar_tenant_admin(
    snap_compare: Any, demo_app: StratusApp, size: tuple[int, int]
) -> None:
    async def signed_in(pilot: Pilot[Any]) -> None:
        await sign_in(pilot, ADMIN)
        await steady(pilot)

    assert snap_compare(demo_app, terminal_size=size, run_before=signed_in)


@pytest.mark.parametrize("size", SIZES)
def test_sidebar_team_member(
    snap_compare: Any, demo_app: StratusApp, size: tuple[int, int]
) -> None:
    async def signed_in(pilot: Pilot[Any]) -> None:
        await sign_in(pilot, MEMBER)
        await steady(pilot)

    assert snap_compare(demo_app, terminal_size=size, run_before=signed_in)


@pytest.mark.parametrize("size", SIZES)
def test_expiry_warning(
    snap_compare: Any, demo_app: StratusApp, clocks: Clocks, size: tuple[int, int]
) -> None:
    async def nine_idle_minutes(pilot: Pilot[Any]) -> None:
        await sign_in(pilot, ADMIN)
        await steady(pilot)
        clocks.advance(545)
        demo_app.check_session()
        await pilot.pause()

    assert snap_compare(demo_app, terminal_size=size, run_before=nine_idle_minutes)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare: Any, demo_app: StratusApp, size: tuple[int, int]) -> None:
    async def help_open(pilot: Pilot[Any]) -> None:
        await sign_in(pilot, ADMIN)
        await steady(pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(demo_app, terminal_size=size, run_before=help_open)
