"""The O365 device code: where to go, the code to type there, and the wait until approved.

Over SSH there is no browser on this machine: the user opens the address on any device and
types the code. The code is shown large, ``c`` copies it (OSC 52: through SSH and tmux where
the terminal allows), escape cancels at once. The polling runs in a thread worker
(``O365SignIn.wait``); the screen dismisses with the access token, the failure, or None.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import get_current_worker

from stratus_tui.auth.o365 import DeviceCode, O365Cancelled, O365Failed, O365SignIn
from stratus_tui.screens.dialogs import DIALOG_CSS
from stratus_tui.widgets.safe import safe

if TYPE_CHECKING:
    from pydantic import SecretStr


def spaced(code: str) -> str:
    """``FQK5HW3UF`` as ``F Q K 5 H W 3 U F``: easier to read out and to type."""
    return " ".join(code)


def remaining(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class DeviceCodeScreen(ModalScreen["SecretStr | O365Failed | None"]):
    DEFAULT_CSS = (
        "DeviceCodeScreen {"
        + DIALOG_CSS
        + """
        & > Vertical { width: 76; }
        #url { text-style: bold underline; color: $text; margin-bottom: 1; }
        #code {
            height: 3; content-align: center middle; text-style: bold;
            background: $accent; color: $text; margin: 0 4;
        }
        #wait { margin-top: 1; color: $text-muted; }
        #instructions { margin-top: 1; color: $text-muted; }
        #keys { margin-top: 1; color: $text-muted; }
    }"""
    )
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="cancel_o365"),
        Binding("c", "copy_code", "Copy code", id="copy_code"),
    ]
    HELP = """
## Sign in with O365

Open the address on any device with a browser (your laptop, your phone), type the code and
sign in with your Microsoft account. This screen waits and signs you in to Stratus as soon as
you have.

**c** copies the code (where your terminal allows it), **escape** cancels.
"""

    def __init__(self, signer: O365SignIn) -> None:
        super().__init__()
        self.signer = signer
        self.code: DeviceCode | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Sign in with O365", classes="title")
            yield Static("Asking Microsoft for a sign-in code…", id="step")
            yield Static("", id="url")
            yield Static("", id="code")
            yield Static("", id="wait")
            yield Static("", id="instructions")
            yield Static("c copy code · escape cancel", id="keys")

    def on_mount(self) -> None:
        self.query_one("#code").display = False
        self.run_flow()
        self.set_interval(1.0, self._tick)

    def on_unmount(self) -> None:
        self.signer.cancel()  # the polling thread ends within a moment

    @work(thread=True, exit_on_error=False, group="o365-flow")
    def run_flow(self) -> None:
        worker = get_current_worker()
        try:
            code = self.signer.start()
            if worker.is_cancelled:
                return
            self.app.call_from_thread(self._show_code, code)
            token = self.signer.wait()
        except O365Cancelled:
            return
        except O365Failed as error:
            self.app.call_from_thread(self._finish, error)
            return
        self.app.call_from_thread(self._finish, token)

    def _finish(self, outcome: SecretStr | O365Failed) -> None:
        if self.is_attached:
            self.dismiss(outcome)

    def _show_code(self, code: DeviceCode) -> None:
        self.code = code
        self.query_one("#step", Static).update("On any device with a browser, open")
        self.query_one("#url", Static).update(safe(code.verification_uri, max_length=200))
        shown = self.query_one("#code", Static)
        shown.update(safe(spaced(code.user_code), max_length=80))
        shown.display = True
        self.query_one("#instructions", Static).update(safe(code.message, max_length=1000))
        self._tick()

    def _tick(self) -> None:
        if self.code is None:
            return
        left = self.code.expires_at - time.time()
        self.query_one("#wait", Static).update(
            Content(
                "and type the code above, then sign in with your Microsoft account.\n"
                f"Waiting for you… the code works for {remaining(left)} more."
            )
        )

    def action_copy_code(self) -> None:
        if self.code is None:
            return
        self.app.copy_to_clipboard(self.code.user_code)
        self.notify(
            "Copied the code (if your terminal allows programs to set the clipboard).",
            title="Sign in with O365",
        )

    def action_cancel(self) -> None:
        self.signer.cancel()
        self.dismiss(None)
