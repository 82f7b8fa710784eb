"""Settings · Workflows: the call flows, which services use them, files in and out.

The list is a ``RecordsPage`` (filter, sort, detail pane, new / edit / delete); the detail
pane shows the definition step by step. **d** exports the highlighted workflow to a signed
JSON file, **u** imports one (a file changed since its export is refused by the server, a
file that is not an export is refused before anything is sent), **w** points one service at
the highlighted workflow, which applies to new calls at once, so it asks first.

Only tenant (and system) admins change workflows; a team admin sees them and may switch the
workflow of their own services. A read-only profile sends nothing (``Editor``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from stratus_tui.api import models
from stratus_tui.api.errors import StaleVersion, StratusError, Unauthenticated
from stratus_tui.keys import spec
from stratus_tui.records.editing import SERVICES, ReadOnlyProfile, Reference
from stratus_tui.records.forms import FieldSpec
from stratus_tui.records.rows import NONE, name_of
from stratus_tui.records.workflows import (
    WORKFLOWS,
    WorkflowEditor,
    WorkflowFileError,
    WorkflowReference,
    default_file_name,
    definition_lines,
    export_document,
    import_document,
    read_workflow_file,
    switch_workflow,
    workflow_create,
    workflow_fields,
    workflow_title,
    workflow_update,
    workflow_values,
    write_workflow_file,
)
from stratus_tui.screens.bindings import bind
from stratus_tui.screens.confirm import confirm_change
from stratus_tui.screens.dialogs import DIALOG_CSS, SaveAsDialog
from stratus_tui.screens.pages.records_page import RecordsPage, detail_lines
from stratus_tui.widgets.safe import safe, safe_lines

if TYPE_CHECKING:
    from stratus_tui.session import Session

USED_BY_SHOWN = 30  # services listed by name in the detail pane
ADMIN_ONLY = "Only tenant admins change workflows; w switches one of your services' workflow."


class ImportDialog(ModalScreen[tuple[Path, int] | None]):
    """Which file to import, into which organization unit; escape cancels."""

    DEFAULT_CSS = "ImportDialog {" + DIALOG_CSS + "} ImportDialog #note { color: $text-muted; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel_import")]

    def __init__(self, folder: Path, org_units: list[tuple[int, str]], ou_id: int | None) -> None:
        super().__init__()
        self._folder = folder
        self._org_units = org_units
        self._ou_id = ou_id

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Import a workflow file (JSON)", classes="title")
            # The folder filled in, the cursor after it: type the file's name.
            path = Input(str(self._folder) + "/", id="import-path", select_on_focus=False)
            path.border_title = "File"
            yield path
            units = [(safe(name), unit) for unit, name in self._org_units]
            yield Select(units, value=self._ou_id or Select.NULL, allow_blank=False,
                         prompt="Organization unit", id="import-ou")  # fmt: skip
            yield Static("A file changed since its export is refused.", id="note")
            with Horizontal(id="buttons"):
                yield Button("Import", variant="primary", id="import")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()

    @on(Input.Submitted, "#import-path")
    @on(Button.Pressed, "#import")
    def _import(self) -> None:
        text = self.query_one("#import-path", Input).value.strip()
        unit = self.query_one("#import-ou", Select).value
        path = Path(text).expanduser()
        if not text or path.is_dir():
            self.query_one("#note", Static).update("Type the path of a workflow file.")
        elif not isinstance(unit, int):
            self.query_one("#note", Static).update("Choose an organization unit.")
        else:
            self.dismiss((path, unit))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ServicePicker(ModalScreen[int | None]):
    """Which service should use the workflow: each with the workflow it uses now."""

    DEFAULT_CSS = (
        "ServicePicker {" + DIALOG_CSS + "} ServicePicker OptionList { height: auto; "
        "max-height: 16; border: none; } ServicePicker #hint { color: $text-muted; }"
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel_pick")]

    def __init__(self, workflow: str, rows: list[tuple[int, str, str, bool]]) -> None:
        """``rows``: (service id, name, its workflow's name, uses this one already)."""
        super().__init__()
        self._workflow = workflow
        self._rows = rows

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.assemble("Which service should use ", safe(self._workflow),
                                          "?"), classes="title")  # fmt: skip
            options = [
                Option(Content.assemble(safe(name, max_length=40), ("  now: ", "dim"),
                                        safe(current, max_length=40)),
                       id=str(service_id), disabled=already)
                for service_id, name, current, already in self._rows
            ]  # fmt: skip
            yield OptionList(*options, id="services")
            yield Static("enter: choose (asks first) · escape: cancel", id="hint")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0) or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class WorkflowsSection(RecordsPage[models.Workflow]):
    KIND = WORKFLOWS
    TITLE = "Settings · Workflows"
    PLURAL = "workflows"
    BINDINGS = [
        Binding(spec("download").keys, "download", "Export", id="download",
                tooltip="Export the highlighted workflow to a signed JSON file"),
        bind("import_file", "import_file"),
        bind("switch_workflow", "switch_service"),
    ]  # fmt: skip
    HELP = """
## Workflows

Call flows (inbound) and surveys, and the services that use each. **i** shows the highlighted
workflow's steps. **n** creates one (from a starter flow), **e** renames it or moves it to
another organization unit, **Delete** deletes one no service uses.

**d** exports the highlighted workflow to a JSON file signed by the server; **u** imports
such a file (a file changed since its export is refused). **w** makes a service use the
highlighted workflow: it applies to new calls at once, so it asks first.
"""

    def __init__(self, session: Session, *, id: str) -> None:
        super().__init__(session, id=id)
        # Its reference holds the services too: their names for "used by", and their
        # workflow and version for switching one.
        self.editor = WorkflowEditor(session.client, session.cache, read_only=session.read_only)
        self.reference: Reference = WorkflowReference()

    @property
    def services(self) -> list[models.Service]:
        reference = self.reference
        return reference.services if isinstance(reference, WorkflowReference) else []

    # --- what the page says about its records --------------------------------------------

    def fields(self, record: models.Workflow | None) -> list[FieldSpec]:
        return workflow_fields(self.reference, creating=record is None)

    def values(self, record: models.Workflow | None) -> dict[str, Any]:
        return workflow_values(record)

    def build_request(self, record: models.Workflow | None, changes: Mapping[str, Any],
                      values: Mapping[str, Any]) -> models.Request:  # fmt: skip
        return workflow_create(values) if record is None else workflow_update(changes)

    def title_of(self, record: models.Workflow | None) -> str:
        return workflow_title(record)

    def _read_only_reason(self) -> str | None:
        if self.session.user.role == "team_admin":
            return ADMIN_ONLY
        return super()._read_only_reason()

    def detail(self, record: models.Workflow) -> Content:
        names = self.reference.lookups()
        pairs = [
            ("Name", record.name),
            ("Type", record.type),
            ("Organization unit", name_of(names.org_units, record.ou_id)),
        ]
        services = {service.id: service.name for service in self.services}
        used = sorted((name_of(services, i) for i in record.service_ids), key=str.casefold)
        if len(used) > USED_BY_SHOWN:  # one per line: the first ones, and how many more
            used[USED_BY_SHOWN:] = [f"… and {len(used) - USED_BY_SHOWN} more"]
        return Content("\n").join([
            detail_lines(pairs),
            Content.styled(f"Used by {len(record.service_ids)} service(s)", "dim"),
            safe_lines("\n".join(used) or NONE, max_length=4000),
            Content(""),
            Content.styled("Steps", "dim"),
            safe_lines("\n".join(definition_lines(record.definition))),
        ])  # fmt: skip

    def _workflow_for(self, verb: str) -> models.Workflow | None:
        """The highlighted workflow as the server last sent it; None (and why, said)."""
        record_id = self.table.cursor_id
        workflow = self.records.get(record_id) if record_id is not None else None
        if record_id is None:
            self.notify(f"Highlight the workflow to {verb} first.", severity="warning")
        elif workflow is None:  # painted from the cache, the server has not answered yet
            self.notify("The server has not sent the workflows yet; try again in a moment.")
        return workflow

    # --- export ----------------------------------------------------------------------------

    def action_download(self) -> None:
        from stratus_tui.export.csv import default_export_dir

        workflow = self._workflow_for("export")
        if workflow is None:
            return
        # The title is markup to the dialog: the workflow's name stays out of it.
        default = default_export_dir() / default_file_name(workflow.name)
        dialog = SaveAsDialog("Export the highlighted workflow (signed JSON)", default)

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.export(workflow, path)

        self.app.push_screen(dialog, chosen)

    @work(exclusive=True, group="workflow-file", exit_on_error=False)
    async def export(self, workflow: models.Workflow, path: Path) -> None:
        from stratus_tui.export.atomic import ExportError

        try:
            document = await export_document(self.editor, workflow.id)
            await asyncio.to_thread(write_workflow_file, path, document)
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
        except (StratusError, ExportError) as error:
            self.notify(f"Not exported: {error}", severity="error", timeout=15)
        else:
            self.notify(f"Exported {workflow.name} to {path}", title=self.TITLE, timeout=10)

    # --- import ----------------------------------------------------------------------------

    def action_import_file(self) -> None:
        from stratus_tui.export.csv import default_export_dir

        if reason := self._read_only_reason():
            self.notify(reason, severity="warning")
            return
        units = list(self.reference.org_unit_choices())
        if not units:
            self.notify("The organization units are not loaded yet; try again.")
            return
        current = self.records.get(self.table.cursor_id or 0)
        dialog = ImportDialog(default_export_dir(), units, current.ou_id if current else None)

        def chosen(answer: tuple[Path, int] | None) -> None:
            if answer is not None:
                self.import_file(*answer)

        self.app.push_screen(dialog, chosen)

    @work(exclusive=True, group="workflow-file", exit_on_error=False)
    async def import_file(self, path: Path, ou_id: int) -> None:
        try:
            body = await asyncio.to_thread(read_workflow_file, path, ou_id=ou_id)
            workflow = await import_document(self.editor, body)
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return
        except (WorkflowFileError, StratusError, ReadOnlyProfile) as error:
            self.notify(f"{error}", title="Not imported", severity="error", timeout=20)
            return
        self._confirmed(workflow)
        self.table.move_cursor_to(workflow.id)
        self.notify(f"Imported {workflow.name} from {path.name}", title=self.TITLE)

    # --- switching a service's workflow ----------------------------------------------------

    def action_switch_service(self) -> None:
        if reason := super()._read_only_reason():  # a team admin may switch their services
            self.notify(reason, severity="warning")
            return
        workflow = self._workflow_for("make a service use")
        if workflow is not None:
            self.switch_service(workflow)

    @work(exclusive=True, group="records-form", exit_on_error=False)
    async def switch_service(self, workflow: models.Workflow) -> None:
        try:  # fresh: the current workflow shown and the version sent are the server's now
            services = await self.editor.client.get_all("/services", models.Service)
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return
        except StratusError as error:
            self.notify(f"Cannot list the services: {error}", severity="error")
            return
        if not services:
            self.notify("There are no services to switch.", severity="warning")
            return
        self._remember_services(services)
        flows = self.reference.lookups().workflows
        rows = [(s.id, s.name, name_of(flows, s.workflow_id, NONE), s.workflow_id == workflow.id)
                for s in sorted(services, key=lambda s: s.name.casefold())]  # fmt: skip
        chosen = await self.app.push_screen_wait(ServicePicker(workflow.name, rows))
        service = next((s for s in services if s.id == chosen), None)
        if service is None:
            return
        old = name_of(flows, service.workflow_id, "no workflow")
        if not await confirm_change(
            self.app,
            self.session.profile,
            "Switch the service's workflow?",
            f"{service.name} will use {workflow.name} instead of {old} on "
            f"{self.session.profile.name}. New calls use it at once; calls in progress "
            "keep their flow.",
            yes="Switch workflow",
        ):
            return
        await self._switch(service, workflow)

    async def _switch(self, service: models.Service, workflow: models.Workflow) -> None:
        try:
            saved = await switch_workflow(self.editor, service, workflow.id)
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return
        except StaleVersion:
            message = f"{service.name} was changed by someone else meanwhile; nothing switched."
            self.notify(message + " Press w to try again.", severity="error", timeout=15)
            return
        except (StratusError, ReadOnlyProfile) as error:
            self.notify(f"{error}", title="Not switched", severity="error", timeout=15)
            return
        self._remember_services([saved if s.id == saved.id else s for s in self.services])
        self.run_worker(self.editor.remember(SERVICES, saved, self.reference),
                        group="records-store", exit_on_error=False)  # fmt: skip
        self.notify(f"{saved.name} now uses {workflow.name} for new calls.", title=self.TITLE)
        for workflow_id in {w for w in (service.workflow_id, workflow.id) if w is not None}:
            try:  # both rows' "used by" changed
                fresh, _ = await self.editor.load(self.KIND, workflow_id)
            except StratusError:
                continue
            self._confirmed(fresh)

    def _remember_services(self, services: list[models.Service]) -> None:
        self.reference = WorkflowReference.of(self.reference, services)
