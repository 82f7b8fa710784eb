"""Benchmark: Reporting, from the Enter key on a team to its report painted, on a big cache.

    .venv/bin/python bench/open_team.py [--calls 5000000] [--teams 10] [--runs 15] [--keep FILE]

Builds (or reuses, with ``--keep``) the cache of ``bench/reports.py``, then runs the real
ReportingPage headless at 120x40, then 80x24, on it. Each run moves the cursor to the next
team (``down``) and opens it (``enter``); both are timed from the key to the first frame
the compositor produced with the answer in place (``App._display`` is called for every
frame, headless too): overview, call volume (plotext's rendering included) and heatmap.

Two ways to press Enter, each its own series of runs:
- at once, the moment the cursor's frame is painted (a key held down, a script): the
  page has had no time to read the team's report ahead, and the report's frame must wait
  for the next frame slot (Textual paints at most 60 frames a second);
- after a pause of 0.2 s, a person's pace between two keys (typing runs 0.15-0.3 s a key):
  the page has read the report and drawn its chart ahead while the cursor rested there.

The ``down`` key, one row of the table repainted, is the baseline measured in the same
run (PERFORMANCE.md: this machine is noisy, compare within one run). Target: open a team
<= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from textual.app import App, ComposeResult

from stratus_tui.cache import schema
from stratus_tui.cache.store import Cache
from stratus_tui.screens.pages.reporting import ReportingPage

HERE = Path(__file__).parent


def reports_bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_reports", HERE / "reports.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prepare(path: Path, calls: int, teams: int) -> None:
    """The big cache, made openable by ``Cache`` (schema version) and with team entities."""
    bench = reports_bench()
    if not path.exists():
        bench.build(path, calls, teams)
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION}")
    cache = Cache.open_path(path)
    assert cache.notice is None, cache.notice
    items = {
        str(team): json.dumps(
            {"id": team, "name": f"Team {team:02d}", "time_zone": bench.ZONES[(team - 1) % 10]}
        )
        for team in range(1, teams + 1)
    }
    cache.put_entities("team", items, int(time.time()))
    cache.close()


class Bench(App[None]):
    """Only the Reporting page, on a session that has nothing but the cache."""

    def __init__(self, cache: Cache, now: float) -> None:
        super().__init__()
        self.session = SimpleNamespace(cache=cache, user=SimpleNamespace(time_zone=None))
        self.wall_clock = lambda: now  # the cache's history ends at the bench's NOW
        self.ready: Any = None  # what key_to_frame waits for
        self.painted: float | None = None  # when the first frame with it was composed

    def compose(self) -> ComposeResult:
        yield ReportingPage(self.session)  # type: ignore[arg-type]

    def _display(self, screen: Any, renderable: Any) -> None:
        if renderable is not None and self.painted is None and self.ready and self.ready():
            self.painted = time.perf_counter()
        super()._display(screen, renderable)


async def key_to_frame(app: Bench, key: str, ready: Any, limit: float = 10.0) -> float:
    """Milliseconds from ``key`` to the first frame composed once ``ready()`` was true.

    The frame is caught in ``_display`` itself: a poller that looks after the fact can wake
    only after that frame (the loop was busy making it) and then wait for one that never
    comes.
    """
    app.ready, app.painted = ready, None
    started = time.perf_counter()
    app.simulate_key(key)
    while app.painted is None:  # polling is the measurement: no event to wait on
        if time.perf_counter() - started > limit:
            raise TimeoutError(f"{key!r}: no frame with the answer in {limit:.0f} s")
        await asyncio.sleep(0.0005)
    app.ready = None
    return (app.painted - started) * 1000


async def measure(
    path: Path, runs: int, now: float, size: tuple[int, int], pause: float
) -> tuple[list[float], list[float]]:
    """Milliseconds to open a team and to move the cursor, ``runs`` times each."""
    cache = Cache.open_path(path)
    app = Bench(cache, now)
    opened: list[float] = []
    moved: list[float] = []
    async with app.run_test(size=size) as pilot:
        page = app.query_one(ReportingPage)
        while not page.query("TeamList DataTable").first().row_count:
            await pilot.pause()
        table: Any = page.query_one("TeamList DataTable")
        table.focus()
        await pilot.pause()
        for run in range(runs + 1):  # run 0 warms up (imports, first plotext figure)
            row = table.cursor_row
            moved_ms = await key_to_frame(app, "down", lambda row=row: table.cursor_row != row)
            team = page.query_one("TeamList").chosen()
            if pause:
                await asyncio.sleep(pause)
            opened_ms = await key_to_frame(
                app, "enter", lambda team=team: page.report is not None and page.report.team == team
            )
            if run:
                moved.append(moved_ms)
                opened.append(opened_ms)
            await pilot.press("escape")
            await pilot.pause()
            if table.cursor_row == table.row_count - 1:
                table.move_cursor(row=0)
    cache.close()
    return opened, moved


def report(
    size: tuple[int, int], runs: int, results: dict[str, tuple[list[float], list[float]]]
) -> None:
    print(f"medians of {runs} runs, {size[0]}x{size[1]}, key to painted (target: open <= 50 ms):")
    for name, (opened, moved) in results.items():
        open_ms, move_ms = statistics.median(opened), statistics.median(moved)
        print(
            f"  open a team, {name:<16} {open_ms:6.1f} ms   slowest {max(opened):6.1f} ms   "
            f"baseline (down) {move_ms:5.1f} ms   open / baseline {open_ms / move_ms:4.1f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5_000_000)
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", type=Path, help="build the cache here once, then reuse it")
    args = parser.parse_args()
    now = reports_bench().NOW.timestamp()
    with tempfile.TemporaryDirectory(prefix="open-team-bench-") as folder:
        path = args.keep or Path(folder) / "cache.sqlite3"
        prepare(path, args.calls, args.teams)
        print(f"cache: {path} ({path.stat().st_size / 2**20:,.0f} MiB, {args.calls:,} calls)")
        for size in ((120, 40), (80, 24)):
            results = {
                "Enter at once": asyncio.run(measure(path, args.runs, now, size, 0.0)),
                "after 0.2 s": asyncio.run(measure(path, args.runs, now, size, 0.2)),
            }
            report(size, args.runs, results)
    sys.exit(0)


if __name__ == "__main__":
    main()
