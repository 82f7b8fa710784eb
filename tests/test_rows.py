"""The Agents and Services rows: names from lookups, unknown ids as "#12", never a crash."""

from __future__ import annotations

from typing import Any

from stratus_tui.api import models
from stratus_tui.records.rows import (
    AGENT_COLUMNS,
    SERVICE_COLUMNS,
    Lookups,
    agent_cells,
    service_cells,
)
from stratus_tui.records.table import Column
from tests.hostile import HOSTILE

LOOKUPS = Lookups(
    org_units={1: "Zürich"},
    teams={10: "zeta", 11: "Alpha", 12: "王"},
    duty_profiles={5: "Day"},
    workflows={7: "Main IVR"},
)


def user(**changes: Any) -> models.User:
    data: dict[str, Any] = {
        "id": 1, "tenant_id": 1, "ou_id": 1, "first_name": "Zoë", "last_name": "Łukasz",
        "upn": "zoe@example.com", "sip_uri": "sip:zoe@example.com",
        "roles": ["team_admin", "tenant_admin"], "team_ids": [10, 12, 11, 99],
        "managed_team_ids": [], "duty_profile_id": 5, "trait_ids": [], "responsibility_ids": [],
        "active": True, "directory_synced": False, "version": 1,
    }  # fmt: skip
    return models.User.model_validate({**data, **changes})


def service(**changes: Any) -> models.Service:
    data: dict[str, Any] = {
        "id": 3, "tenant_id": 1, "team_id": 11, "ou_id": 1, "kind": "call", "name": "Sales",
        "address": "sip:sales@example.com", "display_name": "Sales line",
        "endpoints": [{"address": "sip:a@example.com"}, {"address": "sip:b@example.com"}],
        "distribution": {"priority": "strict", "direction": "inbound"},
        "max_concurrent_sessions": 12, "workflow_id": None, "emergency_routing": True,
        "trait_ids": [], "version": 1,
    }  # fmt: skip
    return models.Service.model_validate({**data, **changes})


def by_key(columns: tuple[Column, ...], cells: tuple[str, ...]) -> dict[str, str]:
    return {column.key: cell for column, cell in zip(columns, cells, strict=True)}


def test_agent_cells() -> None:
    cells = agent_cells(user(), LOOKUPS)
    assert len(cells) == len(AGENT_COLUMNS)
    assert by_key(AGENT_COLUMNS, cells) == {
        "name": "Zoë Łukasz",
        "upn": "zoe@example.com",
        "sip": "sip:zoe@example.com",
        "ou": "Zürich",
        "teams": "#99, Alpha, zeta, 王",
        "roles": "tenant admin, team admin",
        "duty": "Day",
        "active": "yes",
    }
    bare = agent_cells(
        user(ou_id=None, sip_uri=None, duty_profile_id=77, roles=[], team_ids=[], active=False),
        Lookups.empty(),
    )
    assert by_key(AGENT_COLUMNS, bare) | {"name": "", "upn": ""} == {
        "name": "", "upn": "", "sip": "", "ou": "", "teams": "", "roles": "", "duty": "#77",
        "active": "no",
    }  # fmt: skip


def test_service_cells() -> None:
    cells = service_cells(service(), LOOKUPS)
    assert len(cells) == len(SERVICE_COLUMNS)
    assert by_key(SERVICE_COLUMNS, cells) == {
        "name": "Sales", "kind": "call", "address": "sip:sales@example.com",
        "display": "Sales line", "team": "Alpha", "ou": "Zürich", "endpoints": "2",
        "policy": "strict · inbound", "sessions": "12", "workflow": "—", "emergency": "on",
    }  # fmt: skip
    wrr = service(
        distribution={"priority": "weighted_round_robin", "wrr_level": 3, "direction": "both"},
        workflow_id=7, team_id=404, ou_id=405, emergency_routing=False, endpoints=[],
    )  # fmt: skip
    assert by_key(SERVICE_COLUMNS, service_cells(wrr, LOOKUPS)) | {"name": ""} == {
        "name": "", "kind": "call", "address": "sip:sales@example.com",
        "display": "Sales line", "team": "#404", "ou": "#405", "endpoints": "0",
        "policy": "WRR 3 · both", "sessions": "12", "workflow": "Main IVR", "emergency": "off",
    }  # fmt: skip
    unknown = service_cells(service(workflow_id=8), Lookups.empty())
    assert by_key(SERVICE_COLUMNS, unknown)["workflow"] == "#8"


def test_hostile_names_pass_through_as_data() -> None:
    """Cells are raw: the table cleans them when it draws (test_record_table)."""
    for text in HOSTILE.values():
        cells = agent_cells(user(first_name=text, last_name=""), Lookups(teams={10: text}))
        named = by_key(AGENT_COLUMNS, cells)
        assert named["name"] == text.strip()
        assert text in named["teams"] or not text


def test_columns_have_distinct_keys_and_hotkeys() -> None:
    for columns in (AGENT_COLUMNS, SERVICE_COLUMNS):
        assert len({column.key for column in columns}) == len(columns)
        hotkeys = [column.hotkey for column in columns]
        assert len(set(hotkeys)) == len(columns)
        assert all(len(key) == 1 and key.isupper() for key in hotkeys)
    assert sorted(c.hotkey for c in AGENT_COLUMNS) == sorted("NUPOTRDA")
    assert sorted(c.hotkey for c in SERVICE_COLUMNS) == sorted("NKAITOEPMWX")
