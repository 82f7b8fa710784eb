"""Agents: everyone in the user's scope, filterable and sortable, edited by keyboard.

Tenant admins create, edit and delete agents; team admins see their teams' agents and may
change duty profile, traits, responsibilities and the active flag, and remove an agent from
a team they manage (``records/agents.py`` mirrors the server's rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual import work
from textual.content import Content

from stratus_tui.api import models
from stratus_tui.api.errors import StaleVersion, StratusError, Unauthenticated
from stratus_tui.records.agents import (
    ROLE_LABELS,
    agent_create,
    agent_fields,
    agent_title,
    agent_update,
    agent_values,
)
from stratus_tui.records.editing import AGENTS, ReadOnlyProfile, etag_of
from stratus_tui.records.forms import FieldSpec
from stratus_tui.screens.bindings import bind
from stratus_tui.screens.pages.records_page import RecordsPage, detail_lines


class AgentsPage(RecordsPage[models.User]):
    KIND = AGENTS
    TITLE = "Agents"
    PLURAL = "agents"
    BINDINGS = [bind("toggle_active", "toggle_active")]
    HELP = """
## Agents

Everyone in your scope. **/** filters as you type (any column), **s** sorts by the next
column, and the underlined capital letter of a column header (**N**ame, **U**PN, ...) sorts
by that column; the same key again flips the order.

**Enter** or **e** edits the highlighted agent, **n** adds one, **a** deactivates or
activates, **Delete** deletes (asks first). **i** shows or hides the detail pane.
Directory-synced names, UPN and SIP URI can only change in the directory.
"""

    @property
    def role(self) -> str:
        return self.session.user.role

    @property
    def managed(self) -> list[int]:
        return list(self.session.user.team_ids) if self.role == "team_admin" else []

    def fields(self, record: models.User | None) -> list[FieldSpec]:
        return agent_fields(
            self.reference, role=self.role, user=record, managed_team_ids=self.managed
        )

    def values(self, record: models.User | None) -> dict[str, Any]:
        return agent_values(record)

    def build_request(
        self,
        record: models.User | None,
        changes: Mapping[str, Any],
        values: Mapping[str, Any],
    ) -> models.Request:
        if record is None:
            return agent_create(values)
        return agent_update(changes, record, role=self.role, managed_team_ids=self.managed)

    def title_of(self, record: models.User | None) -> str:
        return agent_title(record)

    def refuse_create(self) -> str | None:
        if self.role == "team_admin":
            return "Team admins may not add agents: a tenant admin does."
        return None

    def refuse_delete(self, record: models.User) -> str | None:
        if self.role == "team_admin":
            return "Team admins may not delete agents; edit one (e) to remove it from your teams."
        if record.id == self.session.user.id:
            return "You cannot delete your own account."
        return None

    def detail(self, record: models.User) -> Content:
        names = self.reference.lookups()

        def listed(ids: list[int], table: Mapping[int, str]) -> str:
            return ", ".join(sorted(table.get(i, f"#{i}") for i in ids))

        return detail_lines(
            [
                ("Name", f"{record.first_name} {record.last_name}"),
                ("UPN", record.upn),
                ("SIP URI", record.sip_uri or ""),
                ("Organization unit", names.org_units.get(record.ou_id or 0, "")),
                ("Roles", ", ".join(ROLE_LABELS.get(r, r) for r in record.roles)),
                ("Teams", listed(record.team_ids, names.teams)),
                ("Manages", listed(record.managed_team_ids, names.teams)),
                ("Duty profile", names.duty_profiles.get(record.duty_profile_id or 0, "")),
                ("Traits", listed(record.trait_ids, names.traits)),
                ("Responsibilities", listed(record.responsibility_ids, names.responsibilities)),
                ("Active", "yes" if record.active else "no"),
                (
                    "Directory",
                    "synced (names, UPN, SIP URI)" if record.directory_synced else "local",
                ),
            ]
        )

    def action_toggle_active(self) -> None:
        if (record_id := self.writable_cursor()) is not None:
            self.toggle_active(record_id)

    @work(exclusive=True, group="records-form", exit_on_error=False)
    async def toggle_active(self, record_id: int) -> None:
        record = await self.record(record_id)
        if record is None:
            return
        body = models.UserUpdate(active=not record.active)
        self._pending(record, body)
        try:
            saved, _ = await self.editor.update(self.KIND, record.id, body, etag=etag_of(record))
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return
        except (StratusError, ReadOnlyProfile) as error:
            self._rollback(record)
            stale = isinstance(error, StaleVersion)
            self.notify(
                f"{agent_title(record)} was changed by someone else meanwhile; the list now "
                "shows their version. Nothing was changed."
                if stale
                else str(error),
                title="Not changed",
                severity="error",
            )
            if stale:
                self.refresh_records(background=False)
            return
        self._confirmed(saved)
        state = "activated" if saved.active else "deactivated"
        self.notify(f"{agent_title(saved)} {state}", title="Agents")
