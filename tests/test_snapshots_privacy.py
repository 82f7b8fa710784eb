"""The Data Privacy page as SVG snapshots at 80x24 and 120x40."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from stratus_tui.app import StratusApp
from stratus_tui.server import db
from tests.conftest import ADMIN, NOW
from tests.tui import settle, sign_in, steady

SIZES = [(80, 24), (120, 40)]


@pytest.fixture(autouse=True)
def _steady(steady_screen: None) -> None:
    """Fixed clock, no cursor blink, UTC."""


def some_jobs() -> None:
    tenant = db.Tenant.get(db.Tenant.name == "Demo Corp")
    admin = db.User.get(db.User.upn_key == ADMIN)
    common = {
        "tenant": tenant,
        "requested_by": admin.id,
        "requested_by_name": "Zoë Müller",
        "date_from": "2026-08-01",
        "date_to": "2026-11-22",
    }
    jobs = [
        ("customer", "+41 44 668 18 00", "done", 37, None, 7200),
        ("agent", "lukasz.kowalski@demo.stratus", "failed", 0, "the agent no longer exists", 3600),
        ("customer", "sip:王伟@partner.example", "done", 4, None, 600),
    ]
    for kind, subject, state, rows, error, age in jobs:
        db.PrivacyExport.create(
            **common, subject_kind=kind, subject=subject, state=state, row_count=rows,
            progress=1.0 if state == "done" else 0.0, error=error,
            created_at=NOW - age, finished_at=NOW - age + 10,
        )  # fmt: skip


@pytest.mark.parametrize("size", SIZES)
def test_privacy_page(
    snap_compare: Any, make_app: Callable[..., StratusApp], size: tuple[int, int]
) -> None:
    some_jobs()

    async def run_before(pilot: Pilot[Any]) -> None:
        await sign_in(pilot, ADMIN)
        await settle(pilot)
        await pilot.press("4")
        await steady(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)
