"""Home: can calls be routed, and if not, what is down where (the on-call engineer's page).

Refreshes update the cards in place, so the user's focus and scroll never move; cards are
rebuilt only when the set of instances changes. Automatic refreshes are sent as background
requests (they do not keep an unattended session alive) and can be paused.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import ItemGrid, VerticalScroll
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Static

from stratus_tui import dashboard
from stratus_tui.api.errors import StratusError, Unauthenticated
from stratus_tui.api.models import ServerInstance
from stratus_tui.dashboard import STAFF, DashboardData, load_dashboard
from stratus_tui.screens.bindings import bind
from stratus_tui.screens.dialogs import DetailsDialog, SaveAsDialog
from stratus_tui.widgets.dashboard_cards import (
    AgentsCard,
    ComponentsCard,
    RoutingBanner,
    ServicesCard,
)
from stratus_tui.widgets.instance_card import InstanceCard, trusted_application
from stratus_tui.widgets.safe import safe

DASHBOARD = "dashboard"  # the cache's entity kind for the last dashboard seen

if TYPE_CHECKING:
    from pathlib import Path

    from stratus_tui.session import Session


class HomePage(VerticalScroll):
    DEFAULT_CSS = """
    HomePage { padding: 0 1; }
    HomePage ItemGrid { height: auto; grid-gutter: 0 1; }
    HomePage .section { color: $text-muted; text-style: bold; margin-top: 1; }
    HomePage #status-line { color: $text-muted; margin-top: 1; }
    HomePage #status-line.-offline { color: $text-warning; text-style: bold; }
    """
    HELP = """
## Home

Whether calls can be routed, and if not, what is down where. **PS, ICH, AC, AM** and
**CIC** must each run somewhere; if one does not, the red banner says so.

The page refreshes by itself (every 30 s unless the config's `refresh_seconds` says
otherwise); **p** pauses that, **r** refreshes now, **d** downloads the license usage
report as CSV, **Tab** moves between cards and **i** shows an instance's details.
"""
    BINDINGS = [
        bind("refresh", "refresh"),
        bind("pause", "toggle_pause"),
        bind("details", "details"),
        bind("download", "download"),
    ]

    def __init__(self, session: Session, refresh_seconds: int = 30, *, id: str = "home") -> None:
        super().__init__(id=id)
        self.session = session
        self.staff = session.user.role in STAFF
        self.refresh_seconds = refresh_seconds
        self.paused = False
        self.data: DashboardData | None = None
        self.offline: str | None = None
        self.fetching = False  # not Widget.loading: that covers the page with a spinner
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield RoutingBanner()
        with ItemGrid(id="summary", min_column_width=30):
            if self.staff:
                yield AgentsCard(id="agents-card")
                yield ServicesCard(id="services-card")
            yield ComponentsCard(id="components-card")
        yield Static("Backend instances", classes="section")
        yield ItemGrid(id="backend", min_column_width=42)
        yield Static("Frontend instances", classes="section")
        yield ItemGrid(id="frontend", min_column_width=42)
        yield Static("Loading…", id="status-line")

    def on_mount(self) -> None:
        self.paint_cached()
        self.load(background=False)
        self._timer = self.set_interval(self.refresh_seconds, self._timer_refresh)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "download":
            return self.staff  # the license report is not for team members
        return True

    # --- loading -------------------------------------------------------------------------

    def _timer_refresh(self) -> None:
        if not self.paused:
            self.load(background=True)

    def action_refresh(self) -> None:
        self.load(background=False)

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self.notify("Automatic refresh paused" if self.paused else "Automatic refresh resumed")
        self._show_status()

    @work(group="home-cache", exit_on_error=False)
    async def paint_cached(self) -> None:
        """The last known state at once, from the local cache, while the server answers."""
        cache = self.session.cache
        if cache is None:
            return
        items, _ = await asyncio.to_thread(cache.get_entities, DASHBOARD)
        cached = dashboard.from_json(items["data"]) if "data" in items else None
        if cached is not None and self.data is None:  # never over fresher data
            self.show(cached)

    @work(exclusive=True, group="home", exit_on_error=False)
    async def load(self, background: bool) -> None:
        self.fetching = True
        self._show_status()
        try:
            data = await load_dashboard(
                self.session.client, self.session.user.role, background=background
            )
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return
        except StratusError as error:
            self.offline = str(error)
            self.session.offline = True
            return
        finally:
            self.fetching = False  # not Widget.loading: that covers the page with a spinner
            self._show_status()
        self.offline = None
        self.session.offline = False
        self.show(data)
        if self.session.cache is not None:
            self._store(data)

    @work(group="home-cache", exit_on_error=False)
    async def _store(self, data: DashboardData) -> None:
        cache = self.session.cache
        if cache is not None:
            stamp = int(data.fetched_at.timestamp())
            payload = {"data": dashboard.to_json(data)}
            await asyncio.to_thread(cache.put_entities, DASHBOARD, payload, stamp)

    # --- showing -------------------------------------------------------------------------

    def show(self, data: DashboardData) -> None:
        self.data = data
        self.query_one(RoutingBanner).show_health(data.health)
        self.query_one(ComponentsCard).show_health(data.health)
        if data.license is not None and self.staff:
            self.query_one(AgentsCard).show_license(data.license)
        if data.services is not None and self.staff:
            self.query_one(ServicesCard).show_services(data.services)
        self._sync_cards(self.query_one("#backend", ItemGrid), data.backend)
        self._sync_cards(self.query_one("#frontend", ItemGrid), data.frontend)
        self._show_status()

    def _sync_cards(self, grid: ItemGrid, instances: list[ServerInstance]) -> None:
        cards = list(grid.query_children(InstanceCard))
        if [card.id for card in cards] == [f"instance-{item.id}" for item in instances]:
            for card, instance in zip(cards, instances, strict=True):
                card.show_instance(instance)
            return
        focused = self.app.focused.id if self.app.focused else None
        grid.remove_children()
        grid.mount_all(InstanceCard(instance) for instance in instances)
        if focused and focused.startswith("instance-"):
            self.call_after_refresh(self._refocus, focused)

    def _refocus(self, widget_id: str) -> None:
        for card in self.query(InstanceCard):
            if card.id == widget_id:
                card.focus(scroll_visible=False)

    def _show_status(self) -> None:
        line = self.query_one("#status-line", Static)
        data = self.data
        as_of = f"as of {data.fetched_at.astimezone():%H:%M:%S}" if data else "no data yet"
        if self.offline:
            line.add_class("-offline")
            line.update(safe(f"✖ {self.offline}. Showing data {as_of}.", max_length=None))
            return
        line.remove_class("-offline")
        if self.fetching:
            line.update(Content(f"{as_of} · refreshing…"))
            return
        cadence = (
            "automatic refresh paused (p resumes)"
            if self.paused
            else f"refreshes every {self.refresh_seconds} s (p pauses)"
        )
        line.update(Content(f"{as_of} · {cadence} · r refresh now"))

    # --- actions -------------------------------------------------------------------------

    def action_details(self) -> None:
        card = self.app.focused
        if not isinstance(card, InstanceCard) or card.instance is None:
            self.notify("Move to an instance first (Tab), then press i", severity="information")
            return
        instance = card.instance
        heartbeats = [
            Content.assemble(
                (f"\n{part.abbreviation:<4} ", "dim"),
                f"last heartbeat {part.last_heartbeat:%Y-%m-%d %H:%M:%S} UTC",
            )
            for part in instance.components
            if part.last_heartbeat is not None
        ]
        body = Content.assemble(
            ("host ", "dim"), safe(instance.host), f"   role {instance.role}\n\n",
            trusted_application(instance), *heartbeats,
        )  # fmt: skip
        self.app.push_screen(DetailsDialog(safe(instance.name), body))

    @on(AgentsCard.Selected)
    def _agents(self, event: AgentsCard.Selected) -> None:
        event.stop()
        self.screen.open_page("agents")  # type: ignore[attr-defined]

    def action_download(self) -> None:
        from stratus_tui.export.csv import default_export_dir

        name = f"license-usage-{date.today().isoformat()}.csv"
        dialog = SaveAsDialog(
            "Download the license usage report (CSV)", default_export_dir() / name
        )
        self.app.push_screen(dialog, self._save_report)

    def _save_report(self, path: Path | None) -> None:
        if path is not None:
            self.save_report(path)

    @work(exclusive=True, group="home-export", exit_on_error=False)
    async def save_report(self, path: Path) -> None:
        from stratus_tui.commands.export import LICENSE_USAGE_HEADER, license_usage_rows
        from stratus_tui.export.csv import ExportError, write_csv

        self.notify("Fetching the license usage report…")
        try:
            rows = await license_usage_rows(self.session.client)
            count = await asyncio.to_thread(write_csv, path, LICENSE_USAGE_HEADER, rows)
        except (StratusError, ExportError) as error:
            self.notify(f"The report was not saved: {error}", severity="error", timeout=15)
            return
        self.notify(f"Saved {count:,} rows to {path}", timeout=15)
