"""FastAPI dependencies: the server context and the authenticated caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from stratus_tui.api.models import PrivacyExport
from stratus_tui.server.clock import Clock
from stratus_tui.server.o365 import ProviderCache
from stratus_tui.server.privacy_data import EXPORT_CHUNK
from stratus_tui.server.sessions import (
    LoginThrottle,
    Principal,
    SessionPolicy,
    resolve_session,
    unauthenticated,
)


@dataclass(frozen=True)
class ServerContext:
    clock: Clock
    policy: SessionPolicy
    throttle: LoginThrottle
    signing_key: bytes  # signs exported workflows so a tampered import is refused
    # A CA file trusted besides the system's for O365 identity providers (the demo's own).
    identity_ca: Path | None = None
    # O365 identity providers' configuration and signing keys, fetched once in a while.
    o365_providers: ProviderCache = field(default_factory=ProviderCache, compare=False)
    # Conversations a privacy export reads per step (each step records its progress), and
    # who to tell after each stored change of an export job (tests watch the lifecycle).
    export_chunk: int = EXPORT_CHUNK
    on_export_step: Callable[[PrivacyExport], None] | None = field(default=None, compare=False)


async def get_context(request: Request) -> ServerContext:
    context: ServerContext = request.app.state.context
    return context


Context = Annotated[ServerContext, Depends(get_context)]

_bearer = HTTPBearer(auto_error=False, description="The token from POST /auth/login")


def current_principal(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    stratus_background: Annotated[
        str | None,
        Header(description="`true` for requests the user did not ask for (auto refresh)"),
    ] = None,
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthenticated("Sign in first: this needs an Authorization: Bearer token")
    principal, _ = resolve_session(
        credentials.credentials,
        context.clock,
        context.policy,
        user_activity=(stratus_background or "").lower() != "true",
    )
    return principal


Caller = Annotated[Principal, Depends(current_principal)]
