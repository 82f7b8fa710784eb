"""Benchmark: a list of 50,000 agents: first paint, filter keystrokes, sorting.

    .venv/bin/python bench/agents_page.py [--agents 50000] [--runs 7] [--size 120x40] [--widget]

By default it measures the real Agents page (``PageBenchApp``); ``--widget`` measures the
bare table widget alone.

Builds a cache with the agents' listing rows (``cache/listing.py``) in a temporary folder,
then runs a minimal Textual app (a 24-column sidebar and a ``RecordTable``) headless and
measures, each time to the first frame the compositor produced with the answer in place
(``App._display`` is called for every frame, headless too; see bench/open_team.py):

- first paint: load_listing (in a thread) + RowSet + set_rows, to the rows painted;
- a filter keystroke: "a", "an", "ann", ... one character at a time, ``apply`` to frame;
- sorting: a column's hotkey (its first sort: the order is built), then again (flip).

The baseline, measured in the same run and interleaved (PERFORMANCE.md: this machine is
noisy), is moving the cursor down one row. Targets: first paint <= 300 ms, a filter
keystroke <= 50 ms, a sort <= 200 ms.

The measuring functions (``until_painted``, ``measure_first_paint``, ``measure_typing``,
``measure_sorting``, ``measure_baseline``) take an app whose class mixes in
``FrameCatcher`` and callables, so they can be pointed at the real Agents page.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from stratus_tui.cache.listing import load_listing, store_listing
from stratus_tui.cache.store import Cache
from stratus_tui.records.editing import AGENTS
from stratus_tui.records.rows import AGENT_COLUMNS
from stratus_tui.records.table import RowSet
from stratus_tui.widgets.record_table import RecordTable

KIND = AGENTS.listing  # the listing the Agents page reads
FIRST = ["Anna", "Annika", "Zoë", "Łukasz", "Søren", "Jürgen", "Chloé", "Mark", "Ann-Marie",
         "Björn", "Ines", "Małgorzata", "José", "Noah", "Lena", "Elif", "Marta"]  # fmt: skip
LAST = ["Müller", "Nowak", "Smith", "Dubois", "García", "O'Brien", "Jensen", "Rossi",
        "Kowalski", "Schneider", "Yılmaz", "Novák", "Brown", "Fischer"]  # fmt: skip  # noqa: RUF001
CJK = ["王小明", "李娜", "張偉", "佐藤 花子"]
ROLES = ["", "team admin", "tenant admin", "tenant admin, team admin"]
TYPED = "anna"
TARGETS = {"first paint": 300.0, "filter keystroke": 50.0, "sort": 200.0}


def agent_rows(count: int, seed: int = 1) -> list[tuple[int, tuple[str, ...]]]:
    """``AGENT_COLUMNS`` cells like ``records.rows.agent_cells`` makes, for ``count`` agents."""
    rng = random.Random(seed)
    rows = []
    for agent in range(1, count + 1):
        if rng.random() < 0.05:
            first, last = rng.choice(CJK), ""
        else:
            first, last = rng.choice(FIRST), rng.choice(LAST)
        login = f"{first}.{last}.{agent}".lower().replace(" ", "").replace("'", "")
        chosen = rng.sample(range(1, 60), rng.randint(0, 3))
        teams = ", ".join(sorted(f"Team {n:02d}" for n in chosen))
        values = {
            "name": f"{first} {last}".strip(), "upn": f"{login}@contoso.example",
            "sip": f"sip:{login}@contoso.example", "ou": f"OU {rng.randint(1, 40)}",
            "teams": teams, "roles": rng.choice(ROLES), "duty": f"Duty {rng.randint(1, 12)}",
            "active": "yes" if rng.random() < 0.9 else "no",
        }  # fmt: skip
        rows.append((agent, tuple(values[column.key] for column in AGENT_COLUMNS)))
    return rows


class FrameCatcher:
    """Mix into an App: catches the first frame composed once ``ready()`` holds."""

    ready: Callable[[], bool] | None = None
    painted: float | None = None

    def _display(self, screen: Any, renderable: Any) -> None:
        if renderable is not None and self.painted is None and self.ready and self.ready():
            self.painted = time.perf_counter()
        super()._display(screen, renderable)  # type: ignore[misc]


async def until_painted(
    app: FrameCatcher,
    start: Callable[[], Any],
    ready: Callable[[], bool],
    limit: float = 20.0,
) -> float:
    """Milliseconds from calling ``start()`` (awaited if it returns an awaitable) to the
    first frame composed once ``ready()`` was true."""
    app.ready, app.painted = ready, None
    started = time.perf_counter()
    result = start()
    if isinstance(result, Awaitable):
        await result
    while app.painted is None:  # polling is the measurement: no event to wait on
        if time.perf_counter() - started > limit:
            raise TimeoutError(f"no frame with the answer in {limit:.0f} s")
        await asyncio.sleep(0.0005)
    app.ready = None
    return (app.painted - started) * 1000


async def measure_baseline(app: FrameCatcher, table: RecordTable) -> float:
    """The cursor one row down, to the frame: the cheapest change there is."""
    table.action_first()  # not timed: so that there is a row below
    await asyncio.sleep(0.05)
    before = table.cursor_id
    return await until_painted(
        app, lambda: table.action_cursor_down(), lambda: table.cursor_id != before
    )


async def measure_first_paint(
    app: FrameCatcher, load: Callable[[], Awaitable[Any]], shown: Callable[[], bool]
) -> float:
    """From starting ``load()`` (reading the cache and handing the rows over) to the
    first frame with rows painted (``shown()``)."""
    return await until_painted(app, load, shown)


async def measure_typing(
    app: FrameCatcher, type_text: Callable[[str], Any], applied: Callable[[str], bool],
    text: str = TYPED,
) -> list[float]:  # fmt: skip
    """Each prefix of ``text`` typed in turn: ``type_text(prefix)`` to its frame."""
    times = []
    for end in range(1, len(text) + 1):
        prefix = text[:end]
        times.append(
            await until_painted(app, lambda p=prefix: type_text(p), lambda p=prefix: applied(p))
        )
    return times


async def measure_sorting(
    app: FrameCatcher, press: Callable[[str], Any], table: RecordTable, key: str, hotkey: str
) -> tuple[float, float]:
    """A column's hotkey (first sort of it), then again (flip), each to its frame."""
    first = await until_painted(
        app, lambda: press(hotkey), lambda: table.sort_key == key and not table.descending
    )
    flip = await until_painted(
        app, lambda: press(hotkey), lambda: table.sort_key == key and table.descending
    )
    return first, flip


class BenchApp(FrameCatcher, App[None]):
    CSS = "#sidebar { width: 24; } RecordTable { width: 1fr; }"

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static("sidebar", id="sidebar")
            yield RecordTable(id="agents", empty_text="No agents")


class PageBenchApp(FrameCatcher, App[None]):
    """The real Agents page beside a sidebar-wide column, on a cache of ``path``.

    Its client points at a closed loopback port: the page paints from the cache (what is
    measured) and its refresh from the server fails at once, as when the server is away.
    """

    CSS = "#sidebar { width: 24; }"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.cache_path = path
        self.wall_clock = time.time

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            yield Static("sidebar", id="sidebar")

    def new_page(self) -> Any:
        from stratus_tui.api.client import StratusClient
        from stratus_tui.api.models import CurrentUser
        from stratus_tui.auth.idle import IdleClock
        from stratus_tui.config.settings import Profile
        from stratus_tui.screens.pages.agents import AgentsPage
        from stratus_tui.session import Session

        user = CurrentUser(
            id=1, first_name="Bench", last_name="Admin", upn="admin@contoso.example",
            sip_uri=None, roles=["tenant_admin"], role="tenant_admin", tenant_id=1,
            tenant_name="Contoso", time_zone="UTC", team_ids=[], live_chat_enabled=False,
        )  # fmt: skip
        profile = Profile(name="bench", url="http://127.0.0.1:9")
        session = Session(
            profile, StratusClient(profile.url), user, IdleClock(), Cache.open_path(self.cache_path)
        )
        return AgentsPage(session, id="agents")


async def run_page(path: Path, runs: int, size: tuple[int, int]) -> dict[str, list[float]]:
    """The same measurements on the real Agents page (a new page each run: first paint is
    the page opening, as pressing 2 opens it)."""
    app = PageBenchApp(path)
    names = ("baseline", "first paint", "filter keystroke", "sort", "sort flip")
    results: dict[str, list[float]] = {name: [] for name in names}
    async with app.run_test(size=size) as pilot:
        body = app.query_one("#body")
        sorts = [("name", "N"), ("upn", "U"), ("teams", "T"), ("ou", "O"), ("roles", "R")]
        for number in range(runs + 1):  # run 0 warms up
            page = app.new_page()
            paint = await measure_first_paint(
                app,
                lambda page=page: body.mount(page),
                lambda page=page: page.is_mounted and page.table.visible_count > 0,
            )
            table = page.table
            table.focus()
            base = [await measure_baseline(app, table)]
            await asyncio.sleep(0.3)  # no one types sooner after the list appears
            field = page.query_one("#records-filter")
            page.action_filter()
            await pilot.pause()
            typed = await measure_typing(
                app,
                lambda text, field=field: setattr(field, "value", text),
                lambda text, table=table: table.filter_text == text,
            )
            page.action_close_filter()
            await pilot.pause()
            base.append(await measure_baseline(app, table))
            key, hotkey = sorts[number % len(sorts)]
            first, flip = await measure_sorting(app, app.simulate_key, table, key, hotkey)
            base.append(await measure_baseline(app, table))
            await page.session.client.aclose()
            page.session.cache.close()
            await page.remove()
            if number:
                results["first paint"].append(paint)
                results["filter keystroke"] += typed
                results["sort"].append(first)
                results["sort flip"].append(flip)
                results["baseline"] += base
    return results


def median(values: list[float]) -> float:
    return statistics.median(values)


async def run(path: Path, runs: int, size: tuple[int, int]) -> dict[str, list[float]]:
    cache = Cache.open_path(path)
    app = BenchApp()
    names = ("baseline", "first paint", "filter keystroke", "sort", "sort flip")
    results: dict[str, list[float]] = {name: [] for name in names}
    async with app.run_test(size=size) as pilot:
        table = app.query_one(RecordTable)
        table.focus()
        await pilot.pause()

        def read() -> RowSet:
            return RowSet(AGENT_COLUMNS, *load_listing(cache, KIND))

        async def load() -> None:
            table.set_rows(await asyncio.to_thread(read))

        sorts = [("name", "N"), ("upn", "U"), ("teams", "T"), ("ou", "O"), ("roles", "R")]
        for number in range(runs + 1):  # run 0 warms up
            table.set_rows(RowSet(AGENT_COLUMNS, [], []))
            table.apply("", None, False)
            await pilot.pause()
            paint = await measure_first_paint(app, load, lambda: table.visible_count > 0)
            base = [await measure_baseline(app, table)]
            await asyncio.sleep(0.3)  # no one types sooner after the list appears
            typed = await measure_typing(
                app,
                lambda text: table.apply(text, table.sort_key, table.descending),
                lambda text: table.filter_text == text,
            )
            base.append(await measure_baseline(app, table))
            table.apply("", None, False)
            await pilot.pause()
            key, hotkey = sorts[number % len(sorts)]
            first, flip = await measure_sorting(app, app.simulate_key, table, key, hotkey)
            base.append(await measure_baseline(app, table))
            if number:
                results["first paint"].append(paint)
                results["filter keystroke"] += typed
                results["sort"].append(first)
                results["sort flip"].append(flip)
                results["baseline"] += base
    cache.close()
    return results


def report(results: dict[str, list[float]], agents: int, size: tuple[int, int]) -> None:
    base = median(results["baseline"])
    print(f"{agents:,} agents, {size[0]}x{size[1]} with a 24-column sidebar; medians, to painted:")
    print(f"  baseline: cursor down one row   {base:7.1f} ms")
    for name in ("first paint", "filter keystroke", "sort", "sort flip"):
        values = results[name]
        target = TARGETS.get(name.split(" flip")[0], 0.0)
        print(
            f"  {name:<31} {median(values):7.1f} ms  {median(values) / base:5.1f}x baseline"
            f"   slowest {max(values):7.1f}   target <= {target:.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--size", default="120x40")
    parser.add_argument(
        "--widget", action="store_true", help="the bare table widget instead of the Agents page"
    )
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="agents-bench-") as folder:
        path = Path(folder) / "cache.sqlite3"
        rows = agent_rows(args.agents)
        with Cache.open_path(path) as cache:
            store_listing(cache, KIND, rows)
            started = time.perf_counter()
            load_listing(cache, KIND)
            loaded = (time.perf_counter() - started) * 1000
        print(f"cache: {args.agents:,} listing rows; load_listing alone {loaded:.0f} ms")
        measure = run if args.widget else run_page
        what = "the bare RecordTable" if args.widget else "the Agents page (pages/agents.py)"
        print(what)
        results = asyncio.run(measure(path, args.runs, (width, height)))
        report(results, args.agents, (width, height))


if __name__ == "__main__":
    main()
