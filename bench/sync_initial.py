"""Benchmark: the first history sync end to end, against a plain ``executemany`` baseline.

    .venv/bin/python bench/sync_initial.py [--calls 1000000] [--runs 3]

Generates a server database with ``--calls`` conversations (seeded once, kept for the
runs), starts ``stratus-tui serve`` on it on a loopback port, then, interleaved:

- baseline: a plain ``sqlite3.executemany`` of the same rows (read once from the server's
  database) into a fresh cache file, one transaction, same schema and settings;
- sync: a child process signs in as the system admin (all rows) and runs
  ``sync_history`` into a fresh cache with the real client over HTTP: the server builds
  each page, the client parses, checks, stores and rolls it up. Timed around the sync
  (not the interpreter start or the sign-in); its peak RSS is the child's ``VmHWM``.

Targets (PERFORMANCE.md): sync throughput >= 0.5x the baseline's, peak RSS <= 200 MB.
The machine is noisy: the verdict is the ratio of the medians of this one invocation.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stratus_tui.api.models import CONVERSATION_FIELDS
from stratus_tui.cache.ingest import INSERT
from stratus_tui.cache.store import Cache
from stratus_tui.server import db, passwords
from stratus_tui.server.seed import SeedOptions, seed_demo

CHEAP_HASH = functools.partial(passwords.hash_password, n=2**8)
SYSADMIN = "sysadmin@demo.stratus"


def make_server_db(path: Path, calls: int, now: int | None = None) -> None:
    database = db.open_database(path)
    seed_demo(SeedOptions(calls=calls, now=now, hash_password=CHEAP_HASH))
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()


def start_server(path: Path) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "stratus_tui", "serve", "--port", "0", "--db", str(path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if found := re.search(r"listening on (http://\S+)", line):
            return process, found.group(1)
    raise SystemExit("the server did not start")


def time_baseline(folder: Path, rows: list[tuple[object, ...]]) -> float:
    cache = Cache.open_path(folder / "baseline.sqlite3")
    with cache.read() as connection:
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(INSERT, rows)
        connection.execute("COMMIT")
        elapsed = time.perf_counter() - started
    cache.close()
    return elapsed


def time_sync(folder: Path, url: str, page_size: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", url, str(folder), str(page_size)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the sync failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def child(url: str, folder: Path, page_size: int) -> None:
    """In the child process: sign in, sync into a fresh cache, print figures as JSON."""
    from pydantic import SecretStr

    from stratus_tui.api.client import StratusClient
    from stratus_tui.cache.sync import sync_history

    async def run() -> dict[str, float]:
        async with StratusClient(url) as client:
            await client.login(SYSADMIN, SecretStr("demo"))
            cache = Cache.open("bench", url, SYSADMIN, folder=folder)
            started = time.perf_counter()
            result = await sync_history(client, cache, page_size=page_size)
            elapsed = time.perf_counter() - started
            cache.close()
        return {"rows": result.added + result.changed, "seconds": elapsed}

    figures = asyncio.run(run())
    figures["max_rss_mb"] = peak_rss_mb()
    print(json.dumps(figures))


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not ``ru_maxrss``: Linux carries that over
    an exec from the parent, which here holds a million rows for the baseline."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page-size", type=int, default=10_000)
    parser.add_argument(
        "--child", nargs=3, metavar=("URL", "FOLDER", "PAGE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), int(args.child[2]))
        return
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as temporary:
        work = Path(temporary)
        server_db = work / "server.sqlite3"
        print(f"generating {args.calls:,} conversations…", flush=True)
        make_server_db(server_db, args.calls)
        with sqlite3.connect(server_db) as source:
            columns = ", ".join(CONVERSATION_FIELDS)
            rows = source.execute(f"SELECT {columns} FROM conversation ORDER BY seq").fetchall()
        server, url = start_server(server_db)
        baseline_times, sync_times, rss = [], [], []
        try:
            for run in range(1, args.runs + 1):
                folder = work / f"run{run}"
                baseline_times.append(time_baseline(folder / "baseline", rows))
                figures = time_sync(folder / "sync", url, args.page_size)
                assert figures["rows"] == len(rows), figures
                sync_times.append(figures["seconds"])
                rss.append(figures["max_rss_mb"])
                shutil.rmtree(folder)
                print(
                    f"run {run}: executemany {baseline_times[-1]:6.2f} s,"
                    f" sync {sync_times[-1]:6.2f} s, sync peak RSS {rss[-1]:.0f} MB",
                    flush=True,
                )
        finally:
            server.terminate()
            server.wait(timeout=15)
    baseline, synced = statistics.median(baseline_times), statistics.median(sync_times)
    print(f"conversations:              {len(rows):,}")
    print(f"raw executemany (median):   {baseline:.2f} s = {len(rows) / baseline:,.0f} rows/s")
    print(f"sync over HTTP (median):    {synced:.2f} s = {len(rows) / synced:,.0f} rows/s")
    print(f"sync / raw throughput:      {baseline / synced:.2f}x (target >= 0.5x)")
    print(f"sync peak RSS (max):        {max(rss):.0f} MB (target <= 200 MB)")


if __name__ == "__main__":
    main()
