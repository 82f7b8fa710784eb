"""Benchmark: the reporting CSV of a million conversations, against a plain csv.writer.

    .venv/bin/python bench/export_csv.py [--calls 1000000] [--runs 3] [--keep FILE]

Builds a cache of ``--calls`` conversations of ONE team (Europe/Zurich) over four months
with bench/reports.py's ``build`` (``--keep FILE`` keeps and reuses it), then, interleaved
run by run (this machine is noisy: compare within one run):

- export: ``report_rows`` (names, local and UTC times...) through ``write_csv`` (injection
  checks, BOM, atomic write) into a file: what ``stratus-tui export reporting`` does;
- baseline: the same query's raw tuples through a bare ``csv.writer`` into a file.

Prints rows per second (medians) and the ratio. Target: the export at >= 200k rows/s.
"""

from __future__ import annotations

import argparse
import csv
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from reports import NOW, build

from stratus_tui.cache import reports
from stratus_tui.export.csv import write_csv
from stratus_tui.export.reporting import REPORT_HEADER, ReportTeam, report_rows

TEAM = ReportTeam(1, "Support L1", "Europe/Zurich")
TARGET = 200_000  # rows/s


def export(db: sqlite3.Connection, path: Path, hi: int) -> int:
    services = {10: "Support hotline"}
    rows = report_rows(db, TEAM, services, 0, hi)  # neutralised as it goes, as the export does
    return write_csv(path, REPORT_HEADER, rows, neutralised=True)


def baseline(db: sqlite3.Connection, path: Path, hi: int) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        for row in reports.conversations(db, TEAM.id, 0, hi):
            writer.writerow(row)
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build the cache here once, then reuse it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="export-csv-bench-") as folder:
        cache = args.keep or Path(folder) / "cache.sqlite3"
        if not cache.exists():
            build(cache, args.calls, 1)
        db = sqlite3.connect(cache)
        hi = int(NOW.timestamp()) + 1
        out = Path(folder) / "out.csv"
        rates: dict[str, list[float]] = {"export": [], "baseline": []}
        for _ in range(args.runs):
            for name, function in (("export", export), ("baseline", baseline)):
                started = time.perf_counter()
                count = function(db, out, hi)
                seconds = time.perf_counter() - started
                rates[name].append(count / seconds)
                print(f"  {name:8} {count:,} rows in {seconds:5.2f} s = {count / seconds:,.0f}/s")
        size = out.stat().st_size
        db.close()
    export_rate, base_rate = (statistics.median(rates[name]) for name in ("export", "baseline"))
    print(f"rows: {count:,} (baseline file {size / 2**20:.0f} MiB); medians of {args.runs} runs:")
    print(
        f"  export (report_rows + write_csv)  {export_rate:>10,.0f} rows/s   (target >= {TARGET:,})"
    )
    print(f"  baseline (raw tuples, csv.writer) {base_rate:>10,.0f} rows/s")
    print(f"  export / baseline                 {export_rate / base_rate:10.2f}x")
    print(f"  export / target                   {export_rate / TARGET:10.2f}x")


if __name__ == "__main__":
    main()
