"""Server instances and their components, the license, and daily license usage."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from peewee import fn

from stratus_tui.api import models as m
from stratus_tui.server import convert, db
from stratus_tui.server.crud import Cursor, DbInt, Limit, get_or_404, paginate
from stratus_tui.server.deps import Caller, Context
from stratus_tui.server.errors import not_found
from stratus_tui.server.scope import EVERYONE, STAFF, SYSTEM, require, tenant_condition, where

router = APIRouter()


@router.get("/instances", tags=["status"], summary="Server instances with their components")
def list_instances(principal: Caller) -> list[m.ServerInstance]:
    require(principal, EVERYONE, "see instance status")
    return convert.instances(
        list(db.Instance.select().order_by(db.Instance.role, db.Instance.name))
    )


@router.get("/instances/{instance_id}", tags=["status"])
def get_instance(instance_id: DbInt, principal: Caller) -> m.ServerInstance:
    require(principal, EVERYONE, "see instance status")
    return convert.instances([get_or_404(db.Instance, instance_id, "instance")])[0]


@router.put(
    "/admin/instances/{instance_id}/components/{abbreviation}",
    tags=["admin"],
    summary="Set a component's state (system admins; to show and test status changes)",
)
def set_component_state(
    instance_id: DbInt,
    abbreviation: Annotated[m.ComponentAbbreviation, Path()],
    body: m.ComponentStateUpdate,
    principal: Caller,
    context: Context,
) -> m.ServerInstance:
    require(principal, SYSTEM, "change component states")
    instance = get_or_404(db.Instance, instance_id, "instance")
    values: dict[str, object] = {"state": body.state, "last_heartbeat": context.clock.now()}
    if body.mode is not None:
        values["mode"] = body.mode
    with db.database.atomic():
        changed = (
            db.Component.update(**values)
            .where(db.Component.instance == instance.id, db.Component.abbreviation == abbreviation)
            .execute()
        )
    if not changed:
        raise not_found(f"component {abbreviation} on {instance.name}")
    return convert.instances([instance])[0]


def count_agents(tenant_id: int) -> tuple[int, int]:
    """(configured agents, supervisors): active users in a team, and team admins."""
    agents = (
        db.User.select(fn.COUNT(db.User.id.distinct()))
        .join(db.TeamMember, on=(db.TeamMember.user == db.User.id))
        .where(db.User.tenant == tenant_id, db.User.active == True)
        .scalar()
    )
    supervisors = (
        db.User.select(fn.COUNT(db.User.id.distinct()))
        .join(db.UserRole, on=(db.UserRole.user == db.User.id))
        .where(db.User.tenant == tenant_id, db.UserRole.role == "team_admin")
        .scalar()
    )
    return int(agents or 0), int(supervisors or 0)


@router.get("/license", tags=["license"], summary="License limits and use, per visible tenant")
def get_license(principal: Caller) -> list[m.License]:
    require(principal, STAFF, "see the license")
    tenants = db.Tenant.select().where(*where(tenant_condition(principal, db.Tenant.id)))
    result = []
    for tenant in tenants.order_by(db.Tenant.id):
        agents, supervisors = count_agents(tenant.id)
        result.append(
            m.License(
                tenant_id=tenant.id,
                tenant_name=tenant.name,
                agents_allowed=tenant.agents_allowed,
                supervisors_allowed=tenant.supervisors_allowed,
                agents_configured=agents,
                supervisors_configured=supervisors,
            )
        )
    return result


@router.get("/license-usage", tags=["license"], summary="Daily license usage per org unit")
def list_license_usage(
    principal: Caller,
    date_from: Annotated[date | None, Query()] = None,
    date_to: Annotated[date | None, Query()] = None,
    ou_id: DbInt | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> m.Page[m.LicenseUsage]:
    require(principal, STAFF, "see license usage")
    managed_ous = None
    if principal.role == "team_admin":
        # A team admin sees the org units their teams belong to.
        managed_ous = db.Team.select(db.Team.ou).where(
            db.Team.id.in_(sorted(principal.managed_team_ids))
        )
    query = db.LicenseUsage.select().where(
        *where(
            tenant_condition(principal, db.LicenseUsage.tenant),
            None if managed_ous is None else db.LicenseUsage.ou.in_(managed_ous),
            None if date_from is None else db.LicenseUsage.date >= date_from.isoformat(),
            None if date_to is None else db.LicenseUsage.date <= date_to.isoformat(),
            None if ou_id is None else db.LicenseUsage.ou == ou_id,
        )
    )
    names = dict(db.tuples(db.OrgUnit.select(db.OrgUnit.id, db.OrgUnit.name)))
    return paginate(
        query, db.LicenseUsage, cursor, limit, lambda rows: convert.license_usage(rows, names)
    )
