"""The one way server-provided text reaches the screen (SECURITY.md A1-A2).

``Content(text)`` takes text literally, with no markup parsing, so ``[@click=app.quit]x[/]``
stays text and ``[/oops]`` cannot crash anything; ``clean`` makes control, escape and bidi
characters visible instead of active.
"""

from __future__ import annotations

from textual.content import Content

from stratus_tui.text import clean

LINE = 200  # a single-line label: longer names are cut with an ellipsis


def safe(text: object, *, max_length: int | None = LINE, keep: str = "") -> Content:
    return Content(clean(text, keep=keep, max_length=max_length))


def safe_lines(text: object, *, max_length: int | None = None) -> Content:
    """Multi-line text (a chat message, a definition): newlines and tabs kept."""
    return Content(clean(text, keep="\n\t", max_length=max_length))
