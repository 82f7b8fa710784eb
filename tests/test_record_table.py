"""RecordTable: virtual drawing, hostile text, cursor, marks, sorting, mouse, 50,000 rows."""

from __future__ import annotations

from typing import Any

import pytest
from rich.cells import cell_len
from textual import on
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from stratus_tui.records.rows import AGENT_COLUMNS
from stratus_tui.records.table import Column, RowSet
from stratus_tui.widgets.record_layout import MARK_WIDTH, fit, header_parts, layout
from stratus_tui.widgets.record_table import RecordTable
from tests.hostile import HOSTILE

NAMES = ["Anna Muster", "Zoë Łukasz", "王小明", "Bob Jones", "Chloé Dubois", "Ann Lee"]


def agent_rows(count: int) -> tuple[list[int], list[tuple[str, ...]]]:
    ids = list(range(1, count + 1))
    cells = [
        (
            f"{NAMES[i % len(NAMES)]} {i}", f"user{i}@example.com", f"sip:user{i}@example.com",
            "Zürich", "Team 1, Team 2", "team admin", "Day", "yes" if i % 3 else "no",
        )
        for i in ids
    ]  # fmt: skip
    return ids, cells


class TableApp(App[None]):
    def __init__(self, rowset: RowSet | None = None, sidebar: bool = False, **kw: Any) -> None:
        super().__init__()
        self.rowset, self.sidebar, self.kw = rowset, sidebar, kw
        self.messages: list[Any] = []

    def compose(self) -> ComposeResult:
        with Horizontal():
            if self.sidebar:
                yield Static("sidebar", id="sidebar")
            yield RecordTable(id="table", **self.kw)

    def on_mount(self) -> None:
        self.query_one("#sidebar, #table").styles.width = 24 if self.sidebar else "1fr"
        table = self.query_one(RecordTable)
        if self.rowset is not None:
            table.set_rows(self.rowset)
        table.focus()

    @on(RecordTable.Highlighted)
    @on(RecordTable.Chosen)
    @on(RecordTable.SortChanged)
    def _record(self, message: Any) -> None:
        self.messages.append(message)

    def of(self, kind: type) -> list[Any]:
        return [message for message in self.messages if isinstance(message, kind)]


def lines(table: RecordTable) -> list[str]:
    return [
        "".join(segment.text for segment in table.render_line(y)) for y in range(table.size.height)
    ]


def agents(count: int = 30) -> RowSet:
    return RowSet(AGENT_COLUMNS, *agent_rows(count))


async def test_hostile_text_is_drawn_as_visible_literal_text() -> None:
    values = list(HOSTILE.values())
    ids = list(range(1, len(values) + 1))
    cells = [(value, value, "", "", "", "", "", "") for value in values]
    app = TableApp(RowSet(AGENT_COLUMNS, ids, cells))
    async with app.run_test(size=(120, 24)) as pilot:
        table = app.query_one(RecordTable)
        await pilot.pause()
        shown = "\n".join(lines(table))
        controls = [c for c in shown if c != "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0)]
        assert controls == []
        assert "\u202e" not in shown and "\ud800" not in shown
        assert "[@click=app.quit]x[/]" in shown  # markup stays text
        assert "[TODO] fix [b]this[/b]" in shown
        assert "␛]52;c;SGk=␇" in shown and "a␀b␇c" in shown
        assert "ŁŁŁ…" in shown  # a 10,000-character name is cut with an ellipsis
        for y in range(table.size.height):  # nothing became a link or an action
            assert all(
                not (segment.style and segment.style.meta) for segment in table.render_line(y)
            )
        await pilot.click(RecordTable, offset=(10, 1))  # the [@click=app.quit] row
        await pilot.pause()
        assert app.is_running
        assert table.cursor_id == 1


async def test_only_visible_rows_are_drawn_for_fifty_thousand() -> None:
    rowset = agents(50_000)
    drawn: list[int] = []
    original = rowset.cells
    rowset.cells = lambda row_id: drawn.append(row_id) or original(row_id)  # type: ignore[method-assign]
    app = TableApp(rowset)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(RecordTable)
        await pilot.pause()
        assert table.visible_count == 50_000
        assert table.virtual_size.height == 50_001  # the header line and the rows
        assert 0 < len(set(drawn)) <= 2 * 24
        assert lines(table)[1].startswith("  Zoë Łukasz 1 ")  # id order: the first row
        drawn.clear()
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_id == 50_000
        assert round(table.scroll_y) == table.max_scroll_y
        assert "50000" in lines(table)[-1]
        assert 0 < len(set(drawn)) <= 2 * 24
        table.apply("zoë łukasz 4999", "name", False)
        await pilot.pause()
        assert table.visible_count == 3  # Zoë Łukasz 4999, 34999 and 49993
        assert lines(table)[1].startswith("  Zoë Łukasz 4999 ")


async def test_cursor_keys_messages_and_keeping_the_row() -> None:
    app = TableApp(agents(30))
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(RecordTable)
        await pilot.pause()
        assert table.cursor_id == 1
        await pilot.press("down", "down", "pagedown")
        assert table.cursor_id == 3 + table.page_rows - 1
        await pilot.press("home")
        assert table.cursor_id == 1 and round(table.scroll_y) == 0
        await pilot.press("down")
        await pilot.pause()
        assert [m.row_id for m in app.of(RecordTable.Highlighted)][-3:] == [
            3 + table.page_rows - 1,
            1,
            2,
        ]
        table.apply("ann", None, False)  # row 2 is "Zoë Łukasz 2": gone, the first row
        assert table.cursor_id == 5 and table.filter_text == "ann"  # "Ann Lee 5"
        table.move_cursor_to(11)
        table.apply("ann", "name", True)  # 11 "Ann Lee 11" is still shown: it stays
        assert table.cursor_id == 11
        assert not table.move_cursor_to(2)  # not shown
        await pilot.press("enter")
        await pilot.pause()
        assert [m.row_id for m in app.of(RecordTable.Chosen)] == [11]
        assert app.of(RecordTable.Highlighted)[-1].row_id == 11


async def test_marks_show_without_colour_and_follow_the_set() -> None:
    app = TableApp(agents(10), markable=True)
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(RecordTable)
        await pilot.press("down", "space")
        await pilot.pause()
        assert table.marked == {2}
        assert lines(table)[2].startswith("● ")
        assert lines(table)[1].startswith("  ")
        marked_style = table.render_line(2)._segments[0].style
        assert marked_style is not None and marked_style.italic
        await pilot.press("space")
        assert table.marked == set()
        table.marked.update({3, 4})
        await pilot.pause()
        assert lines(table)[3].startswith("● ") and lines(table)[4].startswith("● ")


async def test_space_marks_nothing_where_the_page_does_not_use_marks() -> None:
    app = TableApp(agents(10))
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(RecordTable)
        await pilot.press("down", "space")
        await pilot.pause()
        assert table.marked == set()
        shown = [active.binding.action for active in app.active_bindings.values()]
        assert "toggle_mark" not in shown
        table.marked.clear()
        await pilot.pause()
        assert not any(line.startswith("●") for line in lines(table))
        table.marked.add(9)
        table.set_rows(RowSet(AGENT_COLUMNS, *agent_rows(5)))  # 9 is gone: its mark too
        assert table.marked == set()


async def test_hotkeys_header_clicks_and_next_sort() -> None:
    app = TableApp(agents(12))
    async with app.run_test(size=(100, 16)) as pilot:
        table = app.query_one(RecordTable)
        await pilot.press("N")
        assert (table.sort_key, table.descending) == ("name", False)
        assert lines(table)[0].startswith("  Name ▲")
        first = lines(table)[1]
        assert first.startswith("  Ann Lee 11")
        await pilot.press("N")
        assert (table.sort_key, table.descending) == ("name", True)
        assert lines(table)[0].startswith("  Name ▼")
        assert lines(table)[1].startswith("  王小明 8")
        await pilot.press("n")  # lower case: not a sort key
        assert table.sort_key == "name"
        upn_x = lines(table)[0].index("UPN")
        await pilot.click(RecordTable, offset=(upn_x, 0))
        assert (table.sort_key, table.descending) == ("upn", False)
        await pilot.press("s")
        assert (table.sort_key, table.descending) == ("upn", True)
        await pilot.press("s")
        assert (table.sort_key, table.descending) == (AGENT_COLUMNS[2].key, False)
        await pilot.pause()
        changes = [(m.key, m.descending) for m in app.of(RecordTable.SortChanged)]
        assert changes == [
            ("name", False), ("name", True), ("upn", False), ("upn", True),
            (AGENT_COLUMNS[2].key, False),
        ]  # fmt: skip
        await pilot.click(RecordTable, offset=(5, 3))  # the third row
        assert table.cursor_id == table.rowset.view("", AGENT_COLUMNS[2].key)[2]  # type: ignore[union-attr]
        await pilot.click(RecordTable, offset=(5, 3), times=2)
        await pilot.pause()
        assert app.of(RecordTable.Chosen)[-1].row_id == table.cursor_id


async def test_narrow_terminal_with_a_sidebar_keeps_the_first_columns() -> None:
    app = TableApp(agents(5), sidebar=True)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(RecordTable)
        await pilot.pause()
        header = lines(table)[0]
        assert table.size.width == 56
        assert header.startswith("  Name") and "UPN" in header and "SIP" not in header
        assert [cell_len(line) for line in lines(table)] == [56] * table.size.height


async def test_empty_states_name_the_filter() -> None:
    app = TableApp(agents(3), empty_text="No agents yet", no_match_text="No agents match '{query}'")
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(RecordTable)
        table.apply("xyz[b]\x1b", None, False)
        await pilot.pause()
        assert table.cursor_id is None and table.visible_count == 0
        assert lines(table)[1].strip() == "No agents match 'xyz[b]␛'"
        assert app.of(RecordTable.Highlighted)[-1].row_id is None
        table.set_rows(RowSet(AGENT_COLUMNS, [], []))
        table.apply("", None, False)
        await pilot.pause()
        assert lines(table)[1].strip() == "No agents yet"
        await pilot.press("down", "enter", "space", "s", "N")  # nothing to act on: no error
        assert table.marked == set()


async def test_cursor_reads_without_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = TableApp(agents(3))
    async with app.run_test(size=(80, 8)) as pilot:
        table = app.query_one(RecordTable)
        await pilot.pause()
        style = table.render_line(1)._segments[0].style
        assert style is not None and style.bold and style.reverse
        other = table.render_line(2)._segments[0].style
        assert other is None or not other.reverse


def test_layout_and_fit() -> None:
    columns = [Column("a", "Alpha", 20, "A", flex=True), Column("b", "Beta", 10, "B")]
    spans = layout(columns, 80)
    assert [s.width for s in spans] == [80 - MARK_WIDTH - 1 - 10, 10]  # flex takes the rest
    assert [s.width for s in layout(columns, 25)] == [23]  # Beta does not fit: dropped
    assert [s.width for s in layout(columns, 8)] == [6]  # the first column always shows
    assert layout(columns, 2) == () and layout([], 80) == ()
    assert fit("abc", 5) == "abc  " and fit("abcdef", 4) == "abc…"
    assert fit("王小明", 5) == "王小…" and fit("王小明", 4) == "王 …"
    assert fit("x", 0) == "" and fit("long", 1) == "…"
    emergency = Column("x", "Emergency", 13, "X")
    assert "".join(t for t, _ in header_parts(emergency, 13, "")) == "Emergency (X)"
    assert [t for t, key in header_parts(emergency, 9, "▲") if key] == ["X"]
    assert [t for t, key in header_parts(columns[1], 10, "") if key] == ["B"]


async def test_filtering_shows_and_hides_the_scrollbar() -> None:
    app = TableApp(agents(200))
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(RecordTable)
        await pilot.pause()
        assert table.show_vertical_scrollbar and table.max_scroll_y == 201 - 12
        await pilot.press("end")
        table.apply("Ann Lee 19", None, False)  # 191 and 197: they fit on the screen
        await pilot.pause()
        assert not table.show_vertical_scrollbar and table.scroll_y == 0
        assert table.cursor_id == 191 and lines(table)[1].startswith("  Ann Lee 191")
        table.apply("", None, False)
        await pilot.pause()
        assert table.show_vertical_scrollbar and table.cursor_id == 191
        assert "Ann Lee 191" in "".join(lines(table))  # still in view
        table.marked |= {1, 2}
        table.marked -= {1}
        await pilot.press("home")
        assert table.marked == {2} and lines(table)[2].startswith("● ")
