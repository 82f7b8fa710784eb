"""The reference server under load, bounded for CI: the TUI syncs the seeded history (20,000
conversations) over loopback while 20 other clients poll the Home dashboard.

Nothing fails (no 5xx, no timeout, no "database is locked"), the sync is complete and
counts nothing twice, and the TUI keeps answering keys meanwhile. No timing is asserted:
``bench/load.py`` measures (1M conversations, key-to-paint against an idle baseline); this
test runs its pollers (a child process) and its ``TimedApp`` / ``key_to_paint``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import socket
import sqlite3
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from stratus_tui.api.client import StratusClient
from stratus_tui.cache import sync
from stratus_tui.config.settings import Profile, Settings
from tests.cache_helpers import cache_ids, check_consistent, kept
from tests.conftest import SYSADMIN, Served
from tests.tui import settle, sign_in

pytestmark = pytest.mark.socket

BENCH = Path(__file__).resolve().parent.parent / "bench" / "load.py"
POLLERS = 20
IDLE = 6.0  # seconds: uvicorn's default keep-alive (5 s) closed an idle connection by then


def load_bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_load", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class HeldPages(httpx.AsyncBaseTransport):
    """Loopback HTTP, with the sync's first history page held until ``polling`` is set (the
    pollers are all at work) and its second until ``answered`` (a key changed the screen):
    the sync cannot end before the test has seen the TUI answer while it runs."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.polling, self.answered = asyncio.Event(), asyncio.Event()
        self.pages = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/conversations"):
            self.pages += 1
            if self.pages <= 2:
                gate = self.polling if self.pages == 1 else self.answered
                await asyncio.wait_for(gate.wait(), 120)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def health_over(connection: socket.socket) -> bytes:
    """``GET /health`` on an open keep-alive connection: the answer's status line."""
    answer = b""
    try:
        connection.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: stratus\r\n\r\n")
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                return b"closed by the server"
            answer += chunk
    except OSError as error:
        return f"closed by the server ({error})".encode()
    head, _, body = answer.partition(b"\r\n\r\n")
    length = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
    assert length is not None
    while len(body) < int(length[1]):
        body += connection.recv(4096)
    return head.split(b"\r\n")[0]


def expected_ids(database: Path) -> set[int]:
    """Every conversation on the server that retention keeps: the system admin's sync."""
    with closing(sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)) as c:
        zones = dict(c.execute("SELECT id, time_zone FROM team").fetchall())
        rows = c.execute(
            "SELECT id, seq, tenant_id, team_id, 0, 0, 0, 0, 0, started_at FROM conversation"
        ).fetchall()
    return kept({row[0]: tuple(row) for row in rows}, zones.__getitem__, time.time())


async def test_the_tui_syncs_while_twenty_clients_poll_the_dashboard(
    seeded_loopback_server: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = load_bench()
    record = bench.SyncRecord()
    monkeypatch.setattr(sync, "sync_history", bench.timed_sync(sync.sync_history, record))
    held = HeldPages()
    profile = Profile(name="load", url=seeded_loopback_server.url)
    app = bench.TimedApp(
        Settings(profiles={profile.name: profile}),
        profile,
        client_factory=lambda chosen: StratusClient(chosen.url, transport=held),
    )
    address = urlsplit(seeded_loopback_server.url)
    idle = socket.create_connection((address.hostname, address.port), timeout=30)
    assert health_over(idle) == b"HTTP/1.1 200 OK"
    idle_since = time.monotonic()
    pollers = bench.Pollers(seeded_loopback_server.url, clients=POLLERS, every=0.5)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await sign_in(pilot, SYSADMIN)  # the sync starts; its first page waits for:
            await asyncio.to_thread(pollers.wait_ready)
            held.polling.set()
            for _ in range(6000):  # the first page stored, the second one held
                if held.pages >= 2:
                    break
                await asyncio.sleep(0.01)
            assert held.pages == 2 and not record.done.is_set()
            before = app.sidebar.highlighted if app.sidebar else None
            await bench.key_to_paint(app, "down")  # raises if the screen never changes
            assert app.sidebar.highlighted != before
            assert not record.done.is_set()  # answered while the sync is under way
            held.answered.set()
            await bench.keys_until(app, record.done.is_set, limit=50)  # and on, to its end
            await record.done.wait()
            await settle(pilot)
            assert app.session is not None and app.session.cache is not None
            cache = app.session.cache
            ids = cache_ids(cache)
            check_consistent(cache)
            await pilot.exit(None)  # quit as a user does: no timer ticks into the teardown
        # A connection left idle through all this is still open (well past the 4 s a
        # client keeps one): a server closing it first races a client's next request.
        await asyncio.sleep(max(0.0, idle_since + IDLE - time.monotonic()))
        assert health_over(idle) == b"HTTP/1.1 200 OK"
    finally:
        idle.close()
        polled = pollers.stop()
    assert polled.errors == []
    assert polled.polls >= POLLERS  # each client polled at least once during the sync
    assert record.error is None
    with closing(sqlite3.connect(seeded_loopback_server.database)) as connection:
        total = connection.execute("SELECT count(*) FROM conversation").fetchone()[0]
    assert record.rows == total  # the whole feed went through the sync
    expected = expected_ids(seeded_loopback_server.database)
    assert len(ids) == len(set(ids)) and set(ids) == expected  # all kept, none twice
