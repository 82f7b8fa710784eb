"""Benchmark: the hourly sync, one new hour of history, against one plain request.

    .venv/bin/python bench/sync_incremental.py [--calls 1000000] [--runs 7]

Generates a server database whose history ends next Tuesday at 09:00 UTC (so the hours
added next are among the busiest of the week, 10:00 onwards in Zurich; in the future, so
``serve`` has nothing to top up when it opens it), starts ``stratus-tui serve`` on it on
a loopback port and fills a cache with a first sync. Then, per run: the
server's history grows by one hour
(``top_up_history``, what a real server would have recorded meanwhile) and the cache
syncs it, as the TUI does every hour (signed in already: ``/teams``, the feed, storing,
rollups, retention). Interleaved with each run, the baseline: one plain authenticated
``GET /teams`` round trip on the same client, the least a sync could cost.

Target (PERFORMANCE.md): the incremental sync of one hour <= 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from stratus_tui.api import models
from stratus_tui.api.client import StratusClient
from stratus_tui.cache.store import Cache
from stratus_tui.cache.sync import sync_history
from stratus_tui.server import db
from stratus_tui.server.top_up import history_end, top_up_history

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sync_initial import SYSADMIN, make_server_db, start_server

HOUR = 3600


def next_tuesday_9am() -> int:
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    return int((today + timedelta(days=(1 - today.weekday()) % 7 or 7)).timestamp())


def fixed(moment: int) -> Callable[[], float]:
    return lambda: moment


async def measure(url: str, server_db: Path, folder: Path, runs: int, start: int) -> None:
    async with StratusClient(url) as client:
        await client.login(SYSADMIN, SecretStr("demo"))
        me = await client.me()
        cache = Cache.open("bench", url, SYSADMIN, folder=folder)
        started = time.perf_counter()
        first = await sync_history(client, cache, user=me, now=fixed(start))
        print(
            f"first sync: {first.added:,} conversations in {time.perf_counter() - started:.2f} s",
            flush=True,
        )
        syncs, requests, sizes = [], [], []
        for run in range(1, runs + 1):
            database = db.open_database(server_db)
            end = history_end()
            assert end is not None
            added = top_up_history(end + HOUR)
            database.close()
            started = time.perf_counter()
            await client.get_all("/teams", models.Team)
            requests.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = await sync_history(client, cache, user=me, now=fixed(end + HOUR))
            syncs.append(time.perf_counter() - started)
            assert result.added == added, (result, added)
            sizes.append(added)
            print(
                f"run {run}: +{added:,} conversations, sync {syncs[-1] * 1000:6.1f} ms,"
                f" one GET /teams {requests[-1] * 1000:5.1f} ms",
                flush=True,
            )
        cache.close()
    sync, request = statistics.median(syncs), statistics.median(requests)
    print(f"conversations per hour (median):   {statistics.median(sizes):,.0f}")
    print(f"incremental sync (median):         {sync * 1000:.1f} ms (target <= 200 ms)")
    print(f"one GET /teams (median):           {request * 1000:.1f} ms")
    print(f"sync / one request:                {sync / request:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as temporary:
        work = Path(temporary)
        server_db = work / "server.sqlite3"
        print(f"generating {args.calls:,} conversations…", flush=True)
        start = next_tuesday_9am()
        make_server_db(server_db, args.calls, now=start)
        server, url = start_server(server_db)
        try:
            asyncio.run(measure(url, server_db, work / "cache", args.runs, start))
        finally:
            server.terminate()
            server.wait(timeout=15)


if __name__ == "__main__":
    main()
