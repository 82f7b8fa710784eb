"""Column widths and cell fitting for ``RecordTable``: plain functions, tested alone.

The table never measures its rows (that is what froze DataTable on 10,000 rows): widths
come from ``Column.width`` and the room there is. Columns are taken from the left at
their preferred widths while they fit; the first that does not fit takes the room left
if that is at least its minimum (a flex column 10 cells, another two thirds of its
width), and the columns after it are dropped; the first column is always shown. What is
left over goes to the flex columns. So 80x24 with a sidebar shows the first columns
readable rather than every column cut to a few letters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size

from stratus_tui.records.table import Column
from stratus_tui.text import ELLIPSIS

MARK = "●"
MARK_WIDTH = 2  # the marker column: "● " on a marked row, blanks otherwise
GAP = 1  # blank cells between two columns
FLEX_MINIMUM = 10


@dataclass(frozen=True)
class Span:
    """Where a column is drawn: its index in the columns, first cell, width."""

    column: int
    x: int
    width: int


def minimum_width(column: Column) -> int:
    if column.flex:
        return min(column.width, FLEX_MINIMUM)
    return max(min(column.width, 6), column.width * 2 // 3)


def layout(columns: Sequence[Column], width: int) -> tuple[Span, ...]:
    """The columns shown in ``width`` cells (the marker column included) and where."""
    room = width - MARK_WIDTH
    if not columns or room <= 0:
        return ()
    widths: list[int] = []
    used = -GAP
    for column in columns:
        left = room - used - GAP
        if left >= column.width:
            widths.append(column.width)
        elif left >= minimum_width(column) or not widths:
            widths.append(max(left, 1))  # the room left, and no column after it
            used = room
            break
        else:
            break
        used += GAP + widths[-1]
    extra = room - used
    flexible = [number for number in range(len(widths)) if columns[number].flex]
    for order, number in enumerate(flexible):
        share = extra // (len(flexible) - order)
        widths[number] += share
        extra -= share
    spans = []
    x = MARK_WIDTH
    for number, column_width in enumerate(widths):
        spans.append(Span(number, x, column_width))
        x += column_width + GAP
    return tuple(spans)


def fit(text: str, width: int) -> str:
    """``text`` in exactly ``width`` cells: padded, or cut with "…" (wide characters too)."""
    if width <= 0:
        return ""
    if text.isascii():  # cleaned ASCII is printable: one cell per character
        if len(text) <= width:
            return text + " " * (width - len(text))
        return text[: width - 1] + ELLIPSIS
    cells = cell_len(text)
    if cells <= width:
        return text + " " * (width - cells)
    return set_cell_size(text, width - 1) + ELLIPSIS


def header_parts(column: Column, width: int, arrow: str) -> list[tuple[str, bool]]:
    """A header cell as (text, is the hotkey letter) parts, exactly ``width`` cells.

    The hotkey letter is the first one in the label that matches it (underlined by the
    table); a label without it gets "(X)". The sort arrow and the hotkey stay visible when
    the label has to be cut."""
    label, hint = column.label, ""
    key = column.hotkey
    where = label.casefold().find(key.casefold()) if key else -1
    if key and where < 0:
        hint = f" ({key})"
    suffix = f" {arrow}" if arrow else ""
    room = width - cell_len(hint) - cell_len(suffix)
    if room < 1:  # too narrow for anything but the label's start
        return [(fit(label + suffix, width), False)]
    shown = fit(label, room).rstrip() if cell_len(label) > room else label
    parts: list[tuple[str, bool]] = []
    if 0 <= where < len(shown) and shown[where] != ELLIPSIS:
        parts += [(shown[:where], False), (shown[where], True), (shown[where + 1 :], False)]
    else:
        parts.append((shown, False))
    if hint:
        parts += [(" (", False), (key, True), (")", False)]
    parts.append((suffix, False))
    filled = sum(cell_len(text) for text, _ in parts)
    parts.append((" " * max(width - filled, 0), False))
    return [part for part in parts if part[0]]
