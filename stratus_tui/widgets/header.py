"""The top line: which server (profile, in its colour), who is signed in, and warnings.

The session countdown appears only in the last two minutes, and the line is redrawn only
when what it shows changes, so an idle screen writes nothing to the terminal.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.color import Color, ColorParseError
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Label

from stratus_tui.widgets.safe import safe

ROLE_NAMES = {
    "system_admin": "system admin",
    "tenant_admin": "tenant admin",
    "team_admin": "team admin",
    "team_member": "team member",
}
COUNTDOWN_FROM = 120


def profile_badge(name: str, color: str | None) -> Label:
    """The profile's name on its colour, so production is never mistaken for the lab."""
    badge = Label(safe(f" {name} "), classes="profile-badge")
    if color:
        try:
            background = Color.parse(color)
        except ColorParseError:
            return badge  # the theme's colour then; the name still says which server
        badge.styles.background = background
        badge.styles.color = background.get_contrast_text()
    return badge


class StatusHeader(Horizontal):
    DEFAULT_CSS = """
    StatusHeader { height: 1; background: $panel; }
    StatusHeader Label { padding: 0 1 0 0; }
    StatusHeader .title { text-style: bold; color: $accent; }
    StatusHeader .profile-badge { background: $primary; color: $text; text-style: bold; }
    StatusHeader #user { width: 1fr; }
    StatusHeader .read-only { background: $warning; color: $background; text-style: bold; }
    StatusHeader #time-left { color: $error; text-style: bold; }
    """

    def __init__(
        self,
        profile_name: str,
        label_color: str | None,
        *,
        read_only: bool,
        user_line: Content | None = None,
    ) -> None:
        super().__init__()
        self._profile = (profile_name, label_color)
        self._read_only = read_only
        self._user_line = user_line or Content("")
        self._time_left: str = ""
        self._time_label = Label("", id="time-left")

    def compose(self) -> ComposeResult:
        yield Label("Stratus", classes="title")
        yield profile_badge(*self._profile)
        yield Label(self._user_line, id="user")
        yield self._time_label
        if self._read_only:
            yield Label(" READ-ONLY ", classes="read-only")

    def show_time_left(self, seconds: float | None) -> None:
        """Show the session's remaining time when it is under two minutes."""
        text = ""
        if seconds is not None and seconds < COUNTDOWN_FROM:
            whole = max(int(seconds), 0)
            text = f"session ends in {whole // 60}:{whole % 60:02d}"
        if text != self._time_left:
            self._time_left = text
            self._time_label.update(text)


def user_line(first: str, last: str, role: str, tenant: str | None) -> Content:
    where = f", {tenant}" if tenant else ""
    return safe(f"{first} {last}") + Content(f"  ({ROLE_NAMES.get(role, role)}") + safe(where) + ")"
