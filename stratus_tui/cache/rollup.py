"""Hourly buckets in a team's local time: the arithmetic behind every reporting figure.

Reporting never scans raw history: at ingest each conversation adds to one bucket keyed by
(team, local hour, kind, direction, direct), with counts and duration sums, so a figure
over four months reads a few thousand rows.

A bucket's ``hour`` is the instant its *local* hour starts (epoch seconds). For whole-hour
offsets that is a UTC hour boundary; for half-hour zones (India, Newfoundland) it is not,
which is why buckets are not simply ``ts // 3600``. Daylight saving: in the October week
the local hour 02:00 occurs twice (two buckets, two instants); in March it does not occur.

Offsets are looked up once per 15-minute slot and remembered: zone transitions fall on
quarter hours in the tz database, and a lookup per row would cost more than the insert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SLOT = 900  # 15 minutes
DAY = 86_400
HOUR = 3_600
THURSDAY = 3  # 1970-01-01 was a Thursday; weekdays count from Monday = 0

# Column order of a conversation row (api.models.CONVERSATION_FIELDS) used here.
TEAM, KIND, DIRECTION, DIRECT, STARTED, OUTCOME, WAIT, DURATION, VOICEMAIL = (
    3, 6, 7, 8, 9, 12, 13, 14, 15,
)  # fmt: skip

BucketKey = tuple[int, int, str, str, int]  # team_id, hour, kind, direction, direct
# total, accepted, lost, voicemails, duration of accepted ones, wait
Counts = list[int]
COUNT_NAMES = ("total", "accepted", "lost", "voicemails", "duration_sum", "wait_sum")


def known_zone(name: str) -> bool:
    """Whether the tz database knows ``name`` (a team's zone is server text, not trusted)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


class LocalClock:
    """Local wall time of one time zone, fast for many timestamps."""

    def __init__(self, time_zone: str) -> None:
        self.zone = ZoneInfo(time_zone)
        self._offsets: dict[int, int] = {}

    def offset(self, ts: int) -> int:
        slot = ts // SLOT
        offset = self._offsets.get(slot)
        if offset is None:
            delta = datetime.fromtimestamp(slot * SLOT, self.zone).utcoffset()
            offset = int(delta.total_seconds()) if delta is not None else 0
            self._offsets[slot] = offset
        return offset

    def hour_start(self, ts: int) -> int:
        """The instant the local hour containing ``ts`` started."""
        offset = self.offset(ts)
        start = ts - (ts + offset) % HOUR
        # A zone that moves by half an hour (Lord Howe) can put the hour's wall-clock start
        # before the change: the hour then begins at the change, a quarter hour at a time.
        while self.offset(start) != offset and start < ts:
            start += SLOT
        return start

    def describe(self, hour: int) -> tuple[int, int, int]:
        """(local day number, local hour 0-23, weekday 0=Monday) of a bucket's start."""
        wall = hour + self.offset(hour)
        day = wall // DAY
        return day, (wall % DAY) // HOUR, (day + THURSDAY) % 7


def contributions(
    rows: Iterable[Sequence[Any]], clocks: dict[int, LocalClock], fallback: LocalClock
) -> dict[BucketKey, Counts]:
    """What ``rows`` add to the buckets (rows in ``CONVERSATION_FIELDS`` order)."""
    buckets: dict[BucketKey, Counts] = {}
    get = buckets.get
    for row in rows:
        team = row[TEAM]
        clock = clocks.get(team) or fallback
        key = (team, clock.hour_start(row[STARTED]), row[KIND], row[DIRECTION], int(row[DIRECT]))
        counts = get(key)
        if counts is None:
            counts = buckets[key] = [0, 0, 0, 0, 0, 0]
        accepted = row[OUTCOME] == "accepted"
        counts[0] += 1
        counts[1] += accepted
        counts[2] += not accepted
        counts[3] += bool(row[VOICEMAIL])
        counts[4] += row[DURATION] if accepted else 0
        counts[5] += row[WAIT]
    return buckets
