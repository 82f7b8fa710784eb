"""Fetching the feed's pages ahead of the one being stored.

The cursor of the next page is known for sure only once a page is parsed, but it also
stands near the end of the page's bytes (``"next_cursor":N,"has_more":true``), so as soon
as a page arrives the next one is asked for with that hint. The server then builds it
while this side parses and stores. A hint is only a guess: pages are handed out by the
cursor they were asked with, checked again when parsed, and a wrong guess costs one
wasted request, never a wrong page.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stratus_tui.api.client import StratusClient
    from stratus_tui.api.feed import RawPage

_TAIL = re.compile(rb'"next_cursor"\s*:\s*(\d+)\s*,\s*"has_more"\s*:\s*(true|false)')
TAIL_BYTES = 256


def peek_next(raw: RawPage) -> int | None:
    """The next page's cursor as the end of this page's bytes says it (None: last page,
    or the body is laid out otherwise). A hint for fetching ahead, not a fact."""
    body = raw.answer.body
    found = _TAIL.search(body, max(0, len(body) - TAIL_BYTES))
    if found is None or found.group(2) != b"true":
        return None
    return int(found.group(1))


class Prefetcher:
    """At most ``depth`` pages fetched ahead, by the cursor each was asked with.

    ``ready`` may be called from another thread: it only reads a dict that the event
    loop fills, so a worker can parse a page that has arrived without waiting for one.
    """

    def __init__(self, client: StratusClient, page_size: int, depth: int = 2) -> None:
        self._client = client
        self._page_size = page_size
        self._depth = depth
        self._tasks: dict[int, asyncio.Task[RawPage]] = {}
        self._arrived: dict[int, RawPage] = {}

    def want(self, after: int) -> None:
        """Start fetching the page after ``after`` unless it is on its way already."""
        if after in self._tasks:
            return
        task = asyncio.create_task(self._client.conversation_page_raw(after, self._page_size))
        task.add_done_callback(lambda done: self._arrival(after, done))
        self._tasks[after] = task

    def _arrival(self, after: int, task: asyncio.Task[RawPage]) -> None:
        if task.cancelled() or task.exception() is not None:
            return  # whoever takes this page gets the error; a guess nobody takes is dropped
        raw = task.result()
        self._arrived[after] = raw
        following = peek_next(raw)
        if following is not None and following > after and len(self._tasks) < self._depth:
            self.want(following)

    def ready(self, after: int) -> RawPage | None:
        """The page after ``after`` if it has arrived (any thread)."""
        return self._arrived.get(after)

    async def take(self, after: int) -> RawPage:
        """The page after ``after``: prefetched, or fetched now. Raises what the fetch did."""
        for stale in [key for key in self._tasks if key < after]:
            await self._drop(stale)
        self.want(after)
        task = self._tasks[after]
        try:
            raw = await task
        finally:
            self._tasks.pop(after, None)
            self._arrived.pop(after, None)
        following = peek_next(raw)
        if following is not None and following > after:
            self.want(following)
        return raw

    def taken(self, after: int) -> None:
        """The page after ``after`` was used through ``ready``: forget it."""
        self._tasks.pop(after, None)
        self._arrived.pop(after, None)

    async def _drop(self, after: int) -> None:
        task = self._tasks.pop(after, None)
        self._arrived.pop(after, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    async def close(self) -> None:
        """Cancel whatever is still being fetched."""
        for after in list(self._tasks):
            await self._drop(after)
