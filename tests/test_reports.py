"""Reporting queries (stratus_tui/cache/reports.py) against brute force over the raw rows.

A cache file is filled the way a sync fills it (``ingest``: the raw rows into
``conversation``, their ``rollup.contributions`` upserted into ``rollup``), then every
figure is compared with the same figure computed straight from the raw rows in Python,
with zoneinfo per row and none of the code under test, for many random ranges: mid-day,
mid-hour, across daylight-saving changes, naive or aware, in zones with whole, half and
three-quarter hour offsets. DST specifics are in tests/test_reports_dst.py.
"""

from __future__ import annotations

import math
import random
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from stratus_tui.cache import reports, rollup, schema
from stratus_tui.cache.reports import HeatCell

ZONES = (
    "Europe/Zurich",
    "America/New_York",
    "Asia/Kolkata",  # +05:30
    "America/St_Johns",  # -03:30 with daylight saving
    "Australia/Adelaide",  # +09:30 / +10:30, southern summer time
    "Asia/Kathmandu",  # +05:45
    "UTC",
)
SPAN_START = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
SPAN_END = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
INSERT_CONVERSATION = (
    f"INSERT INTO conversation ({', '.join(reports.CONVERSATION_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(reports.CONVERSATION_COLUMNS))})"
)
Row = tuple[Any, ...]


# --- the cache, filled as a sync fills it -----------------------------------------------------


def open_cache(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    for statement in schema.TABLES:
        db.execute(statement)
    return db


def ingest(db: sqlite3.Connection, rows: Sequence[Row], zones: dict[int, str]) -> None:
    """What a sync does with a page of new conversations (CONVERSATION_FIELDS order)."""
    clocks = {team: rollup.LocalClock(zone) for team, zone in zones.items()}
    fallback = rollup.LocalClock("UTC")
    db.executemany(INSERT_CONVERSATION, rows)
    buckets = rollup.contributions(rows, clocks, fallback)
    db.executemany(
        schema.UPSERT_ROLLUP,
        [
            (*key, *clocks.get(key[0], fallback).describe(key[1]), *counts)
            for key, counts in buckets.items()
        ],
    )
    db.commit()


def conversation(
    number: int,
    team: int,
    started: int,
    *,
    kind: str = "call",
    direction: str = "inbound",
    direct: int = 0,
    outcome: str = "accepted",
    duration: int = 60,
    voicemail: int = 0,
    wait: int = 5,
) -> Row:
    answered = started + wait if outcome == "accepted" else None
    ended = started + wait + duration
    return (
        number, number, 1, team, None if direct else 10 + team, None, kind, direction, direct,
        started, answered, ended, outcome, wait, duration, voicemail, f"+4179{number:07d}",
    )  # fmt: skip


def transitions(zone: str, start: int = SPAN_START, end: int = SPAN_END) -> list[int]:
    """Instants where ``zone``'s UTC offset changes (found to the quarter hour)."""
    tz, found = ZoneInfo(zone), []
    previous = datetime.fromtimestamp(start, tz).utcoffset()
    for ts in range(start, end, 900):
        offset = datetime.fromtimestamp(ts, tz).utcoffset()
        if offset != previous:
            found.append(ts)
            previous = offset
    return found


@dataclass
class Cache:
    db: sqlite3.Connection
    zones: dict[int, str]
    rows: list[Row]
    hot: dict[int, list[int]] = field(default_factory=dict)  # team -> its DST changes


def random_cache(path: Path, seed: int, count: int = 4000) -> Cache:
    rnd = random.Random(seed)
    teams = [1, 2, 3, *rnd.sample(range(4, 40), 3)]
    zones = dict(zip(teams, ("Europe/Zurich", "America/New_York", "Asia/Kolkata"), strict=False))
    for team in teams[3:]:
        zones[team] = rnd.choice(ZONES)
    zones[99] = "Europe/Zurich"  # a team without any data
    cache = Cache(open_cache(path), zones, [])
    cache.hot = {team: transitions(zone) for team, zone in zones.items()}
    for number in range(1, count + 1):
        team = rnd.choice(teams)
        if cache.hot[team] and rnd.random() < 0.35:  # crowd the daylight-saving changes
            started = rnd.choice(cache.hot[team]) + rnd.randint(-36 * 3600, 36 * 3600)
        else:
            started = rnd.randrange(SPAN_START, SPAN_END)
        cache.rows.append(
            conversation(
                number,
                team,
                started,
                kind=rnd.choice(("call", "call", "call", "im")),
                direction=rnd.choice(("inbound", "inbound", "outbound")),
                direct=int(rnd.random() < 0.25),
                outcome="lost" if rnd.random() < 0.3 else "accepted",
                duration=rnd.randint(0, 3600),
                voicemail=int(rnd.random() < 0.1),
                wait=rnd.randint(0, 300),
            )
        )
    for page in range(0, count, 700):  # several pages: buckets are added to, not replaced
        ingest(cache.db, cache.rows[page : page + 700], zones)
    return cache


@pytest.fixture(scope="module", params=[1, 2, 3])
def cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Cache:
    folder = tmp_path_factory.mktemp(f"reports-{request.param}")
    return random_cache(folder / "cache.sqlite3", request.param)


# --- brute force: straight from the raw rows, zoneinfo per row -----------------------------


def wall(ts: int, zone: str) -> datetime:
    return datetime.fromtimestamp(ts, ZoneInfo(zone))


def bucket_of(ts: int, zone: str) -> int:
    """The instant the local hour of ``ts`` started."""
    moment = wall(ts, zone)
    return ts - moment.minute * 60 - moment.second


def epoch(value: datetime, zone: str) -> int:
    aware = value.replace(tzinfo=ZoneInfo(zone)) if value.tzinfo is None else value
    return math.ceil(aware.timestamp())


def local_hours(zone: str, lo: int, hi: int) -> list[int]:
    """Every instant in [lo, hi) where a local hour starts (all test zones: quarter hours)."""
    first = -(-lo // 900) * 900
    return [ts for ts in range(first, hi, 900) if wall(ts, zone).minute == 0]


def ceil_hour(zone: str, ts: int) -> int:
    return local_hours(zone, ts, ts + 2 * 3600)[0]


def team_rows(cache: Cache, team: int, lo: int, hi: int) -> Iterator[Row]:
    zone = cache.zones[team]
    for row in cache.rows:
        if row[3] == team and lo <= bucket_of(row[9], zone) < hi:
            yield row


def service_inbound(row: Row) -> bool:
    return bool(row[7] == "inbound" and row[8] == 0)


def expected_volume(cache: Cache, team: int, lo: int, hi: int) -> list[tuple[int, ...]]:
    zone = cache.zones[team]
    hours = {ts: [0, 0, 0, 0] for ts in local_hours(zone, lo, hi)}
    for row in team_rows(cache, team, lo, hi):
        if service_inbound(row):
            column = (0 if row[6] == "call" else 2) + (row[12] == "lost")
            hours[bucket_of(row[9], zone)][column] += 1
    return [(ts, *counts) for ts, counts in sorted(hours.items())]


def expected_overview(cache: Cache, team: int, lo: int, hi: int) -> dict[str, Any]:
    rows = list(team_rows(cache, team, lo, hi))

    def count(**where: Any) -> int:
        return sum(all(test(row) for test in where.values()) for row in rows)

    def avg(kind: str) -> float | None:
        answered = [r[14] for r in rows if r[6] == kind and r[12] == "accepted"]
        return sum(answered) / len(answered) if answered else None

    def is_kind(kind: str) -> Any:
        return lambda row: row[6] == kind

    def outcome(value: str) -> Any:
        return lambda row: row[12] == value

    def direct(direction: str) -> Any:
        return lambda row: row[8] == 1 and row[7] == direction

    zone = cache.zones[team]
    return {
        "start": ceil_hour(zone, lo),
        "end": ceil_hour(zone, max(lo, hi)),
        "accepted_calls": count(k=is_kind("call"), s=service_inbound, o=outcome("accepted")),
        "lost_calls": count(k=is_kind("call"), s=service_inbound, o=outcome("lost")),
        "accepted_ims": count(k=is_kind("im"), s=service_inbound, o=outcome("accepted")),
        "lost_ims": count(k=is_kind("im"), s=service_inbound, o=outcome("lost")),
        "total_calls": count(k=is_kind("call")),
        "total_ims": count(k=is_kind("im")),
        "direct_inbound_calls": count(k=is_kind("call"), d=direct("inbound")),
        "direct_outbound_calls": count(k=is_kind("call"), d=direct("outbound")),
        "avg_call_duration": avg("call"),
        "avg_im_duration": avg("im"),
        "voicemails": count(v=lambda row: row[15] == 1),
    }


def actual_overview(result: reports.Overview) -> dict[str, Any]:
    figures = dict(vars(result))
    figures["start"], figures["end"] = int(result.start.timestamp()), int(result.end.timestamp())
    return figures


def expected_heatmap(
    cache: Cache, team: int, kind: str, lo: int, hi: int
) -> list[list[tuple[int, int]]]:
    zone = cache.zones[team]
    cells = [[(0, 0)] * 24 for _ in range(7)]
    for row in team_rows(cache, team, lo, hi):
        if row[6] == kind and service_inbound(row):
            moment = wall(row[9], zone)
            accepted, lost = cells[moment.weekday()][moment.hour]
            lost_one = row[12] == "lost"
            cells[moment.weekday()][moment.hour] = (accepted + (not lost_one), lost + lost_one)
    return cells


# --- random ranges -------------------------------------------------------------------------


def random_local(rnd: random.Random, cache: Cache, team: int) -> datetime:
    """A naive local wall time in the data's span, often near a daylight-saving change."""
    zone = cache.zones[team]
    if cache.hot[team] and rnd.random() < 0.4:
        moment = wall(rnd.choice(cache.hot[team]) + rnd.randint(-3 * 86400, 3 * 86400), zone)
    else:
        moment = wall(rnd.randrange(SPAN_START + 86400, SPAN_END - 86400), zone)
    moment = moment.replace(tzinfo=None, second=0, microsecond=0)
    if rnd.random() < 0.5:
        moment = moment.replace(minute=0)
        if rnd.random() < 0.5:
            moment = moment.replace(hour=0)
    return moment.replace(fold=rnd.randint(0, 1))


def random_range(rnd: random.Random, cache: Cache, team: int) -> tuple[datetime, datetime]:
    start = random_local(rnd, cache, team)
    length = rnd.choice(
        (
            timedelta(minutes=rnd.randint(1, 90)),
            timedelta(hours=rnd.randint(1, 30)),
            timedelta(days=rnd.randint(1, 35)),
            timedelta(days=1),
            timedelta(days=7),
        )
    )
    end = start + length
    if rnd.random() < 0.3:  # aware values: their instant counts, whatever their zone
        zone, other = ZoneInfo(cache.zones[team]), ZoneInfo(rnd.choice(ZONES))
        start = start.replace(tzinfo=zone).astimezone(other)
        end = end.replace(tzinfo=zone).astimezone(other)
    return start, end


def teams_of(cache: Cache) -> list[int]:
    return sorted(cache.zones)


@pytest.mark.parametrize("round_", range(4))
def test_call_volume_matches_brute_force(cache: Cache, round_: int) -> None:
    rnd = random.Random(round_)
    for _ in range(30):
        team = rnd.choice(teams_of(cache))
        zone = cache.zones[team]
        start, end = random_range(rnd, cache, team)
        result = reports.call_volume(cache.db, team, zone, start, end)
        actual = [
            (int(v.hour.timestamp()), v.accepted_calls, v.lost_calls, v.accepted_ims, v.lost_ims)
            for v in result
        ]
        expected = expected_volume(cache, team, epoch(start, zone), epoch(end, zone))
        assert actual == expected, (team, zone, start, end)
        for volume in result:
            assert volume.hour.tzinfo == ZoneInfo(zone)
            assert volume.hour.minute == 0  # a local hour start, in local wall time
            calls = volume.accepted_calls + volume.lost_calls
            assert volume.loss_rate == (volume.lost_calls / calls if calls else None)


@pytest.mark.parametrize("round_", range(4))
def test_overview_matches_brute_force(cache: Cache, round_: int) -> None:
    rnd = random.Random(100 + round_)
    for _ in range(30):
        team = rnd.choice(teams_of(cache))
        zone = cache.zones[team]
        start, end = random_range(rnd, cache, team)
        result = reports.overview(cache.db, team, zone, start, end)
        expected = expected_overview(cache, team, epoch(start, zone), epoch(end, zone))
        assert actual_overview(result) == expected, (team, zone, start, end)
        assert result.start.tzinfo == result.end.tzinfo == ZoneInfo(zone)


@pytest.mark.parametrize("round_", range(3))
def test_heatmap_matches_brute_force(cache: Cache, round_: int) -> None:
    rnd = random.Random(200 + round_)
    for _ in range(16):
        team = rnd.choice(teams_of(cache))
        zone = cache.zones[team]
        now = random_local(rnd, cache, team)
        if rnd.random() < 0.5:
            now = now.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
        weeks, kind = rnd.randint(1, 4), rnd.choice(reports.KINDS)
        result = reports.heatmap(cache.db, team, zone, weeks=weeks, kind=kind, now=now)
        today = (now.astimezone(ZoneInfo(zone)) if now.tzinfo else now).date()
        first_day = datetime.combine(today - timedelta(days=7 * weeks - 1), datetime.min.time())
        lo, hi = epoch(first_day, zone), epoch(now, zone)
        cells = [[(c.accepted, c.lost) for c in day] for day in result.cells]
        assert cells == expected_heatmap(cache, team, kind, lo, hi), (team, zone, now, weeks)
        assert (result.weeks, result.kind) == (weeks, kind)
        assert int(result.start.timestamp()) == lo
        assert int(result.end.timestamp()) == ceil_hour(zone, hi)
        assert result.start.time() == datetime.min.time()  # local midnight


def for_csv(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A raw row as ``rows_for_csv`` gives it: team left out, enumerations as FLAG_* bits."""
    (number, _seq, tenant, _team, service, agent, kind, direction, direct, started,
     answered, ended, outcome, wait, duration, voicemail, customer) = row  # fmt: skip
    flags = (
        (reports.FLAG_IM if kind == "im" else 0)
        | (reports.FLAG_OUTBOUND if direction == "outbound" else 0)
        | (reports.FLAG_DIRECT if direct else 0)
        | (reports.FLAG_LOST if outcome == "lost" else 0)
        | (reports.FLAG_VOICEMAIL if voicemail else 0)
    )
    return (number, tenant, "" if service is None else service, "" if agent is None else agent,
            flags, started, answered, ended, wait, duration, customer)  # fmt: skip


def test_raw_rows_match_brute_force(cache: Cache) -> None:
    rnd = random.Random(300)
    for _ in range(30):
        team = rnd.choice(teams_of(cache))
        lo = rnd.randrange(SPAN_START, SPAN_END)
        hi = lo + rnd.choice((3600, 86400, 30 * 86400, 400 * 86400))
        mine = sorted(
            (row for row in cache.rows if row[3] == team and lo <= row[9] < hi),
            key=lambda row: (row[9], row[0]),
        )
        assert list(reports.rows_for_csv(cache.db, team, lo, hi)) == [for_csv(r) for r in mine]
        assert reports.conversation_count(cache.db, team, lo, hi) == len(mine)
        parts = rnd.randint(2, 5)
        cuts = reports.cut_starts(cache.db, team, lo, hi, len(mine), parts)
        assert cuts == sorted(set(cuts)) and all(lo < cut < hi for cut in cuts)
        assert len(cuts) <= parts - 1
        bounds = [lo, *cuts, hi]
        pieces = [list(reports.rows_for_csv(cache.db, team, a, b)) for a, b in pairwise(bounds)]
        assert [row for piece in pieces for row in piece] == [for_csv(r) for r in mine]
        lost = [row for row in mine if row[6:9] == ("call", "inbound", 0) and row[12] == "lost"]
        assert list(reports.lost_calls(cache.db, team, lo, hi)) == lost


def test_lost_calls_agree_with_the_overview_over_whole_days(cache: Cache) -> None:
    for team in (1, 2, 3):
        zone = cache.zones[team]
        start, end = datetime(2026, 3, 2), datetime(2026, 4, 13)
        figures = reports.overview(cache.db, team, zone, start, end)
        lo, hi = epoch(start, zone), epoch(end, zone)
        assert len(list(reports.lost_calls(cache.db, team, lo, hi))) == figures.lost_calls


def test_figures_come_from_the_rollup_alone(tmp_path: Path) -> None:
    cache = random_cache(tmp_path / "cache.sqlite3", seed=9, count=800)
    start, end, now = datetime(2026, 1, 1), datetime(2026, 12, 1), datetime(2026, 11, 30)

    def figures() -> tuple[Any, ...]:
        return (
            reports.call_volume(cache.db, 1, "Europe/Zurich", start, end),
            reports.overview(cache.db, 2, "America/New_York", start, end),
            reports.heatmap(cache.db, 3, "Asia/Kolkata", weeks=4, kind="call", now=now),
        )

    before = figures()
    cache.db.execute("DELETE FROM conversation")
    assert figures() == before
    assert sum(v.accepted_calls for v in before[0]) > 0


# --- no data -------------------------------------------------------------------------------


def test_no_data_gives_zeros_and_no_averages(tmp_path: Path) -> None:
    db = open_cache(tmp_path / "empty.sqlite3")
    zone = "Europe/Zurich"
    volume = reports.call_volume(db, 5, zone, datetime(2026, 6, 1), datetime(2026, 6, 2))
    assert len(volume) == 24
    assert all(
        v.accepted_calls == v.lost_calls == v.accepted_ims == v.lost_ims == 0 for v in volume
    )
    assert all(v.loss_rate is None for v in volume)
    figures = reports.overview(db, 5, zone, datetime(2026, 6, 1), datetime(2026, 7, 1))
    assert figures.total_calls == figures.accepted_calls == figures.voicemails == 0
    assert figures.avg_call_duration is None and figures.avg_im_duration is None
    assert figures.start == datetime(2026, 6, 1, tzinfo=ZoneInfo(zone))
    heat = reports.heatmap(db, 5, zone, weeks=2, kind="im", now=datetime(2026, 6, 3, 12))
    assert len(heat.cells) == 7 and all(len(day) == 24 for day in heat.cells)
    assert {cell for day in heat.cells for cell in day} == {HeatCell(0, 0)}
    assert heat.cells[0][0].share_lost is None
    assert list(reports.lost_calls(db, 5, 0, 2**40)) == []
    assert list(reports.rows_for_csv(db, 5, 0, 2**40)) == []
    assert reports.conversation_count(db, 5, 0, 2**40) == 0
    assert reports.cut_starts(db, 5, 0, 2**40, 0, 3) == []


def test_a_team_without_data_beside_teams_with_data(cache: Cache) -> None:
    figures = reports.overview(
        cache.db, 99, "Europe/Zurich", datetime(2026, 1, 1), datetime(2027, 1, 1)
    )
    assert actual_overview(figures) | {"start": 0, "end": 0} == {
        **dict.fromkeys(vars(figures), 0),
        "avg_call_duration": None,
        "avg_im_duration": None,
    }


def test_an_empty_or_reversed_range_is_empty_not_an_error(cache: Cache) -> None:
    zone = cache.zones[1]
    assert (
        reports.call_volume(
            cache.db, 1, zone, datetime(2026, 5, 3, 10, 10), datetime(2026, 5, 3, 10, 50)
        )
        == []
    )
    assert reports.call_volume(cache.db, 1, zone, datetime(2026, 5, 4), datetime(2026, 5, 3)) == []
    figures = reports.overview(cache.db, 1, zone, datetime(2026, 5, 4), datetime(2026, 5, 3))
    assert figures.total_calls == 0 and figures.start == figures.end


# --- shares, arguments, columns ------------------------------------------------------------


def test_share_lost_and_loss_rate() -> None:
    assert HeatCell(3, 1).share_lost == 0.25
    assert HeatCell(0, 2).share_lost == 1.0
    assert HeatCell(4, 0).share_lost == 0.0
    hour = datetime(2026, 1, 1, tzinfo=UTC)
    assert reports.HourVolume(hour, 1, 3, 0, 9).loss_rate == 0.75
    assert reports.HourVolume(hour, 0, 0, 5, 5).loss_rate is None


def test_heatmap_refuses_other_weeks_and_kinds(tmp_path: Path) -> None:
    db = open_cache(tmp_path / "empty.sqlite3")
    now = datetime(2026, 6, 3, 12)
    for weeks in (0, 5):
        with pytest.raises(ValueError, match="weeks"):
            reports.heatmap(db, 1, "UTC", weeks=weeks, kind="call", now=now)
    with pytest.raises(ValueError, match="kind"):
        reports.heatmap(db, 1, "UTC", weeks=1, kind="mail", now=now)  # type: ignore[arg-type]


def test_raw_columns_are_the_feed_fields() -> None:
    from stratus_tui.api.models import CONVERSATION_FIELDS

    assert reports.CONVERSATION_COLUMNS == CONVERSATION_FIELDS
    assert CONVERSATION_FIELDS.index("team_id") == rollup.TEAM


@pytest.mark.parametrize(
    ("today", "first"),
    [
        (datetime(2026, 11, 22, 15, 4), datetime(2026, 8, 1)),  # DOMAIN.md's example
        (datetime(2027, 1, 15, 9), datetime(2026, 10, 1)),
        (datetime(2027, 2, 28, 23, 59), datetime(2026, 11, 1)),
        (datetime(2028, 2, 29, 12), datetime(2027, 11, 1)),
        (datetime(2027, 3, 31, 8), datetime(2026, 12, 1)),
        (datetime(2027, 3, 1, 0, 0), datetime(2026, 12, 1)),  # the 1st, at midnight
        (datetime(2026, 4, 1, 0, 30), datetime(2026, 1, 1)),
        (datetime(2026, 12, 31, 23, 59), datetime(2026, 9, 1)),
        (datetime(2026, 6, 1, 10), datetime(2026, 3, 1)),
    ],
)
def test_csv_window_is_the_last_quarter_plus_the_running_month(
    today: datetime, first: datetime
) -> None:
    zone = ZoneInfo("Europe/Zurich")
    now = today.replace(tzinfo=zone)
    start, end = reports.csv_window(now)
    assert (start, end) == (first.replace(tzinfo=zone), now)
    assert (
        start.utcoffset() == datetime.combine(first.date(), datetime.min.time(), zone).utcoffset()
    )
    assert reports.csv_window(today) == (first, today)  # naive in, naive out


def test_csv_window_in_the_team_zone() -> None:
    # 30 Nov 23:30 UTC is already 1 Dec in Kolkata: the window starts on 1 Sep there.
    now = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    start, end = reports.csv_window(now, "Asia/Kolkata")
    assert start == datetime(2026, 9, 1, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert end == now and end.tzinfo == ZoneInfo("Asia/Kolkata")
    # Winter now, summer start: 1 Oct 00:00 is CEST (+02:00) in Zurich.
    start, _ = reports.csv_window(datetime(2027, 1, 2, 9, tzinfo=UTC), "Europe/Zurich")
    assert start.isoformat() == "2026-10-01T00:00:00+02:00"


def test_ranges_on_an_ordinary_day() -> None:
    zone = ZoneInfo("America/New_York")
    now = datetime(2026, 6, 17, 14, 37, tzinfo=zone)
    got = reports.ranges(now.astimezone(UTC), "America/New_York")
    assert list(got) == list(reports.RANGE_NAMES)
    assert got["today"] == (datetime(2026, 6, 17, tzinfo=zone), now)
    assert got["yesterday"] == (
        datetime(2026, 6, 16, tzinfo=zone),
        datetime(2026, 6, 17, tzinfo=zone),
    )
    assert got["last 7 days"] == (datetime(2026, 6, 11, tzinfo=zone), now)
    assert got["last 4 weeks"] == (datetime(2026, 5, 21, tzinfo=zone), now)
    assert got["last 7 days"] == reports.heatmap_range(now, "America/New_York", 1)
    assert got["last 4 weeks"] == reports.heatmap_range(now, "America/New_York", 4)
