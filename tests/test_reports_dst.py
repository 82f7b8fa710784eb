"""Reporting around daylight-saving changes and in half-hour zones, spelled out by hand.

The random comparisons in tests/test_reports.py cover the same ground statistically; these
name the cases: 23- and 25-hour days, the repeated 02:00 of October counted twice, the
heatmap's weekday and hour on change days, the range helpers on change days.
"""

from __future__ import annotations

import itertools
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from stratus_tui.cache import reports, rollup, schema
from stratus_tui.cache.reports import HeatCell

ZURICH = "Europe/Zurich"
Z = ZoneInfo(ZURICH)
CONVERSATION = (
    f"INSERT INTO conversation ({', '.join(reports.CONVERSATION_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(reports.CONVERSATION_COLUMNS))})"
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


def cache_with(tmp_path: Path, zone: str, calls: list[tuple[int, str, str]]) -> sqlite3.Connection:
    """A cache of team 1 in ``zone`` with inbound service conversations (ts, kind, outcome),
    ingested as a sync does (raw rows, then their rollup contributions)."""
    db = sqlite3.connect(tmp_path / "cache.sqlite3")
    for statement in schema.TABLES:
        db.execute(statement)
    rows = [
        (n, n, 1, 1, 5, None, kind, "inbound", 0, ts, None, ts + 30, outcome, 30, 0, 0, "+41")
        for n, (ts, kind, outcome) in enumerate(calls, start=1)
    ]
    db.executemany(CONVERSATION, rows)
    clock = rollup.LocalClock(zone)
    buckets = rollup.contributions(rows, {1: clock}, clock)
    db.executemany(
        schema.UPSERT_ROLLUP,
        [(*key, *clock.describe(key[1]), *counts) for key, counts in buckets.items()],
    )
    db.commit()
    return db


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Real time between two aware datetimes (within one zone, ``-`` subtracts wall times)."""
    return end.astimezone(UTC) - start.astimezone(UTC)


def labels(volume: list[reports.HourVolume]) -> list[int]:
    return [v.hour.hour for v in volume]


def assert_consecutive_hours(volume: list[reports.HourVolume]) -> None:
    instants = [int(v.hour.timestamp()) for v in volume]
    assert all(b - a == 3600 for a, b in itertools.pairwise(instants))
    assert all(v.hour.minute == 0 for v in volume)


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        (ZURICH, datetime(2026, 3, 29), [0, 1, *range(3, 24)]),
        (ZURICH, datetime(2026, 10, 25), [0, 1, 2, 2, *range(3, 24)]),
        ("America/New_York", datetime(2026, 3, 8), [0, 1, *range(3, 24)]),
        ("America/New_York", datetime(2026, 11, 1), [0, 1, 1, *range(2, 24)]),
        ("America/St_Johns", datetime(2026, 3, 8), [0, 1, *range(3, 24)]),
        ("America/St_Johns", datetime(2026, 11, 1), [0, 1, 1, *range(2, 24)]),
        ("Australia/Adelaide", datetime(2026, 4, 5), [0, 1, 2, 2, *range(3, 24)]),
        ("Australia/Adelaide", datetime(2026, 10, 4), [0, 1, *range(3, 24)]),
        ("Asia/Kolkata", datetime(2026, 3, 29), list(range(24))),
        ("Asia/Kathmandu", datetime(2026, 10, 25), list(range(24))),
    ],
)
def test_a_change_day_has_23_or_25_hours(
    tmp_path: Path, zone: str, day: datetime, hours: list[int]
) -> None:
    db = cache_with(tmp_path, zone, [])
    volume = reports.call_volume(db, 1, zone, day, day + timedelta(days=1))
    assert labels(volume) == hours
    assert_consecutive_hours(volume)
    assert volume[0].hour == day.replace(tzinfo=ZoneInfo(zone))


def test_march_week_in_zurich(tmp_path: Path) -> None:
    db = cache_with(
        tmp_path,
        ZURICH,
        [
            (utc(2026, 3, 28, 11), "call", "accepted"),  # Sat 12:00 CET
            (utc(2026, 3, 29, 0, 59), "call", "lost"),  # Sun 01:59 CET
            (utc(2026, 3, 29, 1, 0), "call", "accepted"),  # Sun 03:00 CEST, the first instant
            (utc(2026, 3, 29, 1, 30), "call", "accepted"),  # Sun 03:30 CEST
            (utc(2026, 3, 29, 22, 30), "im", "accepted"),  # Mon 00:30 CEST (Sunday in UTC)
            (utc(2026, 3, 23, 22, 59), "call", "lost"),  # Mon 23 Mar 23:59 CET: outside
        ],
    )
    week = reports.call_volume(db, 1, ZURICH, datetime(2026, 3, 23), datetime(2026, 3, 30))
    assert len(week) == 7 * 24 - 1
    assert_consecutive_hours(week)
    sunday = [v for v in week if v.hour.day == 29]
    assert labels(sunday) == [0, 1, *range(3, 24)]
    assert (sunday[1].lost_calls, sunday[2].accepted_calls) == (1, 2)
    assert sunday[2].hour.isoformat() == "2026-03-29T03:00:00+02:00"

    day = reports.overview(db, 1, ZURICH, datetime(2026, 3, 29), datetime(2026, 3, 30))
    assert (day.accepted_calls, day.lost_calls, day.accepted_ims) == (2, 1, 0)
    assert elapsed(day.start, day.end) == timedelta(hours=23)  # not end - start: wall time
    assert (day.start.isoformat(), day.end.isoformat()) == (
        "2026-03-29T00:00:00+01:00",
        "2026-03-30T00:00:00+02:00",
    )

    now = datetime(2026, 3, 30, 9, 0)
    calls = reports.heatmap(db, 1, ZURICH, weeks=1, kind="call", now=now)
    assert calls.start.isoformat() == "2026-03-24T00:00:00+01:00"
    assert calls.cells[6][1] == HeatCell(0, 1)
    assert calls.cells[6][3] == HeatCell(2, 0)
    assert calls.cells[5][12] == HeatCell(1, 0)
    assert sum(c.accepted + c.lost for day in calls.cells for c in day) == 4  # not 23 Mar
    ims = reports.heatmap(db, 1, ZURICH, weeks=1, kind="im", now=now)
    assert ims.cells[0][0] == HeatCell(1, 0)


def october(tmp_path: Path) -> sqlite3.Connection:
    return cache_with(
        tmp_path,
        ZURICH,
        [
            (utc(2026, 10, 25, 0, 15), "call", "accepted"),  # 02:15 CEST, the first 02:00
            (utc(2026, 10, 25, 0, 20), "call", "accepted"),
            (utc(2026, 10, 25, 0, 45), "call", "lost"),  # 02:45 CEST
            (utc(2026, 10, 25, 1, 15), "call", "lost"),  # 02:15 CET, the second 02:00
            (utc(2026, 10, 25, 1, 16), "call", "lost"),
            (utc(2026, 10, 25, 1, 59), "call", "lost"),  # 02:59 CET
            (utc(2026, 10, 25, 2, 0), "im", "lost"),  # 03:00 CET
        ],
    )


def test_october_week_in_zurich_counts_the_repeated_hour_twice(tmp_path: Path) -> None:
    db = october(tmp_path)
    week = reports.call_volume(db, 1, ZURICH, datetime(2026, 10, 19), datetime(2026, 10, 26))
    assert len(week) == 7 * 24 + 1
    assert_consecutive_hours(week)
    sunday = [v for v in week if v.hour.day == 25]
    assert labels(sunday) == [0, 1, 2, 2, *range(3, 24)]
    first, second, three = sunday[2:5]
    assert (first.hour.fold, first.hour.utcoffset()) == (0, timedelta(hours=2))
    assert (second.hour.fold, second.hour.utcoffset()) == (1, timedelta(hours=1))
    assert (first.accepted_calls, first.lost_calls) == (2, 1)
    assert (second.accepted_calls, second.lost_calls) == (0, 3)
    assert (three.lost_calls, three.lost_ims) == (0, 1)
    assert first.loss_rate == pytest.approx(1 / 3) and second.loss_rate == 1.0

    heat = reports.heatmap(db, 1, ZURICH, weeks=1, kind="call", now=datetime(2026, 10, 26, 9))
    assert heat.cells[6][2] == HeatCell(2, 4)
    assert heat.cells[6][2].share_lost == pytest.approx(4 / 6)
    assert heat.start.isoformat() == "2026-10-20T00:00:00+02:00"


def test_fold_picks_which_of_the_two_0200_hours(tmp_path: Path) -> None:
    db = october(tmp_path)
    first = datetime(2026, 10, 25, 2, 0)
    second = first.replace(fold=1)
    only_second = reports.call_volume(db, 1, ZURICH, second, datetime(2026, 10, 25, 3))
    assert [(v.hour.fold, v.lost_calls) for v in only_second] == [(1, 3)]
    only_first = reports.call_volume(db, 1, ZURICH, first, second)
    assert [(v.hour.fold, v.accepted_calls) for v in only_first] == [(0, 2)]
    both = reports.overview(db, 1, ZURICH, first, datetime(2026, 10, 25, 3))
    assert (both.accepted_calls, both.lost_calls, both.lost_ims) == (2, 4, 0)
    assert elapsed(both.start, both.end) == timedelta(hours=2)


def test_ranges_on_change_days(tmp_path: Path) -> None:
    def length(name: str, now: datetime) -> timedelta:
        start, end = reports.ranges(now, ZURICH)[name]
        assert start.tzinfo == end.tzinfo == Z
        return elapsed(start, end)

    assert length("today", datetime(2026, 10, 25, 12, tzinfo=Z)) == timedelta(hours=13)
    assert length("today", datetime(2026, 3, 29, 12, tzinfo=Z)) == timedelta(hours=11)
    assert length("yesterday", datetime(2026, 10, 26, 8, tzinfo=Z)) == timedelta(hours=25)
    assert length("yesterday", datetime(2026, 3, 30, 8, tzinfo=Z)) == timedelta(hours=23)
    assert length("yesterday", datetime(2026, 10, 25, 8, tzinfo=Z)) == timedelta(hours=24)
    got = reports.ranges(datetime(2026, 10, 26, 7, 30, tzinfo=UTC), ZURICH)  # 08:30 CET
    assert got["yesterday"][0].isoformat() == "2026-10-25T00:00:00+02:00"
    assert got["last 7 days"][0].isoformat() == "2026-10-20T00:00:00+02:00"
    assert got["last 4 weeks"][0].isoformat() == "2026-09-29T00:00:00+02:00"
    assert got["today"][1].isoformat() == "2026-10-26T08:30:00+01:00"
    # The "yesterday" range of a 25-hour day, fed back: 25 hours in the chart.
    volume = reports.call_volume(cache_with(tmp_path, ZURICH, []), 1, ZURICH, *got["yesterday"])
    assert len(volume) == 25


def test_half_hour_zone_days_start_at_half_past_in_utc(tmp_path: Path) -> None:
    zone = "Asia/Kolkata"
    db = cache_with(
        tmp_path,
        zone,
        [
            (utc(2026, 5, 31, 18, 29), "call", "accepted"),  # 31 May 23:59 IST
            (utc(2026, 5, 31, 18, 30), "call", "lost"),  # 1 Jun 00:00 IST
            (utc(2026, 6, 1, 18, 29, 59), "call", "lost"),  # 1 Jun 23:59:59 IST
            (utc(2026, 6, 1, 18, 30), "call", "accepted"),  # 2 Jun 00:00 IST
        ],
    )
    volume = reports.call_volume(db, 1, zone, datetime(2026, 6, 1), datetime(2026, 6, 2))
    assert labels(volume) == list(range(24))
    assert {datetime.fromtimestamp(v.hour.timestamp(), UTC).minute for v in volume} == {30}
    assert (volume[0].lost_calls, volume[23].lost_calls) == (1, 1)
    assert sum(v.accepted_calls for v in volume) == 0
    heat = reports.heatmap(db, 1, zone, weeks=1, kind="call", now=datetime(2026, 6, 2, 0, 10))
    assert heat.cells[6][23] == HeatCell(1, 0)  # Sunday 31 May 23:00
    assert (heat.cells[0][0], heat.cells[0][23]) == (HeatCell(0, 1), HeatCell(0, 1))  # Monday
    assert heat.cells[1][0] == HeatCell(1, 0)  # Tuesday 2 Jun 00:00, the current hour


def test_instants_round_up_to_the_second(tmp_path: Path) -> None:
    db = cache_with(tmp_path, ZURICH, [])
    start = datetime(2026, 6, 1, 10, 0, 0, 1)  # a microsecond after 10:00: from 11:00
    volume = reports.call_volume(db, 1, ZURICH, start, datetime(2026, 6, 1, 12, 0, 0, 1))
    assert labels(volume) == [11, 12]


# --- Lord Howe: a half-hour daylight-saving shift -------------------------------------------

LORD_HOWE = "Australia/Lord_Howe"  # +10:30, summer +11:00; the clock moves by 30 minutes


def test_lord_howe_april_the_repeated_half_hour(tmp_path: Path) -> None:
    # 5 Apr 2026 02:00 LHDT (+11) becomes 01:30 LHST (+10:30): 01:30-02:00 happens twice.
    db = cache_with(
        tmp_path,
        LORD_HOWE,
        [
            (utc(2026, 4, 4, 14, 40), "call", "accepted"),  # 01:40 +11:00
            (utc(2026, 4, 4, 15, 10), "call", "lost"),  # 01:40 +10:30, the second time
            (utc(2026, 4, 4, 15, 40), "call", "lost"),  # 02:10 +10:30
        ],
    )
    day = reports.overview(db, 1, LORD_HOWE, datetime(2026, 4, 5), datetime(2026, 4, 6))
    assert (day.accepted_calls, day.lost_calls) == (1, 2)
    heat = reports.heatmap(db, 1, LORD_HOWE, weeks=1, kind="call", now=datetime(2026, 4, 6))
    assert (heat.cells[6][1], heat.cells[6][2]) == (HeatCell(1, 1), HeatCell(0, 1))
    volume = reports.call_volume(db, 1, LORD_HOWE, datetime(2026, 4, 5), datetime(2026, 4, 6))
    assert labels(volume) == [0, 1, 1, *range(2, 24)]  # 24.5 hours: a half-hour bucket
    assert [(v.hour.minute, v.accepted_calls, v.lost_calls) for v in volume[1:4]] == [
        (0, 1, 0),
        (30, 0, 1),  # the second 01:30-02:00
        (0, 0, 1),
    ]


def test_lord_howe_october_the_half_hour_jump(tmp_path: Path) -> None:
    db = cache_with(tmp_path, LORD_HOWE, [(utc(2026, 10, 3, 15, 40), "call", "lost")])  # 02:40
    heat = reports.heatmap(db, 1, LORD_HOWE, weeks=1, kind="call", now=datetime(2026, 10, 5))
    volume = reports.call_volume(db, 1, LORD_HOWE, datetime(2026, 10, 4), datetime(2026, 10, 5))
    assert heat.cells[6][2] == HeatCell(0, 1)
    assert labels(volume) == list(range(24))
    assert [v.hour.hour for v in volume if v.lost_calls] == [2]
