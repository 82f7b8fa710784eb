"""The agent and service forms' rules and the requests made from them (no UI, no server)."""

from __future__ import annotations

import pytest

from stratus_tui.api import models
from stratus_tui.records.agents import agent_create, agent_fields, agent_update, agent_values
from stratus_tui.records.editing import Reference
from stratus_tui.records.requests import RequestRefused
from stratus_tui.records.services import (
    bulk_rows,
    check_address,
    service_create,
    service_update,
    service_values,
)

REFERENCE = Reference(
    org_units=[models.OrgUnit(id=1, tenant_id=1, parent_id=None, name="Sales", is_system=False,
                              version=1)],
    teams=[
        models.Team(id=t, tenant_id=1, ou_id=1, name=f"Team {t}", time_zone="UTC", version=1)
        for t in (10, 11, 12)
    ],
)  # fmt: skip


def user(**changes: object) -> models.User:
    data: dict[str, object] = {
        "id": 5, "tenant_id": 1, "ou_id": 1, "first_name": "Zoë", "last_name": "Łukasz",
        "upn": "zoe@demo.stratus", "sip_uri": None, "roles": ["team_member"],
        "team_ids": [10, 11, 12], "managed_team_ids": [], "duty_profile_id": None,
        "trait_ids": [], "responsibility_ids": [], "active": True,
        "directory_synced": False, "version": 3,
    }  # fmt: skip
    return models.User.model_validate({**data, **changes})


def service(**changes: object) -> models.Service:
    data: dict[str, object] = {
        "id": 7, "tenant_id": 1, "team_id": 10, "ou_id": 1, "kind": "call", "name": "Hotline",
        "address": "sip:hotline@demo.stratus", "display_name": "Hotline", "endpoints": [],
        "distribution": {"priority": "strict", "wrr_level": None, "direction": "inbound"},
        "max_concurrent_sessions": 10, "workflow_id": None, "emergency_routing": False,
        "trait_ids": [], "version": 2,
    }  # fmt: skip
    return models.Service.model_validate({**data, **changes})


def test_team_admin_removing_one_team_keeps_the_teams_they_do_not_manage() -> None:
    agent = user()
    body = agent_update({"team_ids": (10,)}, agent, role="team_admin", managed_team_ids=[10, 11])
    assert body.changes() == {"team_ids": [10, 12]}  # 11 removed, 12 (not theirs) kept


def test_team_admin_sees_only_their_fields_and_their_teams() -> None:
    specs = {
        spec.name: spec
        for spec in agent_fields(REFERENCE, role="team_admin", user=user(), managed_team_ids=[10])
    }
    assert specs["first_name"].read_only and specs["roles"].read_only
    assert specs["duty_profile_id"].read_only is None and specs["active"].read_only is None
    assert [value for value, _ in specs["team_ids"].choices] == [10]


def test_directory_synced_names_are_read_only_for_a_tenant_admin() -> None:
    specs = {
        spec.name: spec
        for spec in agent_fields(REFERENCE, role="tenant_admin", user=user(directory_synced=True))
    }
    assert "directory" in (specs["upn"].read_only or "")
    assert specs["roles"].read_only is None


def test_a_new_agent_that_is_not_a_team_admin_manages_no_team() -> None:
    values = agent_values() | {
        "first_name": "Ann", "last_name": "Lee", "upn": "ann@demo.stratus", "ou_id": 1,
        "managed_team_ids": (10,), "sip_uri": "",
    }  # fmt: skip
    body = agent_create(values)
    assert body.managed_team_ids == [] and body.sip_uri is None


def test_an_invalid_agent_is_refused_with_the_field_named() -> None:
    values = agent_values() | {"first_name": "Ann", "last_name": "Lee", "upn": "no", "ou_id": 1}
    with pytest.raises(RequestRefused) as refused:
        agent_create(values)
    assert "upn" in refused.value.field_errors


def test_changing_the_direction_sends_the_whole_distribution_policy() -> None:
    base = service_values(
        service(
            distribution={
                "priority": "weighted_round_robin",
                "wrr_level": 3,
                "direction": "inbound",
            }
        )
    )
    body = service_update({"direction": "both"}, base)
    assert body.changes() == {
        "distribution": {"priority": "weighted_round_robin", "wrr_level": 3, "direction": "both"}
    }


def test_strict_priority_drops_the_round_robin_level() -> None:
    base = service_values(
        service(
            distribution={
                "priority": "weighted_round_robin",
                "wrr_level": 3,
                "direction": "inbound",
            }
        )
    )
    body = service_update({"priority": "strict"}, base)
    assert body.changes()["distribution"]["wrr_level"] is None


def test_round_robin_without_a_level_is_refused_at_the_level_field() -> None:
    with pytest.raises(RequestRefused) as refused:
        service_update({"priority": "weighted_round_robin"}, service_values(service()))
    assert set(refused.value.field_errors) == {"priority"}


def test_the_address_must_fit_the_kind() -> None:
    assert check_address({"kind": "mail", "address": "sip:a@b.c"})["address"]
    assert check_address({"kind": "call", "address": "sip:a@b.c"}) == {}
    values = service_values() | {"kind": "mail", "name": "N", "display_name": "N",
                                 "team_id": 10, "address": "sip:a@b.c"}  # fmt: skip
    with pytest.raises(RequestRefused):
        service_create(values)


def test_endpoints_travel_as_address_and_label() -> None:
    body = service_update({"endpoints": (("tel:+41445550100", "Reception"),)},
                          service_values(service()))  # fmt: skip
    assert body.changes() == {"endpoints": [{"address": "tel:+41445550100", "label": "Reception"}]}


def test_bulk_rows_say_which_services_already_have_the_value() -> None:
    rows = bulk_rows([service(), service(id=8, max_concurrent_sessions=20)],
                     "max_concurrent_sessions", 20)  # fmt: skip
    assert [(row.service_id, row.current, row.matches) for row in rows] == [
        (7, 10, False),
        (8, 20, True),
    ]
