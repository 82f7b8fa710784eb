"""Tenants (system admins manage them; a tenant admin tunes their own) and O365 app configs."""

from __future__ import annotations

from fastapi import APIRouter, Response

from stratus_tui.api import models as m
from stratus_tui.server import convert, db, privacy_data
from stratus_tui.server.crud import (
    Cursor,
    DbInt,
    IfMatch,
    Limit,
    Search,
    contains,
    created,
    expected_version,
    get_or_404,
    paginate,
    respond,
    save,
    versioned_delete,
)
from stratus_tui.server.deps import Caller, Context
from stratus_tui.server.errors import conflict, forbidden, invalid
from stratus_tui.server.scope import ADMINS, STAFF, ensure_tenant, require, tenant_condition, where

router = APIRouter(tags=["tenants"])

# What a tenant admin may change on their own tenant; name and license are the system's.
TENANT_ADMIN_FIELDS = frozenset({"time_zone", "retention_days", "live_chat_enabled"})


def _tenant(principal: Caller, tenant_id: int) -> db.Tenant:
    require(principal, STAFF, "see tenants")
    row = get_or_404(db.Tenant, tenant_id, "tenant")
    ensure_tenant(principal, row.id, "tenant")
    return row


@router.get("/tenants", summary="Tenants the caller may see")
def list_tenants(
    principal: Caller, q: Search = None, cursor: Cursor = None, limit: Limit = 100
) -> m.Page[m.Tenant]:
    require(principal, STAFF, "see tenants")
    query = db.Tenant.select().where(
        *where(tenant_condition(principal, db.Tenant.id), contains(db.Tenant.name, q))
    )
    return paginate(query, db.Tenant, cursor, limit, convert.tenants)


@router.get("/tenants/{tenant_id}")
def get_tenant(tenant_id: DbInt, principal: Caller, response: Response) -> m.Tenant:
    row = _tenant(principal, tenant_id)
    return respond(response, row, convert.tenants)


@router.post("/tenants", status_code=201, summary="Create a tenant (system admins)")
def create_tenant(body: m.TenantCreate, principal: Caller, response: Response) -> m.Tenant:
    require(principal, frozenset({"system_admin"}), "create tenants")
    if db.Tenant.select().where(db.Tenant.name == body.name).exists():
        raise conflict(f"A tenant named {body.name!r} exists already")
    with db.database.atomic():
        row = db.Tenant.create(**body.model_dump())
        db.OrgUnit.create(tenant=row.id, parent=None, name="System", is_system=True)
    return created(response, "tenants", row, convert.tenants)


@router.patch("/tenants/{tenant_id}")
def update_tenant(
    tenant_id: DbInt,
    body: m.TenantUpdate,
    principal: Caller,
    context: Context,
    response: Response,
    if_match: IfMatch = None,
) -> m.Tenant:
    """Change a tenant; a new ``retention_days`` deletes the history older than it at once
    (irreversibly), recorded as a ``purge`` privacy event."""
    require(principal, ADMINS, "change tenants")
    row = _tenant(principal, tenant_id)
    changes = body.changes()
    if principal.role != "system_admin" and not set(changes) <= TENANT_ADMIN_FIELDS:
        raise forbidden("Only system admins may change a tenant's name or license")
    if "name" in changes and (
        db.Tenant.select().where(db.Tenant.name == changes["name"], db.Tenant.id != row.id).exists()
    ):
        raise conflict(f"A tenant named {changes['name']!r} exists already")
    with db.database.atomic():
        answer = save(response, row, if_match, changes, "tenant", convert.tenants)
        if "retention_days" in changes:
            # The new retention applies at once, in the same transaction as the change.
            privacy_data.purge_expired(row.id, context.clock.now())
    return answer


@router.delete("/tenants/{tenant_id}", status_code=204, summary="Delete a tenant and all it holds")
def delete_tenant(tenant_id: DbInt, principal: Caller, if_match: IfMatch = None) -> Response:
    require(principal, frozenset({"system_admin"}), "delete tenants")
    row = get_or_404(db.Tenant, tenant_id, "tenant")
    expected_version(if_match, row.version, "tenant", required=True)
    with db.database.atomic():
        db.Conversation.delete().where(db.Conversation.tenant_id == row.id).execute()
        # Rows that point at each other inside the tenant go first, then the cascade.
        db.Service.delete().where(db.Service.tenant == row.id).execute()
        db.User.delete().where(db.User.tenant == row.id).execute()
        for model in (db.Team, db.DutyProfile, db.Workflow, db.Responsibility):
            model.delete().where(model.tenant == row.id).execute()
        db.Trait.update(parent=None).where(db.Trait.tenant == row.id).execute()
        db.Trait.delete().where(db.Trait.tenant == row.id).execute()
        db.OrgUnit.update(parent=None).where(db.OrgUnit.tenant == row.id).execute()
        db.LicenseUsage.delete().where(db.LicenseUsage.tenant == row.id).execute()
        db.OrgUnit.delete().where(db.OrgUnit.tenant == row.id).execute()
        row.delete_instance()
    return Response(status_code=204)


# --- O365 application configs ---------------------------------------------------------------


def _o365(principal: Caller, app_id: int) -> db.O365App:
    require(principal, ADMINS, "see O365 applications")
    row = get_or_404(db.O365App, app_id, "O365 application")
    ensure_tenant(principal, row.tenant_id, "O365 application")
    return row


def _domain_taken(domain: str, except_id: int = 0) -> None:
    if db.O365App.select().where(db.O365App.domain == domain, db.O365App.id != except_id).exists():
        raise conflict(f"The domain {domain} has an O365 application already")


def microsoft_authority(azure_tenant_id: str) -> str:
    return f"https://login.microsoftonline.com/{azure_tenant_id}"


@router.get("/o365-apps", tags=["o365"])
def list_o365_apps(
    principal: Caller, cursor: Cursor = None, limit: Limit = 100
) -> m.Page[m.O365App]:
    require(principal, ADMINS, "see O365 applications")
    query = db.O365App.select().where(*where(tenant_condition(principal, db.O365App.tenant)))
    return paginate(query, db.O365App, cursor, limit, convert.o365_apps)


@router.get("/o365-apps/{app_id}", tags=["o365"])
def get_o365_app(app_id: DbInt, principal: Caller, response: Response) -> m.O365App:
    row = _o365(principal, app_id)
    return respond(response, row, convert.o365_apps)


@router.post("/o365-apps", status_code=201, tags=["o365"])
def create_o365_app(body: m.O365AppCreate, principal: Caller, response: Response) -> m.O365App:
    require(principal, ADMINS, "configure O365 applications")
    tenant_id = body.tenant_id if principal.role == "system_admin" else principal.tenant_id
    if tenant_id is None:
        raise invalid("which tenant: send tenant_id", field="tenant_id")
    if body.tenant_id is not None and body.tenant_id != tenant_id:
        raise invalid("an O365 application can only be added to your own tenant", field="tenant_id")
    if db.Tenant.get_or_none(db.Tenant.id == tenant_id) is None:
        raise invalid(f"no tenant with id {tenant_id}", field="tenant_id")
    _domain_taken(body.domain)
    with db.database.atomic():
        row = db.O365App.create(
            tenant=tenant_id,
            domain=body.domain,
            azure_tenant_id=body.azure_tenant_id,
            client_id=body.client_id,
            authority=body.authority or microsoft_authority(body.azure_tenant_id),
        )
    return created(response, "o365-apps", row, convert.o365_apps)


@router.patch("/o365-apps/{app_id}", tags=["o365"])
def update_o365_app(
    app_id: DbInt,
    body: m.O365AppUpdate,
    principal: Caller,
    response: Response,
    if_match: IfMatch = None,
) -> m.O365App:
    require(principal, ADMINS, "configure O365 applications")
    row = _o365(principal, app_id)
    changes = body.changes()
    if "domain" in changes:
        _domain_taken(changes["domain"], except_id=row.id)
    follows_azure = row.authority == microsoft_authority(row.azure_tenant_id)
    if "azure_tenant_id" in changes and "authority" not in changes and follows_azure:
        changes["authority"] = microsoft_authority(changes["azure_tenant_id"])
    return save(response, row, if_match, changes, "O365 application", convert.o365_apps)


@router.delete("/o365-apps/{app_id}", status_code=204, tags=["o365"])
def delete_o365_app(app_id: DbInt, principal: Caller, if_match: IfMatch = None) -> Response:
    require(principal, ADMINS, "configure O365 applications")
    row = _o365(principal, app_id)
    with db.database.atomic():
        versioned_delete(row, if_match, "O365 application")
    return Response(status_code=204)
