"""O365 (Azure AD) sign-in with msal's device-code flow: SSH sessions have no browser.

The user opens the verification address on any device and types the code; meanwhile this
side polls the token endpoint. The Microsoft access token is then exchanged at the Stratus
server (``POST /auth/o365``) for a normal Stratus session.

Everything here blocks (msal is synchronous): the UI runs it in thread workers. msal talks
HTTP through :class:`MsalHttp`, a thin adapter over ``httpx.Client``, so the profile's CA
bundle and the environment's proxies apply to Microsoft's endpoints as to the server.
Secrets leave this module only as ``SecretStr``.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import SecretStr

from stratus_tui.api.client import USER_AGENT
from stratus_tui.auth.token_store import TokenStore, TokenStoreError

if TYPE_CHECKING:
    import msal

    from stratus_tui.api.models import O365Config

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
PENDING = ("authorization_pending", "slow_down")
CONDITIONAL_ACCESS_CODES = {53000, 53001, 53002, 53003, 50076, 50079, 50158}


class O365Failed(Exception):
    """The sign-in did not succeed; the message is for the user (it may quote Microsoft)."""


class O365Cancelled(Exception):
    """The user cancelled while the code was shown."""


def scopes_for(client_id: str) -> list[str]:
    """The Stratus application's own API: its access token's audience is the client id."""
    return [f"{client_id}/.default"]


class MsalHttp:
    """The ``http_client`` msal accepts (``get``, ``post``, ``close``), over ``httpx.Client``.

    TLS: the system's trust store plus the profile's CA bundle (a corporate proxy's CA, or
    the demo identity provider's). Proxies come from the environment, as ``requests`` does.
    """

    def __init__(self, ca_bundle: Path | None = None) -> None:
        context = ssl.create_default_context()
        if ca_bundle is not None:
            try:
                context.load_verify_locations(cafile=str(ca_bundle))
            except (OSError, ssl.SSLError) as error:
                raise O365Failed(f"cannot use the CA bundle {ca_bundle}: {error}") from None
        self._client = httpx.Client(
            verify=context,
            timeout=TIMEOUT,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )

    def get(
        self, url: str, params: Any = None, headers: Any = None, **kwargs: Any
    ) -> httpx.Response:
        return self._client.get(url, params=params, headers=headers)

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any
    ) -> httpx.Response:
        if isinstance(data, str | bytes):  # already encoded
            return self._client.post(url, params=params, content=data, headers=headers)
        return self._client.post(
            url, params=params, data=data, json=kwargs.get("json"), headers=headers
        )

    def close(self) -> None:
        self._client.close()


@dataclass(frozen=True)
class DeviceCode:
    """What the user needs to approve the sign-in elsewhere."""

    verification_uri: str
    user_code: str
    message: str  # the provider's own instructions (Microsoft's, localised; the demo's curl)
    expires_at: float  # time.time() when the code stops working


def describe(result: Mapping[str, Any]) -> str:
    """One line for an msal error answer."""
    error = str(result.get("error") or "unknown_error")
    detail = str(result.get("error_description") or "").strip()
    first = detail.splitlines()[0] if detail else ""
    codes = set(result.get("error_codes") or [])
    if error in ("expired_token", "code_expired"):
        return "The code expired before it was used. Press Sign in with O365 for a new one."
    if error in ("authorization_declined", "access_denied"):
        return "The sign-in was declined at Microsoft. Nothing was changed."
    if codes & CONDITIONAL_ACCESS_CODES or "AADSTS53" in detail or error == "interaction_required":
        return f"Your organization's Conditional Access policy blocked this sign-in: {first}"
    if error == "bad_verification_code":
        return "Microsoft did not recognise the code. Press Sign in with O365 for a new one."
    return f"Microsoft sign-in failed ({error}){': ' + first if first else ''}"


class O365SignIn:
    """One sign-in to one O365 application: silent (a cached refresh token) or device code.

    Build it, and call its methods, in a thread: msal asks the authority for its endpoints
    on the first call, and every call blocks on HTTP.
    """

    def __init__(
        self, config: O365Config, store: TokenStore, *, ca_bundle: Path | None = None
    ) -> None:
        if not (config.enabled and config.authority and config.client_id):
            raise O365Failed(f"O365 sign-in is not set up for {config.domain}")
        self.config = config
        self.store = store
        self._ca_bundle = ca_bundle
        self._app: msal.PublicClientApplication | None = None
        self._cache: msal.SerializableTokenCache | None = None
        self._http: MsalHttp | None = None
        self._flow: dict[str, Any] | None = None
        self._cancelled = threading.Event()
        self.warning: str | None = None  # set when the sign-in worked but could not be kept

    @property
    def scopes(self) -> list[str]:
        assert self.config.client_id is not None
        return scopes_for(self.config.client_id)

    def _application(self) -> msal.PublicClientApplication:
        if self._app is None:
            import msal  # ~0.2 s of imports: only when O365 is used

            cache = msal.SerializableTokenCache()
            try:
                if serialized := self.store.load():
                    cache.deserialize(serialized)
            except (TokenStoreError, ValueError):
                pass  # an unreadable cache is an empty one: the device code still works
            self._http = MsalHttp(self._ca_bundle)
            try:
                self._app = msal.PublicClientApplication(
                    self.config.client_id,
                    authority=self.config.authority,
                    http_client=self._http,
                    instance_discovery=False,  # the authority comes from the server's config
                    token_cache=cache,
                )
            except ValueError as error:  # msal: the authority's discovery failed
                raise O365Failed(
                    f"The O365 authority did not answer as expected: {error}"
                ) from None
            except httpx.HTTPError as error:
                raise O365Failed(_unreachable(self.config.authority, error)) from None
            self._cache = cache
        return self._app

    def _save_cache(self) -> str | None:
        """Keep msal's cache in the store; a warning for the user if it could not be."""
        if self._cache is None or not self._cache.has_state_changed:
            return None
        try:
            self.store.save(self._cache.serialize())
        except TokenStoreError as error:
            return f"The O365 sign-in could not be kept: {error}"
        return None

    def silent(self, username: str) -> SecretStr | None:
        """An access token from the cached refresh token, or None (then a device code)."""
        try:
            app = self._application()
            accounts = app.get_accounts(username=username) if username else app.get_accounts()
            if not accounts:
                return None
            result = app.acquire_token_silent(self.scopes, account=accounts[0])
        except httpx.HTTPError as error:
            raise O365Failed(_unreachable(self.config.authority, error)) from None
        if not result or "access_token" not in result:
            return None
        self.warning = self._save_cache()
        return SecretStr(result["access_token"])

    def start(self) -> DeviceCode:
        """Ask for a device code."""
        try:
            flow = self._application().initiate_device_flow(scopes=self.scopes)
        except httpx.HTTPError as error:
            raise O365Failed(_unreachable(self.config.authority, error)) from None
        if "user_code" not in flow:
            raise O365Failed(describe(flow))
        self._flow = flow
        return DeviceCode(
            verification_uri=str(flow.get("verification_uri") or flow.get("verification_url")),
            user_code=str(flow["user_code"]),
            message=str(flow.get("message") or ""),
            expires_at=float(flow.get("expires_at") or time.time() + 900),
        )

    def wait(self) -> SecretStr:
        """Poll until the user approves (the access token), or raise why not.

        Our own loop, one msal poll per round, so that :meth:`cancel` ends it at once
        instead of after msal's sleep.
        """
        flow = self._flow
        if flow is None:
            raise RuntimeError("start() first")
        app = self._application()
        interval = max(1, int(flow.get("interval") or 5))
        while True:
            if self._cancelled.is_set():
                raise O365Cancelled()
            try:
                result = app.acquire_token_by_device_flow(flow, exit_condition=lambda _: True)
            except httpx.HTTPError as error:
                raise O365Failed(_unreachable(self.config.authority, error)) from None
            if self._cancelled.is_set():
                raise O365Cancelled()
            if "access_token" in result:
                self.warning = self._save_cache()
                return SecretStr(result["access_token"])
            if result.get("error") not in PENDING:
                raise O365Failed(describe(result))
            if result.get("error") == "slow_down":
                interval += 5  # RFC 8628 3.5
            if time.time() >= float(flow.get("expires_at") or 0):
                raise O365Failed(describe({"error": "expired_token"}))
            if self._cancelled.wait(interval):
                raise O365Cancelled()

    def cancel(self) -> None:
        """Stop waiting: :meth:`wait` raises :class:`O365Cancelled` within a moment."""
        self._cancelled.set()

    def forget(self) -> None:
        """Sign out of O365 on this machine: the cached tokens are dropped."""
        self.store.clear()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()


def _unreachable(authority: str | None, error: Exception) -> str:
    reason = str(error) or type(error).__name__
    if "CERTIFICATE_VERIFY_FAILED" in reason:
        return (
            f"The certificate of the O365 sign-in service {authority} is not trusted "
            f"(a profile's ca_bundle adds a CA): {reason}"
        )
    return f"Cannot reach the O365 sign-in service {authority}: {reason}"
