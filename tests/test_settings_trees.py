"""The Settings page's org unit and trait trees as a tenant admin drives them, against the
reference server: what the tree shows, add root / add child, rename, move, deletes the server
allows and refuses, the hidden System root, hostile names, a stale version, read-only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from textual.pilot import Pilot
from textual.widgets import Button, ContentSwitcher, Input
from textual.widgets.tree import TreeNode

from stratus_tui.app import StratusApp
from stratus_tui.config.settings import Profile
from stratus_tui.records import trees
from stratus_tui.screens.dialogs import ChoiceDialog
from stratus_tui.screens.form import FormScreen
from stratus_tui.screens.pages.settings import START, SettingsPage
from stratus_tui.screens.pages.settings_trees import OrgUnitsSection, TraitsSection, TreeSection
from stratus_tui.server import db
from stratus_tui.server.routes.settings import trait_users
from tests.conftest import ADMIN, named
from tests.hostile import HOSTILE
from tests.tui import PROFILE, open_settings, settle, wait_for_screen

S = TypeVar("S", bound=TreeSection[Any])


async def open_section(pilot: Pilot[Any], section: str, kind: type[S]) -> S:
    """Sign in as the tenant admin, open Settings (6) and the section, focus its tree."""
    await open_settings(pilot, ADMIN, section)
    found = pilot.app.screen.query_one(kind)
    found.tree_view.focus()
    await pilot.pause()
    return found


def nodes(section: TreeSection[Any]) -> Iterator[TreeNode[int]]:
    stack = list(reversed(section.tree_view.root.children))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def labels(section: TreeSection[Any]) -> list[str]:
    return [str(node.label) for node in nodes(section)]


async def move_to(pilot: Pilot[Any], section: TreeSection[Any], record_id: int) -> None:
    section.tree_view.move_cursor(next(n for n in nodes(section) if n.data == record_id))
    await pilot.pause()


def screen_text(section: TreeSection[Any]) -> str:
    tree = section.tree_view
    lines = ("".join(s.text for s in tree.render_line(y)) for y in range(tree.size.height))
    return "\n".join(lines) + "\n" + str(section.query_one(".tree-detail").render())


async def fill_and_save(pilot: Pilot[Any], name: str | None = None, **choices: int) -> None:
    form = pilot.app.screen
    assert isinstance(form, FormScreen)
    if name is not None:
        form.fields["name"].query_one(Input).value = name
    for field, value in choices.items():
        form.fields[field].report(value)
    await pilot.pause()
    await pilot.press("ctrl+s")
    await settle(pilot)


async def confirm_delete(pilot: Pilot[Any]) -> None:
    await pilot.press("delete")
    await wait_for_screen(pilot, ChoiceDialog)
    pilot.app.screen.query_one("#yes", Button).press()
    await settle(pilot)


def tenant() -> int:
    return int(db.User.get(db.User.upn_key == ADMIN).tenant_id or 0)


def system_id() -> int:
    return int(db.OrgUnit.get((db.OrgUnit.tenant == tenant()) & db.OrgUnit.is_system).id)


def messages(app: StratusApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_the_tree_is_the_tenants_units_without_the_system_root(
    make_app: Callable[..., StratusApp],
) -> None:
    units = db.OrgUnit.select().where(db.OrgUnit.tenant == tenant())
    expected = sorted(unit.name for unit in units if not unit.is_system)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        section = await open_section(pilot, "org-units", OrgUnitsSection)
        assert sorted(labels(section)) == expected  # no System, nothing of Contoso
        assert "Contoso" not in labels(section) and "System" not in labels(section)
        assert all(node.is_expanded for node in nodes(section) if node.children)
        await move_to(pilot, section, named(db.OrgUnit, "Sales"))
        detail = str(section.query_one(".tree-detail").render())
        assert f"Demo Corp{trees.SEPARATOR}Sales" in detail and "inherits from Demo Corp" in detail


async def test_add_root_add_child_rename_and_move(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        section = await open_section(pilot, "org-units", OrgUnitsSection)
        await pilot.press("N")  # a root: a child of the hidden System unit
        await settle(pilot)
        await fill_and_save(pilot, "Legal")
        legal = db.OrgUnit.get(db.OrgUnit.name == "Legal")
        assert legal.parent_id == system_id() and legal.tenant_id == tenant()
        assert section.cursor_id() == legal.id and "Legal" in labels(section)

        await pilot.press("n")  # below the highlighted unit (the new one)
        await settle(pilot)
        await fill_and_save(pilot, "Contracts")
        contracts = db.OrgUnit.get(db.OrgUnit.name == "Contracts")
        assert contracts.parent_id == legal.id and section.cursor_id() == contracts.id

        sales = named(db.OrgUnit, "Sales")
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen) and form.etag == f'"{contracts.version}"'
        parents = dict(form.specs[1].choices)
        assert contracts.id not in parents and parents[system_id()] == trees.TOP_LEVEL
        await fill_and_save(pilot, "Agreements", parent_id=sales)  # rename and move at once
        moved = db.OrgUnit.get_by_id(contracts.id)
        assert (moved.name, moved.parent_id) == ("Agreements", sales)
        assert section.cursor_id() == contracts.id  # the cursor follows it
        node = trees.find(section.roots, contracts.id)
        assert node is not None and node.inherited == f"Demo Corp{trees.SEPARATOR}Sales"


async def test_delete_an_unused_unit_and_a_refused_one_in_use(
    make_app: Callable[..., StratusApp],
) -> None:
    unused = db.OrgUnit.create(tenant=tenant(), parent=named(db.OrgUnit, "Finance"), name="Spare")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        section = await open_section(pilot, "org-units", OrgUnitsSection)
        await move_to(pilot, section, unused.id)
        await confirm_delete(pilot)
        assert db.OrgUnit.get_or_none(db.OrgUnit.id == unused.id) is None
        assert "Spare" not in labels(section)
        assert section.cursor_id() == named(db.OrgUnit, "Finance")  # its parent

        sales = named(db.OrgUnit, "Sales")
        before = labels(section)
        await move_to(pilot, section, sales)
        await confirm_delete(pilot)
        assert db.OrgUnit.get_or_none(db.OrgUnit.id == sales) is not None
        refusal = next(m for m in messages(app) if "still used by" in m)
        assert "team" in refusal  # the server's words name what uses it
        assert labels(section) == before


async def test_the_system_root_cannot_be_changed(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        section = await open_section(pilot, "org-units", OrgUnitsSection)
        version = db.OrgUnit.get_by_id(system_id()).version
        section.open_form(system_id())
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)
        section.delete_node(system_id())
        await settle(pilot)
        assert not isinstance(app.screen, ChoiceDialog)
        assert messages(app).count(trees.SYSTEM_REFUSED) == 2
        assert db.OrgUnit.get_by_id(system_id()).version == version


async def test_traits_add_a_child_and_a_trait_a_service_uses_is_not_deleted(
    make_app: Callable[..., StratusApp],
) -> None:
    languages = db.Trait.get((db.Trait.name == "Languages") & (db.Trait.tenant == tenant()))
    german = db.Trait.get((db.Trait.name == "German") & (db.Trait.tenant == tenant()))
    services = trait_users(german.id)
    assert services  # the seed's Swiss and German hotlines ask for German
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        section = await open_section(pilot, "traits", TraitsSection)
        await move_to(pilot, section, languages.id)
        await pilot.press("n")
        await settle(pilot)
        await fill_and_save(pilot, "Romansh")
        added = db.Trait.get(db.Trait.name == "Romansh")
        assert (added.parent_id, added.ou_id) == (languages.id, languages.ou_id)
        assert section.cursor_id() == added.id
        assert "owned by Demo Corp" in str(section.query_one(".tree-detail").render())

        await move_to(pilot, section, german.id)
        await confirm_delete(pilot)
        assert db.Trait.get_or_none(db.Trait.id == german.id) is not None
        assert any(services[0] in m for m in messages(app))  # names the service
        assert "German" in labels(section)


async def test_hostile_names_render_literally(make_app: Callable[..., StratusApp]) -> None:
    for name, key in (("German", "click_action"), ("French", "csi_7bit")):
        row = db.Trait.get((db.Trait.name == name) & (db.Trait.tenant == tenant()))
        row.name = HOSTILE[key]
        row.save()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        section = await open_section(pilot, "traits", TraitsSection)
        clicky = db.Trait.get(db.Trait.name == HOSTILE["click_action"])
        await move_to(pilot, section, clicky.id)
        shown = screen_text(section)
        assert shown.count("[@click=app.quit]x[/]") == 2  # the tree and the path under it
        assert "\x1b" not in shown and "␛[2J" in shown
        await pilot.click(section.tree_view)
        assert app.is_running  # the click markup did nothing


async def test_a_stale_version_deletes_nothing_and_reloads(
    make_app: Callable[..., StratusApp],
) -> None:
    spare = db.OrgUnit.create(tenant=tenant(), parent=named(db.OrgUnit, "Finance"), name="Spare")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        section = await open_section(pilot, "org-units", OrgUnitsSection)
        spare.name, spare.version = "Spare & Co", spare.version + 1
        spare.save()  # someone else renamed it after the tree was loaded
        await move_to(pilot, section, spare.id)
        await confirm_delete(pilot)
        assert db.OrgUnit.get_or_none(db.OrgUnit.id == spare.id) is not None
        assert any("changed this organization unit meanwhile" in m for m in messages(app))
        assert "Spare & Co" in labels(section) and section.cursor_id() == spare.id


async def test_a_read_only_profile_sends_nothing(make_app: Callable[..., StratusApp]) -> None:
    read_only = Profile(name="lab", url=PROFILE.url, label_color="green", read_only=True)
    app = make_app(read_only)
    async with app.run_test(size=(120, 40)) as pilot:
        section = await open_section(pilot, "org-units", OrgUnitsSection)
        finance = named(db.OrgUnit, "Finance")
        await move_to(pilot, section, finance)
        count = db.OrgUnit.select().count()
        for key in ("n", "N", "delete"):
            await pilot.press(key)
            await settle(pilot)
            assert not isinstance(app.screen, (FormScreen, ChoiceDialog))
        assert sum("read-only" in m for m in messages(app)) == 3
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen) and form.read_only  # view only
        await fill_and_save(pilot, parent_id=system_id())  # the fields show, nothing changes
        assert db.OrgUnit.get_by_id(finance).parent_id != system_id()
        assert db.OrgUnit.select().count() == count


async def test_escape_goes_back_to_where_to_start(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_section(pilot, "traits", TraitsSection)
        await pilot.press("escape")
        await settle(pilot)
        page = app.screen.query_one(SettingsPage)
        assert page.query_one("#settings-sections", ContentSwitcher).current == START
