"""The Data Privacy page as an admin uses it, against the reference server."""

from __future__ import annotations

import asyncio
import csv
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from peewee import fn
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

from stratus_tui.app import StratusApp
from stratus_tui.screens.dialogs import ChoiceDialog
from stratus_tui.screens.form import FormScreen
from stratus_tui.screens.pages.privacy import TENANT_ADMINS_ONLY, PrivacyPage
from stratus_tui.screens.privacy_dialogs import EraseDialog, RetentionDialog
from stratus_tui.server import db
from tests.conftest import ADMIN, TEAMADMIN
from tests.tui import open_page, settle, wait_for_screen


def demo_corp() -> db.Tenant:
    return db.Tenant.get(db.Tenant.name == "Demo Corp")


def busiest_customer() -> tuple[str, int]:
    """A customer of Demo Corp with several conversations, and how many."""
    row = (
        db.Conversation.select(db.Conversation.customer_id, fn.COUNT(db.Conversation.id))
        .where(db.Conversation.tenant_id == demo_corp().id)
        .group_by(db.Conversation.customer_id)
        .order_by(fn.COUNT(db.Conversation.id).desc())
        .tuples()
        .first()
    )
    assert row is not None
    return row[0], row[1]


async def fill(pilot: Pilot[Any], values: dict[str, Any]) -> None:
    form = pilot.app.screen
    assert isinstance(form, FormScreen)
    for name, value in values.items():
        if form.fields[name].spec.kind == "text":
            form.fields[name].query_one(Input).value = value
        else:
            form.fields[name].report(value)
    await pilot.pause()


async def until_done(pilot: Pilot[Any], page: PrivacyPage, job_id: int) -> None:
    for _ in range(200):
        job = page.records.get(job_id)
        if job is not None and job.state in ("done", "failed"):
            return
        await page.poll_jobs().wait()
        await asyncio.sleep(0.02)
    raise AssertionError(f"export {job_id} did not finish")


async def test_an_export_runs_and_downloads_the_subjects_conversations(
    make_app: Callable[..., StratusApp], tmp_path: Path
) -> None:
    customer, count = busiest_customer()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_page(pilot, ADMIN, "4", PrivacyPage)
        await pilot.press("n")
        await settle(pilot)
        await fill(pilot, {"subject_kind": "customer", "subject": customer,
                           "date_from": "2026-01-01", "date_to": "2026-12-31"})  # fmt: skip
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)
        job = db.PrivacyExport.get(db.PrivacyExport.subject == customer)
        await until_done(pilot, page, job.id)
        assert page.records[job.id].state == "done"
        assert page.records[job.id].row_count == count

        target = tmp_path / "subject.csv"
        await page.save_export(job.id, target).wait()
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        with target.open(encoding="utf-8-sig", newline="") as file:
            rows = list(csv.reader(file))
        header, body = rows[0], rows[1:]
        assert len(body) == count and "customer_id" in header
        column = header.index("customer_id")
        assert {row[column].lstrip("'") for row in body} == {customer}


async def test_a_wrong_range_is_refused_as_typed(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_page(pilot, ADMIN, "4", PrivacyPage)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        await fill(pilot, {"subject": "+41 44 000 00 00", "date_from": "2026-09-30",
                           "date_to": "2026-09-01"})  # fmt: skip
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert "before the first day" in str(form.fields["date_to"]._error.render())
        assert db.PrivacyExport.select().count() == 0


async def test_the_retention_is_shown_and_changed_after_a_warning(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_page(pilot, ADMIN, "4", PrivacyPage)
        before = demo_corp().retention_days
        line = str(page.query_one("#retention", Static).render())
        assert f"kept {before:,} days" in line
        await pilot.press("t")
        dialog = await wait_for_screen(pilot, RetentionDialog)
        dialog.query_one("#days", Input).value = "90"
        await pilot.pause()
        assert "will be deleted" in str(dialog.query_one("#retention-note", Static).render())
        await pilot.press("enter")
        confirm = await wait_for_screen(pilot, ChoiceDialog)
        confirm.query_one("#yes", Button).press()
        await settle(pilot)
        assert demo_corp().retention_days == 90
        assert "kept 90 days" in str(page.query_one("#retention", Static).render())


async def test_erasing_asks_for_the_identifier_twice(make_app: Callable[..., StratusApp]) -> None:
    customer, _ = busiest_customer()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_page(pilot, ADMIN, "4", PrivacyPage)
        await pilot.press("x")
        dialog = await wait_for_screen(pilot, EraseDialog)
        dialog.query_one("#identifier", Input).value = customer
        dialog.query_one("#again", Input).value = customer + "9"
        await pilot.pause()
        assert dialog.query_one("#erase", Button).disabled
        dialog.query_one("#again", Input).value = customer
        await pilot.pause()
        dialog.query_one("#erase", Button).press()
        await settle(pilot)
        left = db.Conversation.select().where(
            (db.Conversation.tenant_id == demo_corp().id)
            & (db.Conversation.customer_id == customer)
        )
        assert left.count() == 0
        assert any("Anonymised" in n.message for n in app._notifications)


async def test_team_admins_export_their_agents_but_change_nothing_tenant_wide(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_page(pilot, TEAMADMIN, "4", PrivacyPage)
        for key in ("t", "x"):
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, (RetentionDialog, EraseDialog))
            assert [n.message for n in app._notifications] == [TENANT_ADMINS_ONLY]
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.fields["subject_kind"].spec.choices == (("agent", "Agent (UPN)"),)
        assert page.is_tenant_admin is False
