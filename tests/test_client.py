"""StratusClient against the real reference server, a deliberately broken server, and TLS.

Nothing here mocks httpx: the reference server and the broken server are real ASGI apps
behind ``httpx.ASGITransport``, and the TLS tests run uvicorn on a loopback socket.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from ipaddress import IPv4Address
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from stratus_tui import __version__
from stratus_tui.api import errors as err
from stratus_tui.api import models as m
from stratus_tui.api.client import StratusClient, Timeouts
from stratus_tui.server import db
from stratus_tui.server.app import server_context
from stratus_tui.server.clock import FakeClock
from stratus_tui.server.seed import DEMO_PASSWORD
from tests.conftest import ADMIN, MEMBER, NOW, SYSADMIN, named, user_id

BASE = "http://stratus.test"


class Recording(httpx.ASGITransport):
    """The real ASGI transport, remembering every request it carried."""

    def __init__(self, app: object) -> None:
        super().__init__(app=app)  # type: ignore[arg-type]
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await super().handle_async_request(request)

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if (r.method, r.url.path) == (method, path))


class Sleeps(list[float]):
    """A ``sleep`` that only records how long the client wanted to wait."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def transport(server_app: FastAPI, server_db: Path, clock: FakeClock) -> Recording:
    server_app.state.context = server_context(clock=clock)
    return Recording(server_app)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def stratus(transport: Recording, sleeps: Sleeps) -> AsyncIterator[StratusClient]:
    async with StratusClient(BASE, transport=transport, sleep=sleeps) as client:
        yield client


async def signed_in(stratus: StratusClient, username: str = ADMIN) -> StratusClient:
    await stratus.login(username, SecretStr(DEMO_PASSWORD))
    return stratus


# --- the reference server ------------------------------------------------------------------


async def test_login_returns_the_session_and_keeps_the_token_secret(
    stratus: StratusClient, transport: Recording
) -> None:
    session = await stratus.login(ADMIN, SecretStr(DEMO_PASSWORD))
    token = session.token.get_secret_value()
    assert session.user.upn == ADMIN and session.user.role == "tenant_admin"
    assert stratus.token is not None and stratus.token.get_secret_value() == token
    for shown in (repr(session), repr(stratus), str(stratus.token), repr(stratus.token)):
        assert token not in shown
    assert (await stratus.me()).upn == ADMIN
    login, me = transport.requests
    assert "authorization" not in login.headers
    assert me.headers["authorization"] == f"Bearer {token}"
    assert me.headers["user-agent"] == f"stratus-tui/{__version__}"
    await stratus.login(ADMIN, DEMO_PASSWORD)  # a plain str works too; a new token each time
    assert stratus.token.get_secret_value() != token
    assert "authorization" not in transport.requests[-1].headers


async def test_wrong_password_raises_the_servers_detail(stratus: StratusClient) -> None:
    with pytest.raises(err.Unauthenticated) as caught:
        await stratus.login(ADMIN, SecretStr("not-demo"))
    assert str(caught.value) == "Wrong user name or password"
    assert (caught.value.status, caught.value.kind) == (401, "invalid-credentials")
    assert not caught.value.expired
    assert stratus.token is None


async def test_user_without_role_is_forbidden(stratus: StratusClient) -> None:
    db.UserRole.delete().where(db.UserRole.user == user_id(MEMBER)).execute()
    with pytest.raises(err.Forbidden) as caught:
        await stratus.login(MEMBER, SecretStr(DEMO_PASSWORD))
    assert caught.value.kind == "no-role"
    assert "no role" in str(caught.value)


async def test_throttled_login_is_rate_limited_and_never_replayed(
    stratus: StratusClient, transport: Recording, sleeps: Sleeps
) -> None:
    for _ in range(5):
        with pytest.raises(err.Unauthenticated):
            await stratus.login(ADMIN, SecretStr("guess"))
    with pytest.raises(err.RateLimited) as caught:
        await stratus.login(ADMIN, SecretStr(DEMO_PASSWORD))
    assert caught.value.retry_after == 15 * 60
    assert "try again in" in str(caught.value)
    assert transport.count("POST", "/api/v1/auth/login") == 6
    assert sleeps == []


async def test_keepalive_slides_the_session(stratus: StratusClient, clock: FakeClock) -> None:
    await signed_in(stratus)
    clock.advance(540)
    times = await stratus.keepalive()
    assert times.expires_at == datetime.fromtimestamp(NOW + 540 + 600, UTC)
    assert times.absolute_expires_at == datetime.fromtimestamp(NOW + 12 * 3600, UTC)


@pytest.mark.parametrize(("domain", "enabled"), [("contoso.com", True), ("demo.stratus", False)])
async def test_o365_config(stratus: StratusClient, domain: str, enabled: bool) -> None:
    config = await stratus.o365_config(domain)
    assert (config.domain, config.enabled, config.client_id is not None) == (
        domain,
        enabled,
        enabled,
    )


async def test_pages_and_all_pages(stratus: StratusClient, transport: Recording) -> None:
    await signed_in(stratus)
    page = await stratus.get_page("/users", m.User, limit=5)
    assert len(page.items) == 5 and page.next_cursor is not None and page.total > 5
    after = await stratus.get_page("/users", m.User, limit=5, cursor=page.next_cursor)
    assert after.items[0].id > page.items[-1].id
    users = await stratus.get_all("/users", m.User, limit=7)
    assert len(users) == page.total == len({user.id for user in users})
    assert transport.count("GET", "/api/v1/users") == 2 + -(-page.total // 7)
    found = await stratus.get_all("/users", m.User, params={"q": "kowalski", "team_id": None})
    assert found and all("kowalski" in user.last_name.lower() for user in found)
    with pytest.raises(err.InvalidInput) as caught:  # 400 is invalid input too
        await stratus.get_page("/users", m.User, cursor="not-a-cursor")
    assert (caught.value.status, caught.value.kind) == (400, "bad-cursor")


async def test_lists_and_the_idempotent_put(stratus: StratusClient) -> None:
    await signed_in(stratus, SYSADMIN)
    instances = await stratus.get_list("/instances", m.ServerInstance)
    first = instances[0]
    changed = await stratus.put(
        f"/admin/instances/{first.id}/components/PS",
        m.ComponentStateUpdate(state="degraded"),
        m.ServerInstance,
    )
    assert {c.abbreviation: c.state for c in changed.components}["PS"] == "degraded"
    assert len(await stratus.get_list("/license", m.License)) >= 2


async def test_update_with_a_stale_etag_is_stale_version(stratus: StratusClient) -> None:
    await signed_in(stratus)
    path = f"/teams/{named(db.Team, 'Billing')}"
    team, etag = await stratus.get_with_etag(path, m.Team)
    assert team.name == "Billing" and etag is not None and etag == '"1"'
    first, new_etag = await stratus.update(path, m.TeamUpdate(name="First"), m.Team, etag=etag)
    assert (first.name, first.version, new_etag) == ("First", 2, '"2"')
    with pytest.raises(err.StaleVersion) as caught:
        await stratus.update(path, m.TeamUpdate(name="Second"), m.Team, etag=etag)
    assert caught.value.current_etag == '"2"'
    assert caught.value.kind == "stale-version"
    assert "changed by someone else" in str(caught.value)
    assert (await stratus.get(path, m.Team)).name == "First"


async def test_create_and_delete(stratus: StratusClient) -> None:
    await signed_in(stratus)
    body = m.ResponsibilityCreate(name="Callbacks", ou_id=named(db.OrgUnit, "Sales"))
    created, etag = await stratus.create("/responsibilities", body, m.Responsibility)
    assert created.name == "Callbacks" and etag is not None and etag == '"1"'
    path = f"/responsibilities/{created.id}"
    await stratus.update(
        path, m.ResponsibilityUpdate(name="Call-backs"), m.Responsibility, etag=etag
    )
    with pytest.raises(err.StaleVersion):
        await stratus.delete(path, etag=etag)
    await stratus.delete(path, etag='"2"')
    with pytest.raises(err.NotFound) as caught:
        await stratus.get(path, m.Responsibility)
    assert (caught.value.status, str(caught.value)) == (404, "responsibility not found")


async def test_invalid_input_names_the_field(stratus: StratusClient) -> None:
    await signed_in(stratus)
    with pytest.raises(err.InvalidInput) as caught:
        await stratus.create("/teams", m.TeamCreate(name="Night", ou_id=999_999), m.Team)
    assert caught.value.status == 422
    assert caught.value.kind == "invalid-input"
    assert "organization unit" in caught.value.field_errors["ou_id"]


async def test_a_role_that_may_not_is_forbidden(stratus: StratusClient) -> None:
    await signed_in(stratus, MEMBER)
    with pytest.raises(err.Forbidden) as caught:
        await stratus.get_page("/users", m.User)
    assert caught.value.status == 403 and str(caught.value)


async def test_logout_ends_the_session_and_never_raises(stratus: StratusClient) -> None:
    await signed_in(stratus)
    token = stratus.token
    await stratus.logout()
    assert stratus.token is None
    await stratus.logout()  # nothing to end
    stratus.token = token
    with pytest.raises(err.Unauthenticated) as caught:
        await stratus.me()
    assert caught.value.expired and caught.value.kind == "session-ended"
    await stratus.logout()  # the server says 401: already ended, fine
    assert stratus.token is None


async def test_background_requests_do_not_extend_the_session(
    stratus: StratusClient, transport: Recording, clock: FakeClock
) -> None:
    await signed_in(stratus)
    for _ in range(2):
        clock.advance(240)
        await stratus.get_list("/instances", m.ServerInstance, background=True)
    assert transport.requests[-1].headers["stratus-background"] == "true"
    clock.advance(240)  # 12 minutes of automatic refresh: the session expired at 10
    with pytest.raises(err.Unauthenticated) as caught:
        await stratus.get_list("/instances", m.ServerInstance, background=True)
    assert caught.value.expired and "10 minutes" in str(caught.value)
    await signed_in(stratus)
    for _ in range(3):  # the same rhythm in the user's own requests keeps it alive
        clock.advance(240)
        await stratus.get_list("/instances", m.ServerInstance)
    assert "stratus-background" not in transport.requests[-1].headers


# --- a broken server -----------------------------------------------------------------------


class Reading(m.Resource):
    name: str
    value: float


PAGE = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
JSON, PROBLEM = "application/json", "application/problem+json"
BAD, FAILED = err.BadResponse, err.ServerFailure
ANSWERS: dict[str, tuple[int, str, bytes]] = {
    "ok": (200, JSON, b'{"name": "x", "value": 1.5}'),
    "html-502": (502, "text/html", PAGE),
    "huge-502": (502, "text/html", PAGE + b" " * 40_000),
    "html-200": (200, "text/html; charset=utf-8", PAGE),
    "html-as-json": (200, JSON, PAGE),
    "malformed": (200, JSON, b'{"name": "x", "value": '),
    "nan": (200, JSON, b'{"name": "x", "value": NaN}'),
    "duplicate-key": (200, JSON, b'{"name": "x", "value": 1, "value": 2}'),
    "deep": (200, JSON, b"[" * 10_000 + b"]" * 10_000),
    "deep-value": (200, JSON, b'{"name": "x", "value": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"),
    "surrogate": (200, JSON, b'{"name": "\\ud800", "value": 1}'),
    "large": (200, JSON, b'{"name": "' + b"x" * 40_000 + b'", "value": 1}'),
    "text": (200, "text/plain", b"ok"),
    "wrong-types": (200, JSON, b'{"name": 3, "value": "many"}'),
    "empty": (200, JSON, b""),
    "problem-500": (500, PROBLEM, b'{"title": "x", "status": 500, "detail": "Disk full"}'),
    "teapot": (418, "text/plain", b""),
}
BROKEN: list[tuple[str, type[Exception], str]] = [
    ("html-502", FAILED, "answered GET /broken/html-502 with HTTP 502 Bad Gateway and an HTML"),
    ("huge-502", FAILED, "HTTP 502 Bad Gateway and an HTML page"),
    ("html-200", BAD, "with an HTML page, not the Stratus API"),
    ("html-as-json", BAD, "with an HTML page"),
    ("malformed", BAD, "is not valid JSON (EOF while parsing"),
    ("nan", BAD, "contains NaN"),
    ("duplicate-key", BAD, "the key 'value' appears twice"),
    ("deep", BAD, "nested too deeply"),
    ("deep-value", BAD, "nested too deeply"),
    ("surrogate", BAD, "is not valid JSON"),
    ("large", BAD, "is larger than 32 KiB"),
    ("large-stream", BAD, "is larger than 32 KiB"),
    ("bad-gzip", BAD, "compression is broken"),
    ("text", BAD, "with text/plain instead of JSON"),
    ("wrong-types", BAD, "expects: name: Input should be a valid string (and 1 more problems)"),
    ("empty", BAD, "was empty"),
    ("redirect", BAD, "redirect (HTTP 301 Moved Permanently) to https://stratus.test/"),
    ("problem-500", FAILED, "Disk full"),
    ("teapot", err.ApiError, "HTTP 418"),
]


def broken_app(hits: Counter[str]) -> Starlette:
    async def broken(request: Request) -> Response:
        name = request.path_params["name"]
        hits[name] += 1
        if name == "large-stream":
            chunks = (b"x" * 512 for _ in range(80))
            return StreamingResponse(chunks, media_type=JSON)
        if name == "bad-gzip":
            return Response(b"not gzip", media_type=JSON, headers={"content-encoding": "gzip"})
        if name == "redirect":
            return Response(status_code=301, headers={"location": "https://stratus.test/"})
        if name == "slow":
            await asyncio.sleep(1)
        status, media_type, body = ANSWERS.get(name, ANSWERS["ok"])
        return Response(body, status_code=status, media_type=media_type)

    async def busy(request: Request) -> Response:
        """``status`` until ``ok_after`` hits (or forever), with ``Retry-After: after``."""
        hits["busy"] += 1
        if hits["busy"] > int(request.query_params.get("ok_after", 1_000)):
            return Response(ANSWERS["ok"][2], media_type=JSON)
        after = request.query_params.get("after")
        headers = {"retry-after": after} if after is not None else {}
        body = b'{"title": "Busy", "status": 0, "detail": "The server is busy"}'
        return Response(body, request.path_params["status"], headers, media_type=PROBLEM)

    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    return Starlette(
        routes=[
            Route("/api/v1/broken/{name}", broken, methods=methods),
            Route("/api/v1/busy/{status:int}", busy, methods=methods),
        ]
    )


@pytest.fixture
def hits() -> Counter[str]:
    return Counter()


@pytest.fixture
async def shaky(hits: Counter[str], sleeps: Sleeps) -> AsyncIterator[StratusClient]:
    transport = httpx.ASGITransport(app=broken_app(hits))
    client = StratusClient(BASE, transport=transport, sleep=sleeps, max_body_bytes=32 * 1024)
    async with client:
        yield client


@pytest.mark.parametrize(("name", "error", "message"), BROKEN, ids=[row[0] for row in BROKEN])
async def test_broken_answers_are_clear_typed_errors(
    shaky: StratusClient, hits: Counter[str], name: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        await shaky.get(f"/broken/{name}", Reading)
    assert type(caught.value) is error
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert hits[name] == 1
    assert (await shaky.get("/broken/ok", Reading)).value == 1.5  # still works afterwards


@pytest.mark.parametrize(
    ("after", "waits"),
    [("2", [2, 2, 2]), ("120", [30, 30, 30]), ("0", [0, 0, 0])],
    ids=["seconds", "capped", "zero"],
)
async def test_get_is_retried_honouring_retry_after(
    shaky: StratusClient, hits: Counter[str], sleeps: Sleeps, after: str, waits: list[float]
) -> None:
    with pytest.raises(err.ServerFailure) as caught:
        await shaky.get("/busy/503", Reading, params={"after": after})
    assert str(caught.value) == "The server is busy"
    assert (hits["busy"], sleeps) == (4, waits)


async def test_retry_after_as_an_http_date(shaky: StratusClient, sleeps: Sleeps) -> None:
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    past = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    with pytest.raises(err.RateLimited) as caught:
        await shaky.get("/busy/429", Reading, params={"after": soon})
    assert all(17 <= wait <= 20 for wait in sleeps) and len(sleeps) == 3
    assert caught.value.retry_after is not None and caught.value.retry_after <= 20
    sleeps.clear()
    with pytest.raises(err.RateLimited):
        await shaky.get("/busy/429", Reading, params={"after": past})
    assert sleeps == [0, 0, 0]


async def test_backoff_with_jitter_without_retry_after(
    shaky: StratusClient, hits: Counter[str], sleeps: Sleeps
) -> None:
    reading = await shaky.get("/busy/503", Reading, params={"ok_after": 3})
    assert reading.value == 1.5 and hits["busy"] == 4
    for attempt, wait in enumerate(sleeps):
        assert 0.25 * 2**attempt <= wait <= 0.5 * 2**attempt


@pytest.mark.parametrize("method", ["put", "delete"])
async def test_put_and_delete_are_retried(
    shaky: StratusClient, hits: Counter[str], sleeps: Sleeps, method: str
) -> None:
    with pytest.raises(err.RateLimited) as caught:
        if method == "put":
            await shaky.put("/busy/429?after=1", m.ChatMessageCreate(text="hi"), Reading)
        else:
            await shaky.delete("/busy/429?after=1", etag='"1"')
    assert caught.value.retry_after == 1
    assert (hits["busy"], sleeps) == (4, [1, 1, 1])


@pytest.mark.parametrize("status", [429, 503])
async def test_post_and_patch_are_never_replayed(
    shaky: StratusClient, hits: Counter[str], sleeps: Sleeps, status: int
) -> None:
    body = m.ChatMessageCreate(text="hi")
    with pytest.raises(err.ApiError) as created:
        await shaky.create(f"/busy/{status}?after=1", body, Reading)
    with pytest.raises(err.ApiError) as updated:
        await shaky.update(f"/busy/{status}?after=1", body, Reading, etag='"1"')
    assert created.value.status == updated.value.status == status
    assert (hits["busy"], sleeps) == (2, [])


# --- real sockets: TLS, a closed port, a slow server ---------------------------------------


def self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stratus test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder(subject_name=name, issuer_name=name, public_key=key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem, pkcs8 = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    (cert_path := folder / "cert.pem").write_bytes(cert.public_bytes(pem))
    (key_path := folder / "key.pem").write_bytes(
        key.private_bytes(pem, pkcs8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = self_signed(tmp_path)
    config = uvicorn.Config(
        broken_app(Counter()), host="127.0.0.1", port=0, ssl_certfile=str(cert),
        ssl_keyfile=str(key), log_level="critical", lifespan="off",
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"https://127.0.0.1:{port}", cert
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.socket
async def test_tls_is_verified_and_a_ca_bundle_is_honoured(tls_server: tuple[str, Path]) -> None:
    url, cert = tls_server
    async with StratusClient(url) as untrusting:
        with pytest.raises(err.TLSFailure) as caught:
            await untrusting.get("/broken/ok", Reading)
    message = str(caught.value)
    assert message.startswith("The server's certificate for 127.0.0.1 could not be verified (")
    assert "set ca_bundle in the profile" in message
    async with StratusClient(url, ca_bundle=cert) as trusting:
        assert (await trusting.get("/broken/ok", Reading)).value == 1.5
    async with StratusClient(url, ca_bundle=cert, timeouts=Timeouts(read=0.2)) as impatient:
        with pytest.raises(err.ServerTimeout) as slow:
            await impatient.get("/broken/slow", Reading)
    assert str(slow.value) == f"The server at {url} did not answer within 0.2 s"


def leaks(error: BaseException, secret: str) -> list[str]:
    """Locals of the client's frames whose repr shows ``secret`` (crash reports print them)."""
    assert error.__traceback__ is not None
    found, frame = [], error.__traceback__.tb_next  # the client's frames, not the test's
    while frame is not None:
        code = frame.tb_frame.f_code.co_name
        found += [f"{code}.{k}" for k, v in frame.tb_frame.f_locals.items() if secret in repr(v)]
        frame = frame.tb_next
    return found


@pytest.mark.socket
async def test_a_closed_port_is_unreachable_and_no_secret_leaks() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    async with StratusClient(url) as client:
        with pytest.raises(err.ServerUnreachable) as caught:
            await client.login("admin@demo.stratus", "pass-" + "word-1")
        assert str(caught.value) == f"Cannot reach the Stratus server at {url}: connection refused"
        assert leaks(caught.value, "pass-word-1") == []
        assert caught.value.__cause__ is None and caught.value.__suppress_context__
        client.token = SecretStr("tok-" + "en-1")
        with pytest.raises(err.ServerUnreachable) as caught:
            await client.me()
        assert leaks(caught.value, "tok-en-1") == []
        await client.logout()  # never raises, even with nobody to tell
        assert client.token is None


def test_an_unusable_ca_bundle_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(err.TLSFailure) as caught:
        StratusClient("https://stratus.example.com", ca_bundle=tmp_path / "missing.pem")
    assert str(caught.value).startswith(f"The CA bundle {tmp_path / 'missing.pem'} set in the")
