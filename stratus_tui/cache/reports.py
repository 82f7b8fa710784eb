"""The reporting figures of one team, read from the cache (definitions: docs/reporting.md).

Plain functions over a ``sqlite3.Connection`` to a cache file, returning frozen dataclasses:
no Textual, no peewee. Every figure is a query on the hourly ``rollup`` table (rollup.py),
never a scan of raw history; only ``lost_calls`` and ``rows_for_csv`` (the PDF and the CSV
export) read the ``conversation`` table, through its (team_id, started_at) index.

Time: a range is given in the team's time zone, as naive local wall times (``fold=1`` picks
the second of a repeated hour) or as aware datetimes (their instant counts). A bucket belongs
to the range when the instant its local hour starts lies in [start, end), so a range covers
the local hours starting in it: [start rounded up to a local hour, end rounded up to one).
Results carry that covered interval and their hours as aware datetimes in the team's zone.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from stratus_tui.cache.rollup import HOUR, LocalClock

Kind = Literal["call", "im"]
KINDS: tuple[Kind, ...] = ("call", "im")
HEATMAP_WEEKS = range(1, 5)
RANGE_NAMES = ("today", "yesterday", "last 7 days", "last 4 weeks")

# The raw rows' column order: api.models.CONVERSATION_FIELDS (not imported: it needs pydantic;
# tests/test_reports.py keeps the two equal).
CONVERSATION_COLUMNS = (
    "id", "seq", "tenant_id", "team_id", "service_id", "agent_id", "kind", "direction",
    "direct", "started_at", "answered_at", "ended_at", "outcome", "wait_seconds",
    "duration_seconds", "voicemail", "customer_id",
)  # fmt: skip

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)

# "Accepted" and "lost" in the chart, the heatmap and the overview count inbound conversations
# via a service (direction = 'inbound' AND direct = 0). Each query reads one team's buckets in
# one range of ``hour``: a range scan of the rollup's primary key (team_id, hour, ...).
_VOLUME = """
SELECT hour, kind, SUM(accepted), SUM(lost) FROM rollup
WHERE team_id = ? AND hour >= ? AND hour < ? AND direction = 'inbound' AND direct = 0
  AND kind IN ('call', 'im')
GROUP BY hour, kind"""
_OVERVIEW = """
SELECT kind, direction, direct,
       SUM(total), SUM(accepted), SUM(lost), SUM(voicemails), SUM(duration_sum)
FROM rollup WHERE team_id = ? AND hour >= ? AND hour < ?
GROUP BY kind, direction, direct"""
_CALLS = """
SELECT sum(total) FROM rollup WHERE team_id = ? AND hour >= ? AND hour < ? AND kind = 'call'"""
_HEATMAP = """
SELECT weekday, local_hour, SUM(accepted), SUM(lost) FROM rollup
WHERE team_id = ? AND hour >= ? AND hour < ? AND kind = ?
  AND direction = 'inbound' AND direct = 0
GROUP BY weekday, local_hour"""
# Raw rows in CONVERSATION_COLUMNS order, through the (team_id, started_at) index.
_RAW = """
SELECT id, seq, tenant_id, team_id, service_id, agent_id, kind, direction, direct, started_at,
       answered_at, ended_at, outcome, wait_seconds, duration_seconds, voicemail, customer_id
FROM conversation WHERE team_id = ? AND started_at >= ? AND started_at < ?"""
# The CSV export's rows: what it needs of a conversation in as few values as possible, since
# sqlite3 makes a Python object of each (about 0.15 us apiece: more than the formatting of a
# cell). The team is the query's own; kind, direction, direct, outcome and voicemail (the
# feed's enumerations and booleans) are packed into one number of FLAG_* bits; NULL is ''.
FLAG_IM, FLAG_OUTBOUND, FLAG_DIRECT, FLAG_LOST, FLAG_VOICEMAIL = 1, 2, 4, 8, 16
_FOR_CSV = """
SELECT id, tenant_id, ifnull(service_id, ''), ifnull(agent_id, ''),
       (kind = 'im') + 2 * (direction = 'outbound') + 4 * (direct != 0)
       + 8 * (outcome = 'lost') + 16 * (voicemail != 0),
       started_at, answered_at, ended_at, wait_seconds, duration_seconds, customer_id
FROM conversation WHERE team_id = ? AND started_at >= ? AND started_at < ?
ORDER BY started_at, id"""
_NTH_START = """
SELECT started_at FROM conversation WHERE team_id = ? AND started_at >= ? AND started_at < ?
ORDER BY started_at LIMIT 1 OFFSET ?"""
_COUNT = """
SELECT count(*) FROM conversation WHERE team_id = ? AND started_at >= ? AND started_at < ?"""
_LOST_CALLS = (
    _RAW + " AND kind = 'call' AND direction = 'inbound' AND direct = 0 AND outcome = 'lost'"
    " ORDER BY started_at, id"
)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class HourVolume:
    """One local hour of the call-volume chart (inbound service conversations)."""

    hour: datetime  # aware, team local; in the repeated hour of October, fold tells them apart
    accepted_calls: int
    lost_calls: int
    accepted_ims: int
    lost_ims: int

    @property
    def loss_rate(self) -> float | None:
        """Lost calls / (accepted + lost calls); None for an hour without such calls."""
        return _share(self.lost_calls, self.accepted_calls + self.lost_calls)


@dataclass(frozen=True)
class Overview:
    """The overview figures over [start, end), the local hours actually covered."""

    start: datetime
    end: datetime
    accepted_calls: int  # inbound service calls answered
    lost_calls: int  # inbound service calls not answered
    accepted_ims: int
    lost_ims: int
    total_calls: int  # every call: any direction, direct or not, any outcome
    total_ims: int
    direct_inbound_calls: int  # direct = 1, any outcome
    direct_outbound_calls: int
    avg_call_duration: float | None  # seconds, over every accepted call; None if none
    avg_im_duration: float | None
    voicemails: int  # conversations with a voicemail left, any kind


@dataclass(frozen=True)
class HeatCell:
    accepted: int
    lost: int

    @property
    def share_lost(self) -> float | None:
        """0.0 all accepted (green) .. 1.0 all lost (red); None: no conversation (neutral)."""
        return _share(self.lost, self.accepted + self.lost)


@dataclass(frozen=True)
class Heatmap:
    """Inbound service conversations of one kind per weekday (Monday first) and local hour."""

    weeks: int
    kind: Kind
    start: datetime
    end: datetime
    cells: tuple[tuple[HeatCell, ...], ...]  # cells[weekday][hour], 7 x 24


# --- time ----------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _clock(time_zone: str) -> LocalClock:
    return LocalClock(time_zone)


def local(value: datetime, time_zone: str) -> datetime:
    """``value`` as an aware datetime in ``time_zone`` (naive: already local wall time)."""
    zone = ZoneInfo(time_zone)
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)


def instant(value: datetime, time_zone: str) -> int:
    """Epoch seconds of ``value`` (naive: local wall time in ``time_zone``), rounded up."""
    return -((_EPOCH - local(value, time_zone)) // _SECOND)


def _next_hour(clock: LocalClock, hour: int) -> int:
    following = clock.hour_start(hour + HOUR)
    return following if following > hour else hour + HOUR


def _ceil_hour(clock: LocalClock, ts: int) -> int:
    """The first instant at or after ``ts`` where a local hour starts."""
    hour = clock.hour_start(ts)
    while hour < ts:
        hour = _next_hour(clock, hour)
    return hour


def _span(time_zone: str, start: datetime, end: datetime) -> tuple[int, int, int, int]:
    """(start, end) as instants and the covered interval (both rounded up to local hours)."""
    clock = _clock(time_zone)
    lo, hi = instant(start, time_zone), instant(end, time_zone)
    return lo, hi, _ceil_hour(clock, lo), _ceil_hour(clock, max(lo, hi))


def _at(ts: int, time_zone: str) -> datetime:
    return datetime.fromtimestamp(ts, ZoneInfo(time_zone))


def _midnight(day: date, time_zone: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(time_zone))


def ranges(now: datetime, time_zone: str) -> dict[str, tuple[datetime, datetime]]:
    """The reporting filter's ranges in team local time (aware datetimes, end exclusive).

    "today" is [00:00 today, now); "yesterday" the whole local day before (23 or 25 hours on
    a change day); "last 7 days" and "last 4 weeks" are the 7 and 28 local days ending with
    today, i.e. [00:00 six / 27 days ago, now).
    """
    now = local(now, time_zone)
    today = now.date()
    midnight = _midnight(today, time_zone)
    return {
        "today": (midnight, now),
        "yesterday": (_midnight(today - timedelta(days=1), time_zone), midnight),
        "last 7 days": (_midnight(today - timedelta(days=6), time_zone), now),
        "last 4 weeks": (_midnight(today - timedelta(days=27), time_zone), now),
    }


def custom_range(first: date, last: date, time_zone: str) -> tuple[datetime, datetime]:
    """The local days ``first`` to ``last`` (both included): [00:00 first, 00:00 after last)."""
    return _midnight(first, time_zone), _midnight(last + timedelta(days=1), time_zone)


def csv_window(now: datetime, time_zone: str | None = None) -> tuple[datetime, datetime]:
    """The CSV export's last 4 months: [1st of the month three months back, 00:00; now).

    Local to ``time_zone`` when given, else to ``now``'s own zone (22 Nov -> 1 Aug 00:00).
    """
    if time_zone is not None:
        now = local(now, time_zone)
    months = now.year * 12 + now.month - 1 - 3
    return datetime(months // 12, months % 12 + 1, 1, tzinfo=now.tzinfo), now


# --- figures from the rollup ---------------------------------------------------------------


def call_count(db: sqlite3.Connection, team_id: int, time_zone: str, now: datetime) -> int:
    """The team's calls of the CSV window (``csv_window``): what the team list shows as its
    last 4 months, the same window as the CSV export (whose rows add the IMs)."""
    start, end = csv_window(now, time_zone)
    lo, hi = instant(start, time_zone), instant(end, time_zone)
    row = db.execute(_CALLS, (team_id, lo, hi)).fetchone()
    return int(row[0] or 0)


def call_volume(
    db: sqlite3.Connection, team_id: int, time_zone: str, start: datetime, end: datetime
) -> list[HourVolume]:
    """Every local hour starting in [start, end), zero-filled, oldest first.

    A day has 23 or 24 or 25 hours: in October the repeated 02:00 comes twice (two entries,
    ``fold`` 0 then 1), in March 02:00 does not exist.
    """
    lo, hi, first, _ = _span(time_zone, start, end)
    counts: dict[int, list[int]] = {}
    clock = _clock(time_zone)
    hour = first
    while hour < hi:
        counts[hour] = [0, 0, 0, 0]
        hour = _next_hour(clock, hour)
    for hour, kind, accepted, lost in db.execute(_VOLUME, (team_id, lo, hi)):
        slot = counts.get(hour)
        if slot is None:  # not where the clock puts an hour: never drop data, show it
            slot = counts[hour] = [0, 0, 0, 0]
        column = 0 if kind == "call" else 2
        slot[column], slot[column + 1] = accepted, lost
    return [HourVolume(_at(hour, time_zone), *counts[hour]) for hour in sorted(counts)]


def overview(
    db: sqlite3.Connection, team_id: int, time_zone: str, start: datetime, end: datetime
) -> Overview:
    """The overview figures over the local hours starting in [start, end)."""
    lo, hi, first, last = _span(time_zone, start, end)
    f: Counter[str] = Counter()
    for kind, direction, direct, total, accepted, lost, voicemails, duration in db.execute(
        _OVERVIEW, (team_id, lo, hi)
    ):
        f["voicemails"] += voicemails
        if kind not in KINDS:
            continue
        f[f"total_{kind}"] += total
        f[f"answered_{kind}"] += accepted
        f[f"duration_{kind}"] += duration
        if direction == "inbound" and not direct:
            f[f"accepted_{kind}"] += accepted
            f[f"lost_{kind}"] += lost
        elif kind == "call" and direct:
            f["direct_in" if direction == "inbound" else "direct_out"] += total
    return Overview(
        start=_at(first, time_zone),
        end=_at(last, time_zone),
        accepted_calls=f["accepted_call"],
        lost_calls=f["lost_call"],
        accepted_ims=f["accepted_im"],
        lost_ims=f["lost_im"],
        total_calls=f["total_call"],
        total_ims=f["total_im"],
        direct_inbound_calls=f["direct_in"],
        direct_outbound_calls=f["direct_out"],
        avg_call_duration=_share(f["duration_call"], f["answered_call"]),
        avg_im_duration=_share(f["duration_im"], f["answered_im"]),
        voicemails=f["voicemails"],
    )


def heatmap_range(now: datetime, time_zone: str, weeks: int) -> tuple[datetime, datetime]:
    """The heatmap's window: the 7 x ``weeks`` local days ending with today, until now.

    [00:00 of the day 7 x weeks - 1 days before today, now): every weekday occurs ``weeks``
    times, today's only up to now (``weeks`` = 1 is the "last 7 days" range).
    """
    if weeks not in HEATMAP_WEEKS:
        raise ValueError(f"weeks must be 1 to 4, not {weeks!r}")
    now = local(now, time_zone)
    return _midnight(now.date() - timedelta(days=7 * weeks - 1), time_zone), now


def heatmap(
    db: sqlite3.Connection, team_id: int, time_zone: str, *, weeks: int, kind: Kind, now: datetime
) -> Heatmap:
    """Accepted and lost inbound service conversations per weekday and local hour."""
    if kind not in KINDS:
        raise ValueError(f"kind must be 'call' or 'im', not {kind!r}")
    start, end = heatmap_range(now, time_zone, weeks)
    lo, hi, first, last = _span(time_zone, start, end)
    grid = [[(0, 0)] * 24 for _ in range(7)]
    for weekday, hour, accepted, lost in db.execute(_HEATMAP, (team_id, lo, hi, kind)):
        grid[weekday][hour] = (accepted, lost)
    return Heatmap(
        weeks=weeks,
        kind=kind,
        start=_at(first, time_zone),
        end=_at(last, time_zone),
        cells=tuple(tuple(HeatCell(a, lost) for a, lost in day) for day in grid),
    )


# --- raw rows (the lost-calls PDF and the CSV export) ----------------------------------------


def lost_calls(
    db: sqlite3.Connection, team_id: int, start_ts: int, end_ts: int
) -> Iterator[tuple[Any, ...]]:
    """Lost calls (inbound, via a service) started in [start_ts, end_ts), oldest first.

    Rows in ``CONVERSATION_COLUMNS`` order, streamed from a cursor.
    """
    return db.execute(_LOST_CALLS, (team_id, start_ts, end_ts))


def rows_for_csv(
    db: sqlite3.Connection, team_id: int, start_ts: int, end_ts: int
) -> Iterator[tuple[Any, ...]]:
    """Every conversation of the team started in [start_ts, end_ts), oldest first (then by
    id), as (id, tenant_id, service_id or '', agent_id or '', FLAG_* bits, started_at,
    answered_at or None, ended_at, wait_seconds, duration_seconds, customer_id)."""
    return db.execute(_FOR_CSV, (team_id, start_ts, end_ts))


def conversation_count(db: sqlite3.Connection, team_id: int, start_ts: int, end_ts: int) -> int:
    """How many conversations of the team started in [start_ts, end_ts) (index only)."""
    return int(db.execute(_COUNT, (team_id, start_ts, end_ts)).fetchone()[0])


def cut_starts(
    db: sqlite3.Connection, team_id: int, start_ts: int, end_ts: int, count: int, parts: int
) -> list[int]:
    """Start times that cut [start_ts, end_ts), which holds ``count`` conversations of the
    team, into ``parts`` ranges of about as many each: ascending, inside the range. Rows
    with the same start stay together, so there may be fewer cuts than ``parts - 1``."""
    cuts: list[int] = []
    for part in range(1, parts):
        row = db.execute(_NTH_START, (team_id, start_ts, end_ts, count * part // parts)).fetchone()
        if row is not None and row[0] > (cuts[-1] if cuts else start_ts):
            cuts.append(int(row[0]))
    return cuts
