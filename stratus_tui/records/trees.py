"""Organization units and traits as trees: plain data for the Settings page's tree sections.

Both are trees whose children inherit from their parents (DOMAIN.md), so what an admin needs
to see is where an item sits: its path (the names from the root down, joined by a single
right-pointing angle quote), which is what it inherits from.

- ``build_tree`` turns the server's flat list into roots with children. The server keeps the
  tree sound, but the client must not trust it to: an item whose parent is missing, or that
  sits in a cycle, is shown at the root (marked ``detached``) instead of looping or vanishing.
  Every tenant's ``System`` org unit is hidden, as in the product: its children are shown as
  roots, and "add root" creates a child of it.
- The forms: a name and a parent, the parent chosen among everything except the item itself
  and what lies below it (the server refuses a move below itself; the form does not offer it).
  A trait also names the org unit that owns it.
- The requests, through ``records.requests.build`` so pydantic's complaints land at a field.

No Textual here: ``screens/pages/settings_trees.py`` draws it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from stratus_tui.api import models, validation
from stratus_tui.records.editing import RecordKind
from stratus_tui.records.forms import FieldSpec
from stratus_tui.records.requests import build
from stratus_tui.records.rows import Lookups

SEPARATOR = " \u203a "  # reads as a path; a plain ">" could be in a name
TOP_LEVEL = "(top level)"  # the hidden System root, as a parent choice
SYSTEM_REFUSED = "The System organization unit is the hidden root: it cannot be changed."


def _no_cells(record: Any, lookups: Lookups) -> tuple[str, ...]:
    return ()  # trees are not lists: nothing is cached as listing rows


OU_KIND: RecordKind[models.OrgUnit] = RecordKind(
    "org_unit", "/org-units", models.OrgUnit, "organization unit", (), _no_cells
)
TRAIT_KIND: RecordKind[models.Trait] = RecordKind(
    "trait", "/traits", models.Trait, "trait", (), _no_cells
)


class TreeItem(Protocol):
    """What ``build_tree`` reads of a record (an ``OrgUnit`` or a ``Trait``)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def parent_id(self) -> int | None: ...


@dataclass
class TreeNode:
    id: int
    name: str
    parent_id: int | None
    children: list[TreeNode] = field(default_factory=list)
    is_system: bool = False
    inherited: str = ""  # the ancestors' path, root first, joined by SEPARATOR; "" at a root
    detached: bool = False  # at the root only because its parent is missing or in a cycle

    @property
    def path(self) -> str:
        return f"{self.inherited}{SEPARATOR}{self.name}" if self.inherited else self.name


def _order(node: TreeNode) -> tuple[str, int]:
    return node.name.casefold(), node.id


def build_tree(items: Iterable[TreeItem], *, hide_system: bool = True) -> list[TreeNode]:
    """The roots, children in name order; every item appears exactly once.

    Iterative throughout: a very deep (or hostile) answer cannot exhaust the recursion limit.
    """
    nodes: dict[int, TreeNode] = {}
    for item in items:
        system = bool(getattr(item, "is_system", False))
        nodes[item.id] = TreeNode(item.id, item.name, item.parent_id, is_system=system)
    roots: list[TreeNode] = []
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id is not None else None
        if parent is None or parent is node:
            node.detached = node.parent_id is not None
            roots.append(node)
        else:
            parent.children.append(node)
    placed: set[int] = set()
    shown = _place(roots, placed, hide_system)
    # What was not reached from a root sits in a cycle (or below one): cut each cycle at its
    # lowest id and show that item at the root.
    for node_id in sorted(nodes):
        if node_id in placed:
            continue
        node = nodes[node_id]
        parent = nodes[node.parent_id] if node.parent_id is not None else None
        if parent is not None and node in parent.children:
            parent.children.remove(node)
        node.detached = True
        shown += _place([node], placed, hide_system)
    return sorted(shown, key=_order)


def _place(roots: list[TreeNode], placed: set[int], hide_system: bool) -> list[TreeNode]:
    """Walk down from ``roots`` setting each node's inherited path; the roots to show."""
    shown: list[TreeNode] = []
    stack: list[tuple[TreeNode, str, bool]] = [(root, "", True) for root in roots]
    while stack:
        node, inherited, at_root = stack.pop()
        if node.id in placed:  # reached twice: only through a cycle; keep the first place
            continue
        placed.add(node.id)
        node.children.sort(key=_order)
        hidden = hide_system and node.is_system and at_root
        if not hidden:
            node.inherited = inherited
            if at_root:
                shown.append(node)
        below = inherited if hidden else node.path
        stack.extend((child, below, hidden) for child in reversed(node.children))
    return shown


def walk(roots: Iterable[TreeNode]) -> Iterator[TreeNode]:
    """Every node, each before its children, in the order the tree shows them."""
    stack = list(reversed(list(roots)))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def subtree_ids(node: TreeNode) -> set[int]:
    """The node and everything below it."""
    return {item.id for item in walk([node])}


def find(roots: Iterable[TreeNode], node_id: int | None) -> TreeNode | None:
    return next((node for node in walk(roots) if node.id == node_id), None)


def system_root(units: Iterable[models.OrgUnit], tenant_id: int | None) -> int | None:
    """The System unit of ``tenant_id`` (None: the only one there is): "add root" adds below it."""
    systems = [unit for unit in units if unit.is_system]
    if tenant_id is not None:
        systems = [unit for unit in systems if unit.tenant_id == tenant_id]
    return systems[0].id if len(systems) == 1 else None


def refuse_change(unit: models.OrgUnit | None) -> str | None:
    """Why this unit cannot be renamed, moved or deleted (the server refuses it too)."""
    return SYSTEM_REFUSED if unit is not None and unit.is_system else None


def choices(roots: Iterable[TreeNode], exclude: int | None = None) -> tuple[tuple[int, str], ...]:
    """Every node as (id, path), in tree order, without ``exclude`` and what lies below it."""
    roots = list(roots)
    excluded = find(roots, exclude)
    left_out = subtree_ids(excluded) if excluded is not None else set()
    return tuple((node.id, node.path) for node in walk(roots) if node.id not in left_out)


def _name_check(value: Any) -> str | None:
    return validation.unstorable_text_error(value) if isinstance(value, str) else None


def _same_tenant(items: Iterable[Any], tenant_id: int | None) -> list[Any]:
    return [item for item in items if tenant_id is None or item.tenant_id == tenant_id]


# --- organization units -------------------------------------------------------------------


def org_unit_fields(
    units: Sequence[models.OrgUnit], unit: models.OrgUnit | None, *, tenant_id: int | None
) -> list[FieldSpec]:
    """Name and parent; the parent is any unit of the tenant but ``unit`` and its subtree,
    or the top level (the hidden System root)."""
    own = _same_tenant(units, tenant_id)
    system = system_root(own, tenant_id)
    top = ((system, TOP_LEVEL),) if system is not None else ()
    parents = top + choices(build_tree(own), unit.id if unit is not None else None)
    return [
        FieldSpec("name", "Name", "text", required=True, check=_name_check),
        FieldSpec("parent_id", "Parent", "choice", required=True, choices=parents,
                  help="A unit inherits from the units above it."),
    ]  # fmt: skip


def org_unit_values(unit: models.OrgUnit | None, *, parent_id: int | None = None) -> dict[str, Any]:
    """A form's starting values: the unit's, or a new unit's below ``parent_id``."""
    if unit is None:
        return {"name": "", "parent_id": parent_id}
    return {"name": unit.name, "parent_id": unit.parent_id}


def org_unit_request(
    unit: models.OrgUnit | None, changes: Mapping[str, Any], values: Mapping[str, Any]
) -> models.OrgUnitCreate | models.OrgUnitUpdate:
    if unit is None:
        return build(models.OrgUnitCreate, {k: values.get(k) for k in ("name", "parent_id")})
    return build(models.OrgUnitUpdate, changes)


# --- traits ----------------------------------------------------------------------------------


def trait_fields(
    traits: Sequence[models.Trait],
    units: Sequence[models.OrgUnit],
    trait: models.Trait | None,
    *,
    tenant_id: int | None,
) -> list[FieldSpec]:
    """Name, parent trait (none: a root) and the org unit that owns the trait."""
    parents = choices(build_tree(_same_tenant(traits, tenant_id)), trait.id if trait else None)
    owners = choices(build_tree(_same_tenant(units, tenant_id)))
    return [
        FieldSpec("name", "Name", "text", required=True, check=_name_check),
        FieldSpec("parent_id", "Parent trait", "choice", choices=parents,
                  help="None: a root trait. A trait inherits from the traits above it."),
        FieldSpec("ou_id", "Organization unit", "choice", required=True, choices=owners),
    ]  # fmt: skip


def trait_values(
    trait: models.Trait | None, *, parent_id: int | None = None, ou_id: int | None = None
) -> dict[str, Any]:
    if trait is None:
        return {"name": "", "parent_id": parent_id, "ou_id": ou_id}
    return {"name": trait.name, "parent_id": trait.parent_id, "ou_id": trait.ou_id}


def trait_request(
    trait: models.Trait | None, changes: Mapping[str, Any], values: Mapping[str, Any]
) -> models.TraitCreate | models.TraitUpdate:
    if trait is None:
        return build(models.TraitCreate, {k: values.get(k) for k in ("name", "ou_id", "parent_id")})
    return build(models.TraitUpdate, changes)  # parent_id None: it becomes a root trait
