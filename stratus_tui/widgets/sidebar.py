"""The sidebar, like the web configurator's: the pages the role may use, then the user menu."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual import on
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from stratus_tui.navigation import PageSpec
from stratus_tui.widgets.safe import safe

LOGOUT = "logout"


@dataclass(frozen=True)
class UserCard:
    name: str
    address: str  # SIP URI, or the UPN when there is none


class Sidebar(OptionList):
    """Enter or a click opens a page; arrows move. Number keys are bound by the screen."""

    DEFAULT_CSS = """
    Sidebar {
        width: 28; height: 1fr; padding: 0;
        border: none; border-right: tall $panel-lighten-2;
    }
    Sidebar:focus { border: none; border-right: tall $accent; }
    """
    HELP = """
## Sidebar

Every page your role may use. **Up**/**down** move, **enter** opens the page; the number
keys jump straight to a page from anywhere. The last entries show who is signed in and
**Log out**.
"""

    @dataclass
    class PageChosen(Message):
        page_id: str

    class LogoutChosen(Message):
        pass

    def __init__(self, pages: Sequence[PageSpec], keys: dict[str, str], user: UserCard) -> None:
        options: list[Option | None] = [
            Option(Content(f"{keys.get(page.key_id, ' ')} {page.title}"), id=page.id)
            for page in pages
        ]
        card = safe(user.name, max_length=24) + Content("\n") + safe(user.address, max_length=24)
        options += [None, Option(card, id="user", disabled=True), Option("  Log out", id=LOGOUT)]
        super().__init__(*options, id="sidebar")

    def select_page(self, page_id: str) -> None:
        """Highlight ``page_id`` without opening it again."""
        with self.prevent(OptionList.OptionHighlighted):
            self.highlighted = self.get_option_index(page_id)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id == LOGOUT:
            self.post_message(self.LogoutChosen())
        elif event.option_id:
            self.post_message(self.PageChosen(event.option_id))
