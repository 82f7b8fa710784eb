"""The reporting exports of one team: the conversations CSV and the lost-calls PDF.

Plain functions over the cache file, no Textual, no httpx: the Reporting page calls them in
a worker thread, ``stratus-tui export reporting`` / ``export lost-calls`` from a shell.

- ``report_rows`` turns the team's raw conversations (``cache.reports.conversations``) into
  CSV rows: every field of a conversation, the team and service names, and each time both
  local (the team's time zone, ISO 8601 with its offset) and in UTC. A million rows
  stream through ``write_csv`` (bench/export_csv.py), so times are not formatted by
  ``datetime`` per row, which would cost more than the rest of the row: see ``_stamper``.
- ``lost_call_rows`` gives the lost calls of a range for ``export.pdf``.
- ``export_report_csv`` / ``export_lost_calls_pdf`` do the whole job for a team and range.
- ``default_file_name`` says what, which team and which days, safe for any file system.

Values stay raw here (a hostile service name is passed on as it is): ``write_csv``
neutralises cells for spreadsheets and the PDF writer cleans text for print.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stratus_tui.cache import reports
from stratus_tui.cache.rollup import LocalClock
from stratus_tui.export.csv import neutralise, write_csv
from stratus_tui.export.pdf import LostCall, offset_text, write_lost_calls_pdf

if TYPE_CHECKING:
    from stratus_tui.cache.store import Cache

REPORT_HEADER: tuple[str, ...] = (
    "conversation id", "tenant id", "team id", "team", "service id", "service",
    "agent id", "kind", "direction", "direct",
    "started (local)", "answered (local)", "ended (local)",
    "started (UTC)", "answered (UTC)", "ended (UTC)",
    "outcome", "wait seconds", "duration seconds", "voicemail", "customer identifier",
)  # fmt: skip
_PREFIXES = {"csv": "stratus-report", "pdf": "stratus-lost-calls"}
_NAME_CHARS = 40  # of the team's name in a file name: 40 x 4 UTF-8 bytes stay far below 255
_BOOL = ("false", "true")
Progress = Callable[[int], None]


class TeamLike(Protocol):
    """What the exports need of a team (the page's ``TeamRow`` and ``ReportTeam`` fit)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def time_zone(self) -> str: ...


@dataclass(frozen=True)
class ReportTeam:
    id: int
    name: str
    time_zone: str


def cached_teams(cache: Cache, fallback_zone: str = "UTC") -> list[ReportTeam]:
    """The teams the last sync stored (the user's scope), by name.

    A zone name the tz database does not know (server text) counts as ``fallback_zone``,
    as the sync's buckets do (``ingest.Clocks``).
    """
    items, _ = cache.get_entities("team")
    fallback_zone = fallback_zone if _known(fallback_zone) else "UTC"
    teams = []
    for text in items.values():
        team = json.loads(text)
        zone = team.get("time_zone") or ""
        teams.append(ReportTeam(team["id"], team["name"], zone if _known(zone) else fallback_zone))
    return sorted(teams, key=lambda team: (team.name.casefold(), team.id))


def service_names(cache: Cache) -> dict[int, str]:
    """Service names stored as "service" entities, if anything stored them (else empty)."""
    items, _ = cache.get_entities("service")
    return {int(key): json.loads(text).get("name", "") for key, text in items.items()}


# --- the CSV -------------------------------------------------------------------------------


def report_rows(
    connection: sqlite3.Connection,
    team: TeamLike,
    services: Mapping[int, str],
    start_ts: int,
    end_ts: int,
) -> Iterator[tuple[Any, ...]]:
    """One row per conversation of ``team`` started in [start_ts, end_ts), oldest first,
    in ``REPORT_HEADER`` order. A service the mapping does not name gets an empty name."""
    # Rows leave here ready to write (``write_csv(..., neutralised=True)``): the names are
    # neutralised once each, the customer identifier per row; every other cell is ours
    # (numbers, times, the feed's enumerations, checked by its strict parser).
    stamp = _stamper(team.time_zone)
    names: dict[int | None, str] = {None: "", **{k: neutralise(v) for k, v in services.items()}}
    name = neutralise(team.name)
    for (
        number, _seq, tenant, team_id, service, agent, kind, direction, direct,
        started, answered, ended, outcome, wait, duration, voicemail, customer,
    ) in reports.conversations(connection, team.id, start_ts, end_ts):  # fmt: skip
        started_local, started_utc = stamp(started)
        answered_local, answered_utc = ("", "") if answered is None else stamp(answered)
        ended_local, ended_utc = stamp(ended)
        # Empty strings rather than None: write_csv passes plain text straight through.
        yield (
            number, tenant, team_id, name,
            "" if service is None else service, names.get(service, ""),
            "" if agent is None else agent, kind, direction, _BOOL[direct],
            started_local, answered_local, ended_local, started_utc, answered_utc, ended_utc,
            outcome, wait, duration, _BOOL[voicemail], neutralise(customer),
        )  # fmt: skip


_MINUTES_KEPT = 4096  # rows come in time order: old minutes are not needed again
_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))
_SECONDS_UTC = tuple(f"{n:02d}Z" for n in range(60))


def _stamper(time_zone: str) -> Callable[[int], tuple[str, str]]:
    """A function: epoch seconds -> (local ISO 8601 with offset, UTC ISO 8601).

    ``datetime`` per value would cost more than the rest of the row. So the text up to the
    minute is made once per UTC minute (from a text per hour) and only the seconds are
    appended. A UTC minute has one offset: zones change offset on quarter hours (as
    ``LocalClock`` relies on), so the local text is exact, daylight saving and half-hour
    zones included.
    """
    clock = LocalClock(time_zone)
    seconds_with: dict[int, tuple[str, ...]] = {}  # offset -> "SS+HH:MM" for SS in 0..59
    hours: dict[int, str] = {}  # hour since the epoch (local or UTC) -> "YYYY-MM-DDTHH:"
    minutes: dict[int, tuple[str, tuple[str, ...], str]] = {}

    def hour_text(hour: int) -> str:
        text = hours.get(hour)
        if text is None:
            if len(hours) >= _MINUTES_KEPT:
                hours.clear()
            text = hours[hour] = datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y-%m-%dT%H:")
        return text

    def describe(minute: int) -> tuple[str, tuple[str, ...], str]:
        if len(minutes) >= _MINUTES_KEPT:
            minutes.clear()
        offset = clock.offset(minute * 60)
        seconds = seconds_with.get(offset)
        if seconds is None:
            suffix = offset_text(offset)
            seconds = seconds_with[offset] = tuple(f"{n:02d}{suffix}" for n in range(60))
        local_hour, local_minute = divmod(minute + offset // 60, 60)
        utc_hour, utc_minute = divmod(minute, 60)
        entry = minutes[minute] = (
            f"{hour_text(local_hour)}{_TWO_DIGITS[local_minute]}:",
            seconds,
            f"{hour_text(utc_hour)}{_TWO_DIGITS[utc_minute]}:",
        )
        return entry

    def stamp(ts: int) -> tuple[str, str]:
        minute, second = divmod(ts, 60)
        local, seconds, utc = minutes.get(minute) or describe(minute)
        return local + seconds[second], utc + _SECONDS_UTC[second]

    return stamp


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
    with _reader(cache) as connection:
        names = service_names(cache) if services is None else services
        rows = report_rows(connection, team, names, lo, hi)
        return write_csv(path, REPORT_HEADER, rows, progress=progress, neutralised=True)


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
    with _reader(cache) as connection:
        names = service_names(cache) if services is None else services
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


@contextlib.contextmanager
def _reader(cache: Cache) -> Iterator[sqlite3.Connection]:
    """A connection of the export's own to the cache file.

    The cache's shared connection is lent under a lock (``Cache.read``): holding it for
    the seconds a million rows take would stall the page's reports and the sync. In WAL
    mode this reader sees one consistent state while the sync goes on writing.
    """
    from stratus_tui.cache.store import BUSY_TIMEOUT, CacheError

    try:
        connection = sqlite3.connect(
            f"{cache.path.resolve().as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT
        )
    except sqlite3.Error as error:
        raise CacheError(f"the local cache could not be read: {error}") from None
    try:
        connection.execute("PRAGMA query_only = ON")
        yield connection
    except sqlite3.Error as error:
        raise CacheError(f"the local cache could not be read: {error}") from None
    finally:
        connection.close()


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


def _known(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True
