"""Keys typed right after a list's filter key belong to the filter.

Over SSH, or in a paste, "/l1" arrives in one read. Textual hands every key of the read to
the widget focused when it was read (the table) and resolves bindings later, as each key
comes back up to the app, so the filter's own binding opened it only after "l" and "1" had
gone to the table: "1" then opened the Home page. A table with ``TypeAhead`` opens the
filter itself, at once, on the filter key, and sends on every key that reaches it after
the focus has left it, to where the focus is now.
"""

from __future__ import annotations

from typing import cast

from textual import events
from textual.widget import Widget

from stratus_tui.keys import spec


class TypeAhead:
    """Mixed into a table (before its Widget class) whose ancestor offers
    ``open_filter()`` (focuses the filter at once); the table's ``on_key`` calls
    ``typed_ahead`` first. Not a Widget itself: in a widget's bases it would stand before
    the table's own CSS and component classes."""

    def _filter_keys(self) -> list[str]:
        keys_for = getattr(cast(Widget, self).app, "keys_for", None)  # StratusApp's keymap
        return keys_for("filter") if keys_for else spec("filter").keys.split(",")

    def typed_ahead(self, event: events.Key) -> bool:
        """Handled here: sent on to the filter, or the filter opened."""
        widget = cast(Widget, self)
        focused = widget.screen.focused
        if focused is not None and focused is not widget:  # read for us, typed for the filter
            event.stop()
            event.prevent_default()
            widget.app.post_message(events.Key(event.key, event.character))
            return True
        if event.key in self._filter_keys():
            for node in widget.ancestors:
                open_filter = getattr(node, "open_filter", None)
                if open_filter is not None:
                    event.stop()
                    event.prevent_default()
                    open_filter()
                    return True
        return False
