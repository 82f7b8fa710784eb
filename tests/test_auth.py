"""Sign-in, sessions with idle and absolute expiry, throttling, and the O365 domain check."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from fastapi import FastAPI

from stratus_tui.server import db
from stratus_tui.server.app import server_context
from stratus_tui.server.clock import FakeClock
from stratus_tui.server.seed import DEMO_PASSWORD
from stratus_tui.server.sessions import SessionPolicy
from tests.conftest import ADMIN, CONTOSO_ADMIN, MEMBER, SYSADMIN, TEAMADMIN, Login, named, user_id


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str = DEMO_PASSWORD
) -> httpx.Response:
    return await client.post("/auth/login", json={"username": username, "password": password})


def bearer(answer: httpx.Response) -> dict[str, str]:
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def test_login_returns_a_session_with_the_user_and_their_scope(
    client: httpx.AsyncClient,
) -> None:
    answer = await sign_in(client, TEAMADMIN)
    assert answer.status_code == 200
    session = answer.json()
    assert session["idle_timeout_seconds"] == 600
    user = session["user"]
    assert (user["first_name"], user["last_name"]) == ("Łukasz", "Kowalski")
    assert user["role"] == "team_admin"
    assert user["tenant_name"] == "Demo Corp"
    assert sorted(user["team_ids"]) == sorted(
        [named(db.Team, "Support L1"), named(db.Team, "Support L2")]
    )
    assert user["live_chat_enabled"] is True


async def test_user_names_are_case_insensitive(client: httpx.AsyncClient) -> None:
    assert (await sign_in(client, "Admin@Demo.Stratus")).status_code == 200


@pytest.mark.parametrize("username", [SYSADMIN, ADMIN, TEAMADMIN, MEMBER, CONTOSO_ADMIN])
async def test_every_demo_account_signs_in(client: httpx.AsyncClient, username: str) -> None:
    assert (await sign_in(client, username)).status_code == 200


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: httpx.AsyncClient,
) -> None:
    wrong = await sign_in(client, ADMIN, "not-demo")
    unknown = await sign_in(client, "nobody@demo.stratus")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"] == "Wrong user name or password"
    assert wrong.headers["content-type"] == "application/problem+json"


async def test_user_without_role_cannot_sign_in(client: httpx.AsyncClient) -> None:
    db.UserRole.delete().where(db.UserRole.user == user_id(MEMBER)).execute()
    answer = await sign_in(client, MEMBER)
    assert answer.status_code == 403
    assert answer.json()["type"].endswith("/no-role")
    assert "no role" in answer.json()["detail"]


async def test_deactivated_user_cannot_sign_in(client: httpx.AsyncClient) -> None:
    db.User.update(active=False).where(db.User.id == user_id(MEMBER)).execute()
    answer = await sign_in(client, MEMBER)
    assert answer.status_code == 403
    assert answer.json()["type"].endswith("/account-disabled")


async def test_every_login_gets_a_new_token_stored_only_as_a_hash(
    client: httpx.AsyncClient,
) -> None:
    first = (await sign_in(client, ADMIN)).json()["token"]
    second = (await sign_in(client, ADMIN)).json()["token"]
    assert first != second
    stored = {row.token_hash for row in db.Session.select()}
    assert hashlib.sha256(first.encode()).hexdigest() in stored
    assert first not in stored


async def test_missing_or_unknown_token_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/auth/me")).status_code == 401
    answer = await client.get("/auth/me", headers={"Authorization": "Bearer made-up"})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


async def test_logout_ends_the_session(client: httpx.AsyncClient) -> None:
    headers = bearer(await sign_in(client, ADMIN))
    assert (await client.post("/auth/logout", headers=headers)).status_code == 204
    answer = await client.get("/auth/me", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["type"].endswith("/session-ended")


async def test_idle_session_expires_after_ten_minutes(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    headers = bearer(await sign_in(client, ADMIN))
    clock.advance(599)
    assert (await client.get("/instances", headers=headers)).status_code == 200
    clock.advance(599)  # activity at 9:59 slid the expiry: still alive at 19:58
    assert (await client.get("/instances", headers=headers)).status_code == 200
    clock.advance(600)
    answer = await client.get("/instances", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["type"].endswith("/session-expired")
    assert "10 minutes" in answer.json()["detail"]


async def test_a_short_idle_limit_is_in_the_login_answer_and_said_in_seconds(
    client: httpx.AsyncClient, clock: FakeClock, server_app: FastAPI
) -> None:
    """`stratus-tui serve --idle-timeout 5` (developers, tests): the client takes the limit
    from the login answer; the server's own message names it in seconds, not "0 minutes"."""
    server_app.state.context = server_context(clock=clock, policy=SessionPolicy(idle_timeout=5))
    answer = await sign_in(client, ADMIN)
    assert answer.json()["idle_timeout_seconds"] == 5
    clock.advance(5)
    expired = await client.get("/instances", headers=bearer(answer))
    assert expired.status_code == 401
    assert "after 5 seconds without activity" in expired.json()["detail"]


async def test_background_requests_do_not_keep_a_session_alive(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    headers = bearer(await sign_in(client, ADMIN))
    background = {**headers, "Stratus-Background": "true"}
    for _ in range(2):
        clock.advance(240)
        assert (await client.get("/instances", headers=background)).status_code == 200
    clock.advance(240)  # 12 minutes of automatic refresh and no user activity
    assert (await client.get("/instances", headers=background)).status_code == 401


async def test_keepalive_extends_the_session(client: httpx.AsyncClient, clock: FakeClock) -> None:
    headers = bearer(await sign_in(client, ADMIN))
    clock.advance(540)  # the client warns at 9:00 and the user chooses to continue
    answer = await client.post("/auth/keepalive", headers=headers)
    assert answer.status_code == 200
    clock.advance(590)
    assert (await client.get("/auth/me", headers=headers)).status_code == 200


async def test_absolute_limit_ends_even_an_active_session(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    headers = bearer(await sign_in(client, ADMIN))
    for _ in range(12 * 60 // 5):
        clock.advance(300)
        await client.post("/auth/keepalive", headers=headers)
    answer = await client.get("/auth/me", headers=headers)
    assert answer.status_code == 401
    assert "time limit" in answer.json()["detail"]


async def test_permissions_are_read_at_login(client: httpx.AsyncClient, login: Login) -> None:
    headers = await login(MEMBER)
    db.UserRole.create(user=user_id(MEMBER), role="tenant_admin")
    assert (await client.get("/users", headers=headers)).status_code == 403
    assert (await client.get("/users", headers=await login(MEMBER))).status_code == 200


async def test_deactivating_a_user_ends_their_sessions_at_once(
    client: httpx.AsyncClient, login: Login
) -> None:
    headers = await login(MEMBER)
    db.User.update(active=False).where(db.User.id == user_id(MEMBER)).execute()
    assert (await client.get("/instances", headers=headers)).status_code == 401


async def test_failed_logins_are_throttled_per_user(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    for _ in range(5):
        assert (await sign_in(client, ADMIN, "guess")).status_code == 401
    blocked = await sign_in(client, ADMIN)  # even the right password waits
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) == 15 * 60
    assert "try again in" in blocked.json()["detail"]
    assert (await sign_in(client, TEAMADMIN)).status_code == 200  # others are not locked out
    clock.advance(15 * 60)
    assert (await sign_in(client, ADMIN)).status_code == 200


async def test_failed_logins_are_throttled_per_address(client: httpx.AsyncClient) -> None:
    for number in range(30):
        await sign_in(client, f"guess{number}@demo.stratus", "guess")
    answer = await sign_in(client, ADMIN)
    assert answer.status_code == 429


@pytest.mark.parametrize(
    ("domain", "enabled"), [("contoso.com", True), ("CONTOSO.COM", True), ("demo.stratus", False)]
)
async def test_o365_button_follows_the_domains_app_config(
    client: httpx.AsyncClient, domain: str, enabled: bool
) -> None:
    answer = await client.get("/auth/o365-config", params={"domain": domain})
    assert answer.status_code == 200
    config = answer.json()
    assert config["enabled"] is enabled
    assert (config.get("client_id") is not None) is enabled
