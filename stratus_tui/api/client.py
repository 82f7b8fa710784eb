"""``StratusClient``: the one way stratus-tui talks to a Stratus server (SECURITY.md C).

One ``httpx.AsyncClient`` per session: explicit timeouts and pool limits, TLS always
verified (a profile's CA bundle through an ``ssl.SSLContext``), the bearer token kept in a
``SecretStr``. Every answer is read with a size cap, its content type checked and validated
against the contract models; every failure becomes a typed ``StratusError`` with one clear
sentence. Only idempotent requests are retried (429/503, honouring ``Retry-After``); a POST
or PATCH is never replayed.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import ssl
from collections.abc import Awaitable, Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, SecretBytes, SecretStr, TypeAdapter

from stratus_tui import __version__
from stratus_tui.api import models
from stratus_tui.api.answers import Answer, decode, error_of, parse_retry_after
from stratus_tui.api.errors import (
    BadResponse,
    ServerTimeout,
    ServerUnreachable,
    TLSFailure,
    Unauthenticated,
)

if TYPE_CHECKING:
    from stratus_tui.api.feed import RawPage

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
Params = Mapping[str, Any] | None  # query parameters; None values are left out
Body = bytes | SecretBytes | None  # SecretBytes for a body holding a password

API_PREFIX = "/api/v1"
USER_AGENT = f"stratus-tui/{__version__}"
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 503})
# An idle connection is dropped before common servers drop it (uvicorn after 5 s, nginx 75 s):
# a POST or PATCH sent on a connection the server is closing at that moment fails and,
# not being idempotent, is not retried.
LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=5, keepalive_expiry=4.0)
UNSURE = "; {what} may have been carried out all the same: look before sending it again"
BACKOFF_BASE = 0.5  # seconds before the first retry without Retry-After; doubles each time
_PHASES = {httpx.ConnectTimeout: "connect", httpx.WriteTimeout: "write", httpx.PoolTimeout: "pool"}


@dataclass(frozen=True)
class Timeouts:
    """Seconds for each phase of a request; never None (a hung server must not hang the UI).

    ``read`` bounds each wait for the next bytes; ``total`` bounds the whole exchange, so a
    server that dribbles its answer a few bytes at a time (each within ``read``) cannot
    hold a request for ever. It allows for the largest answer, a feed page of megabytes,
    over a slow link.
    """

    connect: float = 5.0
    read: float = 30.0
    write: float = 30.0
    pool: float = 5.0
    total: float = 300.0

    def __post_init__(self) -> None:
        for name in ("connect", "read", "write", "pool", "total"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"timeout {name} must be a positive number of seconds")

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


class _BearerAuth(httpx.Auth):
    """Adds the token inside httpx, so no local variable of ours holds it in clear."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "Bearer " + self._token.get_secret_value()
        yield request

    def __repr__(self) -> str:
        return "_BearerAuth(**********)"


class StratusClient:
    """One httpx.AsyncClient per session."""

    def __init__(
        self,
        base_url: str,
        *,
        ca_bundle: Path | None = None,
        timeouts: Timeouts = Timeouts(),
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = 3,
        max_retry_wait: float = 30.0,
        max_body_bytes: int = 64 * 1024 * 1024,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url = base_url
        self.token: SecretStr | None = None
        self.timeouts = timeouts
        self.max_retries = max(0, max_retries)
        self.max_retry_wait = max(0.0, max_retry_wait)
        self.max_body_bytes = max_body_bytes
        self._sleep = sleep
        parts = urlsplit(base_url)
        self._host = parts.hostname or base_url
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ServerUnreachable(base_url, "the address must start with http:// or https://")
        verify: ssl.SSLContext | bool = True
        if ca_bundle is not None:
            try:
                verify = ssl.create_default_context(cafile=str(ca_bundle))
            except (OSError, ValueError) as exc:
                reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
                raise TLSFailure.unusable_ca_bundle(self._host, str(ca_bundle), reason) from None
        if transport is None:
            # retries=1: a failed connect is tried once more (nothing was sent yet).
            transport = httpx.AsyncHTTPTransport(verify=verify, limits=LIMITS, retries=1)
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + API_PREFIX,
            transport=transport,
            verify=verify,  # used for proxies from the environment
            limits=LIMITS,
            timeout=timeouts.httpx(),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    def __repr__(self) -> str:
        state = "signed in" if self.token is not None else "signed out"
        return f"StratusClient({self.base_url!r}, {state})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- the session -------------------------------------------------------------------

    async def login(self, username: str, password: SecretStr | str) -> models.SessionInfo:
        secret = password if isinstance(password, SecretStr) else SecretStr(password)
        del password  # no local of ours holds the password in clear: a crash report that
        # prints each frame's locals shows only masked values (SECURITY.md B)
        body = SecretBytes(
            json.dumps({"username": username, "password": secret.get_secret_value()}).encode()
        )
        answer = await self._call("POST", "/auth/login", content=body, auth=False)
        session = decode(answer, models.SessionInfo.model_validate_json, self.base_url)
        self.token = session.token
        return session

    async def login_o365(self, access_token: SecretStr) -> models.SessionInfo:
        """A Stratus session for a Microsoft access token (the server verifies it)."""
        body = SecretBytes(json.dumps({"access_token": access_token.get_secret_value()}).encode())
        answer = await self._call("POST", "/auth/o365", content=body, auth=False)
        session = decode(answer, models.SessionInfo.model_validate_json, self.base_url)
        self.token = session.token
        return session

    async def logout(self) -> None:
        """End the server session; the token is cleared whatever happens."""
        if self.token is None:
            return
        try:
            await self._call("POST", "/auth/logout")
        except (Unauthenticated, ServerUnreachable, ServerTimeout, TLSFailure):
            pass  # already ended, or nobody to tell: the token is forgotten either way
        finally:
            self.token = None

    async def me(self) -> models.CurrentUser:
        return await self.get("/auth/me", models.CurrentUser)

    async def keepalive(self) -> models.SessionTimes:
        answer = await self._call("POST", "/auth/keepalive")
        return decode(answer, models.SessionTimes.model_validate_json, self.base_url)

    async def o365_config(self, domain: str) -> models.O365Config:
        answer = await self._call("GET", "/auth/o365-config", params={"domain": domain}, auth=False)
        return decode(answer, models.O365Config.model_validate_json, self.base_url)

    # --- reading -----------------------------------------------------------------------

    async def get(
        self, path: str, model: type[M], *, params: Params = None, background: bool = False
    ) -> M:
        resource, _ = await self.get_with_etag(path, model, params=params, background=background)
        return resource

    async def get_with_etag(
        self, path: str, model: type[M], *, params: Params = None, background: bool = False
    ) -> tuple[M, str | None]:
        answer = await self._call("GET", path, params=params, background=background)
        return decode(answer, model.model_validate_json, self.base_url), answer.etag

    async def get_list(
        self, path: str, item: type[M], *, params: Params = None, background: bool = False
    ) -> list[M]:
        """A plain JSON array answer (``/instances``, ``/license``)."""
        answer = await self._call("GET", path, params=params, background=background)
        adapter: TypeAdapter[list[M]] = _list_adapter(item)
        return decode(answer, adapter.validate_json, self.base_url)

    async def get_page(
        self,
        path: str,
        item: type[M],
        *,
        params: Params = None,
        cursor: str | None = None,
        limit: int = 100,
        background: bool = False,
    ) -> models.Page[M]:
        query = {**(params or {}), "limit": limit}
        if cursor is not None:
            query["cursor"] = cursor
        answer = await self._call("GET", path, params=query, background=background)
        page_model: type[models.Page[M]] = _page_model(item)
        return decode(answer, page_model.model_validate_json, self.base_url)

    async def get_all(
        self,
        path: str,
        item: type[M],
        *,
        params: Params = None,
        background: bool = False,
        limit: int = 1000,
    ) -> list[M]:
        """Every item of a paged list, following ``next_cursor``."""
        items: list[M] = []
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = await self.get_page(
                path, item, params=params, cursor=cursor, limit=limit, background=background
            )
            items.extend(page.items)
            if page.next_cursor is None:
                return items
            if page.next_cursor in seen:
                raise BadResponse(f"The server repeated a page of GET {path}; stopped reading it")
            seen.add(cursor := page.next_cursor)

    async def conversation_page(
        self,
        after: int,
        limit: int = 10_000,
        *,
        team_id: int | None = None,
        background: bool = True,
    ) -> models.ConversationPage:
        """One page of the history feed after ``after``; ``rows`` are tuples (``feed.Row``).

        Parsed and checked in one pass (``feed.decode_page``), in a thread: a page is
        megabytes, and the event loop must stay free meanwhile.
        """
        raw = await self.conversation_page_raw(after, limit, team_id=team_id, background=background)
        return await asyncio.to_thread(raw.decode)

    async def conversation_page_raw(
        self,
        after: int,
        limit: int = 10_000,
        *,
        team_id: int | None = None,
        background: bool = True,
    ) -> RawPage:
        """The same page received but not parsed yet: ``.decode()`` it (CPU-heavy) later."""
        from stratus_tui.api.feed import RawPage

        query = {"after": after, "limit": limit, "team_id": team_id}
        answer = await self._call("GET", "/conversations", params=query, background=background)
        return RawPage(answer, self.base_url, after)

    # --- writing -----------------------------------------------------------------------

    async def create(self, path: str, body: models.Request, model: type[M]) -> tuple[M, str | None]:
        """POST a new resource; returns it with its ETag."""
        answer = await self._call("POST", path, content=_encode(body))
        return decode(answer, model.model_validate_json, self.base_url), answer.etag

    async def update(
        self, path: str, body: models.Request, model: type[M], *, etag: str
    ) -> tuple[M, str | None]:
        """PATCH with ``If-Match: etag``; a stale etag raises ``StaleVersion``."""
        answer = await self._call("PATCH", path, content=_encode(body), if_match=etag)
        return decode(answer, model.model_validate_json, self.base_url), answer.etag

    async def delete(self, path: str, *, etag: str) -> None:
        await self._call("DELETE", path, if_match=etag)

    async def put(self, path: str, body: models.Request, model: type[M]) -> M:
        answer = await self._call("PUT", path, content=_encode(body))
        return decode(answer, model.model_validate_json, self.base_url)

    # --- the exchange ------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Params = None,
        content: Body = None,
        if_match: str | None = None,
        background: bool = False,
        auth: bool = True,
    ) -> Answer:
        """Send, retrying idempotent requests on 429/503; a 2xx answer or a typed error."""
        headers: dict[str, str] = {}
        if content is not None:
            headers["Content-Type"] = "application/json"
        if if_match is not None:
            headers["If-Match"] = if_match
        if background:
            headers["Stratus-Background"] = "true"
        query = {key: value for key, value in (params or {}).items() if value is not None}
        retries = 0
        while True:
            answer = await self._send(method, path, query, content, headers, auth=auth)
            retryable = method in IDEMPOTENT and answer.status in RETRY_STATUSES
            if retryable and retries < self.max_retries:
                await self._sleep(self._retry_wait(answer, retries))
                retries += 1
                continue
            if answer.status >= 300:
                raise error_of(answer)
            return answer

    async def _send(
        self,
        method: str,
        path: str,
        params: Params,
        content: Body,
        headers: Mapping[str, str],
        *,
        auth: bool,
    ) -> Answer:
        what = f"{method} {path}"
        bearer = _BearerAuth(self.token) if auth and self.token is not None else None
        # A change whose answer never came whole may have been carried out all the same
        # (signing in, keeping alive and out change no data: repeating those is harmless).
        changes = method not in IDEMPOTENT and not path.startswith("/auth/")
        unsure = UNSURE.format(what=what) if changes else ""
        deadline = asyncio.timeout(self.timeouts.total)
        try:
            async with (
                deadline,
                self._http.stream(
                    method,
                    path,
                    params=params or None,  # None keeps a query written into the path
                    content=_plain(content),
                    headers=headers,
                    auth=bearer,
                ) as response,
            ):
                return await self._read(response, what, unsure)
        # ``from None``: httpx's exceptions carry the request, and a crash report that shows
        # chained exceptions with their locals must not show its headers.
        except TimeoutError:
            if not deadline.expired():
                raise
            raise ServerTimeout(self.base_url, self.timeouts.total, unsure) from None
        except httpx.TimeoutException as exc:
            phase = _PHASES.get(type(exc), "read")
            sent = phase == "read"  # connect and pool: nothing was sent; write: not all of it
            seconds = float(getattr(self.timeouts, phase))
            raise ServerTimeout(self.base_url, seconds, unsure if sent else "") from None
        except httpx.DecodingError:
            raise BadResponse.malformed(what, "its compression is broken") from None
        except httpx.TransportError as exc:
            error = self._transport_error(exc)
            sent = isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError)
            if sent and unsure and isinstance(error, ServerUnreachable):
                error = ServerUnreachable(self.base_url, error.reason + unsure)
            raise error from None

    async def _read(self, response: httpx.Response, what: str, unsure: str) -> Answer:
        """The answer's body, up to the size cap."""
        limit = self.max_body_bytes
        # An oversized error page is cut short: its status says what matters.
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit and response.is_success:
            raise BadResponse.too_large(what, limit)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    if response.is_success:
                        raise BadResponse.too_large(what, limit)
                    break
                chunks.append(chunk)
        except (httpx.TimeoutException, httpx.DecodingError):
            raise
        except httpx.TransportError:
            # The head came and the body broke off (a length the server did not keep to, a
            # dropped connection): the server was reached, but its answer is lost.
            raise BadResponse.cut_short(what, size, unsure) from None
        return Answer(what, response.status_code, response.headers, b"".join(chunks))

    def _retry_wait(self, answer: Answer, retries: int) -> float:
        after = parse_retry_after(answer.headers.get("retry-after"))
        if after is not None:
            return min(after, self.max_retry_wait)
        backoff = min(self.max_retry_wait, BACKOFF_BASE * 2.0**retries)
        return backoff / 2 + random.uniform(0, backoff / 2)  # noqa: S311 (jitter, not a secret)

    def _transport_error(self, exc: httpx.TransportError) -> ServerUnreachable | TLSFailure:
        for cause in _causes(exc):
            if isinstance(cause, ssl.SSLCertVerificationError):
                reason = cause.verify_message or cause.reason or str(cause)
                return TLSFailure(self._host, str(reason))
            if isinstance(cause, ssl.SSLError):
                reason = str(cause.reason or cause).replace("_", " ").lower()
                return TLSFailure.handshake_failed(self._host, reason)
        reason = _unreachable_reason(exc)
        if isinstance(exc, httpx.RemoteProtocolError) and self.base_url.startswith("http:"):
            reason += " (if it expects https://, change the address in the profile)"
        return ServerUnreachable(self.base_url, reason)


# --- helpers -------------------------------------------------------------------------------


def _plain(content: Body) -> bytes | None:
    """The body to send; called inside the request, so no local of ours holds a password."""
    return content.get_secret_value() if isinstance(content, SecretBytes) else content


def _encode(body: models.Request) -> bytes:
    """A request as JSON; a partial update sends only the fields that were set."""
    return body.model_dump_json(exclude_unset=isinstance(body, models.Patch)).encode()


@cache
def _list_adapter(item: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[item])  # type: ignore[valid-type]


def _page_model(item: type[M]) -> type[models.Page[M]]:
    return models.Page[item]  # type: ignore[valid-type]


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and the members of exception groups."""
    stack: list[BaseException] = [exc]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        stack.extend(e for e in (current.__context__, current.__cause__) if e is not None)


def _unreachable_reason(exc: httpx.TransportError) -> str:
    for cause in _causes(exc):
        if isinstance(cause, OSError) and (reason := ServerUnreachable.reason_for(cause)):
            return reason
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server closed the connection without a valid answer"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "the address must start with http:// or https://"
    if isinstance(exc, httpx.ProxyError):
        return f"the proxy failed ({exc})"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return "the connection broke off"
    return str(exc) or type(exc).__name__
