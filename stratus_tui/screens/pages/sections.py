"""What pages made of sections share: leaving one with escape, and who may change them.

A list page on its own (Agents) returns to the sidebar on escape; the same list as a section
of Settings returns to Settings' "Where to start". Either way the page posts ``LeaveSection``
and whoever holds it decides: the Settings page stops it, the main screen focuses the sidebar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from stratus_tui.session import Session

TEAM_ADMIN_READ_ONLY = "Only tenant admins change settings; team admins can look at them."


class LeaveSection(Message):
    """Escape in a page or section with nothing left to close (no filter, no dialog)."""


def settings_read_only_reason(session: Session) -> str | None:
    """Why a Settings section cannot be changed here, or None when it can.

    Team admins read the tenant's settings to assign them (the server lets them read, not
    change, DOMAIN.md "Roles"); a read-only profile changes nothing anywhere.
    """
    if session.read_only:
        return f"Profile {session.profile.name} is read-only: nothing can be changed."
    if session.user.role == "team_admin":
        return TEAM_ADMIN_READ_ONLY
    return None


@dataclass
class LiveChatSwitched(Message):
    """The tenant's live chat was switched (in Settings, or found off by the chat page): the
    main screen shows or hides the Live Chat page."""

    enabled: bool
    reason: str = ""  # said to the user when the switch was not theirs
