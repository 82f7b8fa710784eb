"""Help for where the user is: the page, the focused item, and the keys (with remaps)."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from stratus_tui.keys import KEYS
from stratus_tui.text import clean
from stratus_tui.widgets.helptext import help_for as help_for

SCOPES = {
    "everywhere": "Everywhere",
    "pages": "On a page",
    "lists": "In lists",
    "forms": "In a form",
    "reports": "In a report",
    "sidebar": "Pages",
}


def keys_markdown(key_for: Callable[[str], str]) -> str:
    lines = ["## Keys"]
    for scope, title in SCOPES.items():
        lines += ["", f"**{title}**", ""]
        lines += [f"- `{key_for(key.id)}` {key.description}" for key in KEYS if key.scope == scope]
    lines += ["", "Change any of these keys with a `keymap:` section in the config file."]
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close help", id="close_help"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, sections: list[str], key_for: Callable[[str], str]) -> None:
        super().__init__()
        self.sections = sections
        self.key_for = key_for

    def compose(self) -> ComposeResult:
        text = "\n\n".join([*self.sections, keys_markdown(self.key_for)])
        with VerticalScroll():
            yield Markdown(clean(text, keep="\n\t"))
