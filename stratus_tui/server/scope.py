"""Who may see and change what (DOMAIN.md "Roles"), in one place.

- system_admin: everything, tenants too.
- tenant_admin: everything inside their tenant except its license and existence.
- team_admin: reads the tenant's settings (org units, duty profiles, traits,
  responsibilities, workflows) to assign them; sees and edits only the teams they manage,
  those teams' agents and services, and their history. May remove agents from their
  teams but not add or create users.
- team_member: the instance status, and their own live chat.

A role that may never do something gets 403; an id outside the caller's scope gets 404 so
that other tenants' data is not even confirmed to exist.
"""

from __future__ import annotations

from typing import Any, TypeVar

from peewee import SQL, Expression, Field

from stratus_tui.api.models import Role
from stratus_tui.server import db
from stratus_tui.server.crud import get_or_404, reference
from stratus_tui.server.errors import forbidden, not_found
from stratus_tui.server.sessions import Principal

T = TypeVar("T", bound=db.BaseModel)

ADMINS: frozenset[Role] = frozenset({"system_admin", "tenant_admin"})
STAFF: frozenset[Role] = ADMINS | {"team_admin"}
EVERYONE: frozenset[Role] = STAFF | {"team_member"}
SYSTEM: frozenset[Role] = frozenset({"system_admin"})

_ROLE_NAMES = {
    "system_admin": "system admins",
    "tenant_admin": "tenant admins",
    "team_admin": "team admins",
    "team_member": "team members",
}


def require(principal: Principal, allowed: frozenset[Role], action: str) -> None:
    if principal.role not in allowed:
        raise forbidden(f"{_ROLE_NAMES[principal.role].capitalize()} may not {action}")


def tenant_condition(principal: Principal, field: Field) -> Expression | None:
    """Restrict a query to the caller's tenant (None: no restriction, a system admin)."""
    if principal.role == "system_admin":
        return None
    return field == principal.tenant_id


def team_condition(principal: Principal, field: Field) -> Expression | None:
    """Restrict a query to the teams a team admin manages (None for wider roles)."""
    if principal.role == "team_admin":
        return field.in_(sorted(principal.managed_team_ids))
    return None


def where(*conditions: Expression | None) -> list[Any]:
    """The conditions that apply, for ``query.where(*...)`` (which needs at least one)."""
    return [condition for condition in conditions if condition is not None] or [SQL("1 = 1")]


def sees_tenant(principal: Principal, tenant_id: int | None) -> bool:
    return principal.role == "system_admin" or tenant_id == principal.tenant_id


def sees_team(principal: Principal, team_id: int) -> bool:
    return principal.role != "team_admin" or team_id in principal.managed_team_ids


def ensure_tenant(principal: Principal, tenant_id: int | None, what: str) -> None:
    if not sees_tenant(principal, tenant_id):
        raise not_found(what)


def ensure_team(principal: Principal, team_id: int, what: str) -> None:
    if not sees_team(principal, team_id):
        raise not_found(what)


def in_tenant(principal: Principal, model: type[T], row_id: int, what: str) -> T:
    """A tenant-owned row the caller may read (staff: the tenant's settings), or 403/404."""
    require(principal, STAFF, f"see {what}s")
    row = get_or_404(model, row_id, what)
    ensure_tenant(principal, getattr(row, "tenant_id", None), what)
    return row


def reference_tenant(principal: Principal) -> int | None:
    """The tenant a referenced row must belong to (None: any, for a system admin)."""
    return None if principal.role == "system_admin" else principal.tenant_id


def org_unit_ref(principal: Principal, ou_id: int, tenant_id: int | None = None) -> db.OrgUnit:
    """The org unit a new or changed row points to, within the row's (or caller's) tenant."""
    scope = tenant_id if tenant_id is not None else reference_tenant(principal)
    return reference(db.OrgUnit, ou_id, "ou_id", scope, "organization unit")
