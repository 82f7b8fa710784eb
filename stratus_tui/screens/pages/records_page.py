"""What the Agents and Configuring Services pages share: a big list, a detail pane, editing.

The list paints from the local cache at once and is refreshed from the server in the
background. A change shows in the list as soon as it is sent (marked as pending) and is
confirmed by the server's answer, or rolled back with the server's error shown. Edits go
through ``FormScreen``; deletes ask first (and on a ``protected`` profile want its name
typed); on a ``read_only`` profile nothing is sent at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Static

from stratus_tui.api import models
from stratus_tui.api.errors import (
    ApiError,
    NotFound,
    StaleVersion,
    StratusError,
    Unauthenticated,
)
from stratus_tui.records.conflict import SaveOutcome
from stratus_tui.records.editing import (
    Editor,
    ReadOnlyProfile,
    RecordKind,
    Reference,
    Saved,
    etag_of,
)
from stratus_tui.records.forms import FieldSpec
from stratus_tui.records.requests import RequestRefused
from stratus_tui.records.table import RowSet
from stratus_tui.screens.bindings import bind
from stratus_tui.screens.confirm import confirm_change
from stratus_tui.screens.form import FormScreen
from stratus_tui.screens.pages.sections import LeaveSection
from stratus_tui.widgets.record_table import RecordTable
from stratus_tui.widgets.safe import safe

if TYPE_CHECKING:
    from stratus_tui.session import Session

M = TypeVar("M", bound=models.Resource)
FIRST_ROWS = 200  # read from the cache first: more than a screen of the tallest terminal
DETAIL_FROM = 130  # page width from which the detail pane shows by itself
PENDING = "⟳ "  # marks a row whose change the server has not confirmed yet


class RecordsPage(Vertical, Generic[M]):
    DEFAULT_CSS = """
    RecordsPage { padding: 0 1; }
    RecordsPage .page-title { text-style: bold; color: $accent; height: 1; }
    RecordsPage #records-filter { display: none; }
    RecordsPage.-filtering #records-filter { display: block; }
    RecordsPage #records-body { height: 1fr; }
    RecordsPage RecordTable { width: 1fr; height: 1fr; }
    RecordsPage #records-detail {
        width: 38; height: 1fr; border-left: vkey $panel-lighten-2; padding: 0 1;
    }
    RecordsPage #records-detail.-hidden { display: none; }
    RecordsPage #records-status { color: $text-muted; height: 1; width: 1fr; }
    RecordsPage #records-status.-error { color: $text-warning; text-style: bold; }
    """
    BINDINGS = [
        bind("filter", "filter"),
        bind("refresh", "refresh"),
        bind("new", "new"),
        bind("edit", "edit"),
        bind("delete", "delete"),
        bind("details", "toggle_detail", show=False),
        bind("back", "close_filter", show=False),
    ]

    KIND: ClassVar[RecordKind[Any]]
    RENAME: ClassVar[Mapping[str, str]] = {}  # the server's field locations -> form fields
    TITLE: ClassVar[str]
    PLURAL: ClassVar[str]
    MARKABLE: ClassVar[bool] = False  # space marks rows (for a page's bulk action)

    def __init__(self, session: Session, *, id: str) -> None:
        super().__init__(id=id)
        self.session = session
        self.editor = Editor(session.client, session.cache, read_only=session.read_only)
        self.records: dict[int, M] = {}
        self.reference = Reference()
        self.rowset: RowSet | None = None
        self.as_of: float | None = None
        self.state = "loading"  # loading | cached | fresh | offline
        self.problem = ""
        self.detail_wanted: bool | None = None  # None: by the width
        self.partial = False  # showing only the cache's first rows, the rest loading

    # --- what a page says about its records (subclasses) --------------------------------

    def fields(self, record: M | None) -> list[FieldSpec]:
        raise NotImplementedError

    def values(self, record: M | None) -> dict[str, Any]:
        raise NotImplementedError

    def build_request(
        self, record: M | None, changes: Mapping[str, Any], values: Mapping[str, Any]
    ) -> models.Request:
        raise NotImplementedError

    def check_all(self, values: Mapping[str, Any]) -> dict[str, str]:
        return {}

    def title_of(self, record: M | None) -> str:
        raise NotImplementedError

    def detail(self, record: M) -> Content:
        raise NotImplementedError

    def refuse_create(self) -> str | None:
        """Why this user may not create one here, or None."""
        return None

    def refuse_delete(self, record: M) -> str | None:
        return None

    # --- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self.TITLE, classes="page-title")
        yield Input(placeholder=f"filter {self.PLURAL} (enter: done, escape: clear)",
                    id="records-filter")  # fmt: skip
        with Horizontal(id="records-body"):
            yield RecordTable(empty_text=f"No {self.PLURAL} to show", markable=self.MARKABLE,
                              id="records-table")  # fmt: skip
            with VerticalScroll(id="records-detail"):
                yield Static("", id="records-detail-text")
        yield Static("Loading…", id="records-status")

    @property
    def table(self) -> RecordTable:
        return self.query_one(RecordTable)

    def on_mount(self) -> None:
        self.editor.now = getattr(self.app, "wall_clock", self.editor.now)
        self.load_cached()
        self.refresh_records(background=False)

    def on_resize(self) -> None:
        self._place_detail()

    def _place_detail(self) -> None:
        # The table comes first: the pane shows by itself only where both fit well, and
        # "i" shows or hides it anywhere.
        wanted = self.detail_wanted
        shown = self.size.width >= DETAIL_FROM if wanted is None else wanted
        pane = self.query_one("#records-detail")
        if shown == pane.has_class("-hidden"):
            pane.set_class(not shown, "-hidden")
            if shown:
                self.show_detail(self.table.cursor_id)

    # --- loading -------------------------------------------------------------------------

    @work(group="records-cache", exit_on_error=False)
    async def load_cached(self) -> None:
        """The list as last seen: a screenful at once, then all of it (50,000 rows take a
        few hundred ms to read), unless the server's answer came first."""
        head = await self.editor.cached_listing(self.KIND, first=FIRST_ROWS)
        if head is None:
            return
        if self.rowset is None:  # also when the server failed first (offline)
            self.show_rows(*head)
            self.partial = len(head[0]) == FIRST_ROWS
            if self.state == "loading":
                self.state = "cached"
            self.as_of = await self.editor.cached_age(self.KIND)
            self._show_status(refreshing=self.state == "cached")
        listing = await self.editor.cached_listing(self.KIND) if self.partial else None
        if listing is not None and self.partial:  # the server's answer did not come first
            self.show_rows(*listing)
            self.partial = False
            self._show_status(refreshing=self.state == "cached")
        reference = await self.editor.cached_reference()
        if reference is not None and not self.reference.teams:
            self.reference = reference

    @work(exclusive=True, group="records", exit_on_error=False)
    async def refresh_records(self, background: bool = True) -> None:
        self.problem = ""
        self._show_status(refreshing=True)
        try:
            reference = await self.editor.fetch_reference(background=background)
            records, listing = await self.editor.fetch_all(
                self.KIND, reference, background=background
            )
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return
        except StratusError as error:
            self.problem = str(error)
            self.state = "offline"
            self._show_status()
            return
        self.reference = reference
        self.records = {record.id: record for record in records}
        self.partial = False
        self.show_rows(*listing)
        self.state = "fresh"
        self.as_of = self.editor.now()
        self._show_status()

    def show_rows(self, ids: list[int], cells: list[tuple[str, ...]]) -> None:
        table = self.table
        self.rowset = RowSet(self.KIND.columns, ids, cells)
        table.set_rows(self.rowset)
        table.apply(table.filter_text, table.sort_key, table.descending)

    def _show_status(self, *, refreshing: bool = False) -> None:
        status = self.query_one("#records-status", Static)
        count = self.table.visible_count
        total = len(self.rowset) if self.rowset is not None else 0
        noun = self.KIND.noun if total == 1 else self.PLURAL
        shown = f"{count:,} of {total:,} {noun}" if count != total else f"{total:,} {noun}"
        parts = [shown]
        if self.as_of is not None:
            stamp = datetime.fromtimestamp(self.as_of).strftime("%H:%M")
            parts.append(f"as of {stamp}" + (" (cached)" if self.state == "cached" else ""))
        if refreshing:
            parts.append("refreshing…")
        if self.session.read_only:
            parts.append("read-only profile")
        elif self._read_only_reason():
            parts.append("read-only for your role")
        if self.problem:
            parts.append(f"server: {self.problem}")
        # One line of fixed size: no layout pass for it (it changes on every keystroke).
        status.update(Content(" · ".join(parts)), layout=False)
        status.set_class(bool(self.problem), "-error")

    # --- filter and detail ---------------------------------------------------------------

    def action_filter(self) -> None:
        self.open_filter()

    def open_filter(self) -> None:
        self.add_class("-filtering")
        # Focused now, not after the keys already on their way (widgets/type_ahead.py).
        self.screen.set_focus(self.query_one("#records-filter", Input))

    def action_close_filter(self) -> None:
        field = self.query_one("#records-filter", Input)
        if self.has_class("-filtering"):
            field.value = ""
            self.remove_class("-filtering")
            self.table.focus()
        else:
            self.post_message(LeaveSection())

    @on(Input.Changed, "#records-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        table = self.table
        table.apply(event.value, table.sort_key, table.descending)
        self._show_status()

    @on(Input.Submitted, "#records-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def action_toggle_detail(self) -> None:
        self.detail_wanted = self.query_one("#records-detail").has_class("-hidden")
        self._place_detail()

    @on(RecordTable.Highlighted)
    def _highlighted(self, event: RecordTable.Highlighted) -> None:
        self.show_detail(event.row_id)

    @work(exclusive=True, group="records-detail", exit_on_error=False)
    async def show_detail(self, row_id: int | None) -> None:
        if self.query_one("#records-detail").has_class("-hidden"):
            return  # filled in when it is shown: moving the cursor stays cheap
        text = self.query_one("#records-detail-text", Static)
        if row_id is None:
            text.update("")
            return
        record = await self.record(row_id)
        text.update(self.detail(record) if record is not None else Content(""))

    @on(RecordTable.Chosen)
    def _chosen(self, event: RecordTable.Chosen) -> None:
        self.open_form(event.row_id)

    # --- changing ------------------------------------------------------------------------

    def action_new(self) -> None:
        if reason := (self._read_only_reason() or self.refuse_create()):
            self.notify(reason, severity="warning")
            return
        self.open_form(None)

    def action_edit(self) -> None:
        if self.table.cursor_id is not None:
            self.open_form(self.table.cursor_id)

    def _read_only_reason(self) -> str | None:
        if self.session.read_only:
            return f"Profile {self.session.profile.name} is read-only: nothing can be changed."
        return None

    @work(exclusive=True, group="records-form", exit_on_error=False)
    async def open_form(self, record_id: int | None) -> None:
        record: M | None = None
        etag: str | None = None
        if record_id is not None:
            try:
                record, etag = await self.editor.load(self.KIND, record_id)
            except Unauthenticated as error:
                self.app.end_session(str(error))  # type: ignore[attr-defined]
                return
            except NotFound:  # deleted meanwhile: off the list, as a save finding it gone does
                self.notify(
                    f"This {self.KIND.noun} is gone from the server (deleted by someone else "
                    "meanwhile, or moved out of what you may see); it is taken off the list.",
                    title=f"Cannot open the {self.KIND.noun}",
                    severity="warning",
                )
                self._gone(record_id)
                return
            except StratusError as error:
                self.notify(str(error), title=f"Cannot open the {self.KIND.noun}", severity="error")
                return
            self._confirmed(record)

        based_on = record  # the server's version the form edits: theirs after a conflict

        async def submit(changes: dict[str, Any], etag: str | None) -> SaveOutcome:
            # The form's base and their record, not the record it opened with: after a
            # conflict the user edits on their version, and a request completed from the old
            # record (the distribution policy, a team admin's other teams) would silently
            # put back what they changed.
            nonlocal based_on
            result = await self._save(based_on, dict(form.state.initial), changes, etag)
            if result.outcome.conflict is not None and result.record is not None:
                based_on = result.record
            return result.outcome

        form = FormScreen(
            self.title_of(record),
            self.fields(record),
            self.values(record),
            etag=etag,
            submit=submit,
            check_all=self.check_all,
            read_only=self._read_only_reason(),
        )
        # Not push_screen_wait: the worker ends here, it does not wait out the editing.
        self.app.push_screen(form, self._form_closed)

    def _form_closed(self, saved: bool | None) -> None:
        self.table.focus()

    async def _save(
        self, record: M | None, base: dict[str, Any], changes: dict[str, Any], etag: str | None
    ) -> Saved[M]:
        """Send one form's changes; the list shows them at once, pending the answer."""
        try:
            body = self.build_request(record, changes, {**base, **changes})
        except RequestRefused as refused:
            return Saved(SaveOutcome(False, field_errors=refused.field_errors))
        if record is not None:
            self._pending(record, body)
        try:
            result = await self.editor.save(
                self.KIND, record, body, etag=etag, base=base, changes=changes,
                values=self.values, rename=self.RENAME,
            )  # fmt: skip
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return Saved(SaveOutcome(False, message=str(error)))
        if result.gone and record is not None:
            self._gone(record.id)  # type: ignore[attr-defined]
            return result
        if result.record is not None:  # the server's version: saved, or theirs (a conflict)
            self._confirmed(result.record)
        elif record is not None:  # not saved: back to ours (the cache is not written)
            self._rollback(record)
        if result.outcome.saved and result.record is not None:
            if record is None:
                self.table.move_cursor_to(result.record.id)
            self.notify(f"Saved {self.title_of(result.record)}", title=self.TITLE)
        return result

    def _gone(self, record_id: int) -> None:
        """Someone deleted this record meanwhile: out of the list and the cache, as a delete
        of our own would do (putting the row back would show a record that no longer is)."""
        if self.rowset is not None and record_id in self.rowset:
            self.rowset.remove(record_id)
            self.table.apply(self.table.filter_text, self.table.sort_key, self.table.descending)
        self.records.pop(record_id, None)
        self.run_worker(self.editor.forget(self.KIND, record_id), exit_on_error=False)
        self._show_status()

    def _pending(self, record: M, body: models.Request) -> None:
        updated = _apply(record, body)
        cells = list(self.KIND.cells(updated, self.reference.lookups()))
        cells[0] = PENDING + cells[0]
        self._upsert(record.id, tuple(cells))  # type: ignore[attr-defined]

    def _rollback(self, record: M) -> None:
        """A change was not saved: the list shows the record as it was again. The cache is
        left alone: it never held the change (and a failed save writes nothing)."""
        self._show(record)

    def _confirmed(self, record: M) -> None:
        """The server's version of a record, in the list, the detail pane and the cache."""
        self._show(record)
        self.run_worker(self.editor.remember(self.KIND, record, self.reference),
                        group="records-store", exit_on_error=False)  # fmt: skip

    def _show(self, record: M) -> None:
        record_id: int = record.id  # type: ignore[attr-defined]
        self.records[record_id] = record
        self._upsert(record_id, self.KIND.cells(record, self.reference.lookups()))
        if self.table.cursor_id == record_id:
            self.show_detail(record_id)

    def _upsert(self, record_id: int, cells: tuple[str, ...]) -> None:
        if self.rowset is None:
            self.show_rows([record_id], [cells])
            return
        self.rowset.upsert(record_id, cells)
        table = self.table
        table.apply(table.filter_text, table.sort_key, table.descending)
        self._show_status()

    def writable_cursor(self) -> int | None:
        """The highlighted record's id for a change; None (and the reason said) when there
        is none or the profile is read-only."""
        record_id = self.table.cursor_id
        if record_id is not None and (reason := self._read_only_reason()):
            self.notify(reason, severity="warning")
            return None
        return record_id

    async def record(self, record_id: int) -> M | None:
        """The record as last seen: from the server's list, or else the cache's."""
        return self.records.get(record_id) or await self.editor.cached_record(self.KIND, record_id)

    def action_delete(self) -> None:
        if (record_id := self.writable_cursor()) is not None:
            self.delete_record(record_id)

    @work(exclusive=True, group="records-form", exit_on_error=False)
    async def delete_record(self, record_id: int) -> None:
        record = await self.record(record_id)
        if record is None:
            return
        if reason := self.refuse_delete(record):
            self.notify(reason, severity="warning")
            return
        title = self.title_of(record)
        noun = self.KIND.noun
        if not await confirm_change(
            self.app,
            self.session.profile,
            f"Delete this {noun}?",
            f"{title} will be deleted on {self.session.profile.name}. There is no undo.",
            yes=f"Delete {noun}",
        ):
            return
        cells = self.rowset.cells(record_id) if self.rowset is not None else None
        if self.rowset is not None:
            self.rowset.remove(record_id)
            self.table.apply(self.table.filter_text, self.table.sort_key, self.table.descending)
        try:
            await self.editor.delete(self.KIND, record_id, etag=etag_of(record))
        except (StratusError, ReadOnlyProfile) as error:
            if cells is not None:
                self._upsert(record_id, cells)
                # Back on its row: a second delete must not hit the row that moved up.
                self.table.move_cursor_to(record_id)
            if isinstance(error, Unauthenticated):
                self.app.end_session(str(error))  # type: ignore[attr-defined]
                return
            title_text = "Changed meanwhile" if isinstance(error, StaleVersion) else "Not deleted"
            self.notify(_reason(error), title=title_text, severity="error")
            if isinstance(error, StaleVersion):
                self.refresh_records(background=False)
            return
        self.records.pop(record_id, None)
        self.run_worker(self.editor.forget(self.KIND, record_id), exit_on_error=False)
        self._show_status()
        self.notify(f"Deleted {title}", title=self.TITLE)

    def action_refresh(self) -> None:
        self.refresh_records(background=False)


def _apply(record: M, body: models.Request) -> M:
    """``record`` as it will be once ``body`` (a PATCH) is saved: for the pending row."""
    changes = body.model_dump(exclude_unset=True)
    try:
        return type(record).model_validate({**record.model_dump(), **changes})
    except ValueError:
        return record


def _reason(error: Exception) -> str:
    if isinstance(error, ApiError) and error.field_errors:
        return "; ".join(f"{k}: {v}" for k, v in error.field_errors.items())
    return str(error)


def detail_lines(pairs: Sequence[tuple[str, str]]) -> Content:
    """A detail pane's text: a muted label line, then the (server) value, literally."""
    parts: list[Content] = []
    for label, value in pairs:
        parts.append(Content.styled(label, "dim"))
        parts.append(safe(value or "—"))
        parts.append(Content(""))
    return Content("\n").join(parts)
