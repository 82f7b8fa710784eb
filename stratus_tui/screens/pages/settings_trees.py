"""The Settings page's two trees: organization units and traits.

Both are trees whose children inherit from their parents, so each section shows the tree
(expanded, the hidden System root left out as in the product) and, under it, the highlighted
item's path: what it inherits from. The keys are the lists' (``n`` adds, ``e`` edits,
``Delete`` deletes, ``r`` reloads) plus ``N`` for a root, because in a tree "new" needs a
place: ``n`` adds below the highlighted item.

The server decides everything: a change is sent with the version the user saw (``If-Match``),
and the tree is then reloaded from the server with the cursor on the changed item, so what
the user sees is what the server holds. Nothing is changed optimistically: these are small
lists, a reload is one request, and a tree half-moved is harder to read than a list row
marked pending. A delete the server refuses (the unit or trait is in use) says why in the
server's words, which name what uses it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from rich.text import Text, TextType
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static, Tree

from stratus_tui.api import models
from stratus_tui.api.errors import (
    NotFound,
    StaleVersion,
    StratusError,
    Unauthenticated,
)
from stratus_tui.records import trees
from stratus_tui.records.conflict import SaveOutcome
from stratus_tui.records.editing import Editor, ReadOnlyProfile, RecordKind, etag_of
from stratus_tui.records.forms import FieldSpec
from stratus_tui.records.requests import RequestRefused
from stratus_tui.screens.bindings import bind
from stratus_tui.screens.confirm import confirm_change
from stratus_tui.screens.form import FormScreen
from stratus_tui.screens.pages.sections import LeaveSection, settings_read_only_reason
from stratus_tui.text import clean
from stratus_tui.widgets.safe import LINE, safe

if TYPE_CHECKING:
    from stratus_tui.session import Session

M = TypeVar("M", models.OrgUnit, models.Trait)


class SafeTree(Tree[int]):
    """A ``Tree`` whose labels are never read as markup: every name shows literally."""

    def process_label(self, label: TextType) -> Text:
        if isinstance(label, str):  # Tree would parse markup here; server names are data
            label = Text(safe(label).plain)
        return super().process_label(label)


def _label(node: trees.TreeNode) -> Text:
    text = Text(safe(node.name).plain)
    if node.detached:
        text.append("  (parent missing or looping)", style="dim italic")
    return text


class TreeSection(Vertical, Generic[M]):
    """What both trees share; ``OrgUnitsSection`` and ``TraitsSection`` say the rest."""

    DEFAULT_CSS = """
    TreeSection { padding: 0 1; height: 1fr; }
    TreeSection .tree-title { text-style: bold; color: $accent; height: 1; }
    TreeSection SafeTree { height: 1fr; }
    TreeSection .tree-detail { height: auto; max-height: 3; border-top: solid $panel; }
    TreeSection .tree-status { color: $text-muted; height: 1; }
    TreeSection .tree-status.-error { color: $text-warning; text-style: bold; }
    """
    BINDINGS = [
        bind("new", "add_child"),
        bind("add_root", "add_root"),
        bind("edit", "edit"),
        bind("delete", "delete"),
        bind("refresh", "refresh"),
        bind("back", "leave", show=False),
    ]

    KIND: ClassVar[RecordKind[Any]]
    TITLE: ClassVar[str]
    PLURAL: ClassVar[str]

    def __init__(self, session: Session, *, id: str) -> None:
        super().__init__(id=id)
        self.session = session
        self.editor = Editor(session.client, session.cache, read_only=session.read_only)
        self.records: dict[int, M] = {}
        self.units: list[models.OrgUnit] = []  # the org units: traits name their owner
        self.roots: list[trees.TreeNode] = []
        self.unit_roots: list[trees.TreeNode] = []  # the org units' tree, for their paths
        self.problem = ""
        self.state = "loading"  # loading | cached | fresh

    # --- what each tree says (subclasses) --------------------------------------------------

    def fields(self, record: M | None, tenant_id: int | None) -> list[FieldSpec]:
        raise NotImplementedError

    def values(self, record: M | None, parent_id: int | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def request(
        self, record: M | None, changes: Mapping[str, Any], values: Mapping[str, Any]
    ) -> models.Request:
        raise NotImplementedError

    def root_parent(self) -> tuple[int | None, str | None]:
        """The parent of a new root (None for a root trait), or why there is none."""
        raise NotImplementedError

    def detail_of(self, node: trees.TreeNode) -> list[Content]:
        """What the line under the tree says besides the path."""
        return []

    # --- layout and loading ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self.TITLE, classes="tree-title")
        tree = SafeTree("", id=f"{self.id}-tree")
        tree.show_root = False
        tree.auto_expand = False  # Enter edits, as in the lists; space opens or closes
        yield tree
        yield Static("", classes="tree-detail")
        yield Static("Loading…", classes="tree-status")

    @property
    def tree_view(self) -> SafeTree:
        return self.query_one(SafeTree)

    def on_mount(self) -> None:
        self.editor.now = getattr(self.app, "wall_clock", self.editor.now)
        self.load_cached()
        self.reload()

    def cursor_id(self) -> int | None:
        node = self.tree_view.cursor_node
        return None if node is None else node.data

    @work(group="tree-cache", exit_on_error=False)
    async def load_cached(self) -> None:
        """The tree as last seen, until the server answers (which replaces it)."""
        reference = await self.editor.cached_reference()
        if reference is None or self.state != "loading":
            return
        self.units = reference.org_units
        self.state = "cached"
        self.show(self._listed(reference.org_units, reference.traits), self.cursor_id())

    @work(exclusive=True, group="tree-load", exit_on_error=False)
    async def reload(self, select: int | None = None) -> None:
        """The whole tree from the server; the cursor on ``select`` (or where it was)."""
        self.problem = ""
        self._status(refreshing=True)
        try:
            units, traits = await asyncio.gather(
                self.session.client.get_all(trees.OU_KIND.path, models.OrgUnit),
                self.session.client.get_all(trees.TRAIT_KIND.path, models.Trait)
                if self.KIND is trees.TRAIT_KIND
                else asyncio.sleep(0, result=[]),
            )
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return
        except StratusError as error:
            self.problem = str(error)
            self._status()
            return
        self.units = units
        self.state = "fresh"
        records = self._listed(units, traits)
        self.show(records, self.cursor_id() if select is None else select)
        # Keeps the forms' choices elsewhere (an agent's org unit, traits) current too.
        await self.editor.remember_all(self.KIND, records, ([], []))

    def _listed(self, units: list[models.OrgUnit], traits: list[models.Trait]) -> list[M]:
        return units if self.KIND is trees.OU_KIND else traits  # type: ignore[return-value]

    def show(self, records: list[M], select: int | None) -> None:
        """Rebuild the tree, every node expanded; the cursor on ``select`` if it is there."""
        self.records = {record.id: record for record in records}
        self.roots = trees.build_tree(records)
        self.unit_roots = trees.build_tree(self.units)
        tree = self.tree_view
        tree.clear()
        shown: dict[int, Any] = {}
        stack = [(tree.root, node) for node in reversed(self.roots)]
        while stack:  # not recursive: a deep tree cannot exhaust the recursion limit
            parent, node = stack.pop()
            if node.children:
                item = parent.add(_label(node), data=node.id, expand=True)
            else:
                item = parent.add_leaf(_label(node), data=node.id)
            shown[node.id] = item
            stack.extend((item, child) for child in reversed(node.children))
        tree.root.expand()
        target = shown.get(select) if select is not None else None
        if target is None and self.roots:
            target = shown[self.roots[0].id]
        _ = tree.last_line  # lays the lines out now, so the node knows its line
        tree.move_cursor(target)
        self.show_detail(None if target is None else target.data)
        self._status()

    def _status(self, *, refreshing: bool = False) -> None:
        # The hidden System root is not one the user sees (nor the checklist counts).
        count = sum(not getattr(item, "is_system", False) for item in self.records.values())
        parts = [f"{count} {self.KIND.noun if count == 1 else self.PLURAL}"]
        if self.state == "cached":
            parts.append("cached")
        if refreshing:
            parts.append("refreshing…")
        if self.session.read_only:
            parts.append("read-only profile")
        elif self._read_only_reason():
            parts.append("read-only for your role")
        if self.problem:
            parts.append(f"server: {self.problem}")
        status = self.query_one(".tree-status", Static)
        status.update(safe(" · ".join(parts), max_length=None))
        status.set_class(bool(self.problem), "-error")

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[int]) -> None:
        self.show_detail(event.node.data)

    def show_detail(self, node_id: int | None) -> None:
        detail = self.query_one(".tree-detail", Static)
        node = trees.find(self.roots, node_id)
        if node is None:
            detail.update(
                Content(f"No {self.PLURAL} yet: N adds a root." if not self.roots else "")
            )
            return
        parts = [safe(node.path, max_length=2 * LINE)]
        if node.detached:
            parts.append(
                Content.styled(
                    "its parent is missing or loops back to it: shown at the top", "italic"
                )
            )
        elif node.inherited:
            parts.append(Content("inherits from ") + safe(node.inherited, max_length=2 * LINE))
        else:
            parts.append(Content("at the top: inherits from nothing above it"))
        parts += self.detail_of(node)
        detail.update(Content(" · ").join(parts))

    # --- changing ----------------------------------------------------------------------------

    def _read_only_reason(self) -> str | None:
        return settings_read_only_reason(self.session)

    def _refused(self) -> bool:
        if reason := self._read_only_reason():
            self.notify(reason, severity="warning")
            return True
        return False

    def action_add_child(self) -> None:
        parent = self.cursor_id()
        if parent is None:
            self.action_add_root()
        elif not self._refused():
            self.open_form(None, parent)

    def action_add_root(self) -> None:
        if self._refused():
            return
        parent, reason = self.root_parent()
        if reason:
            self.notify(reason, severity="warning")
            return
        self.open_form(None, parent)

    def action_edit(self) -> None:
        if (node_id := self.cursor_id()) is not None:
            self.open_form(node_id)

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected[int]) -> None:
        event.stop()
        if event.node.data is not None:
            self.open_form(event.node.data)

    def action_delete(self) -> None:
        if (node_id := self.cursor_id()) is not None and not self._refused():
            self.delete_node(node_id)

    def action_refresh(self) -> None:
        self.reload()

    def action_leave(self) -> None:
        self.post_message(LeaveSection())

    def tenant_of(self, record_id: int | None) -> int | None:
        record = self.records.get(record_id) if record_id is not None else None
        return record.tenant_id if record is not None else self.session.user.tenant_id

    @work(exclusive=True, group="tree-form", exit_on_error=False)
    async def open_form(self, record_id: int | None, parent_id: int | None = None) -> None:
        """Edit ``record_id`` (fresh from the server: the form's base), or add one below
        ``parent_id``."""
        record: M | None = None
        etag: str | None = None
        if record_id is not None:
            if reason := self.refuse(self.records.get(record_id)):
                self.notify(reason, severity="warning")
                return
            try:
                record, etag = await self.editor.load(self.KIND, record_id)
            except Unauthenticated as error:
                self.app.end_session(str(error))  # type: ignore[attr-defined]
                return
            except StratusError as error:
                self.notify(str(error), title=f"Cannot open the {self.KIND.noun}", severity="error")
                if isinstance(error, NotFound):
                    self.reload()
                return

        form: FormScreen

        async def submit(changes: dict[str, Any], etag: str | None) -> SaveOutcome:
            return await self._save(record, dict(form.state.initial), changes, etag)

        tenant = record.tenant_id if record is not None else self.tenant_of(parent_id)
        title = record.name if record is not None else f"New {self.KIND.noun}"
        form = FormScreen(
            title,
            self.fields(record, tenant),
            self.values(record, parent_id),
            etag=etag,
            submit=submit,
            read_only=self._read_only_reason(),
        )
        self.app.push_screen(form, self._form_closed)

    def _form_closed(self, saved: bool | None) -> None:
        self.tree_view.focus()

    def refuse(self, record: M | None) -> str | None:
        """Why this item cannot be changed here (before anything is sent), or None."""
        return None

    async def _save(
        self, record: M | None, base: dict[str, Any], changes: dict[str, Any], etag: str | None
    ) -> SaveOutcome:
        try:
            body = self.request(record, changes, {**base, **changes})
        except RequestRefused as refused:
            return SaveOutcome(False, field_errors=refused.field_errors)
        try:
            result = await self.editor.save(
                self.KIND, record, body, etag=etag, base=base, changes=changes,
                values=self.values,
            )  # fmt: skip
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return SaveOutcome(False, message=str(error))
        if result.outcome.saved and result.record is not None:
            self.notify(f"Saved {clean(result.record.name, max_length=LINE)}", title=self.TITLE)
            self.reload(select=result.record.id)
        elif result.outcome.conflict is not None and record is not None:
            self.reload(select=record.id)  # the tree shows theirs
        return result.outcome

    @work(exclusive=True, group="tree-form", exit_on_error=False)
    async def delete_node(self, record_id: int) -> None:
        record = self.records.get(record_id)
        if reason := self.refuse(record):
            self.notify(reason, severity="warning")
            return
        node = trees.find(self.roots, record_id)
        if record is None or node is None:
            return
        noun, profile = self.KIND.noun, self.session.profile
        if not await confirm_change(
            self.app,
            profile,
            f"Delete this {noun}?",
            f"{clean(node.path, max_length=2 * LINE)} will be deleted on "
            f"{clean(profile.name, max_length=LINE)}. There is no undo.",
            yes=f"Delete {noun}",
        ):
            return
        try:
            await self.editor.delete(self.KIND, record_id, etag=etag_of(record))
        except ReadOnlyProfile as error:
            self.notify(str(error), severity="warning")
            return
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return
        except StaleVersion:
            self.notify(
                f"Someone else changed this {noun} meanwhile: nothing was deleted. The tree "
                "now shows their version; look again before deleting.",
                title="Changed meanwhile",
                severity="error",
            )
            self.reload(select=record_id)
            return
        except StratusError as error:  # in use (the server names what uses it), gone...
            self.notify(str(error), title="Not deleted", severity="error", timeout=10)
            if isinstance(error, NotFound):
                self.reload()
            return
        self.notify(f"Deleted {clean(node.path, max_length=LINE)}", title=self.TITLE)
        self.reload(select=node.parent_id)


class OrgUnitsSection(TreeSection[models.OrgUnit]):
    KIND = trees.OU_KIND
    TITLE = "Organization units"
    PLURAL = "organization units"
    HELP = """
## Organization units

The tenant's organization units as a tree: a unit inherits from the units above it. The
line under the tree shows the highlighted unit's path.

**n** adds a unit below the highlighted one, **N** (shift+n) adds one at the top level.
**e** or **Enter** renames or moves it (choose another parent), **Delete** deletes it (asks
first). A unit still used by teams, agents, services or other units cannot be deleted: the
message says what uses it. **Space** folds or unfolds a branch, **r** reloads.
"""

    def fields(self, record: models.OrgUnit | None, tenant_id: int | None) -> list[FieldSpec]:
        return trees.org_unit_fields(self.units, record, tenant_id=tenant_id)

    def values(self, record: models.OrgUnit | None, parent_id: int | None = None) -> dict[str, Any]:
        return trees.org_unit_values(record, parent_id=parent_id)

    def request(
        self,
        record: models.OrgUnit | None,
        changes: Mapping[str, Any],
        values: Mapping[str, Any],
    ) -> models.Request:
        return trees.org_unit_request(record, changes, values)

    def root_parent(self) -> tuple[int | None, str | None]:
        system = trees.system_root(self.units, self.tenant_of(self.cursor_id()))
        if system is None:
            return None, "Highlight a unit of the tenant first: its top level is not known."
        return system, None

    def refuse(self, record: models.OrgUnit | None) -> str | None:
        return trees.refuse_change(record)


class TraitsSection(TreeSection[models.Trait]):
    KIND = trees.TRAIT_KIND
    TITLE = "Traits"
    PLURAL = "traits"
    HELP = """
## Traits

The tenant's traits as a tree: a trait inherits from the traits above it. The line under
the tree shows the highlighted trait's path and the organization unit that owns it.

**n** adds a trait below the highlighted one, **N** (shift+n) adds a root trait. **e** or
**Enter** renames or moves it, **Delete** deletes it (asks first). A trait that a service
requires cannot be deleted: the message names the services. **Space** folds or unfolds a
branch, **r** reloads.
"""

    def fields(self, record: models.Trait | None, tenant_id: int | None) -> list[FieldSpec]:
        traits = list(self.records.values())
        return trees.trait_fields(traits, self.units, record, tenant_id=tenant_id)

    def values(self, record: models.Trait | None, parent_id: int | None = None) -> dict[str, Any]:
        if record is not None:
            return trees.trait_values(record)
        # A new trait belongs where its parent does; a new root to the tenant's top unit.
        parent = self.records.get(parent_id) if parent_id is not None else None
        owners = self.fields(None, self.tenant_of(parent_id))[2].choices
        ou = parent.ou_id if parent is not None else (owners[0][0] if owners else None)
        return trees.trait_values(None, parent_id=parent_id, ou_id=ou)

    def request(
        self, record: models.Trait | None, changes: Mapping[str, Any], values: Mapping[str, Any]
    ) -> models.Request:
        return trees.trait_request(record, changes, values)

    def root_parent(self) -> tuple[int | None, str | None]:
        return None, None

    def detail_of(self, node: trees.TreeNode) -> list[Content]:
        trait = self.records.get(node.id)
        unit = trees.find(self.unit_roots, trait.ou_id if trait else None)
        if unit is None:
            return []
        return [Content("owned by ") + safe(unit.path, max_length=2 * LINE)]
