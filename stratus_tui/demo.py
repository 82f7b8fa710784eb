"""``stratus-tui demo``'s server: the reference server with demo data, as a child process.

The child listens on a free loopback port and keeps its database in the XDG data folder, so
only the first start generates data. It ends with the TUI: ``stop()`` on a normal exit, and
otherwise (a crash, any signal, even SIGKILL) because it watches its standard input, whose
other end only this process holds: the kernel closes that pipe when this process exits.

Standard library only: the TUI imports this before anything heavy.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, TextIO

from stratus_tui.config import paths

if sys.platform != "win32":
    import fcntl

DEMO_DB_NAME = "demo.sqlite3"
LOG_NAME = "demo-server.log"
SCHEMA_MISMATCH = 2  # serve's exit code: the file is not a database of this version
READY = re.compile(rb"listening on (http://\S+)")
# After the ready line: the demo O365 identity provider (serve's identity_provider=True).
IDENTITY_PROVIDER = re.compile(rb"identity provider on (https://\S+) \(CA (.+)\)")
ANNOUNCED = b"Press Ctrl+C"  # the last line serve prints before it serves


class DemoServerError(Exception):
    """The demo server could not start; the message is one line for the user."""


class DemoServer:
    """The reference server with demo data, as a child process on a free loopback port."""

    def __init__(
        self,
        db_path: Path | None = None,
        *,
        calls: int | None = None,
        seed: int | None = None,
        log_path: Path | None = None,
        progress: TextIO | None = sys.stderr,
        ready_timeout: float = 180.0,
    ) -> None:
        self.db_path = db_path or paths.private_dir(paths.data_dir()) / DEMO_DB_NAME
        self.log_path = log_path or paths.private_dir(paths.state_dir()) / LOG_NAME
        self.calls = calls
        self.seed = seed
        self.progress = progress
        self.ready_timeout = ready_timeout
        self.url = ""  # set once started
        self.idp_url: str | None = None  # the demo O365 identity provider, once started
        self.idp_ca: Path | None = None  # the CA file its HTTPS certificate is trusted by
        self.returncode: int | None = None  # the server's exit code once stopped (143: SIGTERM)
        self._child: subprocess.Popen[bytes] | None = None
        self._pump: threading.Thread | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return None if self._child is None else self._child.pid

    def start(self) -> str:
        """Start the server (generating the database on first use) and return its URL."""
        if self._child is not None:
            return self.url
        try:
            for folder in {self.db_path.parent, self.log_path.parent}:
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            log = _open_private(self.log_path, os.O_WRONLY | os.O_TRUNC | os.O_APPEND)
            self._log = os.fdopen(log, "ab", buffering=0)  # closed by stop()
            with self._exclusive():  # one generator per file: a second demo waits, then reuses
                code = self._launch()
                if code == SCHEMA_MISMATCH:
                    self._say("The demo database is from another version: replacing it.")
                    for suffix in ("", "-wal", "-shm", "-journal"):
                        Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)
                    code = self._launch()
            if code is not None:
                raise DemoServerError(self._failure(code))
        except OSError as error:
            self.stop()
            raise DemoServerError(f"cannot start the demo server: {error}") from error
        except BaseException:  # also Ctrl+C while the data is generated
            self.stop()
            raise
        return self.url

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server: end of its stdin, SIGTERM, then SIGKILL if need be. Idempotent."""
        self._end_child(timeout)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> DemoServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _launch(self) -> int | None:
        """Spawn the child and wait until it listens: None, or its exit code if it ended."""
        os.close(_open_private(self.db_path, os.O_RDWR))  # SQLite takes an empty file as new
        command = [sys.executable, "-P", "-m", "stratus_tui.server.child",
                   "--port", "0", "--db", str(self.db_path)]  # fmt: skip
        if self.calls is not None:
            command += ["--calls", str(self.calls)]
        if self.seed is not None:
            command += ["--seed", str(self.seed)]
        child = self._child = subprocess.Popen(  # noqa: S603 (our own module, no shell)
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            start_new_session=True,  # Ctrl+C in the TUI's terminal is the TUI's, not ours
            umask=0o077 if os.name == "posix" else -1,  # its -wal and -shm files are private
        )
        assert child.stdout is not None and self._log is not None
        lines: queue.Queue[bytes | None] = queue.Queue()
        self._pump = threading.Thread(
            target=_pump, args=(child.stdout, self._log, lines), name="demo-server-output"
        )
        self._pump.daemon = True
        self._pump.start()
        deadline = time.monotonic() + self.ready_timeout
        ready = False
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise DemoServerError(
                    f"the demo server was not ready within {self.ready_timeout:g} s "
                    f"(log: {self.log_path})"
                ) from None
            if line is None:  # its output ended: it exited
                code = child.wait(timeout=10)
                self._end_child()
                return code
            if ready:  # the lines after the ready one, up to the last it announces
                if found := IDENTITY_PROVIDER.search(line):
                    self.idp_url = found.group(1).decode()
                    self.idp_ca = Path(os.fsdecode(found.group(2).rstrip(b"\r\n")))
                if line.startswith(ANNOUNCED):
                    return None
            elif found := READY.search(line):
                self.url = found.group(1).decode()
                ready = True
            else:
                self._say(line.decode(errors="replace").rstrip())

    def _end_child(self, timeout: float = 5.0) -> None:
        child, self._child = self._child, None
        if child is not None:
            with contextlib.suppress(OSError):
                child.stdin.close()  # type: ignore[union-attr]  # it sees the end, shuts down
            child.terminate()  # a no-op once it has been waited for
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            self.returncode = child.returncode
        if self._pump is not None:
            self._pump.join(timeout=2)  # the child's output ends with it
            self._pump = None
        if child is not None:
            child.stdout.close()  # type: ignore[union-attr]

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold ``<db>.lock`` (not on Windows); give up after ``ready_timeout``."""
        if sys.platform == "win32":
            yield
            return
        lock = _open_private(Path(f"{self.db_path}.lock"), os.O_RDWR)
        try:
            deadline = time.monotonic() + self.ready_timeout
            waiting = False
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise DemoServerError(
                            f"another stratus-tui demo is still preparing {self.db_path}"
                        ) from None
                    if not waiting:
                        self._say("Waiting for another stratus-tui demo to prepare the data…")
                        waiting = True
                    time.sleep(0.2)
            yield
        finally:
            os.close(lock)  # releases the lock

    def _failure(self, code: int) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        reason = lines[-1].removeprefix("stratus-tui serve: ") if lines else "no output"
        return (
            f"the demo server stopped before it was ready (exit code {code}): {reason} "
            f"(log: {self.log_path})"
        )

    def _say(self, text: str) -> None:
        if self.progress is not None:
            print(text, file=self.progress, flush=True)


def _open_private(path: Path, flags: int) -> int:
    """Open ``path``, creating it 0600 if missing and making it 0600 if it was not."""
    descriptor = os.open(path, flags | os.O_CREAT, 0o600)
    if os.fstat(descriptor).st_mode & 0o077:
        path.chmod(0o600)
    return descriptor


def _pump(stdout: IO[bytes], log: IO[bytes], lines: queue.Queue[bytes | None]) -> None:
    """Copy the child's output to the log; hand start() the lines it announces itself with."""
    announcing = True
    try:
        for line in stdout:
            log.write(line)
            if announcing:
                lines.put(line)
                announcing = not line.startswith(ANNOUNCED)
    except (OSError, ValueError):
        pass  # the pipe or the log was closed under us: stop() is ending everything
    finally:
        lines.put(None)
