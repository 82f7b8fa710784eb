"""Data Privacy: exports of one subject's history, the retention, erasing an identifier.

The exports are a list like every other (filter, sort, detail pane): ``n`` asks the server
for a new one, which it runs as a job; while any job is queued or running the list is polled
every ``POLL_SECONDS`` (nothing is fetched otherwise), so state and progress move by
themselves. ``d`` downloads a finished export as CSV (atomic, 0600, formula-safe). Tenant
admins also see and change the retention (``t``) and erase a customer identifier (``x``);
team admins export their teams' agents only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.content import Content
from textual.widgets import Static

from stratus_tui.api import models
from stratus_tui.api.errors import StratusError, Unauthenticated
from stratus_tui.records import privacy
from stratus_tui.records.forms import FieldSpec
from stratus_tui.screens.bindings import bind
from stratus_tui.screens.confirm import confirm_change
from stratus_tui.screens.dialogs import SaveAsDialog
from stratus_tui.screens.pages.records_page import RecordsPage, detail_lines
from stratus_tui.screens.privacy_dialogs import EraseDialog, RetentionDialog
from stratus_tui.widgets.safe import safe

if TYPE_CHECKING:
    from stratus_tui.session import Session

POLL_SECONDS = 2.0
TENANT_ADMINS_ONLY = "Only tenant admins change the retention or erase identifiers."
SYSTEM_ADMIN_NOTE = "Sign in with an account of the tenant to export, erase or set retention."


class PrivacyPage(RecordsPage[models.PrivacyExport]):
    DEFAULT_CSS = """
    PrivacyPage #retention { color: $text-muted; height: 1; }
    """
    KIND = privacy.PRIVACY_EXPORTS
    TITLE = "Data Privacy · exports of historic data"
    PLURAL = "exports"
    BINDINGS = [
        bind("download", "download"),
        bind("erase", "erase"),
        bind("retention", "retention"),
    ]
    HELP = """
## Data Privacy

**Exports** of one subject's history (an agent's UPN or a customer's phone number, SIP address
or mail) over a date range, for a data subject's request. **n** starts one; the server runs it
and the list follows its state. **d** downloads a finished export as CSV. **enter** shows one.

**t** shows and changes how long the history is kept (the server deletes older
conversations); **x** erases a customer identifier from the history for good (typed twice).
Both are for tenant admins.
"""

    def __init__(self, session: Session, *, id: str) -> None:
        super().__init__(session, id=id)
        self.tenant: models.Tenant | None = None
        self.tenant_etag: str | None = None
        self.downloading = 0  # the export the save-as dialog is for

    @property
    def is_tenant_admin(self) -> bool:
        return self.session.user.role in ("tenant_admin", "system_admin")

    def on_mount(self) -> None:
        super().on_mount()
        self.mount(Static("", id="retention"), after=self.query_one(".page-title"))
        self.load_tenant()
        self.set_interval(POLL_SECONDS, self._poll)

    # --- the exports ---------------------------------------------------------------------

    def fields(self, record: models.PrivacyExport | None) -> list[FieldSpec]:
        fields = privacy.export_fields()
        if self.session.user.role == "team_admin":  # their teams' agents only
            kind = fields[0]
            fields[0] = FieldSpec(kind.name, kind.label, "choice", required=True,
                                  choices=(("agent", "Agent (UPN)"),),
                                  help="Team admins export their teams' agents.")  # fmt: skip
        if record is not None:  # a job is never edited: its form is for reading
            fields = [
                FieldSpec(f.name, f.label, f.kind, choices=f.choices, read_only="a started job")
                for f in fields
            ]
        return fields

    def values(self, record: models.PrivacyExport | None) -> dict[str, Any]:
        if record is None:
            values = privacy.export_values(date.today())
            if self.session.user.role == "team_admin":
                values["subject_kind"] = "agent"
            return values
        return {
            "subject_kind": record.subject_kind,
            "subject": record.subject,
            "date_from": record.date_from.isoformat(),
            "date_to": record.date_to.isoformat(),
        }

    def check_all(self, values: Mapping[str, Any]) -> dict[str, str]:
        return privacy.check_range(values)

    def build_request(
        self,
        record: models.PrivacyExport | None,
        changes: Mapping[str, Any],
        values: Mapping[str, Any],
    ) -> models.Request:
        return privacy.export_request(values)

    def title_of(self, record: models.PrivacyExport | None) -> str:
        return "New export of historic data" if record is None else f"Export #{record.id}"

    def refuse_create(self) -> str | None:
        if self.session.user.tenant_id is None:
            return SYSTEM_ADMIN_NOTE
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Exports are kept as a record of who exported what: nothing to delete.
        if action == "delete":
            return False
        return super().check_action(action, parameters)

    def detail(self, record: models.PrivacyExport) -> Content:
        pairs = [
            ("Subject", f"{record.subject} ({record.subject_kind})"),
            ("Days", f"{record.date_from} to {record.date_to}"),
            ("State", privacy.state_text(record)),
            ("Requested by", record.requested_by_name),
            ("Created", record.created_at.strftime("%Y-%m-%d %H:%M")),
        ]
        if record.state == "done":
            pairs.append(("Conversations", f"{record.row_count:,} (d downloads them)"))
        if record.error:
            pairs.append(("Failed because", record.error))
        return detail_lines(pairs)

    def _poll(self) -> None:
        if privacy.any_active(self.records):
            self.poll_jobs()

    @work(exclusive=True, group="privacy-poll", exit_on_error=False)
    async def poll_jobs(self) -> None:
        """The jobs again (not the reference lists): state and progress move by themselves."""
        try:
            jobs = await self.session.client.get_all(
                self.KIND.path, self.KIND.model, background=True
            )
        except StratusError:
            return  # the next poll tries again; the status line keeps the last answer
        for job in jobs:
            if self.records.get(job.id) != job:
                before = self.records.get(job.id)
                self._confirmed(job)
                if before is not None and before.state != job.state and job.state == "done":
                    self.notify(f"Export #{job.id} is ready: d downloads it.", title=self.TITLE)
                elif before is not None and job.state == "failed":
                    self.notify(f"Export #{job.id} failed: {job.error}", severity="error")

    # --- download ------------------------------------------------------------------------

    def action_download(self) -> None:
        job = self.records.get(self.table.cursor_id or -1)
        if job is None:
            return
        if job.state != "done":
            self.notify(f"Export #{job.id} is {privacy.state_text(job)}: nothing to download yet.")
            return
        from stratus_tui.export.csv import default_export_dir
        from stratus_tui.export.privacy_csv import default_privacy_file_name

        default = default_export_dir() / default_privacy_file_name(job.id)
        dialog = SaveAsDialog(f"Download export #{job.id} (CSV)", default)
        self.downloading = job.id
        self.app.push_screen(dialog, self._download_to)

    def _download_to(self, path: Path | None) -> None:
        if path is not None:
            self.save_export(self.downloading, path)

    @work(exclusive=True, group="privacy-download", exit_on_error=False)
    async def save_export(self, job_id: int, path: Path) -> None:
        from stratus_tui.export.csv import ExportError
        from stratus_tui.export.privacy_csv import write_privacy_csv

        try:
            result = await self.session.client.get(
                f"{self.KIND.item_path(job_id)}/result", models.PrivacyExportResult
            )
            count = await asyncio.to_thread(write_privacy_csv, result, path)
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return
        except (StratusError, ExportError) as error:
            self.notify(f"Export #{job_id} was not saved: {error}", severity="error", timeout=15)
            return
        self.notify(f"Saved {count:,} conversations to {path}", title=self.TITLE, timeout=15)

    # --- retention -----------------------------------------------------------------------

    @work(exclusive=True, group="privacy-tenant", exit_on_error=False)
    async def load_tenant(self) -> None:
        line = self.query_one("#retention", Static)
        tenant_id = self.session.user.tenant_id
        if tenant_id is None:
            line.update(SYSTEM_ADMIN_NOTE)
            return
        try:
            self.tenant, self.tenant_etag = await self.session.client.get_with_etag(
                f"/tenants/{tenant_id}", models.Tenant
            )
        except StratusError as error:
            line.update(safe(f"Retention unknown: {error}", max_length=None))
            return
        keys = " · t: change" if self.is_tenant_admin else ""
        line.update(Content(privacy.retention_text(self.tenant.retention_days) + keys))

    def action_retention(self) -> None:
        if reason := self._admin_refusal():
            self.notify(reason, severity="warning")
            return
        self.change_retention()

    def _admin_refusal(self) -> str | None:
        if self.session.user.tenant_id is None:
            return SYSTEM_ADMIN_NOTE
        if not self.is_tenant_admin:
            return TENANT_ADMINS_ONLY
        return self._read_only_reason()

    @work(exclusive=True, group="privacy-change", exit_on_error=False)
    async def change_retention(self) -> None:
        tenant = self.tenant
        if tenant is None or self.tenant_etag is None:
            self.notify("The tenant's retention is not known yet; r refreshes.")
            return
        days = await self.app.push_screen_wait(RetentionDialog(tenant.retention_days))
        if days is None:
            return
        warning = privacy.retention_warning(tenant.retention_days, days)
        if warning and not await confirm_change(
            self.app, self.session.profile, "Delete older history?", warning,
            yes=f"Keep {days:,} days",
        ):  # fmt: skip
            return
        try:
            self.tenant, self.tenant_etag = await self.session.client.update(
                f"/tenants/{tenant.id}", models.TenantUpdate(retention_days=days),
                models.Tenant, etag=self.tenant_etag,
            )  # fmt: skip
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return
        except StratusError as error:
            self.notify(f"The retention was not changed: {error}", severity="error")
            self.load_tenant()
            return
        self.load_tenant()
        self.notify(privacy.retention_text(days), title="Retention changed")

    # --- erase ---------------------------------------------------------------------------

    def action_erase(self) -> None:
        if reason := self._admin_refusal():
            self.notify(reason, severity="warning")
            return
        self.erase()

    @work(exclusive=True, group="privacy-change", exit_on_error=False)
    async def erase(self) -> None:
        identifier = await self.app.push_screen_wait(EraseDialog())
        if not identifier:
            return
        if self.session.profile.protected and not await confirm_change(
            self.app, self.session.profile, "Erase for good?",
            "The identifier is anonymised in every conversation of the tenant.",
            yes="Erase identifier",
        ):  # fmt: skip
            return
        try:
            erased, _ = await self.session.client.create(
                "/privacy/erasures",
                models.ErasureCreate(customer_identifier=identifier),
                models.Erasure,
            )
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return
        except StratusError as error:
            self.notify(f"Nothing was erased: {error}", severity="error")
            return
        if not erased.conversations:
            self.notify("No conversation of your tenant has this identifier; nothing changed.",
                        title="Nothing to erase")  # fmt: skip
            return
        self.notify(
            f"Anonymised {erased.conversations:,} conversations. Local caches follow at their "
            "next history sync.",
            title="Identifier erased",
            timeout=15,
        )
