"""The live chat's parts: the message list, one message, and the input with its limit.

Every message (ours too: it came back from the server) is untrusted text, shown through
``safe``/``safe_lines`` as plain ``Content``: markup stays literal, escapes become visible.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Input, Static

from stratus_tui.records.chat import SHOWN_TEXT, ChatLine
from stratus_tui.widgets.safe import safe, safe_lines

MAX_SHOWN = 500  # messages kept on screen; older ones leave the top as new ones arrive
EMPTY = "No messages yet: write to IT support below."


class ChatBubble(Static):
    """One message: who and when, then the text. Own messages sit to the right."""

    DEFAULT_CSS = """
    ChatBubble {
        height: auto; width: 1fr; margin: 1 8 0 0; padding: 0 1;
        border-left: wide $success; text-wrap: wrap; text-overflow: fold;
    }
    ChatBubble.-own { margin: 1 0 0 8; border-left: wide $accent; }
    """

    def __init__(self, line: ChatLine) -> None:
        header = Content.assemble(
            safe(line.author, max_length=60).stylize("bold"),
            (" (you)" if line.own else "", "dim"),
            (f"  {line.when}", "dim"),
            "\n",
        )
        body = safe_lines(line.text, max_length=SHOWN_TEXT)
        super().__init__(header + body, classes="-own" if line.own else "-support")
        self.message_id = line.id


class ChatLog(VerticalScroll):
    """The messages, oldest at the top; stays at the newest (anchored) unless the user
    scrolls up to read older ones."""

    DEFAULT_CSS = """
    ChatLog { height: 1fr; padding: 0 1 1 0; }
    ChatLog #chat-empty { color: $text-muted; margin: 1 0 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown_ids: list[int] = []

    def on_mount(self) -> None:
        self.anchor()

    def show_empty(self) -> None:
        if not self.shown_ids and not self.query("#chat-empty"):
            self.mount(Static(EMPTY, id="chat-empty"))

    async def add_lines(self, lines: Sequence[ChatLine]) -> None:
        """Append messages (already in order, after those shown)."""
        if not lines:
            return
        await self.query("#chat-empty").remove()
        await self.mount_all(ChatBubble(line) for line in lines)
        self.shown_ids.extend(line.id for line in lines)
        extra = len(self.shown_ids) - MAX_SHOWN
        if extra > 0:
            await self.remove_children(list(self.query_children(ChatBubble))[:extra])
            del self.shown_ids[:extra]

    def to_newest(self) -> None:
        """Back to the newest message and stay there (after the user sent one)."""
        self.anchor()


class ChatInput(Input):
    """An ``Input`` with a length limit that pastes what fits instead of nothing."""

    def replace(self, text: str, start: int, end: int) -> None:
        if self.max_length:
            room = self.max_length - (len(self.value) - abs(end - start))
            if len(text) > room > 0:
                text = text[:room]
        super().replace(text, start, end)  # still too long (no room at all): the bell
