"""Configuring services: call and mail, with endpoints, distribution policy and workflow."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Response
from peewee import fn

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
from stratus_tui.server.errors import conflict, forbidden, invalid
from stratus_tui.server.scope import (
    STAFF,
    ensure_team,
    ensure_tenant,
    require,
    team_condition,
    tenant_condition,
    where,
)
from stratus_tui.server.sessions import Principal

router = APIRouter(tags=["services"])


def _service(principal: Principal, service_id: int) -> db.Service:
    require(principal, STAFF, "see services")
    row = get_or_404(db.Service, service_id, "service")
    ensure_tenant(principal, row.tenant_id, "service")
    ensure_team(principal, row.team_id, "service")
    return row


def _team(principal: Principal, team_id: int, tenant_id: int | None) -> db.Team:
    team = reference(db.Team, team_id, "team_id", tenant_id, "team")
    if principal.role == "team_admin" and team.id not in principal.managed_team_ids:
        raise forbidden("Team admins may only put services in the teams they manage")
    return team


def _address_free(address: str, except_id: int = 0) -> None:
    taken = db.Service.select().where(
        fn.lower(db.Service.address) == address.lower(), db.Service.id != except_id
    )
    if taken.exists():
        raise conflict(f"Another service uses the address {address} already")


def _values(changes: dict[str, Any], tenant_id: int) -> tuple[dict[str, Any], list[int] | None]:
    """Row values and trait ids for a create or update, every reference checked."""
    values: dict[str, Any] = {}
    traits = None
    for field, value in changes.items():
        if field == "endpoints":
            values["endpoints"] = json.dumps(value)
        elif field == "distribution":
            values.update(value)
        elif field == "ou_id":
            values["ou"] = reference(db.OrgUnit, value, field, tenant_id, "organization unit").id
        elif field == "workflow_id":
            values["workflow"] = (
                None
                if value is None
                else reference(db.Workflow, value, field, tenant_id, "workflow").id
            )
        elif field == "trait_ids":
            traits = references(db.Trait, value, field, tenant_id, "trait")
        elif field != "team_id":
            values[field] = value
    return values, traits


@router.get("/services", summary="Configuring services in the caller's scope")
def list_services(
    principal: Caller,
    q: Search = None,
    kind: m.ServiceKind | None = None,
    team_id: DbInt | None = None,
    workflow_id: DbInt | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> m.Page[m.Service]:
    require(principal, STAFF, "see services")
    query = db.Service.select().where(
        *where(
            tenant_condition(principal, db.Service.tenant),
            team_condition(principal, db.Service.team),
            contains(db.Service.name.concat(" ").concat(db.Service.address), q),
            None if kind is None else db.Service.kind == kind,
            None if team_id is None else db.Service.team == team_id,
            None if workflow_id is None else db.Service.workflow == workflow_id,
        )
    )
    return paginate(query, db.Service, cursor, limit, convert.services)


@router.get("/services/{service_id}")
def get_service(service_id: DbInt, principal: Caller, response: Response) -> m.Service:
    return respond(response, _service(principal, service_id), convert.services)


@router.post("/services", status_code=201)
def create_service(body: m.ServiceCreate, principal: Caller, response: Response) -> m.Service:
    require(principal, STAFF, "create services")
    team = _team(
        principal, body.team_id, None if principal.role == "system_admin" else principal.tenant_id
    )
    _address_free(body.address)
    fields = body.model_dump()
    if fields["ou_id"] is None:
        fields["ou_id"] = team.ou_id
    values, traits = _values(fields, team.tenant_id)
    with db.database.atomic():
        row = db.Service.create(tenant=team.tenant_id, team=team.id, **values)
        replace_links(db.ServiceTrait, "service", row.id, "trait", traits or [])
    return created(response, "services", row, convert.services)


@router.patch(
    "/services/{service_id}",
    summary="Change a service (switching its workflow applies to new calls at once)",
)
def update_service(
    service_id: DbInt,
    body: m.ServiceUpdate,
    principal: Caller,
    response: Response,
    if_match: IfMatch = None,
) -> m.Service:
    row = _service(principal, service_id)
    changes = body.changes()
    if error := body.address_error(row.kind):
        raise invalid(error, field="address")
    if "address" in changes:
        _address_free(changes["address"], except_id=row.id)
    values, traits = _values(changes, row.tenant_id)
    if "team_id" in changes:
        values["team"] = _team(principal, changes["team_id"], row.tenant_id).id

    def write_traits() -> None:
        if traits is not None:
            replace_links(db.ServiceTrait, "service", row.id, "trait", traits)

    return save(response, row, if_match, values, "service", convert.services, links=write_traits)


@router.delete("/services/{service_id}", status_code=204)
def delete_service(service_id: DbInt, principal: Caller, if_match: IfMatch = None) -> Response:
    row = _service(principal, service_id)
    with db.database.atomic():
        versioned_delete(row, if_match, "service")
    return Response(status_code=204)
