"""Contract building blocks: roles and enumerations, text rules, the model bases, envelopes."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from stratus_tui.api import validation

Role = Literal["system_admin", "tenant_admin", "team_admin", "team_member"]
# Highest first: a user holding several roles acts with the highest one.
ROLES: tuple[Role, ...] = ("system_admin", "tenant_admin", "team_admin", "team_member")

ComponentAbbreviation = Literal["PS", "ICH", "AC", "AM", "CIC", "CI", "CR", "FE", "SMD"]
COMPONENT_NAMES: dict[str, str] = {
    "PS": "Persistence Service",
    "ICH": "Interactive Conversation Handler",
    "AC": "Agent Controller",
    "AM": "Agent Manager",
    "CIC": "Customer Infrastructure Connector",
    "CI": "Calendar Integrator",
    "CR": "Conversation Recording",
    "FE": "Frontend",
    "SMD": "SIP Message Dispatcher",
}
# Without a running instance of each of these, the system cannot route calls.
MINIMUM_COMPONENTS: tuple[ComponentAbbreviation, ...] = ("PS", "ICH", "AC", "AM", "CIC")

ComponentMode = Literal["active", "passive"]
ComponentState = Literal["running", "stopped", "degraded"]
InstanceRole = Literal["backend", "frontend"]
ServiceKind = Literal["call", "mail"]
Priority = Literal["strict", "weighted_round_robin"]
Direction = Literal["inbound", "outbound", "both"]
WorkflowType = Literal["inbound", "survey"]
ConversationKind = Literal["call", "im"]
ConversationDirection = Literal["inbound", "outbound"]
Outcome = Literal["accepted", "lost"]
ExportState = Literal["queued", "running", "done", "failed"]
SubjectKind = Literal["agent", "customer"]
ChatAuthor = Literal["user", "support"]


def effective_role(roles: list[Role] | tuple[Role, ...] | frozenset[Role]) -> Role | None:
    """The role a user acts with: the highest one held, or None (may not log in)."""
    return next((role for role in ROLES if role in roles), None)


# --- text rules for requests ---------------------------------------------------------------


def _rule(check: Any) -> AfterValidator:
    def apply(value: str) -> str:
        if error := check(value):
            raise ValueError(error)
        return value

    return AfterValidator(apply)


_storable = validation.unstorable_text_error


Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), _rule(_storable)
]
LongText = Annotated[str, StringConstraints(max_length=2000), _rule(_storable)]
SipUri = Annotated[str, StringConstraints(strip_whitespace=True), _rule(validation.sip_uri_error)]
MailAddress = Annotated[
    str, StringConstraints(strip_whitespace=True), _rule(validation.mail_address_error)
]
TimeZoneName = Annotated[str, _rule(validation.time_zone_error)]
ClockTime = Annotated[str, _rule(validation.clock_time_error)]
# Numbers the server stores are SQLite integers (64-bit): a larger one is refused as input.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
Id = Annotated[int, Field(ge=1, le=INT64_MAX)]


class Resource(BaseModel):
    """Something the server sends: unknown keys are ignored for forward compatibility."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Request(BaseModel):
    """Something a client sends: unknown keys are refused so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


class Patch(Request):
    """A partial update: only the fields sent are changed.

    Fields are declared optional so they can be left out; sending ``null`` for a field that
    is not in ``NULLABLE`` is refused instead of silently clearing it.
    """

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Patch:
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in self.NULLABLE:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


# --- envelopes -----------------------------------------------------------------------------

T = TypeVar("T")


class Page(Resource, Generic[T]):
    """One page of a list. Pass ``next_cursor`` back as ``cursor`` for the next page."""

    items: list[T]
    next_cursor: str | None
    total: int  # matching items over all pages


class ProblemItem(Resource):
    loc: list[str | int]
    msg: str


class Problem(Resource):
    """An error answer (RFC 9457 problem details, ``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[ProblemItem] | None = None
