"""Reporting: the teams the user may see, and a team's report from the local cache.

Every figure is a query on the cache's hourly rollups (``stratus_tui.reporting``), run in a
thread, so opening a team takes milliseconds and never waits on the server; the history
itself is kept fresh by the main screen's sync (every hour, and on Refresh Now). The two
exports read the cache's raw rows in a thread and report their progress here.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import ContentSwitcher, DataTable, Select, Static
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from stratus_tui.cache import reports
from stratus_tui.reporting import CUSTOM, RANGES, Report, Span, TeamRow, load_report, load_teams
from stratus_tui.screens.bindings import bind
from stratus_tui.screens.dialogs import SaveAsDialog
from stratus_tui.screens.range_dialog import RangeDialog
from stratus_tui.widgets.heatmap import HeatmapView, describe
from stratus_tui.widgets.overview_panel import OverviewPanel
from stratus_tui.widgets.safe import safe
from stratus_tui.widgets.team_list import TeamList
from stratus_tui.widgets.volume_chart import Drawn, VolumeChart
from stratus_tui.widgets.volume_chart import describe as describe_point

if TYPE_CHECKING:
    from stratus_tui.cache.reports import HourVolume
    from stratus_tui.session import Session

READ_AHEAD_FOR = 30.0  # seconds; after that "today" may be another day: query again


@dataclass(frozen=True)
class ReadAhead:
    """A report queried for the team under the cursor before Enter (one at a time)."""

    key: tuple[object, ...]
    started: float  # time.monotonic()
    worker: Worker[tuple[Report, Drawn | None] | None]

    def matches(self, key: tuple[object, ...]) -> bool:
        return key == self.key and time.monotonic() - self.started < READ_AHEAD_FOR

    def ready(self, key: tuple[object, ...]) -> tuple[Report, Drawn | None] | None:
        """The answer for ``key``, if it is there already."""
        return self.worker.result if self.matches(key) and self.worker.is_finished else None


def counted(count: int, noun: str) -> str:
    """``1 lost call``, ``2 lost calls``: the nouns here take an s."""
    return f"{count:,} {noun.removesuffix('s') if count == 1 else noun}"


RANGE_CHOICES = [*((name.capitalize(), name) for name in RANGES), ("Custom…", CUSTOM)]
KEYS_NOTE = "r refresh now · d CSV (4 months) · l lost calls PDF"


class ReportingPage(ContentSwitcher):
    DEFAULT_CSS = """
    ReportingPage { padding: 0 1; }
    ReportingPage .page-title { text-style: bold; color: $accent; }
    ReportingPage #report { height: 1fr; }
    ReportingPage #report-header { height: auto; }
    ReportingPage #range { width: 30; }
    ReportingPage .detail { color: $text-muted; height: auto; }
    ReportingPage .section { text-style: bold; margin-top: 1; }
    ReportingPage #export-status { color: $text-muted; height: auto; }
    """
    HELP = """
## Reporting

Pick a team, then read its report: the overview, the call volume per hour (with a cursor)
and the service time of day. **f** changes the range (Custom… asks for dates), **m** shows
IMs in the chart, **w** the heatmap's weeks, **k** calls or IMs in the heatmap, **i** the
exact interval of the figures, **r** fetches new history now, **d** downloads the last
4 months as CSV, **l** the lost calls of the range as PDF, **escape** returns to the teams.
"""
    BINDINGS = [
        bind("refresh", "refresh_now"),
        bind("range", "focus_range"),
        bind("toggle_ims", "toggle_ims"),
        bind("heat_weeks", "heat_weeks"),
        bind("heat_kind", "heat_kind"),
        bind("details", "details"),
        bind("download", "download_csv"),
        bind("lost_calls_pdf", "download_pdf"),
        bind("back", "back"),
    ]
    REPORT_ACTIONS = frozenset(
        {"toggle_ims", "heat_weeks", "heat_kind", "focus_range", "details", "back"}
        | {"download_csv", "download_pdf"}
    )

    def __init__(self, session: Session, *, id: str = "reporting") -> None:
        super().__init__(initial="team-list", id=id)
        self.session = session
        self.team: TeamRow | None = None
        self.span = Span()
        self.show_ims = False
        self.heat_weeks = 4
        self.heat_kind: reports.Kind = "call"
        self.report: Report | None = None
        self._ahead: ReadAhead | None = None  # the report of the team under the cursor

    def compose(self) -> ComposeResult:
        yield TeamList()
        with VerticalScroll(id="report"):
            yield Static("", id="report-header")
            yield Select(RANGE_CHOICES, value=self.span.name, allow_blank=False, id="range")
            yield Static("", id="controls-note", classes="detail")
            yield Static("", id="export-status")
            yield OverviewPanel(id="overview")
            yield Static("Call volume per hour", classes="section")
            yield VolumeChart(id="volume")
            yield Static("", id="volume-detail", classes="detail")
            yield Static("", id="heat-title", classes="section")
            yield HeatmapView(id="heatmap")
            yield Static("", id="heat-detail", classes="detail")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.REPORT_ACTIONS:
            return self.current == "report"
        return True

    def on_mount(self) -> None:
        self.load_teams()

    @work(group="reporting-teams", exclusive=True, exit_on_error=False)
    async def load_teams(self) -> None:
        cache = self.session.cache
        zone = self.session.user.time_zone or "UTC"
        if cache is None:
            teams = []
        else:
            teams = await asyncio.to_thread(load_teams, cache, zone, now=self._now())
        self.query_one(TeamList).show(teams)
        if not teams:
            self.notify("The teams appear here once the history is synced (see the sidebar).")

    def history_synced(self) -> None:
        """Called by the main screen after a sync: new history, maybe new teams."""
        self._ahead = None  # read before the new history
        self.load_teams()
        if self.team is not None:
            self.load_report()

    @on(DataTable.RowSelected)
    def _team_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        team = self.query_one(TeamList).chosen()
        if team is not None:
            self.open_team(team)

    @on(DataTable.RowHighlighted)
    def _team_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        # Only for a cursor the user moves: while the filter is typed in, every key
        # refills the table and would query another team.
        team = self.query_one(TeamList).chosen()
        if team is not None and self.current == "team-list" and event.data_table.has_focus:
            self._read_ahead(team)

    def open_team(self, team: TeamRow) -> None:
        """Show the team's report; the page switches to it when the figures are there, so
        the report is laid out and painted once, with its figures (not first empty).

        The figures of the team under the cursor were usually read ahead meanwhile: then
        they are shown at once, in this key's own handler."""
        self.team = team
        self.report = None
        ahead = self._ahead
        ready = ahead.ready(self._report_key(team)) if ahead is not None else None
        if ready is not None:
            self._present(*ready)
        else:
            self.load_report()

    def _report_key(self, team: TeamRow) -> tuple[object, ...]:
        return (team, self.span, self.heat_weeks, self.heat_kind)

    def _read_ahead(self, team: TeamRow) -> None:
        """Query the report of the team under the cursor now, in case Enter follows."""
        key = self._report_key(team)
        if self._ahead is not None and self._ahead.matches(key):
            return
        draw_chart = self.query_one(VolumeChart).ahead(show_ims=self.show_ims)
        worker = self.run_worker(
            self._query(team, draw_chart),
            group="reporting-ahead",
            exclusive=True,
            exit_on_error=False,
        )
        self._ahead = ReadAhead(key, time.monotonic(), worker)

    def action_back(self) -> None:
        self.current = "team-list"
        self.team = None
        self.refresh_bindings()
        self.query_one(TeamList).query_one(DataTable).focus()

    # --- the report ----------------------------------------------------------------------

    async def _query(
        self, team: TeamRow, draw_chart: Callable[[list[HourVolume]], Drawn] | None = None
    ) -> tuple[Report, Drawn | None] | None:
        """The report of ``team`` with the page's settings, from the cache, in a thread;
        with ``draw_chart``, its chart drawn there too (``VolumeChart.ahead``)."""
        cache = self.session.cache
        if cache is None:
            return None
        span, weeks, kind, now = self.span, self.heat_weeks, self.heat_kind, self._now()

        def query() -> tuple[Report, Drawn | None]:
            report = load_report(cache, team, span, heat_weeks=weeks, heat_kind=kind, now=now)
            return report, draw_chart(report.volume) if draw_chart else None

        return await asyncio.to_thread(query)

    @work(group="reporting", exclusive=True, exit_on_error=False)
    async def load_report(self) -> None:
        team = self.team
        if team is None:
            return
        from stratus_tui.cache.store import CacheError  # peewee: loaded with the cache

        answer: tuple[Report, Drawn | None] | None = None
        ahead = self._ahead
        if ahead is not None and ahead.matches(self._report_key(team)):
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                answer = await ahead.worker.wait()  # read ahead, still running: its answer
        try:
            if answer is None:
                answer = await self._query(team)
        except CacheError as error:
            self.notify(str(error), title="Reporting", severity="error")
            return
        if answer is not None and self.team == team:  # else the user went elsewhere
            self._present(*answer)

    def _present(self, report: Report, drawn: Drawn | None = None) -> None:
        opening = self.current != "report"
        if opening:
            self.query_one("#export-status", Static).update("")
            self.current = "report"
        self.show(report, drawn)
        if opening:
            self.query_one(VolumeChart).focus(scroll_visible=False)

    def show(self, report: Report, drawn: Drawn | None = None) -> None:
        self.report = report
        age = (
            f"history as of {report.as_of.astimezone():%H:%M}" if report.as_of else "no history yet"
        )
        self.query_one("#report-header", Static).update(
            Content.assemble(
                safe(report.team.name).stylize("bold"),
                ("  ", ""),
                (f"{report.team.time_zone} · {report.span.label} · {age}", "dim"),
            )
        )
        ims = "m hides IMs" if self.show_ims else "m shows IMs"
        self.query_one("#controls-note", Static).update(f"f range · {ims} · {KEYS_NOTE}")
        self.query_one(OverviewPanel).show(report.overview)
        chart = self.query_one(VolumeChart)
        chart.show(report.volume, show_ims=self.show_ims, drawn=drawn)
        point = chart.point
        self.query_one("#volume-detail", Static).update(
            describe_point(point) if point else "no hours in this range"
        )
        kind = "calls" if self.heat_kind == "call" else "IMs"
        weeks = "last week" if self.heat_weeks == 1 else f"last {self.heat_weeks} weeks"
        self.query_one("#heat-title", Static).update(
            f"Service time of day · {weeks} · {kind}  (w weeks, k calls/IMs)"
        )
        self.query_one(HeatmapView).show(report.heatmap)

    @on(Select.Changed, "#range")
    def _range(self, event: Select.Changed) -> None:
        if event.value == CUSTOM:
            self._ask_custom_range()
        elif isinstance(event.value, str) and event.value != self.span.name:
            self.span = Span(event.value)
            self.load_report()

    def _ask_custom_range(self) -> None:
        today = self._today()
        first = self.span.first or today - timedelta(days=6)
        last = self.span.last or today
        self.app.push_screen(RangeDialog(first, last, today), self._custom_range)

    def _custom_range(self, answer: tuple[date, date] | None) -> None:
        select = self.query_one("#range", Select)
        if answer is None:  # cancelled: back to the range in use
            with select.prevent(Select.Changed):
                select.value = self.span.name
            return
        self.span = Span(CUSTOM, *answer)
        self.load_report()

    def _now(self) -> datetime:
        wall_clock = getattr(self.app, "wall_clock", time.time)  # tests pin the time
        return datetime.fromtimestamp(wall_clock(), UTC)

    def _today(self) -> date:
        zone = self.team.time_zone if self.team else "UTC"
        return reports.local(self._now(), zone).date()

    @on(VolumeChart.PointChosen)
    def _point(self, event: VolumeChart.PointChosen) -> None:
        detail = self.query_one("#volume-detail", Static)
        detail.update(describe_point(event.point))
        # In a short terminal the report is taller than the screen: the hour's numbers
        # under the chart come into view (with the chart above them) as the cursor moves.
        detail.scroll_visible(animate=False)

    @on(HeatmapView.CellChosen)
    def _cell(self, event: HeatmapView.CellChosen) -> None:
        heatmap = self.query_one(HeatmapView).heatmap
        if heatmap is not None:
            cell = heatmap.cells[event.weekday][event.hour]
            detail = self.query_one("#heat-detail", Static)
            detail.update(describe(event.weekday, event.hour, cell))
            detail.scroll_visible(animate=False)

    def action_focus_range(self) -> None:
        self.query_one("#range", Select).focus()

    def action_toggle_ims(self) -> None:
        self.show_ims = not self.show_ims
        self.load_report()

    def action_heat_weeks(self) -> None:
        self.heat_weeks = self.heat_weeks % 4 + 1
        self.load_report()

    def action_heat_kind(self) -> None:
        self.heat_kind = "im" if self.heat_kind == "call" else "call"
        self.load_report()

    def action_refresh_now(self) -> None:
        main = self.screen
        if hasattr(main, "sync_history"):
            main.sync_history()
            self.notify("Fetching new history…")

    def action_details(self) -> None:
        self.notify(
            "The figures cover " + self.query_one(OverviewPanel).interval_text(), title="Overview"
        )

    # --- exports -------------------------------------------------------------------------

    def action_download_csv(self) -> None:
        from stratus_tui.export.reporting import export_report_csv

        team, cache = self.team, self.session.cache
        if team is None or cache is None:
            return
        now = self._now()  # the file's name and its rows: one window
        start, end = reports.csv_window(now, team.time_zone)
        self._ask_path(
            "Download the last 4 months of conversations (CSV)",
            (team.name, start, end, "csv"),
            "conversations",
            functools.partial(export_report_csv, cache, team, now=now),
        )

    def action_download_pdf(self) -> None:
        from stratus_tui.export.reporting import export_lost_calls_pdf

        team, cache, report = self.team, self.session.cache, self.report
        if team is None or cache is None or report is None:
            return
        self._ask_path(
            f"Download the lost calls of {report.span.label} (PDF)",
            (team.name, report.start, report.end, "pdf"),
            "lost calls",
            functools.partial(
                export_lost_calls_pdf, cache, team, start=report.start, end=report.end
            ),
        )

    def _ask_path(
        self,
        title: str,
        name: tuple[str, datetime, datetime, str],
        noun: str,
        write: Callable[..., int],
    ) -> None:
        """Ask where to save (default: a name saying team and range), then ``export``."""
        from stratus_tui.export.csv import default_export_dir
        from stratus_tui.export.reporting import default_file_name

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.export(path, noun, write)

        dialog = SaveAsDialog(title, default_export_dir() / default_file_name(*name))
        self.app.push_screen(dialog, chosen)

    @work(group="reporting-export", exclusive=True, exit_on_error=False)
    async def export(self, path: Path, noun: str, write: Callable[..., int]) -> None:
        """``write(path, progress=...)`` in a thread, its progress and outcome on the page."""
        from stratus_tui.cache.store import CacheError
        from stratus_tui.export.atomic import ExportError

        status = self.query_one("#export-status", Static)
        status.update(f"Writing {path.name}…")

        def progress(count: int) -> None:
            self.app.call_from_thread(
                status.update, f"Writing {path.name}: {counted(count, noun)}…"
            )

        try:
            count = await asyncio.to_thread(write, path, progress=progress)
        except (ExportError, CacheError) as error:
            status.update("")
            self.notify(f"Not saved: {error}", severity="error", timeout=15)
            return
        saved = f"Saved {counted(count, noun)} to {path}"
        status.update(Content(saved))
        self.notify(saved, timeout=15)
