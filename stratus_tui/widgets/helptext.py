"""Where help text comes from: the ``HELP`` of a widget and of the widgets around it.

Apart from the help screen (which loads Markdown) so that pages can use it cheaply.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from textual.widget import Widget


@runtime_checkable
class HasHelp(Protocol):
    """A widget whose help depends on what it shows (``HELP`` is a class attribute)."""

    def help_text(self) -> str: ...


def help_for(widget: Widget | None) -> list[str]:
    """The HELP texts of the focused widget and the widgets around it, nearest first."""
    found: list[str] = []
    node = widget
    while node is not None:
        text = node.help_text() if isinstance(node, HasHelp) else getattr(node, "HELP", None)
        if isinstance(text, str) and text.strip() and text not in found:
            found.append(text.strip())
        node = node.parent if isinstance(node.parent, Widget) else None
    return found
