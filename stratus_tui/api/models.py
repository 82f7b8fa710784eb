"""The REST contract between stratus-tui and a Stratus server: one source for both sides.

The server declares its answers with these models and validates requests with them; the
client validates every answer against them. Two families:

- **Resources** (``Tenant``, ``User``, ...): what the server sends. Lenient about content
  (any text, unknown extra keys ignored) so that a newer server or hostile data never makes
  a whole list unreadable; strict about shape and types.
- **Requests** (``...Create``, ``...Update``, ``LoginRequest``): what a client sends. Strict:
  unknown keys are refused, text is checked with ``validation`` rules.

Times are aware UTC datetimes in JSON (ISO 8601); the conversation feed alone uses epoch
seconds in a columnar page because it carries millions of rows.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    field_serializer,
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
Id = Annotated[int, Field(ge=1)]


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


# --- auth ----------------------------------------------------------------------------------


class LoginRequest(Request):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]
    password: Annotated[SecretStr, Field(min_length=1, max_length=1024)]


class CurrentUser(Resource):
    id: int
    first_name: str
    last_name: str
    upn: str
    sip_uri: str | None
    roles: list[Role]
    role: Role
    tenant_id: int | None
    tenant_name: str | None
    time_zone: str
    # The teams this user may see in reporting and administer (all of the tenant's for a
    # tenant admin, every team for a system admin, the managed ones for a team admin).
    team_ids: list[int]
    live_chat_enabled: bool


class SessionInfo(Resource):
    token: SecretStr
    expires_at: datetime
    absolute_expires_at: datetime
    idle_timeout_seconds: int
    user: CurrentUser

    @field_serializer("token", when_used="json")
    def _reveal_token(self, token: SecretStr) -> str:
        # Masked in repr and logs; sent in clear only in the login answer itself.
        return token.get_secret_value()


class SessionTimes(Resource):
    expires_at: datetime
    absolute_expires_at: datetime


class O365Config(Resource):
    """Whether the O365 button applies to a user name's domain, and where to sign in."""

    domain: str
    enabled: bool
    authority: str | None = None
    client_id: str | None = None


# --- tenants and organisation --------------------------------------------------------------


class LicenseLimits(Resource):
    agents_allowed: int
    supervisors_allowed: int


class Tenant(Resource):
    id: int
    name: str
    time_zone: str
    license: LicenseLimits
    retention_days: int
    live_chat_enabled: bool
    version: int


class TenantCreate(Request):
    name: Name
    time_zone: TimeZoneName = "Europe/Zurich"
    agents_allowed: Annotated[int, Field(ge=0, le=100_000)] = 50
    supervisors_allowed: Annotated[int, Field(ge=0, le=100_000)] = 5
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 365
    live_chat_enabled: bool = False


class TenantUpdate(Patch):
    name: Name | None = None
    time_zone: TimeZoneName | None = None
    agents_allowed: Annotated[int, Field(ge=0, le=100_000)] | None = None
    supervisors_allowed: Annotated[int, Field(ge=0, le=100_000)] | None = None
    retention_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    live_chat_enabled: bool | None = None


class O365App(Resource):
    id: int
    tenant_id: int
    domain: str
    azure_tenant_id: str
    client_id: str
    authority: str
    version: int


Domain = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True), _rule(validation.domain_error)
]
Guid = Annotated[str, StringConstraints(strip_whitespace=True), _rule(validation.guid_error)]
AuthorityUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=500)]


class O365AppCreate(Request):
    tenant_id: Id | None = None  # a tenant admin's own tenant when left out
    domain: Domain
    azure_tenant_id: Guid
    client_id: Guid
    authority: AuthorityUrl | None = None  # Microsoft's, for the Azure tenant, when left out


class O365AppUpdate(Patch):
    domain: Domain | None = None
    azure_tenant_id: Guid | None = None
    client_id: Guid | None = None
    authority: AuthorityUrl | None = None


class OrgUnit(Resource):
    id: int
    tenant_id: int
    parent_id: int | None
    name: str
    # Every tenant has one hidden System root: it cannot be renamed, moved or deleted, and
    # the UI's "add root" creates a child of it.
    is_system: bool
    version: int


class OrgUnitCreate(Request):
    name: Name
    parent_id: Id


class OrgUnitUpdate(Patch):
    name: Name | None = None
    parent_id: Id | None = None


class Team(Resource):
    id: int
    tenant_id: int
    ou_id: int
    name: str
    time_zone: str
    version: int


class TeamCreate(Request):
    name: Name
    ou_id: Id
    time_zone: TimeZoneName | None = None  # the tenant's when left out


class TeamUpdate(Patch):
    name: Name | None = None
    ou_id: Id | None = None
    time_zone: TimeZoneName | None = None


# --- users / agents ------------------------------------------------------------------------


class User(Resource):
    id: int
    tenant_id: int | None  # None for system admins, who stand outside tenant RBAC
    ou_id: int | None
    first_name: str
    last_name: str
    upn: str
    sip_uri: str | None
    roles: list[Role]
    team_ids: list[int]
    managed_team_ids: list[int]
    duty_profile_id: int | None
    trait_ids: list[int]
    responsibility_ids: list[int]
    active: bool
    # Synced from the directory: names, UPN and SIP URI can only change there.
    directory_synced: bool
    version: int

    DIRECTORY_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"first_name", "last_name", "upn", "sip_uri"}
    )


class UserCreate(Request):
    first_name: Name
    last_name: Name
    upn: MailAddress
    sip_uri: SipUri | None = None
    ou_id: Id
    roles: list[Role] = Field(default_factory=list, max_length=4)
    team_ids: list[Id] = Field(default_factory=list, max_length=500)
    managed_team_ids: list[Id] = Field(default_factory=list, max_length=500)
    duty_profile_id: Id | None = None
    trait_ids: list[Id] = Field(default_factory=list, max_length=500)
    responsibility_ids: list[Id] = Field(default_factory=list, max_length=500)
    active: bool = True


class UserUpdate(Patch):
    NULLABLE = frozenset({"sip_uri", "duty_profile_id"})

    first_name: Name | None = None
    last_name: Name | None = None
    upn: MailAddress | None = None
    sip_uri: SipUri | None = None
    ou_id: Id | None = None
    roles: list[Role] | None = Field(default=None, max_length=4)
    team_ids: list[Id] | None = Field(default=None, max_length=500)
    managed_team_ids: list[Id] | None = Field(default=None, max_length=500)
    duty_profile_id: Id | None = None
    trait_ids: list[Id] | None = Field(default=None, max_length=500)
    responsibility_ids: list[Id] | None = Field(default=None, max_length=500)
    active: bool | None = None


# --- duty profiles, traits, responsibilities -----------------------------------------------


class WorkingHours(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    weekday: Annotated[int, Field(ge=0, le=6)]  # 0 = Monday
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _start_before_end(self) -> WorkingHours:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


EscalationLevels = Annotated[int, Field(ge=0, le=5)]


class DutyProfile(Resource):
    id: int
    tenant_id: int
    ou_id: int
    name: str
    working_hours: list[WorkingHours]
    escalation_levels: int
    responsibility_ids: list[int]
    version: int


class DutyProfileCreate(Request):
    name: Name
    ou_id: Id
    working_hours: list[WorkingHours] = Field(default_factory=list, max_length=50)
    escalation_levels: EscalationLevels = 1
    responsibility_ids: list[Id] = Field(default_factory=list, max_length=500)


class DutyProfileUpdate(Patch):
    name: Name | None = None
    ou_id: Id | None = None
    working_hours: list[WorkingHours] | None = Field(default=None, max_length=50)
    escalation_levels: EscalationLevels | None = None
    responsibility_ids: list[Id] | None = Field(default=None, max_length=500)


class Trait(Resource):
    id: int
    tenant_id: int
    ou_id: int
    parent_id: int | None  # children inherit from their parent
    name: str
    version: int


class TraitCreate(Request):
    name: Name
    ou_id: Id
    parent_id: Id | None = None


class TraitUpdate(Patch):
    NULLABLE = frozenset({"parent_id"})

    name: Name | None = None
    ou_id: Id | None = None
    parent_id: Id | None = None


class Responsibility(Resource):
    id: int
    tenant_id: int
    ou_id: int
    name: str
    version: int


class ResponsibilityCreate(Request):
    name: Name
    ou_id: Id


class ResponsibilityUpdate(Patch):
    name: Name | None = None
    ou_id: Id | None = None


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


# --- server instances, license -------------------------------------------------------------


class Component(Resource):
    id: int
    abbreviation: ComponentAbbreviation
    name: str
    mode: ComponentMode
    version: str
    state: ComponentState
    last_heartbeat: datetime | None


class TrustedApplication(Resource):
    application_id: str
    fqdn: str
    port: int


class ServerInstance(Resource):
    id: int
    name: str
    host: str
    role: InstanceRole
    trusted_application: TrustedApplication
    components: list[Component]


class ComponentStateUpdate(Request):
    state: ComponentState
    mode: ComponentMode | None = None


class License(Resource):
    tenant_id: int
    tenant_name: str
    agents_allowed: int
    supervisors_allowed: int
    # Active users in at least one team, and users holding the team_admin role.
    agents_configured: int
    supervisors_configured: int


class LicenseUsage(Resource):
    """One day's snapshot (taken at 00:00 in the tenant's time zone) for one org unit."""

    date: date
    tenant_id: int
    ou_id: int
    ou_name: str
    concurrent_agents: int
    configured_agents: int
    supervisors: int
    services: int


# --- conversations -------------------------------------------------------------------------

# Column order of ConversationPage.rows. Times are epoch seconds (UTC), booleans JSON bools.
CONVERSATION_FIELDS: tuple[str, ...] = (
    "id",
    "seq",
    "tenant_id",
    "team_id",
    "service_id",
    "agent_id",
    "kind",
    "direction",
    "direct",
    "started_at",
    "answered_at",
    "ended_at",
    "outcome",
    "wait_seconds",
    "duration_seconds",
    "voicemail",
    "customer_id",
)


class Conversation(Resource):
    id: int
    seq: int  # the change sequence: rises whenever the record is created or changed
    tenant_id: int
    team_id: int
    service_id: int | None  # None for a direct conversation with an agent
    agent_id: int | None  # None when no agent took it
    kind: ConversationKind
    direction: ConversationDirection
    direct: bool
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    outcome: Outcome
    wait_seconds: int
    duration_seconds: int
    voicemail: bool
    customer_id: str


class ConversationPage(Resource):
    """A page of the history feed, columnar because the feed carries millions of rows.

    ``rows`` are arrays in ``fields`` order (``CONVERSATION_FIELDS``). Ask for the next
    page with ``after=next_cursor``; when ``has_more`` is false the client is up to date,
    and asking again later with the same cursor returns only what is new or changed.
    """

    fields: list[str]
    rows: list[list[Any]]
    next_cursor: int
    has_more: bool


# --- data privacy and live chat ------------------------------------------------------------


class PrivacyExport(Resource):
    id: int
    tenant_id: int
    requested_by: int
    requested_by_name: str
    subject_kind: SubjectKind
    subject: str
    date_from: date
    date_to: date
    state: ExportState
    progress: float  # 0.0 to 1.0
    row_count: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class PrivacyExportCreate(Request):
    subject_kind: SubjectKind
    subject: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=320),
        _rule(_storable),
    ]
    date_from: date
    date_to: date

    @model_validator(mode="after")
    def _range_in_order(self) -> PrivacyExportCreate:
        if self.date_from > self.date_to:
            raise ValueError("date_from must not be after date_to")
        return self


class PrivacyExportResult(Resource):
    """The conversations an export found, columnar like the feed (``CONVERSATION_FIELDS``).

    Rows, not a CSV file: the client writes the file itself, atomically and with CSV
    injection protection, exactly as it writes every other export.
    """

    fields: list[str]
    rows: list[list[Any]]


class ChatMessage(Resource):
    id: int
    user_id: int  # whose chat with IT support this is
    author: ChatAuthor
    author_name: str
    text: str
    sent_at: datetime


class ChatSummary(Resource):
    """One user's chat, as IT support sees the list of chats."""

    user_id: int
    user_name: str
    tenant_id: int
    message_count: int
    last_message_at: datetime


ChatText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), _rule(_storable)
]


class ChatMessageCreate(Request):
    text: ChatText


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
