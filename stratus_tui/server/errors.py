"""Every error the server sends is RFC 9457 problem details with a clear ``detail``.

Routes raise ``ProblemError`` (or use the helpers below); the handlers installed by
``install_problem_handlers`` turn it, FastAPI's validation errors and anything unexpected
into ``application/problem+json``. Invalid input is a 4xx and nothing is written: every
route validates before its transaction starts, and a transaction that raises rolls back.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from stratus_tui.api.models import Problem, ProblemItem

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://stratus-tui.invalid/problems/"
log = logging.getLogger("stratus_tui.server")

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
}


class ProblemError(Exception):
    """An error answer. ``kind`` becomes the problem ``type`` (a stable, documented slug)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        errors: list[ProblemItem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.errors = errors
        self.headers = headers or {}

    def problem(self) -> Problem:
        return Problem(
            type=PROBLEM_BASE + self.kind if self.kind else "about:blank",
            title=_TITLES.get(self.status, "Error"),
            status=self.status,
            detail=self.detail,
            errors=self.errors,
        )


def not_found(what: str) -> ProblemError:
    return ProblemError(404, f"{what} not found", kind="not-found")


def forbidden(detail: str) -> ProblemError:
    return ProblemError(403, detail, kind="forbidden")


def conflict(detail: str, *, kind: str = "conflict") -> ProblemError:
    return ProblemError(409, detail, kind=kind)


def invalid(detail: str, *, field: str | None = None) -> ProblemError:
    errors = [ProblemItem(loc=["body", field], msg=detail)] if field else None
    message = f"{field}: {detail}" if field else detail
    return ProblemError(422, message, kind="invalid-input", errors=errors)


def problem_response(error: ProblemError) -> JSONResponse:
    return JSONResponse(
        error.problem().model_dump(mode="json", exclude_none=True),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=error.headers,
    )


def _validation_problem(exc: RequestValidationError) -> ProblemError:
    raw: list[dict[str, Any]] = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in raw):
        return ProblemError(400, "The request body is not valid JSON", kind="malformed-json")
    items = [
        ProblemItem(
            loc=[part if isinstance(part, int) else str(part) for part in error.get("loc", ())],
            msg=str(error.get("msg", "invalid")).removeprefix("Value error, "),
        )
        for error in raw
    ]
    summary = "; ".join(
        f"{'.'.join(str(part) for part in item.loc[1:]) or item.loc[0]}: {item.msg}"
        for item in items[:5]
    )
    return ProblemError(422, summary or "Invalid input", kind="invalid-input", errors=items)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(exc)

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(_validation_problem(exc))

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        headers = dict(exc.headers or {})
        return problem_response(ProblemError(exc.status_code, detail, headers=headers))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(ProblemError(500, "The server failed to handle this request"))

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
