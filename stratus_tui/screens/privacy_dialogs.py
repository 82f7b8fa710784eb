"""The Data Privacy page's two dialogs: erase a customer identifier, change the retention.

Erasing cannot be undone, so the identifier is typed twice and the button stays disabled
until both agree. Shortening the retention deletes history, so the dialog says how much
before anything is sent (the page then asks once more, as every destructive change does).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from stratus_tui.records.privacy import RETENTION_RANGE, retention_warning
from stratus_tui.screens.dialogs import DIALOG_CSS

ERASE_TEXT = (
    "Every conversation of your tenant with this customer identifier (phone number, SIP "
    "address or mail) is anonymised on the server, and local caches drop it at their next "
    "sync. This cannot be undone: type the identifier twice."
)


class EraseDialog(ModalScreen[str | None]):
    """The identifier to erase, typed twice; None when cancelled."""

    DEFAULT_CSS = (
        "EraseDialog {" + DIALOG_CSS + "} EraseDialog #erase-note { color: $text-warning; }"
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel_erase")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Erase a customer identifier", classes="title")
            yield Static(ERASE_TEXT)
            first = Input(id="identifier", max_length=320)
            first.border_title = "Customer identifier"
            yield first
            again = Input(id="again", max_length=320)
            again.border_title = "The same again"
            yield again
            yield Static("", id="erase-note")
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Erase for good", id="erase", variant="error", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#identifier", Input).focus()

    @on(Input.Changed)
    def _typed(self) -> None:
        first = self.query_one("#identifier", Input).value.strip()
        again = self.query_one("#again", Input).value.strip()
        matches = bool(first) and first == again
        self.query_one("#erase", Button).disabled = not matches
        note = "" if matches or not again else "The two do not match yet."
        self.query_one("#erase-note", Static).update(note)

    @on(Input.Submitted, "#identifier")
    def _next(self) -> None:
        self.query_one("#again", Input).focus()

    @on(Input.Submitted, "#again")
    @on(Button.Pressed, "#erase")
    def _erase(self) -> None:
        if not self.query_one("#erase", Button).disabled:
            self.dismiss(self.query_one("#identifier", Input).value.strip())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class RetentionDialog(ModalScreen[int | None]):
    """The new retention in days; None when cancelled or unchanged."""

    DEFAULT_CSS = (
        "RetentionDialog {"
        + DIALOG_CSS
        + "} RetentionDialog #retention-note { color: $text-warning; }"
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel_retention")]

    def __init__(self, days: int) -> None:
        super().__init__()
        self.days = days

    def compose(self) -> ComposeResult:
        low, high = RETENTION_RANGE
        with Vertical():
            yield Static("History retention", classes="title")
            yield Static(
                f"How many days your tenant's conversation history is kept ({low} to {high:,}). "
                "The server deletes older conversations."
            )
            days = Input(str(self.days), id="days", type="integer", max_length=4)
            days.border_title = "Days"
            yield days
            yield Static("", id="retention-note")
            with Horizontal(id="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#days", Input).focus()

    def _value(self) -> int | None:
        text = self.query_one("#days", Input).value.strip()
        low, high = RETENTION_RANGE
        try:
            days = int(text)
        except ValueError:
            return None
        return days if low <= days <= high else None

    @on(Input.Changed, "#days")
    def _typed(self) -> None:
        days = self._value()
        low, high = RETENTION_RANGE
        if days is None:
            note = f"Type a number of days from {low} to {high:,}."
        else:
            note = retention_warning(self.days, days) or ""
        self.query_one("#retention-note", Static).update(note)
        self.query_one("#save", Button).disabled = days is None

    @on(Input.Submitted, "#days")
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        days = self._value()
        if days is not None:
            self.dismiss(None if days == self.days else days)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
