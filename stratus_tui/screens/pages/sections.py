"""What pages made of sections share: leaving one with escape.

A list page on its own (Agents) returns to the sidebar on escape; the same list as a section
of Settings returns to Settings' "Where to start". Either way the page posts ``LeaveSection``
and whoever holds it decides: the Settings page stops it, the main screen focuses the sidebar.
"""

from __future__ import annotations

from textual.message import Message


class LeaveSection(Message):
    """Escape in a page or section with nothing left to close (no filter, no dialog)."""
