"""Org units and traits as trees (no UI, no server): building, paths, choices, requests."""

from __future__ import annotations

import pytest

from stratus_tui.api import models
from stratus_tui.records import trees
from stratus_tui.records.forms import FormState
from stratus_tui.records.requests import RequestRefused

SEP = trees.SEPARATOR


def unit(
    id: int, parent: int | None, name: str, *, system: bool = False, tenant: int = 1
) -> models.OrgUnit:
    return models.OrgUnit(
        id=id, tenant_id=tenant, parent_id=parent, name=name, is_system=system, version=3
    )


def trait(id: int, parent: int | None, name: str, ou: int = 2) -> models.Trait:
    return models.Trait(id=id, tenant_id=1, ou_id=ou, parent_id=parent, name=name, version=2)


UNITS = [
    unit(1, None, "System", system=True),
    unit(2, 1, "Demo Corp"),
    unit(3, 2, "Sales"),
    unit(4, 3, "Switzerland"),
    unit(5, 2, "Finance"),
    unit(9, None, "System", system=True, tenant=2),
    unit(10, 9, "Contoso", tenant=2),
]


def shape(roots: list[trees.TreeNode]) -> list[tuple[str, str]]:
    return [(node.path, node.inherited) for node in trees.walk(roots)]


def test_the_system_root_is_hidden_and_its_children_are_the_roots() -> None:
    roots = trees.build_tree(UNITS[:5])
    assert [node.name for node in roots] == ["Demo Corp"]
    assert shape(roots) == [
        ("Demo Corp", ""),
        (f"Demo Corp{SEP}Finance", "Demo Corp"),  # children in name order
        (f"Demo Corp{SEP}Sales", "Demo Corp"),
        (f"Demo Corp{SEP}Sales{SEP}Switzerland", f"Demo Corp{SEP}Sales"),
    ]
    shown = trees.build_tree(UNITS[:5], hide_system=False)
    assert [(node.name, node.is_system) for node in shown] == [("System", True)]
    assert trees.find(shown, 3).path == f"System{SEP}Demo Corp{SEP}Sales"  # type: ignore[union-attr]


def test_a_missing_parent_or_a_cycle_shows_at_the_root_and_never_loops() -> None:
    items = [
        trait(1, None, "Languages"),
        trait(2, 1, "German"),
        trait(3, 99, "Orphan"),  # its parent is not in the list
        trait(4, 5, "Ping"),  # 4 -> 5 -> 4
        trait(5, 4, "Pong"),
        trait(6, 6, "Self"),  # its own parent
        trait(7, 5, "Below the cycle"),
    ]
    roots = trees.build_tree(items)
    assert sorted(node.id for node in trees.walk(roots)) == [1, 2, 3, 4, 5, 6, 7]  # each once
    by_id = {node.id: node for node in trees.walk(roots)}
    assert {node.id for node in roots} == {1, 3, 4, 6}
    assert by_id[3].detached and by_id[4].detached and by_id[6].detached
    assert not by_id[5].detached and by_id[5].inherited == "Ping"
    assert by_id[7].path == f"Ping{SEP}Pong{SEP}Below the cycle"


def test_a_very_deep_tree_does_not_exhaust_the_recursion_limit() -> None:
    chain = [trait(1, None, "0")] + [trait(i, i - 1, str(i)) for i in range(2, 5001)]
    roots = trees.build_tree(chain)
    assert len(list(trees.walk(roots))) == 5000
    assert len(trees.choices(roots, exclude=2)) == 1


def test_the_parent_choice_leaves_out_the_unit_and_what_lies_below_it() -> None:
    specs = trees.org_unit_fields(UNITS, UNITS[2], tenant_id=1)  # Sales
    parent = next(spec for spec in specs if spec.name == "parent_id")
    assert parent.required
    assert parent.choices == (
        (1, trees.TOP_LEVEL),  # the hidden System root: "add root"
        (2, "Demo Corp"),
        (5, f"Demo Corp{SEP}Finance"),
    )  # no Sales, no Switzerland, nothing of Contoso
    new = trees.org_unit_fields(UNITS, None, tenant_id=1)
    assert [v for v, _ in new[1].choices] == [1, 2, 5, 3, 4]


def test_system_root_and_refusal() -> None:
    assert trees.system_root(UNITS, 1) == 1
    assert trees.system_root(UNITS, 2) == 9
    assert trees.system_root(UNITS, None) is None  # two tenants: which one is not known
    assert trees.system_root(UNITS[:5], None) == 1
    assert trees.refuse_change(UNITS[0]) == trees.SYSTEM_REFUSED
    assert trees.refuse_change(UNITS[1]) is None


def test_org_unit_requests() -> None:
    values = trees.org_unit_values(None, parent_id=1)
    assert values == {"name": "", "parent_id": 1}
    created = trees.org_unit_request(None, {"name": "Legal"}, {**values, "name": " Legal "})
    assert created == models.OrgUnitCreate(name="Legal", parent_id=1)
    state = FormState(trees.org_unit_fields(UNITS, UNITS[2], tenant_id=1),
                      trees.org_unit_values(UNITS[2]))  # fmt: skip
    state.set("parent_id", 5)
    update = trees.org_unit_request(UNITS[2], state.changes(), state.normalised())
    assert update.model_dump(exclude_unset=True) == {"parent_id": 5}
    with pytest.raises(RequestRefused) as refused:
        trees.org_unit_request(None, {}, {"name": "", "parent_id": 1})
    assert "name" in refused.value.field_errors


def test_trait_fields_and_requests() -> None:
    items = [trait(1, None, "Languages"), trait(2, 1, "German"), trait(3, None, "Skills")]
    specs = trees.trait_fields(items, UNITS, items[0], tenant_id=1)
    names = {spec.name: spec for spec in specs}
    assert names["parent_id"].choices == ((3, "Skills"),)  # not itself, not German
    assert not names["parent_id"].required  # none: a root trait
    owners = [label for _, label in names["ou_id"].choices]
    assert owners[:2] == ["Demo Corp", f"Demo Corp{SEP}Finance"]  # no System, no Contoso
    assert len(owners) == 4
    assert trees.trait_values(None, parent_id=1, ou_id=2) == {
        "name": "", "parent_id": 1, "ou_id": 2}  # fmt: skip
    created = trees.trait_request(None, {}, {"name": "Italian", "parent_id": 1, "ou_id": 2})
    assert created == models.TraitCreate(name="Italian", parent_id=1, ou_id=2)
    to_root = trees.trait_request(items[1], {"parent_id": None}, {})
    assert to_root.model_dump(exclude_unset=True) == {"parent_id": None}  # sent as null


def test_kinds_keep_nothing_as_listing_rows() -> None:
    assert trees.OU_KIND.path == "/org-units" and trees.TRAIT_KIND.path == "/traits"
    assert trees.OU_KIND.kind == "org_unit" and trees.TRAIT_KIND.kind == "trait"  # the
    # reference cache's kinds: what the trees load keeps the agent form's choices current
    assert trees.OU_KIND.cells(UNITS[1], None) == ()  # type: ignore[arg-type]
