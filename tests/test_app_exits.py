"""Clean exits: a crash leaves a short message and a private log without secrets; SIGHUP
(SSH dropped) and SIGTERM log out and exit 129 / 143. The signal tests run the real command
in a pseudo-terminal against a real server on a loopback port.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from stratus_tui.app import StratusApp
from stratus_tui.config import paths
from tests.conftest import ADMIN, Served
from tests.tui import sign_in


async def test_a_crash_writes_a_private_log_without_secrets(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    with pytest.raises(ZeroDivisionError):
        async with app.run_test() as pilot:
            await sign_in(pilot, ADMIN)
            assert app.session is not None
            token = app.session.client.token
            assert token is not None
            secret = token.get_secret_value()

            def explode() -> None:
                raise ZeroDivisionError(f"oops with {secret}")

            app.call_later(explode)
            await pilot.pause()
    assert app.return_code == 1
    log = paths.state_dir() / "crash.log"
    text = log.read_text()
    assert "ZeroDivisionError" in text
    assert secret not in text and "********" in text
    assert log.stat().st_mode & 0o777 == 0o600
    assert log.parent.stat().st_mode & 0o777 == 0o700


class Terminal:
    """A child process on a pseudo-terminal, its output collected as it comes."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        os.set_blocking(self.master, True)
        self.process = subprocess.Popen(
            command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.output = bytearray()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def wait_for(self, text: bytes, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert self.process.poll() is None, bytes(self.output[-2000:])
            assert time.monotonic() < deadline, f"{text!r} never appeared"
            time.sleep(0.05)

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


@pytest.mark.socket
@pytest.mark.parametrize(("signame", "code"), [("SIGHUP", 129), ("SIGTERM", 143)])
def test_a_signal_logs_out_and_exits_cleanly(
    loopback_server: Served, tmp_path: Path, signame: str, code: int
) -> None:
    url, database = loopback_server.url, loopback_server.database
    config = tmp_path / "config.yaml"
    config.write_text(f"profiles:\n  lab:\n    url: {url}\n    username: {ADMIN}\n")
    config.chmod(0o600)
    env = {**os.environ, "STRATUS_TUI_CONFIG": str(config), "TERM": "xterm-256color"}
    terminal = Terminal([sys.executable, "-m", "stratus_tui", "--profile", "lab"], env)
    try:
        terminal.wait_for(b"Sign in to Stratus")
        time.sleep(0.5)  # the password field has the focus once the screen is mounted
        terminal.type("demo\r")
        terminal.wait_for(b"Log out")
        terminal.process.send_signal(getattr(signal, signame))
        assert terminal.process.wait(timeout=10) == code
    finally:
        terminal.close()
    with sqlite3.connect(database) as server_db:
        open_sessions = server_db.execute("SELECT COUNT(*) FROM session WHERE ended_at IS NULL")
        assert open_sessions.fetchone()[0] == 0  # logged out on the server
    assert b"Traceback" not in terminal.output
