"""Organization units (a tree under each tenant's hidden System root) and teams."""

from __future__ import annotations

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
    in_use_detail,
    paginate,
    reference,
    respond,
    save,
    versioned_delete,
)
from stratus_tui.server.deps import Caller
from stratus_tui.server.errors import conflict, forbidden, invalid
from stratus_tui.server.scope import (
    ADMINS,
    STAFF,
    ensure_team,
    ensure_tenant,
    reference_tenant,
    require,
    team_condition,
    tenant_condition,
    where,
)

router = APIRouter()


# --- organization units ---------------------------------------------------------------------


def _org_unit(principal: Caller, ou_id: int) -> db.OrgUnit:
    require(principal, STAFF, "see organization units")
    row = get_or_404(db.OrgUnit, ou_id, "organization unit")
    ensure_tenant(principal, row.tenant_id, "organization unit")
    return row


def _ancestors(ou_id: int | None) -> list[int]:
    seen: list[int] = []
    while ou_id is not None and ou_id not in seen:
        seen.append(ou_id)
        ou_id = db.OrgUnit.get_by_id(ou_id).parent_id
    return seen


def org_unit_uses(ou_id: int) -> dict[str, int]:
    return {
        "child unit": db.OrgUnit.select().where(db.OrgUnit.parent == ou_id).count(),
        "team": db.Team.select().where(db.Team.ou == ou_id).count(),
        "user": db.User.select().where(db.User.ou == ou_id).count(),
        "service": db.Service.select().where(db.Service.ou == ou_id).count(),
        "duty profile": db.DutyProfile.select().where(db.DutyProfile.ou == ou_id).count(),
        "trait": db.Trait.select().where(db.Trait.ou == ou_id).count(),
        "responsibility": db.Responsibility.select().where(db.Responsibility.ou == ou_id).count(),
        "workflow": db.Workflow.select().where(db.Workflow.ou == ou_id).count(),
    }


@router.get("/org-units", tags=["org-units"], summary="Org units, the System root included")
def list_org_units(
    principal: Caller,
    q: Search = None,
    parent_id: DbInt | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> m.Page[m.OrgUnit]:
    require(principal, STAFF, "see organization units")
    query = db.OrgUnit.select().where(
        *where(
            tenant_condition(principal, db.OrgUnit.tenant),
            contains(db.OrgUnit.name, q),
            None if parent_id is None else db.OrgUnit.parent == parent_id,
        )
    )
    return paginate(query, db.OrgUnit, cursor, limit, convert.org_units)


@router.get("/org-units/{ou_id}", tags=["org-units"])
def get_org_unit(ou_id: DbInt, principal: Caller, response: Response) -> m.OrgUnit:
    row = _org_unit(principal, ou_id)
    return respond(response, row, convert.org_units)


@router.post("/org-units", status_code=201, tags=["org-units"])
def create_org_unit(body: m.OrgUnitCreate, principal: Caller, response: Response) -> m.OrgUnit:
    require(principal, ADMINS, "change organization units")
    parent = reference(
        db.OrgUnit, body.parent_id, "parent_id", reference_tenant(principal), "organization unit"
    )
    with db.database.atomic():
        row = db.OrgUnit.create(tenant=parent.tenant_id, parent=parent.id, name=body.name)
    return created(response, "org-units", row, convert.org_units)


@router.patch("/org-units/{ou_id}", tags=["org-units"], summary="Rename or move an org unit")
def update_org_unit(
    ou_id: DbInt,
    body: m.OrgUnitUpdate,
    principal: Caller,
    response: Response,
    if_match: IfMatch = None,
) -> m.OrgUnit:
    require(principal, ADMINS, "change organization units")
    row = _org_unit(principal, ou_id)
    if row.is_system:
        raise forbidden("The System organization unit cannot be renamed or moved")
    changes = body.changes()
    if "parent_id" in changes:
        parent = reference(
            db.OrgUnit, changes.pop("parent_id"), "parent_id", row.tenant_id, "organization unit"
        )
        if row.id in _ancestors(parent.id):
            raise invalid("an organization unit cannot move below itself", field="parent_id")
        changes["parent"] = parent.id
    return save(response, row, if_match, changes, "organization unit", convert.org_units)


@router.delete("/org-units/{ou_id}", status_code=204, tags=["org-units"])
def delete_org_unit(ou_id: DbInt, principal: Caller, if_match: IfMatch = None) -> Response:
    require(principal, ADMINS, "change organization units")
    row = _org_unit(principal, ou_id)
    if row.is_system:
        raise forbidden("The System organization unit cannot be deleted")
    with db.database.atomic():
        if detail := in_use_detail("organization unit", org_unit_uses(row.id)):
            raise conflict(detail, kind="in-use")
        db.LicenseUsage.delete().where(db.LicenseUsage.ou == row.id).execute()
        versioned_delete(row, if_match, "organization unit")
    return Response(status_code=204)


# --- teams ---------------------------------------------------------------------------------


def _team(principal: Caller, team_id: int) -> db.Team:
    require(principal, STAFF, "see teams")
    row = get_or_404(db.Team, team_id, "team")
    ensure_tenant(principal, row.tenant_id, "team")
    ensure_team(principal, row.id, "team")
    return row


@router.get("/teams", tags=["teams"], summary="Teams the caller may see")
def list_teams(
    principal: Caller,
    q: Search = None,
    ou_id: DbInt | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> m.Page[m.Team]:
    require(principal, STAFF, "see teams")
    query = db.Team.select().where(
        *where(
            tenant_condition(principal, db.Team.tenant),
            team_condition(principal, db.Team.id),
            contains(db.Team.name, q),
            None if ou_id is None else db.Team.ou == ou_id,
        )
    )
    return paginate(query, db.Team, cursor, limit, convert.teams)


@router.get("/teams/{team_id}", tags=["teams"])
def get_team(team_id: DbInt, principal: Caller, response: Response) -> m.Team:
    row = _team(principal, team_id)
    return respond(response, row, convert.teams)


@router.post("/teams", status_code=201, tags=["teams"])
def create_team(body: m.TeamCreate, principal: Caller, response: Response) -> m.Team:
    require(principal, ADMINS, "create teams")
    ou = reference(
        db.OrgUnit, body.ou_id, "ou_id", reference_tenant(principal), "organization unit"
    )
    tenant = db.Tenant.get_by_id(ou.tenant_id)
    with db.database.atomic():
        row = db.Team.create(
            tenant=tenant.id, ou=ou.id, name=body.name, time_zone=body.time_zone or tenant.time_zone
        )
    return created(response, "teams", row, convert.teams)


@router.patch("/teams/{team_id}", tags=["teams"])
def update_team(
    team_id: DbInt,
    body: m.TeamUpdate,
    principal: Caller,
    response: Response,
    if_match: IfMatch = None,
) -> m.Team:
    require(principal, ADMINS, "change teams")
    row = _team(principal, team_id)
    changes = body.changes()
    if "ou_id" in changes:
        changes["ou"] = reference(
            db.OrgUnit, changes.pop("ou_id"), "ou_id", row.tenant_id, "organization unit"
        ).id
    return save(response, row, if_match, changes, "team", convert.teams)


@router.delete("/teams/{team_id}", status_code=204, tags=["teams"])
def delete_team(team_id: DbInt, principal: Caller, if_match: IfMatch = None) -> Response:
    require(principal, ADMINS, "delete teams")
    row = _team(principal, team_id)
    with db.database.atomic():
        uses = {"service": db.Service.select().where(db.Service.team == row.id).count()}
        if detail := in_use_detail("team", uses):
            raise conflict(detail, kind="in-use")
        versioned_delete(row, if_match, "team")
    return Response(status_code=204)
