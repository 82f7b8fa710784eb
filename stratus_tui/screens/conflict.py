"""Someone else saved the record while the user edited it: theirs beside mine, then decide.

A table of the fields either side changed: what it was, what the server has now, what the
user typed. "● " marks a change, "⚠ both changed" a field both changed to different values.
The answer is "reapply" (r: my changes on top of their version), "theirs" (t: drop my edit)
or "edit" (e, escape: back to the form, rebased on theirs, my changes kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from stratus_tui.records.conflict import Conflict, same
from stratus_tui.records.forms import FieldSpec, display_value
from stratus_tui.screens.dialogs import DIALOG_CSS
from stratus_tui.widgets.safe import safe

CELL = 300  # longest value shown in a cell
UNCHANGED = "(unchanged)"


class ConflictScreen(ModalScreen[str | None]):
    DEFAULT_CSS = (
        "ConflictScreen {"
        + DIALOG_CSS
        + """
        & > Vertical { width: 110; max-width: 95%; max-height: 100%; padding: 0 2; }
        #rows { height: auto; max-height: 50vh; border-top: solid $panel; }
        .row { height: auto; }
        .row > Static { width: 1fr; height: auto; padding-right: 1; }
        .row > .name { width: 22; text-style: bold; }
        .head > Static { text-style: bold underline; }
        .clash > .name { color: $warning; }
        .changed { text-style: bold; }
        .unchanged { color: $text-muted; }
        #legend { color: $text-muted; }
        #buttons Button { margin-right: 2; }
    }
    """
    )
    BINDINGS = [
        Binding("r", "answer('reapply')", "Reapply mine", id="conflict_reapply"),
        Binding("t", "answer('theirs')", "Take theirs", id="conflict_theirs"),
        Binding("e,escape", "answer('edit')", "Edit on", id="conflict_edit"),
    ]

    def __init__(self, conflict: Conflict, specs: Sequence[FieldSpec]) -> None:
        super().__init__()
        self.conflict = conflict
        changed = conflict.fields()
        self._specs = [spec for spec in specs if spec.name in changed]

    def compose(self) -> ComposeResult:
        conflict = self.conflict
        theirs, clashes = conflict.their_changes(), conflict.clashes()
        with Vertical():
            yield Static("Someone else saved this record meanwhile", classes="title")
            yield Static(
                f"Nothing was saved. Changed on the server: {len(theirs)}, by you: "
                f"{len(conflict.mine)}, by both: {len(clashes)}."
            )
            with VerticalScroll(id="rows"):
                with Horizontal(classes="row head"):
                    for heading in ("Field", "Was", "Theirs (now)", "Yours"):
                        yield Static(heading, classes="name" if heading == "Field" else "")
                for spec in self._specs:
                    yield self._row(spec, spec.name in theirs, spec.name in clashes)
            yield Static(
                "● changed  ⚠ both changed, differently.  Reapply: yours on top of theirs · "
                "Take theirs: drop your edit · Edit on (esc): their version, your changes kept",
                id="legend",
            )
            with Horizontal(id="buttons"):
                yield Button("Edit on (e)", id="edit", variant="primary", compact=True)
                yield Button("Reapply mine (r)", id="reapply", compact=True)
                yield Button("Take theirs (t)", id="theirs", compact=True)

    def _row(self, spec: FieldSpec, they_changed: bool, clash: bool) -> Horizontal:
        conflict = self.conflict
        base = conflict.base.get(spec.name)
        name = Content(("⚠ " if clash else "") + spec.label + ("\nboth changed" if clash else ""))
        cells = [
            Static(name, classes="name"),
            self._cell(spec, base, changed=False, plain=True),
            self._cell(spec, conflict.theirs.get(spec.name), changed=they_changed),
        ]
        if spec.name in conflict.mine:
            mine = conflict.mine[spec.name]
            note = " (same as theirs)" if same(mine, conflict.theirs.get(spec.name)) else ""
            cells.append(self._cell(spec, mine, changed=True, note=note))
        else:
            cells.append(self._cell(spec, base, changed=False))
        return Horizontal(*cells, classes="row clash" if clash else "row")

    @staticmethod
    def _cell(
        spec: FieldSpec, value: Any, *, changed: bool, plain: bool = False, note: str = ""
    ) -> Static:
        text = display_value(spec, value)
        if plain:
            return Static(safe(text, max_length=CELL))
        if not changed:
            return Static(UNCHANGED, classes="unchanged")
        return Static(safe("● " + text, max_length=CELL) + Content(note), classes="changed")

    def on_mount(self) -> None:
        self.query_one("#edit", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)
