"""The signed-in screen: header, sidebar, the current page, footer.

Pages are created the first time they are opened, so signing in paints at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer

from stratus_tui.navigation import PAGES, PageSpec, page, visible_pages
from stratus_tui.resources import styles_path
from stratus_tui.screens.bindings import bind
from stratus_tui.screens.pages import page_widget
from stratus_tui.widgets.header import StatusHeader, user_line
from stratus_tui.widgets.helptext import help_for
from stratus_tui.widgets.sidebar import Sidebar, UserCard

if TYPE_CHECKING:
    from stratus_tui.session import Session


class MainScreen(Screen[None]):
    CSS_PATH = styles_path("main.tcss")
    BINDINGS = [
        bind("sidebar", "focus_sidebar"),
        bind("logout", "app.logout", show=False),
        bind("back", "back", show=False),
        *(bind(spec.key_id, f"open_page('{spec.id}')", show=False) for spec in PAGES),
    ]

    current_page: var[str] = var("home")

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.pages: list[PageSpec] = visible_pages(session.user)

    def compose(self) -> ComposeResult:
        user = self.session.user
        profile = self.session.profile
        self.header = StatusHeader(
            profile.name,
            profile.label_color,
            read_only=profile.read_only,
            user_line=user_line(user.first_name, user.last_name, user.role, user.tenant_name),
        )
        yield self.header
        key_for = getattr(self.app, "key_for", lambda binding_id: "")
        with Horizontal(id="body"):
            yield Sidebar(
                self.pages,
                {spec.key_id: key_for(spec.key_id) for spec in self.pages},
                UserCard(f"{user.first_name} {user.last_name}", user.sip_uri or user.upn),
            )
            yield ContentSwitcher(id="pages")
        yield Footer()

    def on_mount(self) -> None:
        self.open_page("home")
        self.query_one(Sidebar).focus()

    def open_page(self, page_id: str) -> None:
        if not any(spec.id == page_id for spec in self.pages):
            self.notify(f"{page(page_id).title} is not available to your role", severity="warning")
            return
        switcher = self.query_one("#pages", ContentSwitcher)
        try:
            switcher.query_one(f"#{page_id}")
        except NoMatches:
            settings = getattr(self.app, "settings", None)
            refresh = settings.refresh_seconds if settings is not None else 30
            switcher.mount(page_widget(page(page_id), self.session, refresh))
        switcher.current = page_id
        self.current_page = page_id
        self.query_one(Sidebar).select_page(page_id)

    def action_open_page(self, page_id: str) -> None:
        self.open_page(page_id)

    def action_focus_sidebar(self) -> None:
        self.query_one(Sidebar).focus()

    def action_back(self) -> None:
        """Escape on a page returns to the sidebar."""
        self.query_one(Sidebar).focus()

    @on(Sidebar.PageChosen)
    def _page_chosen(self, event: Sidebar.PageChosen) -> None:
        self.open_page(event.page_id)
        self.call_after_refresh(self._focus_page)

    def _focus_page(self) -> None:
        shown = self.query_one("#pages", ContentSwitcher).visible_content
        if shown is not None and shown.focusable:
            shown.focus()

    @on(Sidebar.LogoutChosen)
    async def _logout_chosen(self) -> None:
        await self.run_action("app.logout")

    def page_help(self) -> str | None:
        shown = self.query_one("#pages", ContentSwitcher).visible_content
        sections = help_for(shown)
        return sections[0] if sections else None

    def show_time_left(self, seconds: float | None) -> None:
        # A direct reference: this runs every second, also under dialogs.
        self.header.show_time_left(seconds)
