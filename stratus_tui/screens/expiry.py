"""The one-minute warning before an idle session ends: any key or the button continues."""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ExpiryWarning(ModalScreen[bool]):
    """Dismissed with True when the user continues (the app ends the session otherwise)."""

    DEFAULT_CSS = """
    ExpiryWarning { align: center middle; }
    ExpiryWarning > Vertical {
        width: 60; max-width: 90%; height: auto; padding: 1 2;
        border: thick $warning; background: $surface;
    }
    ExpiryWarning .title { text-style: bold; color: $warning; margin-bottom: 1; }
    ExpiryWarning Button { margin-top: 1; }
    """

    def __init__(self, seconds_left: float) -> None:
        super().__init__()
        self._seconds = seconds_left

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Your session is about to end", classes="title")
            yield Static(self._text(self._seconds), id="countdown")
            yield Button("Continue working", variant="warning", id="continue")

    @staticmethod
    def _text(seconds: float) -> str:
        whole = max(int(seconds), 0)
        return (
            f"You have not used stratus-tui for a while. In {whole // 60}:{whole % 60:02d} "
            "the session ends and unsaved changes are discarded.\n\n"
            "Press any key to continue."
        )

    def show_seconds_left(self, seconds: float) -> None:
        if int(seconds) != int(self._seconds):
            self._seconds = seconds
            self.query_one("#countdown", Static).update(self._text(seconds))

    def on_key(self, event: events.Key) -> None:
        event.stop()
        self.dismiss(True)

    @on(Button.Pressed, "#continue")
    def _continue(self) -> None:
        self.dismiss(True)
