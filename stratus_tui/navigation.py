"""The pages of the sidebar and who sees them (DOMAIN.md "Roles"), as plain data.

The server enforces every permission; the sidebar only mirrors them so nobody is shown a
page that would answer 403. Pure data and logic, so the role filtering is tested without a UI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

ALL = frozenset({"system_admin", "tenant_admin", "team_admin", "team_member"})
STAFF = frozenset({"system_admin", "tenant_admin", "team_admin"})
ADMINS = frozenset({"system_admin", "tenant_admin"})


class SignedInUser(Protocol):
    """What the sidebar needs to know of the user (``api.models.CurrentUser`` has it)."""

    @property
    def role(self) -> str: ...

    @property
    def tenant_id(self) -> int | None: ...

    @property
    def live_chat_enabled(self) -> bool: ...


@dataclass(frozen=True)
class PageSpec:
    id: str
    title: str
    key_id: str  # the binding that jumps here (stratus_tui.keys)
    roles: frozenset[str]
    needs_live_chat: bool = False
    summary: str = ""


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "home",
        "Home",
        "page_home",
        ALL,
        summary="Instance status, license and services at a glance",
    ),
    PageSpec(
        "agents",
        "Agents",
        "page_agents",
        STAFF,
        summary="Agents in your scope: roles, teams, duty profiles",
    ),
    PageSpec(
        "services",
        "Configuring Services",
        "page_services",
        STAFF,
        summary="Call and mail services: addresses, endpoints, distribution, workflows",
    ),
    PageSpec(
        "privacy",
        "Data Privacy",
        "page_privacy",
        STAFF,  # team admins export their teams' agents' history
        summary="Exports of historic data, retention, erasure",
    ),
    PageSpec(
        "chat",
        "Live Chat",
        "page_chat",
        ALL,
        needs_live_chat=True,
        summary="Chat with your internal IT support",
    ),
    PageSpec(
        "settings",
        "Settings",
        "page_settings",
        STAFF,  # team admins read them (read-only): what they assign to agents and services
        summary="Org units, duty profiles, traits, responsibilities, workflows, O365 apps",
    ),
    PageSpec(
        "reporting",
        "Reporting",
        "page_reporting",
        STAFF,
        summary="Call volume, overview and heatmap per team",
    ),
)


def visible_pages(user: SignedInUser) -> list[PageSpec]:
    """The sidebar for ``user``: by role, and Live Chat only where the tenant enables it."""
    return [
        page
        for page in PAGES
        if user.role in page.roles
        and (not page.needs_live_chat or (user.live_chat_enabled and user.tenant_id is not None))
    ]


def page(page_id: str) -> PageSpec:
    return next(item for item in PAGES if item.id == page_id)
