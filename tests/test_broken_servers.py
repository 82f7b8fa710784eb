"""The client and the TUI against a broken server on a loopback socket (tests/broken_server.py).

Every mode of ``BrokenServer`` is thrown at ``StratusClient`` (a GET, a POST and a PATCH)
and at the TUI (Home's refresh, the Agents list, a save, the history sync, sign-in). Each
must end in the right retry or one clear message, with no crash; the local cache exactly
as it was; and a POST or PATCH sent once, never replayed (the server counts them).

tests/test_client.py covers the same answers through ASGI transports (no socket); here
the server really misbehaves on the wire: late, never, cut short, without end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from textual.pilot import Pilot
from textual.widgets import Input, Static

from stratus_tui.api import errors as err
from stratus_tui.api import models as m
from stratus_tui.api.client import StratusClient, Timeouts
from stratus_tui.app import StratusApp
from stratus_tui.cache.store import Cache
from stratus_tui.config.settings import Profile, Settings
from stratus_tui.screens.form import FormScreen
from stratus_tui.screens.login import LoginScreen
from stratus_tui.screens.main import MainScreen
from stratus_tui.screens.pages.agents import AgentsPage
from stratus_tui.screens.pages.home import HomePage
from stratus_tui.server import db
from stratus_tui.server.app import server_context
from stratus_tui.server.clock import FakeClock
from stratus_tui.server.seed import DEMO_PASSWORD
from stratus_tui.server.tls import loopback_certificate
from stratus_tui.session import open_client
from stratus_tui.widgets.sync_status import SyncStatus
from tests.broken_server import MANGLED, MODES, BrokenServer
from tests.conftest import ADMIN, MEMBER, named, user_id
from tests.tui import Clocks, message, settle, sign_in

pytestmark = pytest.mark.socket

API = "/api/v1"
CAP = 256 * 1024  # the client's size cap in the client tests
TUI_CAP = 2 * 1024 * 1024  # the TUI's: above a feed page of the test history
PATIENT = Timeouts(connect=10, read=20, write=10, pool=10)
# For the modes that answer late or never: a short read timeout (it starts once the
# request is sent), and for ``trickle`` a short deadline on the whole exchange. Not for the
# others: a loaded machine may hold the client's event loop longer than that before it
# has even sent the request.
IMPATIENT = Timeouts(connect=10, read=0.25, write=10, pool=10)
DRIBBLED = Timeouts(connect=10, read=0.25, write=10, pool=10, total=1.0)
LATE = frozenset({"slow", "hang", "trickle"})
RETRIED = frozenset({"429", "503"})
MAX_WAIT = 5.0  # the client's cap on a Retry-After wait
UNSURE = "may have been carried out all the same"

# What each mode must come to: the error, and a pattern of its one-line message.
EXPECTED: dict[str, tuple[type[err.StratusError], str]] = {
    # trickle: each byte within the read timeout, the whole beyond the deadline (or, the
    # machine busy, a byte late).
    "slow": (err.ServerTimeout, r"did not answer within 0\.25 s"),
    "trickle": (err.ServerTimeout, r"did not answer within (0\.25|1) s"),
    "hang": (err.ServerTimeout, r"did not answer within 0\.25 s"),
    "close": (err.ServerUnreachable, r"closed the connection without a valid answer"),
    "accept-close": (
        err.ServerUnreachable,
        r"closed the connection without a valid answer|connection was reset|broke off",
    ),
    "html-502": (err.ServerFailure, r"with HTTP 502 Bad Gateway and an HTML page"),
    "truncated": (err.BadResponse, r"broke off after \d[\d,]* bytes; nothing of it was used"),
    "huge": (err.BadResponse, r"is larger than 256 KiB; stratus-tui stopped reading it"),
    "huge-stream": (err.BadResponse, r"is larger than 256 KiB; stratus-tui stopped reading it"),
    "malformed": (err.BadResponse, r"is not valid JSON \(EOF while parsing"),
    "deep": (err.BadResponse, r"is nested too deeply to read"),
    "nan": (err.BadResponse, r"finite number|contains NaN|valid integer"),
    "wrong-types": (err.BadResponse, r"does not match what stratus-tui expects"),
    "duplicate-keys": (err.BadResponse, r"appears twice in one object"),
    "429": (err.RateLimited, r"^Too many requests; slow down$"),
    "503": (err.ServerFailure, r"HTTP 503 Service Unavailable and an HTML page"),
    "401": (err.Unauthenticated, r"^This session has ended; sign in again$"),
}
# Modes where the request went out and no whole answer came back.
ANSWER_LOST = frozenset({"slow", "trickle", "hang", "close", "accept-close", "truncated"})
assert set(EXPECTED) == set(MODES)


@pytest.fixture
def broken(server_app: FastAPI, server_db: Path, clock: FakeClock) -> Iterator[BrokenServer]:
    """The broken server in front of this test's reference server (proxying until told)."""
    server_app.state.context = server_context(clock=clock)
    with BrokenServer(server_app) as server:
        yield server


class Sleeps(list[float]):
    """A ``sleep`` that only records how long the client wanted to wait."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@contextlib.contextmanager
def impatient(client: StratusClient, mode: str) -> Iterator[None]:
    """Short timeouts while ``mode`` is one that answers late or never (the server's first
    answers on a busy machine are slow too: normal requests keep patient timeouts)."""
    if mode not in LATE:
        yield
        return
    before = client.timeouts
    client.timeouts = DRIBBLED if mode == "trickle" else IMPATIENT
    client._http.timeout = client.timeouts.httpx()
    try:
        yield
    finally:
        client.timeouts = before
        client._http.timeout = before.httpx()


async def arrived(broken: BrokenServer, method: str, prefix: str, count: int) -> int:
    """How many such requests the server read, once ``count`` have arrived (or after a few
    seconds). It reads in its own thread: on a busy machine a request whose client gave
    up (``slow``, ``hang``) may still wait in its socket when the client's error is out."""
    for _ in range(500):
        if broken.count(method, prefix) >= count:
            break
        await asyncio.sleep(0.01)
    return broken.count(method, prefix)


def options(mode: str, **extra: Any) -> dict[str, Any]:
    """The switch for ``mode`` as these tests throw it."""
    if mode == "429":
        extra.setdefault("retry_after", "120")  # beyond the cap: waits MAX_WAIT
    if mode == "trickle":  # a byte every 50 ms: each within the read timeout
        extra.setdefault("interval", 0.05)
        extra.setdefault("piece", 1)
    return extra


def check_error(error: BaseException, mode: str) -> str:
    kind, pattern = EXPECTED[mode]
    assert type(error) is kind, f"{mode}: {error!r}"
    text = str(error)
    assert re.search(pattern, text), f"{mode}: {text}"
    assert "\n" not in text and len(text) < 600
    return text


# --- the client ------------------------------------------------------------------------------


@pytest.fixture
async def stratus(broken: BrokenServer) -> AsyncIterator[tuple[StratusClient, Sleeps]]:
    sleeps = Sleeps()
    client = StratusClient(
        broken.url, timeouts=PATIENT, max_body_bytes=CAP, max_retry_wait=MAX_WAIT, sleep=sleeps
    )
    async with client:
        await client.login(ADMIN, SecretStr(DEMO_PASSWORD))
        await client.get_list("/instances", m.ServerInstance)  # the server's first answers
        yield client, sleeps


async def test_each_broken_answer_is_one_clear_error_and_writes_are_never_replayed(
    broken: BrokenServer, stratus: tuple[StratusClient, Sleeps]
) -> None:
    """A GET, a POST and a PATCH against each mode (one server and client for them all:
    each mode must also leave the client working for the next)."""
    client, sleeps = stratus
    team = named(db.Team, "Billing")
    for mode in MODES:
        version = db.Team.get_by_id(team).version
        created = f"Callbacks ({mode})"
        broken.hits.clear()
        sleeps.clear()
        connections = broken.connections
        broken.fail(mode, **options(mode))
        with impatient(client, mode):
            with pytest.raises(err.StratusError) as read:
                await client.get_list("/instances", m.ServerInstance)
            waits = list(sleeps)
            with pytest.raises(err.StratusError) as posted:
                body = m.ResponsibilityCreate(name=created, ou_id=named(db.OrgUnit, "Sales"))
                await client.create("/responsibilities", body, m.Responsibility)
            with pytest.raises(err.StratusError) as patched:
                change = m.TeamUpdate(name=f"Billing ({mode})")
                await client.update(f"/teams/{team}", change, m.Team, etag=f'"{version}"')
        broken.heal()
        check_error(read.value, mode)
        for error in (posted.value, patched.value):
            text = check_error(error, mode)
            assert (UNSURE in text) == (mode in ANSWER_LOST), text

        if mode == "accept-close":  # nothing is read: one connection a request, closed
            assert broken.connections - connections == 3 and not broken.hits
            broken.hits.update({f"GET {API}/instances": 1, f"POST {API}/responsibilities": 1,
                                f"PATCH {API}/teams": 1})  # fmt: skip
        # Reads are retried on 429/503 only, honouring Retry-After up to the cap.
        tries = 4 if mode in RETRIED else 1
        assert await arrived(broken, "GET", f"{API}/instances", tries) == tries, mode
        if mode == "429":
            assert waits == [MAX_WAIT] * 3
        elif mode == "503":  # an HTTP date 4 s ahead (whole seconds, and a busy machine)
            assert len(waits) == 3 and all(2 <= wait <= 4 for wait in waits), waits
        else:
            assert waits == [], mode
        # Writes are sent once, never replayed (not even on 429/503).
        assert sleeps == waits, mode
        assert await arrived(broken, "POST", f"{API}/responsibilities", 1) == 1, mode
        assert await arrived(broken, "PATCH", f"{API}/teams", 1) == 1, mode
        # A mangled answer came from a server that did the work: exactly once.
        done = mode in MANGLED
        assert db.Responsibility.select().where(db.Responsibility.name == created).count() == done
        assert db.Team.get_by_id(team).version == version + done, mode
        # The same client goes on working: no broken connection stays in its pool.
        assert len(await client.get_list("/instances", m.ServerInstance)) == 5, mode


async def test_a_late_write_is_dropped_and_a_busy_server_waited_for(
    broken: BrokenServer, stratus: tuple[StratusClient, Sleeps]
) -> None:
    """``slow`` drops a request whose client gave up: so a timeout above changed nothing
    because the server never got to it, not because the test ended first."""
    client, sleeps = stratus
    broken.fail("slow", delay=0.5)
    with impatient(client, "slow"), pytest.raises(err.ServerTimeout):
        body = m.ResponsibilityCreate(name="Late", ou_id=named(db.OrgUnit, "Sales"))
        await client.create("/responsibilities", body, m.Responsibility)
    broken.fail("slow", delay=0.05)  # this one comes in time
    body = m.ResponsibilityCreate(name="In time", ou_id=named(db.OrgUnit, "Sales"))
    assert (await client.create("/responsibilities", body, m.Responsibility))[0].name == "In time"
    assert broken.log[-2:] == [
        ("POST", f"{API}/responsibilities", "slow"),
        ("POST", f"{API}/responsibilities", "slow"),
    ]
    assert not db.Responsibility.select().where(db.Responsibility.name == "Late").exists()
    # A busy server is waited for, as long as it says, and then answers.
    broken.fail("503", times=2, retry_after="1")
    assert len(await client.get_list("/instances", m.ServerInstance)) == 5
    assert sleeps == [1, 1]
    broken.fail("429", times=1)
    with pytest.raises(err.RateLimited) as caught:  # a sign-in is a POST: never replayed
        await client.login(ADMIN, SecretStr(DEMO_PASSWORD))
    assert caught.value.retry_after == 1
    assert broken.count("POST", f"{API}/auth/login") == 2  # the fixture's and this one


# --- TLS with the project's private CA -------------------------------------------------------


@pytest.fixture
def tls_broken(
    server_app: FastAPI, server_db: Path, clock: FakeClock, tmp_path: Path
) -> Iterator[tuple[BrokenServer, Path]]:
    server_app.state.context = server_context(clock=clock)
    ca, cert, key = loopback_certificate(tmp_path / "tls")
    with BrokenServer(server_app, tls=(cert, key)) as server:
        yield server, ca


async def test_tls_an_untrusted_certificate_then_the_profiles_ca_bundle(
    tls_broken: tuple[BrokenServer, Path], tmp_path: Path
) -> None:
    broken, ca = tls_broken
    other_ca, _, _ = loopback_certificate(tmp_path / "other")  # a CA that did not sign it
    for bundle in (None, other_ca):
        async with open_client(Profile(name="tls", url=broken.url, ca_bundle=bundle)) as client:
            with pytest.raises(err.TLSFailure) as caught:
                await client.login(ADMIN, SecretStr(DEMO_PASSWORD))
        text = str(caught.value)
        assert text.startswith("The server's certificate for 127.0.0.1 could not be verified (")
        assert "set ca_bundle in the profile" in text
    assert broken.count("POST") == 0  # nothing was sent before the certificate was trusted
    async with open_client(Profile(name="tls", url=broken.url, ca_bundle=ca)) as client:
        await client.login(ADMIN, SecretStr(DEMO_PASSWORD))
        broken.fail("html-502")
        with pytest.raises(err.ServerFailure):  # broken answers over TLS are the same
            await client.me()
    assert broken.count("POST", f"{API}/auth/login") == 1


async def test_tls_the_tui_says_why_it_cannot_sign_in(
    tls_broken: tuple[BrokenServer, Path], clocks: Clocks
) -> None:
    broken, _ = tls_broken
    profile = Profile(name="tls", url=broken.url)  # no ca_bundle: the private CA is unknown
    app = StratusApp(Settings(profiles={"tls": profile}), profile, clock=clocks)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, MEMBER)
        assert isinstance(app.screen, LoginScreen)
        assert "could not be verified" in message(app)
        assert "set ca_bundle in the profile" in message(app)
    assert broken.count("POST") == 0


# --- the TUI ---------------------------------------------------------------------------------


def changes(cache: Cache) -> int:
    """Rows inserted, changed or deleted in the cache since it was opened (every write goes
    through its one connection): unchanged means nothing was written at all."""
    with cache.read() as connection:
        return connection.total_changes


# The big tables by checksums (a dump of every row would cost more than the modes it
# checks), the small ones row by row.
CHECKSUMS = {
    "conversation": "count(*), max(seq), total(seq), total(id), total(team_id), "
    "total(started_at), total(ended_at), total(wait_seconds), total(duration_seconds), "
    "total(outcome = 'lost'), total(length(customer_id))",
    "rollup": "count(*), total(hour), total(total), total(accepted), total(lost), "
    "total(voicemails), total(duration_sum), total(wait_sum)",
}
ROWS = {"state": "key", "entity": "kind, key", "listing": "kind, id"}


def dump(cache: Cache) -> dict[str, object]:
    """What the cache holds: every row of the small tables, checksums of the big ones."""
    found: dict[str, object] = {}
    with cache.read() as connection:
        for table, sums in CHECKSUMS.items():
            found[table] = connection.execute(f"SELECT {sums} FROM {table}").fetchone()
        for table, order in ROWS.items():
            found[table] = connection.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
    return found


class BrokenTUI:
    """A TUI whose profile points at the broken server, with a recorded ``sleep``."""

    def __init__(self, broken: BrokenServer, clocks: Clocks, clock: FakeClock) -> None:
        self.broken = broken
        self.sleeps = Sleeps()
        self.clients: list[StratusClient] = []
        profile = Profile(name="lab", url=broken.url, label_color="green")
        self.app = StratusApp(
            Settings(profiles={"lab": profile}),
            profile,
            client_factory=self._client,
            clock=clocks,
            wall_clock=lambda: float(clock.now()),
        )

    def _client(self, profile: Profile) -> StratusClient:
        client = StratusClient(
            profile.url,
            timeouts=PATIENT,
            max_body_bytes=TUI_CAP,
            max_retry_wait=MAX_WAIT,
            sleep=self.sleeps,
        )
        self.clients.append(client)
        return client

    @property
    def client(self) -> StratusClient:
        assert self.app.session is not None
        return self.app.session.client

    @property
    def cache(self) -> Cache:
        assert self.app.session is not None and self.app.session.cache is not None
        return self.app.session.cache

    async def every_mode(
        self,
        pilot: Pilot[Any],
        start: Callable[[], object],
        shown: Static,
        *,
        written: bool = False,
        **extra: Any,
    ) -> AsyncIterator[tuple[str, str]]:
        """``start`` an action with each mode of TUI_MODES switched on (``extra`` narrows
        it); yields the mode and what ``shown`` says once every worker is done, after
        checking that it names the failure, that the app runs on, and that nothing was
        written to the cache (``written``: what was written left it as it was)."""
        cached = dump(self.cache)
        for mode in TUI_MODES:
            before = dump(self.cache) if written else changes(self.cache)
            self.broken.fail(mode, **options(mode, **extra))
            with impatient(self.client, mode):
                start()
                await settle(pilot)
            self.broken.heal()
            after = dump(self.cache) if written else changes(self.cache)
            assert after == before, f"{mode} changed the cache"
            assert self.app.is_running
            text = rendered(shown)
            assert re.search(tui_text(mode), text), f"{mode}: {text}"
            yield mode, text
        assert dump(self.cache) == cached


@pytest.fixture
def tui(broken: BrokenServer, clocks: Clocks, clock: FakeClock) -> BrokenTUI:
    return BrokenTUI(broken, clocks, clock)


def tui_text(mode: str) -> str:
    """The pattern the TUI shows for ``mode`` (the TUI's size cap is larger)."""
    return EXPECTED[mode][1].replace("256 KiB", "2 MiB").strip("^$")


def rendered(widget: Static) -> str:
    return " ".join(str(widget.render()).split())  # wrapped lines joined


async def edit_agent(pilot: Pilot[Any], agents: AgentsPage, upn: str, name: str) -> FormScreen:
    """Open the agent's form from the Agents list and type a new first name."""
    agents.table.focus()
    assert agents.table.move_cursor_to(user_id(upn))
    await pilot.press("e")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, FormScreen)
    form.fields["first_name"].query_one(Input).value = name
    await pilot.pause()
    return form


# The client test above takes every mode; in the TUI a mode only decides which error reaches
# the page, so CI drives one mode of each kind (late, cut off, not JSON, bad JSON): each
# TUI action costs a second of CPU. STRATUS_HARDENING=full drives all of them.
TUI_SAMPLE = ("hang", "truncated", "html-502", "wrong-types")
TUI_MODES = [
    mode
    for mode in MODES
    if mode != "401"  # 401 ends the session: tested apart
    and (os.environ.get("STRATUS_HARDENING") == "full" or mode in TUI_SAMPLE)
]


async def test_home_the_agents_list_the_history_sync_and_a_save_against_every_broken_mode(
    tui: BrokenTUI, broken: BrokenServer
) -> None:
    """One session through every mode, four times: Home's refresh, the Agents list's, the
    history sync and an agent's save. Each time: the message where the page shows it, the
    last good data kept, the keys working, the cache untouched, a PATCH sent once."""
    app = tui.app
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, ADMIN)
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        home = main.query_one(HomePage)
        shown = home.data
        assert shown is not None
        line = home.query_one("#status-line", Static)
        async for mode, text in tui.every_mode(pilot, home.action_refresh, line):
            assert line.has_class("-offline"), f"{mode}: {text}"
            assert "Showing data as of" in text
            assert home.data is shown  # the last good data stays on screen
        # While the server hangs, the keys work; a refresh then replaces the hung one.
        home.focus()
        broken.fail("hang")
        await pilot.press("r")
        await pilot.press("p")
        assert home.paused and line.has_class("-offline")
        assert "refreshing…" not in str(line.render())  # still the last error shown
        broken.heal()
        await pilot.press("r")  # (left paused: no automatic refresh from here on)
        await settle(pilot)
        assert home.paused and not line.has_class("-offline")
        assert home.data is not shown

        # The Agents list: the status line says it, the rows stay.
        await pilot.press("2")
        await settle(pilot)
        agents = app.screen.query_one(AgentsPage)
        rows = agents.table.visible_count
        status = agents.query_one("#records-status", Static)
        async for mode, text in tui.every_mode(pilot, agents.action_refresh, status):
            assert status.has_class("-error"), f"{mode}: {text}"
            assert agents.table.visible_count == rows  # the list stays as it was
        agents.table.focus()
        await pilot.press("r")  # healed: fresh again
        await settle(pilot)
        assert not status.has_class("-error") and agents.state == "fresh"

        # The history sync: the feed itself breaks. The teams and services read before it
        # are stored again as they were (the same answers, the same clock): compared row
        # by row.
        sync_text = main.query_one(SyncStatus).query_one("#sync-text", Static)
        assert "History as of" in rendered(sync_text)
        feed = {"written": True, "path": f"{API}/conversations"}
        async for mode, text in tui.every_mode(pilot, main.sync_history, sync_text, **feed):
            assert text.startswith("History not synced: "), f"{mode}: {text}"
        main.sync_history()
        await settle(pilot)
        assert "History as of" in rendered(sync_text)

        # A save: the form stays open with the edit and the message; the PATCH went once.
        target = user_id(MEMBER)
        version = db.User.get_by_id(target).version
        form = await edit_agent(pilot, agents, MEMBER, "Renamed")
        error_line = form.query_one("#form-error", Static)
        sent = 0
        # forward=False: the mangled answers are made from a GET, the PATCH is not carried
        # out, so the form's version stays the server's.
        patch = {"method": "PATCH", "forward": False}
        async for mode, text in tui.every_mode(pilot, form.action_save, error_line, **patch):
            sent += mode != "accept-close"  # closed unread (the client test counts those)
            assert app.screen is form, f"{mode}: the form closed ({text})"
            assert text.startswith("✗ "), f"{mode}: {text}"
            assert (UNSURE in text) == (mode in ANSWER_LOST), text
            assert form.fields["first_name"].query_one(Input).value == "Renamed"
            assert await arrived(broken, "PATCH", f"{API}/users/{target}", sent) == sent
            assert db.User.get_by_id(target).version == version
        await pilot.press("ctrl+s")  # healed: saved, once
        await settle(pilot)
        assert app.screen is not form
        assert db.User.get_by_id(target).first_name == "Renamed"
        assert broken.count("PATCH", f"{API}/users/{target}") == sent + 1
        assert set(broken.writes()) == {f"POST {API}/auth/login", f"PATCH {API}/users/{target}"}
        assert sum(broken.writes().values()) == sent + 2


async def test_401_mid_session_asks_to_sign_in_again_and_replays_only_reads(
    tui: BrokenTUI, broken: BrokenServer
) -> None:
    app = tui.app
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN)
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        # The history sync is the first to hear it (a background request).
        broken.fail("401", path=f"{API}/conversations")
        app.screen.sync_history()
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen), "a 401 in the sync went unnoticed"
        assert message(app) == "This session has ended; sign in again"
        assert app.screen.query_one("#username", Input).value == ADMIN
        broken.heal()
        await sign_in(pilot, ADMIN)
        await settle(pilot)

        # A save: the session ends, the edit is discarded, the PATCH is not sent again.
        await pilot.press("2")
        await settle(pilot)
        await edit_agent(pilot, app.screen.query_one(AgentsPage), MEMBER, "Unsaved")
        target = user_id(MEMBER)
        broken.fail("401")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert message(app) == "This session has ended; sign in again"
        broken.heal()
        reads = broken.count("GET", f"{API}/instances")
        await sign_in(pilot, ADMIN)
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.query_one(HomePage).data is not None
        assert broken.count("GET", f"{API}/instances") > reads  # reads are done again
        assert broken.count("PATCH", f"{API}/users/{target}") == 1  # the write is not
        assert db.User.get_by_id(target).first_name != "Unsaved"
        assert broken.count("POST", f"{API}/auth/login") == 3


async def test_sign_in_against_every_broken_mode(tui: BrokenTUI, broken: BrokenServer) -> None:
    app = tui.app
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        login = app.screen
        assert isinstance(login, LoginScreen)
        client = app.open_client(app.profile)  # the login screen's, made before it asks
        login._client = client
        await client.get("/auth/o365-config?domain=demo.stratus", m.O365Config)  # warm
        for tries, mode in enumerate(MODES, start=1):
            if mode == "accept-close":  # closed unread: counted here
                broken.hits[f"POST {API}/auth/login"] += 1
            broken.fail(mode, **options(mode, method="POST"))
            login.query_one("#username", Input).value = ADMIN
            login.query_one("#password", Input).value = DEMO_PASSWORD
            with impatient(client, mode):
                await login.sign_in().wait()
            broken.heal()
            text = message(app)
            assert isinstance(app.screen, LoginScreen) and app.session is None, mode
            assert re.search(tui_text(mode), " ".join(text.split())), f"{mode}: {text}"
            assert UNSURE not in text  # a sign-in changes nothing: repeating it is fine
            assert login.query_one("#password", Input).value == ""  # retyped, not kept
            assert await arrived(broken, "POST", f"{API}/auth/login", tries) == tries
        assert tui.sleeps == []
