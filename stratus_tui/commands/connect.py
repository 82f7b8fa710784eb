"""Sign-in for headless commands: which server, which user, and the password.

The server and the user come from a profile of the config file (``--profile``, else the
default profile) or from ``--url`` and ``--user`` (no config file needed). The password
comes only from the ``STRATUS_PASSWORD`` environment variable: an argument would show in
``ps`` and in the shell's history (SECURITY.md B). ``signed_in`` always logs out at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from stratus_tui.commands import CommandError

if TYPE_CHECKING:
    from pydantic import SecretStr

    from stratus_tui.api.client import StratusClient
    from stratus_tui.config.settings import TokenCacheKind

PASSWORD_ENV = "STRATUS_PASSWORD"  # noqa: S105 (the variable's name, not a password)
LOGOUT_TIMEOUT = 3.0  # seconds: the command is done, a slow logout must not hold it up


@dataclass(frozen=True)
class Target:
    """Where and as whom a headless command signs in (no secret in here)."""

    url: str
    username: str
    ca_bundle: Path | None = None
    profile: str | None = None
    warnings: tuple[str, ...] = ()  # e.g. plain http to a remote host
    o365: bool = False  # sign in with the O365 sign-in the TUI kept, not a password
    o365_cache: TokenCacheKind = "memory"


def resolve_target(
    *, profile: str | None = None, url: str | None = None, user: str | None = None
) -> Target:
    """The server and user from ``--url``/``--user``, or from a profile of the config file.

    ``user`` with a profile replaces the profile's username. Raises :class:`CommandError`.
    """
    if url is not None:
        if profile is not None:
            raise CommandError("use either --profile or --url, not both")
        if not user:
            raise CommandError("--url needs --user (the user name to sign in as)")
        address, warnings = check_url(url)
        return Target(address, user, warnings=warnings)
    from stratus_tui.config.settings import ConfigError, choose_profile, load_settings

    try:
        settings = load_settings()
        if not settings.profiles and profile is None:
            raise CommandError(
                "no profile configured: pass --url URL --user NAME, or add a profile to the "
                "config file (see `stratus-tui` without arguments)"
            )
        chosen = choose_profile(settings, profile)
    except ConfigError as error:
        raise CommandError(str(error)) from None
    username = user or chosen.username
    if not username:
        raise CommandError(
            f"the profile '{chosen.name}' has no username: add one, or pass --user NAME"
        )
    mine = tuple(w for w in settings.warnings if f"profiles.{chosen.name}." in w)
    o365 = chosen.auth == "o365"
    if o365 and chosen.o365_cache == "memory":
        raise CommandError(
            f"the profile '{chosen.name}' signs in with O365 and keeps no sign-in between "
            f"runs: add o365_cache: keyring to it, then sign in once with "
            f"`stratus-tui --profile {chosen.name}`"
        )
    return Target(
        chosen.url, username, chosen.ca_bundle, chosen.name, mine, o365, chosen.o365_cache
    )


def check_url(raw: str) -> tuple[str, tuple[str, ...]]:
    """``--url`` normalised (scheme://host[:port][/path]) and its warnings.

    Like the config file's check; the text is never echoed, it may hold a password.
    """
    from stratus_tui.config.validate import is_loopback

    if not raw or any(char.isspace() for char in raw):
        raise CommandError("--url must be an address like https://stratus.example.com")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise CommandError("--url is not a valid URL (check the host and port)") from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"} or not parts.hostname:
        raise CommandError("--url must start with https:// (or http://) and name a host")
    if "@" in parts.netloc:
        raise CommandError("--url must not contain a user name or password")
    if parts.query or parts.fragment:
        raise CommandError("--url must not have a query (?...) or fragment (#...)")
    host = parts.hostname
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    warnings: tuple[str, ...] = ()
    if scheme == "http" and not is_loopback(host):
        warnings = (f"plain http to {host}: the password travels unencrypted (use https)",)
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}", warnings


def password_from_env(username: str) -> SecretStr:
    """The password from ``STRATUS_PASSWORD``, masked from here on."""
    from pydantic import SecretStr

    value = os.environ.get(PASSWORD_ENV)
    if not value:
        raise CommandError(f"set {PASSWORD_ENV} to the password of {username}")
    return SecretStr(value)


@contextlib.asynccontextmanager
async def signed_in(target: Target) -> AsyncIterator[StratusClient]:
    """A client signed in as ``target.username``; logs out and closes whatever happens.

    Raises :class:`CommandError` (no password) or a ``StratusError`` (unreachable, TLS,
    wrong password, throttled...), each with a message fit for one line.
    """
    password = None if target.o365 else password_from_env(target.username)
    from stratus_tui.api.client import StratusClient

    client = StratusClient(target.url, ca_bundle=target.ca_bundle)
    try:
        if password is None:
            await _sign_in_o365(client, target)
        else:
            await client.login(target.username, password)
        del password
        yield client
    finally:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(LOGOUT_TIMEOUT):
                await client.logout()
        with contextlib.suppress(Exception):
            await client.aclose()


async def _sign_in_o365(client: StratusClient, target: Target) -> None:
    """With the refresh token the TUI kept (``o365_cache: keyring`` or ``file``)."""
    from stratus_tui.api.validation import domain_of_user
    from stratus_tui.auth.o365 import O365Failed, O365SignIn
    from stratus_tui.auth.token_store import TokenStoreError, open_store

    sign_in_first = (
        f"no O365 sign-in kept for {target.username}: run the TUI once to sign in "
        f"(stratus-tui --profile {target.profile})"
    )
    domain = domain_of_user(target.username)
    if not domain:
        raise CommandError(f"{target.username} is not a user name with a mail domain")
    config = await client.o365_config(domain)
    if not config.enabled:
        raise CommandError(f"O365 sign-in is not set up for {domain} on this server")
    try:
        signer = O365SignIn(config, open_store(target.o365_cache, target.profile or ""),
                            ca_bundle=target.ca_bundle)  # fmt: skip
        try:
            token = await asyncio.to_thread(signer.silent, target.username)
        finally:
            await asyncio.to_thread(signer.close)
    except (TokenStoreError, O365Failed) as error:
        raise CommandError(str(error)) from None
    if token is None:
        raise CommandError(sign_in_first)
    await client.login_o365(token)
