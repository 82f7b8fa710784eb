"""Wall-clock time for the server, injectable so tests can jump ten minutes in a millisecond."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> int:
        """Seconds since the epoch (UTC)."""
        ...


class SystemClock:
    def now(self) -> int:
        return int(time.time())


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: int = 1_790_000_000) -> None:
        self.current = start

    def now(self) -> int:
        return self.current

    def advance(self, seconds: int) -> None:
        self.current += seconds
