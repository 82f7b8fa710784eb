"""Service time of day: weekdays x 24 local hours, each cell by its share of lost calls.

Colour runs from green (all accepted) through yellow to red (all lost), neutral where there
was no conversation; a density glyph says the same without colour (``NO_COLOR``, or the
colour-blind), and a line under the grid gives the numbers of the cell under the cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.color import Color
from textual.events import Click
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from stratus_tui.cache.reports import HeatCell, Heatmap

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# (upper bound of the share lost, glyph, words) - the same steps with and without colour
STEPS = ((0.10, "░", "< 10 %"), (0.25, "▒", "< 25 %"), (0.50, "▓", "< 50 %"), (1.01, "█", "≥ 50 %"))
EMPTY = "·"
GREEN, YELLOW, RED = Color(46, 160, 67), Color(210, 170, 30), Color(200, 50, 50)


def glyph(share: float) -> str:
    return next(mark for bound, mark, _ in STEPS if share < bound)


def cell_color(share: float) -> Color:
    """Green at 0 % lost, yellow at 50 %, red at 100 %."""
    if share <= 0.5:
        return GREEN.blend(YELLOW, share * 2)
    return YELLOW.blend(RED, (share - 0.5) * 2)


def describe(weekday: int, hour: int, cell: HeatCell) -> str:
    when = f"{WEEKDAYS[weekday]} {hour:02d}:00-{(hour + 1) % 24:02d}:00"
    if cell.share_lost is None:
        return f"{when}: no conversations"
    return f"{when}: {cell.accepted} accepted, {cell.lost} lost ({cell.share_lost:.0%} lost)"


class HeatmapView(Widget, can_focus=True):
    DEFAULT_CSS = """
    HeatmapView { height: 9; width: 1fr; }
    """
    HELP = """
## Service time of day

Each cell is one local hour of one weekday over the chosen weeks, coloured by its share of
lost calls (green: none lost, yellow: half, red: all), with the same steps as glyphs:
`░` under 10 %, `▒` under 25 %, `▓` under 50 %, `█` from 50 %, `·` no conversations.

**Arrow keys** move the cursor; the line under the grid gives the cell's numbers.
"""
    BINDINGS = [
        Binding("left", "move(0, -1)", "Earlier", show=False),
        Binding("right", "move(0, 1)", "Later", show=False),
        Binding("up", "move(-1, 0)", "Day before", show=False),
        Binding("down", "move(1, 0)", "Day after", show=False),
    ]

    cursor: reactive[tuple[int, int]] = reactive((0, 9))

    @dataclass
    class CellChosen(Message):
        weekday: int
        hour: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.heatmap: Heatmap | None = None
        self._lines: tuple[int, list[Strip]] | None = None

    def show(self, heatmap: Heatmap) -> None:
        if heatmap != self.heatmap:
            self.heatmap = heatmap
            self.refresh()

    def action_move(self, days: int, hours: int) -> None:
        weekday, hour = self.cursor
        self.cursor = ((weekday + days) % 7, (hour + hours) % 24)

    def watch_cursor(self) -> None:
        self.post_message(self.CellChosen(*self.cursor))

    def _cell_width(self) -> int:
        return max(1, min(3, (self.size.width - 4) // 24))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: Click) -> None:
        width = self._cell_width()
        row, column = event.y - 1, (event.x - 4) // width
        if 0 <= row < 7 and 0 <= column < 24:
            self.cursor = (row, column)

    def refresh(self, *regions: Any, **options: Any) -> HeatmapView:
        self._lines = None  # new figures, cursor, focus or styles: draw anew
        return super().refresh(*regions, **options)

    def notify_style_update(self) -> None:
        self._lines = None  # the theme or the CSS changed: base colours may be new
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        # Line API: the grid is 170 cells of their own colours; as Content (a styled span
        # per cell) it cost ~10 ms a paint, as Strips of ready Segments ~1 ms.
        width = self.size.width
        if self._lines is None or self._lines[0] != width:
            self._lines = (width, self._draw(self.rich_style))
        lines = self._lines[1]
        return lines[y] if y < len(lines) else Strip.blank(width, self.rich_style)

    def _draw(self, base: Style) -> list[Strip]:
        width = self._cell_width()
        dim = base + DIM
        hours = "".join(f"{hour:<{width * 3}}" for hour in range(0, 24, 3))  # every 3 hours
        lines = [[Segment("    " + hours[: 24 * width], dim)]]
        for weekday, row in enumerate(self.heatmap.cells if self.heatmap else [[]] * 7):
            segments = [Segment(f"{WEEKDAYS[weekday]} ", dim)]
            for hour in range(24):
                cell = row[hour] if row else HeatCell(0, 0)
                share = cell.share_lost
                if (weekday, hour) == self.cursor and self.has_focus:
                    # Stands out on any colour; the numbers are on the line below.
                    mark = EMPTY if share is None else glyph(share)
                    segments.append(Segment(mark * width, base + CURSOR))
                elif share is None:
                    segments.append(Segment(EMPTY * width, dim))
                else:
                    style = _cell_style(round(share * 100))
                    segments.append(Segment(glyph(share) * width, base + style))
            lines.append(segments)
        legend = "  ".join(f"{mark} {words}" for _, mark, words in STEPS) + f"  {EMPTY} none"
        lines.append([Segment("lost: " + legend, dim)])
        return [Strip(line).extend_cell_length(self.size.width, base) for line in lines]


DIM = Style(dim=True)
CURSOR = Style(color="#000000", bgcolor="#ffffff", bold=True)


@lru_cache(maxsize=101)
def _cell_style(percent_lost: int) -> Style:
    """The glyph in a darker shade of the cell's own colour: the hue reads at a glance,
    and without colour the glyph's density says the same. By whole percents: a finer
    shade shows no difference, and a colour per cell cost more than the rest of a paint."""
    color = cell_color(percent_lost / 100)
    return Style(color=color.darken(0.22).hex, bgcolor=color.hex)
