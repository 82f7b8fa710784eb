"""Hypothesis on the client's decoding of every answer type (SECURITY.md C, "Responses").

For each answer the client reads (the table ``TARGETS`` below: every resource of the
contract, pages and plain lists of them, the login and session answers, the conversation
feed, and error answers), answers are generated from the model's own JSON schema, then
mutated: wrong types, missing and extra fields, NaN/Infinity, huge numbers, deep nesting,
lone surrogates and broken UTF-8, duplicate keys, hostile strings (tests/hostile.py),
truncated or replaced bodies, other statuses and content types, odd headers. Each answer is
served by an ``httpx.MockTransport`` to a real ``StratusClient`` (its real reading path:
size cap, content type, contract validation, strict JSON); the thing under test is the
decoder, not a server.

The only allowed outcomes are the decoded model (of the expected type) or a ``StratusError``
with one clear line (one line, at most 1000 characters), and no request that an HTTP stack
would refuse to send (a session token must fit a header). Anything else (RecursionError,
ValueError, UnicodeError, KeyError, OverflowError...) fails the test. Budget:
tests/fuzzing.py.
"""

from __future__ import annotations

# First: it keeps pytest from rewriting hypothesis and schemathesis (see its helper).
from tests.fuzzing import BUDGET, CaseCounter, examples

# isort: split
import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import h11
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter

from stratus_tui.api import models as m
from stratus_tui.api.client import StratusClient
from stratus_tui.api.contract_org import BEARER_TOKEN
from stratus_tui.api.errors import BadResponse, StratusError
from tests.hostile import HOSTILE

BASE = "http://stratus.test"
CASES = CaseCounter()
Reader = Callable[[StratusClient], Awaitable[Any]]


# --- valid answers, from the contract's JSON schemas ---------------------------------------

TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from([text for name, text in HOSTILE.items() if name != "lone_surrogate"]),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False), TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


# Rules the JSON schemas do not state (the contract checks them in validators): valid values.
PROPERTY_VALUES = {
    "address": st.sampled_from(["sip:alice@example.com", "tel:+41445550100"]),
    "start": st.sampled_from(["00:00", "08:00"]),  # working hours start before they end
    "end": st.sampled_from(["17:30", "23:59"]),
}
DEFINITION_VALUES = {
    "DistributionPolicy": st.sampled_from(
        [{"priority": "strict"}, {"priority": "weighted_round_robin", "wrr_level": 3}]
    ),
}


def from_schema(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid for the subset of JSON Schema that pydantic writes for the contract."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in DEFINITION_VALUES:
            return DEFINITION_VALUES[name]
        return st.deferred(lambda: from_schema(defs[name], defs))
    if "anyOf" in schema:
        return st.one_of([from_schema(option, defs) for option in schema["anyOf"]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        if not properties:
            extra = schema.get("additionalProperties", True)
            values = JSON if extra is True else from_schema(extra, defs)
            return st.dictionaries(st.text(max_size=8), values, max_size=3)
        required = set(schema.get("required", ()))
        fields = {
            name: PROPERTY_VALUES[name] if name in PROPERTY_VALUES else from_schema(sub, defs)
            for name, sub in properties.items()
        }
        return st.fixed_dictionaries(
            {name: fields[name] for name in fields if name in required},
            optional={name: fields[name] for name in fields if name not in required},
        )
    if kind == "array":
        if "prefixItems" in schema:
            return st.tuples(*(from_schema(s, defs) for s in schema["prefixItems"])).map(list)
        return st.lists(from_schema(schema.get("items", {}), defs), max_size=3)
    if kind == "string":
        if schema.get("format") == "password":  # the session token
            return st.from_regex(BEARER_TOKEN, fullmatch=True) | TEXT
        if schema.get("format") == "date-time":
            return st.datetimes(timezones=st.just(UTC)).map(lambda value: value.isoformat())
        if schema.get("format") == "date":
            return st.dates().map(lambda value: value.isoformat())
        return TEXT
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**40)), schema.get("maximum", 2**40))
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return JSON


@dataclass(frozen=True)
class Answer:
    """What the mock server sends: a status, headers (as bytes, as on the wire), a body."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


# --- mutations -----------------------------------------------------------------------------

# A string that marks where a raw token goes in the serialized body (json.dumps escapes it).
MARK = "\x00raw\x00"
MARK_JSON = json.dumps(MARK).encode()


def raw_tokens() -> st.SearchStrategy[bytes]:
    """Bytes that no ``json.dumps`` writes but a broken or hostile server may send."""
    return st.one_of(
        st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999", b"-0.0e-999"]),
        st.integers(1, 6000).map(lambda digits: b"9" * digits),  # past int64; past 4300 digits
        st.integers(1, 6000).map(lambda digits: b"-1" + b"0" * digits),
        st.integers(50, 100_000).map(lambda depth: b"[" * depth + b"]" * depth),
        st.integers(50, 100_000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
        st.sampled_from(
            [
                b'"\\ud800"',  # a lone surrogate, escaped
                b'"a\\udc00b"',
                b'"\\ud800\\u0041"',
                b'"\xed\xa0\x80"',  # a surrogate encoded as UTF-8 (invalid)
                b'"\xff\xfe"',  # not UTF-8 at all
                b'"\xc3"',  # a truncated UTF-8 sequence
                b'"\\u00"',  # a truncated escape
                b"tru",
                b'"unterminated',
                b"01",
                b"+1",
            ]
        ),
    )


def paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every node's path in a JSON value (the root is ``()``)."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*path, index))
    return found


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = replaced(copy[head], rest, new)
    return copy


def removed(value: Any, path: tuple[Any, ...]) -> Any:
    """``value`` without the node at ``path`` (a key or an item)."""
    parent, last = path[:-1], path[-1]
    node = value
    for step in parent:
        node = node[step]
    if isinstance(node, dict):
        smaller: Any = {key: item for key, item in node.items() if key != last}
    else:
        smaller = [item for index, item in enumerate(node) if index != last]
    return replaced(value, parent, smaller)


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[Any]) -> bytes:
    """A body: ``valid`` as sent by a correct server, or changed in one or a few ways."""
    value = draw(valid)
    raw: list[bytes] = []
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        places = paths(value)
        path = draw(st.sampled_from(places))
        change = draw(
            st.sampled_from(["type", "drop", "extra", "raw", "hostile", "duplicate", "wrap"])
        )
        if change == "type":
            value = replaced(value, path, draw(JSON))
        elif change == "drop" and path:
            value = removed(value, path)
        elif change == "extra":
            node = value
            for step in path:
                node = node[step]
            if isinstance(node, dict):
                value = replaced(value, path, {**node, draw(TEXT): draw(JSON)})
        elif change == "raw":
            raw.append(draw(raw_tokens()))
            value = replaced(value, path, MARK)
        elif change == "hostile":
            value = replaced(value, path, draw(st.sampled_from(list(HOSTILE.values()))))
        elif change == "duplicate" and path and isinstance(path[-1], str):
            # The same key twice in one object: the second spelling is written raw.
            raw.append(json.dumps(path[-1]).encode() + b":" + draw(raw_tokens() | st.just(b"1")))
            parent = value
            for step in path[:-1]:
                parent = parent[step]
            value = replaced(value, path[:-1], {**parent, MARK: 0})
        elif change == "wrap":
            value = replaced(value, path, draw(st.sampled_from([[], {}]) | st.just([value])))
    ensure_ascii = draw(st.booleans())
    body = json.dumps(value, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")
    for token in raw:
        if b'"\\u0000raw\\u0000": 0' in body:  # a duplicate key: the whole "key": value
            body = body.replace(b'"\\u0000raw\\u0000": 0', token, 1)
        else:
            body = body.replace(MARK_JSON, token, 1)
    ending = draw(st.sampled_from(["whole"] * 8 + ["cut", "replace"]))
    if ending == "cut":
        body = body[: draw(st.integers(0, max(0, len(body) - 1)))]
    elif ending == "replace":
        body = draw(
            st.sampled_from(
                [
                    b"",
                    b" \n",
                    b"null",
                    b"[]",
                    b"{}",
                    b"\xef\xbb\xbf" + body,  # a byte-order mark
                    b"<!doctype html><title>502 Bad Gateway</title>",
                    b"<html><body>maintenance</body></html>",
                    body + b"garbage",
                    body + body,
                ]
            )
            | st.binary(max_size=64)
        )
    return body


HEADER_VALUE = st.binary(max_size=40).map(
    lambda value: value.replace(b"\r", b"").replace(b"\n", b"")
)
ERROR_STATUSES = st.sampled_from([400, 401, 403, 404, 409, 412, 422, 428, 429, 500, 502, 503])
CONTENT_TYPES = st.sampled_from(
    [
        b"application/json",
        b"application/json; charset=utf-8",
        b"Application/JSON",
        b"application/problem+json",
        b"text/html; charset=utf-8",
        b"text/plain",
        b"application/octet-stream",
        b"",
    ]
)


@st.composite
def answers(draw: st.DrawFn, valid: st.SearchStrategy[Any], *, error: bool = False) -> Answer:
    """A whole answer: mostly 2xx JSON (``error``: mostly 4xx/5xx problem+json)."""
    body = draw(mutated(valid))
    odd = draw(st.integers(0, 9)) == 0  # one answer in ten: any status and content type
    if odd:
        status = draw(st.integers(300, 599) if error else st.integers(100, 599))
        content_type = draw(CONTENT_TYPES | HEADER_VALUE)
    else:
        status = draw(ERROR_STATUSES if error else st.sampled_from([200, 201]))
        content_type = b"application/problem+json" if error else b"application/json"
    headers: list[tuple[bytes, bytes]] = []
    if content_type:
        headers.append((b"content-type", content_type))
    for name in draw(st.sets(st.sampled_from([b"retry-after", b"etag", b"location"]))):
        value = draw(
            HEADER_VALUE
            | st.sampled_from([b"120", b"Wed, 21 Oct 2015 07:28:00 GMT", b"Fri, 31 Dec 9999"])
            | st.integers(0, 10**30).map(lambda n: str(n).encode())
        )
        headers.append((name, value))
    if draw(st.integers(0, 19)) == 0:
        headers.append((b"content-encoding", draw(st.sampled_from([b"gzip", b"br", b"deflate"]))))
    return Answer(status, tuple(headers), body)


# --- what the client reads, and how --------------------------------------------------------


def schema_of(annotation: Any) -> st.SearchStrategy[Any]:
    schema = TypeAdapter(annotation).json_schema()
    return from_schema(schema, schema.get("$defs", {}))


def get(model: type[BaseModel]) -> Reader:
    return lambda client: client.get("/item", model)


def page(model: type[BaseModel]) -> Reader:
    return lambda client: client.get_page("/items", model)


def plain_list(model: type[BaseModel]) -> Reader:
    return lambda client: client.get_list("/items", model)


async def login_then_use(client: StratusClient) -> m.CurrentUser:
    """A login answer, then the token it holds in use (a token is sent in a header)."""
    await client.login("admin@demo.stratus", "demo")
    return await client.me()


async def o365_login_then_use(client: StratusClient) -> m.CurrentUser:
    from pydantic import SecretStr

    await client.login_o365(SecretStr("token"))
    return await client.me()


async def feed(client: StratusClient) -> m.ConversationPage:
    raw = await client.conversation_page_raw(after=FEED_AFTER)
    return raw.decode()


@dataclass(frozen=True)
class Target:
    """One answer type: how the client reads it, and what a correct server sends."""

    read: Reader
    valid: st.SearchStrategy[Any]
    expected: type
    followed_by: st.SearchStrategy[Any] | None = None  # the answer to a second request


# Read with get (also create, update and put: the same decoding), as a page, as a plain list.
SINGLE = [
    m.Tenant, m.O365App, m.OrgUnit, m.Team, m.User, m.Service, m.Workflow, m.DutyProfile,
    m.Trait, m.Responsibility, m.ServerInstance, m.Conversation, m.PrivacyExport,
    m.PrivacyExportResult, m.PrivacyEventPage, m.WorkflowDocument, m.ChatMessage, m.Erasure,
    m.CurrentUser,
]  # fmt: skip
PAGED = [
    m.Tenant, m.O365App, m.OrgUnit, m.Team, m.User, m.Service, m.Workflow, m.DutyProfile,
    m.Trait, m.Responsibility, m.PrivacyExport, m.LicenseUsage,
]  # fmt: skip
LISTED = [m.ServerInstance, m.License, m.ChatMessage, m.ChatSummary]
# Resources that only ever arrive inside another answer (fuzzed as part of it).
NESTED = {m.Component, m.TrustedApplication, m.LicenseLimits, m.ProblemItem, m.PrivacyEvent, m.Page}
FEED_AFTER = 100

TARGETS: dict[str, Target] = {}
for _model in SINGLE:
    TARGETS[f"get {_model.__name__}"] = Target(get(_model), schema_of(_model), _model)
for _model in PAGED:
    TARGETS[f"page of {_model.__name__}"] = Target(
        page(_model), schema_of(m.Page[_model]), m.Page[_model]
    )
for _model in LISTED:
    TARGETS[f"list of {_model.__name__}"] = Target(
        plain_list(_model), schema_of(list[_model]), list
    )
TARGETS["login"] = Target(
    login_then_use, schema_of(m.SessionInfo), m.CurrentUser, schema_of(m.CurrentUser)
)
TARGETS["o365 login"] = Target(
    o365_login_then_use, schema_of(m.SessionInfo), m.CurrentUser, schema_of(m.CurrentUser)
)
TARGETS["keepalive"] = Target(
    lambda client: client.keepalive(), schema_of(m.SessionTimes), m.SessionTimes
)
TARGETS["o365 config"] = Target(
    lambda client: client.o365_config("contoso.com"), schema_of(m.O365Config), m.O365Config
)


def _feed_row(seq: int) -> st.SearchStrategy[list[Any]]:
    ids = st.integers(1, 2**40)
    optional = st.none() | ids
    times = st.integers(0, 2**33)
    return st.tuples(
        ids, st.just(seq), ids, ids, optional, optional,
        st.sampled_from(["call", "im"]), st.sampled_from(["inbound", "outbound"]),
        st.booleans(), times, st.none() | times, times, st.sampled_from(["accepted", "lost"]),
        st.integers(0, 10**6), st.integers(0, 10**6), st.booleans(), TEXT,
    ).map(list)  # fmt: skip


@st.composite
def feed_pages(draw: st.DrawFn) -> dict[str, Any]:
    seqs = sorted(draw(st.sets(st.integers(FEED_AFTER + 1, FEED_AFTER + 10**6), max_size=4)))
    rows = [draw(_feed_row(seq)) for seq in seqs]
    more = bool(rows) and draw(st.booleans())
    cursor = seqs[-1] if seqs else FEED_AFTER
    return {
        "fields": list(m.CONVERSATION_FIELDS),
        "rows": rows,
        "next_cursor": cursor,
        "has_more": more,
        "latest_seq": draw(st.none() | st.just(cursor)),
    }


TARGETS["conversation feed"] = Target(feed, feed_pages(), m.ConversationPage)


def test_every_answer_type_is_fuzzed() -> None:
    """A resource added to the contract must be added to the table above."""
    resources = {
        value
        for value in vars(m).values()
        if inspect.isclass(value) and issubclass(value, m.Resource) and value is not m.Resource
    }
    fuzzed = {*SINGLE, *PAGED, *LISTED, m.SessionInfo, m.SessionTimes, m.O365Config}
    fuzzed |= {m.ConversationPage, m.Problem}  # the feed; error answers (below)
    assert resources - fuzzed - NESTED == set()


# --- the property --------------------------------------------------------------------------


class Server:
    """The mock transport's handler: each request gets the next planned answer.

    It also checks each request as a real HTTP/1.1 stack would (h11, under httpx's own
    transport): a header value the client took from an answer (the session token) must be
    one that can be sent at all.
    """

    def __init__(self, planned: list[Answer]) -> None:
        self.planned = planned
        self.refused: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        try:
            h11.Request(
                method=request.method,
                target=request.url.raw_path,
                headers=list(request.headers.raw),
            )
        except h11.LocalProtocolError as error:
            self.refused.append(f"{request.method} {request.url.path}: {error}")
            raise httpx.LocalProtocolError(str(error)) from None
        answer = self.planned.pop(0) if self.planned else Answer(599, (), b"")
        return httpx.Response(answer.status, headers=list(answer.headers), content=answer.body)


async def outcome(read: Reader, planned: list[Answer]) -> tuple[Any, Server]:
    """What the client makes of ``planned``: the decoded value, or the StratusError."""
    server = Server(list(planned))

    async def no_sleep(_: float) -> None:
        return None

    client = StratusClient(BASE, transport=httpx.MockTransport(server), sleep=no_sleep)
    try:
        return await read(client), server
    except StratusError as error:
        return error, server
    finally:
        await client.aclose()


def check(result: tuple[Any, Server], expected: type) -> None:
    value, server = result
    assert server.refused == [], "the client sent a request no HTTP stack would send"
    if isinstance(value, StratusError):
        message = str(value)
        assert message.strip(), f"{type(value).__name__} without a message"
        assert len(message.splitlines()) == 1, f"not one line: {message[:300]!r}"
        assert len(message) <= 1000, f"{len(message)} characters: {message[:300]!r}"
    else:
        assert isinstance(value, expected), value


@pytest.mark.parametrize("name", list(TARGETS))
def test_answers_decode_or_fail_cleanly(name: str, request: pytest.FixtureRequest) -> None:
    target = TARGETS[name]
    test = request.node.nodeid
    plans = st.tuples(answers(target.valid))
    if target.followed_by is not None:
        plans = st.tuples(answers(target.valid), answers(target.followed_by))

    @examples(BUDGET.decoding_examples)
    @given(plans)
    def fuzz(planned: tuple[Answer, ...]) -> None:
        result = asyncio.run(outcome(target.read, list(planned)))
        CASES.record(test, type(result[0]).__name__)
        check(result, target.expected)

    try:
        fuzz()
    finally:
        CASES.report(test)


def test_error_answers_are_typed_errors(request: pytest.FixtureRequest) -> None:
    """4xx/5xx answers (problem+json or not): always a StratusError, whatever the body."""
    test = request.node.nodeid

    @examples(BUDGET.decoding_examples * 2)
    @given(answers(schema_of(m.Problem), error=True), st.sampled_from(["GET", "POST"]))
    def fuzz(answer: Answer, method: str) -> None:
        async def read(client: StratusClient) -> Any:
            if method == "GET":
                return await client.get("/item", m.Tenant)
            return await client.create("/items", m.TraitCreate(name="x", ou_id=1), m.Trait)

        result = asyncio.run(outcome(read, [answer]))
        CASES.record(test, type(result[0]).__name__)
        assert isinstance(result[0], StratusError), result[0]
        check(result, StratusError)

    try:
        fuzz()
    finally:
        CASES.report(test)


# --- what the fuzz found, as plain examples ------------------------------------------------

USER = {
    "id": 1, "first_name": "Ada", "last_name": "L", "upn": "ada@demo.stratus", "sip_uri": None,
    "roles": ["tenant_admin"], "role": "tenant_admin", "tenant_id": 1, "tenant_name": "Demo",
    "time_zone": "UTC", "team_ids": [], "live_chat_enabled": False,
}  # fmt: skip


def json_answer(value: Any) -> Answer:
    return Answer(200, ((b"content-type", b"application/json"),), json.dumps(value).encode())


@pytest.mark.parametrize("token", ["tok\nen", "tok\x00en", "two words", "tokén", "x" * 4097])
def test_a_session_token_that_cannot_be_sent_back_is_refused_at_login(token: str) -> None:
    """It used to be accepted; every later request then failed as "Cannot reach the
    server: Illegal header value b'Bearer tok\\nen'": a wrong message, quoting the token."""
    session = {
        "token": token,
        "expires_at": "2026-11-22T12:10:00Z",
        "absolute_expires_at": "2026-11-23T00:00:00Z",
        "idle_timeout_seconds": 600,
        "user": USER,
    }
    result, server = asyncio.run(outcome(login_then_use, [json_answer(session), json_answer(USER)]))
    assert isinstance(result, BadResponse), result
    assert str(result).startswith("The server's answer to POST /auth/login does not match")
    assert token not in str(result)
    assert len(server.planned) == 1 and server.refused == []  # nothing sent after the login


@pytest.mark.parametrize(
    ("header", "value"),
    [(b"location", b"https://elsewhere.test/\x85next line"), (b"content-type", b"text/x\x85y")],
)
def test_header_text_in_a_message_stays_on_one_line(header: bytes, value: bytes) -> None:
    """A redirect's Location or an answer's Content-Type is quoted in the message: a line
    break in it (U+0085 decodes from a latin-1 header) used to split the message in two."""
    status = 302 if header == b"location" else 200
    answer = Answer(status, ((header, value),), b"{}")
    result, _ = asyncio.run(outcome(get(m.Tenant), [answer]))
    assert isinstance(result, BadResponse), result
    assert len(str(result).splitlines()) == 1, str(result)
