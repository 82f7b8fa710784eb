"""Reading a server's answer: contract validation, strict JSON, and errors from problems.

Kept apart from the client's connection handling: everything here works on bytes and
headers already received, so it is the part a fuzzer of the client's decoding targets.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from stratus_tui.api import models
from stratus_tui.api.errors import BadResponse, StratusError, api_error, describe_status

T = TypeVar("T")
JSON_TYPES = frozenset({"application/json", "application/problem+json"})


@dataclass(frozen=True)
class Answer:
    what: str  # "GET /users", for messages
    status: int
    headers: httpx.Headers
    body: bytes

    @property
    def media_type(self) -> str:
        value: str = self.headers.get("content-type", "")
        return value.split(";")[0].strip().lower()

    @property
    def etag(self) -> str | None:
        value: str | None = self.headers.get("etag")
        return value

    def looks_like_html(self) -> bool:
        head = self.body[:512].lstrip().lower()
        return self.media_type in ("text/html", "application/xhtml+xml") or head.startswith(
            (b"<!doctype html", b"<html")
        )


def decode(answer: Answer, validate: Callable[[bytes], T], base_url: str) -> T:
    """Validate a 2xx JSON answer against the contract."""
    what = answer.what
    if answer.looks_like_html():
        raise BadResponse.html_page(base_url, what)
    if answer.media_type not in JSON_TYPES:
        raise BadResponse.not_json(what, answer.media_type)
    if not answer.body.strip():
        raise BadResponse.empty(what)
    try:
        value = validate(answer.body)
        check_strict_json(answer.body)
    except ValidationError as exc:
        raise invalid_answer(what, exc) from None
    except RecursionError:
        raise BadResponse.too_deep(what) from None
    except ValueError as exc:
        raise BadResponse.malformed(what, str(exc)) from None
    return value


def error_of(answer: Answer) -> StratusError:
    """The typed error for a non-2xx answer (problem+json, an HTML page, a redirect)."""
    status, what = answer.status, answer.what
    if status < 400:
        return BadResponse.redirect(what, status, answer.headers.get("location", "elsewhere"))
    detail, kind, message = "", "", None
    field_errors: dict[str, str] = {}
    problem = problem_of(answer) if answer.media_type in JSON_TYPES else None
    if problem is not None:
        detail = problem.detail
        if problem.type != "about:blank":
            kind = problem.type.rstrip("/").rsplit("/", 1)[-1]
        for item in problem.errors or []:
            loc = [str(part) for part in item.loc]
            field = ".".join(loc[1:] if loc[:1] == ["body"] else loc)
            field_errors.setdefault(field, item.msg)
    elif answer.looks_like_html():
        message = (
            f"The server (or a proxy in front of it) answered {what} with "
            f"{describe_status(status)} and an HTML page instead of an API answer"
        )
    return api_error(
        status,
        detail,
        kind=kind,
        field_errors=field_errors,
        message=message,
        retry_after=parse_retry_after(answer.headers.get("retry-after")),
        current_etag=answer.etag,
    )


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta seconds or an HTTP date (RFC 9110 10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"\d{1,10}(?:\.\d+)?", value):
        return float(value)
    try:
        when: datetime = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def problem_of(answer: Answer) -> models.Problem | None:
    try:
        return models.Problem.model_validate_json(answer.body)
    except (ValidationError, RecursionError, ValueError):
        return None


def invalid_answer(what: str, exc: ValidationError) -> BadResponse:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0] if errors else {"type": "", "loc": (), "msg": str(exc)}
    message = str(first["msg"])
    if first["type"] == "json_invalid":
        if "recursion limit" in message:
            return BadResponse.too_deep(what)
        return BadResponse.malformed(what, message.removeprefix("Invalid JSON: "))
    field = ".".join(str(part) for part in first["loc"])
    return BadResponse.off_contract(what, field, message, len(errors) - 1)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"it contains {name}, which JSON does not allow")


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> None:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise ValueError(f"the key {key[:40]!r} appears twice in one object")
        seen.add(key)


def check_strict_json(body: bytes) -> None:
    """What pydantic's parser lets through: NaN/Infinity and duplicate keys (the last wins)."""
    json.loads(body, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
