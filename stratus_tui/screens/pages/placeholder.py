"""A page that a later version fills: says so plainly, and what it will hold."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from stratus_tui.navigation import PageSpec


class PlaceholderPage(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    PlaceholderPage { padding: 1 2; }
    PlaceholderPage .page-title { text-style: bold; color: $accent; margin-bottom: 1; }
    PlaceholderPage .not-yet {
        border: round $panel-lighten-2; padding: 1 2; width: 1fr; max-width: 72;
    }
    """

    def __init__(self, spec: PageSpec, *, id: str) -> None:
        super().__init__(id=id)
        self.spec = spec

    def help_text(self) -> str:
        title, summary = self.spec.title, self.spec.summary
        return f"## {title}\n\n{summary}.\n\nThis page is not available in this version yet."

    def compose(self) -> ComposeResult:
        yield Static(self.spec.title, classes="page-title")
        yield Static(
            f"{self.spec.summary}.\n\nThis page is not available in this version of "
            "stratus-tui yet; the sidebar, the keys and your permissions already are.",
            classes="not-yet",
        )
