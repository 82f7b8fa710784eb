"""The client side of session expiry: the server's idle limit (10 minutes in production)
without user input ends a session.

The server's policy is the authority: the limit comes from its login answer
(``idle_timeout_seconds``) and ``IdleClock.for_limit`` scales the warning and the keepalive
to it (a minute each for the usual 10 minutes, a tenth of the limit for shorter ones, as a
developer's ``stratus-tui serve --idle-timeout 5`` gives).

The clock is monotonic: on Linux ``time.monotonic`` (CLOCK_MONOTONIC) goes on while the
process is stopped (ctrl+z, SIGSTOP), so a session resumed after the limit expires at once.
It does not advance while the whole machine is suspended (a laptop's lid closed): the
server's own clock still ends that session, and the first request after waking gets 401.

Pure logic over an injectable monotonic clock, so tests cover minutes in microseconds and
a process suspended with ctrl+z that resumes after the limit is expired at once.

The server keeps its own idle clock, moved only by requests the user caused. To keep the
two in step without a request per key press, the client reports activity with a keepalive
at most every ``keepalive_every`` seconds, and only when there was input since the last
one: the server's deadline is then never earlier than the client's, and an unattended
session is never kept alive.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum

IDLE_LIMIT = 10 * 60
WARNING_BEFORE = 60
KEEPALIVE_EVERY = 60
KEEPALIVE_RETRY = 15  # after a failed keepalive (server unreachable), try again this much later
SHORT_LIMIT_SHARE = 0.1  # under 10 minutes, warn and keep alive at a tenth of the limit


def describe_limit(seconds: float) -> str:
    """``600`` -> "10 minutes", ``90`` -> "90 seconds", ``60`` -> "1 minute"."""
    whole = max(int(seconds), 1)
    if whole % 60 == 0:
        minutes = whole // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{whole} second{'s' if whole != 1 else ''}"


def expired_message(limit: float) -> str:
    return (
        f"Your session ended after {describe_limit(limit)} without input; "
        "unsaved changes were discarded."
    )


class IdleState(Enum):
    ACTIVE = "active"
    WARNING = "warning"  # show the "continue?" prompt
    EXPIRED = "expired"  # end the session now


class IdleClock:
    def __init__(
        self,
        *,
        idle_limit: float = IDLE_LIMIT,
        warning_before: float = WARNING_BEFORE,
        keepalive_every: float = KEEPALIVE_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_limit = idle_limit
        self.warning_before = warning_before
        self.keepalive_every = keepalive_every
        self.keepalive_retry = min(KEEPALIVE_RETRY, keepalive_every)
        self._clock = clock
        now = clock()
        self.last_input = now
        self.last_keepalive = now  # signing in counts as both
        self._retry_at = now

    @classmethod
    def for_limit(cls, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> IdleClock:
        """The clock for the server's idle limit (its login answer's ``idle_timeout_seconds``).

        The keepalive must reach the server well before its limit, so it comes at most a
        tenth of the limit after the input it reports; the warning, likewise, a tenth of the
        limit before the end (60 s each for 10 minutes). A limit under a second is taken
        as one second.
        """
        limit = max(float(seconds), 1.0)
        share = limit * SHORT_LIMIT_SHARE
        return cls(
            idle_limit=limit,
            warning_before=min(WARNING_BEFORE, share),
            keepalive_every=min(KEEPALIVE_EVERY, share),
            clock=clock,
        )

    def user_input(self) -> None:
        self.last_input = self._clock()

    def keepalive_sent(self) -> None:
        self.last_keepalive = self._clock()

    def keepalive_failed(self) -> None:
        """The server could not be told; wait a little before trying again."""
        self._retry_at = self._clock() + self.keepalive_retry

    def seconds_left(self) -> float:
        return self.idle_limit - (self._clock() - self.last_input)

    def state(self) -> IdleState:
        left = self.seconds_left()
        if left <= 0:
            return IdleState.EXPIRED
        if left <= self.warning_before:
            return IdleState.WARNING
        return IdleState.ACTIVE

    def keepalive_due(self) -> bool:
        """True when the server has not yet heard of input the user made."""
        if self.state() is IdleState.EXPIRED:
            return False
        now = self._clock()
        return (
            self.last_input > self.last_keepalive
            and now - self.last_keepalive >= self.keepalive_every
            and now >= self._retry_at
        )
