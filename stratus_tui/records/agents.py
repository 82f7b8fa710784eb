"""The agent form: which fields each role may change, and the requests made from it.

Mirrors the server's rules (``server/routes/users.py``) so the user is told before saving,
not by a 403 after: team admins change duty profile, traits, responsibilities and the active
flag of their teams' agents and may remove them from teams they manage, never add; names,
UPN and SIP URI of a directory-synced agent only change in the directory. The server still
checks everything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stratus_tui.api import models, validation
from stratus_tui.records.editing import Reference
from stratus_tui.records.forms import FieldSpec
from stratus_tui.records.requests import build

SYNCED = "synced from the directory: change it there"
TEAM_ADMIN_ONLY = "only a tenant admin changes this"
ROLE_LABELS: dict[str, str] = {
    "system_admin": "system admin",
    "tenant_admin": "tenant admin",
    "team_admin": "team admin",
    "team_member": "team member",
}


def _name_check(value: Any) -> str | None:
    return validation.unstorable_text_error(value) if isinstance(value, str) else None


def _upn_check(value: Any) -> str | None:
    return validation.mail_address_error(value) if value else None


def _sip_check(value: Any) -> str | None:
    return validation.sip_uri_error(value) if value else None


def agent_fields(
    reference: Reference,
    *,
    role: str,
    user: models.User | None = None,
    managed_team_ids: Sequence[int] = (),
) -> list[FieldSpec]:
    """The form for a new agent (``user`` None) or for ``user``, as ``role`` may edit it."""
    team_admin = role == "team_admin"
    synced = user is not None and user.directory_synced

    def locked(directory_field: bool) -> str | None:
        if team_admin:
            return TEAM_ADMIN_ONLY
        return SYNCED if directory_field and synced else None

    roles = [r for r in models.ROLES if r != "system_admin" or role == "system_admin"]
    teams = [(team.id, team.name) for team in reference.teams]
    team_help = ""
    if team_admin and user is not None:
        managed = set(managed_team_ids)
        teams = [(tid, name) for tid, name in teams if tid in managed and tid in user.team_ids]
        team_help = "You may remove the agent from teams you manage, not add them."
    return [
        FieldSpec("first_name", "First name", "text", required=True, check=_name_check,
                  read_only=locked(True)),
        FieldSpec("last_name", "Last name", "text", required=True, check=_name_check,
                  read_only=locked(True)),
        FieldSpec("upn", "UPN (sign-in name)", "text", required=True, check=_upn_check,
                  read_only=locked(True), placeholder="alice@example.com"),
        FieldSpec("sip_uri", "SIP URI", "text", check=_sip_check, read_only=locked(True),
                  placeholder="sip:alice@example.com"),
        FieldSpec("ou_id", "Organization unit", "choice", required=True,
                  choices=reference.org_unit_choices(),
                  read_only=locked(False)),
        FieldSpec("roles", "Roles", "multi",
                  choices=tuple((r, ROLE_LABELS[r]) for r in roles), read_only=locked(False)),
        FieldSpec("team_ids", "Teams", "multi", choices=tuple(teams), help=team_help),
        FieldSpec("managed_team_ids", "Manages teams", "multi",
                  choices=tuple((team.id, team.name) for team in reference.teams),
                  read_only=locked(False), help="Only for team admins",
                  shown_if=lambda values: "team_admin" in (values.get("roles") or ())),
        FieldSpec("duty_profile_id", "Duty profile", "choice",
                  choices=tuple((p.id, p.name) for p in reference.duty_profiles)),
        FieldSpec("trait_ids", "Traits", "multi",
                  choices=tuple((t.id, t.name) for t in reference.traits)),
        FieldSpec("responsibility_ids", "Responsibilities", "multi",
                  choices=tuple((r.id, r.name) for r in reference.responsibilities)),
        FieldSpec("active", "Active", "bool"),
    ]  # fmt: skip


def agent_values(user: models.User | None = None) -> dict[str, Any]:
    """A form's starting values: the agent's, or a new agent's defaults."""
    if user is None:
        return {
            "first_name": "",
            "last_name": "",
            "upn": "",
            "sip_uri": "",
            "ou_id": None,
            "roles": ("team_member",),
            "team_ids": (),
            "managed_team_ids": (),
            "duty_profile_id": None,
            "trait_ids": (),
            "responsibility_ids": (),
            "active": True,
        }
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "upn": user.upn,
        "sip_uri": user.sip_uri or "",
        "ou_id": user.ou_id,
        "roles": tuple(user.roles),
        "team_ids": tuple(user.team_ids),
        "managed_team_ids": tuple(user.managed_team_ids),
        "duty_profile_id": user.duty_profile_id,
        "trait_ids": tuple(user.trait_ids),
        "responsibility_ids": tuple(user.responsibility_ids),
        "active": user.active,
    }


def _request_data(values: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, (tuple, list)):
            value = sorted(value, key=str) if name != "roles" else list(value)
        if name == "sip_uri" and not value:
            value = None
        data[name] = value
    return data


def agent_create(values: Mapping[str, Any]) -> models.UserCreate:
    data = _request_data(values)
    if "team_admin" not in data.get("roles", ()):
        data["managed_team_ids"] = []
    return build(models.UserCreate, data)


def agent_update(
    changes: Mapping[str, Any],
    user: models.User,
    *,
    role: str,
    managed_team_ids: Sequence[int] = (),
) -> models.UserUpdate:
    """The PATCH for ``changes``. A team admin's team list keeps the teams they do not manage
    (the form only offers theirs), so removing one team never drops the agent from another."""
    data = _request_data(changes)
    if role == "team_admin" and "team_ids" in data:
        kept = set(user.team_ids) - set(managed_team_ids)
        data["team_ids"] = sorted(kept | set(data["team_ids"]))
    return build(models.UserUpdate, data)


def agent_title(user: models.User | None) -> str:
    return "New agent" if user is None else f"{user.first_name} {user.last_name}"
