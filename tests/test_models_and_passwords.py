"""The contract models' rules, and password hashing."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr, ValidationError

from stratus_tui.api import models as m
from stratus_tui.server import passwords


def test_effective_role_is_the_highest_held() -> None:
    assert m.effective_role(["team_member", "tenant_admin"]) == "tenant_admin"
    assert m.effective_role([]) is None


def test_requests_refuse_unknown_fields_and_resources_ignore_them() -> None:
    with pytest.raises(ValidationError):
        m.TeamCreate.model_validate({"name": "x", "ou_id": 1, "extra": 1})
    team = m.Team.model_validate(
        {
            "id": 1,
            "tenant_id": 1,
            "ou_id": 1,
            "name": "x",
            "time_zone": "UTC",
            "version": 1,
            "new": 2,
        }
    )
    assert team.name == "x"


def test_patch_refuses_null_for_required_fields_and_allows_it_for_nullable_ones() -> None:
    with pytest.raises(ValidationError, match="name cannot be null"):
        m.TeamUpdate.model_validate({"name": None})
    update = m.UserUpdate.model_validate({"duty_profile_id": None})
    assert update.changes() == {"duty_profile_id": None}


@pytest.mark.parametrize(
    ("policy", "ok"),
    [
        ({"priority": "strict"}, True),
        ({"priority": "weighted_round_robin", "wrr_level": 7}, True),
        ({"priority": "weighted_round_robin"}, False),
        ({"priority": "weighted_round_robin", "wrr_level": 8}, False),
        ({"priority": "strict", "wrr_level": 2}, False),
        ({"priority": "random"}, False),
        ({"direction": "sideways"}, False),
    ],
)
def test_distribution_policy(policy: dict[str, object], ok: bool) -> None:
    if ok:
        m.DistributionPolicy.model_validate(policy)
    else:
        with pytest.raises(ValidationError):
            m.DistributionPolicy.model_validate(policy)


@pytest.mark.parametrize(
    ("kind", "address", "ok"),
    [
        ("call", "sip:sales@demo.stratus", True),
        ("call", "sales@demo.stratus", False),
        ("mail", "sales@demo.stratus", True),
        ("mail", "sip:sales@demo.stratus", False),
    ],
)
def test_service_address_matches_kind(kind: str, address: str, ok: bool) -> None:
    body = {"kind": kind, "name": "S", "address": address, "display_name": "S", "team_id": 1}
    if ok:
        m.ServiceCreate.model_validate(body)
    else:
        with pytest.raises(ValidationError, match="address"):
            m.ServiceCreate.model_validate(body)


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("tel:+41445550100", True),
        ("tel:0445550100", False),
        ("sip:a@b.ch", True),
        ("+41445550100", False),
    ],
)
def test_endpoint_addresses(address: str, ok: bool) -> None:
    if ok:
        m.Endpoint(address=address)
    else:
        with pytest.raises(ValidationError):
            m.Endpoint(address=address)


def test_working_hours_must_start_before_they_end() -> None:
    m.WorkingHours(weekday=0, start="08:00", end="17:00")
    with pytest.raises(ValidationError):
        m.WorkingHours(weekday=0, start="17:00", end="08:00")
    with pytest.raises(ValidationError):
        m.WorkingHours(weekday=7, start="08:00", end="17:00")


def test_workflow_definition_links_must_resolve() -> None:
    m.WorkflowDefinition.model_validate(
        {
            "start": "menu",
            "steps": {"menu": {"type": "menu", "options": {"1": "bye"}}, "bye": {"type": "hangup"}},
        }
    )
    with pytest.raises(ValidationError, match="undefined step"):
        m.WorkflowDefinition.model_validate(
            {"start": "menu", "steps": {"menu": {"type": "menu", "options": {"1": "x"}}}}
        )
    with pytest.raises(ValidationError, match="start step"):
        m.WorkflowDefinition.model_validate({"start": "nope", "steps": {"a": {"type": "hangup"}}})


def test_secrets_are_masked_in_repr_but_the_token_travels_in_json() -> None:
    login = m.LoginRequest(username="a@b.ch", password=SecretStr("hunter2"))
    assert "hunter2" not in repr(login)
    user = {
        "id": 1,
        "first_name": "A",
        "last_name": "B",
        "upn": "a@b.ch",
        "sip_uri": None,
        "roles": ["team_member"],
        "role": "team_member",
        "tenant_id": 1,
        "tenant_name": "T",
        "time_zone": "UTC",
        "team_ids": [],
        "live_chat_enabled": False,
    }
    session = m.SessionInfo.model_validate(
        {
            "token": "s3cret",
            "expires_at": "2026-11-22T12:10:00Z",
            "absolute_expires_at": "2026-11-23T00:00:00Z",
            "idle_timeout_seconds": 600,
            "user": user,
        }
    )
    assert "s3cret" not in repr(session)
    assert json.loads(session.model_dump_json())["token"] == "s3cret"


def test_lone_surrogates_in_server_answers_are_refused_by_the_client() -> None:
    with pytest.raises(ValidationError):
        m.Team.model_validate_json(
            '{"id": 1, "tenant_id": 1, "ou_id": 1, "name": "a\\ud800", '
            '"time_zone": "UTC", "version": 1}'
        )


def test_password_hash_is_salted_and_self_describing() -> None:
    first = passwords.hash_password("demo")
    second = passwords.hash_password("demo")
    assert first != second
    scheme, n, r, p, salt, digest = first.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", passwords.SCRYPT_N, 8, 1)
    assert len(bytes.fromhex(salt)) == 16 and len(bytes.fromhex(digest)) == 64
    assert passwords.verify_password("demo", first)
    assert not passwords.verify_password("Demo", first)


@pytest.mark.parametrize(
    "stored", [None, "", "md5$abc", "scrypt$x$8$1$00$00", "scrypt$16$8$1$zz$00"]
)
def test_missing_or_malformed_hashes_never_verify(stored: str | None) -> None:
    assert not passwords.verify_password("demo", stored)
