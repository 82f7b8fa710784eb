"""The demo's IT support: answers live chats by itself, so the demo's chat is not silent.

Every couple of seconds it looks for chats whose last message is the user's, and answers
each once with a fixed text (one reply per turn, whatever the user wrote: it repeats none of
it). A person answers for real through ``/support/chats`` as a system admin (README).

It runs in a daemon thread of the server process. peewee gives each thread its own
connection to the database file (WAL: it reads beside the request threads); the one write
per round is a short ``BEGIN IMMEDIATE`` transaction, as the routes' are.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from peewee import PeeweeException, fn

from stratus_tui.server import db

NAME = "IT Support"
REPLY = (
    "IT support here — we have your message and will get back to you shortly. "
    "(This is the demo's automatic reply; answer for real with curl, see README.)"
)
EVERY = 2.0  # seconds between rounds

log = logging.getLogger(__name__)


def answer_waiting(now: int) -> int:
    """One round: reply to every chat whose last message is the user's, in a tenant that
    still has live chat. Returns how many chats were answered."""
    last = db.ChatMessage.select(fn.MAX(db.ChatMessage.id)).group_by(db.ChatMessage.user)
    waiting = db.tuples(
        db.ChatMessage.select(db.ChatMessage.tenant, db.ChatMessage.user)
        .join(db.Tenant, on=db.ChatMessage.tenant == db.Tenant.id)
        .where(
            db.ChatMessage.id.in_(last),
            db.ChatMessage.author == "user",
            db.Tenant.live_chat_enabled,
        )
    )
    if not waiting:
        return 0
    with db.database.atomic():
        for tenant_id, user_id in waiting:
            db.ChatMessage.create(
                tenant=tenant_id,
                user=user_id,
                author="support",
                author_name=NAME,
                text=REPLY,
                sent_at=now,
            )
    return len(waiting)


@dataclass
class RunningBot:
    _stop: threading.Event
    _thread: threading.Thread

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)


def run_in_thread(now: Callable[[], int], every: float = EVERY) -> RunningBot:
    """Answer chats every ``every`` seconds until ``stop()`` (or the process ends)."""
    stop = threading.Event()

    def run() -> None:
        try:
            while not stop.wait(every):
                try:
                    answer_waiting(now())
                except PeeweeException:  # busy or gone for a moment: next round
                    log.warning("The support bot skipped a round", exc_info=True)
        finally:
            db.database.close()  # this thread's connection

    thread = threading.Thread(target=run, name="support-bot", daemon=True)
    thread.start()
    return RunningBot(stop, thread)
