"""Live Chat: the signed-in user's chat with internal IT support.

The main screen creates this page at sign-in (hidden) wherever the tenant has live chat, so
that it can count support's replies while the user is on another page: the sidebar entry
then reads ``Live Chat (2)`` and a notification says a message came. It asks the server
for messages after the last one it has, every 3 s while shown and every 10 s while hidden:
one small background request (it does not keep an idle session alive) and, when nothing is
new, no redraw at all. Every message is untrusted text (``widgets/chat_log.py``).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from stratus_tui.api.errors import StratusError, Unauthenticated
from stratus_tui.records import chat
from stratus_tui.screens.bindings import bind
from stratus_tui.screens.pages.sections import LiveChatSwitched
from stratus_tui.widgets.chat_log import ChatInput, ChatLog
from stratus_tui.widgets.safe import safe

if TYPE_CHECKING:
    from stratus_tui.api import models
    from stratus_tui.session import Session

TICK = 1.0  # seconds between checks whether a poll is due (no request, no redraw)
POLL_SHOWN = 3.0
POLL_HIDDEN = 10.0
CHAT_OFF = "Live chat was switched off for your tenant."


class ChatPage(Vertical):
    DEFAULT_CSS = """
    ChatPage { padding: 0 1; }
    ChatPage .page-title { text-style: bold; color: $accent; height: 1; }
    ChatPage #chat-bottom { dock: bottom; height: auto; }
    ChatPage #chat-status { color: $text-muted; height: auto; display: none; }
    ChatPage #chat-status.-shown { display: block; }
    ChatPage #chat-status.-error { color: $text-error; text-style: bold; }
    ChatPage #chat-compose { height: auto; }
    ChatPage #chat-input { width: 1fr; }
    ChatPage #chat-counter { width: 9; height: 3; content-align: right middle; color: $text-muted; }
    ChatPage #chat-counter.-near { color: $text-warning; text-style: bold; }
    ChatPage #chat-counter.-full { color: $text-error; text-style: bold; }
    """
    HELP = """
## Live Chat

Your chat with your organisation's IT support. Write in the line at the bottom (up to 500
characters; the counter turns yellow near the limit) and press **Enter** to send. If it
cannot be sent, your text stays there and the reason is shown: press **Enter** again.

New messages appear by themselves (the page asks every few seconds); **r** (outside the
text line) asks now. While you are on another page, the sidebar counts IT support's new
messages, e.g. **Live Chat (2)**. **Tab** moves to the messages to scroll them, **escape**
returns to the sidebar.
"""
    BINDINGS = [bind("refresh", "refresh")]
    FIRST_FOCUS = "#chat-input"  # opening the page: ready to write (the main screen reads it)

    @dataclass
    class UnreadChanged(Message):
        """How many of support's messages the user has not seen (0 when the page is read)."""

        count: int

    def __init__(self, session: Session, *, id: str = "chat") -> None:
        super().__init__(id=id)
        self.session = session
        self.zone = chat.zone_of(session.user.time_zone)
        self.last_id = 0  # the newest message shown: polls ask for those after it
        self.loaded = False
        self.read_id: int | None = None
        self.unread = 0
        self.sending = False
        self.send_error = ""
        self.poll_error = ""
        self.stopped = False
        self._lock = asyncio.Lock()  # one fetch at a time: messages are added in order
        self._polling = False
        self._last_poll = 0.0
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="chat-bottom"):
            yield Static("", id="chat-status")
            with Horizontal(id="chat-compose"):
                yield ChatInput(
                    max_length=chat.MAX_TEXT,
                    placeholder="Write to IT support; Enter sends",
                    id="chat-input",
                )
                yield Static(chat.counter(0)[0], id="chat-counter")
        yield Static("Live Chat · IT support", classes="page-title")
        yield ChatLog(id="chat-log")

    def on_mount(self) -> None:
        self.poll(background=False)
        self._timer = self.set_interval(TICK, self._tick)
        # A program the app runs in the foreground (App.suspend) gets the terminal: no
        # polling meanwhile (ctrl+z stops the whole process, timers included).
        self.app.app_suspend_signal.subscribe(self, self._suspended)
        self.app.app_resume_signal.subscribe(self, self._resumed)

    def on_show(self) -> None:
        if self.loaded:
            self._mark_read()
            self.poll(background=False)

    def action_refresh(self) -> None:
        self.poll(background=False)

    # --- polling ---------------------------------------------------------------------------

    def _suspended(self, _: Any) -> None:
        if self._timer is not None:
            self._timer.pause()

    def _resumed(self, _: Any) -> None:
        if self._timer is not None and not self.stopped:
            self._timer.resume()

    def _tick(self) -> None:
        if self._polling or self.stopped or self.session.ended:
            return
        due = POLL_SHOWN if self.display else POLL_HIDDEN
        if time.monotonic() - self._last_poll >= due:
            self.poll()

    @work(group="chat-poll", exit_on_error=False)
    async def poll(self, background: bool = True) -> None:
        """Fetch what is new (automatic polls are background requests)."""
        self._polling = True
        try:
            await self._fetch(background=background)
        finally:
            self._polling = False
            self._last_poll = time.monotonic()

    async def _fetch(self, *, background: bool) -> None:
        if self.stopped:
            return
        async with self._lock:
            try:
                found = await chat.fetch_after(
                    self.session.client, self.last_id, background=background
                )
            except Unauthenticated as error:
                self.app.end_session(str(error))  # type: ignore[attr-defined]
                return
            except StratusError as error:
                if chat.is_chat_off(error):
                    self._chat_off()
                else:
                    self.poll_error = f"Could not fetch new messages: {error}. Trying again."
                    self._show_status()
                return
            if self.poll_error:
                self.poll_error = ""
                self._show_status()
            await self._show_messages(found)

    async def _show_messages(self, found: list[models.ChatMessage]) -> None:
        log = self.query_one(ChatLog)
        first = not self.loaded
        if first:
            self.read_id = await chat.read_marker(self.session.cache)
        if found:
            self.last_id = found[-1].id
            now = getattr(self.app, "wall_clock", time.time)()
            await log.add_lines(chat.lines_of(found, self.zone, now))
        elif first:
            log.show_empty()
        self.loaded = True
        if self.display:
            self._mark_read()
            return
        if first:
            self._set_unread(chat.unread(found, self.read_id))
            if self.unread:
                self.notify(self._unread_note(), title="Live Chat")
            return
        replies = sum(message.author == "support" for message in found)
        if replies:
            self._set_unread(self.unread + replies)
            self.notify("New message from IT support", title="Live Chat")

    def _unread_note(self) -> str:
        plural = "s" if self.unread != 1 else ""
        return f"{self.unread} unread message{plural} from IT support"

    def _set_unread(self, count: int) -> None:
        if count != self.unread:
            self.unread = count
            self.post_message(self.UnreadChanged(count))

    def _mark_read(self) -> None:
        self._set_unread(0)
        if self.last_id > (self.read_id or 0):
            self.read_id = self.last_id
            self.run_worker(
                chat.remember_read(self.session.cache, self.last_id),
                group="chat-read",
                exit_on_error=False,
            )

    def _chat_off(self) -> None:
        self.stopped = True
        if self._timer is not None:
            self._timer.stop()
        self.post_message(LiveChatSwitched(False, reason=CHAT_OFF))

    # --- writing ---------------------------------------------------------------------------

    @on(Input.Changed, "#chat-input")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        text, level = chat.counter(len(event.value))
        shown = self.query_one("#chat-counter", Static)
        shown.update(text)
        shown.set_class(level == "near", "-near")
        shown.set_class(level == "full", "-full")

    @on(Input.Submitted, "#chat-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip() and not self.sending:
            self.send(event.value)

    @work(group="chat-send", exit_on_error=False)
    async def send(self, text: str) -> None:
        """Send ``text``; on failure it stays in the input and the reason is shown."""
        self.sending = True
        self.send_error = ""
        self._show_status("Sending…")
        try:
            await chat.send(self.session.client, text)
        except ValueError as error:
            self.send_error = f"Not sent: {error}"
            return
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return
        except StratusError as error:
            if chat.is_chat_off(error):
                self._chat_off()
                return
            self.send_error = f"Not sent: {error}. Your text is kept: Enter tries again."
            return
        finally:
            self.sending = False
            self._show_status()
        field = self.query_one(ChatInput)
        if field.value == text:  # typed on meanwhile: keep what is there
            field.clear()
        self.query_one(ChatLog).to_newest()
        await self._fetch(background=False)  # ours, in order, and any reply with it

    # --- the status line -------------------------------------------------------------------

    def _show_status(self, progress: str = "") -> None:
        line = self.query_one("#chat-status", Static)
        text = self.send_error or self.poll_error or progress
        line.set_class(bool(text), "-shown")
        line.set_class(bool(self.send_error or self.poll_error), "-error")
        line.update(safe(text, max_length=None) if text else Content(""))
