"""Benchmark: opening a team's report on a big cache, rollup queries against raw GROUP BYs.

    .venv/bin/python bench/reports.py [--calls 5000000] [--teams 10] [--runs 20] [--keep FILE]

Builds a cache file (``cache.schema``) with ``--calls`` conversations spread evenly over the
four months before NOW across ``--teams`` teams in different time zones: raw rows into
``conversation`` (bulk ``executemany``, its index built afterwards) and their
``rollup.contributions`` into ``rollup``, as a sync would. ``--keep FILE`` keeps the file and
reuses it next time (building 5M rows takes a minute or two).

Then, interleaved run by run (PERFORMANCE.md: this machine is noisy, compare in one run), it
times what opening a team shows: ``call_volume`` over the last 7 days, ``overview`` over the
last 4 weeks and the 4-week call ``heatmap`` (reports.py), and as the baseline the same
figures from a GROUP BY over the raw ``conversation`` rows of the team (with the offset at
the range start: not DST-correct, so if anything cheaper than a correct one). Each run opens
another team. Medians of the runs; the targets are 30 ms per query, 50 ms for the three.
Last, for the PDF and CSV exports, one pass of ``conversations`` and ``lost_calls`` of team 1
over the CSV window (rows per second).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stratus_tui.cache import reports, rollup, schema

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DAYS = 122  # four months
ZONES = (
    "Europe/Zurich", "America/New_York", "Asia/Kolkata", "Europe/London", "Asia/Tokyo",
    "Australia/Sydney", "America/Los_Angeles", "Europe/Berlin", "America/Sao_Paulo",
    "Asia/Kathmandu",
)  # fmt: skip
# (kind, direction, direct, outcome, voicemail), weight: roughly the demo data's mix.
SHAPES = (
    (("call", "inbound", 0, "accepted", 0), 52),
    (("call", "inbound", 0, "lost", 0), 9),
    (("call", "inbound", 0, "lost", 1), 2),
    (("call", "outbound", 0, "accepted", 0), 12),
    (("call", "inbound", 1, "accepted", 0), 5),
    (("call", "outbound", 1, "accepted", 0), 5),
    (("im", "inbound", 0, "accepted", 0), 12),
    (("im", "inbound", 0, "lost", 0), 3),
)
INSERT = (
    f"INSERT INTO conversation ({', '.join(reports.CONVERSATION_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(reports.CONVERSATION_COLUMNS))})"
)
INDEX = schema.CONVERSATION_INDEX

RAW_VOLUME = """
SELECT (started_at + ?) / 3600, kind, SUM(outcome = 'accepted'), SUM(outcome = 'lost')
FROM conversation WHERE team_id = ? AND started_at >= ? AND started_at < ?
  AND direction = 'inbound' AND direct = 0 GROUP BY 1, 2"""
RAW_OVERVIEW = """
SELECT kind, direction, direct, COUNT(*), SUM(outcome = 'accepted'), SUM(outcome = 'lost'),
       SUM(voicemail), SUM(CASE WHEN outcome = 'accepted' THEN duration_seconds ELSE 0 END)
FROM conversation WHERE team_id = ? AND started_at >= ? AND started_at < ?
GROUP BY kind, direction, direct"""
RAW_HEATMAP = """
SELECT ((started_at + ?) / 86400 + 3) % 7, ((started_at + ?) % 86400) / 3600,
       SUM(outcome = 'accepted'), SUM(outcome = 'lost')
FROM conversation WHERE team_id = ? AND started_at >= ? AND started_at < ?
  AND kind = 'call' AND direction = 'inbound' AND direct = 0 GROUP BY 1, 2"""


def build(path: Path, calls: int, teams: int) -> None:
    rnd = random.Random(5)
    zones = {team: ZONES[(team - 1) % len(ZONES)] for team in range(1, teams + 1)}
    clocks = {team: rollup.LocalClock(zone) for team, zone in zones.items()}
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    for statement in schema.TABLES:
        db.execute(statement)
    db.execute(f"DROP INDEX {INDEX}")  # built once at the end: twice as fast
    db.execute("BEGIN")
    first = int(NOW.timestamp()) - DAYS * 86_400
    shapes, weights = zip(*SHAPES, strict=True)
    team_ids = list(zones)
    totals: dict[rollup.BucketKey, list[int]] = {}
    number, r, choices = 0, rnd.random, rnd.choices
    started_at = time.perf_counter()
    for day in range(DAYS):
        n = calls * (day + 1) // DAYS - calls * day // DAYS
        base = first + day * 86_400
        starts = sorted(base + int(r() * 86_400) for _ in range(n))
        rows: list[tuple[Any, ...]] = []
        append = rows.append
        for start, team, (kind, direction, direct, outcome, voicemail) in zip(
            starts, choices(team_ids, k=n), choices(shapes, weights, k=n), strict=True
        ):
            number += 1
            accepted = outcome == "accepted"
            duration = 30 + int(r() * 600) if accepted else 0
            # fmt: off
            append((
                number, number, 1 + team % 2, team, None if direct else team * 10,
                team * 100 if accepted else None, kind, direction, direct, start,
                start + 20 if accepted else None, start + 20 + duration, outcome, 20, duration,
                voicemail, "+41791234567",
            ))
            # fmt: on
        db.executemany(INSERT, rows)
        for key, counts in rollup.contributions(rows, clocks, clocks[1]).items():
            total = totals.get(key)
            if total is None:
                totals[key] = counts
            else:
                for i, value in enumerate(counts):
                    total[i] += value
    db.executemany(
        schema.UPSERT_ROLLUP,
        [(*key, *clocks[key[0]].describe(key[1]), *counts) for key, counts in totals.items()],
    )
    db.execute("INSERT INTO state VALUES ('bench', ?)", (f"{calls} {teams}",))
    db.execute("COMMIT")
    db.execute(schema.TABLES[3])  # the index
    db.close()
    elapsed = time.perf_counter() - started_at
    print(f"built {calls:,} conversations, {len(totals):,} rollup rows in {elapsed:.1f} s")


def raw_figures(db: sqlite3.Connection, team: int, zone: str) -> None:
    """The same three figures from the raw rows (fixed offset, the baseline)."""
    named = reports.ranges(NOW, zone)
    lo, hi = (reports.instant(t, zone) for t in named["last 7 days"])
    offset = reports.local(named["last 7 days"][0], zone).utcoffset()
    shift = int(offset.total_seconds()) if offset else 0
    db.execute(RAW_VOLUME, (shift, team, lo, hi)).fetchall()
    lo, hi = (reports.instant(t, zone) for t in named["last 4 weeks"])
    db.execute(RAW_OVERVIEW, (team, lo, hi)).fetchall()
    db.execute(RAW_HEATMAP, (shift, shift, team, lo, hi)).fetchall()


def timed(function: Callable[..., object], *args: Any, **kwargs: Any) -> float:
    started = time.perf_counter()
    function(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


def check(db: sqlite3.Connection, team: int, zone: str) -> None:
    """The rollup's overview equals the raw rows' over the interval it covers."""
    figures = reports.overview(db, team, zone, *reports.ranges(NOW, zone)["last 4 weeks"])
    lo, hi = int(figures.start.timestamp()), int(figures.end.timestamp())
    raw = db.execute(RAW_OVERVIEW, (team, lo, hi)).fetchall()
    assert sum(row[3] for row in raw if row[0] == "call") == figures.total_calls
    lost = sum(row[5] for row in raw if row[0:3] == ("call", "inbound", 0))
    assert lost == figures.lost_calls > 0, (lost, figures)


def measure(path: Path, teams: int, runs: int) -> None:
    db = sqlite3.connect(path)
    zones = {team: ZONES[(team - 1) % len(ZONES)] for team in range(1, teams + 1)}
    times: dict[str, list[float]] = {
        name: [] for name in ("volume", "overview", "heatmap", "open", "raw")
    }
    first_open = 0.0
    for run in range(runs + 1):  # run 0 warms the page cache up and is not counted
        team = run % teams + 1
        zone = zones[team]
        named = reports.ranges(NOW, zone)
        volume = timed(reports.call_volume, db, team, zone, *named["last 7 days"])
        overview = timed(reports.overview, db, team, zone, *named["last 4 weeks"])
        heat = timed(reports.heatmap, db, team, zone, weeks=4, kind="call", now=NOW)
        raw = timed(raw_figures, db, team, zone)
        if not run:
            first_open = volume + overview + heat
        else:
            for name, value in zip(
                times, (volume, overview, heat, volume + overview + heat, raw), strict=True
            ):
                times[name].append(value)
    for team, zone in zones.items():
        check(db, team, zone)
    median = {name: statistics.median(values) for name, values in times.items()}
    rollup_rows = db.execute("SELECT COUNT(*) FROM rollup").fetchone()[0]
    print(f"rollup rows: {rollup_rows:,}; medians of {runs} runs, one team each:")
    print(f"  call_volume, last 7 days    {median['volume']:7.2f} ms   (target <= 30)")
    print(f"  overview, last 4 weeks      {median['overview']:7.2f} ms   (target <= 30)")
    print(f"  heatmap, 4 weeks of calls   {median['heatmap']:7.2f} ms   (target <= 30)")
    print(f"  open a team (the three)     {median['open']:7.2f} ms   (target <= 50)")
    print(f"  (the first team on the fresh connection, not counted: {first_open:.2f} ms)")
    print(f"  baseline: raw GROUP BYs     {median['raw']:7.2f} ms")
    print(f"  raw / rollup                {median['raw'] / median['open']:7.1f}x")
    lo, hi = (int(t.timestamp()) for t in reports.csv_window(NOW, zones[1]))
    for name, rows in (
        ("rows_for_csv", reports.rows_for_csv),
        ("lost_calls", reports.lost_calls),
    ):
        started = time.perf_counter()
        count = sum(1 for _ in rows(db, 1, lo, hi))
        elapsed = time.perf_counter() - started
        print(
            f"raw rows, {name}() of team 1 over the CSV window: {count:,} rows in"
            f" {elapsed:.2f} s = {count / elapsed:,.0f} rows/s"
        )
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5_000_000)
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="build the cache here once, then reuse it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reports-bench-") as folder:
        path = args.keep or Path(folder) / "cache.sqlite3"
        if path.exists():
            with sqlite3.connect(path) as db:
                (built,) = db.execute("SELECT value FROM state WHERE key = 'bench'").fetchone()
            if built != f"{args.calls} {args.teams}":
                raise SystemExit(f"{path} holds another build ({built}): remove it first")
            print(f"reusing {path} ({built.split()[0]} conversations)")
        else:
            build(path, args.calls, args.teams)
        print(f"cache file: {path.stat().st_size / 2**20:,.0f} MiB")
        measure(path, args.teams, args.runs)


if __name__ == "__main__":
    main()
