"""Data privacy against the in-process reference server: export jobs from queued to done or
failed, retention purges, erasures, the privacy events, and local caches following them."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import json
import sqlite3
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from peewee import fn

from stratus_tui.api import models as m
from stratus_tui.api.errors import BadResponse
from stratus_tui.cache import ingest
from stratus_tui.cache.privacy import STATE_KEY
from stratus_tui.commands.sync import summary
from stratus_tui.export.csv import BOM
from stratus_tui.export.privacy_csv import write_privacy_csv
from stratus_tui.server import db, privacy_data
from stratus_tui.server.clock import FakeClock
from stratus_tui.server.routes.privacy import run_export
from tests.cache_helpers import cache_ids, check_consistent, server_rows, sync_as
from tests.conftest import (
    ADMIN,
    CONTOSO_ADMIN,
    MEMBER,
    NOW,
    SYSADMIN,
    TEAMADMIN,
    Login,
    named,
    user_id,
)

DAY = 86_400
Steps = list[m.PrivacyExport]


@pytest.fixture
def app(server_app: FastAPI, client: httpx.AsyncClient) -> FastAPI:
    """The app whose context the ``client`` fixture set up (a sync needs the app itself)."""
    return server_app


@pytest.fixture
def steps(server_app: FastAPI, client: httpx.AsyncClient) -> Steps:
    """Every stored change of an export job, as the job resource; exports read 3 at a time."""
    seen: Steps = []
    server_app.state.context = dataclasses.replace(
        server_app.state.context, export_chunk=3, on_export_step=seen.append
    )
    return seen


def tenant_of(upn: str) -> int:
    return int(db.User.get(db.User.upn_key == upn.lower()).tenant_id)


def frequent_customer(tenant: int, at_least: int = 10) -> str:
    """A phone number (a regular caller) with many conversations in the tenant."""
    conversation = db.Conversation
    customer, count = db.tuples(
        conversation.select(conversation.customer_id, fn.COUNT(conversation.id))
        .where(conversation.tenant_id == tenant, conversation.customer_id.startswith("+"))
        .group_by(conversation.customer_id)
        .order_by(fn.COUNT(conversation.id).desc(), conversation.customer_id)
        .limit(1)
    )[0]
    assert count >= at_least
    return str(customer)


def spaced(number: str) -> str:
    """``+41791234567`` as people write it: ``+41 79 123 45 67``."""
    digits = number[1:]
    return f"+{digits[:2]} {digits[2:4]} {digits[4:7]} {digits[7:9]} {digits[9:]}"


def ids_of(where: str, params: list[Any]) -> set[int]:
    return set(server_rows(where, params))


async def start_export(
    client: httpx.AsyncClient, headers: dict[str, str], kind: str, subject: str
) -> dict[str, Any]:
    answer = await client.post(
        "/privacy-exports",
        json={
            "subject_kind": kind,
            "subject": subject,
            "date_from": "2026-01-01",
            "date_to": "2026-12-31",
        },
        headers=headers,
    )
    assert answer.status_code == 202, answer.text
    job: dict[str, Any] = answer.json()
    return job


async def result_of(
    client: httpx.AsyncClient, headers: dict[str, str], job_id: int
) -> m.PrivacyExportResult:
    answer = await client.get(f"/privacy-exports/{job_id}/result", headers=headers)
    assert answer.status_code == 200, answer.text
    return m.PrivacyExportResult.model_validate_json(answer.content)


async def events(
    client: httpx.AsyncClient, headers: dict[str, str], after: int = 0, **params: int
) -> m.PrivacyEventPage:
    answer = await client.get("/privacy/events", params={"after": after, **params}, headers=headers)
    assert answer.status_code == 200, answer.text
    return m.PrivacyEventPage.model_validate_json(answer.content)


async def set_retention(
    client: httpx.AsyncClient, headers: dict[str, str], tenant: int, days: int
) -> httpx.Response:
    etag = (await client.get(f"/tenants/{tenant}", headers=headers)).headers["ETag"]
    return await client.patch(
        f"/tenants/{tenant}",
        json={"retention_days": days},
        headers={**headers, "If-Match": etag},
    )


# --- export jobs: queued, running, done or failed ----------------------------------------


async def test_an_export_goes_from_queued_through_its_chunks_to_done(
    client: httpx.AsyncClient, login: Login, steps: Steps
) -> None:
    headers = await login(ADMIN)
    customer = frequent_customer(tenant_of(ADMIN))
    job = await start_export(client, headers, "customer", customer)
    assert job["state"] == "queued" and job["progress"] == 0.0
    expected = ids_of("customer_id = ?", [customer])
    # Each stored change, in order: running at 0, then one step per chunk of 3, then done.
    assert [step.state for step in steps] == ["running"] * (1 + -(-len(expected) // 3)) + ["done"]
    progress = [step.progress for step in steps]
    assert progress == sorted(progress) and progress[0] == 0.0 and progress[-1] == 1.0
    assert all(0 < value < 1 for value in progress[1:-1])
    assert steps[-1].row_count == len(expected) and steps[-1].finished_at is not None
    done = (await client.get(f"/privacy-exports/{job['id']}", headers=headers)).json()
    assert done["state"] == "done" and done["error"] is None


async def test_an_export_whose_agent_is_deleted_meanwhile_fails_with_the_reason(
    client: httpx.AsyncClient, login: Login, steps: Steps, server_app: FastAPI
) -> None:
    agent = db.User.get_by_id(
        db.Conversation.select(db.Conversation.agent_id)
        .where(
            db.Conversation.tenant_id == tenant_of(ADMIN), db.Conversation.agent_id.is_null(False)
        )
        .first()
        .agent_id
    )

    def delete_the_agent_once_running(job: m.PrivacyExport) -> None:
        steps.append(job)
        if job.state == "running" and len(steps) == 1:
            db.User.delete_by_id(agent.id)

    server_app.state.context = dataclasses.replace(
        server_app.state.context, on_export_step=delete_the_agent_once_running
    )
    headers = await login(ADMIN)
    job = await start_export(client, headers, "agent", agent.upn)
    assert [step.state for step in steps] == ["running", "failed"]
    failed = (await client.get(f"/privacy-exports/{job['id']}", headers=headers)).json()
    assert failed["state"] == "failed"
    assert failed["error"] == f"the agent {agent.upn} no longer exists"
    assert failed["finished_at"] is not None
    result = await client.get(f"/privacy-exports/{job['id']}/result", headers=headers)
    assert result.status_code == 409 and "failed, not done" in result.json()["detail"]


async def test_jobs_left_queued_or_running_fail_when_the_server_starts(
    client: httpx.AsyncClient, login: Login, clock: FakeClock
) -> None:
    def job(state: str) -> int:
        return int(
            db.PrivacyExport.create(
                tenant=tenant_of(ADMIN),
                requested_by=user_id(ADMIN),
                requested_by_name="Zoë",
                subject_kind="customer",
                subject="+41445550000",
                date_from="2026-01-01",
                date_to="2026-12-31",
                state=state,
                progress=0.4 if state == "running" else 0.0,
                created_at=clock.now(),
            ).id
        )

    queued, running, done = job("queued"), job("running"), job("done")
    privacy_data.on_server_start(clock.now())
    headers = await login(ADMIN)
    for job_id in (queued, running):
        found = (await client.get(f"/privacy-exports/{job_id}", headers=headers)).json()
        assert found["state"] == "failed" and "server restarted" in found["error"]
    assert db.PrivacyExport.get_by_id(done).state == "done"
    # A job that is no longer queued is not run again.
    run_export(queued, clock)
    assert db.PrivacyExport.get_by_id(queued).state == "failed"


async def test_the_downloaded_csv_holds_exactly_the_subjects_conversations(
    client: httpx.AsyncClient, login: Login, tmp_path: Path
) -> None:
    headers = await login(ADMIN)
    customer = frequent_customer(tenant_of(ADMIN))
    # Written with spaces: the export finds what an erasure of it would erase.
    job = await start_export(client, headers, "customer", spaced(customer))
    result = await result_of(client, headers, job["id"])
    path = tmp_path / "out" / "privacy.csv"
    assert write_privacy_csv(result, path) == len(result.rows)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert text.startswith(BOM)
    with path.open(encoding="utf-8-sig", newline="") as stream:
        header, *lines = list(csv.reader(stream))
    assert header == list(m.CONVERSATION_FIELDS)
    connection = db.database.connection()
    expected = connection.execute(
        f"SELECT {', '.join(m.CONVERSATION_FIELDS)} FROM conversation "
        "WHERE tenant_id = ? AND customer_id = ? ORDER BY id",
        (tenant_of(ADMIN), customer),
    ).fetchall()
    assert len(expected) >= 10 and [line for line in lines] == [as_csv(row) for row in expected]


def as_csv(row: tuple[Any, ...]) -> list[str]:
    """A database row as write_privacy_csv writes it."""
    cells = []
    for name, value in zip(m.CONVERSATION_FIELDS, row, strict=True):
        if value is None:
            cells.append("")
        elif name.endswith("_at"):
            cells.append(datetime.fromtimestamp(value, UTC).isoformat())
        elif name in ("direct", "voicemail"):
            cells.append("true" if value else "false")
        else:
            cells.append(str(value))
    return cells


def test_the_privacy_csv_neutralises_formulas_and_refuses_ragged_rows(tmp_path: Path) -> None:
    fields = ["id", "started_at", "customer_id"]
    result = m.PrivacyExportResult(
        fields=fields,
        rows=[[1, NOW, '=HYPERLINK("https://evil.example")'], [2, NOW, "+41791234567"]],
    )
    path = tmp_path / "p.csv"
    assert write_privacy_csv(result, path) == 2
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[1] == ["1", "2026-11-22T12:00:00+00:00", '\'=HYPERLINK("https://evil.example")']
    assert rows[2][2] == "+41791234567"
    ragged = m.PrivacyExportResult(fields=fields, rows=[[1, NOW, "x"], [2, NOW]])
    with pytest.raises(BadResponse, match=r"Row 2 .* 2 values for 3 fields"):
        write_privacy_csv(ragged, path)
    assert len(path.read_text(encoding="utf-8-sig").splitlines()) == 3  # the old file stays
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv"]


# --- retention ---------------------------------------------------------------------------


async def test_a_shorter_retention_purges_the_server_and_then_the_caches(
    client: httpx.AsyncClient, login: Login, app: FastAPI, tmp_path: Path
) -> None:
    demo, contoso = tenant_of(ADMIN), tenant_of(CONTOSO_ADMIN)
    admin = await login(ADMIN)
    # A finished export with rows on both sides of the coming cut-off.
    customer = frequent_customer(demo)
    job = await start_export(client, admin, "customer", customer)
    cache, _ = await sync_as(app, SYSADMIN, tmp_path / "sys")
    cutoff = NOW - 30 * DAY
    cached_old = {
        tenant: count_cached(cache, "tenant_id = ? AND started_at < ?", [tenant, cutoff])
        for tenant in (demo, contoso)
    }
    assert cached_old[demo] > 0 and cached_old[contoso] > 0
    contoso_before = ids_of("tenant_id = ?", [contoso])

    answer = await set_retention(client, admin, demo, 30)
    assert answer.status_code == 200, answer.text
    assert m.Tenant.model_validate(answer.json()).retention_days == 30
    assert not ids_of("tenant_id = ? AND started_at < ?", [demo, cutoff])
    assert ids_of("tenant_id = ? AND started_at >= ?", [demo, cutoff])
    assert ids_of("tenant_id = ?", [contoso]) == contoso_before  # another tenant's history
    page = await events(client, admin)
    assert [(e.kind, e.tenant_id, e.before) for e in page.events] == [
        ("purge", demo, datetime.fromtimestamp(cutoff, UTC))
    ]
    assert page.last_id == page.events[0].id
    # The finished export lost the rows that retention took from the history.
    kept = await result_of(client, admin, job["id"])
    started = m.CONVERSATION_FIELDS.index("started_at")
    assert kept.rows and all(row[started] >= cutoff for row in kept.rows)
    assert {row[0] for row in kept.rows} == ids_of(
        "tenant_id = ? AND customer_id = ?", [demo, customer]
    )

    _, result = await sync_as(app, SYSADMIN, tmp_path / "sys")
    assert result.privacy_purged == cached_old[demo]
    assert count_cached(cache, "tenant_id = ? AND started_at < ?", [demo, cutoff]) == 0
    # Purges are per tenant: Contoso's rows before the same moment stay in the cache.
    assert (
        count_cached(cache, "tenant_id = ? AND started_at < ?", [contoso, cutoff])
        == (cached_old[contoso])
    )
    assert set(cache_ids(cache)) <= set(server_rows())
    assert cache.get_state(STATE_KEY) == str(page.last_id)
    check_consistent(cache)  # the hourly buckets lost exactly the purged rows' counts
    assert "Following the server's data privacy: " in summary(result, cache)
    _, again = await sync_as(app, SYSADMIN, tmp_path / "sys")
    assert again.privacy_purged == 0
    assert "data privacy" not in summary(again, cache)
    cache.close()


def count_cached(cache: Any, where: str, params: list[Any]) -> int:
    with cache.read() as connection:
        found = connection.execute(
            f"SELECT count(*) FROM conversation WHERE {where}",
            params,
        ).fetchone()
    return int(found[0])


@pytest.mark.parametrize("days", [0, 3651, -5])
async def test_retention_outside_what_the_product_allows_is_refused(
    client: httpx.AsyncClient, login: Login, days: int
) -> None:
    before = db.Conversation.select().count()
    answer = await set_retention(client, await login(ADMIN), tenant_of(ADMIN), days)
    assert answer.status_code == 422
    assert "retention_days" in answer.json()["detail"]
    assert db.Conversation.select().count() == before
    assert db.PrivacyEvent.select().count() == 0


async def test_an_unchanged_retention_or_nothing_to_purge_records_no_event(
    client: httpx.AsyncClient, login: Login, clock: FakeClock
) -> None:
    answer = await set_retention(client, await login(ADMIN), tenant_of(ADMIN), 3650)
    assert answer.status_code == 200
    assert privacy_data.purge_all(clock.now()) == []
    assert db.PrivacyEvent.select().count() == 0


async def test_the_server_start_applies_each_tenants_retention(
    clock: FakeClock, server_db: Path
) -> None:
    contoso = named(db.Tenant, "Contoso")
    db.Tenant.update(retention_days=10).where(db.Tenant.id == contoso).execute()
    privacy_data.on_server_start(clock.now())
    cutoff = clock.now() - 10 * DAY
    assert not ids_of("tenant_id = ? AND started_at < ?", [contoso, cutoff])
    assert ids_of("tenant_id = ? AND started_at < ?", [named(db.Tenant, "Demo Corp"), cutoff])
    [event] = list(db.PrivacyEvent.select())
    assert (event.tenant_id, event.kind, event.before) == (contoso, "purge", cutoff)


async def test_the_running_server_applies_retention_every_hour(
    server_app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stratus_tui.server import app as server_module

    monkeypatch.setattr(server_module, "RETENTION_EVERY", 0.05)
    contoso = named(db.Tenant, "Contoso")
    async with server_module.lifespan(server_app):
        assert db.PrivacyEvent.select().count() == 0  # nothing older than 365 days
        db.Tenant.update(retention_days=10).where(db.Tenant.id == contoso).execute()
        for _ in range(200):
            if db.PrivacyEvent.select().exists():
                break
            await asyncio.sleep(0.05)
    [event] = list(db.PrivacyEvent.select())
    assert (event.tenant_id, event.kind, event.before) == (contoso, "purge", NOW - 10 * DAY)
    assert not ids_of("tenant_id = ? AND started_at < ?", [contoso, NOW - 10 * DAY])


async def test_a_change_sequence_is_never_issued_twice_after_a_purge(
    client: httpx.AsyncClient, login: Login
) -> None:
    demo = tenant_of(ADMIN)
    admin = await login(ADMIN)
    connection = db.database.connection()
    # The oldest conversation of a customer who called only once.
    oldest, customer = connection.execute(
        "SELECT min(id), customer_id FROM conversation WHERE tenant_id = ? "
        "GROUP BY customer_id HAVING count(*) = 1 ORDER BY min(started_at) LIMIT 1",
        (demo,),
    ).fetchone()
    # Erasing it moves it to the top of the change sequence...
    answer = await client.post(
        "/privacy/erasures", json={"customer_identifier": customer}, headers=admin
    )
    assert answer.status_code == 201 and answer.json()["conversations"] == 1
    top = db.Conversation.get_by_id(oldest).seq
    assert top == db.Conversation.select(fn.MAX(db.Conversation.seq)).scalar()
    # ... then retention deletes it: the next change still gets a higher number.
    assert (await set_retention(client, admin, demo, 30)).status_code == 200
    assert db.Conversation.get_or_none(db.Conversation.id == oldest) is None
    assert db.Conversation.select(fn.MAX(db.Conversation.seq)).scalar() < top
    assert privacy_data.high_water()[1] == top
    recent = (
        db.Conversation.select()
        .where(db.Conversation.tenant_id == demo)
        .order_by(-db.Conversation.started_at)
        .first()
    )
    await client.post(
        "/privacy/erasures", json={"customer_identifier": recent.customer_id}, headers=admin
    )
    assert db.Conversation.get_by_id(recent.id).seq > top


# --- erasure -----------------------------------------------------------------------------


async def test_an_erasure_anonymises_the_history_the_exports_and_then_the_caches(
    client: httpx.AsyncClient, login: Login, app: FastAPI, tmp_path: Path
) -> None:
    demo = tenant_of(ADMIN)
    admin = await login(ADMIN)
    customer = frequent_customer(demo)
    theirs = ids_of("tenant_id = ? AND customer_id = ?", [demo, customer])
    others = ids_of("tenant_id != ? AND customer_id = ?", [demo, customer])
    # Exports made before: one of the customer, one of an agent who spoke with them.
    of_customer = await start_export(client, admin, "customer", customer)
    agent_id = db.Conversation.get(
        db.Conversation.customer_id == customer,
        db.Conversation.tenant_id == demo,
        db.Conversation.agent_id.is_null(False),
    ).agent_id
    of_agent = await start_export(client, admin, "agent", db.User.get_by_id(agent_id).upn)
    cache, _ = await sync_as(app, ADMIN, tmp_path)
    cached = set(cache_ids(cache)) & theirs
    assert cached
    top_seq = db.Conversation.select(fn.MAX(db.Conversation.seq)).scalar()

    answer = await client.post(
        "/privacy/erasures", json={"customer_identifier": f"  {spaced(customer)} "}, headers=admin
    )
    assert answer.status_code == 201, answer.text
    erasure = m.Erasure.model_validate_json(answer.content)
    assert erasure.conversations == len(theirs)
    assert erasure.erased_at == datetime.fromtimestamp(NOW, UTC)
    assert customer not in answer.text
    # The history: anonymised, re-sequenced (the feed sends them again); other tenants' not.
    assert not ids_of("tenant_id = ? AND customer_id = ?", [demo, customer])
    rows = server_rows("id IN (SELECT value FROM json_each(?))", [json.dumps(sorted(theirs))])
    assert {row[16] for row in rows.values()} == {m.ERASED_CUSTOMER}
    assert min(row[1] for row in rows.values()) > top_seq
    assert ids_of("tenant_id != ? AND customer_id = ?", [demo, customer]) == others
    # The event names the conversations, not the identifier.
    page = await events(client, admin)
    [event] = page.events
    assert (event.id, event.kind, event.tenant_id, event.before) == (
        erasure.id,
        "erase",
        demo,
        None,
    )
    assert event.conversation_ids == sorted(theirs)
    # The customer's export is gone, subject and all; the agent's is redacted.
    gone = (await client.get(f"/privacy-exports/{of_customer['id']}", headers=admin)).json()
    assert gone["state"] == "failed" and "erased" in gone["error"]
    assert gone["subject"] == m.ERASED_CUSTOMER and gone["row_count"] == 0
    assert db.PrivacyExport.get_by_id(of_customer["id"]).result is None
    redacted = await result_of(client, admin, of_agent["id"])
    assert customer not in json.dumps(redacted.rows)
    assert any(row[16] == m.ERASED_CUSTOMER for row in redacted.rows)

    _, result = await sync_as(app, ADMIN, tmp_path)
    assert result.privacy_erased == len(cached)
    with cache.read() as connection:
        stored = dict(
            connection.execute(
                "SELECT id, customer_id FROM conversation"
                " WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(cached)),),
            ).fetchall()
        )
        leaked = connection.execute(
            "SELECT count(*) FROM conversation WHERE customer_id = ?", (customer,)
        ).fetchone()[0]
    assert set(stored.values()) == {m.ERASED_CUSTOMER} and leaked == 0
    check_consistent(cache)
    cache.close()


async def test_an_erasure_while_an_export_runs_leaves_nothing_of_the_customer_in_it(
    client: httpx.AsyncClient, login: Login, server_app: FastAPI
) -> None:
    demo = tenant_of(ADMIN)
    customer = frequent_customer(demo)
    agent_id = db.Conversation.get(
        db.Conversation.customer_id == customer,
        db.Conversation.tenant_id == demo,
        db.Conversation.agent_id.is_null(False),
    ).agent_id
    erased: list[int] = []

    def erase_midway(job: m.PrivacyExport) -> None:
        if job.state == "running" and job.progress > 0 and not erased:
            erased.append(privacy_data.erase_customer(demo, customer, None, NOW).event_id)

    server_app.state.context = dataclasses.replace(
        server_app.state.context, export_chunk=2, on_export_step=erase_midway
    )
    headers = await login(ADMIN)
    job = await start_export(client, headers, "agent", db.User.get_by_id(agent_id).upn)
    assert erased
    result = await result_of(client, headers, job["id"])
    assert result.rows and customer not in json.dumps(result.rows)


@pytest.mark.parametrize(
    ("user", "status", "words"),
    [
        (TEAMADMIN, 403, "Only tenant admins may erase"),
        (MEMBER, 403, "Only tenant admins may erase"),
        (SYSADMIN, 422, "from within a tenant account"),
    ],
)
async def test_who_may_not_erase_gets_a_clear_refusal_and_nothing_changes(
    client: httpx.AsyncClient, login: Login, user: str, status: int, words: str
) -> None:
    customer = frequent_customer(tenant_of(ADMIN))
    before = ids_of("customer_id = ?", [customer])
    answer = await client.post(
        "/privacy/erasures", json={"customer_identifier": customer}, headers=await login(user)
    )
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert words in answer.json()["detail"]
    assert ids_of("customer_id = ?", [customer]) == before
    assert db.PrivacyEvent.select().count() == 0


async def test_erasing_an_unknown_identifier_answers_zero_and_leaves_a_trace(
    client: httpx.AsyncClient, login: Login
) -> None:
    admin = await login(ADMIN)
    seq = db.Conversation.select(fn.MAX(db.Conversation.seq)).scalar()
    answer = await client.post(
        "/privacy/erasures", json={"customer_identifier": "nobody@nowhere.example"}, headers=admin
    )
    assert answer.status_code == 201
    assert answer.json()["conversations"] == 0
    [event] = (await events(client, admin)).events
    assert event.kind == "erase" and event.conversation_ids == []
    assert db.PrivacyEvent.get_by_id(event.id).requested_by == user_id(ADMIN)
    assert db.Conversation.select(fn.MAX(db.Conversation.seq)).scalar() == seq


@pytest.mark.parametrize("identifier", ["erased", "   ", ""])
async def test_the_placeholder_and_blanks_are_not_identifiers(
    client: httpx.AsyncClient, login: Login, identifier: str
) -> None:
    answer = await client.post(
        "/privacy/erasures", json={"customer_identifier": identifier}, headers=await login(ADMIN)
    )
    assert answer.status_code == 422
    assert db.PrivacyEvent.select().count() == 0


def test_phone_numbers_match_in_their_e164_form() -> None:
    keys = privacy_data.customer_keys
    assert keys(" +41791234567 ") == ["+41791234567"]
    for written in ("+41 79 123 45 67", "0041 79 123 45 67", "tel:+41-79-123-45-67",
                    "+41 (0)79 123 45 67", "+41.79.123.45.67"):  # fmt: skip
        assert keys(written) == [written, "+41791234567"]
    for exact in ("079 123 45 67", "anna12@gmail.com", "sip:anna12@gmail.com", "+1 23"):
        assert keys(exact) == [exact]


# --- the events feed ---------------------------------------------------------------------


async def test_events_are_scoped_to_the_callers_tenant_and_teams(
    client: httpx.AsyncClient, login: Login
) -> None:
    demo, contoso = tenant_of(ADMIN), tenant_of(CONTOSO_ADMIN)
    managed = set(
        db.column(
            db.TeamManager.select(db.TeamManager.team).where(
                db.TeamManager.user == user_id(TEAMADMIN)
            )
        )
    )
    mine = db.Conversation.get(db.Conversation.team_id.in_(sorted(managed)))
    # The same customer also called another team of the tenant, three times.
    other = db.column(
        db.Conversation.select(db.Conversation.id)
        .where(db.Conversation.tenant_id == demo, db.Conversation.team_id.not_in(sorted(managed)))
        .limit(3)
    )
    db.Conversation.update(customer_id=mine.customer_id).where(
        db.Conversation.id.in_(other)
    ).execute()
    demo_erasure = await client.post(
        "/privacy/erasures",
        json={"customer_identifier": mine.customer_id},
        headers=await login(ADMIN),
    )
    contoso_erasure = await client.post(
        "/privacy/erasures",
        json={"customer_identifier": frequent_customer(contoso, at_least=2)},
        headers=await login(CONTOSO_ADMIN),
    )
    demo_id, contoso_id = demo_erasure.json()["id"], contoso_erasure.json()["id"]
    by_user = {
        user: await events(client, await login(user))
        for user in (ADMIN, CONTOSO_ADMIN, SYSADMIN, TEAMADMIN)
    }
    assert [e.id for e in by_user[ADMIN].events] == [demo_id]
    assert [e.id for e in by_user[CONTOSO_ADMIN].events] == [contoso_id]
    assert [e.id for e in by_user[SYSADMIN].events] == [demo_id, contoso_id]
    # A team admin gets the tenant's events, with only their teams' conversations.
    [theirs] = by_user[TEAMADMIN].events
    whole = by_user[ADMIN].events[0].conversation_ids
    expected = [i for i in whole if db.Conversation.get_by_id(i).team_id in managed]
    assert mine.id in expected and set(whole) - set(expected) == set(other)
    assert theirs.conversation_ids == expected
    member = await client.get("/privacy/events", headers=await login(MEMBER))
    assert member.status_code == 403


async def test_events_page_after_an_id(client: httpx.AsyncClient, login: Login) -> None:
    admin = await login(ADMIN)
    made = []
    for number in range(5):
        answer = await client.post(
            "/privacy/erasures", json={"customer_identifier": f"x{number}@a.example"}, headers=admin
        )
        made.append(answer.json()["id"])
    first = await events(client, admin, limit=2)
    assert [e.id for e in first.events] == made[:2] and first.last_id == made[1]
    rest = await events(client, admin, after=first.last_id)
    assert [e.id for e in rest.events] == made[2:] and rest.last_id == made[-1]
    empty = await events(client, admin, after=rest.last_id)
    assert empty.events == [] and empty.last_id == rest.last_id
    for bad in ({"after": -1}, {"limit": 0}, {"limit": m.PRIVACY_EVENT_PAGE + 1}):
        answer = await client.get("/privacy/events", params=bad, headers=admin)
        assert answer.status_code == 422


# --- how a cache starts following --------------------------------------------------------


async def test_a_first_sync_records_the_newest_event_without_applying_it(
    client: httpx.AsyncClient, login: Login, app: FastAPI, tmp_path: Path
) -> None:
    admin = await login(ADMIN)
    assert (await set_retention(client, admin, tenant_of(ADMIN), 40)).status_code == 200
    last = (await events(client, admin)).last_id
    cache, result = await sync_as(app, ADMIN, tmp_path)
    assert cache.get_state(STATE_KEY) == str(last)
    assert result.privacy_purged == 0 and result.added > 0
    assert set(cache_ids(cache)) <= set(server_rows())
    check_consistent(cache)
    cache.close()


async def test_a_cache_with_history_but_no_event_id_applies_every_event(
    client: httpx.AsyncClient, login: Login, app: FastAPI, tmp_path: Path
) -> None:
    cache, _ = await sync_as(app, ADMIN, tmp_path)
    cache.set_state({STATE_KEY: None})  # as a cache written before the events existed
    cutoff = NOW - 40 * DAY
    before = count_cached(cache, "started_at < ?", [cutoff])
    assert before > 0
    assert (
        await set_retention(client, await login(ADMIN), tenant_of(ADMIN), 40)
    ).status_code == 200
    _, result = await sync_as(app, ADMIN, tmp_path)
    assert result.privacy_purged == before
    assert count_cached(cache, "started_at < ?", [cutoff]) == 0
    check_consistent(cache)
    cache.close()


async def test_a_reset_history_forgets_the_event_id(app: FastAPI, tmp_path: Path) -> None:
    cache, _ = await sync_as(app, ADMIN, tmp_path)
    assert cache.get_state(STATE_KEY) == "0"
    ingest.reset_history(cache, "server")
    assert cache.get_state(STATE_KEY) is None
    cache.close()


async def test_a_server_without_the_events_feed_is_still_synced(
    app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stratus_tui.api.client import StratusClient

    real_get: Callable[..., Any] = StratusClient.get

    async def no_events(self: StratusClient, path: str, *args: Any, **options: Any) -> Any:
        if path == "/privacy/events":
            from stratus_tui.api.errors import NotFound

            raise NotFound(404)
        return await real_get(self, path, *args, **options)

    monkeypatch.setattr(StratusClient, "get", no_events)
    cache, result = await sync_as(app, ADMIN, tmp_path)
    assert result.added > 0 and cache.get_state(STATE_KEY) is None
    cache.close()


# --- the server database's version ---------------------------------------------------------


def test_a_version_1_database_gets_the_privacy_events_table(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    database = db.open_database(path)
    database.drop_tables([db.PrivacyEvent])
    database.user_version = 1
    database.close()
    database = db.open_database(path)
    try:
        assert database.user_version == db.SCHEMA_VERSION == 2
        assert "privacy_event" in database.get_tables()
    finally:
        database.close()
    with sqlite3.connect(path) as connection:
        indexes = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'privacy_event'"
        ).fetchall()
    connection.close()
    assert indexes
