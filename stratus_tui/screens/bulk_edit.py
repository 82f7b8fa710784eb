"""Bulk edit: one field, one value, for every marked service, with the diff before saving.

As in the product, each marked service is listed with its current value: green "=" where it
has the new value already, yellow "≠" where it will change (the signs read without colour).
Nothing is sent from here: the screen answers (field, value, label) and the page asks for
confirmation (the product has no undo) and saves each service with its own ETag.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Select, Static

from stratus_tui.api import models
from stratus_tui.records.forms import FieldSpec, display_value, field_error, normalise
from stratus_tui.records.services import bulk_rows, service_values
from stratus_tui.screens.bindings import bind
from stratus_tui.widgets.form_fields import FormField, make_field
from stratus_tui.widgets.safe import safe

BulkChoice = tuple[str, Any, str]  # field name, value, field label


class BulkEditScreen(Screen[BulkChoice | None]):
    DEFAULT_CSS = """
    BulkEditScreen { padding: 0 1; }
    BulkEditScreen .title { text-style: bold; color: $accent; height: 1; }
    BulkEditScreen #bulk-field { width: 48; margin: 1 0; }
    BulkEditScreen #bulk-value { height: auto; }
    BulkEditScreen #bulk-summary { text-style: bold; height: 1; margin-top: 1; }
    BulkEditScreen #bulk-diff { height: 1fr; border: round $panel-lighten-2; padding: 0 1; }
    BulkEditScreen #bulk-keys { color: $text-muted; height: 1; }
    """
    BINDINGS = [bind("save", "apply"), bind("back", "cancel")]
    HELP = """
## Bulk edit

Choose the field, then its new value. The list shows every marked service: **=** (green)
has that value already, **≠** (yellow) will change. **ctrl+s** goes on to the confirmation;
**escape** cancels without changing anything.
"""

    def __init__(self, services: Sequence[models.Service], specs: Sequence[FieldSpec]) -> None:
        super().__init__()
        self.services = list(services)
        self.specs = {spec.name: spec for spec in specs}
        self.spec: FieldSpec = specs[0]
        self.value: Any = None
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        count = len(self.services)
        yield Static(f"Bulk edit · {count} marked service{'s' * (count != 1)}", classes="title")
        yield Select(
            [(spec.label, name) for name, spec in self.specs.items()],
            value=self.spec.name,
            allow_blank=False,
            id="bulk-field",
        )
        yield Vertical(id="bulk-value")
        yield Static("", id="bulk-summary")
        with VerticalScroll(id="bulk-diff"):
            yield Static("", id="bulk-rows")
        yield Static("ctrl+s: review and confirm · escape: cancel", id="bulk-keys")

    async def on_mount(self) -> None:
        await self._show_field(self.spec)
        self.query_one("#bulk-field", Select).focus()

    async def _show_field(self, spec: FieldSpec) -> None:
        self.spec = spec
        start = service_values(self.services[0])[spec.name]
        box = self.query_one("#bulk-value", Vertical)
        await box.remove_children()
        await box.mount(make_field(spec, start))
        self._set_value(start)

    @on(Select.Changed, "#bulk-field")
    async def _field_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.spec.name:
            await self._show_field(self.specs[event.value])

    @on(FormField.Changed)
    def _value_changed(self, event: FormField.Changed) -> None:
        event.stop()
        self._set_value(event.value)

    def _set_value(self, value: Any) -> None:
        self.value = normalise(self.spec, value)
        self.error = field_error(self.spec, value)
        for field in self.query(FormField):
            field.set_error(self.error)
        self._show_diff()

    def _show_diff(self) -> None:
        rows = bulk_rows(self.services, self.spec.name, self.value)
        lines = []
        for row in rows:
            now = display_value(self.spec, row.current)
            if row.matches:
                lines.append(Content.assemble(("= ", "bold $text-success"), safe(row.name),
                                              (f"  {now} already", "$text-success")))  # fmt: skip
            else:
                new = display_value(self.spec, self.value)
                lines.append(Content.assemble(("≠ ", "bold $text-warning"), safe(row.name),
                                              ("  ", ""), safe(now), (" → ", "$text-warning"),
                                              safe(new)))  # fmt: skip
        self.query_one("#bulk-rows", Static).update(Content("\n").join(lines))
        changing = sum(not row.matches for row in rows)
        summary = f"{changing} will change, {len(rows) - changing} have it already"
        if self.error:
            summary = f"✗ {self.spec.label} {self.error}"
        self.query_one("#bulk-summary", Static).update(Content(summary))

    def action_apply(self) -> None:
        if self.error:
            self.notify(f"{self.spec.label} {self.error}", severity="error")
            return
        self.dismiss((self.spec.name, self.value, self.spec.label))

    def action_cancel(self) -> None:
        self.dismiss(None)
