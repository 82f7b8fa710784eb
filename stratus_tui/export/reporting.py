"""The reporting exports of one team: the conversations CSV and the lost-calls PDF.

Plain functions over the cache file, no Textual, no httpx: the Reporting page calls them in
a worker thread, ``stratus-tui export reporting`` / ``export lost-calls`` from a shell.

- the CSV itself (row layout, speed) is ``export.report_csv``'s;
- ``lost_call_rows`` gives the lost calls of a range for ``export.pdf``.
- ``export_report_csv`` / ``export_lost_calls_pdf`` do the whole job for a team and range.
- ``default_file_name`` says what, which team and which days, safe for any file system.

Values stay raw here (a hostile service name is passed on as it is): ``report_csv``
neutralises cells for spreadsheets and the PDF writer cleans text for print.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from stratus_tui.cache import reports
from stratus_tui.cache.rollup import known_zone
from stratus_tui.cache.store import reader
from stratus_tui.export.pdf import LostCall, write_lost_calls_pdf
from stratus_tui.export.report_csv import Progress, ReportTeam, TeamLike, write_report_csv

if TYPE_CHECKING:
    from stratus_tui.cache.store import Cache

_PREFIXES = {"csv": "stratus-report", "pdf": "stratus-lost-calls"}
_NAME_CHARS = 40  # of the team's name in a file name: 40 x 4 UTF-8 bytes stay far below 255


def cached_teams(cache: Cache, fallback_zone: str = "UTC") -> list[ReportTeam]:
    """The teams the last sync stored (the user's scope), by name.

    A zone name the tz database does not know (server text) counts as ``fallback_zone``,
    as the sync's buckets do (``ingest.Clocks``).
    """
    items, _ = cache.get_entities("team")
    fallback_zone = fallback_zone if known_zone(fallback_zone) else "UTC"
    teams = []
    for text in items.values():
        team = json.loads(text)
        zone = team.get("time_zone") or ""
        teams.append(
            ReportTeam(team["id"], team["name"], zone if known_zone(zone) else fallback_zone)
        )
    return sorted(teams, key=lambda team: (team.name.casefold(), team.id))


def service_names(cache: Cache) -> dict[int, str]:
    """Service names stored as "service" entities, if anything stored them (else empty)."""
    items, _ = cache.get_entities("service")
    return {int(key): json.loads(text).get("name", "") for key, text in items.items()}


# --- the PDF's rows ------------------------------------------------------------------------


def lost_call_rows(
    connection: sqlite3.Connection,
    team: TeamLike,
    services: Mapping[int, str],
    start_ts: int,
    end_ts: int,
) -> Iterator[LostCall]:
    """The lost calls of ``team`` started in [start_ts, end_ts), oldest first."""
    for row in reports.lost_calls(connection, team.id, start_ts, end_ts):
        service = row[4]
        name = services.get(service) if service is not None else None
        yield LostCall(row[9], name or f"service {service}", row[16], row[13])


# --- whole exports, for the page and the commands ------------------------------------------


def export_report_csv(
    cache: Cache,
    team: TeamLike,
    path: Path,
    *,
    services: Mapping[int, str] | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the team's conversations of the CSV window (``reports.csv_window``: the last
    quarter and the running month, up to ``now``) to ``path``; returns the row count.

    ``services`` names the services (default: the cache's "service" entities, if any).
    Raises ``ExportError`` (the file) or ``CacheError`` (the cache); the old file stays.
    """
    start, end = reports.csv_window(now or datetime.now(UTC), team.time_zone)
    lo, hi = reports.instant(start, team.time_zone), reports.instant(end, team.time_zone)
    names = service_names(cache) if services is None else services
    return write_report_csv(cache.path, team, names, lo, hi, path, progress=progress)


def export_lost_calls_pdf(
    cache: Cache,
    team: TeamLike,
    path: Path,
    start: datetime,
    end: datetime,
    *,
    services: Mapping[int, str] | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the lost calls of [start, end) (naive: the team's wall time, as in
    ``cache.reports``) to ``path`` as a PDF; returns their count. Errors as for the CSV."""
    lo, hi = reports.instant(start, team.time_zone), reports.instant(end, team.time_zone)
    names = service_names(cache) if services is None else services
    with reader(cache.path) as connection:
        rows = list(lost_call_rows(connection, team, names, lo, hi))
    return write_lost_calls_pdf(
        path,
        team_name=team.name,
        time_zone=team.time_zone,
        start=reports.local(start, team.time_zone),
        end=reports.local(end, team.time_zone),
        rows=rows,
        progress=progress,
    )


# --- names ---------------------------------------------------------------------------------


def default_file_name(team_name: str, start: date, end: date, suffix: str) -> str:
    """``stratus-report-<team>-<first day>-to-<last day>.csv`` (``suffix`` "csv") or
    ``stratus-lost-calls-...pdf`` ("pdf").

    ``start``/``end`` are days (both included) or a range's datetimes (``end`` excluded:
    a range ending at midnight ends the day before). The team's name is reduced to letters
    and digits joined by "-", at most 40 of them: no slash, dot, control character or
    overlong name reaches the file system, whatever the server sent.
    """
    kind = suffix.lstrip(".").lower()
    if kind not in _PREFIXES:
        raise ValueError(f"suffix must be csv or pdf, not {suffix!r}")
    first = start.date() if isinstance(start, datetime) else start
    last = (end - timedelta(microseconds=1)).date() if isinstance(end, datetime) else end
    last = max(first, last)
    return f"{_PREFIXES[kind]}-{_slug(team_name)}-{first:%Y-%m-%d}-to-{last:%Y-%m-%d}.{kind}"


def _slug(name: str) -> str:
    text = unicodedata.normalize("NFC", name[:1000])
    words = re.sub(r"-+", "-", "".join(c if c.isalnum() else "-" for c in text)).strip("-")
    return words[:_NAME_CHARS].strip("-") or "team"
