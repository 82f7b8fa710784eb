"""Database rows to contract resources, a page at a time (link tables loaded in bulk)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from stratus_tui.api import models as m
from stratus_tui.server import db
from stratus_tui.server.crud import links


def utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def maybe_utc(epoch: int | None) -> datetime | None:
    return None if epoch is None else utc(epoch)


def tenants(rows: list[db.Tenant]) -> list[m.Tenant]:
    return [
        m.Tenant(
            id=row.id,
            name=row.name,
            time_zone=row.time_zone,
            license=m.LicenseLimits(
                agents_allowed=row.agents_allowed, supervisors_allowed=row.supervisors_allowed
            ),
            retention_days=row.retention_days,
            live_chat_enabled=row.live_chat_enabled,
            version=row.version,
        )
        for row in rows
    ]


def o365_apps(rows: list[db.O365App]) -> list[m.O365App]:
    return [
        m.O365App(
            id=row.id,
            tenant_id=row.tenant_id,
            domain=row.domain,
            azure_tenant_id=row.azure_tenant_id,
            client_id=row.client_id,
            authority=row.authority,
            version=row.version,
        )
        for row in rows
    ]


def org_units(rows: list[db.OrgUnit]) -> list[m.OrgUnit]:
    return [
        m.OrgUnit(
            id=row.id,
            tenant_id=row.tenant_id,
            parent_id=row.parent_id,
            name=row.name,
            is_system=row.is_system,
            version=row.version,
        )
        for row in rows
    ]


def teams(rows: list[db.Team]) -> list[m.Team]:
    return [
        m.Team(
            id=row.id,
            tenant_id=row.tenant_id,
            ou_id=row.ou_id,
            name=row.name,
            time_zone=row.time_zone,
            version=row.version,
        )
        for row in rows
    ]


def users(rows: list[db.User]) -> list[m.User]:
    ids = [row.id for row in rows]
    roles = links(db.UserRole, "user", "role", ids)
    member_of = links(db.TeamMember, "user", "team", ids)
    manages = links(db.TeamManager, "user", "team", ids)
    traits = links(db.UserTrait, "user", "trait", ids)
    responsibilities = links(db.UserResponsibility, "user", "responsibility", ids)
    return [
        m.User(
            id=row.id,
            tenant_id=row.tenant_id,
            ou_id=row.ou_id,
            first_name=row.first_name,
            last_name=row.last_name,
            upn=row.upn,
            sip_uri=row.sip_uri,
            roles=[role for role in m.ROLES if role in roles[row.id]],  # type: ignore[comparison-overlap]
            team_ids=member_of[row.id],
            managed_team_ids=manages[row.id],
            duty_profile_id=row.duty_profile_id,
            trait_ids=traits[row.id],
            responsibility_ids=responsibilities[row.id],
            active=row.active,
            directory_synced=row.directory_synced,
            version=row.version,
        )
        for row in rows
    ]


def duty_profiles(rows: list[db.DutyProfile]) -> list[m.DutyProfile]:
    responsibilities = links(
        db.DutyProfileResponsibility, "duty_profile", "responsibility", [row.id for row in rows]
    )
    return [
        m.DutyProfile(
            id=row.id,
            tenant_id=row.tenant_id,
            ou_id=row.ou_id,
            name=row.name,
            working_hours=json.loads(row.working_hours),
            escalation_levels=row.escalation_levels,
            responsibility_ids=responsibilities[row.id],
            version=row.version,
        )
        for row in rows
    ]


def traits(rows: list[db.Trait]) -> list[m.Trait]:
    return [
        m.Trait(
            id=row.id,
            tenant_id=row.tenant_id,
            ou_id=row.ou_id,
            parent_id=row.parent_id,
            name=row.name,
            version=row.version,
        )
        for row in rows
    ]


def responsibilities(rows: list[db.Responsibility]) -> list[m.Responsibility]:
    return [
        m.Responsibility(
            id=row.id, tenant_id=row.tenant_id, ou_id=row.ou_id, name=row.name, version=row.version
        )
        for row in rows
    ]


def services(rows: list[db.Service]) -> list[m.Service]:
    traits = links(db.ServiceTrait, "service", "trait", [row.id for row in rows])
    return [
        m.Service(
            id=row.id,
            tenant_id=row.tenant_id,
            team_id=row.team_id,
            ou_id=row.ou_id,
            kind=row.kind,
            name=row.name,
            address=row.address,
            display_name=row.display_name,
            endpoints=json.loads(row.endpoints),
            distribution=m.DistributionPolicy(
                priority=row.priority, wrr_level=row.wrr_level, direction=row.direction
            ),
            max_concurrent_sessions=row.max_concurrent_sessions,
            workflow_id=row.workflow_id,
            emergency_routing=row.emergency_routing,
            trait_ids=traits[row.id],
            version=row.version,
        )
        for row in rows
    ]


def workflows(rows: list[db.Workflow]) -> list[m.Workflow]:
    ids = [row.id for row in rows]
    used_by: dict[int, list[int]] = {workflow_id: [] for workflow_id in ids}
    if ids:
        query = (
            db.Service.select(db.Service.workflow, db.Service.id)
            .where(db.Service.workflow.in_(ids))
            .order_by(db.Service.id)
        )
        for workflow_id, service_id in db.tuples(query):
            used_by[workflow_id].append(service_id)
    return [
        m.Workflow(
            id=row.id,
            tenant_id=row.tenant_id,
            ou_id=row.ou_id,
            name=row.name,
            type=row.type,
            definition=json.loads(row.definition),
            service_ids=used_by[row.id],
            version=row.version,
        )
        for row in rows
    ]


def instances(rows: list[db.Instance]) -> list[m.ServerInstance]:
    ids = [row.id for row in rows]
    components: dict[int, list[m.Component]] = {instance_id: [] for instance_id in ids}
    if ids:
        query = (
            db.Component.select().where(db.Component.instance.in_(ids)).order_by(db.Component.id)
        )
        for part in query:
            components[part.instance_id].append(
                m.Component(
                    id=part.id,
                    abbreviation=part.abbreviation,
                    name=m.COMPONENT_NAMES.get(part.abbreviation, part.abbreviation),
                    mode=part.mode,
                    version=part.version,
                    state=part.state,
                    last_heartbeat=maybe_utc(part.last_heartbeat),
                )
            )
    return [
        m.ServerInstance(
            id=row.id,
            name=row.name,
            host=row.host,
            role=row.role,
            trusted_application=m.TrustedApplication(
                application_id=row.application_id, fqdn=row.fqdn, port=row.port
            ),
            components=components[row.id],
        )
        for row in rows
    ]


def license_usage(rows: list[db.LicenseUsage], ou_names: dict[int, str]) -> list[m.LicenseUsage]:
    return [
        m.LicenseUsage(
            date=date.fromisoformat(row.date),
            tenant_id=row.tenant_id,
            ou_id=row.ou_id,
            ou_name=ou_names.get(row.ou_id, ""),
            concurrent_agents=row.concurrent_agents,
            configured_agents=row.configured_agents,
            supervisors=row.supervisors,
            services=row.services,
        )
        for row in rows
    ]


def conversation(row: db.Conversation) -> m.Conversation:
    return m.Conversation(
        id=row.id,
        seq=row.seq,
        tenant_id=row.tenant_id,
        team_id=row.team_id,
        service_id=row.service_id,
        agent_id=row.agent_id,
        kind=row.kind,
        direction=row.direction,
        direct=row.direct,
        started_at=utc(row.started_at),
        answered_at=maybe_utc(row.answered_at),
        ended_at=utc(row.ended_at),
        outcome=row.outcome,
        wait_seconds=row.wait_seconds,
        duration_seconds=row.duration_seconds,
        voicemail=row.voicemail,
        customer_id=row.customer_id,
    )


def privacy_exports(rows: list[db.PrivacyExport]) -> list[m.PrivacyExport]:
    return [
        m.PrivacyExport(
            id=row.id,
            tenant_id=row.tenant_id,
            requested_by=row.requested_by,
            requested_by_name=row.requested_by_name,
            subject_kind=row.subject_kind,
            subject=row.subject,
            date_from=date.fromisoformat(row.date_from),
            date_to=date.fromisoformat(row.date_to),
            state=row.state,
            progress=row.progress,
            row_count=row.row_count,
            error=row.error,
            created_at=utc(row.created_at),
            finished_at=maybe_utc(row.finished_at),
        )
        for row in rows
    ]


def chat_messages(rows: list[db.ChatMessage]) -> list[m.ChatMessage]:
    return [
        m.ChatMessage(
            id=row.id,
            user_id=row.user_id,
            author=row.author,
            author_name=row.author_name,
            text=row.text,
            sent_at=utc(row.sent_at),
        )
        for row in rows
    ]
