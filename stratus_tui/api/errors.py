"""The errors ``StratusClient`` raises: typed, each with one clear sentence for an admin.

Kept free of heavy imports (no httpx, no pydantic) so that UI code can import it just to
catch errors. ``str(error)`` is the message to show; the attributes let code act on it
(``Unauthenticated.expired`` → back to the login screen, ``StaleVersion.current_etag`` →
reload and show both versions, ``RateLimited.retry_after`` → wait).
"""

from __future__ import annotations

import errno
from http import HTTPStatus
from typing import Any

MAX_MESSAGE = 500
_ERRNO_REASONS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ENETUNREACH: "the network is unreachable",
    errno.EHOSTUNREACH: "no route to the host",
    errno.ETIMEDOUT: "the connection timed out",
    errno.ECONNRESET: "the connection was reset",
    errno.ECONNABORTED: "the connection was aborted",
}


class StratusError(Exception):
    """Anything that went wrong talking to a Stratus server."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# --- the connection ------------------------------------------------------------------------


class ServerUnreachable(StratusError):
    """Connection refused, DNS failure, network down, connection dropped."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"Cannot reach the Stratus server at {url}: {reason}")
        self.url = url
        self.reason = reason

    @staticmethod
    def reason_for(error: OSError) -> str | None:
        """A few words for a socket error ("connection refused"), or None if unknown."""
        import socket  # here, so that importing this module stays cheap

        if isinstance(error, socket.gaierror):
            return "the host name could not be resolved"
        return _ERRNO_REASONS.get(error.errno) if error.errno is not None else None


class TLSFailure(StratusError):
    """The server's certificate could not be verified (or the CA bundle is unusable)."""

    def __init__(self, host: str, reason: str, *, message: str | None = None) -> None:
        reason = reason.rstrip(".")
        hint = (
            "the profile's address must use a name the certificate was issued for"
            if "mismatch" in reason.lower()
            else "if your organisation uses its own CA, set ca_bundle in the profile"
        )
        super().__init__(
            message
            or f"The server's certificate for {host} could not be verified ({reason}); {hint}"
        )
        self.host = host
        self.reason = reason

    @classmethod
    def handshake_failed(cls, host: str, reason: str) -> TLSFailure:
        """TLS failed before any certificate check, e.g. https:// to a plain-HTTP port."""
        return cls(
            host,
            reason,
            message=f"The secure connection to {host} failed ({reason}); check that the "
            "profile's address uses the right scheme (https:// or http://) and port",
        )

    @classmethod
    def unusable_ca_bundle(cls, host: str, path: str, reason: str) -> TLSFailure:
        return cls(
            host,
            reason,
            message=f"The CA bundle {path} set in the profile cannot be used: {reason}",
        )


class ServerTimeout(StratusError):
    def __init__(self, url: str, seconds: float, note: str = "") -> None:
        super().__init__(f"The server at {url} did not answer within {seconds:g} s{note}")
        self.url = url
        self.seconds = seconds


class BadResponse(StratusError):
    """An answer stratus-tui cannot use: not JSON, not the contract, too large, too deep.

    ``what`` in the constructors below names the request, e.g. ``"GET /users"``.
    """

    @classmethod
    def html_page(cls, url: str, what: str) -> BadResponse:
        return cls(
            f"The server at {url} answered {what} with an HTML page, not the Stratus API; "
            "check the server address in the profile (a web site or proxy may be answering)"
        )

    @classmethod
    def not_json(cls, what: str, media_type: str) -> BadResponse:
        shown = _one_line(media_type) or "no content type"  # a header: any text
        return cls(f"The server answered {what} with {shown} instead of JSON")

    @classmethod
    def empty(cls, what: str) -> BadResponse:
        return cls(f"The server's answer to {what} was empty")

    @classmethod
    def too_large(cls, what: str, limit: int) -> BadResponse:
        return cls(
            f"The server's answer to {what} is larger than {_size(limit)}; "
            "stratus-tui stopped reading it"
        )

    @classmethod
    def cut_short(cls, what: str, received: int, note: str = "") -> BadResponse:
        """The answer's head came, then the connection broke off in the middle of its body."""
        return cls(
            f"The server's answer to {what} broke off after {received:,} bytes; "
            f"nothing of it was used{note}"
        )

    @classmethod
    def too_deep(cls, what: str) -> BadResponse:
        return cls(f"The server's answer to {what} is nested too deeply to read")

    @classmethod
    def malformed(cls, what: str, reason: str) -> BadResponse:
        return cls(f"The server's answer to {what} is not valid JSON ({reason})")

    @classmethod
    def off_contract(cls, what: str, field: str, problem: str, others: int = 0) -> BadResponse:
        more = f" (and {others} more problems)" if others else ""
        return cls(
            f"The server's answer to {what} does not match what stratus-tui expects: "
            f"{field or 'the answer'}: {problem}{more}"
        )

    @classmethod
    def redirect(cls, what: str, status: int, location: str) -> BadResponse:
        return cls(
            f"The server answered {what} with a redirect ({describe_status(status)}) to "
            f"{_one_line(location)}; put the final address in the profile"  # a header: any text
        )


# --- answers from the server ---------------------------------------------------------------


class ApiError(StratusError):
    """The server refused or failed a request (an HTTP error status).

    ``kind`` is the last path segment of the problem ``type`` (``"stale-version"``,
    ``"session-expired"``...), ``""`` for ``about:blank`` or when there was no problem body.
    ``field_errors`` maps a dotted field location (``"name"``, ``"endpoints.0.address"``) to
    the server's message for it.
    """

    def __init__(
        self,
        status: int,
        detail: str = "",
        *,
        kind: str = "",
        field_errors: dict[str, str] | None = None,
        message: str | None = None,
    ) -> None:
        super().__init__(message or _one_line(detail) or self.default_message(status))
        self.status = status
        self.kind = kind
        self.detail = detail
        self.field_errors: dict[str, str] = dict(field_errors or {})

    @classmethod
    def default_message(cls, status: int) -> str:
        return f"The server refused the request ({describe_status(status)})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, kind={self.kind!r}, {self.message!r})"


class Unauthenticated(ApiError):
    """401: not signed in, wrong password, or the session ended or expired."""

    @classmethod
    def default_message(cls, status: int) -> str:
        return "You are not signed in, or your session has ended; sign in again"

    @property
    def expired(self) -> bool:
        """The session was valid once and is now over: show the login screen again."""
        return self.kind in ("session-expired", "session-ended")


class Forbidden(ApiError):
    @classmethod
    def default_message(cls, status: int) -> str:
        return "Your role does not allow this"


class NotFound(ApiError):
    @classmethod
    def default_message(cls, status: int) -> str:
        return "The server does not know this item; it may have been deleted meanwhile"


class Conflict(ApiError):
    @classmethod
    def default_message(cls, status: int) -> str:
        return "The server refused this change because it conflicts with existing data"


class StaleVersion(ApiError):
    """412: someone else changed the item since it was read; nothing was saved."""

    def __init__(
        self,
        status: int,
        detail: str = "",
        *,
        kind: str = "",
        field_errors: dict[str, str] | None = None,
        message: str | None = None,
        current_etag: str | None = None,
    ) -> None:
        super().__init__(status, detail, kind=kind, field_errors=field_errors, message=message)
        self.current_etag = current_etag

    @classmethod
    def default_message(cls, status: int) -> str:
        return (
            "This item was changed by someone else meanwhile; nothing was saved: "
            "reload it and apply your change again"
        )


class PreconditionRequired(ApiError):
    @classmethod
    def default_message(cls, status: int) -> str:
        return "The server needs the version of the item this change is based on (If-Match)"


class InvalidInput(ApiError):
    """422 (invalid values) and 400 (a request the server could not read)."""

    @classmethod
    def default_message(cls, status: int) -> str:
        return f"The server refused the input as invalid ({describe_status(status)})"


class RateLimited(ApiError):
    """429: too many requests (or failed sign-ins); ``retry_after`` seconds, if the server said."""

    def __init__(
        self,
        status: int,
        detail: str = "",
        *,
        kind: str = "",
        field_errors: dict[str, str] | None = None,
        message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        if not (message or detail) and retry_after is not None:
            message = f"The server is receiving too many requests; try again in {retry_after:.0f} s"
        super().__init__(status, detail, kind=kind, field_errors=field_errors, message=message)
        self.retry_after = retry_after

    @classmethod
    def default_message(cls, status: int) -> str:
        return "The server is receiving too many requests; try again in a moment"


class ServerFailure(ApiError):
    """5xx: the server (or a proxy in front of it) failed."""

    @classmethod
    def default_message(cls, status: int) -> str:
        return f"The server failed to handle the request ({describe_status(status)})"


_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidInput,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: StaleVersion,
    422: InvalidInput,
    428: PreconditionRequired,
    429: RateLimited,
}


def error_class(status: int) -> type[ApiError]:
    if status >= 500:
        return ServerFailure
    return _BY_STATUS.get(status, ApiError)


def api_error(
    status: int,
    detail: str = "",
    *,
    kind: str = "",
    field_errors: dict[str, str] | None = None,
    message: str | None = None,
    retry_after: float | None = None,
    current_etag: str | None = None,
) -> ApiError:
    """The typed error for an HTTP error status (``message`` overrides the one-liner)."""
    cls = error_class(status)
    common: dict[str, Any] = {"kind": kind, "field_errors": field_errors, "message": message}
    if cls is RateLimited:
        return RateLimited(status, detail, retry_after=retry_after, **common)
    if cls is StaleVersion:
        return StaleVersion(status, detail, current_etag=current_etag, **common)
    return cls(status, detail, **common)


def describe_status(status: int) -> str:
    """``"HTTP 502 Bad Gateway"``."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"
    return f"HTTP {status} {phrase}"


def _one_line(text: str) -> str:
    """Server text as one line of bounded length (the UI still renders it as plain text)."""
    line = " ".join(text.split())
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


def _size(count: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= factor:
            return f"{count / factor:g} {unit}"
    return f"{count} bytes"
