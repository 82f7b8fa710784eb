"""Small modal dialogs: details of an item, and where to save an export."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from stratus_tui.text import clean

DIALOG_CSS = """
    align: center middle;
    & > Vertical {
        width: 70; max-width: 95%; height: auto; padding: 1 2;
        border: round $accent; background: $surface;
    }
    .title { text-style: bold; color: $accent; margin-bottom: 1; }
    #buttons { height: auto; margin-top: 1; }
    #buttons Button { margin-right: 2; }
"""


class DetailsDialog(ModalScreen[None]):
    """Read-only details of something; any of escape, enter, q closes it."""

    DEFAULT_CSS = "DetailsDialog {" + DIALOG_CSS + "}"
    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close", id="close_details")]

    def __init__(self, title: Content, body: Content) -> None:
        super().__init__()
        self._title = title
        self._body = body

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="title")
            yield Static(self._body)


class SaveAsDialog(ModalScreen[Path | None]):
    """Ask where to write a file; the default is filled in, enter saves, escape cancels."""

    DEFAULT_CSS = "SaveAsDialog {" + DIALOG_CSS + "} SaveAsDialog #note { color: $text-muted; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel_save")]

    def __init__(self, title: str, default: Path) -> None:
        super().__init__()
        self._title = title
        self._default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="title")
            path = Input(str(self._default), id="path")
            path.border_title = "Save as"
            yield path
            yield Static("", id="note")
            with Horizontal(id="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._describe(str(self._default))

    @on(Input.Changed, "#path")
    def _path_changed(self, event: Input.Changed) -> None:
        self._describe(event.value)

    def _describe(self, text: str) -> None:
        path = Path(text).expanduser()
        note = ""
        if path.is_dir():
            note = "That is a folder: add a file name."
        elif path.exists():
            note = "A file with this name exists and will be replaced."
        self.query_one("#note", Static).update(note)

    @on(Input.Submitted, "#path")
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        text = self.query_one("#path", Input).value.strip()
        path = Path(text).expanduser()
        if not text or path.is_dir():
            self.query_one("#note", Static).update("Type a file name to save to.")
            return
        self.dismiss(path)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceDialog(ModalScreen[str | None]):
    """A question with a few answers (buttons); escape answers None (cancel)."""

    DEFAULT_CSS = "ChoiceDialog {" + DIALOG_CSS + "}"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel_choice")]

    def __init__(self, title: str, text: str, choices: list[tuple[str, str]]) -> None:
        """``choices``: (answer id, button label), the first one the default."""
        super().__init__()
        self._title = title
        self._text = text
        self._choices = choices

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="title")
            # Literal and cleaned: callers put paths and server names in it.
            yield Static(Content(clean(self._text, keep="\n")))
            with Horizontal(id="buttons"):
                for number, (answer, label) in enumerate(self._choices):
                    yield Button(label, id=answer, variant="primary" if number == 0 else "default")

    def on_mount(self) -> None:
        self.query_one(f"#{self._choices[0][0]}", Button).focus()

    @on(Button.Pressed)
    def _answered(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
