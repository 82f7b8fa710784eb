"""Benchmark: the reporting CSV of a million conversations, against a plain csv.writer.

    .venv/bin/python bench/export_csv.py [--calls 1000000] [--runs 3] [--keep FILE]

Builds a cache of ``--calls`` conversations of ONE team (Europe/Zurich) over four months
with bench/reports.py's ``build`` (``--keep FILE`` keeps and reuses it), then, interleaved
run by run (this machine is noisy: compare within one run):

- export: ``write_report_csv`` (names, local and UTC times, injection checks, BOM, atomic
  write, helper processes on every usable core): what ``stratus-tui export reporting`` does;
- one process: the same with ``parts=1``;
- baseline: the raw rows of the same conversations through a bare ``csv.writer`` into a file.

Prints rows per second (medians) and the ratios. Target: the export at >= 200k rows/s.
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

from stratus_tui.export.report_csv import ReportTeam, write_report_csv

TEAM = ReportTeam(1, "Support L1", "Europe/Zurich")
TARGET = 200_000  # rows/s


SERVICES = {10: "Support hotline"}
RAW = "SELECT * FROM conversation WHERE team_id = ? AND started_at < ? ORDER BY started_at, id"


def export(cache: Path, path: Path, hi: int) -> int:
    return write_report_csv(cache, TEAM, SERVICES, 0, hi, path)


def one_process(cache: Path, path: Path, hi: int) -> int:
    return write_report_csv(cache, TEAM, SERVICES, 0, hi, path, parts=1)


def baseline(cache: Path, path: Path, hi: int) -> int:
    count = 0
    db = sqlite3.connect(cache)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        for row in db.execute(RAW, (TEAM.id, hi)):
            writer.writerow(row)
            count += 1
    db.close()
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
        hi = int(NOW.timestamp()) + 1
        out = Path(folder) / "out.csv"
        runs = {"export": export, "one process": one_process, "baseline": baseline}
        rates: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.runs):
            for name, function in runs.items():
                started = time.perf_counter()
                count = function(cache, out, hi)
                seconds = time.perf_counter() - started
                rates[name].append(count / seconds)
                print(f"  {name:11} {count:,} rows in {seconds:5.2f} s = {count / seconds:,.0f}/s")
        size = out.stat().st_size
    export_rate, one_rate, base_rate = (statistics.median(rates[name]) for name in runs)
    print(f"rows: {count:,} (baseline file {size / 2**20:.0f} MiB); medians of {args.runs} runs:")
    print(
        f"  export (write_report_csv)         {export_rate:>10,.0f} rows/s   (target >= {TARGET:,})"
    )
    print(f"  export in one process             {one_rate:>10,.0f} rows/s")
    print(f"  baseline (raw tuples, csv.writer) {base_rate:>10,.0f} rows/s")
    print(f"  export / baseline                 {export_rate / base_rate:10.2f}x")
    print(f"  one process / baseline            {one_rate / base_rate:10.2f}x")
    print(f"  export / target                   {export_rate / TARGET:10.2f}x")


if __name__ == "__main__":
    main()
