"""The Reporting page's data: the teams the user may see and one team's report, from the cache.

No Textual and no IO but the cache file: the page calls these in a thread. Every figure is a
query on the hourly rollups (``cache/reports.py``), so a report takes milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from stratus_tui.cache import reports

if TYPE_CHECKING:
    from stratus_tui.cache.store import Cache

RANGES = ("today", "yesterday", "last 7 days", "last 4 weeks")
CUSTOM = "custom"


@dataclass(frozen=True)
class TeamRow:
    id: int
    name: str
    time_zone: str
    calls: int  # every call in the cache (the last 4 months)


@dataclass(frozen=True)
class Span:
    """A report's time range: one of ``RANGES``, or ``CUSTOM`` from ``first`` to ``last``."""

    name: str = "last 7 days"
    first: date | None = None
    last: date | None = None

    def bounds(self, now: datetime, time_zone: str) -> tuple[datetime, datetime]:
        if self.name == CUSTOM and self.first is not None and self.last is not None:
            return reports.custom_range(self.first, self.last, time_zone)
        return reports.ranges(now, time_zone)[self.name]

    @property
    def label(self) -> str:
        if self.name == CUSTOM and self.first is not None and self.last is not None:
            return f"{self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}"
        return self.name


@dataclass(frozen=True)
class Report:
    team: TeamRow
    span: Span
    start: datetime
    end: datetime
    overview: reports.Overview
    volume: list[reports.HourVolume]
    heatmap: reports.Heatmap
    as_of: datetime | None  # the last sync that reached the end of the history


def load_teams(
    cache: Cache, fallback_zone: str = "UTC", *, now: datetime | None = None
) -> list[TeamRow]:
    """The teams the last sync listed (the user's scope), with their calls of the last 4
    months (the CSV export's window, ``reports.csv_window``, in each team's zone) at ``now``.

    A time zone the tz database does not know (server text) counts as ``fallback_zone``
    (the user's, as the sync counted its buckets), so one odd team cannot break the page.
    """
    from stratus_tui.export.reporting import cached_teams

    now = now or datetime.now(UTC)
    teams = cached_teams(cache, fallback_zone)
    with cache.read() as db:
        calls = [reports.call_count(db, team.id, team.time_zone, now) for team in teams]
    return [
        TeamRow(team.id, team.name, team.time_zone, count)
        for team, count in zip(teams, calls, strict=True)
    ]


def load_report(
    cache: Cache,
    team: TeamRow,
    span: Span,
    *,
    heat_weeks: int,
    heat_kind: reports.Kind,
    now: datetime | None = None,
) -> Report:
    """Overview, call volume and heatmap of ``team`` over ``span``, at ``now``."""
    now = now or datetime.now(UTC)
    start, end = span.bounds(now, team.time_zone)
    with cache.read() as db:
        overview = reports.overview(db, team.id, team.time_zone, start, end)
        volume = reports.call_volume(db, team.id, team.time_zone, start, end)
        heat = reports.heatmap(
            db, team.id, team.time_zone, weeks=heat_weeks, kind=heat_kind, now=now
        )
    last = cache.last_sync()
    as_of = None if last is None else datetime.fromtimestamp(last, UTC)
    return Report(team, span, start, end, overview, volume, heat, as_of)
