"""Live chat with IT support, and the tenant's switch for it: the requests and the rules,
as plain data and functions (no Textual), so the page stays a view and the rules are tested
without a UI.

- ``fetch_after`` reads the messages after the last one seen, a page at a time: polling
  is one small request when nothing is new.
- ``ChatLine`` is a message as the page shows it (time in the user's zone, own or not).
- The unread count is the support messages after the last one the user has seen; that id is
  kept in the local cache, so a reply that came in while signed out counts too.
- ``save_live_chat`` switches the tenant's live chat with ``If-Match``; a change to another
  field of the tenant meanwhile is not a conflict for this one (it is retried once), a
  change of the switch itself is (the server's value is shown, nothing is overwritten).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stratus_tui.api import models
from stratus_tui.api.errors import Forbidden, StaleVersion, StratusError
from stratus_tui.records.editing import ReadOnlyProfile, etag_of

if TYPE_CHECKING:
    from stratus_tui.api.client import StratusClient
    from stratus_tui.cache.store import Cache

MAX_TEXT = 500  # the contract's limit (``ChatMessageCreate``)
NEAR_LIMIT = 450  # the counter warns from here on
PAGE = 500  # the server's largest page of messages
SHOWN_TEXT = 2000  # a longer message (not from this client) is cut when shown
READ_KEY = "chat_read"  # the local cache's state: the last message id the user has seen
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class ChatLine:
    """One message as the page shows it (texts still untrusted: render them safely)."""

    id: int
    own: bool  # written by the signed-in user (the chat is theirs; the rest is support's)
    author: str
    when: str
    text: str


def zone_of(name: str | None) -> tzinfo | None:
    """The user's time zone, or None (the machine's local time) when it is unknown here."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def when(sent_at: datetime, zone: tzinfo | None, today: date) -> str:
    """``14:02`` today, ``21 Nov 14:02`` before (English month names, whatever the locale)."""
    local = sent_at.astimezone(zone)
    if local.date() == today:
        return f"{local:%H:%M}"
    year = f" {local.year}" if local.year != today.year else ""
    return f"{local.day} {MONTHS[local.month - 1]}{year} {local:%H:%M}"


def lines_of(
    messages: Sequence[models.ChatMessage], zone: tzinfo | None, now: float
) -> list[ChatLine]:
    today = datetime.fromtimestamp(now, zone).date()
    return [
        ChatLine(
            id=message.id,
            own=message.author == "user",
            author=message.author_name,
            when=when(message.sent_at, zone, today),
            text=message.text,
        )
        for message in messages
    ]


def counter(length: int) -> tuple[str, str]:
    """The input's counter (``123/500``) and its level: ``ok``, ``near`` or ``full``."""
    level = "full" if length >= MAX_TEXT else "near" if length >= NEAR_LIMIT else "ok"
    return f"{length}/{MAX_TEXT}", level


def unread(messages: Sequence[models.ChatMessage], read_id: int | None) -> int:
    """Support's messages after the last one seen. Never seen any: those after the user's
    own last message (earlier ones were answered, so read)."""
    if read_id is None:
        own = [message.id for message in messages if message.author == "user"]
        read_id = max(own, default=0)
    return sum(message.author == "support" and message.id > read_id for message in messages)


def is_chat_off(error: StratusError) -> bool:
    """The server says live chat is not (or no longer) enabled for the user's tenant."""
    return isinstance(error, Forbidden) and error.kind == "feature-disabled"


# --- requests ------------------------------------------------------------------------------


async def fetch_after(
    client: StratusClient, after: int, *, background: bool = True
) -> list[models.ChatMessage]:
    """Every message with an id above ``after``, oldest first."""
    found: list[models.ChatMessage] = []
    while True:
        page = await client.get_list(
            "/chat/messages",
            models.ChatMessage,
            params={"after": after, "limit": PAGE},
            background=background,
        )
        found.extend(page)
        if len(page) < PAGE:
            return found
        after = page[-1].id


async def send(client: StratusClient, text: str) -> models.ChatMessage:
    """Send ``text`` (checked against the contract first: ``ValueError`` when it is empty or
    too long, before anything is sent)."""
    from pydantic import ValidationError

    try:
        body = models.ChatMessageCreate(text=text)
    except ValidationError as error:
        raise ValueError(error.errors()[0]["msg"]) from None
    message, _ = await client.create("/chat/messages", body, models.ChatMessage)
    return message


async def load_tenant(client: StratusClient, tenant_id: int) -> tuple[models.Tenant, str]:
    tenant, etag = await client.get_with_etag(f"/tenants/{tenant_id}", models.Tenant)
    return tenant, etag or etag_of(tenant)


@dataclass(frozen=True)
class Switched:
    """What ``save_live_chat`` did: the tenant as the server holds it now, its ETag, and why
    the switch was not changed (None when it was)."""

    tenant: models.Tenant
    etag: str
    refused: str | None = None


async def save_live_chat(
    client: StratusClient,
    tenant: models.Tenant,
    etag: str,
    enabled: bool,
    *,
    read_only: bool,
) -> Switched:
    """Switch the tenant's live chat, based on the version the user saw (``If-Match``).

    Raises ``ReadOnlyProfile`` (nothing sent) and the client's errors other than a stale
    version, which is handled here: if someone changed another field of the tenant, the
    switch is sent again on the new version; if they changed the switch, theirs stays.
    """
    if read_only:
        raise ReadOnlyProfile()
    path = f"/tenants/{tenant.id}"
    body = models.TenantUpdate(live_chat_enabled=enabled)
    for _ in range(2):
        try:
            saved, new_etag = await client.update(path, body, models.Tenant, etag=etag)
        except StaleVersion:
            theirs, etag = await load_tenant(client, tenant.id)
            if theirs.live_chat_enabled != tenant.live_chat_enabled:
                state = "on" if theirs.live_chat_enabled else "off"
                return Switched(theirs, etag, f"Someone else switched live chat {state} meanwhile")
            tenant = theirs
            continue
        return Switched(saved, new_etag or etag_of(saved))
    return Switched(tenant, etag, "The tenant keeps changing; try again in a moment")


# --- the read marker, in the local cache ------------------------------------------------------


async def read_marker(cache: Cache | None) -> int | None:
    """The last message id the user has seen (None: unknown, no cache or never)."""
    from stratus_tui.cache.store import CacheError

    if cache is None:
        return None
    try:
        value = await asyncio.to_thread(cache.get_state, READ_KEY)
    except CacheError:
        return None
    return int(value) if value is not None and value.isdigit() else None


async def remember_read(cache: Cache | None, message_id: int) -> None:
    from stratus_tui.cache.store import CacheError

    if cache is not None:
        with contextlib.suppress(CacheError):
            await asyncio.to_thread(cache.set_state, {READ_KEY: str(message_id)})
