"""The report's chart and heatmap draw themselves as Strips (widgets/volume_chart.py,
widgets/heatmap.py): what they show must be what the slower, general way shows."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual_plotext.plot import Plot

from stratus_tui.cache.reports import HourVolume
from stratus_tui.widgets.heatmap import _cell_style, cell_color
from stratus_tui.widgets.volume_chart import IM_SERIES, SERIES, draw, figure_strips


def cells_of_ansi(text: Text, width: int) -> list[list[tuple[str, Style]]]:
    """Each line of ``text`` as (character, style) per cell, as a console renders it."""
    console = Console(width=width, color_system="truecolor", legacy_windows=False)
    lines = console.render_lines(text, console.options.update_width(width), pad=False)
    return [[(c, seg.style or Style.null()) for seg in line for c in seg.text] for line in lines]


def cells_of_strips(strips: list[list[Segment]]) -> list[list[tuple[str, Style]]]:
    return [[(c, seg.style or Style.null()) for seg in strip for c in seg.text] for strip in strips]


@pytest.mark.parametrize(("width", "height", "hours"), [(114, 20, 168), (70, 10, 24), (40, 12, 1)])
def test_the_chart_is_drawn_as_plotext_would_print_it(width: int, height: int, hours: int) -> None:
    rng = random.Random(width)
    plot = Plot()
    plot.scatter(list(range(hours)), [rng.randint(0, 40) for _ in range(hours)],
                 marker="dot", color="green", label="accepted calls")  # fmt: skip
    plot.scatter(list(range(hours)), [rng.randint(0, 6) for _ in range(hours)],
                 marker="x", color="red", label="lost calls")  # fmt: skip
    plot.vline(hours // 2, "white")
    plot.xticks([0, hours // 2], ["Mon 16", "Tue 17"])
    plot.xlim(0, max(hours - 1, 1))
    plot.plotsize(width, height)
    plot._set_size(width, height)
    plot.theme("pro")  # colours for the frame and the canvas too
    strips = figure_strips(plot, width)
    printed = cells_of_ansi(Text.from_ansi(plot.build()), width)
    drawn = cells_of_strips([list(strip) for strip in strips])
    assert len(drawn) == height and printed[height:] == [[]]  # plotext ends with "\n"
    assert drawn == printed[:height]
    assert all(strip.cell_length == width for strip in strips)


def test_a_wide_character_in_a_label_keeps_the_lines_at_the_width() -> None:
    plot = Plot()
    plot.scatter([0, 1, 2], [1, 2, 3])
    plot.xticks([0, 2], ["王 Łódź", "end"])
    plot.plotsize(30, 8)
    plot._set_size(30, 8)
    strips = figure_strips(plot, 30)
    assert [strip.cell_length for strip in strips] == [30] * 8
    assert "王" in strips[-1].text


def test_heat_cells_use_whole_percents_of_the_colour_scale() -> None:
    assert _cell_style(0) == Style(color=cell_color(0).darken(0.22).hex, bgcolor=cell_color(0).hex)
    assert _cell_style(100).bgcolor == Style(bgcolor=cell_color(1.0).hex).bgcolor
    assert _cell_style(50) != _cell_style(51)


def hours(counts: list[tuple[int, int, int, int]]) -> list[HourVolume]:
    start = datetime(2026, 11, 30, tzinfo=ZoneInfo("Europe/Zurich"))
    return [HourVolume(start + timedelta(hours=i), *figures) for i, figures in enumerate(counts)]


@pytest.mark.parametrize("show_ims", [False, True])
@pytest.mark.parametrize(
    "counts",
    [
        [(0, 0, 0, 0)] * 9,  # nothing yet today
        [(3, 0, 0, 0), (0, 0, 0, 0), (5, 0, 0, 0)],  # no lost calls, no IMs
        [(0, 2, 0, 0), (0, 0, 0, 1)],  # lost only
        [(4, 1, 2, 0)],  # a single hour
    ],
)
def test_series_without_any_are_left_out_with_their_legend(
    counts: list[tuple[int, int, int, int]], show_ims: bool
) -> None:
    points = hours(counts)
    strips = draw(points, show_ims=show_ims, cursor=0, size=(60, 12), theme="pro")
    text = "\n".join(strip.text for strip in strips)
    assert len(strips) == 12 and all(strip.cell_length == 60 for strip in strips)
    assert "could not be drawn" not in text
    drawn = {label for label, field, _, _ in SERIES + (IM_SERIES if show_ims else ())
             if any(getattr(point, field) for point in points)}  # fmt: skip
    for label, *_ in SERIES + IM_SERIES:
        assert (label in text) == (label in drawn), label
    assert ("no calls" in text) == (not drawn)
