"""The Agents page as admins drive it, against the reference server: list, create, edit,
conflicts, delete, roles, read-only and protected profiles, expiry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Button, Input

from stratus_tui.app import StratusApp
from stratus_tui.config.settings import Profile
from stratus_tui.screens.confirm import TypeNameDialog
from stratus_tui.screens.conflict import ConflictScreen
from stratus_tui.screens.dialogs import ChoiceDialog
from stratus_tui.screens.form import FormScreen
from stratus_tui.screens.login import LoginScreen
from stratus_tui.screens.pages.agents import AgentsPage
from stratus_tui.server import db
from tests.conftest import ADMIN, TEAMADMIN, Login, user_id
from tests.hostile import HOSTILE
from tests.tui import PROFILE, Clocks, open_page, settle, wait_for_screen


async def open_agents(pilot: Pilot[Any], user: str = ADMIN) -> AgentsPage:
    return await open_page(pilot, user, "2", AgentsPage)


def row_names(page: AgentsPage) -> list[str]:
    table = page.table
    assert table.rowset is not None
    return [table.rowset.cells(row_id)[0] for row_id in table._order]


async def move_to(pilot: Pilot[Any], page: AgentsPage, upn: str) -> int:
    target = user_id(upn)
    assert page.table.move_cursor_to(target)
    await pilot.pause()
    return target


def type_into(form: FormScreen, name: str, text: str) -> None:
    form.fields[name].query_one(Input).value = text


async def save(pilot: Pilot[Any]) -> None:
    await pilot.press("ctrl+s")
    await settle(pilot)


async def test_the_list_is_the_tenants_agents_and_hostile_names_stay_literal(
    make_app: Callable[..., StratusApp],
) -> None:
    for upn, name in (("member@demo.stratus", "csi_7bit"), (TEAMADMIN, "click_action")):
        hostile = db.User.get(db.User.upn_key == upn)
        hostile.first_name, hostile.last_name = HOSTILE[name], "X"
        hostile.save()
    tenant = db.User.get(db.User.upn_key == ADMIN).tenant_id
    expected = db.User.select().where(db.User.tenant == tenant).count()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_agents(pilot)
        assert page.table.visible_count == expected
        await pilot.press("slash", *"X", "enter")  # the two hostile agents
        await pilot.pause()
        screen_text = "\n".join(
            "".join(segment.text for segment in page.table.render_line(y))
            for y in range(page.table.size.height)
        )
        assert "[@click=app.quit]x[/]" in screen_text
        assert "\x1b" not in screen_text and "␛[2J" in screen_text
        assert app.is_running  # the click markup did nothing


async def test_filter_and_sort_by_keyboard(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_agents(pilot)
        await pilot.press("slash", *"zoë")
        await pilot.pause()
        names = row_names(page)
        assert names and all("zoë" in " ".join(page.table.rowset.cells(i)).casefold()  # type: ignore[union-attr]
                              for i in page.table._order)  # fmt: skip
        await pilot.press("enter", "N")
        await pilot.pause()
        assert page.table.sort_key == "name" and not page.table.descending
        await pilot.press("N")
        await pilot.pause()
        assert page.table.descending
        assert row_names(page) == sorted(names, key=str.casefold, reverse=True)


async def test_a_burst_of_keys_after_slash_is_the_filters(
    make_app: Callable[..., StratusApp],
) -> None:
    """ "/Zoë" in one read (SSH, a paste): all of it is the filter's."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_agents(pilot)
        for character in "/Zoë":
            key = "slash" if character == "/" else character
            app.post_message(events.Key(key, character))  # queued together, as one read
        await settle(pilot)
        assert page.query_one("#records-filter", Input).value == "Zoë"
        assert row_names(page) and all(
            "zoë" in " ".join(page.table.rowset.cells(i)).casefold()  # type: ignore[union-attr]
            for i in page.table._order
        )


async def test_create_an_agent_by_keyboard_with_validation_first(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_agents(pilot)
        before = page.table.visible_count
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        await pilot.press(*"Ann")  # the first field has focus
        type_into(form, "last_name", "Lee")
        type_into(form, "upn", "ann.lee")  # not a mail address
        await pilot.pause()
        await save(pilot)
        assert isinstance(app.screen, FormScreen)  # refused: nothing sent
        assert "must be a mail address" in str(form.fields["upn"]._error.render())
        assert not db.User.select().where(db.User.upn_key == "ann.lee@demo.stratus").exists()
        type_into(form, "upn", "ann.lee@demo.stratus")
        ou = form.specs[[s.name for s in form.specs].index("ou_id")].choices[0][0]
        form.fields["ou_id"].report(ou)
        await pilot.pause()
        await save(pilot)
        assert app.screen is not form
        created = db.User.get(db.User.upn_key == "ann.lee@demo.stratus")
        assert (created.first_name, created.last_name) == ("Ann", "Lee")
        assert page.table.visible_count == before + 1
        assert page.table.cursor_id == created.id


async def test_an_edit_is_sent_with_if_match_and_shows_in_the_list(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_agents(pilot)
        target = await move_to(pilot, page, "member@demo.stratus")
        version = db.User.get_by_id(target).version
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen) and form.etag == f'"{version}"'
        type_into(form, "first_name", "Renamed")
        await pilot.pause()
        await save(pilot)
        assert db.User.get_by_id(target).first_name == "Renamed"
        assert page.table.rowset.cells(target)[0].startswith("Renamed")  # type: ignore[union-attr]


async def test_a_conflict_shows_their_change_and_reapplies_mine(
    make_app: Callable[..., StratusApp], client: httpx.AsyncClient, login: Login
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_agents(pilot)
        target = await move_to(pilot, page, "member@demo.stratus")
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        type_into(form, "first_name", "Mine")
        await pilot.pause()
        # Someone else changes the agent through the API meanwhile.
        headers = await login("sysadmin@demo.stratus")
        current = await client.get(f"/users/{target}", headers=headers)
        answer = await client.patch(
            f"/users/{target}",
            json={"last_name": "Theirs"},
            headers={**headers, "If-Match": current.headers["ETag"]},
        )
        assert answer.status_code == 200, answer.text
        await save(pilot)
        assert isinstance(app.screen, ConflictScreen)
        assert db.User.get_by_id(target).first_name != "Mine"  # nothing overwritten
        await pilot.press("r")
        await settle(pilot)
        row = db.User.get_by_id(target)
        assert (row.first_name, row.last_name) == ("Mine", "Theirs")
        assert not isinstance(app.screen, (FormScreen, ConflictScreen))


async def test_delete_asks_first(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_agents(pilot)
        target = await move_to(pilot, page, "member@demo.stratus")
        await pilot.press("delete")
        await wait_for_screen(pilot, ChoiceDialog)
        await pilot.press("escape")  # cancel: nothing happens
        await settle(pilot)
        assert db.User.get_or_none(db.User.id == target) is not None
        await pilot.press("delete")
        await wait_for_screen(pilot, ChoiceDialog)
        app.screen.query_one("#yes", Button).press()
        await settle(pilot)
        assert db.User.get_or_none(db.User.id == target) is None
        assert target not in page.table._order


async def test_opening_an_agent_deleted_meanwhile_says_so_and_drops_the_row(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_agents(pilot)
        target = await move_to(pilot, page, "member@demo.stratus")
        db.User.delete().where(db.User.id == target).execute()  # another admin, meanwhile
        await pilot.press("e")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)
        assert any("gone from the server" in n.message for n in app._notifications)
        assert target not in page.table._order and target not in page.records


async def test_a_protected_profile_wants_its_name_typed(
    make_app: Callable[..., StratusApp],
) -> None:
    protected = Profile(name="prod", url=PROFILE.url, label_color="red", protected=True)
    app = make_app(protected)
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_agents(pilot)
        target = await move_to(pilot, page, "member@demo.stratus")
        await pilot.press("delete")
        await wait_for_screen(pilot, ChoiceDialog)
        app.screen.query_one("#yes", Button).press()
        await wait_for_screen(pilot, TypeNameDialog)
        await pilot.press(*"lab", "enter")  # not the name
        await pilot.pause()
        assert isinstance(app.screen, TypeNameDialog)
        app.screen.query_one(Input).value = "prod"
        await pilot.press("enter")
        await settle(pilot)
        assert db.User.get_or_none(db.User.id == target) is None


async def test_a_read_only_profile_sends_nothing(make_app: Callable[..., StratusApp]) -> None:
    read_only = Profile(name="lab", url=PROFILE.url, label_color="green", read_only=True)
    app = make_app(read_only)
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_agents(pilot)
        target = await move_to(pilot, page, "member@demo.stratus")
        before = db.User.get_by_id(target).version
        for key in ("delete", "a", "n"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen.query_one(AgentsPage) is page  # no dialog, no form
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen) and form.read_only  # view only
        await save(pilot)
        assert db.User.get_by_id(target).version == before
        assert any("read-only" in n.message for n in app._notifications)


async def test_team_admin_limits(make_app: Callable[..., StratusApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_agents(pilot, TEAMADMIN)
        managed = {m.team_id for m in db.TeamManager.select().where(
            db.TeamManager.user == user_id(TEAMADMIN))}  # fmt: skip
        members = {m.user_id for m in db.TeamMember.select().where(
            db.TeamMember.team.in_(sorted(managed)))}  # fmt: skip
        assert set(page.table._order) == members
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)
        assert any("may not add" in n.message for n in app._notifications)
        agent = next(i for i in sorted(members) if i != user_id(TEAMADMIN))
        before = {m.team_id for m in db.TeamMember.select().where(db.TeamMember.user == agent)}
        page.table.move_cursor_to(agent)
        await pilot.press("delete")
        await settle(pilot)
        assert not isinstance(app.screen, ChoiceDialog)
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.specs[0].read_only  # names are not theirs to change
        teams = form.fields["team_ids"]
        removed = next(t for t in teams.value if t in managed)
        teams.report(tuple(t for t in teams.value if t != removed))
        await pilot.pause()
        await save(pilot)
        after = {m.team_id for m in db.TeamMember.select().where(db.TeamMember.user == agent)}
        assert removed not in after
        assert before - {removed} == after  # teams they do not manage stay


async def test_expiry_discards_an_open_edit(
    make_app: Callable[..., StratusApp], clocks: Clocks
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_agents(pilot)
        target = await move_to(pilot, page, "member@demo.stratus")
        await pilot.press("e")
        await settle(pilot)
        type_into(app.screen, "first_name", "Unsaved")  # type: ignore[arg-type]
        await pilot.pause()
        clocks.advance(601)
        app.check_session()
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert db.User.get_by_id(target).first_name != "Unsaved"


@pytest.mark.parametrize("size", [(80, 24)])
async def test_the_page_fits_a_small_terminal(
    make_app: Callable[..., StratusApp], size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        page = await open_agents(pilot)
        assert page.table.size.width >= 40
        detail = page.query_one("#records-detail")
        assert detail.has_class("-hidden")
        await pilot.press("i")
        assert not detail.has_class("-hidden")


async def test_deactivate_shows_at_once_and_rolls_back_when_refused(
    make_app: Callable[..., StratusApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_agents(pilot)
        active = [c.key for c in page.KIND.columns].index("active")
        target = await move_to(pilot, page, "member@demo.stratus")
        await pilot.press("a")
        await settle(pilot)
        assert db.User.get_by_id(target).active is False
        assert page.table.rowset.cells(target)[active] == "no"  # type: ignore[union-attr]
        own = await move_to(pilot, page, ADMIN)  # the server refuses this one
        await pilot.press("a")
        await settle(pilot)
        assert db.User.get_by_id(own).active is True
        assert page.table.rowset.cells(own)[active] == "yes"  # type: ignore[union-attr]
        assert any("cannot deactivate your own" in n.message for n in app._notifications)
