"""Data-privacy exports: a job per subject (an agent or a customer) and date range."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, BackgroundTasks, Response

from stratus_tui.api import models as m
from stratus_tui.server import convert, db
from stratus_tui.server.clock import Clock
from stratus_tui.server.crud import Cursor, Limit, get_or_404, paginate
from stratus_tui.server.deps import Caller, Context
from stratus_tui.server.errors import ProblemError, invalid, not_found
from stratus_tui.server.scope import STAFF, ensure_tenant, require, tenant_condition, where

router = APIRouter(tags=["privacy"])
log = logging.getLogger("stratus_tui.server")
CHUNK = 5000


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
def get_privacy_export(job_id: int, principal: Caller) -> m.PrivacyExport:
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
    background.add_task(run_export, row.id, context.clock)
    response.headers["Location"] = f"/api/v1/privacy-exports/{row.id}"
    return convert.privacy_exports([row])[0]


def _local_day_start(day: date, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, time(), zone).timestamp())


def run_export(job_id: int, clock: Clock) -> None:
    """Collect the subject's conversations in chunks, recording progress as it goes."""
    job = db.PrivacyExport.get_by_id(job_id)
    db.PrivacyExport.update(state="running").where(db.PrivacyExport.id == job_id).execute()
    try:
        tenant = db.Tenant.get_by_id(job.tenant_id)
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
            query = query.where(db.Conversation.customer_id == job.subject)
        if job.team_scope:
            query = query.where(
                db.Conversation.team_id.in_([int(t) for t in job.team_scope.split(",")])
            )
        total = query.count()
        rows: list[list[object]] = []
        last_id = 0
        while True:
            chunk = db.tuples(
                query.where(db.Conversation.id > last_id).order_by(db.Conversation.id).limit(CHUNK)
            )
            if not chunk:
                break
            rows.extend(_row(values) for values in chunk)
            last_id = chunk[-1][0]
            db.PrivacyExport.update(progress=len(rows) / max(total, 1)).where(
                db.PrivacyExport.id == job_id
            ).execute()
        db.PrivacyExport.update(
            state="done",
            progress=1.0,
            row_count=len(rows),
            result=json.dumps(rows),
            finished_at=clock.now(),
        ).where(db.PrivacyExport.id == job_id).execute()
    except Exception as error:
        log.warning("privacy export %s failed: %s", job_id, error)
        db.PrivacyExport.update(state="failed", error=str(error), finished_at=clock.now()).where(
            db.PrivacyExport.id == job_id
        ).execute()


_COLUMNS = [field.name for field in db.Conversation._meta.sorted_fields]


def _row(values: tuple[object, ...]) -> list[object]:
    named = dict(zip(_COLUMNS, values, strict=True))
    named["direct"] = bool(named["direct"])
    named["voicemail"] = bool(named["voicemail"])
    return [named[field] for field in m.CONVERSATION_FIELDS]


@router.get("/privacy-exports/{job_id}/result", summary="The rows of a finished export")
def get_privacy_export_result(job_id: int, principal: Caller) -> m.PrivacyExportResult:
    row = _job(principal, job_id)
    if row.state != "done":
        raise ProblemError(
            409, f"This export is {row.state}, not done: nothing to download yet", kind="not-ready"
        )
    return m.PrivacyExportResult(
        fields=list(m.CONVERSATION_FIELDS), rows=json.loads(row.result or "[]")
    )
