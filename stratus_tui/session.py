"""A signed-in session: the profile, its one API client, the user, and the idle clock.

Plain Python (no Textual): the UI holds one of these while someone is signed in and drops
it, with the client, when the session ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stratus_tui.auth.idle import IdleClock
from stratus_tui.config.settings import Profile

if TYPE_CHECKING:
    from stratus_tui.api.client import StratusClient
    from stratus_tui.api.models import CurrentUser
    from stratus_tui.cache.store import Cache

LOGOUT_TIMEOUT = 3.0


def open_cache(profile: Profile, user: CurrentUser) -> tuple[Cache | None, str | None]:
    """This user's cache on this server, and a notice for the user (or why there is none).

    Blocking (disk): call it in a thread.
    """
    from stratus_tui.cache.store import Cache, CacheError

    try:
        cache = Cache.open(profile.name, profile.url, user.upn)
    except CacheError as error:
        return None, f"Working without the local cache: {error}"
    return cache, cache.notice


def open_client(profile: Profile) -> StratusClient:
    """A new API client for ``profile`` (imports httpx: call it off the start-up path)."""
    from stratus_tui.api.client import StratusClient

    return StratusClient(profile.url, ca_bundle=profile.ca_bundle)


ClientFactory = Callable[[Profile], "StratusClient"]


@dataclass
class Session:
    profile: Profile
    client: StratusClient
    user: CurrentUser
    idle: IdleClock
    cache: Cache | None = None  # None when it could not be opened: the TUI works without it
    o365: bool = False  # signed in with O365: logging out forgets the kept sign-in
    offline: bool = False  # the server stopped answering: showing what the cache holds
    ended: bool = field(default=False)

    @property
    def read_only(self) -> bool:
        return self.profile.read_only

    def secrets(self) -> list[str]:
        """Strings that must never reach a log or the screen (the bearer token)."""
        token = self.client.token
        return [token.get_secret_value()] if token is not None else []

    async def keepalive(self) -> None:
        await self.client.keepalive()
        self.idle.keepalive_sent()

    async def end(self, limit: float = LOGOUT_TIMEOUT) -> None:
        """Log out on the server (briefly: the user is leaving) and close the client."""
        if self.ended:
            return
        self.ended = True
        try:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(limit):
                    await self.client.logout()
        finally:
            with contextlib.suppress(Exception):
                await self.client.aclose()
            if self.cache is not None:
                await asyncio.to_thread(self.cache.close)
