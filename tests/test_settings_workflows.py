"""Settings · Workflows against the reference server: the list with the services using each
workflow, export and import of signed files (tampered and non-JSON files refused, nothing
changed), switching a service's workflow after asking, deleting one in use refused, hostile
names shown literally, and a read-only profile sending nothing."""

from __future__ import annotations

import dataclasses
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, OptionList, Static

from stratus_tui.app import StratusApp
from stratus_tui.screens.dialogs import ChoiceDialog, SaveAsDialog
from stratus_tui.screens.pages.settings_workflows import (
    ImportDialog,
    ServicePicker,
    WorkflowsSection,
)
from stratus_tui.server import db
from tests.conftest import ADMIN
from tests.hostile import HOSTILE
from tests.tui import PROFILE, open_settings, settle, wait_for_screen


def tenant_id() -> int:
    tenant: int | None = db.User.get(db.User.upn_key == ADMIN).tenant_id
    assert tenant is not None
    return tenant


def workflows() -> list[Any]:
    return list(db.Workflow.select().where(db.Workflow.tenant == tenant_id()))


def workflow_named(name: str) -> Any:
    return db.Workflow.get((db.Workflow.tenant == tenant_id()) & (db.Workflow.name == name))


async def open_workflows(pilot: Pilot[Any]) -> WorkflowsSection:
    """Sign in as the tenant admin, open Settings (6), then its Workflows section."""
    await open_settings(pilot, ADMIN, "workflows")
    section = pilot.app.screen.query_one(WorkflowsSection)
    section.table.focus()
    await pilot.pause()
    return section


def shown(section: WorkflowsSection) -> dict[str, tuple[str, ...]]:
    """The rows on the list, by workflow name."""
    assert section.rowset is not None
    return {
        row[0]: row for row in (section.rowset.cells(i) for i in section.records) if row is not None
    }


async def export_to(pilot: Pilot[Any], section: WorkflowsSection, path: Path) -> None:
    await pilot.press("d")
    dialog = await wait_for_screen(pilot, SaveAsDialog)
    dialog.query_one("#path", Input).value = str(path)
    await pilot.press("enter")
    await settle(pilot)


async def import_from(pilot: Pilot[Any], path: Path) -> None:
    await pilot.press("u")
    dialog = await wait_for_screen(pilot, ImportDialog)
    dialog.query_one("#import-path", Input).value = str(path)
    await pilot.press("enter")
    await settle(pilot)


def messages(app: StratusApp) -> str:
    return "\n".join(n.message for n in app._notifications)


async def test_the_list_shows_type_ou_and_the_services_using_each(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        section = await open_workflows(pilot)
        rows = shown(section)
        assert set(rows) == {w.name for w in workflows()}
        standard = workflow_named("Standard inbound")
        using = sorted(
            (s.name for s in db.Service.select().where(db.Service.workflow == standard.id)),
            key=str.casefold,
        )
        assert using
        _, kind, ou, count, services = rows["Standard inbound"]
        assert (kind, ou, count) == ("inbound", standard.ou.name, str(len(using)))
        assert services == ", ".join(using)
        assert rows["Customer survey"][1] == "survey"
        section.table.move_cursor_to(standard.id)
        await pilot.press("i")  # the pane shows by itself only on wide terminals
        await settle(pilot)
        detail = str(section.query_one("#records-detail-text", Static).render())
        assert "welcome: announcement" in detail and "key 1 → queue" in detail
        assert detail.index("welcome:") < detail.index("menu:") < detail.index("queue:")
        assert all(name in detail for name in using)
        section.table.move_cursor_to(workflow_named("Customer survey").id)  # follows the cursor
        await settle(pilot)
        detail = str(section.query_one("#records-detail-text", Static).render())
        assert "q1: question" in detail and "Used by 0 service(s)" in detail


async def test_export_writes_a_private_file_that_imports_again(
    make_app: Callable[..., StratusApp], tmp_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        section = await open_workflows(pilot)
        standard = workflow_named("Standard inbound")
        section.table.move_cursor_to(standard.id)
        await pilot.press("d")
        dialog = await wait_for_screen(pilot, SaveAsDialog)
        assert dialog.query_one("#path", Input).value.endswith("workflow-Standard-inbound.json")
        await pilot.press("escape")
        await pilot.pause()
        target = tmp_path / "out" / "standard.json"
        await export_to(pilot, section, target)
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        document = json.loads(target.read_text())
        assert document["format"] == "stratus-workflow" and document["signature"]
        assert document["definition"] == json.loads(standard.definition)

        before = len(workflows())
        await import_from(pilot, target)
        assert len(workflows()) == before + 1
        imported = max(workflows(), key=lambda w: w.id)
        assert imported.name == "Standard inbound"
        assert json.loads(imported.definition) == json.loads(standard.definition)
        assert section.table.cursor_id == imported.id
        assert "Imported Standard inbound" in messages(app)


async def test_a_tampered_or_foreign_file_is_refused_and_nothing_changes(
    make_app: Callable[..., StratusApp], tmp_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        section = await open_workflows(pilot)
        section.table.move_cursor_to(workflow_named("After hours").id)
        exported = tmp_path / "after-hours.json"
        await export_to(pilot, section, exported)
        document = json.loads(exported.read_text())
        document["definition"]["steps"]["closed"]["text"] = "Call our premium line instead."
        tampered = tmp_path / "tampered.json"
        tampered.write_text(json.dumps(document))
        before = [(w.id, w.name, w.definition, w.version) for w in workflows()]

        await import_from(pilot, tampered)
        assert "signature does not match" in messages(app)
        app.clear_notifications()

        not_json = tmp_path / "notes.json"
        not_json.write_text("these are my notes, not a workflow\n")
        await import_from(pilot, not_json)
        assert "notes.json cannot be imported: it is not JSON" in messages(app)
        app.clear_notifications()

        await import_from(pilot, tmp_path / "missing.json")
        assert "does not exist" in messages(app)
        after = [(w.id, w.name, w.definition, w.version) for w in workflows()]
        assert after == before
        assert set(shown(section)) == {w.name for w in workflows()}


async def test_switching_a_service_asks_then_changes_it(
    make_app: Callable[..., StratusApp],
) -> None:
    survey = workflow_named("Customer survey")
    service = (
        db.Service.select()
        .where((db.Service.tenant == tenant_id()) & (db.Service.workflow != survey.id))
        .order_by(db.Service.name)
        .first()
    )
    old_workflow, version = service.workflow_id, service.version
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        section = await open_workflows(pilot)
        section.table.move_cursor_to(survey.id)
        await pilot.press("w")
        picker = await wait_for_screen(pilot, ServicePicker)
        options = picker.query_one(OptionList)
        index = next(
            i for i in range(options.option_count)
            if options.get_option_at_index(i).id == str(service.id)
        )  # fmt: skip
        options.highlighted = index
        await pilot.press("enter")
        confirm = await wait_for_screen(pilot, ChoiceDialog)
        assert "New calls use it at once" in str(confirm.query_one("Static:last-of-type").render())
        assert db.Service.get_by_id(service.id).workflow_id == old_workflow  # not yet
        confirm.query_one("#yes", Button).press()
        await settle(pilot)
        changed = db.Service.get_by_id(service.id)
        assert changed.workflow_id == survey.id and changed.version == version + 1
        assert service.name in shown(section)["Customer survey"][4]

        # Cancelled: nothing changes.
        section.table.move_cursor_to(old_workflow)
        await pilot.press("w")
        await wait_for_screen(pilot, ServicePicker)
        await pilot.press("escape")
        await settle(pilot)
        assert db.Service.get_by_id(service.id).workflow_id == survey.id


async def test_deleting_a_workflow_in_use_is_refused_with_the_servers_reason(
    make_app: Callable[..., StratusApp],
) -> None:
    standard = workflow_named("Standard inbound")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        section = await open_workflows(pilot)
        section.table.move_cursor_to(standard.id)
        await pilot.press("delete")
        await wait_for_screen(pilot, ChoiceDialog)
        app.screen.query_one("#yes", Button).press()
        await settle(pilot)
        assert db.Workflow.get_or_none(db.Workflow.id == standard.id) is not None
        assert "assign them another workflow first" in messages(app)
        assert "Standard inbound" in shown(section)  # back in the list


async def test_hostile_names_render_literally(
    make_app: Callable[..., StratusApp], tmp_path: Path
) -> None:
    survey = workflow_named("Customer survey")
    db.Workflow.update(name=HOSTILE["click_action"]).where(db.Workflow.id == survey.id).execute()
    definition = json.loads(survey.definition)
    definition["steps"]["q1"]["text"] = HOSTILE["bad_markup"] + HOSTILE["csi_7bit"]
    db.Workflow.update(definition=json.dumps(definition)).where(
        db.Workflow.id == survey.id
    ).execute()
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        section = await open_workflows(pilot)
        section.table.move_cursor_to(survey.id)
        await pilot.press("i")
        await settle(pilot)
        assert HOSTILE["click_action"] in shown(section)
        detail = str(section.query_one("#records-detail-text", Static).render())
        assert HOSTILE["click_action"] in detail and "[/oops]" in detail
        assert "\x1b" not in detail and "␛[2J" in detail
        await pilot.press("d")
        dialog = await wait_for_screen(pilot, SaveAsDialog)
        assert dialog.query_one("#path", Input).value.endswith("workflow-click-app-quit-x.json")
        dialog.query_one("#path", Input).value = str(tmp_path / "hostile.json")
        await pilot.press("enter")
        await settle(pilot)
        assert json.loads((tmp_path / "hostile.json").read_text())["name"] == survey_name()
        await pilot.press("w")
        picker = await wait_for_screen(pilot, ServicePicker)
        assert HOSTILE["click_action"] in str(picker.query_one(".title", Static).render())
        await pilot.press("escape")
        await settle(pilot)


def survey_name() -> str:
    return HOSTILE["click_action"]


@pytest.mark.parametrize("key", ["n", "u", "w", "delete"])
async def test_a_read_only_profile_sends_nothing(
    make_app: Callable[..., StratusApp], tmp_path: Path, key: str
) -> None:
    before = [(w.id, w.name, w.version) for w in workflows()]
    services = [(s.id, s.workflow_id, s.version) for s in db.Service.select()]
    app = make_app(dataclasses.replace(PROFILE, read_only=True))
    async with app.run_test(size=(120, 40)) as pilot:
        section = await open_workflows(pilot)
        section.table.move_cursor_to(workflow_named("After hours").id)
        await pilot.press(key)
        await settle(pilot)
        assert "read-only" in messages(app)
        assert not isinstance(app.screen, ImportDialog | ServicePicker | ChoiceDialog)
        assert [(w.id, w.name, w.version) for w in workflows()] == before
        assert [(s.id, s.workflow_id, s.version) for s in db.Service.select()] == services
        # Exporting is reading: allowed, and a local file only.
        target = tmp_path / "ro.json"
        await export_to(pilot, section, target)
        assert target.exists()
