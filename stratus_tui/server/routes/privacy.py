"""Data privacy: export jobs per subject (an agent or a customer) and date range,
erasures of a customer identifier, and the events local caches follow (docs/privacy.md).

An export job is ``queued`` when created, ``running`` while ``run_export`` reads the
subject's conversations (its progress rises chunk by chunk), then ``done`` with the rows, or
``failed`` with a reason in ``error``. A job a dead process left queued or running fails
when the server starts again (``privacy_data.recover_jobs``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, BackgroundTasks, Query, Response

from stratus_tui.api import models as m
from stratus_tui.api.contract_base import INT64_MAX
from stratus_tui.server import convert, db, privacy_data
from stratus_tui.server.clock import Clock
from stratus_tui.server.crud import Cursor, DbInt, Limit, get_or_404, paginate
from stratus_tui.server.deps import Caller, Context
from stratus_tui.server.errors import ProblemError, forbidden, invalid, not_found
from stratus_tui.server.scope import STAFF, ensure_tenant, require, tenant_condition, where

router = APIRouter(tags=["privacy"])
log = logging.getLogger("stratus_tui.server")
CHUNK = privacy_data.EXPORT_CHUNK
ExportStep = Callable[[m.PrivacyExport], None]


def _job(principal: Caller, job_id: int) -> db.PrivacyExport:
    require(principal, STAFF, "see data-privacy exports")
    row = get_or_404(db.PrivacyExport, job_id, "export")
    ensure_tenant(principal, row.tenant_id, "export")
    if principal.role == "team_admin" and row.requested_by != principal.user_id:
        raise not_found("export")
    return row


@router.get("/privacy-exports")
def list_privacy_exports(
    principal: Caller, cursor: Cursor = None, limit: Limit = 100
) -> m.Page[m.PrivacyExport]:
    require(principal, STAFF, "see data-privacy exports")
    query = db.PrivacyExport.select().where(
        *where(
            tenant_condition(principal, db.PrivacyExport.tenant),
            db.PrivacyExport.requested_by == principal.user_id
            if principal.role == "team_admin"
            else None,
        )
    )
    return paginate(query, db.PrivacyExport, cursor, limit, convert.privacy_exports)


@router.get("/privacy-exports/{job_id}")
def get_privacy_export(job_id: DbInt, principal: Caller) -> m.PrivacyExport:
    return convert.privacy_exports([_job(principal, job_id)])[0]


def _agent_in_scope(principal: Caller, upn: str, tenant_id: int) -> db.User:
    agent = db.User.get_or_none(db.User.upn_key == upn.lower(), db.User.tenant == tenant_id)
    in_scope = agent is not None and (
        principal.role != "team_admin"
        or db.TeamMember.select()
        .where(
            db.TeamMember.user == agent.id,
            db.TeamMember.team.in_(sorted(principal.managed_team_ids)),
        )
        .exists()
    )
    if not in_scope:
        raise invalid(f"no agent with UPN {upn} in your scope", field="subject")
    assert agent is not None
    return agent


@router.post(
    "/privacy-exports", status_code=202, summary="Start an export of one subject's history"
)
def create_privacy_export(
    body: m.PrivacyExportCreate,
    principal: Caller,
    context: Context,
    background: BackgroundTasks,
    response: Response,
) -> m.PrivacyExport:
    require(principal, STAFF, "export historic data")
    if principal.tenant_id is None:
        raise invalid("system admins export from within a tenant account", field="subject")
    if body.subject_kind == "agent":
        _agent_in_scope(principal, body.subject, principal.tenant_id)
    with db.database.atomic():
        row = db.PrivacyExport.create(
            tenant=principal.tenant_id,
            requested_by=principal.user_id,
            requested_by_name=principal.name,
            subject_kind=body.subject_kind,
            subject=body.subject,
            date_from=body.date_from.isoformat(),
            date_to=body.date_to.isoformat(),
            team_scope=",".join(str(team) for team in sorted(principal.managed_team_ids))
            if principal.role == "team_admin"
            else "",
            created_at=context.clock.now(),
        )
    background.add_task(
        run_export,
        row.id,
        context.clock,
        chunk=context.export_chunk,
        on_step=context.on_export_step,
    )
    response.headers["Location"] = f"/api/v1/privacy-exports/{row.id}"
    return convert.privacy_exports([row])[0]


def _local_day_start(day: date, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, time(), zone).timestamp())


def run_export(
    job_id: int, clock: Clock, *, chunk: int = CHUNK, on_step: ExportStep | None = None
) -> None:
    """Collect the subject's conversations ``chunk`` at a time, recording progress.

    ``on_step`` sees the job after each change that was stored (running, each chunk, done
    or failed): tests watch the lifecycle with it. A job that is no longer queued (failed
    by an erasure meanwhile, deleted) is left alone, and a job failed while it runs is not
    turned into ``done`` afterwards.
    """
    started = (
        db.PrivacyExport.update(state="running", progress=0.0)
        .where(db.PrivacyExport.id == job_id, db.PrivacyExport.state == "queued")
        .execute()
    )
    if not started:
        return
    _step(job_id, on_step)
    try:
        job = db.PrivacyExport.get_by_id(job_id)
        rows = _collect(job, max(1, chunk), on_step)
        with db.database.atomic():
            rows = _current(rows, job)
            finished = (
                db.PrivacyExport.update(
                    state="done",
                    progress=1.0,
                    row_count=len(rows),
                    result=json.dumps(rows),
                    finished_at=clock.now(),
                )
                .where(db.PrivacyExport.id == job_id, db.PrivacyExport.state == "running")
                .execute()
            )
    except Exception as error:
        log.warning("privacy export %s failed: %s", job_id, error)
        reason = str(error) if isinstance(error, LookupError) else f"the export failed: {error}"
        finished = (
            db.PrivacyExport.update(state="failed", error=reason, finished_at=clock.now())
            .where(db.PrivacyExport.id == job_id, db.PrivacyExport.state == "running")
            .execute()
        )
    if finished:
        _step(job_id, on_step)


def _step(job_id: int, on_step: ExportStep | None) -> None:
    if on_step is not None:
        row = db.PrivacyExport.get_or_none(db.PrivacyExport.id == job_id)
        if row is not None:
            on_step(convert.privacy_exports([row])[0])


def _collect(job: db.PrivacyExport, chunk: int, on_step: ExportStep | None) -> list[list[Any]]:
    tenant = db.Tenant.get_or_none(db.Tenant.id == job.tenant_id)
    if tenant is None:
        raise LookupError("the tenant no longer exists")
    zone = ZoneInfo(tenant.time_zone)
    start = _local_day_start(date.fromisoformat(job.date_from), zone)
    end = _local_day_start(date.fromisoformat(job.date_to) + timedelta(days=1), zone)
    query = db.Conversation.select().where(
        db.Conversation.tenant_id == job.tenant_id,
        db.Conversation.started_at >= start,
        db.Conversation.started_at < end,
    )
    if job.subject_kind == "agent":
        agent = db.User.get_or_none(
            db.User.upn_key == job.subject.lower(), db.User.tenant == job.tenant_id
        )
        if agent is None:
            raise LookupError(f"the agent {job.subject} no longer exists")
        query = query.where(db.Conversation.agent_id == agent.id)
    else:
        # The same identifiers an erasure of the subject would anonymise.
        keys = privacy_data.customer_keys(job.subject)
        query = query.where(db.Conversation.customer_id.in_(keys))
    if job.team_scope:
        query = query.where(
            db.Conversation.team_id.in_([int(t) for t in job.team_scope.split(",")])
        )
    total = query.count()
    rows: list[list[Any]] = []
    last_id = 0
    while True:
        values = db.tuples(
            query.where(db.Conversation.id > last_id).order_by(db.Conversation.id).limit(chunk)
        )
        if not values:
            return rows
        rows.extend(_row(row) for row in values)
        last_id = values[-1][0]
        moved = (
            db.PrivacyExport.update(progress=min(len(rows) / max(total, 1), 0.99))
            .where(db.PrivacyExport.id == job.id, db.PrivacyExport.state == "running")
            .execute()
        )
        if not moved:  # failed meanwhile (an erasure of its subject): stop reading
            return rows
        _step(job.id, on_step)


def _current(rows: list[list[Any]], job: db.PrivacyExport) -> list[list[Any]]:
    """``rows`` as they are now (in the final transaction): a conversation purged while the
    export ran is left out, one erased meanwhile gets the placeholder (or, in an export of
    that customer, is left out)."""
    if not rows:
        return rows
    ids = [row[0] for row in rows]
    now = dict(
        db.tuples(
            db.Conversation.select(db.Conversation.id, db.Conversation.customer_id).where(
                privacy_data.ids_in(db.Conversation.id, ids)
            )
        )
    )
    keys = set(privacy_data.customer_keys(job.subject)) if job.subject_kind == "customer" else None
    current = []
    customer = m.CONVERSATION_FIELDS.index("customer_id")
    for row in rows:
        value = now.get(row[0])
        if value is None or (keys is not None and value not in keys):
            continue
        if value != row[customer]:
            row = [*row[:customer], value, *row[customer + 1 :]]
        current.append(row)
    return current


_COLUMNS = [field.name for field in db.Conversation._meta.sorted_fields]


def _row(values: tuple[object, ...]) -> list[object]:
    named = dict(zip(_COLUMNS, values, strict=True))
    named["direct"] = bool(named["direct"])
    named["voicemail"] = bool(named["voicemail"])
    return [named[field] for field in m.CONVERSATION_FIELDS]


@router.get("/privacy-exports/{job_id}/result", summary="The rows of a finished export")
def get_privacy_export_result(job_id: DbInt, principal: Caller) -> m.PrivacyExportResult:
    row = _job(principal, job_id)
    if row.state != "done":
        raise ProblemError(
            409, f"This export is {row.state}, not done: nothing to download yet", kind="not-ready"
        )
    return m.PrivacyExportResult(
        fields=list(m.CONVERSATION_FIELDS), rows=json.loads(row.result or "[]")
    )


# --- erasures and events ---------------------------------------------------------------------


@router.post(
    "/privacy/erasures",
    status_code=201,
    summary="Forget a customer identifier: anonymise it in the tenant's history",
)
def create_erasure(body: m.ErasureCreate, principal: Caller, context: Context) -> m.Erasure:
    if principal.role not in {"system_admin", "tenant_admin"}:
        raise forbidden(
            "Only tenant admins may erase customer data (it cannot be undone); "
            "ask a tenant admin of your organisation"
        )
    if principal.tenant_id is None:
        raise invalid(
            "system admins erase customer data from within a tenant account",
            field="customer_identifier",
        )
    if body.customer_identifier == m.ERASED_CUSTOMER:
        raise invalid(
            f"{m.ERASED_CUSTOMER!r} is what erased identifiers become, not a customer",
            field="customer_identifier",
        )
    erased = privacy_data.erase_customer(
        principal.tenant_id, body.customer_identifier, principal.user_id, context.clock.now()
    )
    return m.Erasure(
        id=erased.event_id,
        conversations=len(erased.conversation_ids),
        erased_at=convert.utc(erased.erased_at),
    )


@router.get(
    "/privacy/events",
    summary="Purges and erasures after an event id, oldest first, for local caches to follow",
)
def list_privacy_events(
    principal: Caller,
    after: Annotated[
        int, Query(ge=0, le=INT64_MAX, description="`last_id` of the previous page")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=m.PRIVACY_EVENT_PAGE)] = m.PRIVACY_EVENT_PAGE,
) -> m.PrivacyEventPage:
    require(principal, STAFF, "read the history's privacy events")
    rows = list(
        db.PrivacyEvent.select()
        .where(
            db.PrivacyEvent.id > after,
            *where(tenant_condition(principal, db.PrivacyEvent.tenant_id)),
        )
        .order_by(db.PrivacyEvent.id)
        .limit(limit)
    )
    events = []
    for row in rows:
        ids = privacy_data.event_ids(row.conversation_ids)
        if principal.role == "team_admin" and ids:
            # A team admin's cache holds their teams' history: the others' ids are not theirs.
            ids = privacy_data.visible_ids(ids, principal.managed_team_ids)
        events.append(
            m.PrivacyEvent(
                id=row.id,
                tenant_id=row.tenant_id,
                kind=row.kind,
                before=convert.maybe_utc(row.before),
                conversation_ids=ids,
            )
        )
    return m.PrivacyEventPage(events=events, last_id=rows[-1].id if rows else after)
