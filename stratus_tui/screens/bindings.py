"""Textual bindings built from the one table of remappable keys (``stratus_tui.keys``)."""

from __future__ import annotations

from textual.binding import Binding

from stratus_tui.keys import spec


def bind(binding_id: str, action: str, *, show: bool = True, priority: bool = False) -> Binding:
    key = spec(binding_id)
    return Binding(
        key.keys,
        action,
        key.label,
        id=binding_id,
        show=show,
        priority=priority,
        tooltip=key.description,
    )
