"""O365 sign-in in the TUI, as a user does it: the button, the device code, approval, in."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

from stratus_tui.app import StratusApp
from stratus_tui.config.settings import Profile
from stratus_tui.screens.device_code import DeviceCodeScreen
from stratus_tui.screens.dialogs import ChoiceDialog
from stratus_tui.screens.login import LoginScreen
from stratus_tui.screens.main import MainScreen
from stratus_tui.server import db
from stratus_tui.widgets.action_button import ActionButton
from tests.conftest import CONTOSO_ADMIN, O365Tenant
from tests.fake_keyring import MemoryKeyring
from tests.tui import PROFILE, Clocks, message, settle, wait_for_screen


def trusting(o365: O365Tenant) -> Profile:
    """The test profile with the identity provider's CA as its CA bundle."""
    return replace(PROFILE, ca_bundle=o365.provider.ca_path)


def signed_out_saying(app: StratusApp, text: str) -> bool:
    return isinstance(app.screen, LoginScreen) and text in message(app)


async def until(pilot: Pilot[Any], condition: Callable[[], bool], tries: int = 300) -> None:
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.02)
        await pilot.pause()
    raise AssertionError("timed out")


async def press_o365(pilot: Pilot[Any], username: str) -> None:
    """Type the user name, wait until the server enabled the button, press it."""
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, LoginScreen)
    screen.query_one("#username", Input).value = username
    button = screen.query_one("#o365", ActionButton)
    await until(pilot, lambda: not button.disabled)
    button.press()


async def shown_code(pilot: Pilot[Any]) -> str:
    screen = await wait_for_screen(pilot, DeviceCodeScreen)
    await until(pilot, lambda: screen.code is not None)
    assert screen.code is not None
    return screen.code.user_code


async def test_the_device_code_signs_a_user_in(
    make_app: Callable[..., StratusApp], o365_contoso: O365Tenant
) -> None:
    app = make_app(trusting(o365_contoso))
    async with app.run_test(size=(100, 30)) as pilot:
        await press_o365(pilot, CONTOSO_ADMIN)
        code = await shown_code(pilot)
        shown = str(app.screen.query_one("#code", Static).render())
        assert shown == " ".join(code)  # spaced, to read out and type
        url = str(app.screen.query_one("#url", Static).render())
        assert url == f"{o365_contoso.provider.url}/device"
        await pilot.press("c")
        assert app.clipboard == code

        o365_contoso.provider.idp.approve(code, CONTOSO_ADMIN)
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert app.session is not None and app.session.o365
        assert app.session.user.upn == CONTOSO_ADMIN


async def test_escape_cancels_at_once(
    make_app: Callable[..., StratusApp], o365_contoso: O365Tenant
) -> None:
    app = make_app(trusting(o365_contoso))
    async with app.run_test(size=(100, 30)) as pilot:
        await press_o365(pilot, CONTOSO_ADMIN)
        code = await shown_code(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        await until(pilot, lambda: signed_out_saying(app, "cancelled"))
        await until(pilot, lambda: not app.screen.query_one("#o365", ActionButton).disabled)
        # Approving the old code now changes nothing: that sign-in is over.
        o365_contoso.provider.idp.approve(code, CONTOSO_ADMIN)
        await asyncio.sleep(1.5)
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen) and app.session is None


@pytest.mark.parametrize(
    ("approver", "said"),
    [
        ("nobody@contoso.com", "nobody@contoso.com signed in with Microsoft but has no Stratus"),
        ("norole@contoso.com", "no role that may sign in"),
    ],
)
async def test_a_microsoft_user_stratus_does_not_let_in_is_told_why(
    make_app: Callable[..., StratusApp], o365_contoso: O365Tenant, approver: str, said: str
) -> None:
    contoso = db.Tenant.get(db.Tenant.name == "Contoso")
    root = db.OrgUnit.get((db.OrgUnit.tenant == contoso) & db.OrgUnit.is_system)
    db.User.create(
        tenant=contoso, ou=root, first_name="No", last_name="Role", upn="norole@contoso.com",
        upn_key="norole@contoso.com", sip_uri="sip:norole@contoso.com",
    )  # fmt: skip
    app = make_app(trusting(o365_contoso))
    async with app.run_test(size=(100, 30)) as pilot:
        await press_o365(pilot, CONTOSO_ADMIN)
        code = await shown_code(pilot)
        o365_contoso.provider.idp.approve(code, approver)
        await until(pilot, lambda: signed_out_saying(app, said))
        assert app.session is None


async def test_declined_at_microsoft_is_said_on_the_sign_in_screen(
    make_app: Callable[..., StratusApp], o365_contoso: O365Tenant
) -> None:
    app = make_app(trusting(o365_contoso))
    async with app.run_test(size=(100, 30)) as pilot:
        await press_o365(pilot, CONTOSO_ADMIN)
        o365_contoso.provider.idp.decline(await shown_code(pilot))
        await until(pilot, lambda: signed_out_saying(app, "declined"))


async def test_a_kept_sign_in_starts_without_a_code_until_logged_out(
    make_app: Callable[..., StratusApp], o365_contoso: O365Tenant, memory_keyring: MemoryKeyring
) -> None:
    profile = replace(
        trusting(o365_contoso), username=CONTOSO_ADMIN, auth="o365", o365_cache="keyring"
    )
    first = make_app(profile)
    async with first.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: signed_out_saying(first, "Sign in with O365 to continue"))
        await press_o365(pilot, CONTOSO_ADMIN)
        o365_contoso.provider.idp.approve(await shown_code(pilot), CONTOSO_ADMIN)
        await until(pilot, lambda: isinstance(first.screen, MainScreen))
    assert memory_keyring.items  # kept for the next start

    later = make_app(profile)
    async with later.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(later.screen, MainScreen))  # no code, no keys
        later.action_logout()
        dialog = await wait_for_screen(pilot, ChoiceDialog)
        await pilot.pause()
        dialog.query_one("#keep", Button).press()
        await settle(pilot)
    assert memory_keyring.items == {}  # logging out forgot it


async def test_an_o365_session_expires_as_any_other_and_needs_no_new_code_after(
    make_app: Callable[..., StratusApp], o365_contoso: O365Tenant, clocks: Clocks
) -> None:
    app = make_app(trusting(o365_contoso))
    idp = o365_contoso.provider.idp
    async with app.run_test(size=(100, 30)) as pilot:
        await press_o365(pilot, CONTOSO_ADMIN)
        idp.approve(await shown_code(pilot), CONTOSO_ADMIN)
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        clocks.advance(540)
        app.check_session()
        await pilot.pause()
        clocks.advance(60)
        app.check_session()
        await settle(pilot)
        assert signed_out_saying(app, "10 minutes")
        await asyncio.sleep(0.5)
        await pilot.pause()
        assert app.session is None  # never signed in again by itself

        codes_before = set(idp.pending_codes())
        await press_o365(pilot, CONTOSO_ADMIN)  # the sign-in kept in memory: no code
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert set(idp.pending_codes()) <= codes_before
