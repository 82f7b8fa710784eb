"""A plain push button for the sign-in screen.

Textual's ``Button`` brings about 7 KB of CSS (every variant) that takes ~11 ms to parse at
start-up, and the sign-in screen is the start-up path (PERFORMANCE: spawn to login within
1.25x of a bare app). Two plain buttons need much less.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static


class ActionButton(Static, can_focus=True):
    DEFAULT_CSS = """
    ActionButton {
        width: auto; min-width: 14; height: 3; padding: 1 2; margin-right: 2;
        background: $panel; color: $text; text-style: bold; content-align: center middle;
    }
    ActionButton:hover { background: $panel-lighten-1; }
    ActionButton.-primary { background: $primary; }
    ActionButton:focus { background: $accent; color: $text; }
    ActionButton:disabled { background: $panel-darken-1; color: $text-disabled; }
    """
    BINDINGS = [Binding("enter,space", "press", "Press", show=False)]

    @dataclass
    class Pressed(Message):
        button: ActionButton

        @property
        def control(self) -> ActionButton:
            return self.button

    def __init__(
        self, label: str, *, id: str | None = None, primary: bool = False, disabled: bool = False
    ) -> None:
        super().__init__(label, id=id, classes="-primary" if primary else "", disabled=disabled)

    def press(self) -> None:
        if not self.disabled:
            self.post_message(self.Pressed(self))

    def action_press(self) -> None:
        self.press()

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.press()
