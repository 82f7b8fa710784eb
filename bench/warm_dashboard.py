"""Benchmark: sign-in to the Home dashboard painted, warm cache, server slow to answer.

    .venv/bin/python bench/warm_dashboard.py [--delay 1.0] [--runs 5]

The reference server runs in-process (httpx's ASGI transport) behind a transport that holds
every answer but the sign-in's for ``--delay`` seconds: a slow link. Each run signs in to the
real app (headless, 120x40) and times from the sign-in answer to the first frame showing the
dashboard's cards (``App._display`` sees every frame, headless too):

- cold: an empty cache, so the dashboard waits for the server (about ``--delay`` and more);
- warm: the cache a first session filled, so the last known dashboard is painted at once
  while the refresh is still on its way.

Target (issue 5): the warm dashboard does not wait for the server, i.e. warm is a small
fraction of the delay. Prints both medians and the ratios warm / delay and warm / cold.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from stratus_tui.api.client import StratusClient
from stratus_tui.app import StratusApp
from stratus_tui.config.settings import Profile, Settings
from stratus_tui.screens.login import LoginScreen
from stratus_tui.screens.pages.home import HomePage
from stratus_tui.server import db
from stratus_tui.server.app import create_app, server_context
from stratus_tui.server.seed import DEMO_PASSWORD, SeedOptions, seed_demo

PROFILE = Profile(name="bench", url="http://stratus.bench")
USER = "admin@demo.stratus"


class SlowTransport(httpx.AsyncBaseTransport):
    """Every answer but the sign-in's takes ``delay`` seconds more."""

    def __init__(self, app: Any, delay: float) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.delay = delay

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/auth/login"):
            await asyncio.sleep(self.delay)
        return await self.inner.handle_async_request(request)


class Timed(StratusApp):
    frames: list[float]

    def _display(self, screen: Any, renderable: Any) -> None:
        if renderable is not None:
            self.frames.append(time.perf_counter())
        super()._display(screen, renderable)


async def sign_in_and_time(server: Any, delay: float) -> float:
    """Milliseconds from the sign-in answer to the first frame with the dashboard's data."""

    def client(profile: Profile) -> StratusClient:
        return StratusClient(profile.url, transport=SlowTransport(server, delay))

    app = Timed(Settings(profiles={PROFILE.name: PROFILE}), PROFILE, client_factory=client)
    app.frames = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        login = app.screen
        assert isinstance(login, LoginScreen)
        login.query_one("#username").value = USER  # type: ignore[attr-defined]
        login.query_one("#password").value = DEMO_PASSWORD  # type: ignore[attr-defined]
        await login.sign_in().wait()
        signed_in = time.perf_counter()
        while True:
            page = app.screen.query(HomePage)
            if page and page.first().data is not None:
                break
            await asyncio.sleep(0.001)
        shown = time.perf_counter()
        while not app.frames or app.frames[-1] < shown:  # noqa: ASYNC110 - polling is the measurement
            await asyncio.sleep(0.001)
        painted = app.frames[-1]
        for worker in list(app.workers):  # let the refresh and the sync end before the next run
            worker.cancel()
    return (painted - signed_in) * 1000


async def measure(delay: float, runs: int, cache_root: Path) -> None:
    server = create_app()
    server.state.context = server_context()
    cold: list[float] = []
    warm: list[float] = []
    for run in range(runs):
        os.environ["XDG_CACHE_HOME"] = str(cache_root / f"run{run}")
        cold.append(await sign_in_and_time(server, delay))  # empty cache
        warm.append(await sign_in_and_time(server, delay))  # the cache the first one filled
        print(f"  run {run + 1}: cold {cold[-1]:7.0f} ms   warm {warm[-1]:6.0f} ms")
    cold_ms, warm_ms = statistics.median(cold), statistics.median(warm)
    print(f"server delay {delay * 1000:.0f} ms per answer; medians of {runs} runs:")
    print(f"  cold cache: sign-in to dashboard   {cold_ms:7.0f} ms")
    print(f"  warm cache: sign-in to dashboard   {warm_ms:7.0f} ms")
    print(f"  warm / server delay                {warm_ms / (delay * 1000):7.2f}x  (target: << 1)")
    print(f"  warm / cold                        {warm_ms / cold_ms:7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="warm-dashboard-") as folder:
        root = Path(folder)
        database = db.open_database(root / "server.sqlite3")
        seed_demo(SeedOptions(seed=7, calls=2000))
        os.environ["XDG_CONFIG_HOME"] = str(root / "config")
        asyncio.run(measure(args.delay, args.runs, root))
        database.close()


if __name__ == "__main__":
    main()
