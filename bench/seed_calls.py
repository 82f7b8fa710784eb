"""Benchmark: demo-data generation against a plain ``executemany`` of constant rows.

    .venv/bin/python bench/seed_calls.py [--calls 1000000] [--runs 3]

Each run seeds a fresh temporary database with ``seed_demo`` and, interleaved with it, times
a plain ``sqlite3.executemany`` of as many pre-built constant rows into the same schema's
conversation table. The machine is noisy (PERFORMANCE.md): the verdict is the ratio of the
medians measured in this one invocation, not the absolute times.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stratus_tui.server import db, passwords, seed_history
from stratus_tui.server.seed import SeedOptions, seed_demo

NOW = int(datetime(2026, 11, 22, 12, 0, tzinfo=UTC).timestamp())
# Password hashing is not what this measures (five scrypt hashes would add ~0.25 s).
CHEAP_HASH = functools.partial(passwords.hash_password, n=2**8)


def constant_rows(calls: int) -> list[tuple[Any, ...]]:
    """Rows in ``seed_history.CONVERSATION_COLUMNS`` order; only id and seq vary (unique)."""
    started = NOW - 86_400
    tail: tuple[Any, ...] = (started, 1, 1, 1, 1, "call", "inbound", 0, started + 20, started + 260)
    tail += ("accepted", 20, 240, 0, "+41791234567")
    return [(number, number, *tail) for number in range(1, calls + 1)]


def time_baseline(folder: Path, rows: list[tuple[Any, ...]]) -> float:
    database = db.open_database(folder / "baseline.sqlite3")
    columns = seed_history.CONVERSATION_COLUMNS
    sql = (
        f'INSERT INTO "{db.Conversation._meta.table_name}" ({", ".join(columns)})'
        f" VALUES ({', '.join('?' for _ in columns)})"
    )
    started = time.perf_counter()
    with database.atomic():
        db.database.connection().executemany(sql, rows)
    elapsed = time.perf_counter() - started
    database.close()
    return elapsed


def time_seed(folder: Path, calls: int) -> float:
    database = db.open_database(folder / "seed.sqlite3")
    started = time.perf_counter()
    summary = seed_demo(SeedOptions(calls=calls, now=NOW, hash_password=CHEAP_HASH))
    elapsed = time.perf_counter() - started
    assert summary.conversations == calls
    database.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = constant_rows(args.calls)
    baseline_times, seed_times = [], []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="seed-bench-") as folder:
            baseline_times.append(time_baseline(Path(folder), rows))
        with tempfile.TemporaryDirectory(prefix="seed-bench-") as folder:
            seed_times.append(time_seed(Path(folder), args.calls))
        print(
            f"run {run}: raw executemany {baseline_times[-1]:6.2f} s,"
            f" seed_demo {seed_times[-1]:6.2f} s",
            flush=True,
        )
    baseline, seed = statistics.median(baseline_times), statistics.median(seed_times)
    print(f"calls:                      {args.calls:,}")
    print(f"raw executemany (median):   {baseline:.2f} s = {args.calls / baseline:,.0f} rows/s")
    print(f"seed_demo (median):         {seed:.2f} s = {args.calls / seed:,.0f} conversations/s")
    print(f"seed / raw throughput:      {baseline / seed:.2f}x")


if __name__ == "__main__":
    main()
