"""Per-hour call volume, accepted and lost, as an ASCII chart with a cursor.

Series differ by marker as well as colour (``•`` accepted, ``x`` lost; IMs ``o`` and ``*``)
so the chart reads without colour. Left/right move the cursor an hour, shift+left/right a
day; the mouse picks the nearest hour.

Drawing: plotext builds the figure as a matrix of characters and colours, which
``PlotextPlot.render`` turns into one ANSI string for ``Text.from_ansi`` to parse again,
about two thirds of the chart's time (bench/open_team.py). ``render_line`` instead reads
plotext's matrix directly into Strips, with the style each colour triple gets from the
same ANSI decoding, once per triple (tests compare both ways, cell by cell). ``draw`` needs
no widget, so the Reporting page draws the chart of the team under the cursor ahead, in a
thread, with its figures (``ahead``): Enter then paints lines already made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from typing import Any

from plotext._utility import colors_to_ansi
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.events import MouseMove
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from stratus_tui.cache.reports import HourVolume

SERIES = (
    ("accepted calls", "accepted_calls", "dot", "green"),
    ("lost calls", "lost_calls", "x", "red"),
)
IM_SERIES = (
    ("accepted IMs", "accepted_ims", "o", "cyan"),
    ("lost IMs", "lost_ims", "*", "magenta"),
)


def describe(point: HourVolume) -> str:
    hour = point.hour
    when = f"{hour:%a %d %b %H:00}-{(hour.hour + 1) % 24:02d}:00"
    rate = "no calls" if point.loss_rate is None else f"{point.loss_rate:.0%} lost"
    ims = f"; IMs {point.accepted_ims} accepted, {point.lost_ims} lost"
    return f"{when}: {point.accepted_calls} accepted, {point.lost_calls} lost ({rate}){ims}"


class VolumeChart(PlotextPlot, can_focus=True):
    DEFAULT_CSS = """
    VolumeChart { height: 1fr; min-height: 10; }
    VolumeChart:focus { background: $boost; }
    """
    HELP = """
## Call volume

Accepted (`•`) and lost (`x`) calls per hour, in the team's time zone; with IMs shown,
accepted (`o`) and lost (`*`) IMs too. **Left**/**right** move the cursor an hour,
**shift+left**/**right** a day, **home**/**end** to the ends; the line under the chart
gives the hour's numbers and loss rate. Hovering with the mouse does the same.
"""
    BINDINGS = [
        Binding("left", "move(-1)", "Hour before", show=False),
        Binding("right", "move(1)", "Hour after", show=False),
        Binding("shift+left", "move(-24)", "Day before", show=False),
        Binding("shift+right", "move(24)", "Day after", show=False),
        Binding("home", "jump(0)", "First hour", show=False),
        Binding("end", "jump(-1)", "Last hour", show=False),
    ]

    cursor: reactive[int] = reactive(0)

    @dataclass
    class PointChosen(Message):
        point: HourVolume

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.points: list[HourVolume] = []
        self.show_ims = False
        self._figure = 0  # bumped by every new figure or cursor: the lines drawn are of one
        self._lines: tuple[int, int, int, str, list[Strip]] | None = None

    def show(self, points: list[HourVolume], *, show_ims: bool, drawn: Drawn | None = None) -> None:
        """New figures. No PointChosen for them: the page reads ``point`` in the same update,
        so the chart and its detail line take one layout pass, not two.

        ``drawn``: the same figures drawn ahead in a thread (``ahead``); used if it was
        drawn at the cursor, size and theme the chart has when it paints."""
        cursor = next_cursor(self.points, self.cursor, points)
        self.points = points
        self.show_ims = show_ims
        self.set_reactive(VolumeChart.cursor, cursor)
        self._redraw()
        if drawn is not None and drawn.fits(points, show_ims, cursor):
            self._lines = (self._figure, drawn.width, drawn.height, drawn.theme, drawn.strips)

    @property
    def point(self) -> HourVolume | None:
        """The data point under the cursor."""
        return self.points[self.cursor] if self.points else None

    def ahead(self, *, show_ims: bool) -> Callable[[list[HourVolume]], Drawn] | None:
        """A function that draws given figures as ``show`` would, at the size and theme of
        the last paint, to run in a thread before they are shown (None: never painted)."""
        if self._lines is None:
            return None
        _, width, height, theme, _ = self._lines  # as last painted (hidden now: no size)
        previous, previous_cursor = self.points, self.cursor

        def draw_ahead(points: list[HourVolume]) -> Drawn:
            cursor = next_cursor(previous, previous_cursor, points)
            strips = draw(points, show_ims=show_ims, cursor=cursor, size=(width, height),
                          theme=theme)  # fmt: skip
            return Drawn(points, show_ims, cursor, width, height, theme, strips)

        return draw_ahead

    def _redraw(self) -> None:
        """The figures or the cursor changed. (Size and theme are in the drawing's key; a
        focus change restyles the widget but not plotext's figure: no new drawing.)"""
        self._figure += 1
        self.refresh()

    def render_line(self, y: int) -> Strip:
        lines = self.drawn_lines()
        return lines[y] if y < len(lines) else Strip.blank(self.size.width)

    def drawn_lines(self) -> list[Strip]:
        """The figure at the widget's size, one Strip per line (top first)."""
        width, height = self.size
        theme = self._get_plotext_theme_name(self.app.theme)
        key = (self._figure, width, height, theme)
        if self._lines is None or self._lines[:4] != key:
            strips = draw(self.points, show_ims=self.show_ims, cursor=self.cursor,
                          size=(width, height), theme=theme)  # fmt: skip
            self._lines = (*key, strips)
        return self._lines[4]

    def action_move(self, hours: int) -> None:
        if self.points:
            self.cursor = max(0, min(len(self.points) - 1, self.cursor + hours))

    def action_jump(self, index: int) -> None:
        if self.points:
            self.cursor = index % len(self.points)

    def watch_cursor(self) -> None:
        if self.points:
            self._redraw()
            self._announce()

    def _announce(self) -> None:
        if self.points:
            self.post_message(self.PointChosen(self.points[self.cursor]))

    def on_mouse_move(self, event: MouseMove) -> None:
        if len(self.points) < 2:
            return
        left = 6  # plotext's y-axis labels and frame
        span = max(1, self.size.width - left - 1)
        fraction = (event.x - left) / span
        self.cursor = max(0, min(len(self.points) - 1, round(fraction * (len(self.points) - 1))))


@dataclass(frozen=True)
class Drawn:
    """A figure drawn ahead: the figures, how, at which size and theme, and its lines."""

    points: list[HourVolume]
    show_ims: bool
    cursor: int
    width: int
    height: int
    theme: str
    strips: list[Strip]

    def fits(self, points: list[HourVolume], show_ims: bool, cursor: int) -> bool:
        """Drawn from these very figures, this way (size and theme are checked at paint)."""
        return self.points is points and self.show_ims == show_ims and self.cursor == cursor


def next_cursor(previous: list[HourVolume], cursor: int, points: list[HourVolume]) -> int:
    """Where the cursor goes for new figures. A new range starts at its latest hour (what
    is happening now); the same range refreshed, or another team's, keeps the hour."""
    other_range = not previous or not points or previous[0].hour != points[0].hour
    return max(len(points) - 1 if other_range else min(cursor, len(points) - 1), 0)


def draw(
    points: list[HourVolume], *, show_ims: bool, cursor: int, size: tuple[int, int], theme: str
) -> list[Strip]:
    """The chart of ``points`` as Strips, one per line; no widget or app involved, so it
    may run in a thread (a plot of its own each time)."""
    width, height = size
    plot = Plot()
    if not points:
        plot.title("no data for this range")
    else:
        top = 0
        for label, field, marker, color in SERIES + (IM_SERIES if show_ims else ()):
            # Only hours that had some: a row of markers along zero would hide the others.
            # A series with none at all is left out, legend line too (a lone marker at the
            # first hour read as a call there; plotext cannot label a series it does not
            # draw); the line under the chart still gives its zeros.
            shown = [(i, getattr(p, field)) for i, p in enumerate(points) if getattr(p, field)]
            if shown:
                values = [v for _, v in shown]
                plot.scatter([i for i, _ in shown], values, marker=marker, color=color, label=label)
                top = max(top, *values)
        if not top:
            plot.title(
                "no calls in this range" if not show_ims else "no calls or IMs in this range"
            )
        plot.vline(cursor, "white")
        ticks = _ticks(points)
        plot.xticks([index for index, _ in ticks], [label for _, label in ticks])
        step = max(1, -(-top // 4))  # whole numbers of calls, about four steps
        plot.yticks(list(range(0, top + step, step)))
        plot.xlim(0, max(len(points) - 1, 1))
        plot.ylim(0, max(top, 1))
    # What PlotextPlot.render does before plotext's build (size set twice: see there).
    plot.plotsize(width, height)
    plot._set_size(width, height)
    plot.theme(theme)
    try:
        return figure_strips(plot, width)
    except Exception as error:  # plotext's own bug: say so and keep the session going
        problem = f"the chart could not be drawn (plotext: {type(error).__name__})"
        return [Strip([Segment(problem[:width])]).extend_cell_length(width)] + [
            Strip.blank(width) for _ in range(height - 1)
        ]


def _ticks(points: list[HourVolume]) -> list[tuple[int, str]]:
    """Day starts for a range of days, every third hour for a single day."""
    if len(points) <= 25:
        return [(i, f"{p.hour:%H}") for i, p in enumerate(points) if p.hour.hour % 3 == 0]
    days = [(i, f"{p.hour:%a %d}") for i, p in enumerate(points) if p.hour.hour == 0]
    step = max(1, len(days) // 7)  # at most about seven labels
    return days[::step]


def figure_strips(plot: Any, width: int) -> list[Strip]:
    """plotext's figure, built, as Strips: what ``Text.from_ansi(plot.build())`` shows."""
    plot._set_sizes()
    plot._build_matrix()
    matrix = plot.monitor.matrix
    strips = []
    for row in reversed(range(matrix.rows)):  # plotext's row 0 is the bottom
        markers = matrix.marker[row]
        triples = zip(
            matrix.fullground[row], matrix.style[row], matrix.background[row], strict=True
        )
        segments, start = [], 0
        for triple, run in groupby(triples):  # runs of one colour: one Segment each
            end = start + sum(1 for _ in run)
            segments.append(Segment("".join(markers[start:end]), _style(*triple)))
            start = end
        strips.append(Strip(segments).crop_extend(0, width, None))
    return strips


@lru_cache(maxsize=256)
def _style(fullground: Any, style: Any, background: Any) -> Style:
    """The style plotext's ANSI codes for a colour triple decode to (few distinct ones)."""
    decoded = Text.from_ansi(colors_to_ansi(fullground, style, background) + "x")
    styles = [span.style for span in decoded.spans if isinstance(span.style, Style)]
    return Style.combine(styles) if styles else Style.null()
