"""Benchmark: the TUI syncs 1M conversations while 20 other clients poll the dashboard.

    .venv/bin/python bench/load.py [--calls 1000000] [--pollers 20] [--every 0.5]
                                   [--runs 3] [--keep FILE]

Generates a server database with ``--calls`` conversations (``--keep FILE``: generated once
into FILE and reused by later invocations), starts ``stratus-tui serve`` on it on a loopback
port, then, ``--runs`` times, interleaved (PERFORMANCE.md: compare within one run):

- idle: the real app (headless, 120x40, a child process) signed in as the system admin
  without a cache (so no sync), and nothing else running: key-to-paint of ``down``/``up``
  in the sidebar, the baseline;
- quiet: the same app with a fresh cache: the history sync of all of it, key-to-paint
  measured all along the sync;
- loaded: the same as quiet, while ``--pollers`` clients (another child process, each its
  own session) load the Home dashboard every ``--every`` seconds for the sync's duration.
  Half of them are automatic refreshes, half a person's (those slide the session: a write).

Key-to-paint: from the key event handed to the app as its terminal driver does, to the
first frame the compositor produced with the sidebar's highlight moved (``App._display``
sees every frame, headless too). A person presses a key every 0.1 s.

Errors, which must be 0: a poll or the sync failing (5xx, a timeout, "database is locked",
a malformed answer), a key not painted, rows missing or counted twice (the cache's rows are
checked against the server's), anything alarming in the server's log. Prints the sync's
duration loaded / quiet, dashboard poll latency percentiles, key-to-paint percentiles and
their ratios to idle, and exits 1 on any error.

The CI version is tests/test_load.py (20,000 conversations): it runs this file's pollers
(``load.py pollers URL``) and ``TimedApp`` / ``key_to_paint`` in the test process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SYSADMIN = "sysadmin@demo.stratus"
PASSWORD = "demo"
# The pollers sign in as these, in turn: staff, so each poll is the dashboard's three requests.
POLL_USERS = (
    "admin@demo.stratus",
    "teamadmin@demo.stratus",
    "sysadmin@demo.stratus",
    "admin@contoso.com",
)
KEY_GAP = 0.1  # seconds between two key presses, as a person scrolling
IDLE_KEYS = 40
PAINT_TIMEOUT = 30.0  # a key not painted by then counts as an error
ALARMING = re.compile(r"Traceback|locked|Exception|ERROR|Internal Server Error", re.IGNORECASE)


# --- the pollers: a child process of their own ----------------------------------------------


async def poll_dashboards(
    url: str, clients: int, every: float, stop: asyncio.Event, ready: Callable[[], None]
) -> dict[str, Any]:
    """``clients`` sessions loading the Home dashboard every ``every`` s until ``stop``."""
    from stratus_tui.api.client import StratusClient
    from stratus_tui.api.errors import StratusError
    from stratus_tui.dashboard import load_dashboard

    latencies: list[float] = []
    errors: list[str] = []
    signed_in = 0

    async def one(index: int) -> None:
        nonlocal signed_in
        async with StratusClient(url) as client:
            info = await client.login(POLL_USERS[index % len(POLL_USERS)], PASSWORD)
            signed_in += 1
            if signed_in == clients:
                ready()
            background = index % 2 == 1  # the others are a person pressing refresh
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    await load_dashboard(client, info.user.role, background=background)
                except StratusError as error:
                    errors.append(f"{type(error).__name__}: {error}")
                else:
                    latencies.append(time.perf_counter() - started)
                rest = every - (time.perf_counter() - started)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(0.0, rest))

    await asyncio.gather(*(one(index) for index in range(clients)))
    return {"polls": len(latencies) + len(errors), "latencies": latencies, "errors": errors}


def pollers_child(url: str, clients: int, every: float) -> None:
    """Print "ready" once every client is signed in; poll until a line (or the end) on
    standard input; print the figures as JSON."""

    def say_ready() -> None:
        print("ready", flush=True)

    async def main() -> dict[str, Any]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        async def wait_for_stop() -> None:
            await loop.run_in_executor(None, sys.stdin.readline)
            stop.set()

        watcher = asyncio.create_task(wait_for_stop())
        try:
            return await poll_dashboards(
                url, clients, every, stop, lambda: print("ready", flush=True)
            )
        finally:
            watcher.cancel()

    print(json.dumps(asyncio.run(main())), flush=True)


@dataclass
class PollFigures:
    polls: int
    latencies: list[float]
    errors: list[str]


class Pollers:
    """The pollers' child process, from the parent: started, ready, stopped."""

    def __init__(self, url: str, clients: int = 20, every: float = 0.5) -> None:
        command = [sys.executable, str(HERE / "load.py"), "pollers", url]
        command += ["--clients", str(clients), "--every", str(every)]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_ready(self) -> None:
        """Block until every client is signed in and polling."""
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            self.process.kill()
            _, err = self.process.communicate(timeout=30)
            raise RuntimeError(f"the pollers did not start: {line}{err}")

    def stop(self) -> PollFigures:
        out, err = self.process.communicate("stop\n", timeout=120)
        if self.process.returncode != 0:
            return PollFigures(0, [], [f"the pollers failed: {err.strip()}"])
        raw = json.loads(out.strip().splitlines()[-1])
        return PollFigures(raw["polls"], raw["latencies"], raw["errors"])


# --- the app, timed -------------------------------------------------------------------------


def _app_class() -> type[Any]:
    from stratus_tui.app import StratusApp
    from stratus_tui.widgets.sidebar import Sidebar

    class TimedApp(StratusApp):
        """The real app, noting when each frame was painted and what the sidebar showed."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.frames: list[tuple[float, int | None]] = []
            self.sidebar: Sidebar | None = None

        def _display(self, screen: Any, renderable: Any) -> None:
            if renderable is not None:
                shown = None if self.sidebar is None else self.sidebar.highlighted
                self.frames.append((time.perf_counter(), shown))
            super()._display(screen, renderable)

    return TimedApp


def __getattr__(name: str) -> Any:
    # ``TimedApp`` on demand: importing this file (the pollers' child) needs no Textual.
    if name == "TimedApp":
        return _app_class()
    raise AttributeError(name)


async def key_to_paint(app: Any, key: str) -> float:
    """Seconds from ``key`` handed to the app (as its driver does) to the first frame with
    the sidebar's highlight moved. Raises TimeoutError when it is not painted at all."""
    from textual import events

    from stratus_tui.widgets.sidebar import Sidebar

    if app.sidebar is None:
        app.sidebar = app.main_screen.query_one(Sidebar)
        app.sidebar.focus()
        await asyncio.sleep(0.05)
    before = app.sidebar.highlighted
    seen = len(app.frames)
    event = events.Key(key, None)
    event.set_sender(app)
    started = time.perf_counter()
    app._driver.send_message(event)
    while time.perf_counter() - started < PAINT_TIMEOUT:
        for when, shown in app.frames[seen:]:
            if shown is not None and shown != before:
                return when - started
        await asyncio.sleep(0.002)
    raise TimeoutError(f"{key!r} was not painted within {PAINT_TIMEOUT:.0f} s")


@dataclass
class SyncRecord:
    """What the app's history sync did (filled in by ``timed_sync``)."""

    started: float | None = None
    seconds: float | None = None
    rows: int = 0  # rows the sync took in (added + changed)
    stored: int = 0  # rows it left in the cache (added - pruned)
    error: str | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


def timed_sync(original: Callable[..., Awaitable[Any]], record: SyncRecord) -> Any:
    """``cache.sync.sync_history`` as the main screen calls it, timed into ``record``."""

    async def timed(*args: Any, **kwargs: Any) -> Any:
        record.started = time.perf_counter()
        try:
            result = await original(*args, **kwargs)
        except BaseException as error:
            record.error = f"{type(error).__name__}: {error}"
            raise
        finally:
            record.seconds = time.perf_counter() - record.started
            record.done.set()
        record.rows = result.added + result.changed
        record.stored = result.added - result.pruned
        return result

    return timed


async def keys_until(app: Any, done: Callable[[], bool], limit: int = 100_000) -> list[float]:
    """Press ``down``, ``up``... every KEY_GAP seconds until ``done()``; their latencies."""
    latencies: list[float] = []
    while not done() and len(latencies) < limit:
        latencies.append(await key_to_paint(app, "down" if len(latencies) % 2 == 0 else "up"))
        await asyncio.sleep(KEY_GAP)
    return latencies


async def sign_in(app: Any, user: str) -> None:
    """Through the sign-in screen's form, then until the main screen shows."""
    from textual.widgets import Input

    from stratus_tui.screens.login import LoginScreen

    while not isinstance(app.screen, LoginScreen):  # noqa: ASYNC110 (the app's own loop)
        await asyncio.sleep(0.01)
    app.screen.query_one("#username", Input).value = user
    app.screen.query_one("#password", Input).value = PASSWORD
    await app.screen.sign_in().wait()
    from stratus_tui.widgets.sidebar import Sidebar

    for _ in range(3000):
        main = app.main_screen
        if main is not None and app.screen is main and main.is_mounted and main.query(Sidebar):
            return
        await asyncio.sleep(0.01)
    raise RuntimeError(f"not signed in: {app.screen!r}")


def app_child(url: str, folder: Path, sync: bool) -> None:
    """In a child process: sign in, press keys (during the sync, or IDLE_KEYS of them),
    print the figures as JSON."""
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        os.environ[name] = str(folder / name.lower())
    from stratus_tui.cache import sync as history
    from stratus_tui.config.settings import Profile, Settings

    record = SyncRecord()
    history.sync_history = timed_sync(history.sync_history, record)  # type: ignore[assignment]
    profile = Profile(name="bench", url=url)

    async def run() -> dict[str, Any]:
        app = _app_class()(Settings(profiles={profile.name: profile}), profile, use_cache=sync)
        figures: dict[str, Any] = {}
        async with app.run_test(size=(120, 40)):
            await sign_in(app, SYSADMIN)
            try:
                if sync:
                    figures["keys"] = await keys_until(app, record.done.is_set)
                    await record.done.wait()
                else:
                    figures["keys"] = await keys_until(app, lambda: False, IDLE_KEYS)
            except TimeoutError as error:
                figures["error"] = str(error)
            if sync and app.session is not None and app.session.cache is not None:
                path = app.session.cache.path
                with contextlib.closing(sqlite3.connect(path)) as connection:
                    figures["cached"] = connection.execute(
                        "SELECT count(*) FROM conversation"
                    ).fetchone()[0]
            for worker in list(app.workers):
                worker.cancel()
            app.exit()  # as a user quits: no timer ticks into the teardown
        figures.update(seconds=record.seconds, rows=record.rows, stored=record.stored)
        figures["error"] = figures.get("error") or record.error
        return figures

    print(json.dumps(asyncio.run(run())), flush=True)


def run_app(url: str, folder: Path, sync: bool) -> dict[str, Any]:
    command = [sys.executable, str(HERE / "load.py"), "app", url, str(folder)]
    done = subprocess.run(
        [*command, "--sync" if sync else "--no-sync"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"error": f"the app failed:\n{done.stderr}", "keys": []}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --- the benchmark --------------------------------------------------------------------------


class Server:
    """``stratus-tui serve`` on ``database``; its output kept, to look for trouble."""

    def __init__(self, database: Path) -> None:
        command = [sys.executable, "-m", "stratus_tui", "serve", "--port", "0"]
        self.process = subprocess.Popen(
            [*command, "--db", str(database)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        self.lines: list[str] = []
        self.url = ""
        for line in self.process.stdout:
            self.lines.append(line)
            if found := re.search(r"listening on (http://\S+)", line):
                self.url = found.group(1)
                break
        if not self.url:
            raise SystemExit("the server did not start:\n" + "".join(self.lines))
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def alarming(self) -> list[str]:
        return [line.rstrip() for line in self.lines if ALARMING.search(line)]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


def percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    return (
        f"p50 {at(0.5):6.1f}  p95 {at(0.95):6.1f}  p99 {at(0.99):6.1f}  "
        f"max {ordered[-1] * 1000:6.1f} ms  ({len(values):,})"
    )


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    pollers = commands.add_parser("pollers", help=argparse.SUPPRESS)
    pollers.add_argument("url")
    pollers.add_argument("--clients", type=int, default=20)
    pollers.add_argument("--every", type=float, default=0.5)
    app = commands.add_parser("app", help=argparse.SUPPRESS)
    app.add_argument("url")
    app.add_argument("folder", type=Path)
    app.add_argument("--sync", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--pollers", type=int, default=20)
    parser.add_argument("--every", type=float, default=0.5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="server database to generate once and reuse")
    args = parser.parse_args()
    if args.command == "pollers":
        pollers_child(args.url, args.clients, args.every)
        return
    if args.command == "app":
        app_child(args.url, args.folder, args.sync)
        return
    # Stopped with SIGTERM, still stop the server (the ``finally`` below).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with tempfile.TemporaryDirectory(prefix="load-bench-") as temporary:
        work = Path(temporary)
        database = work / "server.sqlite3"
        if args.keep is not None and args.keep.exists():
            print(f"reusing {args.keep}", flush=True)
        else:
            sys.path.insert(0, str(HERE))
            from sync_initial import make_server_db

            print(f"generating {args.calls:,} conversations…", flush=True)
            make_server_db(args.keep or database, args.calls)
        database = args.keep or database
        server = Server(database)  # tops the history up to the current hour first
        with contextlib.closing(sqlite3.connect(database)) as connection:
            total = connection.execute("SELECT count(*) FROM conversation").fetchone()[0]
        errors: list[str] = []
        runs: list[dict[str, Any]] = []
        try:
            for run in range(1, args.runs + 1):
                idle = run_app(server.url, work / f"run{run}-idle", sync=False)
                quiet = run_app(server.url, work / f"run{run}-quiet", sync=True)
                started = Pollers(server.url, args.pollers, args.every)
                started.wait_ready()
                loaded = run_app(server.url, work / f"run{run}-loaded", sync=True)
                polled = started.stop()
                for name, figures in (("idle", idle), ("quiet", quiet), ("loaded", loaded)):
                    if figures.get("error"):
                        errors.append(f"run {run} {name}: {figures['error']}")
                for name, figures in (("quiet", quiet), ("loaded", loaded)):
                    if figures.get("rows") != total or figures.get("cached") != figures.get(
                        "stored"
                    ):
                        errors.append(
                            f"run {run} {name}: synced {figures.get('rows')} of {total:,} rows,"
                            f" {figures.get('cached')} in the cache, {figures.get('stored')}"
                            " expected there"
                        )
                errors += [f"run {run} poll: {error}" for error in polled.errors]
                runs.append({"idle": idle, "quiet": quiet, "loaded": loaded, "polls": polled})
                print(
                    f"run {run}: sync quiet {quiet.get('seconds') or 0:6.2f} s,"
                    f" loaded {loaded.get('seconds') or 0:6.2f} s;"
                    f" key-to-paint p50 idle {median(idle['keys']) * 1000:5.1f} ms,"
                    f" quiet {median(quiet['keys']) * 1000:5.1f} ms,"
                    f" loaded {median(loaded['keys']) * 1000:5.1f} ms;"
                    f" {polled.polls:,} polls, {len(polled.errors)} failed",
                    flush=True,
                )
        finally:
            server.stop()
        errors += [f"server log: {line}" for line in server.alarming()]
    report(runs, total, args, errors)
    sys.exit(1 if errors else 0)


def report(
    runs: list[dict[str, Any]], total: int, args: argparse.Namespace, errors: list[str]
) -> None:
    quiet = median([r["quiet"].get("seconds") or float("nan") for r in runs])
    loaded = median([r["loaded"].get("seconds") or float("nan") for r in runs])
    keys = {
        name: [latency for r in runs for latency in r[name]["keys"]]
        for name in ("idle", "quiet", "loaded")
    }
    polls = [latency for r in runs for latency in r["polls"].latencies]
    print(f"conversations:               {total:,} (the system admin's sync: all of them)")
    print(f"pollers:                     {args.pollers} sessions, every {args.every} s")
    print(f"sync quiet (median):         {quiet:.2f} s = {total / quiet:,.0f} rows/s")
    print(f"sync under load (median):    {loaded:.2f} s = {total / loaded:,.0f} rows/s")
    print(f"sync loaded / quiet:         {loaded / quiet:.2f}x")
    print(f"dashboard polls under load:  {percentiles(polls)}")
    for name in ("idle", "quiet", "loaded"):
        print(f"key-to-paint {name + ':':<16}{percentiles(keys[name])}")
    idle = median(keys["idle"])
    print(f"key-to-paint sync / idle:    {median(keys['quiet']) / idle:.2f}x (median)")
    print(f"key-to-paint loaded / idle:  {median(keys['loaded']) / idle:.2f}x (median)")
    print(f"errors:                      {len(errors)} (target 0)")
    for line in errors[:20]:
        print(f"  {line}")


if __name__ == "__main__":
    main()
