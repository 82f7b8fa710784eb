"""Two admins at once on one reference server: nothing either of them saved is lost.

Two real TUIs (two apps, two sessions, one in-process server database) edit the same agent
and the same service. The second save gets the conflict view with both versions; the
server's rows are checked after every step: the first admin's change is there, the second
admin's answer (edit on, reapply mine, take theirs) leaves exactly what they chose, and no
field of the first change is put back silently. A delete meeting an edit is said plainly and
recreates nothing. The scenes share one sign-in per TUI: signing in is the slow part. Last,
two TUIs of the same user and profile sync one cache at once.

The form and conflict screen as a unit are in test_form_screen.py; one admin against the
API in test_agents_page.py / test_services_page.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from peewee import Model
from playhouse.shortcuts import model_to_dict
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

from stratus_tui.api.client import StratusClient
from stratus_tui.app import StratusApp
from stratus_tui.cache.store import Cache
from stratus_tui.config.settings import Settings
from stratus_tui.records.editing import deleted_meanwhile
from stratus_tui.screens.conflict import ConflictScreen
from stratus_tui.screens.dialogs import ChoiceDialog
from stratus_tui.screens.form import SERVER_CHANGED, FormScreen
from stratus_tui.screens.pages.agents import AgentsPage
from stratus_tui.screens.pages.records_page import RecordsPage
from stratus_tui.screens.pages.reporting import ReportingPage
from stratus_tui.screens.pages.services import ServicesPage
from stratus_tui.server import db
from stratus_tui.server.clock import FakeClock
from stratus_tui.widgets.sync_status import SyncStatus
from stratus_tui.widgets.team_list import TeamList
from tests.cache_helpers import cache_ids, check_consistent, kept, server_rows
from tests.conftest import ADMIN, NOW, SYSADMIN, Login, named, user_id
from tests.tui import PROFILE, Clocks, open_page, settle, sign_in, wait_for_screen

Pilots = tuple[Pilot[Any], Pilot[Any]]


@contextlib.contextmanager
def driving(pilot: Pilot[Any]) -> Iterator[Pilot[Any]]:
    """Make ``pilot``'s app the active one while the test calls into it directly: Textual
    keeps the active app in a context variable, and the test task holds the last app
    started, so a worker started from here would otherwise belong to the other app."""
    with pilot.app._context():
        yield pilot


@contextlib.asynccontextmanager
async def two_tuis(make: Callable[[], StratusApp]) -> AsyncIterator[Pilots]:
    """Two apps side by side on the one server (each its own sign-in, session and client)."""
    first, second = make(), make()
    async with first.run_test(size=(120, 40)) as a, second.run_test(size=(120, 40)) as b:
        yield a, b
        # Quit as a user does. ``run_test`` alone tears the app down without ``App.exit``,
        # and the app's once-a-second session check, still ticking after the screens were
        # closed, then fails on the empty screen stack (seen once in a dozen runs here).
        for pilot in (b, a):
            with driving(pilot):
                await pilot.exit(None)


async def open_on(pilot: Pilot[Any], user: str, key: str, kind: type[RecordsPage[Any]]) -> Any:
    with driving(pilot):
        return await open_page(pilot, user, key, kind)


async def edit(pilot: Pilot[Any], page: RecordsPage[Any], record_id: int) -> FormScreen:
    with driving(pilot):
        assert page.table.move_cursor_to(record_id)
        await pilot.pause()
        await pilot.press("e")
        await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, FormScreen)
    return form


def type_into(pilot: Pilot[Any], form: FormScreen, name: str, text: str) -> None:
    """Set a text field's value as typing would (key presses are slow)."""
    with driving(pilot):
        form.fields[name].query_one(Input).value = text


def choose(pilot: Pilot[Any], form: FormScreen, name: str, value: Any) -> None:
    """Pick a choice field's value, as the user would."""
    with driving(pilot):
        form.fields[name].report(value)


async def save(pilot: Pilot[Any]) -> None:
    with driving(pilot):
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)


async def type_and_save(pilot: Pilot[Any], form: FormScreen, typed: dict[str, str]) -> None:
    for name, text in typed.items():
        type_into(pilot, form, name, text)
    await save(pilot)


@dataclass
class Scene:
    """The two TUIs on their pages, and the API for C, someone else."""

    a: Pilot[Any]
    b: Pilot[Any]
    page_a: Any
    page_b: Any
    client: httpx.AsyncClient
    login: Login

    async def meanwhile(self, path: str, change: Callable[[Any], Any]) -> None:
        """C (another session, through the API) changes ``path``: ``change`` makes the
        PATCH body from the current record."""
        headers = await self.login(ADMIN)
        current = await self.client.get(path, headers=headers)
        etag = current.headers["ETag"]
        answered = await self.client.patch(
            path, json=change(current.json()), headers={**headers, "If-Match": etag}
        )
        assert answered.status_code == 200, answered.text


async def answer(pilot: Pilot[Any], key: str) -> None:
    with driving(pilot):
        await pilot.press(key)
        await settle(pilot)


def row_of(
    model: type[Model], row_id: int, **links: tuple[type[Model], str, str]
) -> dict[str, Any]:
    """A row as the server's database holds it, with its link tables as sets."""
    row = model.get_by_id(row_id)
    found = model_to_dict(row, recurse=False, exclude=[getattr(model, "password_hash", None)])
    for name, (link, owner, value) in links.items():
        query = link.select(getattr(link, value)).where(getattr(link, owner) == row_id)
        found[name] = set(db.column(query))
    return found


def agent_row(agent_id: int) -> dict[str, Any]:
    return row_of(
        db.User,
        agent_id,
        roles=(db.UserRole, "user", "role"),
        teams=(db.TeamMember, "user", "team"),
        traits=(db.UserTrait, "user", "trait"),
    )


def service_row(service_id: int) -> dict[str, Any]:
    return row_of(db.Service, service_id, traits=(db.ServiceTrait, "service", "trait"))


def conflict_rows(screen: ConflictScreen) -> list[str]:
    return [
        " | ".join(str(cell.render()) for cell in row.query(Static)) for row in screen.query(".row")
    ][1:]  # the heading


def form_message(form: FormScreen) -> str:
    return str(form.query_one("#form-error", Static).render())


async def switch_to(pilot: Pilot[Any], key: str, kind: type[RecordsPage[Any]]) -> Any:
    with driving(pilot):
        await pilot.press(key)
        await settle(pilot)
        page = pilot.app.screen.query_one(kind)
        page.table.focus()
        await pilot.pause()
    return page


async def delete(pilot: Pilot[Any]) -> None:
    """Press delete on the highlighted row and confirm."""
    with driving(pilot):
        await pilot.press("delete")
        await wait_for_screen(pilot, ChoiceDialog)
        pilot.app.screen.query_one("#yes", Button).press()
        await settle(pilot)


async def test_two_admins_on_one_server_lose_nothing(
    make_app: Callable[..., StratusApp], client: httpx.AsyncClient, login: Login
) -> None:
    """A (tenant admin) and B (system admin), each in a TUI of their own; C, someone else,
    through the API. One session each, three scenes (signing in is the slow part)."""
    async with two_tuis(lambda: make_app(use_cache=False)) as (a, b):
        pages = (
            await open_on(a, ADMIN, "2", AgentsPage),
            await open_on(b, SYSADMIN, "2", AgentsPage),
        )
        await an_agent_edited_by_both(a, b, *pages)
        pages = await switch_to(a, "3", ServicesPage), await switch_to(b, "3", ServicesPage)
        scene = Scene(a, b, *pages, client, login)
        await a_service_edited_by_both(scene)
        await a_delete_meets_an_edit(scene)


async def an_agent_edited_by_both(
    a: Pilot[Any], b: Pilot[Any], page_a: AgentsPage, page_b: AgentsPage
) -> None:
    """Both open the agent; A saves first; B's save meets the conflict view and edits on."""
    target = user_id("member@demo.stratus")
    before = agent_row(target)
    form_a, form_b = await edit(a, page_a, target), await edit(b, page_b, target)
    changed_by_a = {"last_name": "Dubois-A", "sip_uri": "sip:amelie.a@demo.stratus"}
    await type_and_save(a, form_a, changed_by_a)
    first = agent_row(target)
    assert first == {**before, **changed_by_a, "version": before["version"] + 1}

    # Both changed the last name, differently.
    await type_and_save(b, form_b, {"first_name": "Bea", "last_name": "Dubois-B"})
    view = b.app.screen
    assert isinstance(view, ConflictScreen)
    assert agent_row(target) == first  # B's save wrote nothing
    assert conflict_rows(view) == [
        "First name | Amélie | (unchanged) | ● Bea",
        "⚠ Last name\nboth changed | Dubois | ● Dubois-A | ● Dubois-B",
        "SIP URI | sip:member@demo.stratus | ● sip:amelie.a@demo.stratus | (unchanged)",
    ]

    # Edit on: A's version in B's form, B's changes on top, A's fields marked.
    await answer(b, "e")
    assert b.app.screen is form_b
    assert form_b.etag == f'"{first["version"]}"'
    assert form_b.fields["sip_uri"].query_one(Input).value == "sip:amelie.a@demo.stratus"
    assert form_b.state.changes() == {"first_name": "Bea", "last_name": "Dubois-B"}
    note = form_b.fields["last_name"].query_one(".field-note", Static)
    assert str(note.render()) == f"{SERVER_CHANGED} (theirs: Dubois-A)"
    assert agent_row(target) == first
    await save(b)  # B saw theirs beside the last name and keeps their own
    assert not isinstance(b.app.screen, (FormScreen, ConflictScreen))
    chosen = {"first_name": "Bea", "last_name": "Dubois-B"}
    assert agent_row(target) == {**first, **chosen, "version": first["version"] + 1}
    assert agent_row(target)["sip_uri"] == "sip:amelie.a@demo.stratus"  # A's, kept


async def a_service_edited_by_both(scene: Scene) -> None:
    """A changes the round-robin level, B the direction, and B reapplies: the distribution
    policy is one object on the server, so B's request must be completed from A's version,
    not from the one B's form opened with (which put A's level back, silently). Then B takes
    theirs after C's change: nothing of B's is sent."""
    a, b, page_a, page_b = scene.a, scene.b, scene.page_a, scene.page_b
    target = named(db.Service, "Sales Switzerland Hotline")
    before = service_row(target)
    policy = ("weighted_round_robin", 6, "inbound")
    assert (before["priority"], before["wrr_level"], before["direction"]) == policy
    form_a, form_b = await edit(a, page_a, target), await edit(b, page_b, target)
    await type_and_save(a, form_a, {"wrr_level": "3", "display_name": "Sales CH (A)"})
    first = service_row(target)
    changed_by_a = {"wrr_level": 3, "display_name": "Sales CH (A)"}
    assert first == {**before, **changed_by_a, "version": before["version"] + 1}

    choose(b, form_b, "direction", "both")
    type_into(b, form_b, "max_concurrent_sessions", "42")
    await save(b)
    view = b.app.screen
    assert isinstance(view, ConflictScreen)
    assert service_row(target) == first
    assert len(conflict_rows(view)) == 4 and not view.conflict.clashes()
    await answer(b, "r")
    assert not isinstance(b.app.screen, (FormScreen, ConflictScreen))
    chosen = {"direction": "both", "max_concurrent_sessions": 42}
    second = {**first, **chosen, "version": first["version"] + 1}
    assert service_row(target) == second  # wrr_level 3: A's, kept

    # Take theirs: B opens it again, C changes it meanwhile; B's edit is dropped whole.
    form_b = await edit(b, page_b, target)
    await scene.meanwhile(
        f"/services/{target}",
        lambda current: {"distribution": {**current["distribution"], "wrr_level": 2}},
    )
    third = service_row(target)
    assert third == {**second, "wrr_level": 2, "version": second["version"] + 1}
    type_into(b, form_b, "display_name", "Sales CH (B)")
    await save(b)
    assert isinstance(b.app.screen, ConflictScreen)
    await answer(b, "t")
    assert not isinstance(b.app.screen, (FormScreen, ConflictScreen))
    assert service_row(target) == third
    assert page_b.records[target].distribution.wrr_level == 2  # B's list shows theirs


async def a_delete_meets_an_edit(scene: Scene) -> None:
    """Nothing is deleted or recreated silently: A's delete of a version C changed is
    refused; B's save of a service A deleted says so and creates nothing."""
    a, b, page_a, page_b = scene.a, scene.b, scene.page_a, scene.page_b
    target = named(db.Service, "Billing Mail")
    services_before = db.Service.select().count()
    form_b = await edit(b, page_b, target)
    type_into(b, form_b, "max_concurrent_sessions", "99")

    path = f"/services/{target}"
    await scene.meanwhile(path, lambda _: {"display_name": "Billing (C)"})
    edited = service_row(target)
    with driving(a):
        assert page_a.table.move_cursor_to(target)
    await delete(a)
    assert service_row(target) == edited
    assert any("changed by someone else" in n.message for n in a.app._notifications)
    assert page_a.records[target].display_name == "Billing (C)"  # reloaded
    assert page_a.table.cursor_id == target  # still on it: another delete means it

    # A deletes it (the current version now); B's save says so plainly, recreates nothing.
    await delete(a)
    assert db.Service.get_or_none(db.Service.id == target) is None
    await save(b)
    assert b.app.screen is form_b  # still open, with what B typed
    assert form_message(form_b) == "✗ " + deleted_meanwhile("service")
    assert form_b.state.changes() == {"max_concurrent_sessions": 99}
    assert db.Service.get_or_none(db.Service.id == target) is None
    assert db.Service.select().count() == services_before - 1  # not created again
    assert not db.Service.select().where(db.Service.name == "Billing Mail").exists()
    assert target not in page_b.table._order  # B's list drops it, as A's did


class GatedTransport(httpx.AsyncBaseTransport):
    """The in-process server, with every history page held until ``gate`` opens: the sync
    that got the cache's lock first keeps it until the other app is seen waiting for it."""

    def __init__(self, app: FastAPI, gate: asyncio.Event) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.gate = gate

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/conversations"):
            with contextlib.suppress(TimeoutError):  # the test says so if it never opened
                await asyncio.wait_for(self.gate.wait(), 30)
        return await self.inner.handle_async_request(request)


def sync_text(app: StratusApp) -> str:
    return str(app.screen.query_one(SyncStatus).query_one("#sync-text", Static).render())


async def test_two_tuis_of_one_user_sync_one_cache_at_once(
    make_app: Callable[..., StratusApp],  # binds the server to this test's database
    server_app: FastAPI,
    clock: FakeClock,
    clocks: Clocks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = asyncio.Event()
    waiting = SyncStatus.show_waiting

    def show_waiting(status: SyncStatus) -> None:
        gate.set()
        waiting(status)

    monkeypatch.setattr(SyncStatus, "show_waiting", show_waiting)

    def tui() -> StratusApp:
        return StratusApp(
            Settings(profiles={PROFILE.name: PROFILE}),
            PROFILE,
            client_factory=lambda profile: StratusClient(
                profile.url, transport=GatedTransport(server_app, gate)
            ),
            clock=clocks,
            wall_clock=lambda: float(clock.now()),
        )

    async with two_tuis(tui) as (a, b):
        first, second = a.app, b.app
        for pilot in (a, b):  # the second signs in while the first holds the sync lock
            with driving(pilot):
                await sign_in(pilot, ADMIN)
        for pilot in (a, b):
            with driving(pilot):
                await settle(pilot)
        assert gate.is_set(), "the two syncs did not meet"
        assert first.session is not None and second.session is not None
        path = first.session.cache.path  # type: ignore[union-attr]
        assert second.session.cache.path == path  # type: ignore[union-attr]
        for app in (first, second):
            assert sync_text(app).startswith("History as of"), sync_text(app)
            said = [sync_text(app), *(n.message for n in app._notifications)]
            assert not [line for line in said if "locked" in line or "busy" in line]
        figures = []
        for pilot in (a, b):
            with driving(pilot):
                await pilot.press("7")
                await settle(pilot)
            page = pilot.app.screen.query_one(ReportingPage)
            figures.append([(t.name, t.calls) for t in page.query_one(TeamList).teams])
        assert figures[0] == figures[1] and sum(calls for _, calls in figures[0]) > 0

    tenant = db.User.get(db.User.upn_key == ADMIN).tenant_id
    zones = {team.id: team.time_zone for team in db.Team.select()}
    expected = kept(server_rows("tenant_id = ?", [tenant]), zones.__getitem__, NOW)
    with Cache.open_path(path) as cache:
        ids = cache_ids(cache)
        assert len(ids) == len(set(ids)) and set(ids) == expected  # all, none twice
        check_consistent(cache)  # integrity_check ok, the figures equal the rows
