"""Sign in and out, who am I, keep the session alive, and whether O365 applies to a domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import SecretStr
from starlette.concurrency import run_in_threadpool

from stratus_tui.api import models as m
from stratus_tui.server import db, o365
from stratus_tui.server.convert import utc
from stratus_tui.server.deps import Caller, Context, ServerContext
from stratus_tui.server.errors import PROBLEM_JSON, ProblemError
from stratus_tui.server.passwords import verify_password
from stratus_tui.server.sessions import Principal, end_session, start_session

router = APIRouter(prefix="/auth", tags=["auth"])


def _visible_team_ids(role: m.Role, tenant_id: int | None, managed: list[int]) -> list[int]:
    if role == "system_admin":
        query = db.Team.select(db.Team.id)
    elif role == "tenant_admin":
        query = db.Team.select(db.Team.id).where(db.Team.tenant == tenant_id)
    elif role == "team_admin":
        return sorted(managed)
    else:
        return []
    return db.column(query.order_by(db.Team.id))


def _current_user(
    user: db.User, roles: list[m.Role], role: m.Role, managed: list[int]
) -> m.CurrentUser:
    tenant = db.Tenant.get_or_none(db.Tenant.id == user.tenant_id)
    return m.CurrentUser(
        id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        upn=user.upn,
        sip_uri=user.sip_uri,
        roles=roles,
        role=role,
        tenant_id=user.tenant_id,
        tenant_name=tenant.name if tenant else None,
        time_zone=tenant.time_zone if tenant else "UTC",
        team_ids=_visible_team_ids(role, user.tenant_id, managed),
        live_chat_enabled=bool(tenant and tenant.live_chat_enabled),
    )


@router.post("/login", summary="Sign in with user name and password")
def login(body: m.LoginRequest, request: Request, context: Context) -> m.SessionInfo:
    address = request.client.host if request.client else "unknown"
    wait = context.throttle.retry_after(body.username, address)
    if wait is not None:
        raise ProblemError(
            429,
            f"Too many failed sign-ins; try again in {wait} seconds",
            kind="login-throttled",
            headers={"Retry-After": str(wait)},
        )
    user = db.User.get_or_none(db.User.upn_key == body.username.lower())
    password = body.password.get_secret_value()
    if not verify_password(password, user.password_hash if user else None):
        context.throttle.failed(body.username, address)
        raise ProblemError(401, "Wrong user name or password", kind="invalid-credentials")
    assert user is not None
    session = _sign_in(user, context)
    context.throttle.succeeded(body.username)
    return session


@router.post(
    "/o365",
    summary="Sign in with a Microsoft access token (O365, from msal's device-code flow)",
    description="The token's user name picks the O365 application of its domain; the "
    "token must be an access token (with an `scp` claim, not the ID token) signed by that "
    "application's identity provider, for its client id and Azure tenant, and name a Stratus "
    "user of that tenant. Problem types: "
    "`o365-token-invalid` (401), `o365-not-configured`, `o365-unknown-user`, "
    "`account-disabled`, `no-role` (403), `o365-provider-unreachable` (502).",
    responses={
        502: {
            "model": m.Problem,
            "content": {PROBLEM_JSON: {}},
            "description": "The O365 identity provider cannot be used",
        }
    },
)
async def login_o365(body: m.O365LoginRequest, context: Context) -> m.SessionInfo:
    token = body.access_token.get_secret_value()
    user_name = o365.unverified_user_name(token)
    app = await run_in_threadpool(o365.application_for, user_name)
    claims = await o365.verified_claims(token, app, context.o365_providers, context.identity_ca)
    user = await run_in_threadpool(o365.account_for, claims, app)
    return await run_in_threadpool(_sign_in, user, context)


def _sign_in(user: db.User, context: ServerContext) -> m.SessionInfo:
    """A new session for a user whose identity is proven: refused when deactivated or
    without a role that may sign in."""
    if not user.active:
        raise ProblemError(
            403, "This account is deactivated; ask your administrator", kind="account-disabled"
        )
    held = set(db.column(db.UserRole.select(db.UserRole.role).where(db.UserRole.user == user.id)))
    roles = [role for role in m.ROLES if role in held]
    role = m.effective_role(roles)
    if role is None:
        raise ProblemError(
            403,
            "This user has no role that may sign in to Stratus; ask your administrator for one",
            kind="no-role",
        )
    managed = db.column(
        db.TeamManager.select(db.TeamManager.team).where(db.TeamManager.user == user.id)
    )
    with db.database.atomic():
        token, session = start_session(user, roles, managed, context.clock, context.policy)
    return m.SessionInfo(
        token=SecretStr(token),
        expires_at=utc(session.idle_expires_at),
        absolute_expires_at=utc(session.absolute_expires_at),
        idle_timeout_seconds=context.policy.idle_timeout,
        user=_current_user(user, roles, role, managed),
    )


@router.post("/logout", status_code=204, summary="End this session on the server")
def logout(principal: Caller, context: Context) -> Response:
    end_session(principal.session_id, context.clock)
    return Response(status_code=204)


@router.get("/me", summary="The signed-in user, with the permissions read at sign-in")
def me(principal: Caller) -> m.CurrentUser:
    user = db.User.get_by_id(principal.user_id)
    return _current_user(user, list(principal.roles), principal.role, _managed(principal))


def _managed(principal: Principal) -> list[int]:
    return sorted(principal.managed_team_ids)


@router.post("/keepalive", summary="Extend the idle expiry while the user is active")
def keepalive(principal: Caller) -> m.SessionTimes:
    session = db.Session.get_by_id(principal.session_id)
    return m.SessionTimes(
        expires_at=utc(session.idle_expires_at),
        absolute_expires_at=utc(session.absolute_expires_at),
    )


@router.get("/o365-config", summary="Whether O365 sign-in applies to a user name's domain")
def o365_config(
    domain: Annotated[str, Query(min_length=1, max_length=253, description="e.g. contoso.com")],
) -> m.O365Config:
    domain = domain.strip().lower()
    app = db.O365App.get_or_none(db.O365App.domain == domain)
    if app is None:
        return m.O365Config(domain=domain, enabled=False)
    return m.O365Config(
        domain=domain, enabled=True, authority=app.authority, client_id=app.client_id
    )
