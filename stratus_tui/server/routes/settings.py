"""Tenant settings: duty profiles, traits (a tree) and responsibilities.

Staff read them (a team admin assigns them to agents); tenant and system admins change them.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

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
    in_use_detail,
    paginate,
    reference,
    references,
    replace_links,
    respond,
    save,
    versioned_delete,
)
from stratus_tui.server.deps import Caller
from stratus_tui.server.errors import conflict, invalid
from stratus_tui.server.scope import (
    ADMINS,
    STAFF,
    in_tenant,
    org_unit_ref,
    require,
    tenant_condition,
    where,
)
from stratus_tui.server.sessions import Principal

router = APIRouter()
Row = TypeVar("Row", db.DutyProfile, db.Trait, db.Responsibility)


def _tenant_query(principal: Principal, model: type[Row], q: str | None, ou_id: int | None) -> Any:
    require(principal, STAFF, "see tenant settings")
    return model.select().where(
        *where(
            tenant_condition(principal, model.tenant),
            contains(model.name, q),
            None if ou_id is None else model.ou == ou_id,
        )
    )


# --- duty profiles -------------------------------------------------------------------------


@router.get("/duty-profiles", tags=["duty-profiles"])
def list_duty_profiles(
    principal: Caller,
    q: Search = None,
    ou_id: DbInt | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> m.Page[m.DutyProfile]:
    query = _tenant_query(principal, db.DutyProfile, q, ou_id)
    return paginate(query, db.DutyProfile, cursor, limit, convert.duty_profiles)


@router.get("/duty-profiles/{profile_id}", tags=["duty-profiles"])
def get_duty_profile(profile_id: DbInt, principal: Caller, response: Response) -> m.DutyProfile:
    row = in_tenant(principal, db.DutyProfile, profile_id, "duty profile")
    return respond(response, row, convert.duty_profiles)


def _duty_values(
    changes: dict[str, Any], tenant_id: int
) -> tuple[dict[str, Any], list[int] | None]:
    values = {
        key: value for key, value in changes.items() if key not in ("ou_id", "responsibility_ids")
    }
    if "working_hours" in values:
        values["working_hours"] = json.dumps(values["working_hours"])
    if "ou_id" in changes:
        values["ou"] = reference(
            db.OrgUnit, changes["ou_id"], "ou_id", tenant_id, "organization unit"
        ).id
    responsibilities = None
    if "responsibility_ids" in changes:
        responsibilities = references(
            db.Responsibility,
            changes["responsibility_ids"],
            "responsibility_ids",
            tenant_id,
            "responsibility",
        )
    return values, responsibilities


@router.post("/duty-profiles", status_code=201, tags=["duty-profiles"])
def create_duty_profile(
    body: m.DutyProfileCreate, principal: Caller, response: Response
) -> m.DutyProfile:
    require(principal, ADMINS, "change duty profiles")
    ou = org_unit_ref(principal, body.ou_id)
    values, responsibilities = _duty_values(body.model_dump(), ou.tenant_id)
    with db.database.atomic():
        row = db.DutyProfile.create(tenant=ou.tenant_id, **values)
        replace_links(
            db.DutyProfileResponsibility,
            "duty_profile",
            row.id,
            "responsibility",
            responsibilities or [],
        )
    return created(response, "duty-profiles", row, convert.duty_profiles)


@router.patch("/duty-profiles/{profile_id}", tags=["duty-profiles"])
def update_duty_profile(
    profile_id: DbInt,
    body: m.DutyProfileUpdate,
    principal: Caller,
    response: Response,
    if_match: IfMatch = None,
) -> m.DutyProfile:
    require(principal, ADMINS, "change duty profiles")
    row = in_tenant(principal, db.DutyProfile, profile_id, "duty profile")
    values, responsibilities = _duty_values(body.changes(), row.tenant_id)

    def write_responsibilities() -> None:
        if responsibilities is not None:
            replace_links(
                db.DutyProfileResponsibility,
                "duty_profile",
                row.id,
                "responsibility",
                responsibilities,
            )

    return save(
        response,
        row,
        if_match,
        values,
        "duty profile",
        convert.duty_profiles,
        links=write_responsibilities,
    )


@router.delete("/duty-profiles/{profile_id}", status_code=204, tags=["duty-profiles"])
def delete_duty_profile(profile_id: DbInt, principal: Caller, if_match: IfMatch = None) -> Response:
    require(principal, ADMINS, "change duty profiles")
    row = in_tenant(principal, db.DutyProfile, profile_id, "duty profile")
    with db.database.atomic():
        uses = {"user": db.User.select().where(db.User.duty_profile == row.id).count()}
        if detail := in_use_detail("duty profile", uses):
            raise conflict(detail, kind="in-use")
        versioned_delete(row, if_match, "duty profile")
    return Response(status_code=204)


# --- traits --------------------------------------------------------------------------------


@router.get("/traits", tags=["traits"])
def list_traits(
    principal: Caller,
    q: Search = None,
    ou_id: DbInt | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> m.Page[m.Trait]:
    query = _tenant_query(principal, db.Trait, q, ou_id)
    return paginate(query, db.Trait, cursor, limit, convert.traits)


@router.get("/traits/{trait_id}", tags=["traits"])
def get_trait(trait_id: DbInt, principal: Caller, response: Response) -> m.Trait:
    return respond(response, in_tenant(principal, db.Trait, trait_id, "trait"), convert.traits)


def _trait_parent(parent_id: int | None, tenant_id: int, moving: int | None = None) -> int | None:
    if parent_id is None:
        return None
    parent = reference(db.Trait, parent_id, "parent_id", tenant_id, "trait")
    ancestor: int | None = parent.id
    while ancestor is not None:
        if ancestor == moving:
            raise invalid("a trait cannot move below itself", field="parent_id")
        ancestor = db.Trait.get_by_id(ancestor).parent_id
    return int(parent.id)


@router.post("/traits", status_code=201, tags=["traits"])
def create_trait(body: m.TraitCreate, principal: Caller, response: Response) -> m.Trait:
    require(principal, ADMINS, "change traits")
    ou = org_unit_ref(principal, body.ou_id)
    parent = _trait_parent(body.parent_id, ou.tenant_id)
    with db.database.atomic():
        row = db.Trait.create(tenant=ou.tenant_id, ou=ou.id, parent=parent, name=body.name)
    return created(response, "traits", row, convert.traits)


@router.patch("/traits/{trait_id}", tags=["traits"])
def update_trait(
    trait_id: DbInt,
    body: m.TraitUpdate,
    principal: Caller,
    response: Response,
    if_match: IfMatch = None,
) -> m.Trait:
    require(principal, ADMINS, "change traits")
    row = in_tenant(principal, db.Trait, trait_id, "trait")
    changes = body.changes()
    values: dict[str, Any] = {key: changes[key] for key in ("name",) if key in changes}
    if "ou_id" in changes:
        values["ou"] = org_unit_ref(principal, changes["ou_id"], row.tenant_id).id
    if "parent_id" in changes:
        values["parent"] = _trait_parent(changes["parent_id"], row.tenant_id, moving=row.id)
    return save(response, row, if_match, values, "trait", convert.traits)


def trait_users(trait_id: int) -> list[str]:
    """Names of the services that require a trait (what blocks its deletion)."""
    query = (
        db.Service.select(db.Service.name)
        .join(db.ServiceTrait, on=(db.ServiceTrait.service == db.Service.id))
        .where(db.ServiceTrait.trait == trait_id)
        .order_by(db.Service.name)
    )
    return db.column(query)


@router.delete("/traits/{trait_id}", status_code=204, tags=["traits"])
def delete_trait(trait_id: DbInt, principal: Caller, if_match: IfMatch = None) -> Response:
    require(principal, ADMINS, "change traits")
    row = in_tenant(principal, db.Trait, trait_id, "trait")
    with db.database.atomic():
        services = trait_users(row.id)
        if services:
            listed = ", ".join(services[:10]) + (" and more" if len(services) > 10 else "")
            raise conflict(
                f"This trait is used by the services {listed}; remove it there first", kind="in-use"
            )
        children = db.Trait.select().where(db.Trait.parent == row.id).count()
        if detail := in_use_detail("trait", {"child trait": children}):
            raise conflict(detail, kind="in-use")
        versioned_delete(row, if_match, "trait")
    return Response(status_code=204)


# --- responsibilities ----------------------------------------------------------------------


@router.get("/responsibilities", tags=["responsibilities"])
def list_responsibilities(
    principal: Caller,
    q: Search = None,
    ou_id: DbInt | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> m.Page[m.Responsibility]:
    query = _tenant_query(principal, db.Responsibility, q, ou_id)
    return paginate(query, db.Responsibility, cursor, limit, convert.responsibilities)


@router.get("/responsibilities/{responsibility_id}", tags=["responsibilities"])
def get_responsibility(
    responsibility_id: DbInt, principal: Caller, response: Response
) -> m.Responsibility:
    row = in_tenant(principal, db.Responsibility, responsibility_id, "responsibility")
    return respond(response, row, convert.responsibilities)


@router.post("/responsibilities", status_code=201, tags=["responsibilities"])
def create_responsibility(
    body: m.ResponsibilityCreate, principal: Caller, response: Response
) -> m.Responsibility:
    require(principal, ADMINS, "change responsibilities")
    ou = org_unit_ref(principal, body.ou_id)
    with db.database.atomic():
        row = db.Responsibility.create(tenant=ou.tenant_id, ou=ou.id, name=body.name)
    return created(response, "responsibilities", row, convert.responsibilities)


@router.patch("/responsibilities/{responsibility_id}", tags=["responsibilities"])
def update_responsibility(
    responsibility_id: DbInt,
    body: m.ResponsibilityUpdate,
    principal: Caller,
    response: Response,
    if_match: IfMatch = None,
) -> m.Responsibility:
    require(principal, ADMINS, "change responsibilities")
    row = in_tenant(principal, db.Responsibility, responsibility_id, "responsibility")
    changes = body.changes()
    values: dict[str, Any] = {key: changes[key] for key in ("name",) if key in changes}
    if "ou_id" in changes:
        values["ou"] = org_unit_ref(principal, changes["ou_id"], row.tenant_id).id
    return save(response, row, if_match, values, "responsibility", convert.responsibilities)


@router.delete("/responsibilities/{responsibility_id}", status_code=204, tags=["responsibilities"])
def delete_responsibility(
    responsibility_id: DbInt, principal: Caller, if_match: IfMatch = None
) -> Response:
    require(principal, ADMINS, "change responsibilities")
    row = in_tenant(principal, db.Responsibility, responsibility_id, "responsibility")
    with db.database.atomic():
        versioned_delete(row, if_match, "responsibility")
    return Response(status_code=204)
