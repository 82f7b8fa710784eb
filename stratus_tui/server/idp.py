"""A local identity provider: the Azure AD (Entra ID) endpoints msal's device-code flow uses.

For the demo and the tests: it serves, per Azure tenant (the first path segment),

- ``GET  /{tenant}/v2.0/.well-known/openid-configuration``  discovery, as Azure answers it
- ``POST /{tenant}/oauth2/v2.0/devicecode``                 starts a device-code sign-in
- ``POST /{tenant}/oauth2/v2.0/token``                      device-code and refresh grants
- ``GET  /{tenant}/discovery/v2.0/keys``                    the public key (JWKS)
- ``GET|POST /device``                                      where a person approves a code

Tokens are RS256 JWTs shaped like Azure's v2.0 tokens. The signing key is kept (0600) in the
folder given, next to the loopback TLS certificate, so tokens and refresh tokens stay valid
across demo restarts; device codes and used refresh tokens are kept in memory.

msal only talks to https authorities: ``idp_serve.run_in_thread`` serves this app with
uvicorn over TLS on loopback, with a certificate of a private CA (``stratus_tui.server.tls``)
that clients trust by its file.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import re
import secrets
import shlex
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from stratus_tui.server import tls

if TYPE_CHECKING:
    pass

SIGNING_KEY_FILE = "signing-key.pem"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# Azure's user codes are 9 characters; no vowels (no words), no 0/O or 1/I to confuse.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ23456789"
USER_CODE_LENGTH = 9
OIDC_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
DEFAULT_SCP = "access_as_user"
REFRESH_LIFETIME = 90 * 24 * 60 * 60
MAX_FORM_BYTES = 64 * 1024
USER_NAME = re.compile(r"[^\x00-\x20\x7f@]{1,64}@[^\x00-\x20\x7f@]{1,252}\.[^\x00-\x20\x7f@.]+")
OID_NAMESPACE = uuid.UUID("7c1f3f6e-3b7a-4f55-9b2e-5f0a8d3c2e11")  # this IdP's oids
CLAIMS_SUPPORTED = ("sub", "iss", "aud", "exp", "iat", "nbf", "name", "oid", "tid",
                    "preferred_username", "upn", "scp", "ver")  # fmt: skip
BLOCKED_DESCRIPTION = (
    "AADSTS53003: Access has been blocked by Conditional Access policies. "
    "The access policy does not allow token issuance."
)

CodeState = Literal["pending", "approved", "declined", "blocked", "expired"]
Decision = Literal["approve", "decline", "block"]
DECISIONS: dict[str, Decision] = {"approve": "approve", "decline": "decline", "block": "block"}


class DeviceCodeError(ValueError):
    """A user code that cannot be decided (unknown, expired or decided already)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _DeviceCode:
    device_code: str
    user_code: str
    tenant: str
    client_id: str
    scopes: list[str]
    expires_at: float  # time.monotonic()
    state: CodeState = "pending"
    user: str | None = None


@dataclass
class _OAuthError(Exception):
    error: str
    description: str
    codes: list[int] = field(default_factory=list)

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {
            "error": self.error,
            "error_description": self.description,
            "error_codes": self.codes,
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        }
        return JSONResponse(body, status_code=400, headers=_NO_STORE)


_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_int(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _normalised_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper()


def _display_name(user: str) -> str:
    """``megan.bowen@contoso.com`` → ``Megan Bowen`` (the directory's name, for a demo)."""
    local = user.split("@", 1)[0]
    return " ".join(part.capitalize() for part in re.split(r"[._-]+", local) if part) or local


def _load_signing_key(folder: Path) -> rsa.RSAPrivateKey:
    path = folder / SIGNING_KEY_FILE
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        key = None
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2048:
        return key
    fresh = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = fresh.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tls.write_private(path, pem)
    return fresh


class IdentityProvider:
    """The Azure AD endpoints for msal's device-code flow, as an ASGI ``app``.

    ``interval`` and ``expires_in`` are what the device-code answer tells the client (poll
    every ``interval`` seconds; the code is good for ``expires_in``); ``token_lifetime`` is
    the access and ID tokens' lifetime in seconds. ``user_hint`` is the user name the
    approval instructions show as an example.
    """

    def __init__(
        self,
        folder: Path,
        *,
        ca_path: Path | None = None,
        interval: int = 5,
        expires_in: int = 900,
        token_lifetime: int = 3600,
        user_hint: str = "you@contoso.com",
    ) -> None:
        tls.private_folder(folder)
        self.folder = folder
        self.ca_path = ca_path or folder / tls.CA_FILE
        self.interval = interval
        self.expires_in = expires_in
        self.token_lifetime = token_lifetime
        self.user_hint = user_hint
        self._key = _load_signing_key(folder)
        numbers = self._key.public_key().public_numbers()
        self._jwk = {"e": _b64url_int(numbers.e), "kty": "RSA", "n": _b64url_int(numbers.n)}
        # RFC 7638 thumbprint: the key id follows from the key itself.
        thumbprint = json.dumps(self._jwk, separators=(",", ":"), sort_keys=True).encode()
        self.kid = _b64url(hashlib.sha256(thumbprint).digest())
        secret = self._key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Refresh tokens are HS256 under a key derived from the signing key: they survive a
        # restart, and can never pass for an RS256 access token.
        self._refresh_key = hashlib.sha256(b"stratus-tui idp refresh tokens\0" + secret).digest()
        self._lock = threading.Lock()
        self._codes: dict[str, _DeviceCode] = {}  # by device code
        self._used_refresh: set[str] = set()  # jti of rotated refresh tokens
        tenant = "{tenant}"
        self.app = Starlette(
            routes=[
                Route(f"/{tenant}/v2.0/.well-known/openid-configuration", self._configuration),
                Route(f"/{tenant}/oauth2/v2.0/devicecode", self._device_code, methods=["POST"]),
                Route(f"/{tenant}/oauth2/v2.0/token", self._token, methods=["POST"]),
                Route(f"/{tenant}/discovery/v2.0/keys", self._keys),
                Route(f"/{tenant}/oauth2/v2.0/authorize", self._authorize),
                Route("/device", self._device, methods=["GET", "POST"]),
            ]
        )

    # --- for tests ---------------------------------------------------------------------

    def approve(self, user_code: str, user: str) -> None:
        """The person behind ``user`` approves the sign-in (as on the /device page)."""
        self._decide(user_code, "approve", user)

    def decline(self, user_code: str) -> None:
        self._decide(user_code, "decline", None)

    def block(self, user_code: str) -> None:
        """Approved, but a Conditional Access policy refuses the token (AADSTS53003)."""
        self._decide(user_code, "block", None)

    def expire(self, user_code: str) -> None:
        """The code runs out now."""
        with self._lock:
            entry = self._by_user_code(user_code)
            entry.state = "expired"

    def pending_codes(self) -> list[str]:
        """The user codes waiting for a decision, oldest first."""
        with self._lock:
            return [entry.user_code for entry in self._codes.values() if self._pending(entry)]

    def sign(
        self,
        claims: dict[str, Any],
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
    ) -> str:
        """A JWT of ``claims``, RS256 with this IdP's key (or ``key``), header ``kid``."""
        return jwt.encode(
            claims, key or self._key, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    def issuer(self, base_url: str, tenant: str) -> str:
        return f"{base_url.rstrip('/')}/{tenant}/v2.0"

    def access_claims(
        self, base_url: str, tenant: str, client_id: str, user: str, *, scp: str = DEFAULT_SCP
    ) -> dict[str, Any]:
        """The claims of an access token this IdP would issue now (tests tweak and sign)."""
        now = int(time.time())
        oid = str(uuid.uuid5(OID_NAMESPACE, user.lower()))
        return {
            "aud": client_id,
            "iss": self.issuer(base_url, tenant),
            "iat": now,
            "nbf": now,
            "exp": now + self.token_lifetime,
            "name": _display_name(user),
            "oid": oid,
            "preferred_username": user,
            "scp": scp,
            "sub": self._subject(oid, client_id),
            "tid": tenant,
            "upn": user,
            "uti": _b64url(secrets.token_bytes(16)),
            "ver": "2.0",
        }

    # --- device codes ------------------------------------------------------------------

    def _pending(self, entry: _DeviceCode) -> bool:
        if entry.state == "pending" and time.monotonic() >= entry.expires_at:
            entry.state = "expired"
        return entry.state == "pending"

    def _by_user_code(self, user_code: str) -> _DeviceCode:
        wanted = _normalised_code(user_code)
        for entry in self._codes.values():
            if entry.user_code == wanted:
                return entry
        raise DeviceCodeError(
            f"Unknown code {user_code.strip()!r}: check it, or start the sign-in again.", 404
        )

    def _decide(self, user_code: str, decision: Decision, user: str | None) -> str:
        """Record a decision; the sentence to show the person. Raises DeviceCodeError."""
        if not _normalised_code(user_code):
            raise DeviceCodeError("Enter the code stratus-tui shows.", 400)
        if decision == "approve":
            user = (user or "").strip()
            if not user:
                raise DeviceCodeError(f"Enter your user name (e.g. {self.user_hint}).", 400)
            if not USER_NAME.fullmatch(user):
                raise DeviceCodeError(f"{user!r} is not a user name like {self.user_hint}.", 400)
        with self._lock:
            entry = self._by_user_code(user_code)
            if not self._pending(entry):
                if entry.state == "expired":
                    raise DeviceCodeError(
                        "This code has expired: start the sign-in again in stratus-tui.", 400
                    )
                raise DeviceCodeError(f"This code was {entry.state} already.", 409)
            if decision == "approve":
                entry.state, entry.user = "approved", user
                return "Approved: you can return to stratus-tui."
            if decision == "decline":
                entry.state = "declined"
                return "Declined: stratus-tui will not be signed in."
            entry.state = "blocked"
            return "Blocked by Conditional Access: stratus-tui will be refused a token."

    def _new_code(self, tenant: str, client_id: str, scopes: list[str]) -> _DeviceCode:
        with self._lock:
            now = time.monotonic()
            for key, old in list(self._codes.items()):  # forget codes long gone
                if now > old.expires_at + 600:
                    del self._codes[key]
            taken = {entry.user_code for entry in self._codes.values()}
            while True:
                user_code = "".join(
                    secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH)
                )
                if user_code not in taken:
                    break
            entry = _DeviceCode(
                device_code=secrets.token_urlsafe(48),
                user_code=user_code,
                tenant=tenant,
                client_id=client_id,
                scopes=scopes,
                expires_at=now + self.expires_in,
            )
            self._codes[entry.device_code] = entry
            return entry

    # --- tokens ------------------------------------------------------------------------

    def _subject(self, oid: str, client_id: str) -> str:
        """Azure's ``sub`` is pairwise: one per user and application."""
        return _b64url(hashlib.sha256(f"{oid}:{client_id}".encode()).digest())

    def _tokens(
        self, base_url: str, tenant: str, client_id: str, user: str, scopes: list[str]
    ) -> dict[str, Any]:
        resource = [scope for scope in scopes if scope not in OIDC_SCOPES]
        short = [scope.rsplit("/", 1)[-1] for scope in resource]
        scp = " ".join(name for name in short if name != ".default") or DEFAULT_SCP
        claims = self.access_claims(base_url, tenant, client_id, user, scp=scp)
        id_claims = {
            "aud": client_id,
            "iss": claims["iss"],
            "iat": claims["iat"],
            "nbf": claims["nbf"],
            "exp": claims["exp"],
            "name": claims["name"],
            "oid": claims["oid"],
            "preferred_username": user,
            "sub": claims["sub"],
            "tid": tenant,
            "ver": "2.0",
        }
        refresh = {
            "typ": "refresh",
            "jti": secrets.token_urlsafe(16),
            "aud": client_id,
            "tid": tenant,
            "user": user,
            "scopes": scopes,
            "iat": claims["iat"],
            "exp": claims["iat"] + REFRESH_LIFETIME,
        }
        client_info = {"uid": claims["oid"], "utid": tenant}
        shown_scopes = resource or [scope for scope in scopes if scope != "offline_access"]
        return {
            "token_type": "Bearer",
            "scope": " ".join(shown_scopes),
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": self.sign(claims),
            "refresh_token": jwt.encode(refresh, self._refresh_key, algorithm="HS256"),
            "id_token": self.sign(id_claims),
            "client_info": _b64url(json.dumps(client_info).encode()),
        }

    def _redeem_device_code(self, form: dict[str, str], tenant: str) -> _DeviceCode:
        device_code = form.get("device_code", "")
        if not device_code:
            raise _OAuthError(
                "invalid_request",
                "AADSTS900144: The request body must contain the following parameter: "
                "'device_code'.",
                [900144],
            )
        with self._lock:
            entry = self._codes.get(device_code)
            if entry is None or entry.tenant != tenant:
                raise _OAuthError(
                    "invalid_grant",
                    "AADSTS70000: The provided device code is unknown or was already used.",
                    [70000],
                )
            if entry.client_id != form["client_id"]:
                raise _OAuthError(
                    "invalid_client",
                    "AADSTS700016: The client_id does not match the one the device code "
                    "was issued to.",
                    [700016],
                )
            if self._pending(entry):
                raise _OAuthError(
                    "authorization_pending",
                    "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. "
                    "Continue polling.",
                    [70016],
                )
            if entry.state == "expired":
                raise _OAuthError(
                    "expired_token",
                    "AADSTS70020: The provided value for the input parameter 'device_code' "
                    "is not valid. This device code has expired.",
                    [70020],
                )
            if entry.state == "declined":
                raise _OAuthError(
                    "authorization_declined",
                    "AADSTS70000: The user declined the sign-in request.",
                    [70000],
                )
            if entry.state == "blocked":
                raise _OAuthError("invalid_grant", BLOCKED_DESCRIPTION, [53003])
            del self._codes[device_code]  # approved: a device code is used once
            return entry

    def _redeem_refresh_token(self, form: dict[str, str], tenant: str) -> tuple[str, list[str]]:
        """The user and scopes of a refresh token, which is used up."""
        refused = _OAuthError(
            "invalid_grant",
            "AADSTS70000: The refresh token is invalid, expired or was already used.",
            [70000],
        )
        try:
            claims = jwt.decode(
                form.get("refresh_token", ""),
                self._refresh_key,
                algorithms=["HS256"],
                options={"verify_aud": False, "require": ["exp", "jti", "aud", "tid"]},
            )
        except jwt.InvalidTokenError:
            raise refused from None
        if claims.get("typ") != "refresh" or claims["tid"] != tenant:
            raise refused
        if claims["aud"] != form["client_id"]:
            raise _OAuthError(
                "invalid_client",
                "AADSTS700016: The client_id does not match the one the refresh token "
                "was issued to.",
                [700016],
            )
        with self._lock:
            if claims["jti"] in self._used_refresh:
                raise refused
            self._used_refresh.add(claims["jti"])
        return str(claims["user"]), [str(scope) for scope in claims.get("scopes", [])]

    # --- HTTP ----------------------------------------------------------------------------

    async def _configuration(self, request: Request) -> Response:
        base, tenant = _base(request), request.path_params["tenant"]
        issuer = self.issuer(base, tenant)
        oauth = f"{base}/{tenant}/oauth2/v2.0"
        return JSONResponse(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{oauth}/authorize",
                "token_endpoint": f"{oauth}/token",
                "device_authorization_endpoint": f"{oauth}/devicecode",
                "end_session_endpoint": f"{oauth}/logout",
                "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": list(CLAIMS_SUPPORTED),
                "request_uri_parameter_supported": False,
                "tenant_region_scope": "EU",
                "cloud_instance_name": "stratus-tui.invalid",
                "cloud_graph_host_name": "graph.stratus-tui.invalid",
                "msgraph_host": "graph.stratus-tui.invalid",
            }
        )

    async def _keys(self, request: Request) -> Response:
        key = {**self._jwk, "use": "sig", "kid": self.kid, "alg": "RS256"}
        return JSONResponse({"keys": [key]})

    async def _authorize(self, request: Request) -> Response:
        return PlainTextResponse(
            "This local identity provider supports the device code flow only.\n", 400
        )

    async def _device_code(self, request: Request) -> Response:
        try:
            form = await _form(request)
            tenant = _tenant(request)
            client_id = _client_id(form)
        except _OAuthError as error:
            return error.response()
        scopes = form.get("scope", "").split()
        entry = self._new_code(tenant, client_id, scopes)
        base = _base(request)
        uri = f"{base}/device"
        shell = (
            f"curl --cacert {shlex.quote(str(self.ca_path))} -d code={entry.user_code} "
            f"-d user={shlex.quote(self.user_hint)} {uri}"
        )
        message = (
            f"To sign in, use a web browser to open the page {uri} and enter the code "
            f"{entry.user_code} to authenticate. Or from a shell: {shell}"
        )
        return JSONResponse(
            {
                "device_code": entry.device_code,
                "user_code": entry.user_code,
                "verification_uri": uri,
                "expires_in": self.expires_in,
                "interval": self.interval,
                "message": message,
            },
            headers=_NO_STORE,
        )

    async def _token(self, request: Request) -> Response:
        try:
            form = await _form(request)
            tenant = _tenant(request)
            client_id = _client_id(form)
            grant = form.get("grant_type", "")
            if grant == DEVICE_CODE_GRANT:
                entry = self._redeem_device_code(form, tenant)
                assert entry.user is not None
                user, scopes = entry.user, entry.scopes
            elif grant == "refresh_token":
                user, kept = self._redeem_refresh_token(form, tenant)
                scopes = form.get("scope", "").split() or kept
            else:
                raise _OAuthError(
                    "unsupported_grant_type",
                    f"AADSTS70003: The app requested an unsupported grant type "
                    f"{grant[:100]!r}; this identity provider knows the device code and "
                    "refresh token grants.",
                    [70003],
                )
        except _OAuthError as error:
            return error.response()
        tokens = self._tokens(_base(request), tenant, client_id, user, scopes)
        return JSONResponse(tokens, headers=_NO_STORE)

    async def _device(self, request: Request) -> Response:
        wants_html = "text/html" in request.headers.get("accept", "")
        if request.method == "GET":
            code = request.query_params.get("code", "")
            return HTMLResponse(self._page(code=code), headers=_PAGE_HEADERS)
        try:
            form = await _form(request)
        except _OAuthError as error:
            return _answer(error.description, 400, wants_html, self._page)
        code, user = form.get("code", ""), form.get("user", "")
        decision = DECISIONS.get(form.get("decision", "approve"))
        if decision is None:
            return _answer(
                "decision must be approve, decline or block.", 400, wants_html, self._page
            )
        try:
            said = self._decide(code, decision, user)
        except DeviceCodeError as error:
            page = functools.partial(self._page, code=code, user=user)
            return _answer(str(error), error.status, wants_html, page)
        return _answer(said, 200, wants_html, functools.partial(self._page, done=True))

    def _page(
        self, message: str = "", *, code: str = "", user: str = "", done: bool = False
    ) -> str:
        say = f'<p class="message">{html.escape(message)}</p>' if message else ""
        form = (
            ""
            if done
            else f"""<form method="post" action="/device">
<label>Code <input name="code" value="{html.escape(code)}" autocomplete="off" required></label>
<label>User name <input name="user" value="{html.escape(user)}"
 placeholder="{html.escape(self.user_hint)}" autocomplete="username"></label>
<button name="decision" value="approve">Approve</button>
<button name="decision" value="decline">Decline</button>
</form>"""
        )
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to stratus-tui</title>
<style>body{{font-family:sans-serif;max-width:32em;margin:3em auto}}
label{{display:block;margin:1em 0}}input{{width:100%}}.message{{font-weight:bold}}</style>
</head><body><h1>Sign in to stratus-tui</h1>
<p>The local test identity provider: enter the code stratus-tui shows and your user name.</p>
{say}{form}</body></html>
"""


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _tenant(request: Request) -> str:
    tenant = str(request.path_params["tenant"])
    if not 0 < len(tenant) <= 100:
        raise _OAuthError("invalid_request", "AADSTS90002: Tenant not found.", [90002])
    return tenant


def _client_id(form: dict[str, str]) -> str:
    client_id = form.get("client_id", "")
    if not client_id or len(client_id) > 200:
        raise _OAuthError(
            "invalid_client" if client_id else "invalid_request",
            "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
            [900144],
        )
    return client_id


async def _form(request: Request) -> dict[str, str]:
    """A form-encoded body's fields (first value of each); at most ``MAX_FORM_BYTES``."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise _OAuthError("invalid_request", "The request body is too large.")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise _OAuthError("invalid_request", "The request body is not a valid form.") from None
    return {name: values[0] for name, values in fields.items()}


def _answer(message: str, status: int, wants_html: bool, page: Callable[[str], str]) -> Response:
    if wants_html:
        return HTMLResponse(page(message), status_code=status, headers=_PAGE_HEADERS)
    return PlainTextResponse(message + "\n", status_code=status, headers=_PAGE_HEADERS)
