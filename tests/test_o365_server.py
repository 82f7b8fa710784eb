"""O365 sign-in, server side: the local identity provider over loopback HTTPS, and
``POST /auth/o365`` verifying its tokens (signature, issuer, audience, lifetime, tenant)."""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from stratus_tui.server import db, tls
from stratus_tui.server.idp import (
    DEVICE_CODE_GRANT,
    USER_CODE_ALPHABET,
    DeviceCodeError,
    IdentityProvider,
)
from stratus_tui.server.idp_serve import RunningIdentityProvider
from stratus_tui.server.o365 import ProviderCache
from tests.conftest import CONTOSO_ADMIN, O365Tenant

pytestmark = pytest.mark.socket

TENANT = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
CLIENT = "0b6f4c1e-2d3a-4b5c-9d8e-7f6a5b4c3d2e"
SCOPE = f"api://{CLIENT}/access_as_user openid profile offline_access"


def trusting(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca)


@pytest.fixture
async def idp_http(identity_provider: RunningIdentityProvider) -> AsyncIterator[httpx.AsyncClient]:
    """HTTPS to the identity provider, trusting its CA only."""
    async with httpx.AsyncClient(
        base_url=identity_provider.url, verify=trusting(identity_provider.ca_path), timeout=10
    ) as http:
        yield http


async def start_flow(http: httpx.AsyncClient, tenant: str = TENANT, client_id: str = CLIENT) -> Any:
    answer = await http.post(
        f"/{tenant}/oauth2/v2.0/devicecode", data={"client_id": client_id, "scope": SCOPE}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def poll(
    http: httpx.AsyncClient, flow: dict[str, Any], tenant: str = TENANT, client_id: str = CLIENT
) -> httpx.Response:
    form = {
        "grant_type": DEVICE_CODE_GRANT,
        "device_code": flow["device_code"],
        "client_id": client_id,
        "client_info": "1",
        "scope": SCOPE,
    }
    return await http.post(f"/{tenant}/oauth2/v2.0/token", data=form)


def error_of(answer: httpx.Response) -> str:
    assert answer.status_code == 400, answer.text
    return str(answer.json()["error"])


# --- the identity provider ------------------------------------------------------------------


async def test_discovery_lists_the_endpoints_under_the_tenant(
    idp_http: httpx.AsyncClient, identity_provider: RunningIdentityProvider
) -> None:
    answer = await idp_http.get(f"/{TENANT}/v2.0/.well-known/openid-configuration")
    assert answer.status_code == 200
    configuration = answer.json()
    base = f"{identity_provider.url}/{TENANT}"
    assert configuration["issuer"] == f"{base}/v2.0"
    assert configuration["authorization_endpoint"] == f"{base}/oauth2/v2.0/authorize"
    assert configuration["token_endpoint"] == f"{base}/oauth2/v2.0/token"
    assert configuration["device_authorization_endpoint"] == f"{base}/oauth2/v2.0/devicecode"
    assert configuration["jwks_uri"] == f"{base}/discovery/v2.0/keys"
    assert configuration["id_token_signing_alg_values_supported"] == ["RS256"]
    keys = (await idp_http.get(f"/{TENANT}/discovery/v2.0/keys")).json()["keys"]
    assert [(key["kty"], key["use"], key["alg"], key["kid"]) for key in keys] == [
        ("RSA", "sig", "RS256", identity_provider.idp.kid)
    ]


async def test_device_code_pending_then_approved_gives_tokens_once(
    idp_http: httpx.AsyncClient, identity_provider: RunningIdentityProvider
) -> None:
    flow = await start_flow(idp_http)
    code = flow["user_code"]
    assert len(code) == 9 and set(code) <= set(USER_CODE_ALPHABET)
    assert flow["verification_uri"] == f"{identity_provider.url}/device"
    assert flow["interval"] == 1 and flow["expires_in"] == 60
    assert (
        f"open the page {identity_provider.url}/device and enter the code {code}"
        in (flow["message"])
    )
    assert f"curl --cacert {identity_provider.ca_path} -d code={code}" in flow["message"]
    assert code in identity_provider.idp.pending_codes()
    assert error_of(await poll(idp_http, flow)) == "authorization_pending"

    # As the curl line in the message does it (a lower-case, dashed code works too).
    approval = await idp_http.post(
        "/device",
        data={"code": f"{code[:4].lower()}-{code[4:]}", "user": "megan.bowen@contoso.com"},
    )
    assert approval.status_code == 200
    assert approval.text == "Approved: you can return to stratus-tui.\n"
    assert approval.headers["content-type"].startswith("text/plain")
    assert code not in identity_provider.idp.pending_codes()

    answer = await poll(idp_http, flow)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == tokens["ext_expires_in"] == 3600
    assert tokens["scope"] == f"api://{CLIENT}/access_as_user"
    assert answer.headers["cache-control"] == "no-store"
    info = json.loads(base64.urlsafe_b64decode(tokens["client_info"] + "=="))

    jwks = jwt.PyJWKSet.from_dict((await idp_http.get(f"/{TENANT}/discovery/v2.0/keys")).json())
    key = jwks[jwt.get_unverified_header(tokens["access_token"])["kid"]].key
    issuer = f"{identity_provider.url}/{TENANT}/v2.0"
    access = jwt.decode(
        tokens["access_token"], key, algorithms=["RS256"], audience=CLIENT, issuer=issuer
    )
    assert access["preferred_username"] == access["upn"] == "megan.bowen@contoso.com"
    assert access["name"] == "Megan Bowen"
    assert access["tid"] == TENANT and access["ver"] == "2.0"
    assert access["scp"] == "access_as_user"
    assert access["exp"] - access["iat"] == 3600
    assert info == {"uid": access["oid"], "utid": TENANT}
    identity = jwt.decode(tokens["id_token"], key, algorithms=["RS256"], audience=CLIENT)
    assert identity["iss"] == issuer and identity["oid"] == access["oid"]
    assert identity["preferred_username"] == "megan.bowen@contoso.com"
    assert "scp" not in identity

    assert error_of(await poll(idp_http, flow)) == "invalid_grant"  # a device code is used once


async def test_a_declined_sign_in_is_reported(
    idp_http: httpx.AsyncClient, identity_provider: RunningIdentityProvider
) -> None:
    flow = await start_flow(idp_http)
    answer = await idp_http.post("/device", data={"code": flow["user_code"], "decision": "decline"})
    assert answer.status_code == 200 and answer.text.startswith("Declined")
    assert error_of(await poll(idp_http, flow)) == "authorization_declined"
    other = await start_flow(idp_http)
    identity_provider.idp.decline(other["user_code"])
    assert error_of(await poll(idp_http, other)) == "authorization_declined"


async def test_conditional_access_blocks_the_token(
    idp_http: httpx.AsyncClient, identity_provider: RunningIdentityProvider
) -> None:
    flow = await start_flow(idp_http)
    identity_provider.idp.block(flow["user_code"])
    answer = await poll(idp_http, flow)
    assert error_of(answer) == "invalid_grant"
    assert answer.json()["error_codes"] == [53003]
    assert answer.json()["error_description"].startswith(
        "AADSTS53003: Access has been blocked by Conditional Access policies."
    )
    other = await start_flow(idp_http)
    form = {"code": other["user_code"], "user": CONTOSO_ADMIN}
    refused = await idp_http.post("/device", data={**form, "decision": "maybe"})
    assert refused.status_code == 400 and "approve, decline or block" in refused.text
    blocked = await idp_http.post("/device", data={**form, "decision": "block"})
    assert blocked.status_code == 200 and blocked.text.startswith("Blocked")
    assert error_of(await poll(idp_http, other)) == "invalid_grant"


async def test_an_expired_code_is_reported_and_cannot_be_approved(
    idp_http: httpx.AsyncClient, identity_provider: RunningIdentityProvider
) -> None:
    flow = await start_flow(idp_http)
    identity_provider.idp.expire(flow["user_code"])
    assert error_of(await poll(idp_http, flow)) == "expired_token"
    late = await idp_http.post("/device", data={"code": flow["user_code"], "user": CONTOSO_ADMIN})
    assert late.status_code == 400 and "expired" in late.text
    with pytest.raises(DeviceCodeError, match="expired"):
        identity_provider.idp.approve(flow["user_code"], CONTOSO_ADMIN)


async def test_a_code_runs_out_after_expires_in(tmp_path: Path) -> None:
    idp = IdentityProvider(tmp_path / "idp", expires_in=0)
    transport = httpx.ASGITransport(app=idp.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://idp.test") as http:
        flow = await start_flow(http)
        assert idp.pending_codes() == []
        assert error_of(await poll(http, flow)) == "expired_token"


async def test_refresh_rotates_the_refresh_token(
    idp_http: httpx.AsyncClient, identity_provider: RunningIdentityProvider
) -> None:
    flow = await start_flow(idp_http)
    identity_provider.idp.approve(flow["user_code"], CONTOSO_ADMIN)
    first = (await poll(idp_http, flow)).json()

    def refresh(token: str, client_id: str = CLIENT) -> Any:
        form = {"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id}
        return idp_http.post(f"/{TENANT}/oauth2/v2.0/token", data={**form, "scope": SCOPE})

    assert error_of(await refresh(first["refresh_token"], client_id="someone-else")) == (
        "invalid_client"
    )
    answer = await refresh(first["refresh_token"])
    assert answer.status_code == 200, answer.text
    second = answer.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    claims = jwt.decode(second["access_token"], options={"verify_signature": False})
    assert claims["preferred_username"] == CONTOSO_ADMIN
    assert error_of(await refresh(first["refresh_token"])) == "invalid_grant"  # used up
    assert error_of(await refresh("not-a-refresh-token")) == "invalid_grant"
    assert (await refresh(second["refresh_token"])).status_code == 200


async def test_the_token_endpoint_refuses_bad_requests(idp_http: httpx.AsyncClient) -> None:
    flow = await start_flow(idp_http)
    assert error_of(await poll(idp_http, flow, client_id="another-client")) == "invalid_client"
    assert error_of(await poll(idp_http, flow, tenant="another-tenant")) == "invalid_grant"
    password = {"grant_type": "password", "client_id": CLIENT, "username": "a", "password": "b"}
    answer = await idp_http.post(f"/{TENANT}/oauth2/v2.0/token", data=password)
    assert error_of(answer) == "unsupported_grant_type"
    answer = await idp_http.post(f"/{TENANT}/oauth2/v2.0/devicecode", data={"scope": SCOPE})
    assert error_of(answer) == "invalid_request"


async def test_the_device_page_escapes_what_it_shows(idp_http: httpx.AsyncClient) -> None:
    hostile = '"><script>alert(1)</script>'
    page = await idp_http.get("/device", params={"code": hostile})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    assert 'name="decision" value="approve"' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    wants_html = {"Accept": "text/html,application/xhtml+xml"}
    answer = await idp_http.post(
        "/device", data={"code": hostile, "user": CONTOSO_ADMIN}, headers=wants_html
    )
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")
    assert "<script>" not in answer.text and "Unknown code" in answer.text
    flow = await start_flow(idp_http)
    answer = await idp_http.post(
        "/device", data={"code": flow["user_code"], "user": hostile}, headers=wants_html
    )
    assert answer.status_code == 400 and "is not a user name like" in answer.text
    assert "<script>" not in answer.text and "&lt;script&gt;" in answer.text


async def test_the_device_page_needs_a_user_name_to_approve(
    idp_http: httpx.AsyncClient, identity_provider: RunningIdentityProvider
) -> None:
    flow = await start_flow(idp_http)
    answer = await idp_http.post("/device", data={"code": flow["user_code"]})
    assert answer.status_code == 400 and "Enter your user name" in answer.text
    answer = await idp_http.post("/device", data={"code": "", "user": CONTOSO_ADMIN})
    assert answer.status_code == 400 and "Enter the code" in answer.text
    assert flow["user_code"] in identity_provider.idp.pending_codes()
    identity_provider.idp.approve(flow["user_code"], CONTOSO_ADMIN)
    again = await idp_http.post("/device", data={"code": flow["user_code"], "user": CONTOSO_ADMIN})
    assert again.status_code == 409


def test_the_loopback_certificate_is_private_and_reused(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    paths = tls.loopback_certificate(folder)
    contents = [path.read_bytes() for path in paths]
    assert (folder.stat().st_mode & 0o777) == 0o700
    assert all((path.stat().st_mode & 0o777) == 0o600 for path in paths)
    assert [path.read_bytes() for path in tls.loopback_certificate(folder)] == contents
    paths[1].write_bytes(b"damaged")
    renewed = tls.loopback_certificate(folder)
    assert renewed[0].read_bytes() != contents[0]  # a new CA and leaf


def test_the_signing_key_survives_a_restart(tmp_path: Path) -> None:
    first = IdentityProvider(tmp_path / "idp")
    second = IdentityProvider(tmp_path / "idp")
    assert first.kid == second.kid
    assert ((tmp_path / "idp" / "signing-key.pem").stat().st_mode & 0o777) == 0o600


# --- POST /auth/o365 ------------------------------------------------------------------------


async def o365(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/auth/o365", json={"access_token": token})


def problem(answer: httpx.Response, status: int, kind: str) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["type"].endswith(f"/{kind}"), body
    return str(body["detail"])


async def test_a_token_from_the_device_flow_signs_in(
    client: httpx.AsyncClient, o365_contoso: O365Tenant
) -> None:
    provider = o365_contoso.provider
    async with httpx.AsyncClient(
        base_url=provider.url, verify=trusting(provider.ca_path), timeout=10
    ) as http:
        tenant, client_id = o365_contoso.azure_tenant_id, o365_contoso.client_id
        flow = await start_flow(http, tenant, client_id)
        provider.idp.approve(flow["user_code"], "Admin@Contoso.com")  # any case
        tokens = (await poll(http, flow, tenant, client_id)).json()
    answer = await o365(client, tokens["access_token"])
    assert answer.status_code == 200, answer.text
    session = answer.json()
    assert session["user"]["upn"] == CONTOSO_ADMIN
    assert session["user"]["role"] == "tenant_admin"
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {session['token']}"})
    assert me.status_code == 200 and me.json()["upn"] == CONTOSO_ADMIN
    again = await o365(client, tokens["access_token"])
    assert again.status_code == 200 and again.json()["token"] != session["token"]


async def test_an_api_audience_is_accepted_too(
    client: httpx.AsyncClient, o365_contoso: O365Tenant
) -> None:
    token = o365_contoso.access_token(aud=f"api://{o365_contoso.client_id}")
    assert (await o365(client, token)).status_code == 200


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "11111111-1111-1111-1111-111111111111"}, "wrong audience"),
        ({"iss": "https://login.microsoftonline.com/x/v2.0"}, "wrong issuer"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        ({"nbf": int(time.time()) + 3600}, "not valid yet"),
        ({"tid": "22222222-2222-2222-2222-222222222222"}, "wrong tenant"),
        ({"exp": None}, "no exp claim"),
        ({"scp": None}, "not an access token"),
    ],
    ids=["audience", "issuer", "expired", "not-yet", "tenant", "no-exp", "id-token"],
)
async def test_a_token_failing_a_check_is_refused_with_the_reason(
    client: httpx.AsyncClient, o365_contoso: O365Tenant, claims: dict[str, Any], reason: str
) -> None:
    answer = await o365(client, o365_contoso.access_token(**claims))
    assert reason in problem(answer, 401, "o365-token-invalid")


async def test_a_token_signed_with_another_key_is_refused(
    client: httpx.AsyncClient, o365_contoso: O365Tenant
) -> None:
    idp = o365_contoso.provider.idp
    claims = jwt.decode(o365_contoso.access_token(), options={"verify_signature": False})
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    answer = await o365(client, idp.sign(claims, key=other))
    assert "wrong signature" in problem(answer, 401, "o365-token-invalid")
    answer = await o365(client, idp.sign(claims, key=other, kid="someone-elses-key"))
    assert "wrong signature" in problem(answer, 401, "o365-token-invalid")
    unsigned = jwt.encode(claims, "a-shared-secret-of-32-bytes-long!", algorithm="HS256")
    assert "only RS256" in problem(await o365(client, unsigned), 401, "o365-token-invalid")
    assert "well-formed" in problem(await o365(client, "abc.def"), 401, "o365-token-invalid")


async def test_a_domain_without_o365_is_refused(
    client: httpx.AsyncClient, o365_contoso: O365Tenant
) -> None:
    answer = await o365(client, o365_contoso.access_token("admin@demo.stratus"))
    detail = problem(answer, 403, "o365-not-configured")
    assert detail == "O365 sign-in is not set up for demo.stratus"


async def test_a_microsoft_user_without_a_stratus_account_is_refused(
    client: httpx.AsyncClient, o365_contoso: O365Tenant
) -> None:
    answer = await o365(client, o365_contoso.access_token("nobody@contoso.com"))
    assert problem(answer, 403, "o365-unknown-user") == (
        "nobody@contoso.com signed in with Microsoft but has no Stratus account; "
        "ask your administrator"
    )


async def test_the_same_checks_as_a_password_sign_in_apply(
    client: httpx.AsyncClient, o365_contoso: O365Tenant
) -> None:
    contoso = db.Tenant.get(db.Tenant.name == "Contoso")
    db.User.create(
        tenant=contoso.id, first_name="Rolf", last_name="Less",
        upn="rolf.less@contoso.com", upn_key="rolf.less@contoso.com",
    )  # fmt: skip
    answer = await o365(client, o365_contoso.access_token("rolf.less@contoso.com"))
    problem(answer, 403, "no-role")
    db.User.update(active=False).where(db.User.upn_key == CONTOSO_ADMIN).execute()
    problem(await o365(client, o365_contoso.access_token()), 403, "account-disabled")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_identity_provider_is_a_502(
    client: httpx.AsyncClient, o365_contoso: O365Tenant
) -> None:
    token = o365_contoso.access_token()
    authority = f"https://127.0.0.1:{closed_port()}/{o365_contoso.azure_tenant_id}"
    db.O365App.update(authority=authority).where(db.O365App.domain == "contoso.com").execute()
    detail = problem(await o365(client, token), 502, "o365-provider-unreachable")
    assert authority in detail


async def test_the_identity_provider_must_present_a_trusted_certificate(
    client: httpx.AsyncClient, o365_contoso: O365Tenant, server_app: Any
) -> None:
    import dataclasses

    server_app.state.context = dataclasses.replace(server_app.state.context, identity_ca=None)
    detail = problem(
        await o365(client, o365_contoso.access_token()), 502, "o365-provider-unreachable"
    )
    assert "CERTIFICATE_VERIFY_FAILED" in detail


async def test_the_token_is_never_answered_or_logged(
    client: httpx.AsyncClient, o365_contoso: O365Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    good = o365_contoso.access_token()
    tokens = [
        good,
        o365_contoso.access_token(aud="someone-else"),
        o365_contoso.access_token("nobody@contoso.com"),
        o365_contoso.access_token(exp=1, iat=1),
    ]
    answers = [await o365(client, token) for token in tokens]
    answers.append(await client.post("/auth/o365", json={"access_token": good, "extra": 1}))
    answers.append(await client.post("/auth/o365", json={"access_token": ""}))
    assert [answer.status_code for answer in answers] == [200, 401, 403, 401, 422, 422]
    for token in tokens:
        signature = token.rsplit(".", 1)[1]
        for answer in answers:
            assert signature not in answer.text
        assert signature not in caplog.text
        assert signature not in repr([record.__dict__ for record in caplog.records])


async def test_provider_keys_are_cached(
    client: httpx.AsyncClient, o365_contoso: O365Tenant
) -> None:
    cache = ProviderCache()
    app = db.O365App.get(db.O365App.domain == "contoso.com")
    ca = o365_contoso.provider.ca_path
    first = await cache.provider(app, ca)
    assert first.issuer == o365_contoso.issuer
    assert list(first.keys) == [o365_contoso.provider.idp.kid]
    assert await cache.provider(app, ca) is first
    assert await cache.provider(app, ca, unknown_kid=True) is first  # fetched moments ago
    cache.ttl = 0
    assert await cache.provider(app, ca) is not first


def test_the_identity_provider_folder_is_private(
    identity_provider: RunningIdentityProvider,
) -> None:
    folder = identity_provider.idp.folder
    assert (folder.stat().st_mode & 0o777) == 0o700
    for name in os.listdir(folder):
        assert ((folder / name).stat().st_mode & 0o777) == 0o600, name
