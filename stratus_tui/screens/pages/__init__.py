"""The pages shown beside the sidebar, one widget class per page id."""

from __future__ import annotations

from textual.widget import Widget

from stratus_tui.navigation import PageSpec
from stratus_tui.screens.pages.placeholder import PlaceholderPage


def page_widget(spec: PageSpec) -> Widget:
    """The widget for a page (pages that later issues fill show what they will hold)."""
    return PlaceholderPage(spec, id=spec.id)
