"""RecordTable: a virtualised table of plain-text rows (Line API), for 50,000 agents.

DataTable measures every cell before its first paint: 10,000 rows froze the UI for 1.5 s
here (TESTING.md). This table draws only the lines on screen (``render_line``), takes
column widths from the columns (``record_layout``), and leaves filtering and sorting to
``RowSet``, which answers a keystroke in a few ms. A row's drawn line is kept per row id
and state until the rows, the width or the styles change, so moving the cursor redraws
two lines.

Line 0 is the header, fixed: the rows scroll under it (row ``i`` is virtual line
``i + 1``). Cells are server text: each is cleaned (``text.clean``: controls become
visible pictures) and drawn as plain segments, never parsed as markup, so ``[b]x[/b]``
and ``[@click=app.quit]`` stay literal text. The cursor row is bold (and reversed without
colour), a marked row shows ● and is italic: both read without colour (NO_COLOR).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from typing import Any, ClassVar, Self

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from stratus_tui.records.table import RowSet
from stratus_tui.screens.bindings import bind
from stratus_tui.text import clean
from stratus_tui.widgets.record_layout import (
    GAP,
    MARK,
    MARK_WIDTH,
    Span,
    fit,
    header_parts,
    layout,
)
from stratus_tui.widgets.type_ahead import TypeAhead

_KEPT_STRIPS = 4096  # drawn lines kept; a screen holds a few dozen


class Marks(set[int]):
    """The marked row ids; a change redraws the table (the owner may clear it, say)."""

    def __init__(self, changed: Callable[[], None]) -> None:
        super().__init__()
        self._changed = changed

    def add(self, row_id: int) -> None:
        super().add(row_id)
        self._changed()

    def discard(self, row_id: object) -> None:
        super().discard(row_id)
        self._changed()

    def remove(self, row_id: int) -> None:
        super().remove(row_id)
        self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()

    def update(self, *others: Iterable[int]) -> None:
        super().update(*others)
        self._changed()

    def difference_update(self, *others: Iterable[Any]) -> None:
        super().difference_update(*others)
        self._changed()

    def intersection_update(self, *others: Iterable[Any]) -> None:
        super().intersection_update(*others)
        self._changed()

    def __ior__(self, other: AbstractSet[int]) -> Self:  # type: ignore[override,misc]
        self.update(other)
        return self

    def __isub__(self, other: AbstractSet[Any]) -> Self:  # type: ignore[misc]
        self.difference_update(other)
        return self

    def __iand__(self, other: AbstractSet[Any]) -> Self:  # type: ignore[misc]
        self.intersection_update(other)
        return self


class RecordTable(TypeAhead, ScrollView, can_focus=True):
    """Rows of a ``RowSet``, filtered and sorted by ``apply``; see the module docstring."""

    ALLOW_SELECT = False  # rows are drawn lines, not selectable text
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "record-table--header",
        "record-table--hotkey",
        "record-table--cursor",
        "record-table--marked",
        "record-table--empty",
    }
    DEFAULT_CSS = """
    RecordTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        & > .record-table--header { background: $panel; color: $foreground; text-style: bold; }
        & > .record-table--hotkey { text-style: bold underline; }
        & > .record-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: bold;
        }
        &:focus > .record-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: bold;
        }
        &:nocolor > .record-table--cursor { text-style: bold reverse; }
        & > .record-table--marked { color: $text-accent; text-style: italic; }
        & > .record-table--empty { color: $text-muted; text-style: italic; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "choose", "Open", show=False),
        bind("mark", "toggle_mark"),
        bind("sort", "next_sort"),
    ]

    class Highlighted(Message):
        """The cursor is on another row (None: no rows to show)."""

        def __init__(self, table: RecordTable, row_id: int | None) -> None:
            super().__init__()
            self.table = table
            self.row_id = row_id

        @property
        def control(self) -> RecordTable:
            return self.table

    class Chosen(Message):
        """Enter (or a double click) on a row."""

        def __init__(self, table: RecordTable, row_id: int) -> None:
            super().__init__()
            self.table = table
            self.row_id = row_id

        @property
        def control(self) -> RecordTable:
            return self.table

    class SortChanged(Message):
        """The user sorted by another column or flipped the order."""

        def __init__(self, table: RecordTable, key: str | None, descending: bool) -> None:
            super().__init__()
            self.table = table
            self.key = key
            self.descending = descending

        @property
        def control(self) -> RecordTable:
            return self.table

    def __init__(
        self,
        *,
        empty_text: str = "Nothing to show",
        no_match_text: str = "Nothing matches “{query}”",
        markable: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.empty_text = empty_text  # no rows at all
        self.no_match_text = no_match_text  # rows, but none matches the filter
        self.markable = markable  # space marks rows: only where a page acts on marks
        self.rowset: RowSet | None = None
        self.marked: set[int] = Marks(self._marks_changed)
        self._order: list[int] = []  # the ids shown, in order
        self._cursor = 0  # index into _order
        self._query = ""
        self._sort: str | None = None
        self._descending = False
        self._spans: tuple[Span, ...] = ()
        self._spans_width = -1
        self._strips: dict[tuple[Any, ...], Strip] = {}
        self._styles: dict[tuple[str, ...], Style] = {}
        self._last_highlighted: int | None = None

    # --- state -------------------------------------------------------------------------

    @property
    def cursor_id(self) -> int | None:
        return self._order[self._cursor] if self._order else None

    @property
    def visible_count(self) -> int:
        return len(self._order)

    @property
    def filter_text(self) -> str:
        """The filter in use (not ``query``: that is Textual's DOM query method)."""
        return self._query

    @property
    def sort_key(self) -> str | None:
        return self._sort

    @property
    def descending(self) -> bool:
        return self._descending

    @property
    def page_rows(self) -> int:
        """Rows on screen (the header takes a line)."""
        return max(self.scrollable_content_region.height - 1, 1)

    def set_rows(self, rowset: RowSet) -> None:
        """Show ``rowset`` with the current filter and sort; marks of rows gone are dropped.

        Posts ``Highlighted`` even when the cursor's row id did not change: its cells may
        have."""
        self.rowset = rowset
        if self._sort is not None and self._sort not in {c.key for c in rowset.columns}:
            self._sort, self._descending = None, False
        set.intersection_update(self.marked, [i for i in self.marked if i in rowset])
        self._spans_width = -1
        self._last_highlighted = None
        self.apply(self._query, self._sort, self._descending)
        if self.is_mounted:  # the filter's haystacks, in a thread once the rows are painted
            self.call_after_refresh(self._prepare, rowset)

    def _prepare(self, rowset: RowSet) -> None:
        self.run_worker(rowset.prepare, thread=True, group="record-table-prepare")

    def apply(self, query: str, sort: str | None, descending: bool) -> None:
        """Filter and sort; the cursor stays on its row if that is still shown, else the
        first row."""
        kept = self.cursor_id
        self._query, self._sort, self._descending = query, sort, descending and sort is not None
        if self.rowset is None:
            self._order = []
        else:
            self._order = self.rowset.view(query, sort, self._descending)
        self._strips.clear()
        self._set_virtual_height(len(self._order) + 1)
        index = 0
        if kept is not None:
            try:
                index = self._order.index(kept)
            except ValueError:
                index = 0
        self._cursor = index
        if index == 0:
            self.scroll_to(y=0, animate=False)
        self._scroll_to_cursor()
        self.refresh()
        self._announce()

    def _set_virtual_height(self, height: int) -> None:
        """Set the scrollable height without a layout of the whole screen.

        ``virtual_size`` is a layout reactive: every keystroke in the filter would lay out
        and redraw the screen (half of a keystroke's time here). Only the scrollbar
        depends on it, so it is set quietly and the scrollbars updated (Textual's own
        ``_scroll_update``; Textual is pinned): when the scrollbar appears or goes,
        ``show_vertical_scrollbar`` changes, and that does ask for a layout."""
        size = Size(0, height)
        if size == self.virtual_size:
            return
        if not self.is_mounted:
            self.virtual_size = size
            return
        self.set_reactive(RecordTable.virtual_size, size)
        self._scroll_update(size)

    def sort_by(self, column_key: str) -> None:
        """Sort by this column; the same column again flips the order."""
        descending = not self._descending if column_key == self._sort else False
        self.apply(self._query, column_key, descending)
        self.post_message(self.SortChanged(self, self._sort, self._descending))

    def move_cursor_to(self, row_id: int) -> bool:
        """Put the cursor on ``row_id`` if it is shown (False if not)."""
        try:
            index = self._order.index(row_id)
        except ValueError:
            return False
        self._move(index)
        return True

    def toggle_mark(self) -> None:
        row_id = self.cursor_id
        if row_id is not None:
            if row_id in self.marked:
                self.marked.discard(row_id)
            else:
                self.marked.add(row_id)

    def _marks_changed(self) -> None:
        if self.is_mounted:
            self.refresh()

    def _announce(self) -> None:
        row_id = self.cursor_id
        if row_id != self._last_highlighted or row_id is None:
            self._last_highlighted = row_id
            self.post_message(self.Highlighted(self, row_id))

    def _move(self, index: int) -> None:
        if not self._order:
            return
        index = max(0, min(index, len(self._order) - 1))
        if index != self._cursor:
            old = self._cursor
            self._cursor = index
            self.refresh_line(old + 1)
            self.refresh_line(index + 1)
        self._scroll_to_cursor()
        self._announce()

    def _scroll_to_cursor(self) -> None:
        top = round(self.scroll_y)
        rows = self.page_rows
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= top + rows:
            self.scroll_to(y=self._cursor - rows + 1, animate=False)

    # --- actions -----------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self._move(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self._move(self._cursor + 1)

    def action_page_up(self) -> None:
        self._move(self._cursor - max(self.page_rows - 1, 1))

    def action_page_down(self) -> None:
        self._move(self._cursor + max(self.page_rows - 1, 1))

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(len(self._order) - 1)

    def action_choose(self) -> None:
        row_id = self.cursor_id
        if row_id is not None:
            self.post_message(self.Chosen(self, row_id))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Unmarkable: space is neither shown in the footer nor run.
        return action != "toggle_mark" or self.markable

    def action_toggle_mark(self) -> None:
        self.toggle_mark()

    def action_next_sort(self) -> None:
        """Ascending, then descending, then the next column ascending (as the team list)."""
        columns = self.rowset.columns if self.rowset is not None else ()
        if not columns:
            return
        keys = [column.key for column in columns]
        if self._sort is None or self._sort not in keys:
            self.sort_by(keys[0])
        elif not self._descending:
            self.sort_by(self._sort)
        else:
            self.sort_by(keys[(keys.index(self._sort) + 1) % len(keys)])

    def on_key(self, event: events.Key) -> None:
        """Upper-case column hotkeys sort (Textual names shift+n "N"; some terminals,
        through the kitty protocol without text, "shift+n")."""
        if self.typed_ahead(event) or self.rowset is None:
            return
        key = event.key
        letter = key[-1].upper() if key.startswith("shift+") and len(key) == 7 else key
        if len(letter) != 1 or not letter.isupper():
            return
        for column in self.rowset.columns:
            if column.hotkey == letter:
                event.stop()
                event.prevent_default()
                self.sort_by(column.key)
                return

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            for span in self._layout():
                if span.x <= offset.x < span.x + span.width + GAP and self.rowset is not None:
                    self.sort_by(self.rowset.columns[span.column].key)
                    return
            return
        index = round(self.scroll_y) + offset.y - 1
        if 0 <= index < len(self._order):
            again = index == self._cursor
            self._move(index)
            if again and event.chain >= 2:
                self.action_choose()

    # --- drawing -----------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._styles.clear()

    def on_resize(self) -> None:
        self._strips.clear()
        self._scroll_to_cursor()

    def _layout(self) -> tuple[Span, ...]:
        width = self.scrollable_content_region.width
        if width != self._spans_width:
            columns = self.rowset.columns if self.rowset is not None else ()
            self._spans = layout(columns, width)
            self._spans_width = width
            self._strips.clear()
        return self._spans

    def render_line(self, y: int) -> Strip:
        spans = self._layout()
        width = self.size.width
        base = self._style()
        if y == 0:
            strip = self._cached(("header", self._sort, self._descending), self._header, spans)
        else:
            index = round(self.scroll_y) + y - 1
            if index < len(self._order):
                row_id = self._order[index]
                state = (row_id, index == self._cursor, row_id in self.marked)
                strip = self._cached(state, self._row, spans)
            elif index == 0 and y == 1:
                strip = self._cached(("empty", self._query), self._empty)
            else:
                return Strip.blank(width, base)
        return strip.extend_cell_length(width, base)

    def _cached(self, key: tuple[Any, ...], draw: Callable[..., Strip], *args: Any) -> Strip:
        strip = self._strips.get(key)
        if strip is None:
            if len(self._strips) >= _KEPT_STRIPS:
                self._strips.clear()
            strip = self._strips[key] = draw(key, *args)
        return strip

    def _style(self, *names: str) -> Style:
        """The widget's style plus components', kept until the styles change: working it
        out walks the DOM, which cost more than drawing the line."""
        style = self._styles.get(names)
        if style is None:
            style = self.rich_style
            for name in names:
                style += self.get_component_rich_style(name)
            self._styles[names] = style
        return style

    def _header(self, key: tuple[Any, ...], spans: Iterable[Span]) -> Strip:
        assert self.rowset is not None or not spans
        style = self._style("record-table--header")
        hotkey = self._style("record-table--header", "record-table--hotkey")
        segments = [Segment(" " * MARK_WIDTH, style)]
        for span in spans:
            assert self.rowset is not None
            column = self.rowset.columns[span.column]
            arrow = ("▼" if self._descending else "▲") if column.key == self._sort else ""
            for text, is_key in header_parts(column, span.width, arrow):
                segments.append(Segment(text, hotkey if is_key else style))
            segments.append(Segment(" " * GAP, style))
        return Strip(segments).crop_extend(0, self.size.width, style)

    def _row(self, key: tuple[Any, ...], spans: Iterable[Span]) -> Strip:
        row_id, is_cursor, is_marked = key
        assert self.rowset is not None
        cells = self.rowset.cells(row_id)
        names = []
        if is_marked:
            names.append("record-table--marked")
        if is_cursor:
            names.append("record-table--cursor")
        style = self._style(*names)
        parts = [MARK + " " if is_marked else "  "]
        for span in spans:
            raw = cells[span.column]
            # Cut before cleaning: a 10,000-character name is never translated whole.
            text = clean(raw[: span.width * 4] if len(raw) > span.width * 4 else raw)
            parts.append(fit(text, span.width))
            parts.append(" " * GAP)
        line = "".join(parts)
        return Strip([Segment(line, style)]).crop_extend(0, self.size.width, style)

    def _empty(self, key: tuple[Any, ...]) -> Strip:
        if self.rowset is not None and len(self.rowset) and self._query:
            text = self.no_match_text.replace("{query}", clean(self._query, max_length=40))
        else:
            text = self.empty_text
        style = self._style("record-table--empty")
        line = " " * MARK_WIDTH + fit(clean(text), max(self.size.width - MARK_WIDTH, 0))
        return Strip([Segment(line, style)]).crop_extend(0, self.size.width, style)
