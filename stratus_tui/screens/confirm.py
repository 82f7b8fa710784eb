"""Asking before a change that cannot be undone (the product has no undo).

``confirm_change`` is the one way pages ask: a plain yes/no, and on a profile marked
``protected`` (a production server) the user types the profile's name as well, as k9s-style
tools do for dangerous contexts. A read-only profile never gets this far: the page refuses
the action before anything is asked or sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from stratus_tui.screens.dialogs import DIALOG_CSS, ChoiceDialog

if TYPE_CHECKING:
    from textual.app import App

    from stratus_tui.config.settings import Profile


class TypeNameDialog(ModalScreen[bool]):
    """Type the protected profile's name to go on; anything else (or escape) cancels."""

    DEFAULT_CSS = "TypeNameDialog {" + DIALOG_CSS + "} TypeNameDialog #mismatch { color: $error; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel_type_name")]

    def __init__(self, profile_name: str, what: str) -> None:
        super().__init__()
        self.profile_name = profile_name
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Protected profile", classes="title")
            yield Static(
                Content.assemble(
                    "Profile ",
                    (self.profile_name, "bold"),
                    f" is protected. To {self.what}, type its name and press Enter.",
                )
            )
            yield Input(placeholder=self.profile_name, id="typed-name")
            yield Static("", id="mismatch")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.profile_name:
            self.dismiss(True)
        else:
            self.query_one("#mismatch", Static).update(
                Content(
                    f"✗ That is not {self.profile_name!r}: nothing was changed. Escape cancels."
                )
            )

    def action_cancel(self) -> None:
        self.dismiss(False)


async def confirm_change(app: App[Any], profile: Profile, title: str, text: str,
                         *, yes: str) -> bool:  # fmt: skip
    """Ask before a delete or bulk edit; call from a worker (it waits for the answers)."""
    answer = await app.push_screen_wait(
        ChoiceDialog(title, text, [("no", "Cancel"), ("yes", yes)])  # Cancel is the default
    )
    if answer != "yes":
        return False
    if profile.protected:
        dialog = TypeNameDialog(profile.name, yes.lower())
        return bool(await app.push_screen_wait(dialog))  # type: ignore[arg-type]
    return True
