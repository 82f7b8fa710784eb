"""Secrets stay in memory, and everything written is private (SECURITY.md B and D, issue 11
point 5).

- Password sign-in with the real process in a pty: sign in, sync, open a page, log out,
  quit; the reporting CSV and the lost-calls PDF from the command line; a forced crash of
  the TUI with the password and the token in the crashing frame's locals and the token in
  the error's text. Then every file under HOME (the XDG folders: caches, crash log,
  exports), the terminal output and the commands' output hold neither the password nor
  any session token the server handed out; every file is 0600 and every folder 0700.
- O365 sign-in in-process (the device-code flow against the local identity provider is
  impractical to drive from a pty): the Microsoft access and refresh tokens and the Stratus
  session token are nowhere in the XDG folders or the crash log.
- A config file others can write is refused before anything starts.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button

from stratus_tui.app import StratusApp
from stratus_tui.auth.token_store import MemoryStore
from stratus_tui.cli import main
from stratus_tui.config import paths
from stratus_tui.crashlog import MASK, write_crash_log
from stratus_tui.screens.dialogs import ChoiceDialog
from stratus_tui.server.idp import IdentityProvider
from tests.conftest import (
    ADMIN,
    CONTOSO_ADMIN,
    TEAMADMIN,
    O365Tenant,
    Served,
    cheap_hash,
    serve_child,
)
from tests.pty_terminal import (
    Terminal,
    run_together,
    tui,
    tui_environment,
    type_password,
    write_profile,
)
from tests.test_o365_login import press_o365, shown_code, trusting, until
from tests.tui import settle, wait_for_screen

SECRET = f"Pw-{secrets.token_hex(10)}"  # every account's password on this module's server
TOKEN = re.compile(rb"[A-Za-z0-9_-]{43,}")  # secrets.token_urlsafe(32), the session tokens

# The TUI, crashing on its first check of the session once signed in, with the password and
# the token in the crashing frame's locals (Textual's own crash report would print them).
CRASHING_TUI = """
import os, runpy, sys
from stratus_tui.app import StratusApp
from stratus_tui.auth.token_store import MemoryStore

secret = os.environ.pop("TEST_SECRET")
check_session = StratusApp.check_session

def crashing_check(self):
    session = self.session
    if session is not None and session.cache is not None:
        password = secret
        token = session.client.token.get_secret_value()
        raise RuntimeError(f"forced crash with {token}")
    check_session(self)

StratusApp.check_session = crashing_check
sys.argv = ["stratus-tui", "--profile", "lab"]
runpy.run_module("stratus_tui", run_name="__main__")
"""


@pytest.fixture(scope="module")
def server(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    database = tmp_path_factory.mktemp("secrets") / "server.sqlite3"
    shutil.copyfile(template_db, database)
    with closing(sqlite3.connect(database)) as connection:
        connection.execute(
            "UPDATE user SET password_hash = ? WHERE password_hash IS NOT NULL",
            (cheap_hash(SECRET),),
        )
        connection.commit()
    with serve_child(database) as served:
        yield served


def token_hashes(database: Path) -> set[str]:
    """The SHA-256 of every session token the server handed out (it keeps only those)."""
    with closing(sqlite3.connect(database)) as connection:
        return {row[0] for row in connection.execute("SELECT token_hash FROM session")}


def tokens_in(data: bytes, hashes: set[str]) -> int:
    """How many session tokens ``data`` holds: every 43-character run is hashed."""
    found = 0
    for run in TOKEN.finditer(data):
        text = run.group()
        for start in range(len(text) - 42):
            if hashlib.sha256(text[start : start + 43]).hexdigest() in hashes:
                found += 1
    return found


def session_use_logout_and_exports(server: Served, home: Path, folder: Path) -> list[bytes]:
    """Sign in (the sync starts), open Reporting, log out keeping the cache, quit; then
    the two reporting exports from the command line. What the user saw, and the output."""
    env = tui_environment(home, write_profile(folder / "admin.yaml", server.url, ADMIN))
    with tui(env, password=SECRET) as terminal:
        terminal.type("7")  # Reporting
        terminal.wait_for(b"Calls, 4 mo.")
        mark = len(terminal.output)
        terminal.type("\x0c")  # ctrl+l: log out
        terminal.wait_for(b"Log out, keep", after=mark)
        mark = len(terminal.output)
        terminal.type("\r")  # keep the cache
        terminal.wait_for(b"You have logged out", after=mark)
        terminal.type("\x11")  # ctrl+q
        assert terminal.process.wait(timeout=30) == 0
    outputs = [bytes(terminal.output)]
    command = [sys.executable, "-m", "stratus_tui", "--profile", "lab", "export"]
    for kind in ("reporting", "lost-calls"):
        done = subprocess.run(
            [*command, kind, "--team", "Support L1"],
            env={**env, "STRATUS_PASSWORD": SECRET},
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        outputs += [done.stdout, done.stderr]
    assert len(list((home / "Downloads").iterdir())) == 2
    return outputs


def crash(server: Served, home: Path, folder: Path) -> list[bytes]:
    env = tui_environment(home, write_profile(folder / "crash.yaml", server.url, TEAMADMIN))
    terminal = Terminal([sys.executable, "-c", CRASHING_TUI], {**env, "TEST_SECRET": SECRET})
    try:
        type_password(terminal, SECRET)
        assert terminal.process.wait(timeout=60) == 1
    finally:
        terminal.close()
    assert b"stopped on an unexpected error: RuntimeError" in terminal.output
    log = (home / ".local" / "state" / "stratus-tui" / "crash.log").read_text()
    assert "forced crash with ********" in log  # the token masked
    return [bytes(terminal.output)]


@pytest.mark.socket
def test_no_password_or_token_in_any_file_or_output_and_every_file_private(
    server: Served, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    (home / "Downloads").mkdir(mode=0o700, parents=True)  # where exports go by default
    outputs: dict[str, list[bytes]] = {}

    def run(name: str, scenario: Callable[[Served, Path, Path], list[bytes]]) -> None:
        outputs[name] = scenario(server, home, tmp_path)

    run_together(
        {
            "session, logout and exports": lambda: run("session", session_use_logout_and_exports),
            "forced crash": lambda: run("crash", crash),
        }
    )
    hashes = token_hashes(server.database)
    assert len(hashes) >= 4  # the TUI, two exports, the crashed TUI
    files = sorted(path for path in home.rglob("*") if path.is_file())
    assert {path.suffix for path in files} >= {".sqlite3", ".log", ".csv", ".pdf"}
    for path in files:
        data = path.read_bytes()
        assert SECRET.encode() not in data, path
        assert tokens_in(data, hashes) == 0, path
        assert path.stat().st_mode & 0o777 == 0o600, path
    for path in home.rglob("*"):
        if path.is_dir():
            assert path.stat().st_mode & 0o777 == 0o700, path
    for name, shown in outputs.items():
        for data in shown:
            assert SECRET.encode() not in data, name
            assert tokens_in(data, hashes) == 0, name


async def test_o365_tokens_stay_out_of_the_xdg_folders_and_the_crash_log(
    make_app: Callable[..., StratusApp],
    o365_contoso: O365Tenant,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """In-process: sign in with O365 (device code), use, log out, sign in again, crash."""
    idp = o365_contoso.provider.idp
    issued: list[str] = []
    mint = IdentityProvider._tokens

    def recording(self: IdentityProvider, *args: Any, **kwargs: Any) -> Any:
        answer = mint(self, *args, **kwargs)
        issued.extend((answer["access_token"], answer["refresh_token"]))
        return answer

    monkeypatch.setattr(IdentityProvider, "_tokens", recording)
    session_tokens: list[str] = []
    app = make_app(trusting(o365_contoso))
    with pytest.raises(RuntimeError):
        async with app.run_test(size=(100, 30)) as pilot:
            for turn in range(2):
                await press_o365(pilot, CONTOSO_ADMIN)
                idp.approve(await shown_code(pilot), CONTOSO_ADMIN)
                await until(pilot, lambda: app.session is not None and app.main_screen is not None)
                assert app.session is not None and app.session.client.token is not None
                token = app.session.client.token.get_secret_value()
                session_tokens.append(token)
                if turn == 0:
                    await settle(pilot)  # the history sync: the cache written
                    app.action_logout()
                    dialog = await wait_for_screen(pilot, ChoiceDialog)
                    await pilot.pause()
                    dialog.query_one("#keep", Button).press()
                    await settle(pilot)

            def explode() -> None:
                access = issued[-2]  # a local, as a careless helper would hold it
                raise RuntimeError(f"forced crash with {token} and {access}")

            app.call_later(explode)
            await pilot.pause()
    assert app.return_code == 1
    assert len(issued) >= 4 and len(session_tokens) == 2
    secrets_kept = [*issued, *session_tokens]
    roots = [Path(paths.cache_dir()).parent, paths.state_dir().parent, paths.data_dir().parent]
    files = [path for root in roots if root.exists() for path in root.rglob("*") if path.is_file()]
    assert any(path.name == "crash.log" for path in files)
    assert any(path.suffix == ".sqlite3" for path in files)
    for path in files:
        data = path.read_text(errors="replace")
        for kept in secrets_kept:
            assert kept not in data, path


def test_a_config_others_can_write_is_refused_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_profile(tmp_path / "config.yaml", "http://127.0.0.1:9", ADMIN)
    config.chmod(0o664)  # group-writable
    monkeypatch.setenv(paths.CONFIG_ENV, str(config))
    for argv in (["--profile", "lab"], ["--profile", "lab", "sync"]):
        assert main(argv) in (2, 3)
        err = capsys.readouterr().err
        assert f"{config} is writable by other users (mode 0664)" in err
        assert f"chmod go-w {config}" in err
    assert not Path(paths.cache_dir()).exists()  # nothing was started


def test_the_crash_log_masks_jwts_and_every_token_kept_in_memory() -> None:
    """Microsoft's refresh tokens are opaque (not JWTs): only knowing them masks them."""
    opaque = "0.AXEAopaque-refresh-token-" + secrets.token_urlsafe(24)
    access = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0." + secrets.token_urlsafe(30)
    cache = {"RefreshToken": {"k": {"secret": opaque}}, "AccessToken": {"k": {"secret": "a"}}}
    MemoryStore("lab").save(json.dumps(cache))
    assert sorted(MemoryStore.secrets()) == sorted([opaque, "a"])
    log = write_crash_log(RuntimeError(f"{opaque} and {access}"), secrets=[opaque])
    text = log.read_text()
    assert opaque not in text and access not in text and text.count(MASK) == 2
