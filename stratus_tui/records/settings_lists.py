"""Settings kept as plain lists: responsibilities, duty profiles and O365 applications.

Each kind has its columns, its row cells, its form and its requests here (no Textual), as the
agents and services have in ``rows.py`` / ``agents.py`` / ``services.py``. Working hours are
typed as text ("Mon-Fri 08:00-17:00; Sat 09:00-12:00"): one line reads faster and types faster
than 14 time pickers, and the same parser checks it as the user types.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from stratus_tui.api import models, validation
from stratus_tui.records.editing import RecordKind, Reference
from stratus_tui.records.forms import FieldSpec
from stratus_tui.records.requests import build
from stratus_tui.records.rows import Lookups, name_of, names_of
from stratus_tui.records.table import Column

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_ENTRY = re.compile(
    r"^(?P<first>[A-Za-z]{3})(?:\s*-\s*(?P<last>[A-Za-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$"
)
HOURS_EXAMPLE = "Mon-Fri 08:00-17:00; Sat 09:00-12:00"


# --- working hours as text -----------------------------------------------------------------


def parse_hours(text: str) -> list[dict[str, Any]]:
    """``HOURS_EXAMPLE``-style text → the contract's working hours; ValueError says why."""
    hours: list[dict[str, Any]] = []
    for part in filter(None, (piece.strip() for piece in text.split(";"))):
        found = _ENTRY.match(part)
        if found is None:
            raise ValueError(f"“{part}” is not like “Mon-Fri 08:00-17:00”")
        days = [_day(found["first"])]
        if found["last"]:
            last = _day(found["last"])
            if last < days[0]:
                raise ValueError(f"“{part}”: {DAYS[last]} comes before {DAYS[days[0]]}")
            days = list(range(days[0], last + 1))
        start, end = _clock(found["start"]), _clock(found["end"])
        if start >= end:
            raise ValueError(f"“{part}”: {start} is not before {end}")
        hours += [{"weekday": day, "start": start, "end": end} for day in days]
    if len(hours) > 50:
        raise ValueError("at most 50 day entries")
    return hours


def _day(name: str) -> int:
    for number, day in enumerate(DAYS):
        if day.lower() == name.lower():
            return number
    raise ValueError(f"“{name}” is not a day: use {', '.join(DAYS)}")


def _clock(text: str) -> str:
    text = text.zfill(5)
    if error := validation.clock_time_error(text):
        raise ValueError(f"{text} {error}")
    return text


def format_hours(hours: Sequence[Any]) -> str:
    """The inverse of ``parse_hours``: consecutive days with the same times as one range."""
    entries = sorted((h.weekday, h.start, h.end) for h in hours)
    parts: list[str] = []
    index = 0
    while index < len(entries):
        first, start, end = entries[index]
        last = first
        while index + 1 < len(entries) and entries[index + 1] == (last + 1, start, end):
            index += 1
            last += 1
        days = DAYS[first] if first == last else f"{DAYS[first]}-{DAYS[last]}"
        parts.append(f"{days} {start}-{end}")
        index += 1
    return "; ".join(parts)


def hours_error(value: Any) -> str | None:
    try:
        parse_hours(str(value or ""))
    except ValueError as error:
        return str(error)
    return None


# --- responsibilities ----------------------------------------------------------------------

RESPONSIBILITY_COLUMNS = (
    Column("name", "Name", 24, "N", flex=True),
    Column("ou", "OU", 16, "O"),
)


def responsibility_cells(item: models.Responsibility, lookups: Lookups) -> tuple[str, ...]:
    return (item.name, name_of(lookups.org_units, item.ou_id))


RESPONSIBILITIES: RecordKind[models.Responsibility] = RecordKind(
    "responsibility", "/responsibilities", models.Responsibility, "responsibility",
    RESPONSIBILITY_COLUMNS, responsibility_cells,
)  # fmt: skip


def _name_check(value: Any) -> str | None:
    return validation.unstorable_text_error(value) if isinstance(value, str) else None


def responsibility_fields(reference: Reference) -> list[FieldSpec]:
    return [
        FieldSpec("name", "Name", "text", required=True, check=_name_check),
        FieldSpec("ou_id", "Organization unit", "choice", required=True,
                  choices=reference.org_unit_choices()),
    ]  # fmt: skip


def responsibility_values(item: models.Responsibility | None) -> dict[str, Any]:
    if item is None:
        return {"name": "", "ou_id": None}
    return {"name": item.name, "ou_id": item.ou_id}


def responsibility_request(
    item: models.Responsibility | None, changes: Mapping[str, Any], values: Mapping[str, Any]
) -> models.Request:
    if item is None:
        return build(models.ResponsibilityCreate, values)
    return build(models.ResponsibilityUpdate, changes)


# --- duty profiles -------------------------------------------------------------------------

DUTY_PROFILE_COLUMNS = (
    Column("name", "Name", 20, "N", flex=True),
    Column("ou", "OU", 14, "O"),
    Column("hours", "Working hours", 28, "H"),
    Column("levels", "Escalation", 10, "E", numeric=True),
    Column("responsibilities", "Responsibilities", 24, "R", flex=True),
)


def duty_profile_cells(item: models.DutyProfile, lookups: Lookups) -> tuple[str, ...]:
    return (
        item.name,
        name_of(lookups.org_units, item.ou_id),
        format_hours(item.working_hours),
        str(item.escalation_levels),
        names_of(lookups.responsibilities, item.responsibility_ids),
    )


DUTY_PROFILES: RecordKind[models.DutyProfile] = RecordKind(
    "duty_profile", "/duty-profiles", models.DutyProfile, "duty profile",
    DUTY_PROFILE_COLUMNS, duty_profile_cells,
)  # fmt: skip


def duty_profile_fields(reference: Reference) -> list[FieldSpec]:
    return [
        FieldSpec("name", "Name", "text", required=True, check=_name_check),
        FieldSpec("ou_id", "Organization unit", "choice", required=True,
                  choices=reference.org_unit_choices()),
        FieldSpec("working_hours", "Working hours", "text", check=hours_error,
                  help=f"Days and times, e.g. {HOURS_EXAMPLE}", placeholder=HOURS_EXAMPLE),
        FieldSpec("escalation_levels", "Escalation levels", "int", required=True,
                  minimum=0, maximum=5),
        FieldSpec("responsibility_ids", "Responsibilities", "multi",
                  help="Switched on by this profile",
                  choices=tuple((r.id, r.name) for r in reference.responsibilities)),
    ]  # fmt: skip


def duty_profile_values(item: models.DutyProfile | None) -> dict[str, Any]:
    if item is None:
        return {"name": "", "ou_id": None, "working_hours": "", "escalation_levels": 1,
                "responsibility_ids": ()}  # fmt: skip
    return {
        "name": item.name,
        "ou_id": item.ou_id,
        "working_hours": format_hours(item.working_hours),
        "escalation_levels": item.escalation_levels,
        "responsibility_ids": tuple(item.responsibility_ids),
    }


def duty_profile_request(
    item: models.DutyProfile | None, changes: Mapping[str, Any], values: Mapping[str, Any]
) -> models.Request:
    data = dict(values if item is None else changes)
    if "working_hours" in data:
        with contextlib.suppress(ValueError):  # else the model refuses it, at the field
            data["working_hours"] = parse_hours(str(data["working_hours"] or ""))
    if "responsibility_ids" in data:
        data["responsibility_ids"] = sorted(data["responsibility_ids"])
    model = models.DutyProfileCreate if item is None else models.DutyProfileUpdate
    return build(model, data)


# --- O365 applications ---------------------------------------------------------------------

O365_COLUMNS = (
    Column("domain", "Domain", 22, "D", flex=True),
    Column("tenant", "Azure tenant id", 36, "T"),
    Column("client", "Client id", 36, "C"),
)


def o365_cells(item: models.O365App, lookups: Lookups) -> tuple[str, ...]:
    return (item.domain, item.azure_tenant_id, item.client_id)


O365_APPS: RecordKind[models.O365App] = RecordKind(
    "o365_app", "/o365-apps", models.O365App, "O365 application", O365_COLUMNS, o365_cells
)


def _domain_check(value: Any) -> str | None:
    return validation.domain_error(value) if value else None


def _guid_check(value: Any) -> str | None:
    return validation.guid_error(value) if value else None


def o365_fields() -> list[FieldSpec]:
    guid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    return [
        FieldSpec("domain", "Mail domain", "text", required=True, check=_domain_check,
                  placeholder="contoso.com",
                  help="User names ending @domain get the O365 button at sign-in"),
        FieldSpec("azure_tenant_id", "Azure tenant id", "text", required=True,
                  check=_guid_check, placeholder=guid),
        FieldSpec("client_id", "Client id", "text", required=True, check=_guid_check,
                  placeholder=guid, help="The app registration's application (client) id"),
    ]  # fmt: skip


def o365_values(item: models.O365App | None) -> dict[str, Any]:
    if item is None:
        return {"domain": "", "azure_tenant_id": "", "client_id": ""}
    return {"domain": item.domain, "azure_tenant_id": item.azure_tenant_id,
            "client_id": item.client_id}  # fmt: skip


def o365_request(
    item: models.O365App | None, changes: Mapping[str, Any], values: Mapping[str, Any]
) -> models.Request:
    if item is None:
        return build(models.O365AppCreate, values)
    return build(models.O365AppUpdate, changes)


# --- teams -----------------------------------------------------------------------------------

TEAM_COLUMNS = (
    Column("name", "Name", 24, "N", flex=True),
    Column("ou", "OU", 16, "O"),
    Column("zone", "Time zone", 20, "Z"),
)


def team_cells(item: models.Team, lookups: Lookups) -> tuple[str, ...]:
    return (item.name, name_of(lookups.org_units, item.ou_id), item.time_zone)


TEAMS: RecordKind[models.Team] = RecordKind(
    "team", "/teams", models.Team, "team", TEAM_COLUMNS, team_cells
)


def _zone_check(value: Any) -> str | None:
    return validation.time_zone_error(value) if value else None


def team_fields(reference: Reference) -> list[FieldSpec]:
    return [
        FieldSpec("name", "Name", "text", required=True, check=_name_check),
        FieldSpec("ou_id", "Organization unit", "choice", required=True,
                  choices=reference.org_unit_choices()),
        FieldSpec("time_zone", "Time zone", "text", check=_zone_check,
                  placeholder="Europe/Zurich",
                  help="Reporting counts hours in it; the tenant's when left empty"),
    ]  # fmt: skip


def team_values(item: models.Team | None) -> dict[str, Any]:
    if item is None:
        return {"name": "", "ou_id": None, "time_zone": ""}
    return {"name": item.name, "ou_id": item.ou_id, "time_zone": item.time_zone}


def team_request(
    item: models.Team | None, changes: Mapping[str, Any], values: Mapping[str, Any]
) -> models.Request:
    data = dict(values if item is None else changes)
    if not data.get("time_zone", "x"):
        data.pop("time_zone")  # empty: the tenant's (a new team) / unchanged
    model = models.TeamCreate if item is None else models.TeamUpdate
    return build(model, data)
