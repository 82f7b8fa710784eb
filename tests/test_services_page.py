"""The Configuring Services page against the reference server: create, edit, delete, the
distribution policy, validation, and the bulk edit with its diff and confirmation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from textual.pilot import Pilot
from textual.widgets import Button, Input, Select

from stratus_tui.app import StratusApp
from stratus_tui.screens.bulk_edit import BulkEditScreen
from stratus_tui.screens.dialogs import ChoiceDialog
from stratus_tui.screens.form import FormScreen
from stratus_tui.screens.pages.services import ServicesPage
from stratus_tui.server import db
from tests.conftest import ADMIN, Login
from tests.hostile import HOSTILE
from tests.tui import open_page, settle, wait_for_screen


async def open_services(pilot: Pilot[Any], user: str = ADMIN) -> ServicesPage:
    return await open_page(pilot, user, "3", ServicesPage)


def tenant_services() -> list[Any]:
    tenant = db.User.get(db.User.upn_key == ADMIN).tenant_id
    return list(db.Service.select().where(db.Service.tenant == tenant).order_by(db.Service.id))


def type_into(form: FormScreen, name: str, text: str) -> None:
    form.fields[name].query_one(Input).value = text


async def test_create_edit_and_delete_a_service_by_keyboard(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_services(pilot)
        assert page.table.visible_count == len(tenant_services())
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        type_into(form, "name", "Night line")
        type_into(form, "address", "night@demo.stratus")  # a call service wants a SIP URI
        type_into(form, "display_name", "Night")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "SIP URI" in str(form.fields["address"]._error.render())
        type_into(form, "address", "sip:night@demo.stratus")
        form.fields["team_id"].report(form.fields["team_id"].spec.choices[0][0])
        form.fields["priority"].report("weighted_round_robin")
        await pilot.pause()
        type_into(form, "wrr_level", "9")
        await pilot.pause()
        assert "between 1 and 7" in str(form.fields["wrr_level"]._error.render())
        type_into(form, "wrr_level", "3")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        created = db.Service.get(db.Service.name == "Night line")
        assert (created.priority, created.wrr_level) == ("weighted_round_robin", 3)
        assert created.address == "sip:night@demo.stratus"
        assert page.table.cursor_id == created.id

        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        type_into(form, "max_concurrent_sessions", "25")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert db.Service.get_by_id(created.id).max_concurrent_sessions == 25

        await pilot.press("delete")
        await wait_for_screen(pilot, ChoiceDialog)
        app.screen.query_one("#yes", Button).press()
        await settle(pilot)
        assert db.Service.get_or_none(db.Service.id == created.id) is None


async def test_bulk_edit_shows_the_diff_and_saves_after_confirmation(
    make_app: Callable[..., StratusApp],
) -> None:
    services = tenant_services()[:3]
    db.Service.update(max_concurrent_sessions=20).where(db.Service.id == services[0].id).execute()
    db.Service.update(max_concurrent_sessions=5).where(
        db.Service.id.in_([s.id for s in services[1:]])
    ).execute()
    db.Service.update(name=HOSTILE["click_action"]).where(db.Service.id == services[2].id).execute()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_services(pilot)
        for service in services:
            page.table.move_cursor_to(service.id)
            await pilot.press("space")
        assert page.table.marked == {s.id for s in services}
        await pilot.press("b")
        bulk = await wait_for_screen(pilot, BulkEditScreen)
        await pilot.pause()
        bulk.query_one("#bulk-field", Select).value = "max_concurrent_sessions"
        await pilot.pause()
        bulk.query_one("#bulk-value Input", Input).value = "20"
        await pilot.pause()
        diff = str(bulk.query_one("#bulk-rows").render())
        assert "= " in diff and "≠ " in diff and "5 → 20" in diff
        assert HOSTILE["click_action"] in diff
        assert "2 will change, 1 have it already" in str(bulk.query_one("#bulk-summary").render())
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, ChoiceDialog)
        assert all(db.Service.get_by_id(s.id).max_concurrent_sessions != 20 for s in services[1:])
        app.screen.query_one("#yes", Button).press()
        await settle(pilot)
        assert {db.Service.get_by_id(s.id).max_concurrent_sessions for s in services} == {20}
        assert not page.table.marked


async def test_bulk_edit_leaves_a_service_changed_meanwhile_alone(
    make_app: Callable[..., StratusApp], client: httpx.AsyncClient, login: Login
) -> None:
    services = tenant_services()[:2]
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_services(pilot)
        page.table.marked.update(s.id for s in services)
        await pilot.press("b")
        bulk = await wait_for_screen(pilot, BulkEditScreen)
        await pilot.pause()
        bulk.query_one("#bulk-field", Select).value = "emergency_routing"
        await pilot.pause()
        current = {s.id: s.emergency_routing for s in services}
        bulk.query_one("#bulk-value").query_one("Checkbox").toggle()  # type: ignore[attr-defined]
        await pilot.pause()
        headers = await login("sysadmin@demo.stratus")
        first = services[0].id
        answer = await client.get(f"/services/{first}", headers=headers)
        changed = await client.patch(
            f"/services/{first}",
            json={"display_name": "Changed meanwhile"},
            headers={**headers, "If-Match": answer.headers["ETag"]},
        )
        assert changed.status_code == 200
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, ChoiceDialog)
        app.screen.query_one("#yes", Button).press()
        await settle(pilot)
        first_row = db.Service.get_by_id(first)
        assert first_row.display_name == "Changed meanwhile"
        assert first_row.emergency_routing == current[first]  # not overwritten
        assert any("meanwhile" in n.message for n in app._notifications)
