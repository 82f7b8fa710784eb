"""The real `python -m stratus_tui` on a pseudo-terminal, for tests of what only a terminal
shows: signals, a terminal that goes away, ctrl+z, the bytes a user's screen receives.

``Terminal`` runs a command with the pty's slave as its standard streams and collects what
it writes; ``tui(...)`` starts the TUI on a profile pointing at a server and signs in.
"""

from __future__ import annotations

import fcntl
import os
import socket
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from pathlib import Path

SIGNED_IN = b"Log out"  # the main screen's footer
SIGN_IN_SCREEN = b"Sign in to Stratus"
SIZE = (100, 30)
RESTORED = b"\x1b[?1049l"  # Textual leaves the alternate screen: the terminal is restored


class Terminal:
    """A child process on a pseudo-terminal, its output collected as it comes.

    ``hang_up()`` closes the terminal's side of the pty, as sshd does when a connection
    drops: the child's writes then fail (EIO) and nothing it writes arrives anywhere.
    """

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.master: int | None
        self.master, slave = os.openpty()
        os.set_blocking(self.master, True)
        self.resize(*SIZE)
        self.process = subprocess.Popen(
            command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.output = bytearray()
        self._reading = threading.Event()
        self._reading.set()
        self._reader = threading.Thread(target=self._read, args=(self.master,), daemon=True)
        self._reader.start()

    def _read(self, master: int) -> None:
        while True:
            self._reading.wait()
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def wait_for(self, text: bytes, timeout: float = 30, *, after: int = 0) -> None:
        """Until ``text`` appears in the output (from offset ``after`` on)."""
        deadline = time.monotonic() + timeout
        while self.output.find(text, after) < 0:
            assert self.process.poll() is None, bytes(self.output[-2000:])
            assert time.monotonic() < deadline, f"{text!r} never appeared"
            time.sleep(0.05)

    def type(self, keys: str) -> None:
        assert self.master is not None
        os.write(self.master, keys.encode())

    def signal(self, number: int) -> None:
        self.process.send_signal(number)

    def stall(self) -> None:
        """Stop reading the terminal, as a stalled connection does: once the pty's buffer is
        full, the child's writes block."""
        self._reading.clear()

    def fill(self) -> None:
        """Stall, then make the child paint until its output thread is blocked writing to
        the terminal (as over an SSH connection that stopped moving)."""
        self.stall()
        for _ in range(300):
            if writing_blocked(self.process.pid):
                return
            self.type("\t")  # the focus moves on: a good part of the screen painted again
            time.sleep(0.05)
        raise AssertionError("the child's writes to the terminal never blocked")

    def drain(self) -> None:
        """Read again, until the child's side is closed (call after it exited)."""
        self._reading.set()
        self._reader.join(timeout=5)

    def resize(self, columns: int, lines: int) -> None:
        """Resize the terminal (the child gets SIGWINCH and paints the whole screen)."""
        assert self.master is not None
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))

    def hang_up(self) -> None:
        """The terminal goes away (its master side closed)."""
        if self.master is not None:
            os.close(self.master)
            self.master = None
            self._reading.set()
            self._reader.join(timeout=5)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.hang_up()


def tui_environment(home: Path, config: Path, **extra: str) -> dict[str, str]:
    """The environment of a TUI run whose every file lands under ``home``."""
    return {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "STRATUS_TUI_CONFIG": str(config),
        "TERM": "xterm-256color",
        **extra,
    }


def write_profile(path: Path, url: str, user: str) -> Path:
    path.write_text(f"profiles:\n  lab:\n    url: {url}\n    username: {user}\n")
    path.chmod(0o600)
    return path


def type_password(terminal: Terminal, password: str) -> None:
    """At the sign-in screen (the profile names the user): type the password, Enter."""
    terminal.wait_for(SIGN_IN_SCREEN)
    time.sleep(0.3)  # the password field has the focus once the screen is mounted
    terminal.type(password + "\r")


@contextmanager
def tui(env: dict[str, str], password: str = "demo") -> Iterator[Terminal]:
    """`python -m stratus_tui --profile lab` in a pty, signed in (the main screen shown)."""
    terminal = Terminal([sys.executable, "-m", "stratus_tui", "--profile", "lab"], env)
    try:
        type_password(terminal, password)
        terminal.wait_for(SIGNED_IN)
        yield terminal
    finally:
        terminal.close()


LEFTOVER_SUFFIXES = ("-wal", "-shm", "-journal", ".tmp")


def leftovers(*folders: Path) -> list[Path]:
    """SQLite companions of a database left open, and temp files, under ``folders``."""
    return sorted(
        path
        for folder in folders
        for path in folder.rglob("*")
        if path.name.endswith(LEFTOVER_SUFFIXES)
    )


def last_session(database: Path) -> int:
    """The id of the reference server's latest session (0: none yet)."""
    with closing(sqlite3.connect(database)) as connection:
        return int(connection.execute("SELECT COALESCE(MAX(id), 0) FROM session").fetchone()[0])


def logged_out(database: Path, user: str, after: int, timeout: float = 15) -> bool:
    """Whether the server ends every session of ``user`` after id ``after`` (waiting a
    little: on a loaded machine the logout the TUI sent may still be in the server's hands
    when the TUI, whose limit for it is 2 s, has gone)."""
    deadline = time.monotonic() + timeout
    while open_sessions(database, user, after):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def open_sessions(database: Path, user: str, after: int = 0) -> int:
    """The sessions of ``user`` after id ``after`` that the reference server has not seen
    ended (logged out)."""
    with closing(sqlite3.connect(database)) as connection:
        row = connection.execute(
            "SELECT COUNT(*) FROM session JOIN user ON user.id = session.user_id"
            " WHERE session.ended_at IS NULL AND session.id > ? AND user.upn_key = ?",
            (after, user.lower()),
        )
        return int(row.fetchone()[0])


def stopped(pid: int) -> bool:
    """Whether a process is stopped (SIGSTOP, ctrl+z) according to /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "T"


WRITE_SYSCALL = {"x86_64": 1, "aarch64": 64}  # write(2)'s number, for /proc/*/syscall


def writing_blocked(pid: int) -> bool:
    """Whether a thread of ``pid`` sits in write(2) on its standard error (the terminal:
    Textual writes there), from /proc/PID/task/*/syscall (Linux)."""
    number = WRITE_SYSCALL[os.uname().machine]
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "syscall").read_text().split()
        except OSError:
            continue
        if len(fields) > 1 and fields[0] == str(number) and int(fields[1], 16) == 2:
            return True
    return False


class FreezableProxy:
    """A TCP relay to ``target`` (host, port) for one client, while others use the server.

    It counts the logouts the client sent (``logouts``), and can freeze: from ``freeze()``
    on, it still accepts connections and takes requests but forwards and answers nothing,
    as a server that hangs after accepting does."""

    LOGOUT = b"POST /api/v1/auth/logout "

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.frozen = threading.Event()
        self.logouts = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                pump = threading.Thread(target=self._pump, args=(source, sink, source is client))
                pump.daemon = True
                pump.start()

    def _pump(self, source: socket.socket, sink: socket.socket, requests: bool) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                return
            if requests:
                self.logouts += data.count(self.LOGOUT)
            while self.frozen.is_set():  # taken in, never passed on
                time.sleep(0.05)
            try:
                sink.sendall(data)
            except OSError:
                return

    def freeze(self) -> None:
        self.frozen.set()

    def close(self) -> None:
        for sock in self._sockets:
            sock.close()


def run_together(scenarios: dict[str, Callable[[], None]]) -> None:
    """Run scenarios in threads at once (most of their time is waiting: for a signal's
    time limit, a watchdog, an idle limit); every failure is reported, with its name."""
    with ThreadPoolExecutor(max_workers=len(scenarios)) as pool:
        futures = {name: pool.submit(scenario) for name, scenario in scenarios.items()}
    failures = []
    for name, future in futures.items():
        error = future.exception()
        if error is not None:
            error.add_note(f"in the scenario: {name}")
            failures.append(error)
    if failures:
        raise BaseExceptionGroup(f"{len(failures)} of {len(scenarios)} scenarios failed", failures)
