"""Leaving when told to or when the terminal is gone: plain Python the app's exit path uses.

SIGHUP (SSH dropped) and SIGTERM log out briefly, restore the terminal and exit 129 / 143.
Three things can stop that clean way, each seen for real:

- The terminal is gone (sshd or tmux closed the pty): every write fails with EIO. Textual
  writes from a thread fed by a queue of 30; the first failed write ends that thread, the
  queue fills, and the event loop blocks for good on the next write, deaf to every later
  signal. ``TerminalOutput`` wraps the terminal's stream: the first failure marks the
  terminal gone, reports it once, and later writes are dropped, so the loop never blocks.
- The terminal is gone and nothing is written: Textual's input thread then reads end of
  file in a busy loop, and no SIGHUP may come (the process is not in the terminal's
  foreground group). ``hung_up`` tells it from the input side, once a second.
- The terminal is there but nobody reads it (a stalled connection): writes block in the
  kernel, then the loop blocks on the full queue. A Python signal handler still runs there
  (a blocked queue wait is interrupted by signals), and it arms the ``Watchdog`` at once:
  the process ends with the signal's exit code after ``LEAVE_LIMIT`` seconds at most.
"""

from __future__ import annotations

import errno
import os
import signal
import threading
from collections.abc import Callable
from typing import TextIO

# The exit code of each signal that ends the TUI cleanly, as a shell reports it.
SIGNAL_EXITS = {"SIGHUP": 129, "SIGTERM": 143}
HANGUP_EXIT = SIGNAL_EXITS["SIGHUP"]  # the terminal went away: as if SSH dropped
LEAVE_LIMIT = 5.0  # seconds for logging out and restoring the terminal after a signal
LOGOUT_LIMIT = 2.0  # of which the logout on the server may take this much


def exit_signals() -> dict[int, int]:
    """Signal number -> exit code, for the signals this platform has."""
    found = {}
    for name, code in SIGNAL_EXITS.items():
        number = getattr(signal, name, None)
        if number is not None:
            found[int(number)] = code
    return found


class Watchdog:
    """Ends the process with an exit code if it is still running ``limit`` seconds after
    ``arm``: the clean exit normally comes first. Armed once; later calls do nothing."""

    def __init__(self, limit: float = LEAVE_LIMIT, *, end: Callable[[int], object] = os._exit):
        self.limit = limit
        self._end = end
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    @property
    def armed(self) -> bool:
        return self._timer is not None

    def arm(self, code: int) -> None:
        with self._lock:
            if self._timer is not None:
                return
            self._timer = threading.Timer(self.limit, self._end, args=(code,))
            self._timer.daemon = True
            self._timer.name = "exit-watchdog"
            self._timer.start()

    def disarm(self) -> None:
        """For tests of the logic: stop a timer that has not fired yet."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()


class TerminalOutput:
    """A text stream that never raises and never blocks on a terminal that has gone.

    The first ``OSError`` marks the terminal gone and calls ``gone`` (once, from the
    writing thread); from then on writes and flushes do nothing.
    """

    def __init__(self, stream: TextIO, gone: Callable[[], object]) -> None:
        self._stream = stream
        self._gone_callback = gone
        self.gone = False

    def _lost(self) -> None:
        if not self.gone:
            self.gone = True
            self._gone_callback()

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                return self._stream.write(text)
            except OSError:
                self._lost()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._stream.flush()
            except OSError:
                self._lost()

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return not self.gone and self._stream.isatty()

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def hung_up(descriptor: int) -> bool:
    """True when the terminal on ``descriptor`` has hung up (its other side closed)."""
    import termios  # POSIX only: imported where it is used

    try:
        termios.tcgetattr(descriptor)
    except termios.error as error:
        return bool(error.args) and error.args[0] == errno.EIO
    except (OSError, ValueError):
        return False
    return False
