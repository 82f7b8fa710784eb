"""Clean exits: a crash leaves a short message and a private log without secrets; the
parts of the exit on a signal or a lost terminal (stratus_tui/exits.py), one by one.
tests/test_signals.py runs the whole of it: the real command in a pseudo-terminal.
"""

from __future__ import annotations

import errno
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import pytest

from stratus_tui.app import StratusApp
from stratus_tui.config import paths
from stratus_tui.exits import SIGNAL_EXITS, TerminalOutput, Watchdog, hung_up
from tests.conftest import ADMIN
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


BLOCKED_LOOP = """
import asyncio, queue
from stratus_tui.app import StratusApp
from stratus_tui.config.settings import Profile, Settings
from stratus_tui.exits import Watchdog

profile = Profile(name="lab", url="http://127.0.0.1:9")
app = StratusApp(Settings(profiles={"lab": profile}), profile)
app._watchdog = Watchdog(limit=0.2)

async def main():
    app._catch_signals()
    print("ready", flush=True)
    full = queue.Queue(1)
    full.put(None)
    full.put(None)  # blocks the event loop for good, as Textual's full output queue does

asyncio.run(main())
"""


def test_a_signal_ends_the_process_even_when_the_event_loop_is_blocked() -> None:
    """asyncio runs its signal handlers only when the loop turns; a Python-level handler runs
    in a blocked wait too, and arms the watchdog there (stratus_tui/exits.py)."""
    child = subprocess.Popen(
        [sys.executable, "-c", BLOCKED_LOOP], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
        time.sleep(0.1)  # into the blocking put
        child.send_signal(signal.SIGHUP)
        assert child.wait(timeout=30) == SIGNAL_EXITS["SIGHUP"]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_output_to_a_terminal_that_is_gone_is_dropped_and_reported_once() -> None:
    class Gone(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(errno.EIO, "Input/output error")

    reported: list[str] = []
    output = TerminalOutput(Gone(), lambda: reported.append("gone"))  # type: ignore[arg-type]
    assert output.write("frame") == len("frame")  # no exception reaches Textual's thread
    output.flush()
    assert output.write("another frame") == len("another frame")
    assert output.gone and reported == ["gone"] and not output.isatty()


def test_a_terminal_that_hung_up_is_told_from_one_that_is_there() -> None:
    master, slave = os.openpty()
    try:
        assert not hung_up(slave)
        os.close(master)
        assert hung_up(slave)
    finally:
        os.close(slave)
    with tempfile.TemporaryFile() as not_a_terminal:
        assert not hung_up(not_a_terminal.fileno())  # not a terminal: not "gone"


def test_the_watchdog_fires_once_with_the_first_code() -> None:
    ended: list[int] = []
    watchdog = Watchdog(0.05, end=ended.append)
    watchdog.arm(129)
    watchdog.arm(143)
    time.sleep(0.3)
    assert ended == [129]
