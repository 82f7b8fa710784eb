"""Lost connections and signals, for real: `python -m stratus_tui` in a pseudo-terminal
against the reference server on a loopback port (SECURITY.md B and D, issue 11 point 4).

- SIGHUP (SSH dropped, here in the middle of a sync) and SIGTERM log out, close the cache
  and exit 129 / 143, leaving no SQLite journal or temp file; with a server that accepts
  and never answers, the logout is sent and gives up in time.
- A terminal that is gone (hung up) or stalled (nobody reads it) never keeps the TUI
  alive: the exit comes, with the logout, in bounded time.
- ctrl+z past the idle limit, then fg: expired at once (the server's short idle limit,
  `serve --idle-timeout`, taken by the client from the login answer).
- `kill -9` in the middle of an export leaves the old file whole; the next export removes
  the temp file the killed one left.

One server per module (a copy of the seeded template), MEMBER (no history sync) where the
test does not need a cache full of history.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import MEMBER, TEAMADMIN, Served, serve_child
from tests.pty_terminal import (
    RESTORED,
    SIGN_IN_SCREEN,
    FreezableProxy,
    last_session,
    leftovers,
    logged_out,
    run_together,
    stopped,
    tui,
    tui_environment,
    write_profile,
)

pytestmark = pytest.mark.socket
Env = dict[str, str]
IDLE_LIMIT = 3  # seconds: the ctrl+z test's server (serve --idle-timeout)


@pytest.fixture(scope="module")
def server(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    database = tmp_path_factory.mktemp("signals") / "server.sqlite3"
    shutil.copyfile(template_db, database)
    with serve_child(database) as served:
        yield served


def environment(folder: Path, url: str, user: str) -> tuple[Path, dict[str, str]]:
    """A private HOME with the XDG folders in it, and a profile `lab` for ``user``."""
    home = folder / "home"
    home.mkdir(mode=0o700, parents=True)
    config = write_profile(folder / "config.yaml", url, user)
    return home, tui_environment(home, config)


def server_address(server: Served) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def the_cache_is_open(home: Path) -> None:
    """The TUI holds its cache (WAL mode: the write-ahead log exists while it is open)."""
    assert any(path.name.endswith("-wal") for path in leftovers(home)), leftovers(home)


def sighup_mid_sync(server: Served, folder: Path) -> None:
    """SIGHUP (SSH dropped) while the history sync writes: logged out on the server, the
    cache closed, 129."""
    home, env = environment(folder, server.url, TEAMADMIN)  # an admin: the sync starts
    before = last_session(server.database)
    with tui(env) as terminal:
        the_cache_is_open(home)
        terminal.signal(signal.SIGHUP)
        assert terminal.process.wait(timeout=30) == 129
    assert logged_out(server.database, TEAMADMIN, after=before)
    # Closed: SQLite removes the WAL and shared-memory files when the last connection
    # closes (after a checkpoint); an os._exit would have left them. No journal, no temp.
    assert leftovers(home) == []
    assert b"Traceback" not in terminal.output


@contextmanager
def through_a_proxy(server: Served, folder: Path) -> Iterator[tuple[FreezableProxy, Path, Env]]:
    """MEMBER (no history sync) signed in through a proxy of its own, which sees the
    logout and can make the server hang for this client alone."""
    proxy = FreezableProxy(server_address(server))
    try:
        home, env = environment(folder, proxy.url, MEMBER)
        yield proxy, home, env
    finally:
        proxy.close()


def sigterm(server: Served, folder: Path) -> None:
    with through_a_proxy(server, folder) as (proxy, home, env), tui(env) as terminal:
        the_cache_is_open(home)
        terminal.signal(signal.SIGTERM)
        assert terminal.process.wait(timeout=30) == 143
    assert proxy.logouts == 1
    assert leftovers(home) == []


def hung_up_terminal(server: Served, folder: Path) -> None:
    """The hang 96efd43 met: writes to a hung-up terminal fail, Textual's writer thread
    dies, its queue fills, and the event loop blocks for good, deaf to any signal (and the
    input thread spins on end of file). Now the terminal gone is noticed by itself (a
    failed write, or the hang-up seen on input), as SIGHUP: logged out, 129. No signal is
    sent here: the process may not be in the terminal's foreground group to get one."""
    with through_a_proxy(server, folder) as (proxy, home, env), tui(env) as terminal:
        the_cache_is_open(home)
        terminal.hang_up()  # sshd closed the pty
        for _ in range(60):  # the app paints for a terminal that is gone
            if terminal.process.poll() is not None:
                break
            terminal.signal(signal.SIGWINCH)
            time.sleep(0.02)
        assert terminal.process.wait(timeout=30) == 129
    assert proxy.logouts == 1
    assert leftovers(home) == []


def stalled_terminal_and_a_server_that_hangs(server: Served, folder: Path) -> None:
    """SIGHUP with nobody reading the terminal and a server that accepts but never answers:
    the logout is sent, gives up after LOGOUT_LIMIT (2 s), and the cache closes; the exit's
    last writes then block in the kernel, and the watchdog armed by the signal ends the
    process with 129 (after LEAVE_LIMIT, 5 s). Nothing hangs."""
    with through_a_proxy(server, folder) as (proxy, home, env), tui(env) as terminal:
        the_cache_is_open(home)
        proxy.freeze()
        terminal.fill()
        mark = len(terminal.output)
        terminal.signal(signal.SIGHUP)
        assert terminal.process.wait(timeout=30) == 129
        terminal.drain()
    assert proxy.logouts == 1  # attempted; never answered
    assert leftovers(home) == []  # the cache closed: the logout gave up in time
    assert RESTORED not in terminal.output[mark:]  # the watchdog ended it, not Textual


def ctrl_z_past_the_idle_limit(template_db: Path, folder: Path) -> None:
    """ctrl+z, suspended longer than the idle limit, fg: at sign-in at once, told why.

    The server's short idle limit (serve --idle-timeout) reaches the client in the login
    answer. CLOCK_MONOTONIC runs on while a process is stopped (SIGSTOP, ctrl+z), so the
    client's idle clock sees the whole suspension (not so a suspended machine: there the
    server's clock ends the session, see stratus_tui/auth/idle.py)."""
    database = folder / "server.sqlite3"
    folder.mkdir(parents=True)
    shutil.copyfile(template_db, database)
    with serve_child(database, "--idle-timeout", str(IDLE_LIMIT)) as served:
        config = write_profile(folder / "config.yaml", served.url, MEMBER)
        with config.open("a") as text:
            text.write("refresh_seconds: 3600\n")  # no dashboard request on resuming
        env = tui_environment(folder / "home", config)
        with tui(env) as terminal:
            for _ in range(10):  # again if the expiry warning took the first ctrl+z
                terminal.type("\x1a")  # ctrl+z: Textual stops the process (SIGTSTP)
                for _ in range(50):
                    if stopped(terminal.process.pid):
                        break
                    time.sleep(0.02)
                if stopped(terminal.process.pid):
                    break
            assert stopped(terminal.process.pid), "ctrl+z did not suspend the TUI"
            time.sleep(IDLE_LIMIT + 1)  # suspended past the limit
            mark = len(terminal.output)
            terminal.signal(signal.SIGCONT)  # fg
            terminal.wait_for(SIGN_IN_SCREEN, after=mark)
            said = f"ended after {IDLE_LIMIT} seconds without input".encode()
            terminal.wait_for(said, after=mark)  # the client's own words: it saw the time
            assert terminal.process.poll() is None  # still running, at sign-in


def test_signals_and_lost_terminals(server: Served, template_db: Path, tmp_path: Path) -> None:
    """Each scenario runs the real TUI in its own pty; they run at once, as most of their
    time is spent waiting (a logout's limit, the watchdog, an idle limit)."""
    run_together(
        {
            "SIGHUP mid-sync": lambda: sighup_mid_sync(server, tmp_path / "hup"),
            "SIGTERM": lambda: sigterm(server, tmp_path / "term"),
            "hung-up terminal": lambda: hung_up_terminal(server, tmp_path / "gone"),
            "stalled terminal, hanging server": lambda: stalled_terminal_and_a_server_that_hangs(
                server, tmp_path / "stall"
            ),
            "ctrl+z past the idle limit": lambda: ctrl_z_past_the_idle_limit(
                template_db, tmp_path / "ctrl-z"
            ),
        }
    )


# --- kill -9 in the middle of an export -----------------------------------------------------


def export_command(server: Served, output: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "stratus_tui",
        "export",
        "reporting",
        "--team",
        "Support L1",
        "--url",
        server.url,
        "--user",
        TEAMADMIN,
        "--output",
        str(output),
    ]


def temp_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.name.endswith(".tmp"))


def test_kill_9_mid_export_leaves_the_old_file_and_the_next_export_clears_the_temp(
    server: Served, tmp_path: Path
) -> None:
    env = {**os.environ, "STRATUS_PASSWORD": "demo"}
    folder = tmp_path / "Downloads"
    folder.mkdir()
    target = folder / "report.csv"
    old = b"the old report, whole\r\n"
    target.write_bytes(old)
    killed, seen = 0, []
    for _ in range(2):
        child = subprocess.Popen(
            export_command(server, target),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while child.poll() is None and not temp_files(folder):
            time.sleep(0.001)
        child.send_signal(signal.SIGKILL)  # mid-write: its temp file exists
        child.wait(timeout=15)
        killed += child.returncode == -signal.SIGKILL
        seen.append(target.read_bytes())
    assert killed, "no export was killed mid-write"
    assert temp_files(folder)  # kill -9 runs no clean-up: the temp files are there...
    done = subprocess.run(
        export_command(server, target), env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert temp_files(folder) == []  # ...until the next export to that file removes them
    assert [path.name for path in folder.iterdir()] == ["report.csv"]
    whole = target.read_bytes()
    assert whole.startswith(b"\xef\xbb\xbfconversation id,") and whole.endswith(b"\r\n")
    # After each kill: the old file, or (a kill just after the rename) the whole new one.
    assert all(content in (old, whole) for content in seen)
