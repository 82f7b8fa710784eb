"""The Home dashboard, healthy and broken, as SVG snapshots at 80x24 and 120x40."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from stratus_tui.app import StratusApp
from stratus_tui.server import db
from tests.conftest import ADMIN, MEMBER
from tests.tui import sign_in, steady

SIZES = [(80, 24), (120, 40)]


@pytest.fixture(autouse=True)
def _steady(steady_screen: None) -> None:
    """Every snapshot here uses the fixed clock and no cursor blink."""


def stop(instance: str, component: str, state: str = "stopped") -> None:
    row = db.Instance.get(db.Instance.name == instance)
    db.Component.update(state=state).where(
        db.Component.instance == row.id, db.Component.abbreviation == component
    ).execute()


def signed_in_as(username: str) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await sign_in(pilot, username)
        await steady(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_healthy(
    snap_compare: Any, make_app: Callable[..., StratusApp], size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=signed_in_as(ADMIN))


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_calls_cannot_be_routed(
    snap_compare: Any, make_app: Callable[..., StratusApp], size: tuple[int, int]
) -> None:
    stop("STRATUS-BE01", "ICH")
    stop("STRATUS-BE02", "ICH")
    stop("STRATUS-FE02", "SMD", "degraded")
    assert snap_compare(make_app(), terminal_size=size, run_before=signed_in_as(ADMIN))


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_team_member(
    snap_compare: Any, make_app: Callable[..., StratusApp], size: tuple[int, int]
) -> None:
    stop("STRATUS-BE02", "CIC")
    assert snap_compare(make_app(), terminal_size=size, run_before=signed_in_as(MEMBER))
