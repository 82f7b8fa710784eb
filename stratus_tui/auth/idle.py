"""The client side of session expiry: 10 minutes without user input end a session.

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
        self._clock = clock
        now = clock()
        self.last_input = now
        self.last_keepalive = now  # signing in counts as both
        self._retry_at = now

    def user_input(self) -> None:
        self.last_input = self._clock()

    def keepalive_sent(self) -> None:
        self.last_keepalive = self._clock()

    def keepalive_failed(self) -> None:
        """The server could not be told; wait a little before trying again."""
        self._retry_at = self._clock() + KEEPALIVE_RETRY

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
