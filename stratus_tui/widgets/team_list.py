"""The teams a user may report on: a table with filter-as-you-type and sortable columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Input, Static

from stratus_tui.screens.bindings import bind
from stratus_tui.widgets.safe import safe
from stratus_tui.widgets.type_ahead import TypeAhead

if TYPE_CHECKING:
    from stratus_tui.reporting import TeamRow

# (key, label, TeamRow attribute). Widths are set from the room there is (``_widths``): the
# cells are Content (safe text), which DataTable's auto width does not measure.
COLUMNS = (
    ("name", "Team", "name"),
    ("zone", "Time zone", "time_zone"),
    ("calls", "Calls, 4 mo.", "calls"),
)


class TeamTable(TypeAhead, DataTable[Content]):
    """The teams' table. Enter posts RowSelected without DataTable's own first step, which
    repaints the row under the mouse pointer (even with no mouse about): that frame, made
    just before the report's, held the report back by one frame interval (16 ms at 60 fps),
    a third of what opening a team may take (docs/reporting.md)."""

    BINDINGS = [Binding("enter", "open_row", "Open", show=False)]

    def on_key(self, event: events.Key) -> None:
        self.typed_ahead(event)

    def action_open_row(self) -> None:
        if self.row_count:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
            self.post_message(DataTable.RowSelected(self, self.cursor_row, row_key))


class TeamList(Vertical):
    DEFAULT_CSS = """
    TeamList { height: 1fr; }
    TeamList #team-filter { display: none; }
    TeamList.-filtering #team-filter { display: block; }
    TeamList DataTable { height: 1fr; }
    TeamList #team-count { color: $text-muted; height: 1; }
    """
    HELP = """
## Teams

The teams you may report on. **/** filters as you type, **s** sorts by the next column
(again: the other way round), clicking a column header sorts by it. **Enter** opens the
team's report. **Escape** in the filter clears and closes it.
"""
    BINDINGS = [
        bind("filter", "filter"),
        bind("sort", "sort"),
        bind("back", "close_filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="team-list")
        self.teams: list[TeamRow] = []
        self.sort_column = 0
        self.descending = False

    def compose(self) -> ComposeResult:
        yield Static("Reporting · choose a team", classes="page-title")
        yield Input(placeholder="filter teams (enter: done)", id="team-filter")
        yield TeamTable(cursor_type="row", zebra_stripes=True)
        yield Static("", id="team-count")

    def show(self, teams: list[TeamRow]) -> None:
        self.teams = teams
        self._fill()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        chosen = self.chosen()
        text = self.query_one("#team-filter", Input).value.casefold()
        attribute = COLUMNS[self.sort_column][2]
        shown = sorted(
            (team for team in self.teams if text in team.name.casefold()),
            key=lambda team: (getattr(team, attribute), team.name.casefold()),
            reverse=self.descending,
        )
        table.clear(columns=True)
        for number, ((key, label, _), width) in enumerate(
            zip(COLUMNS, self._widths(), strict=True)
        ):
            arrow = (" ▼" if self.descending else " ▲") if number == self.sort_column else ""
            table.add_column(label + arrow, key=key, width=width)
        for team in shown:
            table.add_row(
                safe(team.name),
                safe(team.time_zone),
                Content(f"{team.calls:>12,}"),
                key=str(team.id),
            )
        if chosen is not None and chosen in shown:
            table.move_cursor(row=shown.index(chosen))
        note = f"{len(shown)} of {len(self.teams)} teams" if text else f"{len(shown)} teams"
        self.query_one("#team-count", Static).update(f"{note} · / filter · s sort · enter open")

    def _widths(self) -> tuple[int, int, int]:
        """Name, time zone, calls: the name takes what the others leave (80 columns too)."""
        room = (self.size.width or 80) - 8  # each cell's padding, the scrollbar
        zone = 22 if room >= 70 else 16
        return max(12, min(40, room - zone - 14)), zone, 14  # calls: its label and the arrow

    def on_resize(self) -> None:
        if self.teams:
            self._fill()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_filter":  # otherwise escape goes on to the page and the screen
            return self.has_class("-filtering")
        return True

    def action_close_filter(self) -> None:
        self.remove_class("-filtering")
        self.query_one("#team-filter", Input).value = ""  # Changed refills the table
        self.query_one(DataTable).focus()

    def action_filter(self) -> None:
        self.open_filter()

    def open_filter(self) -> None:
        self.add_class("-filtering")
        # Focused now, not after the keys already on their way (type_ahead.py).
        self.screen.set_focus(self.query_one("#team-filter", Input))

    @on(Input.Changed, "#team-filter")
    def _filtered(self) -> None:
        self._fill()

    @on(Input.Submitted, "#team-filter")
    def _filter_done(self) -> None:
        if not self.query_one("#team-filter", Input).value:
            self.remove_class("-filtering")
        self.query_one(DataTable).focus()

    def action_sort(self) -> None:
        if self.descending:
            self.sort_column = (self.sort_column + 1) % len(COLUMNS)
        self.descending = not self.descending
        self._fill()

    @on(DataTable.HeaderSelected)
    def _header(self, event: DataTable.HeaderSelected) -> None:
        column = event.column_index
        self.descending = not self.descending if column == self.sort_column else False
        self.sort_column = column
        self._fill()

    def chosen(self) -> TeamRow | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((team for team in self.teams if str(team.id) == key), None)
