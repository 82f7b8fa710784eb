"""The real msal device-code flow against the local identity provider over loopback HTTPS.

No mocks: msal talks to the provider through ``MsalHttp`` (httpx) with the provider's CA,
and the token it gets is exchanged at the in-process reference server.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from stratus_tui.api import models
from stratus_tui.auth.o365 import O365Cancelled, O365Failed, O365SignIn
from stratus_tui.auth.token_store import KeyringStore, MemoryStore, TokenStore
from tests.conftest import CONTOSO_ADMIN, O365Tenant
from tests.fake_keyring import MemoryKeyring

_stores = itertools.count()


def signer(o365: O365Tenant, store: TokenStore | None = None) -> O365SignIn:
    config = models.O365Config(
        domain=o365.domain, enabled=True, authority=o365.authority, client_id=o365.client_id
    )
    store = store or MemoryStore(f"test-{next(_stores)}")  # a fresh, empty one
    return O365SignIn(config, store, ca_bundle=o365.provider.ca_path)


def later(seconds: float, action: object, *args: object) -> threading.Timer:
    timer = threading.Timer(seconds, action, args)  # type: ignore[arg-type]
    timer.start()
    return timer


async def exchange(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/auth/o365", json={"access_token": token})


async def test_pending_then_approved_signs_in_to_stratus(
    o365_contoso: O365Tenant, client: httpx.AsyncClient
) -> None:
    sign = signer(o365_contoso)
    code = await asyncio.to_thread(sign.start)
    assert code.verification_uri == f"{o365_contoso.provider.url}/device"
    assert code.user_code in code.message and "curl" in code.message
    assert code.expires_at > time.time() + 30
    # Approved after more than one polling interval: the first polls get "pending".
    timer = later(1.5, o365_contoso.provider.idp.approve, code.user_code, CONTOSO_ADMIN)
    started = time.monotonic()
    token = await asyncio.to_thread(sign.wait)
    timer.join()
    assert 1.5 <= time.monotonic() - started < 4
    assert "eyJ" not in repr(token)  # masked

    answer = await exchange(client, token.get_secret_value())
    assert answer.status_code == 200, answer.text
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {answer.json()['token']}"})
    assert me.json()["upn"] == CONTOSO_ADMIN and me.json()["tenant_name"] == "Contoso"
    sign.close()


@pytest.mark.parametrize(
    ("decide", "message"),
    [
        ("expire", "The code expired before it was used"),
        ("decline", "The sign-in was declined at Microsoft"),
        ("block", "Conditional Access policy blocked this sign-in: AADSTS53003"),
    ],
)
async def test_a_code_that_is_not_approved_says_why(
    o365_contoso: O365Tenant, decide: str, message: str
) -> None:
    sign = signer(o365_contoso)
    code = await asyncio.to_thread(sign.start)
    getattr(o365_contoso.provider.idp, decide)(code.user_code)
    with pytest.raises(O365Failed, match=message):
        await asyncio.to_thread(sign.wait)


async def test_cancel_ends_the_wait_within_a_second(o365_contoso: O365Tenant) -> None:
    sign = signer(o365_contoso)
    await asyncio.to_thread(sign.start)
    waiting = asyncio.create_task(asyncio.to_thread(sign.wait))
    await asyncio.sleep(1.2)  # polling, between two polls
    cancelled = time.monotonic()
    sign.cancel()
    with pytest.raises(O365Cancelled):
        await waiting
    assert time.monotonic() - cancelled < 1.0


async def test_an_unreachable_provider_is_a_clear_message(o365_contoso: O365Tenant) -> None:
    config = models.O365Config(
        domain="contoso.com",
        enabled=True,
        authority="https://127.0.0.1:9/00000000-0000-0000-0000-000000000000",
        client_id=o365_contoso.client_id,
    )
    sign = O365SignIn(config, MemoryStore("unreachable"))
    with pytest.raises(O365Failed, match="Cannot reach the O365 sign-in service https://127"):
        await asyncio.to_thread(sign.start)


async def test_an_untrusted_provider_certificate_is_refused(o365_contoso: O365Tenant) -> None:
    config = models.O365Config(
        domain="contoso.com",
        enabled=True,
        authority=o365_contoso.authority,
        client_id=o365_contoso.client_id,
    )
    sign = O365SignIn(config, MemoryStore("untrusted"))  # no CA bundle: the system's only
    with pytest.raises(
        O365Failed,
        match=r"is not trusted \(a profile's ca_bundle adds a CA\): .*CERTIFICATE_VERIFY_FAILED",
    ):
        await asyncio.to_thread(sign.start)


async def test_a_kept_sign_in_refreshes_silently_on_a_later_start(
    o365_contoso: O365Tenant, client: httpx.AsyncClient, memory_keyring: MemoryKeyring
) -> None:
    first = signer(o365_contoso, KeyringStore("contoso"))
    code = await asyncio.to_thread(first.start)
    o365_contoso.provider.idp.approve(code.user_code, CONTOSO_ADMIN)
    token = await asyncio.to_thread(first.wait)
    assert first.warning is None
    [(service, account)] = memory_keyring.items
    assert (service, account) == ("stratus-tui", "o365:contoso")
    assert "RefreshToken" in memory_keyring.items[(service, account)]

    # A later start, after the hour the access token lasts: only the refresh token is left.
    kept = json.loads(memory_keyring.items[(service, account)])
    kept["AccessToken"] = {}
    memory_keyring.items[(service, account)] = json.dumps(kept)
    # A new msal application over what the keyring kept: a refresh grant, no device code.
    later_start = signer(o365_contoso, KeyringStore("contoso"))
    pending_before = o365_contoso.provider.idp.pending_codes()
    again = await asyncio.to_thread(later_start.silent, CONTOSO_ADMIN)
    assert again is not None and again.get_secret_value() != token.get_secret_value()
    assert set(o365_contoso.provider.idp.pending_codes()) <= set(pending_before)
    answer = await exchange(client, again.get_secret_value())
    assert answer.status_code == 200, answer.text
    rotated = json.loads(memory_keyring.items[(service, account)])
    assert rotated["RefreshToken"] != kept["RefreshToken"]  # the new one is kept

    assert await asyncio.to_thread(later_start.silent, "someone.else@contoso.com") is None


async def test_nothing_is_written_to_disk_by_default(
    o365_contoso: O365Tenant, tmp_path: Path
) -> None:
    sign = signer(o365_contoso)
    code = await asyncio.to_thread(sign.start)
    o365_contoso.provider.idp.approve(code.user_code, CONTOSO_ADMIN)
    await asyncio.to_thread(sign.wait)
    assert sign.store.load() is not None  # kept in memory, for this process
    xdg = [tmp_path / name for name in ("xdg_config_home", "xdg_data_home", "xdg_state_home")]
    written = [path for folder in xdg if folder.exists() for path in folder.rglob("*")]
    assert [path for path in written if path.is_file()] == []
