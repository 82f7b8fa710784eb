"""O365 sign-in as SVG snapshots: the button off and on by domain, and the device code."""

from __future__ import annotations

import threading
import types
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from pydantic import SecretStr
from textual.pilot import Pilot
from textual.widgets import Input

from stratus_tui.app import StratusApp
from stratus_tui.auth.o365 import DeviceCode, O365Cancelled
from stratus_tui.screens import device_code
from stratus_tui.screens.device_code import DeviceCodeScreen
from tests.conftest import CONTOSO_ADMIN, MEMBER
from tests.tui import PROFILE, settle

NOW = 1_795_000_000.0
IDP = "https://127.0.0.1:45123"


class ShownCode:
    """Stands in for ``O365SignIn`` on this screen only: a fixed code, a wait until cancelled
    (the real flow against msal and the identity provider is in tests/test_o365_*.py)."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()

    def start(self) -> DeviceCode:
        message = (
            f"To sign in, open {IDP}/device and enter the code KQ7M3XPDT. Or from a shell: "
            f"curl --cacert ~/.local/share/stratus-tui/idp/ca.pem -d code=KQ7M3XPDT "
            f"-d user=you@contoso.com {IDP}/device"
        )
        return DeviceCode(f"{IDP}/device", "KQ7M3XPDT", message, NOW + 900)

    def wait(self) -> SecretStr:
        self.cancelled.wait()
        raise O365Cancelled()

    def cancel(self) -> None:
        self.cancelled.set()


@pytest.fixture(autouse=True)
def _steady(steady_screen: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(device_code, "time", types.SimpleNamespace(time=lambda: NOW))


def typed(username: str) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        pilot.app.screen.query_one("#username", Input).value = username
        await pilot.pause()  # Input.Changed starts the debounced O365 check of the domain
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("username", [MEMBER, CONTOSO_ADMIN])
def test_the_o365_button_follows_the_domain(
    snap_compare: Any, make_app: Callable[..., StratusApp], username: str
) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=typed(username))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_the_device_code(
    snap_compare: Any, make_app: Callable[..., StratusApp], size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await typed(CONTOSO_ADMIN)(pilot)
        screen = DeviceCodeScreen(ShownCode())  # type: ignore[arg-type]
        pilot.app.push_screen(screen)
        for _ in range(100):
            await pilot.pause()
            if screen.code is not None:
                break

    app = make_app(replace(PROFILE, username=CONTOSO_ADMIN))
    assert snap_compare(app, terminal_size=size, run_before=run_before)
