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
        self.page_keys = keys
        self.user_card = user
        self.counts: dict[str, int] = {}  # page id -> count shown after its title
        super().__init__(*self._entries(pages), id="sidebar")

    def _entries(self, pages: Sequence[PageSpec]) -> list[Option | None]:
        self.page_titles = {
            page.id: f"{self.page_keys.get(page.key_id, ' ')} {page.title}" for page in pages
        }
        options: list[Option | None] = [Option(self._label(page.id), id=page.id) for page in pages]
        card = safe(self.user_card.name, max_length=24) + Content("\n")
        card += safe(self.user_card.address, max_length=24)
        return [
            *options,
            None,
            Option(card, id="user", disabled=True),
            Option("  Log out", id=LOGOUT),
        ]

    def _label(self, page_id: str) -> Content:
        count = self.counts.get(page_id, 0)
        title = Content(self.page_titles[page_id])
        return title + Content.styled(f" ({count})", "bold $text-warning") if count else title

    def show_pages(self, pages: Sequence[PageSpec], keys: dict[str, str]) -> None:
        """Another set of pages (the tenant switched live chat on or off)."""
        self.page_keys = {**self.page_keys, **keys}
        self.counts = {
            key: count
            for key, count in self.counts.items()
            if any(page.id == key for page in pages)
        }
        self.set_options(self._entries(pages))

    def show_count(self, page_id: str, count: int) -> None:
        """A count after a page's title, e.g. unread messages: ``5 Live Chat (2)``."""
        if page_id not in self.page_titles or self.counts.get(page_id, 0) == count:
            return
        self.counts[page_id] = count
        self.replace_option_prompt(page_id, self._label(page_id))

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
