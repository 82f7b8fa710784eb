"""The overview figures of a team's report, with the exact interval they cover."""

from __future__ import annotations

from datetime import datetime

from textual.content import Content
from textual.widgets import Static

from stratus_tui.cache.reports import Overview

CELL_WIDTH = 15 + 6  # label, value: two columns fit an 80-column terminal


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def interval(start: datetime, end: datetime) -> str:
    """The covered interval, to the minute, with its UTC offsets (two across a DST change)."""
    start_offset, end_offset = start.strftime("%z"), end.strftime("%z")
    zone = (
        f"UTC{start_offset}" if start_offset == end_offset else f"UTC{start_offset} / {end_offset}"
    )
    return f"{start:%a %d %b %Y %H:%M} to {end:%a %d %b %Y %H:%M} ({start.tzinfo}, {zone})"


def figures(overview: Overview) -> list[tuple[str, str]]:
    return [
        ("accepted calls", f"{overview.accepted_calls:,}"),
        ("lost calls", f"{overview.lost_calls:,}"),
        ("accepted IMs", f"{overview.accepted_ims:,}"),
        ("lost IMs", f"{overview.lost_ims:,}"),
        ("total calls", f"{overview.total_calls:,}"),
        ("total IMs", f"{overview.total_ims:,}"),
        ("direct in", f"{overview.direct_inbound_calls:,}"),
        ("direct out", f"{overview.direct_outbound_calls:,}"),
        ("avg call", duration(overview.avg_call_duration)),
        ("avg IM", duration(overview.avg_im_duration)),
        ("voicemails", f"{overview.voicemails:,}"),
    ]


class OverviewPanel(Static, can_focus=True):
    DEFAULT_CSS = """
    OverviewPanel { height: auto; padding: 0 1; border: round $panel-lighten-2; }
    OverviewPanel:focus { border: round $accent; }
    """
    HELP = """
## Overview

The figures of the chosen range: accepted and lost calls and IMs (inbound, through a
service), all calls and IMs, direct calls by direction, average durations of accepted
conversations, voicemails. Hover, or press **i**, for the exact interval they cover.
"""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.overview: Overview | None = None
        self.columns = 0
        self.border_title = "Overview"

    def show(self, overview: Overview) -> None:
        if overview == self.overview:
            return
        self.overview = overview
        self.tooltip = Content(interval(overview.start, overview.end))
        cells = [
            Content.assemble((f"{label:<15}", "dim"), (f"{value:>6}", "bold"))
            for label, value in figures(overview)
        ]
        self.columns = self._columns()
        rows = [cells[i : i + self.columns] for i in range(0, len(cells), self.columns)]
        self.update(Content("\n").join(Content("  ").join(row) for row in rows))

    def _columns(self) -> int:
        # Never laid out yet (the report was hidden): the screen's width is the best guess;
        # on_resize corrects it if the page turns out narrower.
        room = (self.size.width or self.screen.size.width) - 4  # border and padding
        return max(1, min(3, (room + 2) // (CELL_WIDTH + 2)))

    def on_resize(self) -> None:
        # Only a change of columns needs new content: another layout pass costs a frame.
        if self.overview is not None and self._columns() != self.columns:
            shown, self.overview = self.overview, None
            self.show(shown)

    def interval_text(self) -> str:
        if self.overview is None:
            return "no figures yet"
        return interval(self.overview.start, self.overview.end)
