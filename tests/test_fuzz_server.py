"""schemathesis against the reference server's own OpenAPI document (SECURITY.md E).

Every operation of ``docs/openapi.json`` (the committed copy; tests/test_openapi.py checks
that it is what the server serves) is fuzzed in-process over ASGI, signed in as a tenant admin
and as a team member (whose answers are mostly the 403 paths): no 5xx, and every answer within
the document (a declared status code and content type, a body and headers that conform).
Each operation gets its own copy of the seeded database (``server_db``), shared by its
examples, so creating, changing and deleting are all fuzzed.

Keeping the cases meaningful:
- ``POST /auth/logout`` ends the session it is sent with: after each logout the test signs in
  again, so the next example is not just a 401.
- Deleting or deactivating oneself is refused by the server (409), so the fuzz cannot lock
  itself out that way; a changed own role takes effect at the next sign-in only.
- The server's clock is a ``FakeClock`` that does not move: no session expires mid-test.

Each generated request is sent twice, as each user (generating it costs more than sending).
Valid and invalid requests are generated (schemathesis's positive and negative modes; some
negative ones leave the token out, which exercises the 401 paths).

The examples come from schemathesis's strategies (``APIOperation.as_strategy``) under plain
Hypothesis, without schemathesis's pytest plugin (``-p no:schemathesis`` in pyproject): the
plugin costs every pytest process its import, and its coverage phase builds all its cases at
collection time in every xdist worker. Budget: tests/fuzzing.py (``STRATUS_FUZZ=long``).
"""

from __future__ import annotations

# First: it keeps pytest from rewriting hypothesis and schemathesis (see its helper).
from tests.fuzzing import BUDGET, CaseCounter, examples

# isort: split
import asyncio
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from stratus_tui.server import db
from stratus_tui.server.app import server_context
from stratus_tui.server.clock import FakeClock
from stratus_tui.server.seed import DEMO_PASSWORD
from tests.conftest import ADMIN, MEMBER, assert_problem, named

COMMITTED = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
BASE_URL = "http://stratus.test"
LOGOUT = "POST /api/v1/auth/logout"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


class InProcess:
    """The ASGI app schemathesis calls: the current test's server, without its lifespan.

    The app is built once per worker (``server_app``) and each test gives it a context on its
    own database; schemathesis needs the app when the module is collected, so it gets this
    stand-in. The lifespan (retention purges, an hourly task) is answered here and not run,
    as with ``httpx.ASGITransport`` in the other tests.
    """

    def __init__(self) -> None:
        self.app: FastAPI | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                step = message["type"].removeprefix("lifespan.")
                await send({"type": f"lifespan.{step}.complete"})
                if step == "shutdown":
                    return
        assert self.app is not None, "the server fixture was not set up"
        await self.app(scope, receive, send)


SERVER = InProcess()
CONFIG = SchemathesisConfig.from_dict({"base-url": BASE_URL})
schema = schemathesis.openapi.from_dict(
    json.loads(COMMITTED.read_text(encoding="utf-8")), config=CONFIG
)
schema.app = SERVER
OPERATIONS = {result.ok().label: result.ok() for result in schema.get_all_operations()}
CASES = CaseCounter()


@functools.cache
def requests_for(label: str) -> st.SearchStrategy[Any]:
    """Valid and invalid requests for one operation (built once per worker)."""
    operation = OPERATIONS[label]
    return st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )


async def _sign_in(app: FastAPI, user: str) -> str:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        answer = await client.post(
            "/api/v1/auth/login", json={"username": user, "password": DEMO_PASSWORD}
        )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


class Caller:
    """A signed-in user of the test's server: the headers to send, renewed after a logout."""

    def __init__(self, app: FastAPI, user: str) -> None:
        self.app = app
        self.user = user
        self.headers: dict[str, str] = {}
        self.sign_in()

    def sign_in(self) -> None:
        token = asyncio.run(_sign_in(self.app, self.user))
        self.headers = {"Authorization": f"Bearer {token}"}

    def send(self, case: Any) -> int:
        response = case.call(headers=self.headers)
        if case.operation.label == LOGOUT and response.status_code == 204:
            self.sign_in()  # that session just ended: the next example gets a new one
        case.validate_response(response, checks=CHECKS, headers=self.headers)
        return int(response.status_code)


@pytest.fixture
def callers(server_app: FastAPI, server_db: Path, clock: FakeClock) -> Iterator[list[Caller]]:
    """A tenant admin and a team member signed in to this test's server."""
    server_app.state.context = server_context(clock=clock)
    SERVER.app = server_app
    yield [Caller(server_app, ADMIN), Caller(server_app, MEMBER)]
    SERVER.app = None


@pytest.mark.parametrize("label", list(OPERATIONS))
def test_operation(label: str, callers: list[Caller], request: pytest.FixtureRequest) -> None:
    test = request.node.nodeid

    @examples(BUDGET.server_examples)
    @given(st.data())
    def fuzz(data: st.DataObject) -> None:
        case = data.draw(requests_for(label), label="request")
        CASES.record(test, *(caller.send(case) for caller in callers))

    try:
        fuzz()
    finally:
        CASES.report(test)


# --- what the fuzz found, as plain examples ------------------------------------------------

BEYOND_INT64 = str(2**63)  # SQLite integers are 64-bit: peewee raised OverflowError (a 500)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/users/{BEYOND_INT64}"),
        ("PATCH", f"/teams/{BEYOND_INT64}"),
        ("DELETE", f"/services/-{BEYOND_INT64}0"),
        ("GET", f"/workflows/{BEYOND_INT64}/export"),
        ("GET", f"/users?team_id={BEYOND_INT64}"),
        ("GET", f"/conversations?after={BEYOND_INT64}"),
        ("GET", f"/privacy/events?after={BEYOND_INT64}"),
    ],
)
async def test_numbers_beyond_64_bits_in_the_address_are_422(
    client: httpx.AsyncClient, admin: dict[str, str], method: str, path: str
) -> None:
    headers = {**admin, "If-Match": '"1"'}
    body = {} if method == "PATCH" else None
    answer = await client.request(method, path, json=body, headers=headers)
    problem = assert_problem(answer, 422)
    assert "less than or equal to 9223372036854775807" in problem["detail"] or (
        "greater than or equal to -9223372036854775808" in problem["detail"]
    )


async def test_an_id_beyond_64_bits_in_a_body_is_422_and_nothing_is_written(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    before = db.Trait.select().count()
    answer = await client.post("/traits", json={"name": "x", "ou_id": 2**63}, headers=admin)
    problem = assert_problem(answer, 422)
    assert problem["errors"][0]["loc"] == ["body", "ou_id"]
    assert db.Trait.select().count() == before


@pytest.mark.parametrize("cursor", ["²", "٣", BEYOND_INT64, "1" * 40])
async def test_a_cursor_the_server_never_issued_is_400(
    client: httpx.AsyncClient, admin: dict[str, str], cursor: str
) -> None:
    answer = await client.get("/users", params={"cursor": cursor}, headers=admin)
    assert assert_problem(answer, 400)["type"].endswith("/bad-cursor")


@pytest.mark.parametrize(("field", "value"), [("signature", "é" * 64), ("name", "bad\ud800name")])
async def test_a_workflow_file_with_non_ascii_or_unencodable_text_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str], field: str, value: str
) -> None:
    workflow = named(db.Workflow, "Standard inbound")
    document = (await client.get(f"/workflows/{workflow}/export", headers=admin)).json()
    document[field] = value
    before = db.Workflow.select().count()
    body = json.dumps({"document": document, "ou_id": named(db.OrgUnit, "Sales")})
    answer = await client.post(
        "/workflows/import", content=body, headers={**admin, "Content-Type": "application/json"}
    )
    assert assert_problem(answer, 422)["type"].endswith("/tampered-document")
    assert db.Workflow.select().count() == before
