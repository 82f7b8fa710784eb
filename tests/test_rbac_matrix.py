"""Every route by every role: what each of the four roles gets from the reference server.

Expected statuses read (system admin, tenant admin, team admin, team member), as DOMAIN.md
"Roles" has it. The tenant admin is Demo Corp's; the team admin manages Support L1 and
Support L2; the team member belongs to Sales Switzerland. 404 (not 403) answers ids that
lie outside the caller's scope, so that another tenant's data is not confirmed to exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from peewee import fn

from stratus_tui.server import db
from tests.conftest import CONTOSO_ADMIN, MEMBER, ROLE_ACCOUNTS, Login, named, user_id

ROLES = ("system_admin", "tenant_admin", "team_admin", "team_member")
GUID_A = "11111111-2222-3333-4444-555555555555"
GUID_B = "66666666-7777-8888-9999-000000000000"


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # {names} are filled from the seeded data by ``ids()``
    expected: tuple[int, int, int, int]
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (f" {sorted(self.body)}" if self.body else "")


def _first(model: type[db.BaseModel], *where: Any) -> int:
    return int(model.select(model.id).where(*where).order_by(model.id).first().id)  # type: ignore[attr-defined]


def ids() -> dict[str, int]:
    """The seeded rows the cases refer to, by role in the test."""
    demo, contoso = named(db.Tenant, "Demo Corp"), named(db.Tenant, "Contoso")
    l1, sales = named(db.Team, "Support L1"), named(db.Team, "Sales Switzerland")
    helpdesk = named(db.Team, "Helpdesk East")
    only_in_l1 = (
        db.TeamMember.select(db.TeamMember.user)
        .group_by(db.TeamMember.user)
        .having(fn.COUNT(db.TeamMember.team) == 1, fn.MAX(db.TeamMember.team) == l1)
    )
    l1_agent = _first(db.User, db.User.id.in_(only_in_l1), db.User.password_hash.is_null())
    return {
        "demo": demo,
        "contoso": contoso,
        "l1": l1,
        "sales": sales,
        "helpdesk": helpdesk,
        "demo_system_ou": _first(
            db.OrgUnit, db.OrgUnit.tenant == demo, db.OrgUnit.is_system == True
        ),
        "demo_top_ou": _first(
            db.OrgUnit, db.OrgUnit.tenant == demo, db.OrgUnit.name == "Demo Corp"
        ),
        "sales_ou": _first(db.OrgUnit, db.OrgUnit.tenant == demo, db.OrgUnit.name == "Sales"),
        "contoso_top_ou": _first(
            db.OrgUnit, db.OrgUnit.tenant == contoso, db.OrgUnit.name == "Contoso"
        ),
        "l1_agent": l1_agent,
        "member": user_id(MEMBER),
        "contoso_admin": user_id(CONTOSO_ADMIN),
        "demo_duty": _first(db.DutyProfile, db.DutyProfile.tenant == demo),
        "contoso_duty": _first(db.DutyProfile, db.DutyProfile.tenant == contoso),
        "demo_trait": _first(db.Trait, db.Trait.tenant == demo),
        "used_trait": _first(
            db.Trait,
            db.Trait.tenant == demo,
            db.Trait.id.in_(db.ServiceTrait.select(db.ServiceTrait.trait)),
        ),
        "contoso_trait": _first(db.Trait, db.Trait.tenant == contoso),
        "demo_resp": _first(db.Responsibility, db.Responsibility.tenant == demo),
        "contoso_resp": _first(db.Responsibility, db.Responsibility.tenant == contoso),
        "demo_workflow": _first(db.Workflow, db.Workflow.tenant == demo),
        "contoso_workflow": _first(db.Workflow, db.Workflow.tenant == contoso),
        "l1_service": _first(db.Service, db.Service.team == l1),
        "sales_service": _first(db.Service, db.Service.team == sales),
        "contoso_service": _first(db.Service, db.Service.tenant == contoso),
        "be01": named(db.Instance, "STRATUS-BE01"),
        "contoso_app": _first(db.O365App, db.O365App.tenant == contoso),
        "l1_conversation": _first(db.Conversation, db.Conversation.team_id == l1),
        "sales_conversation": _first(db.Conversation, db.Conversation.team_id == sales),
        "contoso_conversation": _first(db.Conversation, db.Conversation.tenant_id == contoso),
    }


V1 = {"If-Match": '"1"'}  # every seeded row is at version 1

READS = [
    Case("GET", "/health", (200, 200, 200, 200)),
    Case("GET", "/auth/me", (200, 200, 200, 200)),
    Case("POST", "/auth/keepalive", (200, 200, 200, 200)),
    Case("GET", "/instances", (200, 200, 200, 200)),
    Case("GET", "/instances/{be01}", (200, 200, 200, 200)),
    Case("GET", "/license", (200, 200, 200, 403)),
    Case("GET", "/license-usage", (200, 200, 200, 403)),
    Case("GET", "/tenants", (200, 200, 200, 403)),
    Case("GET", "/tenants/{demo}", (200, 200, 200, 403)),
    Case("GET", "/tenants/{contoso}", (200, 404, 404, 403)),
    Case("GET", "/o365-apps", (200, 200, 403, 403)),
    Case("GET", "/o365-apps/{contoso_app}", (200, 404, 403, 403)),
    Case("GET", "/org-units", (200, 200, 200, 403)),
    Case("GET", "/org-units/{sales_ou}", (200, 200, 200, 403)),
    Case("GET", "/org-units/{contoso_top_ou}", (200, 404, 404, 403)),
    Case("GET", "/teams", (200, 200, 200, 403)),
    Case("GET", "/teams/{l1}", (200, 200, 200, 403)),
    Case("GET", "/teams/{sales}", (200, 200, 404, 403)),
    Case("GET", "/teams/{helpdesk}", (200, 404, 404, 403)),
    Case("GET", "/users", (200, 200, 200, 403)),
    Case("GET", "/users/{l1_agent}", (200, 200, 200, 403)),
    Case("GET", "/users/{member}", (200, 200, 404, 403)),
    Case("GET", "/users/{contoso_admin}", (200, 404, 404, 403)),
    Case("GET", "/duty-profiles", (200, 200, 200, 403)),
    Case("GET", "/duty-profiles/{demo_duty}", (200, 200, 200, 403)),
    Case("GET", "/duty-profiles/{contoso_duty}", (200, 404, 404, 403)),
    Case("GET", "/traits", (200, 200, 200, 403)),
    Case("GET", "/traits/{contoso_trait}", (200, 404, 404, 403)),
    Case("GET", "/responsibilities", (200, 200, 200, 403)),
    Case("GET", "/responsibilities/{contoso_resp}", (200, 404, 404, 403)),
    Case("GET", "/workflows", (200, 200, 200, 403)),
    Case("GET", "/workflows/{demo_workflow}", (200, 200, 200, 403)),
    Case("GET", "/workflows/{contoso_workflow}", (200, 404, 404, 403)),
    Case("GET", "/workflows/{demo_workflow}/export", (200, 200, 200, 403)),
    Case("GET", "/services", (200, 200, 200, 403)),
    Case("GET", "/services/{l1_service}", (200, 200, 200, 403)),
    Case("GET", "/services/{sales_service}", (200, 200, 404, 403)),
    Case("GET", "/services/{contoso_service}", (200, 404, 404, 403)),
    Case("GET", "/conversations", (200, 200, 200, 403)),
    Case("GET", "/conversations?team_id={sales}", (200, 200, 404, 403)),
    Case("GET", "/conversations?team_id={helpdesk}", (200, 404, 404, 403)),
    Case("GET", "/conversations/{l1_conversation}", (200, 200, 200, 403)),
    Case("GET", "/conversations/{sales_conversation}", (200, 200, 404, 403)),
    Case("GET", "/conversations/{contoso_conversation}", (200, 404, 404, 403)),
    Case("GET", "/privacy-exports", (200, 200, 200, 403)),
    Case("GET", "/privacy/events", (200, 200, 200, 403)),
    Case("GET", "/chat/messages", (403, 200, 200, 200)),
    Case("GET", "/support/chats", (200, 403, 403, 403)),
    Case("GET", "/support/chats/{member}/messages", (200, 403, 403, 403)),
]

NEW_USER = {
    "first_name": "Ada",
    "last_name": "Ødegaard",
    "upn": "ada@demo.stratus",
    "ou_id": "{sales_ou}",
}
NEW_SERVICE = {
    "kind": "call",
    "name": "New hotline",
    "address": "sip:new-hotline@demo.stratus",
    "display_name": "New hotline",
}
DEFINITION = {
    "start": "hello",
    "steps": {
        "hello": {"type": "announcement", "text": "Hi", "next": "bye"},
        "bye": {"type": "hangup"},
    },
}

WRITES = [
    Case("POST", "/tenants", (201, 403, 403, 403), {"name": "Fabrikam"}),
    Case("PATCH", "/tenants/{demo}", (200, 200, 403, 403), {"retention_days": 200}, V1),
    Case("PATCH", "/tenants/{demo}", (200, 403, 403, 403), {"agents_allowed": 500}, V1),
    Case("PATCH", "/tenants/{contoso}", (200, 404, 403, 403), {"retention_days": 200}, V1),
    Case("DELETE", "/tenants/{contoso}", (204, 403, 403, 403), None, V1),
    Case(
        "POST",
        "/o365-apps",
        (201, 201, 403, 403),
        {
            "tenant_id": "{demo}",
            "domain": "demo.example",
            "azure_tenant_id": GUID_A,
            "client_id": GUID_B,
        },
    ),
    Case("PATCH", "/o365-apps/{contoso_app}", (200, 404, 403, 403), {"client_id": GUID_B}, V1),
    Case("DELETE", "/o365-apps/{contoso_app}", (204, 404, 403, 403), None, V1),
    Case(
        "POST", "/org-units", (201, 201, 403, 403), {"name": "Legal", "parent_id": "{demo_top_ou}"}
    ),
    Case(
        "POST",
        "/org-units",
        (201, 422, 403, 403),
        {"name": "Legal", "parent_id": "{contoso_top_ou}"},
    ),
    Case("PATCH", "/org-units/{sales_ou}", (200, 200, 403, 403), {"name": "Sales & Marketing"}, V1),
    Case("DELETE", "/org-units/{demo_system_ou}", (403, 403, 403, 403), None, V1),
    Case("DELETE", "/org-units/{sales_ou}", (409, 409, 403, 403), None, V1),
    Case("POST", "/teams", (201, 201, 403, 403), {"name": "Sales Austria", "ou_id": "{sales_ou}"}),
    Case("PATCH", "/teams/{l1}", (200, 200, 403, 403), {"name": "First level"}, V1),
    Case("DELETE", "/teams/{l1}", (409, 409, 403, 403), None, V1),
    Case("DELETE", "/teams/{helpdesk}", (409, 404, 403, 403), None, V1),
    Case("POST", "/users", (201, 201, 403, 403), NEW_USER),
    Case("PATCH", "/users/{l1_agent}", (200, 200, 200, 403), {"active": False}, V1),
    Case(
        "PATCH",
        "/users/{l1_agent}",
        (200, 200, 403, 403),
        {"roles": ["team_member", "team_admin"]},
        V1,
    ),
    Case("PATCH", "/users/{l1_agent}", (200, 200, 403, 403), {"team_ids": ["{l1}", "{sales}"]}, V1),
    Case("PATCH", "/users/{member}", (200, 200, 404, 403), {"active": False}, V1),
    Case("PATCH", "/users/{contoso_admin}", (200, 404, 404, 403), {"active": False}, V1),
    Case("DELETE", "/users/{l1_agent}", (204, 204, 403, 403), None, V1),
    Case("POST", "/duty-profiles", (201, 201, 403, 403), {"name": "Night", "ou_id": "{sales_ou}"}),
    Case("PATCH", "/duty-profiles/{demo_duty}", (200, 200, 403, 403), {"escalation_levels": 3}, V1),
    Case("DELETE", "/duty-profiles/{demo_duty}", (409, 409, 403, 403), None, V1),
    Case("POST", "/traits", (201, 201, 403, 403), {"name": "Spanish", "ou_id": "{sales_ou}"}),
    Case("PATCH", "/traits/{demo_trait}", (200, 200, 403, 403), {"name": "Sprachen"}, V1),
    Case("DELETE", "/traits/{used_trait}", (409, 409, 403, 403), None, V1),
    Case(
        "POST",
        "/responsibilities",
        (201, 201, 403, 403),
        {"name": "Callbacks", "ou_id": "{sales_ou}"},
    ),
    Case("PATCH", "/responsibilities/{demo_resp}", (200, 200, 403, 403), {"name": "Inbound"}, V1),
    Case("DELETE", "/responsibilities/{contoso_resp}", (204, 404, 403, 403), None, V1),
    Case(
        "POST",
        "/workflows",
        (201, 201, 403, 403),
        {"name": "Short", "type": "inbound", "ou_id": "{sales_ou}", "definition": DEFINITION},
    ),
    Case("PATCH", "/workflows/{demo_workflow}", (200, 200, 403, 403), {"name": "Renamed"}, V1),
    Case("DELETE", "/workflows/{demo_workflow}", (409, 409, 403, 403), None, V1),
    Case("POST", "/services", (201, 201, 201, 403), {**NEW_SERVICE, "team_id": "{l1}"}),
    Case("POST", "/services", (201, 201, 403, 403), {**NEW_SERVICE, "team_id": "{sales}"}),
    Case(
        "PATCH", "/services/{l1_service}", (200, 200, 200, 403), {"max_concurrent_sessions": 12}, V1
    ),
    Case(
        "PATCH", "/services/{sales_service}", (200, 200, 404, 403), {"emergency_routing": True}, V1
    ),
    Case("DELETE", "/services/{l1_service}", (204, 204, 204, 403), None, V1),
    Case(
        "PUT", "/admin/instances/{be01}/components/ICH", (200, 403, 403, 403), {"state": "stopped"}
    ),
    Case(
        "POST",
        "/privacy-exports",
        (422, 202, 202, 403),
        {
            "subject_kind": "customer",
            "subject": "+41445550000",
            "date_from": "2026-08-01",
            "date_to": "2026-11-22",
        },
    ),
    Case(
        "POST",
        "/privacy/erasures",
        (422, 201, 403, 403),
        {"customer_identifier": "+41445550000"},
    ),
    Case("POST", "/chat/messages", (403, 201, 201, 201), {"text": "Hello support"}),
    Case(
        "POST",
        "/support/chats/{member}/messages",
        (201, 403, 403, 403),
        {"text": "How can we help?"},
    ),
    Case("POST", "/auth/logout", (204, 204, 204, 204)),
]


def _fill(value: Any, known: dict[str, int]) -> Any:
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in known:
            return known[value[1:-1]]
        return value.format(**known) if "{" in value else value
    if isinstance(value, list):
        return [_fill(item, known) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, known) for key, item in value.items()}
    return value


async def _call(client: httpx.AsyncClient, login: Login, case: Case, role: str) -> httpx.Response:
    known = ids()
    headers = {**await login(ROLE_ACCOUNTS[role]), **case.headers}
    body = _fill(case.body, known)
    return await client.request(case.method, _fill(case.path, known), json=body, headers=headers)


@pytest.mark.parametrize("case", READS, ids=lambda case: case.id)
async def test_read_routes_by_role(client: httpx.AsyncClient, login: Login, case: Case) -> None:
    got = {role: (await _call(client, login, case, role)).status_code for role in ROLES}
    assert got == dict(zip(ROLES, case.expected, strict=True))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", WRITES, ids=lambda case: case.id)
async def test_write_routes_by_role(
    client: httpx.AsyncClient, login: Login, case: Case, role: str
) -> None:
    answer = await _call(client, login, case, role)
    expected = case.expected[ROLES.index(role)]
    assert answer.status_code == expected, answer.text
    if expected >= 400:
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["detail"]
