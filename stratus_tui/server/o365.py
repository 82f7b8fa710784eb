"""O365 sign-in: check a Microsoft access token and find the Stratus user it names.

The client signs in with msal (device-code flow) and sends the access token to
``POST /auth/o365``. The server reads the user name from the token, takes the O365
application configured for that name's domain, fetches the identity provider's OpenID
configuration and signing keys (cached per authority) and verifies the token: RS256
signature, issuer, audience (the application's client id), lifetime and Azure tenant.

Nothing here logs or repeats the token: problems name the check that failed, not the token.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

from stratus_tui.server import db
from stratus_tui.server.errors import ProblemError

KEYS_TTL = 10 * 60.0  # seconds a provider's configuration and keys are reused
MIN_REFETCH = 10.0  # an unknown key id refetches the keys at most this often
TIMEOUT = 5.0  # per network operation
DEADLINE = 8.0  # per document, however slowly it trickles in
MAX_DOCUMENT_BYTES = 1024 * 1024
LEEWAY = 60  # seconds of clock skew allowed on exp, nbf and iat
USER_NAME_CLAIMS = ("preferred_username", "upn", "email")


def token_invalid(reason: str) -> ProblemError:
    return ProblemError(
        401, f"The Microsoft sign-in token was refused: {reason}", kind="o365-token-invalid"
    )


class _Unreachable(Exception):
    """The identity provider did not give a usable answer; the message says why."""


@dataclass(frozen=True)
class Provider:
    """An identity provider's issuer and RS256 signing keys (by key id), when fetched."""

    issuer: str
    keys: dict[str, jwt.PyJWK]
    fetched_at: float  # time.monotonic()


@dataclass
class ProviderCache:
    """Providers by (authority, Azure tenant, extra CA): fetched once per ``ttl`` seconds."""

    ttl: float = KEYS_TTL
    _providers: dict[tuple[str, str, Path | None], Provider] = field(default_factory=dict)
    _contexts: dict[Path | None, ssl.SSLContext] = field(default_factory=dict)

    async def provider(
        self, app: db.O365App, identity_ca: Path | None, *, unknown_kid: bool = False
    ) -> Provider:
        """The provider of ``app``; refetched when stale, or for an ``unknown_kid`` when the
        cached keys are older than ``MIN_REFETCH`` (a key rotation)."""
        authority = str(app.authority).rstrip("/")
        key = (authority, str(app.azure_tenant_id), identity_ca)
        cached = self._providers.get(key)
        now = time.monotonic()
        if cached is not None:
            age = now - cached.fetched_at
            if age < self.ttl and not (unknown_kid and age >= MIN_REFETCH):
                return cached
        try:
            provider = await self._fetch(authority, str(app.azure_tenant_id), identity_ca)
        except _Unreachable as error:
            raise ProblemError(
                502,
                f"The O365 identity provider at {authority} cannot be used: {error}",
                kind="o365-provider-unreachable",
            ) from None
        self._providers[key] = provider
        return provider

    def ssl_context(self, identity_ca: Path | None) -> ssl.SSLContext:
        """The system's CAs, plus ``identity_ca`` when set (the demo's loopback CA)."""
        context = self._contexts.get(identity_ca)
        if context is None:
            context = ssl.create_default_context()
            if not context.cert_store_stats()["x509_ca"]:  # no system store: Mozilla's
                import certifi  # httpx's own dependency

                context.load_verify_locations(cafile=certifi.where())
            if identity_ca is not None:
                try:
                    context.load_verify_locations(cafile=identity_ca)
                except (OSError, ssl.SSLError) as error:
                    raise _Unreachable(
                        f"cannot load the identity provider's CA file {identity_ca}: {error}"
                    ) from None
            self._contexts[identity_ca] = context
        return context

    async def _fetch(self, authority: str, tenant: str, identity_ca: Path | None) -> Provider:
        if not authority.startswith("https://"):
            raise _Unreachable(f"the authority {authority} is not an https address")
        timeout = httpx.Timeout(TIMEOUT)
        verify = self.ssl_context(identity_ca)
        async with httpx.AsyncClient(timeout=timeout, verify=verify, trust_env=False) as http:
            discovery = f"{authority}/v2.0/.well-known/openid-configuration"
            configuration = await _document(http, discovery)
            issuer, jwks_uri = configuration.get("issuer"), configuration.get("jwks_uri")
            if not isinstance(issuer, str) or not isinstance(jwks_uri, str):
                raise _Unreachable(f"{discovery} has no issuer or jwks_uri")
            if not jwks_uri.startswith("https://"):
                raise _Unreachable(f"its jwks_uri {jwks_uri} is not an https address")
            keys = _signing_keys(await _document(http, jwks_uri))
            if not keys:
                raise _Unreachable(f"{jwks_uri} lists no RS256 signing key")
        return Provider(issuer.replace("{tenantid}", tenant), keys, time.monotonic())


async def _document(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """A JSON object from ``url``; _Unreachable with the reason otherwise."""
    try:
        async with asyncio.timeout(DEADLINE), http.stream("GET", url) as response:
            if response.status_code != 200:
                raise _Unreachable(f"{url} answered HTTP {response.status_code}")
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise _Unreachable(f"{url} sent more than {MAX_DOCUMENT_BYTES} bytes")
    except (TimeoutError, httpx.TimeoutException):
        raise _Unreachable(f"{url} did not answer within {TIMEOUT:g} s") from None
    except httpx.HTTPError as error:
        raise _Unreachable(f"cannot reach {url}: {error or type(error).__name__}") from None
    try:
        document = httpx.Response(200, content=body).json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise _Unreachable(f"{url} did not send a JSON object")
    return document


def _signing_keys(jwks: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    keys: dict[str, jwt.PyJWK] = {}
    listed = jwks.get("keys")
    for entry in listed if isinstance(listed, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig":
            continue
        if entry.get("alg", "RS256") != "RS256":
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK(entry, algorithm="RS256")
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
    return keys


# --- the steps of POST /auth/o365 ------------------------------------------------------------


def unverified_user_name(token: str) -> str:
    """The user name the token claims (not yet trusted: it only chooses the O365 app)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise token_invalid("it is not a well-formed JWT") from None
    return _user_name(claims)


def _user_name(claims: dict[str, Any]) -> str:
    for claim in USER_NAME_CLAIMS:
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            name = value.strip()
            if "@" not in name.strip("@"):
                raise token_invalid(f"its user name {name!r} has no domain")
            return name
    raise token_invalid("it names no user (no preferred_username, upn or email claim)")


def application_for(user_name: str) -> db.O365App:
    """The O365 application of the user name's domain; 403 when there is none."""
    domain = user_name.rsplit("@", 1)[1].lower()
    app = db.O365App.get_or_none(db.O365App.domain == domain)
    if app is None:
        raise ProblemError(
            403, f"O365 sign-in is not set up for {domain}", kind="o365-not-configured"
        )
    return app


async def verified_claims(
    token: str, app: db.O365App, cache: ProviderCache, identity_ca: Path | None
) -> dict[str, Any]:
    """The token's claims once signature, issuer, audience, lifetime and tenant check out."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise token_invalid("it is not a well-formed JWT") from None
    if header.get("alg") != "RS256":
        raise token_invalid(f"it is signed with {header.get('alg')!r}; only RS256 is accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise token_invalid("its header names no signing key (kid)")
    provider = await cache.provider(app, identity_ca)
    if kid not in provider.keys:
        provider = await cache.provider(app, identity_ca, unknown_kid=True)
    key = provider.keys.get(kid)
    if key is None:
        raise token_invalid(
            f"wrong signature: its signing key {kid!r} is not one of the identity provider's"
        )
    client_id = str(app.client_id)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=[client_id, f"api://{client_id}"],
            issuer=provider.issuer,
            leeway=LEEWAY,
            options={"require": ["exp", "iat", "iss", "aud"]},
        )
    except jwt.InvalidSignatureError:
        raise token_invalid("wrong signature: it was not signed by the identity provider") from None
    except jwt.ExpiredSignatureError:
        raise token_invalid("it has expired; sign in with Microsoft again") from None
    except jwt.ImmatureSignatureError:
        raise token_invalid(
            "it is not valid yet (check the clocks of this server and the identity provider)"
        ) from None
    except jwt.InvalidAudienceError:
        raise token_invalid(
            f"wrong audience {unverified.get('aud')!r}: it is for another application, "
            f"not client id {client_id}"
        ) from None
    except jwt.InvalidIssuerError:
        raise token_invalid(
            f"wrong issuer {unverified.get('iss')!r}; expected {provider.issuer}"
        ) from None
    except jwt.MissingRequiredClaimError as error:
        raise token_invalid(f"it has no {error.claim} claim") from None
    except jwt.InvalidTokenError as error:
        raise token_invalid(f"it does not verify ({type(error).__name__})") from None
    tenant = str(app.azure_tenant_id)
    if str(claims.get("tid", "")).lower() != tenant.lower():
        raise token_invalid(
            f"wrong tenant: it is from Azure tenant {claims.get('tid')!r}, not {app.domain}'s "
            f"tenant {tenant}"
        )
    if not claims.get("scp"):
        raise token_invalid(
            "it is not an access token (no scp claim): send the access token, not the ID token"
        )
    return claims


def account_for(claims: dict[str, Any], app: db.O365App) -> db.User:
    """The Stratus user of the verified token, in the application's tenant; 403 if none."""
    name = _user_name(claims)
    user = db.User.get_or_none(db.User.upn_key == name.lower(), db.User.tenant == app.tenant_id)
    if user is None:
        raise ProblemError(
            403,
            f"{name} signed in with Microsoft but has no Stratus account; ask your administrator",
            kind="o365-unknown-user",
        )
    return user
