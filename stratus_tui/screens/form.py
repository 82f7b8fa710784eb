"""The shared editor: every editable record opens in a ``FormScreen``.

The page hands over the fields, the starting values, the record's ETag and an async
``submit(changes, etag) -> SaveOutcome``. The form checks as the user types, marks what
changed, and keeps everything typed until the server has the change (SECURITY.md D): a
refusal, a field error or a conflict leaves the form open with the user's values.

Errors show beside a field once the user has changed it, and beside every field after a
first ctrl+s. While saving the fields are disabled, so nothing typed meanwhile can be lost
when the save succeeds and the form closes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from stratus_tui.keys import spec
from stratus_tui.records.conflict import Conflict, SaveOutcome
from stratus_tui.records.forms import FieldSpec, FormState
from stratus_tui.screens.bindings import bind
from stratus_tui.screens.conflict import ConflictScreen
from stratus_tui.screens.dialogs import ChoiceDialog
from stratus_tui.text import clean
from stratus_tui.widgets.form_fields import EndpointsField, FormField, field_of, make_field
from stratus_tui.widgets.safe import safe

Submit = Callable[[dict[str, Any], str | None], Awaitable[SaveOutcome]]
CheckAll = Callable[[Mapping[str, Any]], dict[str, str]]
SERVER_CHANGED = "changed on the server meanwhile"


class FormScreen(Screen[bool]):
    """Dismissed with True once saved, False when left without saving."""

    DEFAULT_CSS = """
    FormScreen { padding: 0 1; }
    FormScreen #form-title { text-style: bold; color: $accent; }
    FormScreen #form-title.-modified { color: $warning; }
    FormScreen #form-subtitle { color: $text-muted; }
    FormScreen #form-read-only { background: $warning 30%; text-style: bold; }
    FormScreen #fields { height: 1fr; border-top: solid $panel; padding-top: 1; }
    FormScreen #form-error { color: $error; text-style: bold; }
    FormScreen #form-error.-busy { color: $text; text-style: italic; }
    FormScreen #form-error.-notice { color: $warning; }
    FormScreen .-empty { display: none; }
    FormScreen #form-keys { color: $text-muted; border-top: solid $panel; }
    """
    BINDINGS = [
        bind("save", "save", priority=True),
        bind("revert_field", "revert_field", priority=True),
        bind("back", "back"),
        bind("sidebar", "leave_to_sidebar", show=False),
    ]

    def __init__(
        self,
        title: str,
        specs: Sequence[FieldSpec],
        initial: Mapping[str, Any],
        *,
        etag: str | None,
        submit: Submit,
        check_all: CheckAll | None = None,
        read_only: str | None = None,
        subtitle: str = "",
    ) -> None:
        super().__init__()
        self.form_title = title
        self.specs = list(specs)
        self.state = FormState(self.specs, initial, check_all)
        self.etag = etag
        self.read_only = read_only
        self._submit = submit
        self._subtitle = subtitle
        self.saving = False
        self._touched: set[str] = set()  # changed by the user at some point
        self._show_all = False  # after a first ctrl+s: every error shows
        self._server_errors: dict[str, str] = {}
        self._message = ""  # an error line ("✗ ...")
        self._notice = ""  # an information line (after a conflict)
        self._focus_before: Widget | None = None  # focus comes back there after saving
        self.fields: dict[str, FormField] = {}  # made in compose (widgets need the app)

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="form-title")
        yield Static(
            safe(self._subtitle), id="form-subtitle", classes="" if self._subtitle else "-empty"
        )
        if self.read_only:
            yield Static(safe(f" READ-ONLY: {self.read_only} "), id="form-read-only")
        self.fields = {
            spec.name: make_field(
                spec, self.state.values[spec.name], read_only=bool(self.read_only)
            )
            for spec in self.specs
        }
        with VerticalScroll(id="fields"):
            yield from self.fields.values()
        yield Static(id="form-error", classes="-empty")
        yield Static(Content(self._keys_hint()), id="form-keys")

    def _keys_hint(self) -> str:
        key_for = getattr(self.app, "key_for", lambda binding_id: spec(binding_id).keys)
        if self.read_only:
            return f"{key_for('back')} close (view only)"
        return (
            f"{key_for('save')} save · {key_for('back')} cancel · "
            f"{key_for('revert_field')} revert field"
        )

    def on_mount(self) -> None:
        self.refresh_state()
        first = next((f for f in self.fields.values() if f.display), None)
        if first is not None:
            first.focus_input()

    # --- as the user types -----------------------------------------------------------------

    @on(FormField.Changed)
    def _field_changed(self, event: FormField.Changed) -> None:
        event.stop()
        if self.read_only or self.saving or self.state.specs[event.name].read_only:
            return
        self.state.set(event.name, event.value)
        self._touched.add(event.name)
        self._server_errors.pop(event.name, None)
        self._server_errors.pop("", None)
        self._message = ""
        self.refresh_state()

    def visible_errors(self) -> dict[str, str]:
        """The errors the user sees: their own fields', all after a save, the server's."""
        errors = self.state.errors()
        shown = {
            name: text
            for name, text in errors.items()
            if self._show_all or name in self._touched or (name == "" and self._touched)
        }
        for name, text in self._server_errors.items():
            shown.setdefault(name if name in self.fields else "", text)
        return shown

    def refresh_state(self) -> None:
        """Markers, errors and hidden fields in step with the values."""
        errors = self.visible_errors()
        modified = self.state.modified()
        normalised = self.state.normalised()
        for name, field in self.fields.items():
            field.display = self.state.shown(name, normalised)
            field.set_modified(name in modified)
            field.set_error(errors.get(name))
        title = self.query_one("#form-title", Static)
        marker = f"  ● modified ({len(modified)})" if modified else ""
        title.update(safe(self.form_title) + Content(marker))
        title.set_class(bool(modified), "-modified")
        line = self.query_one("#form-error", Static)
        error = self._message or errors.get("", "")
        if self.saving:
            text = "Saving…"
        elif error:
            text = f"✗ {error}"
        else:
            text = self._notice
        line.update(safe(text, max_length=None))
        line.set_class(not text, "-empty")
        line.set_class(self.saving, "-busy")
        line.set_class(not self.saving and not error and bool(text), "-notice")

    # --- saving ----------------------------------------------------------------------------

    def action_save(self) -> None:
        if self.saving:
            self.notify("Still saving: wait for the server's answer.")
            return
        if self.read_only:
            self.notify(f"{self.read_only}: nothing was sent.", severity="warning")
            return
        self._show_all = True
        self._message = self._notice = ""
        self.refresh_state()
        pending = {
            name: problem
            for name, field in self.fields.items()
            if isinstance(field, EndpointsField) and (problem := field.pending())
        }
        for name, problem in pending.items():
            self.fields[name].set_error(problem)
        errors = {**self.state.errors(), **pending}
        if errors:
            self._focus_first_error(errors)
            return
        changes = self.state.changes()
        if not changes:
            self.notify("Nothing to save")
            self.dismiss(False)
            return
        self._send(changes)

    def _focus_first_error(self, errors: Mapping[str, str]) -> None:
        for name, field in self.fields.items():
            if name in errors and field.display:
                field.focus_input()
                return

    def _send(self, changes: dict[str, Any]) -> None:
        self.saving = True
        self._message = ""
        self._focus_before = self.focused
        self.query_one("#fields").disabled = True
        self.refresh_state()
        self._run_submit(changes, self.etag)

    @work(exclusive=True, group="form-save", exit_on_error=False)
    async def _run_submit(self, changes: dict[str, Any], etag: str | None) -> None:
        try:
            outcome = await self._submit(changes, etag)
        except Exception as error:  # a bug in a submit must not take the user's edit along
            outcome = SaveOutcome(False, message=f"Not saved: {error}")
        self.saving = False
        self.query_one("#fields").disabled = False
        if self._focus_before is not None and self._focus_before.is_attached:
            self._focus_before.focus()
        self._answered(outcome, changes)

    def _answered(self, outcome: SaveOutcome, sent: dict[str, Any]) -> None:
        if outcome.saved:
            self.dismiss(True)
            return
        if outcome.conflict is not None:
            # The form knows what it was based on and what it sent; the page knows theirs.
            conflict = Conflict(
                base=dict(self.state.initial),
                mine=sent,
                theirs=outcome.conflict.theirs,
                theirs_etag=outcome.conflict.theirs_etag,
            )
            self.refresh_state()
            self.app.push_screen(
                ConflictScreen(conflict, self.specs), lambda answer: self._resolve(conflict, answer)
            )
            return
        self._server_errors = dict(outcome.field_errors)
        self._message = outcome.message or ("" if outcome.field_errors else "Not saved")
        self._show_all = True
        self.refresh_state()
        self._focus_first_error(self._server_errors)

    def _resolve(self, conflict: Conflict, answer: str | None) -> None:
        if answer == "theirs":
            self.dismiss(False)
            return
        self.rebase(conflict.theirs, conflict.theirs_etag)
        if answer == "reapply":
            changes = conflict.reapplied()
            if not self.state.errors() and not changes:
                self.notify("Their version already has your changes.")
                self.dismiss(True)
                return
            if not self.state.errors():
                self._send(changes)
                return
        mine = self.state.modified()
        for name in conflict.their_changes():
            if name in self.fields:
                theirs = self.state.display(name, self.state.initial[name])
                clash = f" (theirs: {theirs})" if name in mine else ""
                self.fields[name].set_note(SERVER_CHANGED + clash)
        self._notice = (
            "⚑ Someone else saved this record meanwhile: the form now holds their version "
            "with your changes on top. Check the marked fields and save again."
        )
        self.refresh_state()

    def rebase(self, theirs: Mapping[str, Any], etag: str) -> None:
        """The server's version as the new base, the user's changes kept on top."""
        self.state.rebase(theirs)
        self.etag = etag
        self._server_errors = {}
        for name, field in self.fields.items():
            field.set_value(self.state.values[name])
        self.refresh_state()

    # --- leaving ---------------------------------------------------------------------------

    def action_back(self) -> None:
        self.request_leave(lambda: None)

    def action_leave_to_sidebar(self) -> None:
        """Leaving the page for the sidebar asks too, as escape does."""
        main = getattr(self.app, "main_screen", None)
        self.request_leave(lambda: main.action_focus_sidebar() if main is not None else None)

    def request_leave(self, then: Callable[[], None]) -> None:
        """Leave the form (asking first when something changed), then call ``then``."""
        if self.saving:
            self.notify("Still saving: wait for the server's answer.")
            return
        if not self.state.modified():
            self._leave(then)
            return

        def answered(answer: str | None) -> None:
            if answer == "discard":
                self._leave(then)

        count = len(self.state.modified())
        self.app.push_screen(
            ChoiceDialog(
                "Discard your changes?",
                # ChoiceDialog shows its text literally but does not clean it
                f"{count} changed field(s) of {clean(self.form_title, max_length=200)} have "
                "not been saved.",
                [("keep", "Keep editing"), ("discard", "Discard changes")],
            ),
            answered,
        )

    def _leave(self, then: Callable[[], None]) -> None:
        self.dismiss(False)
        then()

    def action_revert_field(self) -> None:
        field = field_of(self.focused)
        if field is None or field.spec.read_only or self.read_only:
            self.notify("Move to a field you can change first.")
            return
        name = field.spec.name
        field.set_value(self.state.revert(name))
        self._server_errors.pop(name, None)
        self.refresh_state()
