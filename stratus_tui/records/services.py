"""The service form, the requests made from it, and the bulk edit's before/after rows.

The form is flat (one field per input); the contract nests the distribution policy
(priority, round-robin level, direction), which a PATCH replaces as a whole: whenever one of
its three fields changes, the request carries all three.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stratus_tui.api import models, validation
from stratus_tui.records.editing import Reference
from stratus_tui.records.forms import FieldSpec
from stratus_tui.records.requests import build

POLICY_FIELDS = ("priority", "wrr_level", "direction")
# Where the server's or the model's complaint about a nested value belongs in the form.
RENAME = {
    "distribution.priority": "priority",
    "distribution.wrr_level": "wrr_level",
    "distribution.direction": "direction",
    "distribution": "priority",
}
PRIORITIES = (("strict", "strict priority"), ("weighted_round_robin", "weighted round robin"))
DIRECTIONS = (("inbound", "inbound"), ("outbound", "outbound"), ("both", "both"))
KINDS = (("call", "call (SIP URI)"), ("mail", "mail (mail address)"))


def _text_check(value: Any) -> str | None:
    return validation.unstorable_text_error(value) if isinstance(value, str) else None


def check_address(values: Mapping[str, Any]) -> dict[str, str]:
    """The address's format depends on the kind: a form-wide rule, shown at the address."""
    address = str(values.get("address") or "").strip()
    if not address:
        return {}
    if values.get("kind") == "mail":
        error = validation.mail_address_error(address)
    else:
        error = validation.sip_uri_error(address)
    return {"address": error} if error else {}


def _wrr(values: Mapping[str, Any]) -> bool:
    return values.get("priority") == "weighted_round_robin"


def service_fields(reference: Reference, *, creating: bool) -> list[FieldSpec]:
    return [
        FieldSpec("kind", "Kind", "choice", required=True, choices=KINDS,
                  read_only=None if creating else "a service's kind cannot change"),
        FieldSpec("name", "Name", "text", required=True, check=_text_check),
        FieldSpec("address", "Address", "text", required=True,
                  help="SIP URI for a call service, mail address for a mail service",
                  placeholder="sip:support@example.com"),
        FieldSpec("display_name", "Display name", "text", required=True, check=_text_check,
                  help="What customers see"),
        FieldSpec("team_id", "Team", "choice", required=True,
                  choices=tuple((team.id, team.name) for team in reference.teams)),
        FieldSpec("ou_id", "Organization unit", "choice", required=not creating,
                  choices=reference.org_unit_choices(),
                  help="The team's when left empty" if creating else ""),
        FieldSpec("endpoints", "Endpoints", "endpoints",
                  help="tel:+41445550100 or a SIP URI; Enter adds, Delete removes"),
        FieldSpec("priority", "Distribution", "choice", required=True, choices=PRIORITIES),
        FieldSpec("wrr_level", "Round-robin level", "int", required=True, minimum=1, maximum=7,
                  shown_if=_wrr),
        FieldSpec("direction", "Direction", "choice", required=True, choices=DIRECTIONS),
        FieldSpec("max_concurrent_sessions", "Max concurrent sessions", "int", required=True,
                  minimum=1, maximum=10_000),
        FieldSpec("workflow_id", "Workflow", "choice",
                  choices=tuple((flow.id, flow.name) for flow in reference.workflows)),
        FieldSpec("emergency_routing", "Emergency routing", "bool"),
    ]  # fmt: skip


def service_values(service: models.Service | None = None) -> dict[str, Any]:
    if service is None:
        return {
            "kind": "call",
            "name": "",
            "address": "",
            "display_name": "",
            "team_id": None,
            "ou_id": None,
            "endpoints": (),
            "priority": "strict",
            "wrr_level": None,
            "direction": "inbound",
            "max_concurrent_sessions": 10,
            "workflow_id": None,
            "emergency_routing": False,
        }
    policy = service.distribution
    return {
        "kind": service.kind,
        "name": service.name,
        "address": service.address,
        "display_name": service.display_name,
        "team_id": service.team_id,
        "ou_id": service.ou_id,
        "endpoints": tuple((point.address, point.label) for point in service.endpoints),
        "priority": policy.priority,
        "wrr_level": policy.wrr_level,
        "direction": policy.direction,
        "max_concurrent_sessions": service.max_concurrent_sessions,
        "workflow_id": service.workflow_id,
        "emergency_routing": service.emergency_routing,
    }


def _request_data(values: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    data = {name: value for name, value in values.items() if name not in POLICY_FIELDS}
    if "endpoints" in data:
        data["endpoints"] = [
            {"address": address, "label": label} for address, label in data["endpoints"]
        ]
    if "trait_ids" in data:
        data["trait_ids"] = sorted(data["trait_ids"])
    if any(name in values for name in POLICY_FIELDS):
        merged = {**base, **values}
        wrr = merged.get("priority") == "weighted_round_robin"
        data["distribution"] = {
            "priority": merged.get("priority"),
            "wrr_level": merged.get("wrr_level") if wrr else None,
            "direction": merged.get("direction"),
        }
    return data


def service_create(values: Mapping[str, Any]) -> models.ServiceCreate:
    return build(models.ServiceCreate, _request_data(values, values), RENAME)


def service_update(changes: Mapping[str, Any], base: Mapping[str, Any]) -> models.ServiceUpdate:
    return build(models.ServiceUpdate, _request_data(changes, base), RENAME)


def service_title(service: models.Service | None) -> str:
    return "New service" if service is None else service.name


# --- bulk edit -----------------------------------------------------------------------------

# The fields one value can sensibly be given to many services at once.
BULK_FIELDS = (
    "team_id",
    "ou_id",
    "direction",
    "max_concurrent_sessions",
    "workflow_id",
    "emergency_routing",
)


@dataclass(frozen=True)
class BulkRow:
    """One marked service in a bulk edit: its value now and whether it already matches."""

    service_id: int
    name: str
    current: Any
    matches: bool


def bulk_rows(services: Sequence[models.Service], field: str, value: Any) -> list[BulkRow]:
    rows = []
    for service in services:
        current = service_values(service)[field]
        rows.append(BulkRow(service.id, service.name, current, current == value))
    return rows
