"""Configuring services and workflows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from stratus_tui.api import validation
from stratus_tui.api.contract_base import (
    Direction,
    Id,
    LongText,
    Name,
    Patch,
    Priority,
    Request,
    Resource,
    ServiceKind,
    WorkflowType,
    _rule,
)

# --- configuring services ------------------------------------------------------------------


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    address: Annotated[
        str, StringConstraints(strip_whitespace=True), _rule(validation.endpoint_address_error)
    ]
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class DistributionPolicy(BaseModel):
    """Strict priority, or weighted round robin at a level from 1 to 7; and a direction."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    priority: Priority = "strict"
    wrr_level: Annotated[int, Field(ge=1, le=7)] | None = None
    direction: Direction = "inbound"

    @model_validator(mode="after")
    def _level_matches_priority(self) -> DistributionPolicy:
        if self.priority == "weighted_round_robin" and self.wrr_level is None:
            raise ValueError("weighted round robin needs a level from 1 to 7")
        if self.priority == "strict" and self.wrr_level is not None:
            raise ValueError("strict priority takes no round-robin level")
        return self


MaxSessions = Annotated[int, Field(ge=1, le=10_000)]


def _address_error(kind: str, address: str) -> str | None:
    if kind == "call":
        return validation.sip_uri_error(address)
    return validation.mail_address_error(address)


class Service(Resource):
    id: int
    tenant_id: int
    team_id: int
    ou_id: int
    kind: ServiceKind
    name: str
    address: str  # SIP URI for calls, mail address for mail
    display_name: str
    endpoints: list[Endpoint]
    distribution: DistributionPolicy
    max_concurrent_sessions: int
    workflow_id: int | None
    emergency_routing: bool
    trait_ids: list[int]
    version: int


class ServiceCreate(Request):
    kind: ServiceKind
    name: Name
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    display_name: Name
    team_id: Id
    ou_id: Id | None = None  # the team's when left out
    endpoints: list[Endpoint] = Field(default_factory=list, max_length=200)
    distribution: DistributionPolicy = DistributionPolicy()
    max_concurrent_sessions: MaxSessions = 10
    workflow_id: Id | None = None
    emergency_routing: bool = False
    trait_ids: list[Id] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _address_fits_kind(self) -> ServiceCreate:
        if error := _address_error(self.kind, self.address):
            raise ValueError(f"address {error}")
        return self


class ServiceUpdate(Patch):
    """``kind`` cannot change; an ``address`` is checked against the service's kind."""

    NULLABLE = frozenset({"workflow_id"})

    name: Name | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] | None = None
    display_name: Name | None = None
    team_id: Id | None = None
    ou_id: Id | None = None
    endpoints: list[Endpoint] | None = Field(default=None, max_length=200)
    distribution: DistributionPolicy | None = None
    max_concurrent_sessions: MaxSessions | None = None
    workflow_id: Id | None = None
    emergency_routing: bool | None = None
    trait_ids: list[Id] | None = Field(default=None, max_length=200)

    def address_error(self, kind: str) -> str | None:
        return None if self.address is None else _address_error(kind, self.address)


# --- workflows -----------------------------------------------------------------------------

StepId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class WorkflowStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["announcement", "menu", "queue", "voicemail", "transfer", "question", "hangup"]
    text: LongText | None = None  # what an announcement, menu or question says
    target: Annotated[str, StringConstraints(max_length=320)] | None = None  # transfer to
    options: dict[Annotated[str, StringConstraints(pattern=r"^[0-9*#]$")], StepId] = Field(
        default_factory=dict
    )  # menu key -> step
    timeout_seconds: Annotated[int, Field(ge=1, le=3600)] | None = None
    next: StepId | None = None


class WorkflowDefinition(BaseModel):
    """A call flow: named steps, each pointing to the next; checked for dangling links."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: StepId
    steps: dict[StepId, WorkflowStep] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _links_resolve(self) -> WorkflowDefinition:
        if self.start not in self.steps:
            raise ValueError(f"start step {self.start!r} is not defined")
        for name, step in self.steps.items():
            targets = [step.next, *step.options.values()]
            for target in targets:
                if target is not None and target not in self.steps:
                    raise ValueError(f"step {name!r} leads to undefined step {target!r}")
        return self


class Workflow(Resource):
    id: int
    tenant_id: int
    ou_id: int
    name: str
    type: WorkflowType
    definition: dict[str, Any]
    service_ids: list[int]
    version: int


class WorkflowCreate(Request):
    name: Name
    type: WorkflowType
    ou_id: Id
    definition: WorkflowDefinition


class WorkflowUpdate(Patch):
    name: Name | None = None
    ou_id: Id | None = None
    definition: WorkflowDefinition | None = None


class WorkflowDocument(BaseModel):
    """A workflow exported to a file; ``signature`` lets the server refuse a tampered one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["stratus-workflow"] = "stratus-workflow"
    format_version: Literal[1] = 1
    name: str
    type: WorkflowType
    definition: dict[str, Any]
    exported_at: datetime
    signature: str


class WorkflowImport(Request):
    document: WorkflowDocument
    ou_id: Id
    name: Name | None = None  # the document's name when left out
