"""Configuring Services: call and mail services, edited one at a time or several at once.

**Space** marks services and **b** changes one field of all of them, after showing which
already have the value (green, "=") and which will change (yellow, "≠") and asking: the
product has no undo. Each service is saved with the ETag it was read at, so one changed
meanwhile by someone else is left alone and reported, never overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual import work
from textual.content import Content

from stratus_tui.api import models
from stratus_tui.api.errors import StaleVersion, StratusError, Unauthenticated
from stratus_tui.records.editing import SERVICES, ReadOnlyProfile
from stratus_tui.records.forms import FieldSpec
from stratus_tui.records.services import (
    BULK_FIELDS,
    RENAME,
    check_address,
    service_create,
    service_fields,
    service_title,
    service_update,
    service_values,
)
from stratus_tui.screens.bindings import bind
from stratus_tui.screens.confirm import confirm_change
from stratus_tui.screens.pages.records_page import RecordsPage, detail_lines


class ServicesPage(RecordsPage[models.Service]):
    KIND = SERVICES
    RENAME = RENAME
    TITLE = "Configuring Services"
    PLURAL = "services"
    MARKABLE = True  # space marks, b edits the marked ones together
    BINDINGS = [bind("bulk_edit", "bulk_edit")]
    HELP = """
## Configuring Services

Call and mail services. **/** filters, **s** or a column's capital letter sorts (again:
the other way round). **Enter** or **e** edits, **n** creates, **Delete** deletes (asks
first).

**Space** marks services; **b** changes one field of every marked one: you see which
already have the new value (=) and which will change (≠) before you confirm.
"""

    def fields(self, record: models.Service | None) -> list[FieldSpec]:
        return service_fields(self.reference, creating=record is None)

    def values(self, record: models.Service | None) -> dict[str, Any]:
        return service_values(record)

    def check_all(self, values: Mapping[str, Any]) -> dict[str, str]:
        return check_address(values)

    def build_request(
        self,
        record: models.Service | None,
        changes: Mapping[str, Any],
        values: Mapping[str, Any],
    ) -> models.Request:
        if record is None:
            return service_create(values)
        return service_update(changes, service_values(record))

    def title_of(self, record: models.Service | None) -> str:
        return service_title(record)

    def detail(self, record: models.Service) -> Content:
        names = self.reference.lookups()
        policy = record.distribution
        priority = (
            f"weighted round robin, level {policy.wrr_level}"
            if policy.priority == "weighted_round_robin"
            else "strict priority"
        )
        endpoints = "\n".join(
            point.address + (f" ({point.label})" if point.label else "")
            for point in record.endpoints
        )
        return detail_lines(
            [
                ("Name", record.name),
                ("Kind", record.kind),
                ("Address", record.address),
                ("Display name", record.display_name),
                ("Team", names.teams.get(record.team_id, f"#{record.team_id}")),
                ("Organization unit", names.org_units.get(record.ou_id, f"#{record.ou_id}")),
                (f"Endpoints ({len(record.endpoints)})", endpoints),
                ("Distribution", f"{priority}, {policy.direction}"),
                ("Max concurrent sessions", str(record.max_concurrent_sessions)),
                ("Workflow", names.workflows.get(record.workflow_id or 0, "")),
                ("Emergency routing", "on" if record.emergency_routing else "off"),
            ]
        )

    # --- bulk edit -----------------------------------------------------------------------

    def action_bulk_edit(self) -> None:
        if reason := self._read_only_reason():
            self.notify(reason, severity="warning")
            return
        marked = sorted(self.table.marked)
        if not marked:
            self.notify("Mark services with space first, then press b.", severity="warning")
            return
        self.bulk_edit(marked)

    @work(exclusive=True, group="records-form", exit_on_error=False)
    async def bulk_edit(self, service_ids: list[int]) -> None:
        from stratus_tui.screens.bulk_edit import BulkEditScreen

        try:  # fresh copies: the diff and the ETags are of what is on the server now
            loaded = [await self.editor.load(self.KIND, sid) for sid in service_ids]
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return
        except StratusError as error:
            self.notify(str(error), title="Cannot start the bulk edit", severity="error")
            return
        services = [service for service, _ in loaded]
        etags = {service.id: etag or f'"{service.version}"' for service, etag in loaded}
        for service in services:
            self._confirmed(service)
        specs = [spec for spec in self.fields(services[0]) if spec.name in BULK_FIELDS]
        choice = await self.app.push_screen_wait(BulkEditScreen(services, specs))
        if choice is None:
            return
        field, value, label = choice
        changing = [s for s in services if service_values(s)[field] != value]
        if not changing:
            self.notify("Every marked service has that value already: nothing to save.")
            return
        if not await confirm_change(
            self.app,
            self.session.profile,
            "Apply the bulk edit?",
            f"{label} of {len(changing)} service(s) will change on "
            f"{self.session.profile.name}. There is no undo.",
            yes=f"Change {len(changing)} services",
        ):
            return
        await self._apply_bulk(changing, etags, field, value)

    async def _apply_bulk(
        self,
        services: list[models.Service],
        etags: dict[int, str],
        field: str,
        value: Any,
    ) -> None:
        changed, stale, failed = 0, [], []
        for service in services:
            try:
                body = service_update({field: value}, service_values(service))
                self._pending(service, body)
                saved, _ = await self.editor.update(
                    self.KIND, service.id, body, etag=etags[service.id]
                )
            except Unauthenticated as error:
                self.app.end_session(str(error))  # type: ignore[attr-defined]
                return
            except StaleVersion:
                self._rollback(service)
                stale.append(service.name)
                continue
            except (StratusError, ReadOnlyProfile, ValueError) as error:
                self._rollback(service)
                failed.append(f"{service.name}: {error}")
                continue
            self._confirmed(saved)
            changed += 1
        self.table.marked.clear()
        self.table.refresh()
        lines = [f"{changed} service(s) changed."]
        if stale:
            lines.append("Changed by someone else meanwhile, left as they are: " + ", ".join(stale))
        if failed:
            lines.extend(failed)
        problem = bool(stale or failed)
        self.notify(
            "\n".join(lines),
            title="Bulk edit",
            severity="warning" if problem else "information",
            timeout=12 if problem else 5,
        )
        if stale:
            self.refresh_records(background=False)
