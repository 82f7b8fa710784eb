"""The Settings sections that are plain lists: responsibilities, duty profiles, O365 apps.

Each is a ``RecordsPage`` (filter, sort, create, edit with If-Match, delete after asking);
these classes only say what their records are (``records/settings_lists.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from textual.content import Content

from stratus_tui.api import models
from stratus_tui.records import settings_lists as lists
from stratus_tui.records.forms import FieldSpec
from stratus_tui.records.rows import names_of
from stratus_tui.screens.pages.records_page import RecordsPage, detail_lines
from stratus_tui.screens.pages.sections import settings_read_only_reason

M = TypeVar("M", models.Responsibility, models.DutyProfile, models.O365App, models.Team)


class SettingsList(RecordsPage[M]):
    """A list section: changed by tenant admins, read by team admins."""

    def _read_only_reason(self) -> str | None:
        return settings_read_only_reason(self.session)


class ResponsibilitiesSection(SettingsList[models.Responsibility]):
    KIND = lists.RESPONSIBILITIES
    TITLE = "Settings · Responsibilities"
    PLURAL = "responsibilities"
    HELP = """
## Responsibilities

What an agent may be responsible for (inbound calls, escalations...); duty profiles switch
them on. **n** adds one, **e** renames it or moves it to another organization unit,
**Delete** deletes it (asks first), **escape** returns to "Where to start".
"""

    def fields(self, record: models.Responsibility | None) -> list[FieldSpec]:
        return lists.responsibility_fields(self.reference)

    def values(self, record: models.Responsibility | None) -> dict[str, Any]:
        return lists.responsibility_values(record)

    def build_request(
        self,
        record: models.Responsibility | None,
        changes: Mapping[str, Any],
        values: Mapping[str, Any],
    ) -> models.Request:
        return lists.responsibility_request(record, changes, values)

    def title_of(self, record: models.Responsibility | None) -> str:
        return "New responsibility" if record is None else record.name

    def detail(self, record: models.Responsibility) -> Content:
        names = self.reference.lookups()
        users = [p.name for p in self.reference.duty_profiles if record.id in p.responsibility_ids]
        return detail_lines(
            [
                ("Name", record.name),
                ("Organization unit", names.org_units.get(record.ou_id, f"#{record.ou_id}")),
                ("Switched on by duty profiles", ", ".join(sorted(users))),
            ]
        )


class DutyProfilesSection(SettingsList[models.DutyProfile]):
    KIND = lists.DUTY_PROFILES
    TITLE = "Settings · Duty profiles"
    PLURAL = "duty profiles"
    HELP = f"""
## Duty profiles

When agents work, how many escalation levels apply, and which responsibilities are switched
on. Working hours are typed as days and times: `{lists.HOURS_EXAMPLE}`. **n** adds,
**e** edits, **Delete** deletes (refused while agents use the profile), **escape** returns to
"Where to start".
"""

    def fields(self, record: models.DutyProfile | None) -> list[FieldSpec]:
        return lists.duty_profile_fields(self.reference)

    def values(self, record: models.DutyProfile | None) -> dict[str, Any]:
        return lists.duty_profile_values(record)

    def build_request(
        self,
        record: models.DutyProfile | None,
        changes: Mapping[str, Any],
        values: Mapping[str, Any],
    ) -> models.Request:
        return lists.duty_profile_request(record, changes, values)

    def title_of(self, record: models.DutyProfile | None) -> str:
        return "New duty profile" if record is None else record.name

    def detail(self, record: models.DutyProfile) -> Content:
        names = self.reference.lookups()
        return detail_lines(
            [
                ("Name", record.name),
                ("Organization unit", names.org_units.get(record.ou_id, f"#{record.ou_id}")),
                ("Working hours", lists.format_hours(record.working_hours).replace("; ", "\n")),
                ("Escalation levels", str(record.escalation_levels)),
                ("Responsibilities", names_of(names.responsibilities, record.responsibility_ids)),
            ]
        )


class O365AppsSection(SettingsList[models.O365App]):
    KIND = lists.O365_APPS
    TITLE = "Settings · O365 applications"
    PLURAL = "O365 applications"
    HELP = """
## O365 applications

One Azure AD application per mail domain: a user name ending in that domain gets the
**Sign in with O365** button on the sign-in screen. **n** adds, **e** edits, **Delete**
deletes (asks first), **escape** returns to "Where to start".
"""

    def fields(self, record: models.O365App | None) -> list[FieldSpec]:
        return lists.o365_fields()

    def values(self, record: models.O365App | None) -> dict[str, Any]:
        return lists.o365_values(record)

    def build_request(
        self, record: models.O365App | None, changes: Mapping[str, Any], values: Mapping[str, Any]
    ) -> models.Request:
        return lists.o365_request(record, changes, values)

    def title_of(self, record: models.O365App | None) -> str:
        return "New O365 application" if record is None else record.domain

    def detail(self, record: models.O365App) -> Content:
        return detail_lines(
            [
                ("Mail domain", record.domain),
                ("Azure tenant id", record.azure_tenant_id),
                ("Client id", record.client_id),
                ("Authority", record.authority),
            ]
        )


class TeamsSection(SettingsList[models.Team]):
    KIND = lists.TEAMS
    TITLE = "Settings · Teams"
    PLURAL = "teams"
    HELP = """
## Teams

Groups of agents: services belong to a team, and reporting counts per team in its time
zone. **n** adds one, **e** renames it, moves it to another organization unit or changes its
time zone, **Delete** deletes it (refused while agents or services use it), **escape**
returns to "Where to start".
"""

    def fields(self, record: models.Team | None) -> list[FieldSpec]:
        return lists.team_fields(self.reference)

    def values(self, record: models.Team | None) -> dict[str, Any]:
        return lists.team_values(record)

    def build_request(
        self, record: models.Team | None, changes: Mapping[str, Any], values: Mapping[str, Any]
    ) -> models.Request:
        return lists.team_request(record, changes, values)

    def title_of(self, record: models.Team | None) -> str:
        return "New team" if record is None else record.name

    def detail(self, record: models.Team) -> Content:
        names = self.reference.lookups()
        return detail_lines(
            [
                ("Name", record.name),
                ("Organization unit", names.org_units.get(record.ou_id, f"#{record.ou_id}")),
                ("Time zone", record.time_zone),
            ]
        )
