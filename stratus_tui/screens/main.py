"""The signed-in screen: header, sidebar, the current page, footer.

Pages are created the first time they are opened, so signing in paints at once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer

from stratus_tui.navigation import PAGES, PageSpec, page, visible_pages
from stratus_tui.resources import styles_path
from stratus_tui.screens.bindings import bind
from stratus_tui.screens.pages import page_widget
from stratus_tui.screens.pages.sections import LeaveSection, LiveChatSwitched
from stratus_tui.widgets.header import StatusHeader, user_line
from stratus_tui.widgets.helptext import help_for
from stratus_tui.widgets.sidebar import Sidebar, UserCard
from stratus_tui.widgets.sync_status import SyncStatus

if TYPE_CHECKING:
    from stratus_tui.screens.pages.chat import ChatPage
    from stratus_tui.session import Session

HISTORY_EVERY = 3600  # seconds: the history syncs by itself every hour


class MainScreen(Screen[None]):
    CSS_PATH = styles_path("main.tcss")
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
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
        with Horizontal(id="body"):
            with Vertical(id="side"):
                yield Sidebar(
                    self.pages,
                    self._page_keys(),
                    UserCard(f"{user.first_name} {user.last_name}", user.sip_uri or user.upn),
                )
                if self.syncs_history:
                    yield SyncStatus(id="sync-status")
            yield ContentSwitcher(id="pages")
        yield Footer()

    def _page_keys(self) -> dict[str, str]:
        key_for = getattr(self.app, "key_for", lambda binding_id: "")
        return {spec.key_id: key_for(spec.key_id) for spec in self.pages}

    def on_mount(self) -> None:
        self.open_page("home")
        self.query_one(Sidebar).focus()
        self._start_chat()
        if self.syncs_history:
            self.sync_history()
            self.set_interval(HISTORY_EVERY, self.sync_history)

    @property
    def syncs_history(self) -> bool:
        """Whoever may open Reporting reads history; the others have none to sync."""
        has_reporting = any(spec.id == "reporting" for spec in self.pages)
        return self.session.cache is not None and has_reporting

    @work(exclusive=True, group="history", exit_on_error=False)
    async def sync_history(self) -> None:
        """Bring the local history up to date: at sign-in, every hour, and on request."""
        from stratus_tui.api.errors import StratusError, Unauthenticated
        from stratus_tui.cache.store import CacheError
        from stratus_tui.cache.sync import SyncProgress, sync_history

        cache = self.session.cache
        if cache is None:
            return
        status = self.query_one(SyncStatus)
        last = await asyncio.to_thread(cache.last_sync)
        as_of = None if last is None else datetime.fromtimestamp(last, UTC)
        status.show_synced(as_of)

        def progress(step: SyncProgress) -> None:
            if step.waiting:
                status.show_waiting()
            elif step.fraction is None or step.fraction < 1:
                status.show_progress(step.rows, step.expected, step.rate)

        try:
            result = await sync_history(
                self.session.client,
                cache,
                user=self.session.user,
                on_progress=progress,
                now=self.app.wall_clock,  # type: ignore[attr-defined]
            )
        except Unauthenticated as error:
            # The session is over on the server (a sync runs in the background: nothing
            # else may be asking it now). Back to sign-in, saying why.
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return
        except (StratusError, CacheError) as error:
            status.show_error(str(error), as_of)
            return
        for notice in result.notices:
            self.notify(notice, title="Local cache", severity="warning")
        now = self.app.wall_clock()  # type: ignore[attr-defined]
        status.show_synced(datetime.fromtimestamp(now, UTC))
        if result.added > 1000:  # worth saying once: the first sync, or a long absence
            self.notify(f"{result.added:,} conversations added to the local history")
        for shown in self.query("#reporting"):
            synced = getattr(shown, "history_synced", None)
            if synced is not None:
                synced()

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
            if not switcher.query_children(f"#{page_id}"):
                return  # the screen is closing (the app exits): Textual mounted nothing
        switcher.current = page_id
        self.current_page = page_id
        self.query_one(Sidebar).select_page(page_id)

    # --- live chat -------------------------------------------------------------------------

    def _start_chat(self) -> None:
        """Live Chat exists from sign-in, hidden: it counts support's replies meanwhile."""
        if not any(spec.id == "chat" for spec in self.pages):
            return
        switcher = self.query_one("#pages", ContentSwitcher)
        if not switcher.query_children("#chat"):
            widget = page_widget(page("chat"), self.session, 0)
            widget.display = False
            switcher.mount(widget)

    @on(LiveChatSwitched)
    async def _live_chat_switched(self, event: LiveChatSwitched) -> None:
        """Show or hide Live Chat at once (the session's user learns the tenant's switch)."""
        event.stop()
        session = self.session
        if session.user.live_chat_enabled == event.enabled:
            return
        session.user = session.user.model_copy(update={"live_chat_enabled": event.enabled})
        self.pages = visible_pages(session.user)
        sidebar = self.query_one(Sidebar)
        had_focus = sidebar.has_focus
        if not event.enabled:
            if self.current_page == "chat":
                self.open_page("home")
            await self.query_one("#pages", ContentSwitcher).query_children("#chat").remove()
        sidebar.show_pages(self.pages, self._page_keys())
        sidebar.select_page(self.current_page)
        if had_focus or self.focused is None:  # focus was on the page that went
            sidebar.focus()
        self._start_chat()
        if event.reason:
            self.notify(event.reason, title="Live Chat", severity="warning")

    def on_chat_page_unread_changed(self, event: ChatPage.UnreadChanged) -> None:
        # By name, not @on: the chat page is imported only where the tenant has live chat.
        event.stop()
        self.query_one(Sidebar).show_count("chat", event.count)

    def action_open_page(self, page_id: str) -> None:
        self.open_page(page_id)
        self.call_after_refresh(self._focus_page)

    def action_focus_sidebar(self) -> None:
        self.query_one(Sidebar).focus()

    def action_back(self) -> None:
        """Escape on a page returns to the sidebar."""
        self.query_one(Sidebar).focus()

    @on(LeaveSection)
    def _leave_section(self) -> None:
        self.query_one(Sidebar).focus()

    @on(Sidebar.PageChosen)
    def _page_chosen(self, event: Sidebar.PageChosen) -> None:
        self.open_page(event.page_id)
        self.call_after_refresh(self._focus_page)

    def _focus_page(self) -> None:
        """Focus the page, or the first thing in it that takes focus."""
        shown = self.query_one("#pages", ContentSwitcher).visible_content
        if shown is None:
            return
        first = getattr(shown, "FIRST_FOCUS", None)  # where the page wants the keys to go
        if first is not None:
            shown.query_one(first).focus()
            return
        if shown.focusable:
            shown.focus()
            return
        # The focus chain, not every focusable child: it leaves out what is hidden (a
        # filter input before "/" shows it, the other half of a ContentSwitcher).
        target = next((widget for widget in self.focus_chain if shown in widget.ancestors), None)
        if target is not None:
            target.focus()

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
