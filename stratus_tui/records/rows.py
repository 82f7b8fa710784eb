"""The Agents and Configuring Services lists: their columns and each record's cells.

A row is plain text made once per record (``agent_cells``, ``service_cells``) and stored
in the cache ready to show (``cache/listing.py``), so a page of 50,000 agents paints
without parsing 50,000 JSON records. Ids become names through ``Lookups``; an id the
lookups do not know (a team created since, one outside the user's scope) shows as "#12"
rather than failing the whole list. Cells are raw server text: the table cleans them when
it draws (``text.clean``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from stratus_tui.api import models
from stratus_tui.records.table import Column

NONE = "—"  # a workflow not set: a visible dash reads better than an empty cell


def _names() -> dict[int, str]:
    return {}


@dataclass(frozen=True)
class Lookups:
    """Names by id of what agents and services refer to."""

    org_units: Mapping[int, str] = field(default_factory=_names)
    teams: Mapping[int, str] = field(default_factory=_names)
    duty_profiles: Mapping[int, str] = field(default_factory=_names)
    traits: Mapping[int, str] = field(default_factory=_names)
    responsibilities: Mapping[int, str] = field(default_factory=_names)
    workflows: Mapping[int, str] = field(default_factory=_names)

    @classmethod
    def empty(cls) -> Lookups:
        """No names known (yet): every reference shows as its id."""
        return cls()


# What an admin scans for first comes first: at 120 columns beside the sidebar the list
# shows name, UPN, active, roles and teams; the rest scrolls into view on wider terminals.
AGENT_COLUMNS: tuple[Column, ...] = (
    Column("name", "Name", 20, "N", flex=True),
    Column("upn", "UPN", 24, "U"),
    Column("active", "Active", 6, "A"),
    Column("roles", "Roles", 14, "R"),
    Column("teams", "Teams", 16, "T", flex=True),
    Column("ou", "OU", 12, "O"),
    Column("duty", "Duty profile", 14, "D"),
    Column("sip", "SIP URI", 24, "P"),
)

SERVICE_COLUMNS: tuple[Column, ...] = (
    Column("name", "Name", 18, "N", flex=True),
    Column("kind", "Kind", 4, "K"),
    Column("team", "Team", 14, "T"),
    Column("address", "Address", 24, "A"),
    Column("policy", "Policy", 14, "P"),
    Column("sessions", "Max", 5, "M", numeric=True),
    Column("endpoints", "Endpoints", 9, "E", numeric=True),
    Column("emergency", "Emergency", 9, "X"),
    Column("workflow", "Workflow", 14, "W"),
    Column("display", "Display name", 18, "I", flex=True),
    Column("ou", "OU", 12, "O"),
)


def name_of(names: Mapping[int, str], item_id: int | None, missing: str = "") -> str:
    """The name of ``item_id``; "#12" when it is not known; ``missing`` when None."""
    if item_id is None:
        return missing
    name = names.get(item_id)
    return f"#{item_id}" if name is None else name


def names_of(names: Mapping[int, str], item_ids: Iterable[int]) -> str:
    """Names joined by ", ", sorted case-insensitively (unknown ids as "#12")."""
    return ", ".join(sorted((name_of(names, item) for item in item_ids), key=str.casefold))


def roles_text(roles: Iterable[str]) -> str:
    """ "tenant admin, team admin": the highest role first, as ``models.ROLES`` ranks them."""
    rank: dict[str, int] = {role: number for number, role in enumerate(models.ROLES)}
    ordered = sorted(set(roles), key=lambda role: (rank.get(role, len(rank)), role))
    return ", ".join(role.replace("_", " ") for role in ordered)


def policy_text(policy: models.DistributionPolicy) -> str:
    """ "strict · inbound", "WRR 3 · both"."""
    if policy.priority == "weighted_round_robin":
        priority = f"WRR {policy.wrr_level}" if policy.wrr_level is not None else "WRR"
    else:
        priority = str(policy.priority)
    return f"{priority} · {policy.direction}"


def agent_cells(user: models.User, lookups: Lookups) -> tuple[str, ...]:
    """An agent's row, in ``AGENT_COLUMNS`` order."""
    values = {
        "name": f"{user.first_name} {user.last_name}".strip(),
        "upn": user.upn,
        "sip": user.sip_uri or "",
        "ou": name_of(lookups.org_units, user.ou_id),
        "teams": names_of(lookups.teams, user.team_ids),
        "roles": roles_text(user.roles),
        "duty": name_of(lookups.duty_profiles, user.duty_profile_id),
        "active": "yes" if user.active else "no",
    }
    return tuple(values[column.key] for column in AGENT_COLUMNS)


def service_cells(service: models.Service, lookups: Lookups) -> tuple[str, ...]:
    """A service's row, in ``SERVICE_COLUMNS`` order."""
    values = {
        "name": service.name,
        "kind": str(service.kind),
        "address": service.address,
        "display": service.display_name,
        "team": name_of(lookups.teams, service.team_id),
        "ou": name_of(lookups.org_units, service.ou_id),
        "endpoints": str(len(service.endpoints)),
        "policy": policy_text(service.distribution),
        "sessions": str(service.max_concurrent_sessions),
        "workflow": name_of(lookups.workflows, service.workflow_id, NONE),
        "emergency": "on" if service.emergency_routing else "off",
    }
    return tuple(values[column.key] for column in SERVICE_COLUMNS)
