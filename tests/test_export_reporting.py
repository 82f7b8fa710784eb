"""The reporting CSV (export/reporting.py): window, content, times, hostile text, the file.

Synthetic caches pin down the edges (the window, daylight saving, hostile values); a cache
synced from the in-process reference server checks the content against the server's rows.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI

from stratus_tui.cache import reports
from stratus_tui.cache.store import Cache, CacheError
from stratus_tui.export import report_csv
from stratus_tui.export.atomic import locked_temp
from stratus_tui.export.csv import ExportError, neutralise
from stratus_tui.export.report_csv import REPORT_HEADER, ReportTeam, report_chunks
from stratus_tui.export.reporting import (
    cached_teams,
    default_file_name,
    export_report_csv,
    lost_call_rows,
)
from stratus_tui.server import db
from stratus_tui.server.app import server_context
from stratus_tui.server.clock import FakeClock
from tests.cache_helpers import server_rows, sync_as
from tests.conftest import ADMIN, NOW
from tests.hostile import HOSTILE

ZURICH = "Europe/Zurich"
TEAM = ReportTeam(1, "Support L1", ZURICH)
INSERT = (
    f"INSERT INTO conversation ({', '.join(reports.CONVERSATION_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(reports.CONVERSATION_COLUMNS))})"
)


def conversation(number: int, started: int, **values: Any) -> tuple[Any, ...]:
    """A raw row in CONVERSATION_COLUMNS order: an accepted inbound call by default."""
    row: dict[str, Any] = {
        "id": number, "seq": number, "tenant_id": 1, "team_id": 1, "service_id": 10,
        "agent_id": 100, "kind": "call", "direction": "inbound", "direct": 0,
        "started_at": started, "answered_at": started + 20, "ended_at": started + 80,
        "outcome": "accepted", "wait_seconds": 20, "duration_seconds": 60, "voicemail": 0,
        "customer_id": "+41441234567",
    }  # fmt: skip
    row.update(values)
    return tuple(row[name] for name in reports.CONVERSATION_COLUMNS)


def make_cache(folder: Path, rows: Sequence[tuple[Any, ...]]) -> Cache:
    cache = Cache.open("test", "http://stratus.test", "user@example.com", folder=folder / "cache")
    with cache.write() as connection:
        connection.executemany(INSERT, rows)
    return cache


def read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream))


def lines_of(connection: sqlite3.Connection, team: ReportTeam) -> list[list[str]]:
    text = "".join(chunk for chunk, _ in report_chunks(connection, team, {}, 0, 2**40))
    return list(csv.reader(io.StringIO(text, newline="")))


def expected(row: Sequence[Any], team: ReportTeam, services: Mapping[int, str]) -> list[str]:
    """The CSV row of a raw row, made the slow and obvious way."""
    zone = ZoneInfo(team.time_zone)
    number, _, tenant, team_id, service, agent, kind, direction, direct = row[:9]
    started, answered, ended, outcome, wait, duration, voicemail, customer = row[9:]
    times = (started, answered, ended)

    def text(value: object) -> str:
        return "" if value is None else str(value)

    return [
        text(number), text(tenant), text(team_id), neutralise(team.name), text(service),
        neutralise(services.get(service, "")), text(agent), kind, direction,
        "true" if direct else "false",
        *("" if t is None else datetime.fromtimestamp(t, zone).isoformat() for t in times),
        *("" if t is None else f"{datetime.fromtimestamp(t, UTC):%FT%TZ}" for t in times),
        outcome, text(wait), text(duration), "true" if voicemail else "false", neutralise(customer),
    ]  # fmt: skip


# --- the window ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "zone", "first_day", "last_day"),
    [
        (datetime(2026, 11, 22, 12, 0, tzinfo=UTC), ZURICH, date(2026, 8, 1), date(2026, 11, 22)),
        # The first hour of a month already counts that month.
        (datetime(2026, 11, 1, 0, 30, tzinfo=ZoneInfo(ZURICH)), ZURICH, date(2026, 8, 1), None),
        (datetime(2026, 10, 31, 23, 30, tzinfo=ZoneInfo(ZURICH)), ZURICH, date(2026, 7, 1), None),
        # Across a new year, and a start with another offset than now (summer time).
        (datetime(2027, 1, 15, 10, 0, tzinfo=UTC), ZURICH, date(2026, 10, 1), None),
        # At midnight sharp: nothing of 1 March is in yet, the name says 28 February.
        (
            datetime(2027, 3, 1, tzinfo=ZoneInfo(ZURICH)),
            ZURICH,
            date(2026, 12, 1),
            date(2027, 2, 28),
        ),
        # 30 Nov 23:30 UTC is already 1 December in Kolkata.
        (datetime(2026, 11, 30, 23, 30, tzinfo=UTC), "Asia/Kolkata", date(2026, 9, 1), None),
    ],
)
def test_the_csv_window_is_exact_to_the_second(
    now: datetime, zone: str, first_day: date, last_day: date | None, tmp_path: Path
) -> None:
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=ZoneInfo(zone))
    lo, hi = int(start.timestamp()), int(now.timestamp())
    rows = [conversation(n, ts) for n, ts in enumerate((lo - 1, lo, hi - 1, hi), 1)]
    cache = make_cache(tmp_path, rows)
    team = ReportTeam(1, "Support L1", zone)
    path = tmp_path / "out.csv"
    assert export_report_csv(cache, team, path, services={}, now=now) == 2
    assert [line[0] for line in read(path)[1:]] == ["2", "3"]
    window = reports.csv_window(now, zone)
    last_day = last_day or now.astimezone(ZoneInfo(zone)).date()
    assert default_file_name(team.name, *window, "csv") == (
        f"stratus-report-Support-L1-{first_day}-to-{last_day}.csv"
    )
    cache.close()


# --- content -------------------------------------------------------------------------------


@pytest.fixture
def app(server_app: FastAPI, server_db: Path, clock: FakeClock) -> FastAPI:
    server_app.state.context = server_context(clock=clock)
    return server_app


async def test_the_rows_are_the_servers_conversations_of_the_team_and_window(
    app: FastAPI, tmp_path: Path
) -> None:
    cache, _ = await sync_as(app, ADMIN, tmp_path)
    row = db.Team.get(db.Team.name == "Support L1")
    team = ReportTeam(int(row.id), str(row.name), str(row.time_zone))
    assert team in cached_teams(cache)
    services = {int(s.id): str(s.name) for s in db.Service.select()}
    now = datetime.fromtimestamp(NOW, UTC)
    start, end = reports.csv_window(now, team.time_zone)
    lo, hi = reports.instant(start, team.time_zone), reports.instant(end, team.time_zone)
    on_server = server_rows(
        "team_id = ? AND started_at >= ? AND started_at < ?", [team.id, lo, hi]
    ).values()
    path = tmp_path / "report.csv"
    steps: list[int] = []
    count = export_report_csv(cache, team, path, services=services, now=now, progress=steps.append)
    lines = read(path)
    assert lines[0] == list(REPORT_HEADER)
    want = [expected(r, team, services) for r in sorted(on_server, key=lambda r: (r[9], r[0]))]
    assert count == len(want) == len(lines) - 1 > 1000
    assert lines[1:] == want
    # Every kind of row is there: lost calls without agent or answer, IMs, direct calls.
    assert {(line[7], line[16]) for line in lines[1:]} >= {("call", "lost"), ("im", "accepted")}
    assert any(line[6] == "" and line[11] == "" for line in lines[1:])
    assert steps == [*range(10_000, count, 10_000), count]
    cache.close()


def test_local_and_utc_times_across_daylight_saving_and_odd_offsets(tmp_path: Path) -> None:
    # 25 Oct 2026 in Zurich: 02:30 happens at 00:30 UTC (+02:00) and again at 01:30 (+01:00).
    twice = int(datetime(2026, 10, 25, 0, 30, tzinfo=UTC).timestamp())
    rows = [
        conversation(1, twice, answered_at=None, outcome="lost", agent_id=None),
        conversation(2, twice + 3600, ended_at=twice + 3600 + 59),
        conversation(3, int(datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC).timestamp())),
    ]
    cache = make_cache(tmp_path, rows)
    with sqlite3.connect(cache.path) as connection:
        lines = lines_of(connection, TEAM)
        assert lines[0][10:16] == [
            "2026-03-29T01:59:59+01:00", "2026-03-29T03:00:19+02:00", "2026-03-29T03:01:19+02:00",
            "2026-03-29T00:59:59Z", "2026-03-29T01:00:19Z", "2026-03-29T01:01:19Z",
        ]  # fmt: skip
        assert lines[1][10:16] == [
            "2026-10-25T02:30:00+02:00", "", "2026-10-25T02:31:20+02:00",
            "2026-10-25T00:30:00Z", "", "2026-10-25T00:31:20Z",
        ]  # fmt: skip
        assert lines[2][10] == "2026-10-25T02:30:00+01:00"
        assert lines[2][15] == "2026-10-25T01:30:59Z"
        for zone in (ZURICH, "Asia/Kathmandu", "America/St_Johns", "Australia/Lord_Howe", "UTC"):
            team = ReportTeam(1, "T", zone)
            want = [expected(row, team, {}) for row in sorted(rows, key=lambda r: r[9])]
            assert lines_of(connection, team) == want
    cache.close()


def test_hostile_text_is_neutralised_and_round_trips(tmp_path: Path) -> None:
    texts = [text for name, text in HOSTILE.items() if name != "lone_surrogate"]
    rows = [conversation(n, 1_790_000_000 + n, customer_id=t) for n, t in enumerate(texts, 1)]
    rows.append(conversation(99, 1_790_000_500, service_id=None, direct=1))
    cache = make_cache(tmp_path, rows)
    services = {10: HOSTILE["csv_formula"] + HOSTILE["lone_surrogate"]}
    team = ReportTeam(1, HOSTILE["csv_formula"] + HOSTILE["nul_and_bell"], ZURICH)
    path = tmp_path / "hostile.csv"
    export_report_csv(cache, team, path, services=services, now=datetime(2026, 10, 1))
    lines = read(path)[1:]
    assert [line[20] for line in lines[:-1]] == [neutralise(text) for text in texts]
    assert lines[0][3] == '\'=HYPERLINK("http://x")ab\x07c'  # NUL removed, quote in front
    assert lines[0][5] == '\'=HYPERLINK("http://x")bad\ufffdtext'
    assert lines[-1][4:6] == ["", ""]  # a direct call has no service
    cache.close()


# --- the file ------------------------------------------------------------------------------


def test_the_file_is_private_and_replaced_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = make_cache(tmp_path, [conversation(n, 1_790_000_000 + n) for n in range(1, 30)])
    path = tmp_path / "exports" / "report.csv"
    now = datetime(2026, 10, 1)
    assert export_report_csv(cache, TEAM, path, services={}, now=now) == 29
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    before = path.read_bytes()

    def broken(*args: object) -> Iterator[tuple[Any, ...]]:
        yield (1, 1, 10, 100, 0, 1_790_000_001, None, 1_790_000_081, 20, 60, "+41441234567")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(reports, "rows_for_csv", broken)
    with pytest.raises(CacheError, match="could not be read: disk I/O error"):
        export_report_csv(cache, TEAM, path, services={}, now=now)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.csv"]
    cache.close()


def test_the_services_default_to_those_the_cache_holds(tmp_path: Path) -> None:
    rows = [conversation(1, 1_790_000_000), conversation(2, 1_790_000_100, service_id=11)]
    cache = make_cache(tmp_path, rows)
    cache.put_entities("service", {"10": '{"id": 10, "name": "Hotline"}'}, 1)
    path = tmp_path / "report.csv"
    export_report_csv(cache, TEAM, path, now=datetime(2026, 10, 1))
    assert [line[4:6] for line in read(path)[1:]] == [["10", "Hotline"], ["11", ""]]
    with sqlite3.connect(cache.path) as connection:
        lost = conversation(3, 1_790_000_200, outcome="lost", answered_at=None, service_id=12)
        connection.execute(INSERT, lost)
        calls = list(lost_call_rows(connection, TEAM, {}, 0, 2**40))
    assert [(call.service, call.customer, call.wait_seconds) for call in calls] == [
        ("service 12", "+41441234567", 20)
    ]
    cache.close()


def test_cached_teams_read_the_synced_teams_and_check_their_zones(tmp_path: Path) -> None:
    cache = make_cache(tmp_path, [])
    teams = {
        "1": '{"id": 1, "name": "b team", "time_zone": "Europe/Zurich"}',
        "2": '{"id": 2, "name": "A team", "time_zone": "Mars/Olympus_Mons"}',
    }
    cache.put_entities("team", teams, 1)
    assert cached_teams(cache, "Asia/Tokyo") == [
        ReportTeam(2, "A team", "Asia/Tokyo"),
        ReportTeam(1, "b team", ZURICH),
    ]
    assert cached_teams(cache, "not/a zone")[0].time_zone == "UTC"
    cache.close()


# --- file names ----------------------------------------------------------------------------


def test_default_file_names_say_team_and_days() -> None:
    first, last = date(2026, 8, 1), date(2026, 11, 22)
    assert (
        default_file_name("Support L1", first, last, "csv")
        == "stratus-report-Support-L1-2026-08-01-to-2026-11-22.csv"
    )
    assert (
        default_file_name("Support L1", date(2026, 11, 15), last, ".pdf")
        == "stratus-lost-calls-Support-L1-2026-11-15-to-2026-11-22.pdf"
    )
    # A range's end is excluded: one ending at midnight ends the day before.
    zone = ZoneInfo(ZURICH)
    yesterday = (datetime(2026, 11, 21, tzinfo=zone), datetime(2026, 11, 22, tzinfo=zone))
    assert default_file_name("Zoë Müller 王", *yesterday, "pdf") == (
        "stratus-lost-calls-Zoë-Müller-王-2026-11-21-to-2026-11-21.pdf"
    )
    with pytest.raises(ValueError, match="csv or pdf"):
        default_file_name("x", first, last, "exe")


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "..",
        ".hidden",
        'a/b\\c:d*e?f"g<h>i|j',
        "\x1b]52;c;SGk=\x07",
        "abc\u202edcba",
        "bad\ud800text",
        "CON",
        "",
        *HOSTILE.values(),
    ],
)
def test_hostile_team_names_give_safe_bounded_file_names(name: str) -> None:
    file_name = default_file_name(name, date(2026, 8, 1), date(2026, 11, 22), "csv")
    team = file_name.removeprefix("stratus-report-").removesuffix("-2026-08-01-to-2026-11-22.csv")
    assert team and all(c.isalnum() or c == "-" for c in team)
    assert not team.startswith("-") and not team.endswith("-") and "--" not in team
    assert len(team) <= 40 and len(file_name.encode()) < 255
    assert file_name == os.path.basename(file_name) and file_name.isprintable()


# --- parts written by helper processes ---------------------------------------------------------


def busy_rows() -> list[tuple[Any, ...]]:
    """600 conversations across the October clock change in Zurich, three at a time
    starting in the same second (a cut must not part them), with hostile identifiers."""
    start = int(datetime(2026, 10, 24, 22, 0, tzinfo=UTC).timestamp())
    texts = [text for name, text in HOSTILE.items() if name != "lone_surrogate"]
    rows = []
    for n in range(1, 601):
        started = start + (n // 3) * 97
        values: dict[str, Any] = {"customer_id": texts[n % len(texts)]}
        if n % 5 == 0:
            values.update(outcome="lost", answered_at=None, agent_id=None, voicemail=1)
        if n % 7 == 0:
            values.update(kind="im", direction="outbound", direct=1, service_id=None)
        rows.append(conversation(n, started, **values))
    return rows


def test_parts_written_by_helper_processes_make_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = make_cache(tmp_path, busy_rows())
    services = {10: HOSTILE["csv_formula"] + ', "quoted"'}
    team = ReportTeam(1, 'Support, "L1"', ZURICH)
    one = tmp_path / "one.csv"
    assert report_csv.write_report_csv(cache.path, team, services, 0, 2**40, one, parts=1) == 600
    monkeypatch.setattr(report_csv, "PART_MIN_ROWS", 50)
    appended: list[int] = []
    real_append = report_csv._Helpers.append

    def append(self: report_csv._Helpers, part: report_csv._Part, stream: Any) -> int:
        appended.append(real_append(self, part, stream))
        return appended[-1]

    monkeypatch.setattr(report_csv._Helpers, "append", append)
    three = tmp_path / "out" / "three.csv"
    steps: list[int] = []
    count = report_csv.write_report_csv(
        cache.path, team, services, 0, 2**40, three, parts=3, progress=steps.append
    )
    assert count == 600 and len(appended) == 2 and all(appended)
    assert three.read_bytes() == one.read_bytes()
    assert steps[-1] == 600 and steps == sorted(steps)
    assert sorted(p.name for p in three.parent.iterdir()) == ["three.csv"]
    assert three.stat().st_mode & 0o777 == 0o600
    assert len(read(three)) == 601
    cache.close()


def test_a_helper_that_cannot_start_leaves_its_part_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = make_cache(tmp_path, busy_rows())
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    report_csv.write_report_csv(cache.path, TEAM, {}, 0, 2**40, one, parts=1)
    monkeypatch.setattr(report_csv, "PART_MIN_ROWS", 50)
    monkeypatch.setattr(report_csv.sys, "executable", str(tmp_path / "no-such-python"))
    assert report_csv.write_report_csv(cache.path, TEAM, {}, 0, 2**40, two, parts=2) == 600
    assert two.read_bytes() == one.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "one.csv", "two.csv"]
    cache.close()


def test_a_failing_helper_fails_the_export_and_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = make_cache(tmp_path, busy_rows())
    path = tmp_path / "exports" / "report.csv"
    report_csv.write_report_csv(cache.path, TEAM, {}, 0, 2**40, path, parts=1)
    before = path.read_bytes()
    monkeypatch.setattr(report_csv, "PART_MIN_ROWS", 50)
    broken = tmp_path / "broken-python"  # takes the job, then fails as a crash would
    broken.write_text("#!/bin/sh\ncat > /dev/null\necho 'MemoryError' >&2\nexit 1\n")
    broken.chmod(0o700)
    monkeypatch.setattr(report_csv.sys, "executable", str(broken))
    with pytest.raises(ExportError, match=r"report.csv: MemoryError$"):
        report_csv.write_report_csv(cache.path, TEAM, {}, 0, 2**40, path, parts=2)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.csv"]
    cache.close()


def test_a_helper_whose_export_was_killed_removes_its_part_and_stops(tmp_path: Path) -> None:
    """The parent (the export) was kill -9'd: the helper finds another parent, removes its
    part and stops instead of writing it to the end for no one."""
    cache = make_cache(tmp_path, busy_rows())
    descriptor, part = locked_temp(tmp_path, ".report.csv.part.")
    job = {
        "cache": str(cache.path), "team": [TEAM.id, TEAM.name, TEAM.time_zone],
        "services": {}, "first": 0, "last": 2**40, "part": str(part), "fd": descriptor,
        "parent": -1,  # not this helper's parent: as after a kill, when it is adopted
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "stratus_tui.export.report_csv"],
        input=json.dumps(job).encode(),
        capture_output=True,
        pass_fds=(descriptor,),
        timeout=60,
    )
    os.close(descriptor)
    assert done.returncode == 1 and b"stopped" in done.stdout
    assert not part.exists()
    cache.close()
