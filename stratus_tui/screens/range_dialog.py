"""Ask for a custom report range: two local dates, checked as they are typed."""

from __future__ import annotations

from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from stratus_tui.screens.dialogs import DIALOG_CSS

MAX_DAYS = 124  # the cache keeps four months; a longer range would only show empty days


def parse_range(first: str, last: str, today: date) -> tuple[date, date] | str:
    """The two dates, or what is wrong with them, in one sentence."""
    try:
        start = date.fromisoformat(first.strip())
    except ValueError:
        return "From: a date like 2026-11-01"
    try:
        end = date.fromisoformat(last.strip())
    except ValueError:
        return "To: a date like 2026-11-22"
    if end < start:
        return "To must not be before From"
    if start > today:
        return "From is in the future"
    if (end - start).days >= MAX_DAYS:
        return f"At most {MAX_DAYS} days (the cache keeps four months)"
    return start, end


class RangeDialog(ModalScreen[tuple[date, date] | None]):
    """From and To (local dates of the team, both included); enter applies, escape cancels."""

    DEFAULT_CSS = "RangeDialog {" + DIALOG_CSS + "} RangeDialog #problem { color: $error; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel_range")]

    def __init__(self, first: date, last: date, today: date) -> None:
        super().__init__()
        self._first, self._last, self._today = first, last, today

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Custom range (team local dates, both included)", classes="title")
            first = Input(self._first.isoformat(), id="first")
            first.border_title = "From"
            last = Input(self._last.isoformat(), id="last")
            last.border_title = "To"
            yield first
            yield last
            yield Static("", id="problem")
            with Horizontal(id="buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")

    @on(Input.Changed)
    def _check(self) -> None:
        answer = self._answer()
        self.query_one("#problem", Static).update(answer if isinstance(answer, str) else "")

    def _answer(self) -> tuple[date, date] | str:
        first = self.query_one("#first", Input).value
        last = self.query_one("#last", Input).value
        return parse_range(first, last, self._today)

    @on(Input.Submitted)
    @on(Button.Pressed, "#apply")
    def _apply(self) -> None:
        answer = self._answer()
        if isinstance(answer, str):
            self.query_one("#problem", Static).update(answer)
            return
        self.dismiss(answer)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
