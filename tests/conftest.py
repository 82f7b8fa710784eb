"""Shared fixtures: a seeded reference server, in-process, one fresh database per test.

Seeding is the slow part, so it happens once per test session into a template file that
each test copies; a copy is a few milliseconds and keeps tests independent.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import keyring
import pytest
import pytest_textual_snapshot as pts
from fastapi import FastAPI

from stratus_tui.api.client import StratusClient
from stratus_tui.app import StratusApp
from stratus_tui.auth.token_store import MemoryStore
from stratus_tui.config.settings import Profile, Settings
from stratus_tui.server import db, passwords
from stratus_tui.server.app import create_app, server_context
from stratus_tui.server.clock import FakeClock
from stratus_tui.server.idp_serve import RunningIdentityProvider, run_in_thread
from stratus_tui.server.seed import DEMO_PASSWORD, SeedOptions, seed_demo
from tests.fake_keyring import MemoryKeyring
from tests.tui import PROFILE, Clocks

# Snapshots live in the top-level snapshots/ folder (TESTING.md): the plugin looks its
# extension class up at call time, so replacing it here redirects every snapshot.
SNAPSHOT_ROOT = Path(__file__).resolve().parent.parent / "snapshots"


class TopLevelSVGExtension(pts.SVGImageExtension):  # type: ignore[misc]
    @classmethod
    def dirname(cls, *, test_location: object) -> str:
        return str(SNAPSHOT_ROOT / test_location.basename)  # type: ignore[attr-defined]


pts.SVGImageExtension = TopLevelSVGExtension

NOW = int(datetime(2026, 11, 22, 12, 0, tzinfo=UTC).timestamp())
TEST_CALLS = 20_000
# The cost parameters travel inside each hash: tests log in hundreds of times, so their
# accounts use a cheap cost. tests/test_passwords.py checks the production default.
cheap_hash = functools.partial(passwords.hash_password, n=2**8)
TEST_SEED = SeedOptions(seed=7, calls=TEST_CALLS, now=NOW, hash_password=cheap_hash)

SYSADMIN = "sysadmin@demo.stratus"
ADMIN = "admin@demo.stratus"
TEAMADMIN = "teamadmin@demo.stratus"
MEMBER = "member@demo.stratus"
CONTOSO_ADMIN = "admin@contoso.com"
ROLE_ACCOUNTS = {
    "system_admin": SYSADMIN,
    "tenant_admin": ADMIN,
    "team_admin": TEAMADMIN,
    "team_member": MEMBER,
}


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Two workers per CPU for ``-n auto``: a third of the suite's time is spent waiting
    (servers in child processes, pseudo-terminals, timeouts of the broken servers, the
    identity provider's polling), and one worker per CPU left that third idle."""
    return 2 * (os.cpu_count() or 1)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the user's real config, cache and terminal settings out of every test."""
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("STRATUS_PASSWORD", raising=False)
    MemoryStore.forget_all()  # an O365 sign-in kept in memory lives as long as the process


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """The OS keyring, faked in memory for this test."""
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


@pytest.fixture
def steady_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    """For snapshots: fix what varies between runs (cursor blink, the clock, the time zone)."""
    from textual.widgets import Input

    from stratus_tui import dashboard

    monkeypatch.setattr(Input, "cursor_blink", False)
    monkeypatch.setattr(dashboard, "now", lambda: datetime(2026, 11, 22, 11, 58, 7, tzinfo=UTC))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "stratus.sqlite3"
    database = db.open_database(path)
    seed_demo(TEST_SEED)
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return path


@pytest.fixture
def server_db(template_db: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the seeded database, bound for this test."""
    path = tmp_path / "server.sqlite3"
    shutil.copyfile(template_db, path)
    database = db.open_database(path)
    yield path
    database.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture(scope="session")
def server_app(template_db: Path) -> FastAPI:
    """The app is built once (it compiles every route); each test gets its own context."""
    database = db.open_database(template_db)
    try:
        return create_app()
    finally:
        database.close()


@pytest.fixture
async def client(
    server_app: FastAPI, server_db: Path, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    server_app.state.context = server_context(clock=clock)
    transport = httpx.ASGITransport(app=server_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stratus.test/api/v1") as c:
        yield c


@pytest.fixture
def clocks(clock: FakeClock) -> Clocks:
    return Clocks(clock)


@pytest.fixture(scope="session")
def synced_caches(
    template_db: Path, server_app: FastAPI, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Each seeded account's cache after a full history sync of the seeded data.

    Built once per test process, by the product's own sync against a copy of the seeded
    database, so a TUI test starts as a returning user does: the history already there,
    the sign-in's sync asking only for what changed since (in a test: what the test itself
    added). A first sync costs a second per test of 20,000 conversations; tests of the
    first sync itself ask ``make_app(warm_cache=False)``.
    """
    from stratus_tui.api.errors import Forbidden
    from stratus_tui.cache.store import Cache
    from stratus_tui.cache.sync import sync_history

    folder = tmp_path_factory.mktemp("synced-caches")
    copy = folder / "server.sqlite3"
    shutil.copyfile(template_db, copy)
    database = db.open_database(copy)
    server_app.state.context = server_context(clock=FakeClock(NOW))
    built: dict[str, Path] = {}

    async def build(upn: str) -> None:
        client = StratusClient(PROFILE.url, transport=httpx.ASGITransport(app=server_app))
        cache = Cache.open(PROFILE.name, PROFILE.url, upn, folder=folder / "caches")
        try:
            await client.login(upn, DEMO_PASSWORD)
            await sync_history(client, cache, now=lambda: float(NOW))
        except Forbidden:  # a role without history (a system admin's): nothing to keep
            return
        finally:
            cache.close()
            await client.aclose()
        built[upn] = cache.path

    try:
        for upn in (*ROLE_ACCOUNTS.values(), CONTOSO_ADMIN):
            asyncio.run(build(upn))
    finally:
        database.close()
    return built


def place_synced_caches(synced: dict[str, Path], profile: Profile) -> None:
    """Put each account's synced cache where the app opens it (private, as the app makes it)."""
    from stratus_tui.cache.store import cache_path
    from stratus_tui.config import paths

    if profile.url != PROFILE.url:  # the caches are of the test server's address
        return
    for upn, source in synced.items():
        target = cache_path(profile.name, profile.url, upn)
        if target.exists():
            continue
        paths.private_dir(target.parent.parent)
        paths.private_dir(target.parent)
        shutil.copyfile(source, target)
        target.chmod(0o600)


@pytest.fixture
def make_app(
    server_app: FastAPI,
    server_db: Path,
    clock: FakeClock,
    clocks: Clocks,
    synced_caches: dict[str, Path],
) -> Callable[..., StratusApp]:
    """Build the TUI on the in-process reference server, with both clocks under test control.

    The accounts' caches start synced (``synced_caches``); ``warm_cache=False`` starts them
    empty, for tests of the first sync.
    """
    server_app.state.context = server_context(clock=clock)

    def factory(
        profile: Profile = PROFILE, *, warm_cache: bool = True, **options: Any
    ) -> StratusApp:
        def client(chosen: Profile) -> StratusClient:
            return StratusClient(chosen.url, transport=httpx.ASGITransport(app=server_app))

        if warm_cache and options.get("use_cache", True):
            place_synced_caches(synced_caches, profile)
        settings = Settings(profiles={profile.name: profile})
        return StratusApp(
            settings,
            profile,
            client_factory=client,
            clock=clocks,
            wall_clock=lambda: float(clock.now()),
            **options,
        )

    return factory


@pytest.fixture(scope="session")
def identity_provider(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningIdentityProvider]:
    """The local O365 identity provider over loopback HTTPS, one per test session (worker).

    Polls every second; device codes last a minute. Its CA is ``identity_provider.ca_path``.
    """
    running = run_in_thread(tmp_path_factory.mktemp("idp"), interval=1, expires_in=60)
    yield running
    running.stop()


@dataclass(frozen=True)
class O365Tenant:
    """An O365 application of the seeded data, pointed at the test identity provider."""

    domain: str
    authority: str  # https://127.0.0.1:PORT/<azure_tenant_id>
    client_id: str
    azure_tenant_id: str
    provider: RunningIdentityProvider

    @property
    def issuer(self) -> str:
        return f"{self.authority}/v2.0"

    def access_token(self, user: str = CONTOSO_ADMIN, **claims: Any) -> str:
        """An access token the identity provider would issue to ``user`` now; ``claims``
        replace or add claims (a claim set to None is left out)."""
        idp = self.provider.idp
        issued = idp.access_claims(self.provider.url, self.azure_tenant_id, self.client_id, user)
        issued.update(claims)
        return idp.sign({name: value for name, value in issued.items() if value is not None})


@pytest.fixture
def o365_contoso(
    identity_provider: RunningIdentityProvider,
    server_app: FastAPI,
    server_db: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> O365Tenant:
    """Contoso's O365 application (contoso.com) signs in at the test identity provider, and
    the in-process server trusts its CA.

    The ``client`` and ``make_app`` fixtures give the server a new context when they are set
    up, which may be before or after this fixture: so this both changes the current context
    and makes this module's ``server_context`` add the CA to the contexts built later.
    """
    ca = identity_provider.ca_path
    if getattr(server_app.state, "context", None) is not None:
        server_app.state.context = dataclasses.replace(server_app.state.context, identity_ca=ca)
    monkeypatch.setitem(
        globals(), "server_context", functools.partial(server_context, identity_ca=ca)
    )
    app = db.O365App.get(db.O365App.domain == "contoso.com")
    app.authority = identity_provider.authority(app.azure_tenant_id)
    app.save()
    return O365Tenant(
        domain=app.domain,
        authority=app.authority,
        client_id=app.client_id,
        azure_tenant_id=app.azure_tenant_id,
        provider=identity_provider,
    )


@dataclass
class Served:
    """A reference server in a child process on a loopback port."""

    url: str
    database: Path
    process: subprocess.Popen[str]

    def stop(self) -> None:
        """Gone at once, as a crashed or unplugged server is."""
        self.process.kill()
        self.process.wait(timeout=15)


@contextlib.contextmanager
def serve_child(database: Path, *options: str) -> Iterator[Served]:
    """`stratus-tui serve` on ``database`` in a child process on a free loopback port."""
    command = [sys.executable, "-m", "stratus_tui", "serve", "--port", "0", "--db", str(database)]
    process = subprocess.Popen(
        [*command, *options], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    url = ""
    for line in process.stdout:
        if found := re.search(r"listening on (http://\S+)", line):
            url = found.group(1)
            break
    try:
        assert url, "the server did not start"
        yield Served(url, database, process)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=15)


@pytest.fixture
def loopback_server(tmp_path: Path) -> Iterator[Served]:
    """An empty reference server (no history) in a child process."""
    with serve_child(tmp_path / "server.sqlite3", "--calls", "0") as served:
        yield served


@pytest.fixture(scope="module")
def seeded_loopback_server(
    template_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The seeded demo data (history topped up to the current hour) in a child process,
    one per test module: the module's tests share it."""
    database = tmp_path_factory.mktemp("served") / "server.sqlite3"
    shutil.copyfile(template_db, database)
    with serve_child(database) as served:
        yield served


Login = Callable[[str], Awaitable[dict[str, str]]]


@pytest.fixture
def login(client: httpx.AsyncClient) -> Login:
    """Sign in as a user; returns the Authorization header to send."""

    async def sign_in(username: str) -> dict[str, str]:
        answer = await client.post(
            "/auth/login", json={"username": username, "password": DEMO_PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    return sign_in


@pytest.fixture
async def admin(login: Login) -> dict[str, str]:
    """The tenant admin's Authorization header."""
    return await login(ADMIN)


def assert_problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    """``answer`` is a problem+json of ``status`` with a title and a detail; returns it."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == status
    assert problem["title"]
    assert isinstance(problem["detail"], str) and problem["detail"]
    return problem


def named(model: type[db.BaseModel], name: str) -> int:
    """The id of a seeded row by its name (tests refer to demo data by name)."""
    row = model.get(model.name == name)  # type: ignore[attr-defined]
    return int(row.id)


def user_id(upn: str) -> int:
    return int(db.User.get(db.User.upn_key == upn.lower()).id)


os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
