"""Workflow export/import, data-privacy export jobs and live chat, against the real server."""

from __future__ import annotations

import httpx
import pytest

from stratus_tui.api import models as m
from stratus_tui.server import db
from stratus_tui.server.clock import FakeClock
from stratus_tui.server.routes.privacy import run_export
from tests.conftest import ADMIN, CONTOSO_ADMIN, MEMBER, SYSADMIN, TEAMADMIN, Login, named, user_id


async def test_workflow_round_trips_through_a_signed_file(
    client: httpx.AsyncClient, login: Login
) -> None:
    headers = await login(ADMIN)
    workflow = named(db.Workflow, "Standard inbound")
    document = (await client.get(f"/workflows/{workflow}/export", headers=headers)).json()
    assert document["format"] == "stratus-workflow" and len(document["signature"]) == 64
    answer = await client.post(
        "/workflows/import",
        json={"document": document, "ou_id": named(db.OrgUnit, "Sales"), "name": "Copy"},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    copy = answer.json()
    assert copy["name"] == "Copy"
    assert copy["definition"] == document["definition"]


@pytest.mark.parametrize("tamper", ["definition", "name", "signature"])
async def test_tampered_workflow_file_is_refused(
    client: httpx.AsyncClient, login: Login, tamper: str
) -> None:
    headers = await login(ADMIN)
    workflow = named(db.Workflow, "Standard inbound")
    document = (await client.get(f"/workflows/{workflow}/export", headers=headers)).json()
    if tamper == "definition":
        document["definition"]["start"] = next(iter(document["definition"]["steps"]))[::-1] + "x"
    elif tamper == "name":
        document["name"] += " (mine)"
    else:
        document["signature"] = "0" * 64
    before = db.Workflow.select().count()
    answer = await client.post(
        "/workflows/import",
        json={"document": document, "ou_id": named(db.OrgUnit, "Sales")},
        headers=headers,
    )
    assert answer.status_code == 422
    assert answer.json()["type"].endswith("/tampered-document")
    assert "nothing was imported" in answer.json()["detail"]
    assert db.Workflow.select().count() == before


async def test_workflow_with_a_dangling_step_is_refused(
    client: httpx.AsyncClient, login: Login
) -> None:
    answer = await client.post(
        "/workflows",
        json={
            "name": "Broken",
            "type": "inbound",
            "ou_id": named(db.OrgUnit, "Sales"),
            "definition": {"start": "a", "steps": {"a": {"type": "announcement", "next": "b"}}},
        },
        headers=await login(ADMIN),
    )
    assert answer.status_code == 422
    assert "undefined step 'b'" in answer.json()["detail"]


async def test_in_use_trait_names_the_services(client: httpx.AsyncClient, login: Login) -> None:
    link = db.ServiceTrait.select().first()
    service = db.Service.get_by_id(link.service_id)
    answer = await client.delete(
        f"/traits/{link.trait_id}", headers={**await login(SYSADMIN), "If-Match": '"1"'}
    )
    assert answer.status_code == 409
    assert service.name in answer.json()["detail"]


def _agent_with_history() -> db.User:
    l1 = named(db.Team, "Support L1")
    row = (
        db.Conversation.select(db.Conversation.agent_id)
        .where(db.Conversation.team_id == l1, db.Conversation.agent_id.is_null(False))
        .first()
    )
    return db.User.get_by_id(row.agent_id)


async def test_privacy_export_runs_and_returns_the_subjects_rows(
    client: httpx.AsyncClient, login: Login
) -> None:
    headers = await login(TEAMADMIN)
    agent = _agent_with_history()
    answer = await client.post(
        "/privacy-exports",
        json={
            "subject_kind": "agent",
            "subject": agent.upn,
            "date_from": "2026-01-01",
            "date_to": "2026-12-31",
        },
        headers=headers,
    )
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["state"] == "queued"
    done = (await client.get(f"/privacy-exports/{job['id']}", headers=headers)).json()
    assert done["state"] == "done" and done["progress"] == 1.0
    result = m.PrivacyExportResult.model_validate_json(
        (await client.get(f"/privacy-exports/{job['id']}/result", headers=headers)).content
    )
    managed = sorted(m_ for m_ in (named(db.Team, "Support L1"), named(db.Team, "Support L2")))
    expected = {
        row.id
        for row in db.Conversation.select().where(
            db.Conversation.agent_id == agent.id, db.Conversation.team_id.in_(managed)
        )
    }
    assert {row[0] for row in result.rows} == expected
    assert done["row_count"] == len(expected) > 0


async def test_privacy_export_of_an_agent_outside_scope_is_refused(
    client: httpx.AsyncClient, login: Login
) -> None:
    answer = await client.post(
        "/privacy-exports",
        json={
            "subject_kind": "agent",
            "subject": MEMBER,
            "date_from": "2026-01-01",
            "date_to": "2026-12-31",
        },
        headers=await login(TEAMADMIN),
    )
    assert answer.status_code == 422
    assert "no agent" in answer.json()["detail"]


async def test_privacy_export_fails_with_a_reason(
    client: httpx.AsyncClient, login: Login, clock: FakeClock
) -> None:
    agent = _agent_with_history()
    job = db.PrivacyExport.create(
        tenant=agent.tenant_id,
        requested_by=user_id(ADMIN),
        requested_by_name="Zoë Müller",
        subject_kind="agent",
        subject=agent.upn,
        date_from="2026-01-01",
        date_to="2026-12-31",
        created_at=clock.now(),
    )
    agent.delete_instance()
    run_export(job.id, clock)
    failed = (await client.get(f"/privacy-exports/{job.id}", headers=await login(ADMIN))).json()
    assert failed["state"] == "failed"
    assert "no longer exists" in failed["error"]
    result = await client.get(f"/privacy-exports/{job.id}/result", headers=await login(ADMIN))
    assert result.status_code == 409


async def test_live_chat_between_a_user_and_support(
    client: httpx.AsyncClient, login: Login
) -> None:
    member = await login(MEMBER)
    support = await login(SYSADMIN)
    sent = await client.post(
        "/chat/messages", json={"text": "My phone rings twice 📞"}, headers=member
    )
    assert sent.status_code == 201
    chats = (await client.get("/support/chats", headers=support)).json()
    assert [chat["user_id"] for chat in chats] == [user_id(MEMBER)]
    reply = await client.post(
        f"/support/chats/{user_id(MEMBER)}/messages",
        json={"text": "Looking into it"},
        headers=support,
    )
    assert reply.status_code == 201
    seen = (
        await client.get("/chat/messages", params={"after": sent.json()["id"]}, headers=member)
    ).json()
    assert [(msg["author"], msg["text"]) for msg in seen] == [("support", "Looking into it")]


async def test_chat_text_is_limited_to_500_characters(
    client: httpx.AsyncClient, login: Login
) -> None:
    member = await login(MEMBER)
    assert (
        await client.post("/chat/messages", json={"text": "x" * 500}, headers=member)
    ).status_code == 201
    too_long = await client.post("/chat/messages", json={"text": "x" * 501}, headers=member)
    assert too_long.status_code == 422


async def test_chat_is_off_where_the_tenant_has_not_enabled_it(
    client: httpx.AsyncClient, login: Login
) -> None:
    answer = await client.get("/chat/messages", headers=await login(CONTOSO_ADMIN))
    assert answer.status_code == 403
    assert answer.json()["type"].endswith("/feature-disabled")


async def test_admin_route_changes_a_components_state(
    client: httpx.AsyncClient, login: Login, clock: FakeClock
) -> None:
    headers = await login(SYSADMIN)
    be01 = named(db.Instance, "STRATUS-BE01")
    answer = await client.put(
        f"/admin/instances/{be01}/components/ICH", json={"state": "stopped"}, headers=headers
    )
    assert answer.status_code == 200
    ich = next(part for part in answer.json()["components"] if part["abbreviation"] == "ICH")
    assert ich["state"] == "stopped"
    missing = await client.put(
        f"/admin/instances/{be01}/components/SMD", json={"state": "stopped"}, headers=headers
    )
    assert missing.status_code == 404
