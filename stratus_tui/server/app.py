"""The FastAPI application of the reference server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from peewee import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stratus_tui import __version__
from stratus_tui.api.models import Problem
from stratus_tui.server import db, privacy_data
from stratus_tui.server.clock import Clock, SystemClock
from stratus_tui.server.deps import ServerContext
from stratus_tui.server.errors import (
    PROBLEM_JSON,
    ProblemError,
    install_problem_handlers,
    problem_response,
)
from stratus_tui.server.routes import (
    auth,
    chat,
    conversations,
    org,
    privacy,
    services,
    settings,
    status,
    tenants,
    users,
    workflows,
)
from stratus_tui.server.sessions import LoginThrottle, SessionPolicy

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 1024 * 1024
RETENTION_EVERY = 3600  # seconds between two retention purges while the server runs
log = logging.getLogger("stratus_tui.server")

_PROBLEM_CODES = (400, 401, 403, 404, 409, 412, 413, 422, 428, 429)
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": "Problem details"}
    for code in _PROBLEM_CODES
}


class BodySizeLimit:
    """Refuse request bodies over ``limit`` bytes before they are read into memory."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise ProblemError(413, f"The request body is over {self.limit} bytes")
            return message

        await self.app(scope, limited_receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = ProblemError(413, f"The request body is over {self.limit} bytes", kind="too-large")
        await problem_response(error)(scope, receive, send)


def _signing_key() -> bytes:
    row = db.Setting.get_or_none(db.Setting.key == "workflow_signing_key")
    if row is None:
        row = db.Setting.create(key="workflow_signing_key", value=secrets.token_hex(32))
    return bytes.fromhex(row.value)


def server_context(
    *,
    clock: Clock | None = None,
    policy: SessionPolicy | None = None,
    throttle: LoginThrottle | None = None,
    identity_ca: Path | None = None,
) -> ServerContext:
    """The per-database state of a server (reads the signing key from the bound database).

    ``identity_ca``: a CA file to trust besides the system's when fetching O365 identity
    providers' keys (the demo's loopback identity provider).
    """
    clock = clock or SystemClock()
    return ServerContext(
        clock=clock,
        policy=policy or SessionPolicy(),
        throttle=throttle or LoginThrottle(clock),
        signing_key=_signing_key(),
        identity_ca=identity_ca,
    )


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Before the first request: export jobs a dead process left behind fail with a reason,
    and each tenant's retention is applied; then retention again every hour.

    (Tests drive the app through ``httpx.ASGITransport``, which runs no lifespan: they call
    ``privacy_data.on_server_start`` themselves, or start ``stratus-tui serve``.)
    """
    context: ServerContext = app.state.context
    privacy_data.on_server_start(context.clock.now())
    task = asyncio.create_task(_apply_retention_hourly(context))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _apply_retention_hourly(context: ServerContext) -> None:
    while True:
        await asyncio.sleep(RETENTION_EVERY)
        try:
            await asyncio.to_thread(privacy_data.purge_all, context.clock.now())
        except Exception:  # a failed round is logged; the next one tries again
            log.exception("the hourly retention purge failed")


def create_app(context: ServerContext | None = None) -> FastAPI:
    """The server over the database bound by ``db.open_database``.

    Building the app compiles every route's models (~0.3 s); tests build it once and give
    each test its own ``app.state.context`` over its own database.
    """
    app = FastAPI(
        title="Stratus reference server",
        version=__version__,
        summary="The REST contract stratus-tui speaks, implemented for real.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.context = context or server_context()
    install_problem_handlers(app)

    async def on_integrity_error(_: Any, exc: Exception) -> Any:
        # Only a race past the explicit checks gets here (two creates of one name at once).
        return problem_response(
            ProblemError(409, "This conflicts with a record saved meanwhile", kind="conflict")
        )

    app.add_exception_handler(IntegrityError, on_integrity_error)

    api = APIRouter(prefix=API_PREFIX, responses=PROBLEM_RESPONSES)

    @api.get("/health", tags=["status"], summary="Whether the server answers (no sign-in)")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    for module in (
        auth,
        tenants,
        org,
        users,
        settings,
        services,
        workflows,
        status,
        conversations,
        privacy,
        chat,
    ):
        api.include_router(module.router)
    app.include_router(api)
    app.add_middleware(BodySizeLimit)
    return app
