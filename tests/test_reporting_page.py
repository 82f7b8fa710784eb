"""The Reporting page as its users drive it: pick a team, read figures, move the cursor, filter.

The figures on screen are checked against a count over the reference server's raw rows (not
the cache's rollups), so the whole way is tested: feed, ingest, rollup, query, widget.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import ContentSwitcher, DataTable, Input, Static

from stratus_tui.app import StratusApp
from stratus_tui.cache import reports
from stratus_tui.cache.store import CacheError
from stratus_tui.reporting import CUSTOM, RANGES, Span
from stratus_tui.screens.pages import reporting as reporting_page
from stratus_tui.screens.pages.reporting import ReportingPage
from stratus_tui.screens.range_dialog import RangeDialog, parse_range
from stratus_tui.server import db
from stratus_tui.widgets.overview_panel import OverviewPanel
from stratus_tui.widgets.team_list import TeamList
from stratus_tui.widgets.volume_chart import VolumeChart
from tests.conftest import ADMIN, MEMBER, TEAMADMIN
from tests.tui import settle, sidebar_entries, sign_in


async def open_reporting(pilot: Pilot[Any], user: str) -> ReportingPage:
    await sign_in(pilot, user)
    await settle(pilot)  # the first history sync
    await pilot.press("7")
    await settle(pilot)
    return pilot.app.screen.query_one(ReportingPage)


def listed(page: ReportingPage) -> list[str]:
    table = page.query_one(TeamList).query_one(DataTable)
    return [str(table.get_row_at(row)[0]) for row in range(table.row_count)]


async def open_team(pilot: Pilot[Any], page: ReportingPage, name: str) -> None:
    team = next(team for team in page.query_one(TeamList).teams if team.name == name)
    page.open_team(team)
    await settle(pilot)


def team_named(name: str) -> Any:
    return db.Team.get(db.Team.name == name)


def raw_figures(team_name: str, start: datetime, end: datetime) -> dict[str, int]:
    """Count the server's own rows of the team started in [start, end)."""
    team = team_named(team_name)
    rows = db.Conversation.select().where(
        (db.Conversation.team_id == team.id)
        & (db.Conversation.started_at >= int(start.timestamp()))
        & (db.Conversation.started_at < int(end.timestamp()))
    )
    figures = dict.fromkeys(
        ("accepted calls", "lost calls", "accepted IMs", "lost IMs", "total calls", "total IMs"),
        0,
    )
    figures |= {"direct in": 0, "direct out": 0, "voicemails": 0}
    for row in rows:
        noun = "calls" if row.kind == "call" else "IMs"
        figures[f"total {noun}"] += 1
        if row.direction == "inbound" and not row.direct and row.outcome in ("accepted", "lost"):
            figures[f"{row.outcome} {noun}"] += 1
        if row.kind == "call" and row.direct:
            figures["direct in" if row.direction == "inbound" else "direct out"] += 1
        figures["voicemails"] += bool(row.voicemail)
    return figures


def figures_on_screen(page: ReportingPage) -> dict[str, int]:
    """Read the overview panel as the user sees it: 'label   value' pairs."""
    text = str(page.query_one(OverviewPanel).render())
    pairs = re.findall(r"([A-Za-z][A-Za-z ]*?)\s+([\d,]+)(?=\s|$)", text)
    return {label: int(value.replace(",", "")) for label, value in pairs}


async def test_tenant_admin_sees_every_team_of_the_tenant(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_reporting(pilot, ADMIN)
        tenant = db.Tenant.get(db.Tenant.name == "Demo Corp")
        expected = {team.name for team in db.Team.select().where(db.Team.tenant == tenant.id)}
        assert set(listed(page)) == expected
        # Each team's calls are those of the CSV export's window: its call rows in that CSV.
        now = datetime.fromtimestamp(app.wall_clock(), UTC)
        for row in page.query_one(TeamList).teams:
            start, end = reports.csv_window(now, row.time_zone)
            lo, hi = reports.instant(start, row.time_zone), reports.instant(end, row.time_zone)
            calls = db.Conversation.select().where(
                (db.Conversation.team_id == row.id)
                & (db.Conversation.kind == "call")
                & (db.Conversation.started_at >= lo)
                & (db.Conversation.started_at < hi)
            )
            assert row.calls == calls.count() > 0, row.name


async def test_team_admin_sees_only_their_teams(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_reporting(pilot, TEAMADMIN)
        assert sorted(listed(page)) == ["Support L1", "Support L2"]


async def test_team_member_has_no_reporting(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, MEMBER)
        await settle(pilot)
        assert "reporting" not in sidebar_entries(app)
        await pilot.press("7")
        await settle(pilot)
        assert not app.screen.query(ReportingPage)


async def test_the_server_refuses_history_to_a_team_member(
    client: httpx.AsyncClient, login: Callable[[str], Any]
) -> None:
    headers = await login(MEMBER)
    answer = await client.get("/conversations", params={"after": 0}, headers=headers)
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_figures_on_screen_equal_a_count_of_raw_rows(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_reporting(pilot, ADMIN)
        await open_team(pilot, page, "Support L1")
        assert page.report is not None
        covered = page.report.overview
        assert figures_on_screen(page) == raw_figures("Support L1", covered.start, covered.end)
        assert figures_on_screen(page)["total calls"] > 100  # a real week, not zeros


async def test_a_week_across_the_autumn_clock_change(make_app: Callable[..., StratusApp]) -> None:
    """25 Oct 2026: Zurich goes from UTC+2 to UTC+1; the week has 7 x 24 + 1 hours."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_reporting(pilot, ADMIN)
        await open_team(pilot, page, "Support L1")
        page.span = Span(CUSTOM, date(2026, 10, 22), date(2026, 10, 28))
        page.load_report()
        await settle(pilot)
        assert page.report is not None
        zone = ZoneInfo("Europe/Zurich")
        start = datetime(2026, 10, 22, tzinfo=zone)
        end = datetime(2026, 10, 29, tzinfo=zone)
        assert len(page.report.volume) == 7 * 24 + 1
        assert figures_on_screen(page) == raw_figures("Support L1", start, end)
        chart_total = sum(point.lost_calls for point in page.report.volume)
        assert chart_total == raw_figures("Support L1", start, end)["lost calls"]
        assert "2026-10-22 to 2026-10-28" in str(page.query_one("#report-header").render())


async def test_the_chart_cursor_tells_one_hour(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_reporting(pilot, ADMIN)
        await open_team(pilot, page, "Support L1")
        chart = page.query_one(VolumeChart)
        assert app.focused is chart
        await pilot.press("end", "left", "left")
        await pilot.pause()
        detail = str(page.query_one("#volume-detail", Static).render())
        assert page.report is not None
        point = page.report.volume[-3]
        start = point.hour.astimezone(UTC)
        raw = raw_figures("Support L1", start, start.replace(minute=59, second=59))
        assert f"{raw['accepted calls']} accepted, {raw['lost calls']} lost" in detail
        assert f"{point.hour:%a %d %b %H:00}" in detail


async def test_a_cache_that_cannot_be_read_is_said_and_the_list_stays(
    make_app: Callable[..., StratusApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise CacheError("the local cache could not be used: disk I/O error")

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_reporting(pilot, ADMIN)
        monkeypatch.setattr(reporting_page, "load_report", broken)
        page.query_one(TeamList).query_one(DataTable).focus()
        await pilot.press("down", "enter")
        await settle(pilot)
        assert page.current == "team-list" and page.report is None
        assert any("disk I/O error" in str(n.message) for n in app._notifications)


async def test_the_report_under_the_cursor_is_read_and_drawn_ahead(
    make_app: Callable[..., StratusApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the cursor rests on a team its report is queried and its chart drawn in a
    thread; Enter shows exactly that, with no query of its own. A sync drops it."""
    queried: list[str] = []
    load_report = reporting_page.load_report

    def counting(cache: Any, team: Any, *args: Any, **kwargs: Any) -> Any:
        queried.append(team.name)
        return load_report(cache, team, *args, **kwargs)

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_reporting(pilot, ADMIN)
        table = page.query_one(TeamList).query_one(DataTable)
        table.focus()
        await open_team(pilot, page, "Support L1")  # a first paint: the chart's size
        await pilot.press("escape")
        monkeypatch.setattr(reporting_page, "load_report", counting)
        table.move_cursor(row=0)
        await pilot.press("down")
        await settle(pilot)
        resting = page.query_one(TeamList).chosen()
        assert resting is not None and queried == [resting.name]

        await pilot.press("enter")
        await pilot.pause()
        assert page.current == "report" and page.report is not None
        assert page.report.team == resting and queried == [resting.name]  # no second query
        chart = page.query_one(VolumeChart)
        ahead = chart.drawn_lines()
        chart._figure += 1  # forget the lines drawn ahead: the widget draws them itself
        assert [strip.text for strip in chart.drawn_lines()] == [strip.text for strip in ahead]
        assert chart.drawn_lines() == ahead  # styles too, segment by segment

        await pilot.press("escape", "down")
        await settle(pilot)
        resting = page.query_one(TeamList).chosen()
        assert resting is not None and queried[-1] == resting.name
        queried.clear()
        page.history_synced()  # new history: what was read ahead is of the old
        await settle(pilot)
        assert queried == [resting.name]  # read again, for the list made anew


@pytest.mark.parametrize("team_name", ["Support L1", "Reception"])
async def test_every_range_with_and_without_ims_is_drawn(
    make_app: Callable[..., StratusApp], team_name: str
) -> None:
    """Picked from the range list by keys; short ranges have hours or series with nothing
    (a series without any once crashed plotext's legend, and with it the session)."""
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        page = await open_reporting(pilot, ADMIN)
        await open_team(pilot, page, team_name)
        chart = page.query_one(VolumeChart)
        for position, name in enumerate(RANGES):
            for _ in range(2):  # IMs shown, then hidden again
                await pilot.press("f", "enter", "home", *["down"] * position, "enter")
                await settle(pilot)
                assert page.report is not None and page.report.span.name == name
                await pilot.press("m")
                await settle(pilot)
                text = "\n".join(strip.text for strip in chart.drawn_lines())
                assert "could not be drawn" not in text
                assert ("accepted calls" in text) != ("no calls" in text)


async def test_the_team_list_filters_as_you_type_and_sorts(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_reporting(pilot, ADMIN)
        page.query_one(TeamList).query_one(DataTable).focus()
        await pilot.press("slash", *"sup")
        await pilot.pause()
        assert sorted(listed(page)) == ["Support APAC", "Support L1", "Support L2"]
        await pilot.press("enter")  # filter done: back in the table
        assert isinstance(app.focused, DataTable)
        await pilot.press("slash", "escape")  # escape clears and closes the filter
        await pilot.pause()
        assert len(listed(page)) == 7 and isinstance(app.focused, DataTable)
        await pilot.press("slash", *"sup", "enter")
        await pilot.press("s")  # by name, descending
        assert listed(page) == ["Support L2", "Support L1", "Support APAC"]
        await pilot.press("enter")  # the cursor stayed on its team through the sort
        await settle(pilot)
        assert page.current == "report" and page.team is not None
        assert page.team.name == "Support APAC"
        await pilot.press("escape")
        assert page.current == "team-list"


def test_a_custom_range_is_checked() -> None:
    today = date(2026, 11, 22)
    assert parse_range("2026-11-01", "2026-11-07", today) == (date(2026, 11, 1), date(2026, 11, 7))
    assert parse_range("1.11.2026", "2026-11-07", today) == "From: a date like 2026-11-01"
    assert parse_range("2026-11-07", "2026-11-01", today) == "To must not be before From"
    assert parse_range("2026-12-01", "2026-12-02", today) == "From is in the future"
    assert isinstance(parse_range("2026-01-01", "2026-11-01", today), str)


async def test_a_custom_range_from_the_dialog(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_reporting(pilot, ADMIN)
        await open_team(pilot, page, "Support L1")
        page._ask_custom_range()
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, RangeDialog)
        dialog.query_one("#first", Input).value = "2026-11-31"
        await pilot.pause()
        assert "From: a date like" in str(dialog.query_one("#problem", Static).render())
        dialog.query_one("#first", Input).value = "2026-11-16"
        dialog.query_one("#last", Input).value = "2026-11-17"
        await pilot.click("#apply")
        await settle(pilot)
        assert page.report is not None and page.report.span.label == "2026-11-16 to 2026-11-17"
        assert len(page.report.volume) == 48


async def test_hostile_team_names_are_shown_literally(
    make_app: Callable[..., StratusApp],
) -> None:
    hostile = "[bold red]Evil[/] \x1b[31m $(rm) [@click=app.quit]x[/]"
    db.Team.update(name=hostile).where(db.Team.name == "Billing").execute()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_reporting(pilot, ADMIN)
        names = listed(page)
        assert any("[bold red]Evil[/]" in name for name in names)
        assert not any("\x1b" in name for name in names)
        await open_team(pilot, page, hostile)
        header = str(page.query_one("#report-header").render())
        assert "[bold red]Evil[/]" in header and "\x1b" not in header


@pytest.mark.parametrize("user", [ADMIN, TEAMADMIN])
async def test_reporting_keys_are_in_the_footer_only_in_a_report(
    make_app: Callable[..., StratusApp], user: str
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_reporting(pilot, user)
        assert page.check_action("download_pdf", ()) is False
        await open_team(pilot, page, listed(page)[0])
        assert page.check_action("download_pdf", ()) is True


async def test_exports_from_the_report(make_app: Callable[..., StratusApp], tmp_path: Path) -> None:
    """d writes the 4-month CSV, l the lost calls of the range as PDF; both say where."""
    from pypdf import PdfReader

    from stratus_tui.screens.dialogs import SaveAsDialog

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_reporting(pilot, ADMIN)
        await open_team(pilot, page, "Support L1")
        for key, name in (("d", "report.csv"), ("l", "lost.pdf")):
            await pilot.press(key)
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, SaveAsDialog)
            assert "Support-L1" in dialog.query_one("#path", Input).value  # the default name
            dialog.query_one("#path", Input).value = str(tmp_path / name)
            await pilot.press("enter")
            await settle(pilot)
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
            assert str(tmp_path / name) in str(page.query_one("#export-status").render())
        with (tmp_path / "report.csv").open(encoding="utf-8-sig") as stream:
            rows = list(csv.reader(stream))
        team = team_named("Support L1")
        window_start = datetime(2026, 8, 1, tzinfo=ZoneInfo("Europe/Zurich"))
        expected = (
            db.Conversation.select()
            .where(
                (db.Conversation.team_id == team.id)
                & (db.Conversation.started_at >= int(window_start.timestamp()))
            )
            .count()
        )
        assert len(rows) - 1 == expected > 0
        assert page.report is not None
        text = "".join(page.extract_text() for page in PdfReader(tmp_path / "lost.pdf").pages)
        assert "Support L1" in text
        lost = raw_figures("Support L1", page.report.overview.start, page.report.overview.end)
        assert f"{lost['lost calls']}" in text


def test_saved_counts_read_as_english() -> None:
    assert reporting_page.counted(1, "lost calls") == "1 lost call"
    assert reporting_page.counted(0, "lost calls") == "0 lost calls"
    assert reporting_page.counted(19_969, "conversations") == "19,969 conversations"


async def test_keys_typed_in_one_burst_after_slash_go_to_the_filter(
    make_app: Callable[..., StratusApp],
) -> None:
    """Over SSH "/l1" can come in one read: "l1" is the filter's, the "1" is not the key
    of the Home page (seen in tmux)."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_reporting(pilot, ADMIN)
        page.query_one(TeamList).query_one(DataTable).focus()
        await pilot.pause()
        for key, character in (("slash", "/"), ("l", "l"), ("1", "1"), ("enter", "\r")):
            app.post_message(events.Key(key, character))  # queued together, as one read
        await settle(pilot)
        assert app.screen.query_one("#pages", ContentSwitcher).current == "reporting"
        assert page.query_one("#team-filter", Input).value == "l1"
        assert listed(page) == ["Support L1"]
        assert isinstance(app.focused, DataTable)  # enter: the filter is done
