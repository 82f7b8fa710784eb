"""Users and agents: listed per scope, created by admins, edited within each role's limits."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from stratus_tui.api import models as m
from stratus_tui.server import convert, db
from stratus_tui.server.crud import (
    Cursor,
    DbInt,
    IfMatch,
    Limit,
    Search,
    contains,
    created,
    get_or_404,
    paginate,
    reference,
    references,
    replace_links,
    respond,
    save,
    versioned_delete,
)
from stratus_tui.server.deps import Caller
from stratus_tui.server.errors import conflict, forbidden, invalid, not_found
from stratus_tui.server.scope import ADMINS, STAFF, ensure_tenant, require, tenant_condition, where
from stratus_tui.server.sessions import Principal

router = APIRouter(tags=["users"])

# What a team admin may change on an agent of their teams (DOMAIN.md: agents of their teams;
# they may remove users from their teams but not add them, and grant no roles).
TEAM_ADMIN_FIELDS = frozenset(
    {"duty_profile_id", "trait_ids", "responsibility_ids", "active", "team_ids"}
)
LINKS: dict[str, tuple[type[db.BaseModel], str]] = {
    "team_ids": (db.TeamMember, "team"),
    "managed_team_ids": (db.TeamManager, "team"),
    "trait_ids": (db.UserTrait, "trait"),
    "responsibility_ids": (db.UserResponsibility, "responsibility"),
}


def _members_of(team_ids: frozenset[int]) -> Any:
    return db.TeamMember.select(db.TeamMember.user).where(db.TeamMember.team.in_(sorted(team_ids)))


def _user(principal: Principal, user_id: int) -> db.User:
    require(principal, STAFF, "see users")
    row = get_or_404(db.User, user_id, "user")
    ensure_tenant(principal, row.tenant_id, "user")
    if principal.role == "team_admin" and not (
        db.TeamMember.select()
        .where(
            db.TeamMember.user == row.id, db.TeamMember.team.in_(sorted(principal.managed_team_ids))
        )
        .exists()
    ):
        raise not_found("user")
    return row


@router.get("/users", summary="Users and agents in the caller's scope")
def list_users(
    principal: Caller,
    q: Search = None,
    team_id: DbInt | None = None,
    ou_id: DbInt | None = None,
    role: m.Role | None = None,
    active: bool | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> m.Page[m.User]:
    require(principal, STAFF, "see users")
    searchable = (
        db.User.first_name.concat(" ").concat(db.User.last_name).concat(" ").concat(db.User.upn)
    )
    query = db.User.select().where(
        *where(
            tenant_condition(principal, db.User.tenant),
            db.User.id.in_(_members_of(principal.managed_team_ids))
            if principal.role == "team_admin"
            else None,
            contains(searchable, q),
            None if team_id is None else db.User.id.in_(_members_of(frozenset({team_id}))),
            None if ou_id is None else db.User.ou == ou_id,
            None if active is None else db.User.active == active,
            None
            if role is None
            else db.User.id.in_(
                db.UserRole.select(db.UserRole.user).where(db.UserRole.role == role)
            ),
        )
    )
    return paginate(query, db.User, cursor, limit, convert.users)


@router.get("/users/{user_id}")
def get_user(user_id: DbInt, principal: Caller, response: Response) -> m.User:
    row = _user(principal, user_id)
    return respond(response, row, convert.users)


def _check_roles(principal: Principal, roles: list[m.Role] | None, before: list[str]) -> None:
    if roles is None or principal.role == "system_admin":
        return
    if ("system_admin" in roles) != ("system_admin" in before):
        raise forbidden("Only system admins may grant or take away the system admin role")


def _upn_free(upn: str, except_id: int = 0) -> None:
    if db.User.select().where(db.User.upn_key == upn.lower(), db.User.id != except_id).exists():
        raise conflict(f"A user with UPN {upn} exists already")


def _resolve(
    changes: dict[str, Any], tenant_id: int
) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """Split a create/update into row values and link lists, checking every reference."""
    values: dict[str, Any] = {}
    linked: dict[str, list[int]] = {}
    for field, value in changes.items():
        if field in LINKS:
            target = (
                db.Team
                if field.endswith("team_ids")
                else (db.Trait if field == "trait_ids" else db.Responsibility)
            )
            linked[field] = references(
                target, value, field, tenant_id, field.removesuffix("_ids").replace("_", " ")
            )
        elif field == "roles":
            linked["roles"] = list(dict.fromkeys(value))
        elif field == "ou_id":
            values["ou"] = reference(db.OrgUnit, value, field, tenant_id, "organization unit").id
        elif field == "duty_profile_id":
            values["duty_profile"] = (
                None
                if value is None
                else reference(db.DutyProfile, value, field, tenant_id, "duty profile").id
            )
        elif field == "upn":
            values["upn"] = value
            values["upn_key"] = value.lower()
        else:
            values[field] = value
    return values, linked


def _write_links(user_id: int, linked: dict[str, list[int]]) -> None:
    for field, ids in linked.items():
        if field == "roles":
            db.UserRole.delete().where(db.UserRole.user == user_id).execute()
            if ids:
                db.UserRole.insert_many([{"user": user_id, "role": role} for role in ids]).execute()
        else:
            model, column = LINKS[field]
            replace_links(model, "user", user_id, column, ids)


def _check_managed(roles: list[str], managed: list[int]) -> None:
    if managed and "team_admin" not in roles:
        raise invalid(
            "only a team admin manages teams: add the team_admin role", field="managed_team_ids"
        )


@router.post("/users", status_code=201, summary="Create a user (tenant and system admins)")
def create_user(body: m.UserCreate, principal: Caller, response: Response) -> m.User:
    require(principal, ADMINS, "add users")
    ou = reference(
        db.OrgUnit,
        body.ou_id,
        "ou_id",
        None if principal.role == "system_admin" else principal.tenant_id,
        "organization unit",
    )
    _check_roles(principal, body.roles, [])
    _check_managed(list(body.roles), body.managed_team_ids)
    _upn_free(body.upn)
    values, linked = _resolve(body.model_dump(), ou.tenant_id)
    with db.database.atomic():
        row = db.User.create(tenant=ou.tenant_id, **values)
        _write_links(row.id, linked)
    return created(response, "users", row, convert.users)


def _team_admin_limits(principal: Principal, row: db.User, changes: dict[str, Any]) -> None:
    refused = sorted(set(changes) - TEAM_ADMIN_FIELDS)
    if refused:
        raise forbidden(f"Team admins may not change {', '.join(refused)} of a user")
    if "team_ids" in changes:
        before = set(
            db.column(db.TeamMember.select(db.TeamMember.team).where(db.TeamMember.user == row.id))
        )
        after = set(changes["team_ids"])
        if after - before:
            raise forbidden("Team admins may remove users from their teams but not add them")
        if (before - after) - principal.managed_team_ids:
            raise forbidden("Team admins may only remove users from the teams they manage")


@router.patch("/users/{user_id}")
def update_user(
    user_id: DbInt,
    body: m.UserUpdate,
    principal: Caller,
    response: Response,
    if_match: IfMatch = None,
) -> m.User:
    row = _user(principal, user_id)
    changes = body.changes()
    if principal.role == "team_admin":
        _team_admin_limits(principal, row, changes)
    else:
        require(principal, ADMINS, "change users")
    if row.directory_synced:
        for field in sorted(m.User.DIRECTORY_FIELDS & set(changes)):
            if changes[field] != getattr(row, field):
                raise invalid("is synced from the directory and can only change there", field=field)
    before_roles = db.column(db.UserRole.select(db.UserRole.role).where(db.UserRole.user == row.id))
    _check_roles(principal, changes.get("roles"), before_roles)
    if "roles" in changes or "managed_team_ids" in changes:
        managed = changes.get("managed_team_ids")
        if managed is None:
            managed = db.column(
                db.TeamManager.select(db.TeamManager.team).where(db.TeamManager.user == row.id)
            )
        _check_managed(changes.get("roles", before_roles), managed)
    if "upn" in changes:
        _upn_free(changes["upn"], except_id=row.id)
    if row.id == principal.user_id and changes.get("active") is False:
        raise conflict("You cannot deactivate your own account")
    if row.tenant_id is None:
        raise forbidden("System admins are managed outside tenants")
    values, linked = _resolve(changes, row.tenant_id)
    return save(
        response,
        row,
        if_match,
        values,
        "user",
        convert.users,
        links=lambda: _write_links(row.id, linked),
    )


@router.delete(
    "/users/{user_id}", status_code=204, summary="Delete a user (tenant and system admins)"
)
def delete_user(user_id: DbInt, principal: Caller, if_match: IfMatch = None) -> Response:
    require(principal, ADMINS, "delete users")
    row = _user(principal, user_id)
    if row.id == principal.user_id:
        raise conflict("You cannot delete your own account")
    with db.database.atomic():
        versioned_delete(row, if_match, "user")
    return Response(status_code=204)
