"""Server instances, license, conversation history, data privacy and live chat."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    StringConstraints,
    model_validator,
)

from stratus_tui.api.contract_base import (
    ChatAuthor,
    ComponentAbbreviation,
    ComponentMode,
    ComponentState,
    ConversationDirection,
    ConversationKind,
    ExportState,
    InstanceRole,
    Outcome,
    Request,
    Resource,
    SubjectKind,
    _rule,
    _storable,
)

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
    ``latest_seq`` is the newest change in the caller's scope (None: no history at all),
    so ``latest_seq - next_cursor`` bounds what is left to fetch: a progress estimate.
    """

    fields: list[str]
    rows: list[tuple[Any, ...]]  # tuples: the rows are read, never changed in place
    next_cursor: int
    has_more: bool
    latest_seq: int | None = None


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


class ErasureCreate(Request):
    """Forget a customer identifier (phone number, SIP address or mail) in the history."""

    customer_identifier: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=320),
        _rule(_storable),
    ]


# What an erased customer identifier becomes in the history (and in the local caches).
ERASED_CUSTOMER = "erased"
# Events per page of ``GET /privacy/events`` at most (and by default).
PRIVACY_EVENT_PAGE = 500


class Erasure(Resource):
    """What an erasure did: how many conversations were anonymised (the identifier itself is
    not repeated back)."""

    id: int
    conversations: int
    erased_at: datetime


class PrivacyEvent(Resource):
    """A change to the history that local caches must follow: a retention purge (every
    conversation that started before ``before`` is gone) or an erasure (those conversations'
    customer identifiers are anonymised)."""

    id: int
    tenant_id: int  # a system admin's cache holds several tenants: a purge is per tenant
    kind: Literal["purge", "erase"]
    before: datetime | None = None
    conversation_ids: list[int] = []


class PrivacyEventPage(Resource):
    events: list[PrivacyEvent]
    last_id: int  # pass as ``after`` next time


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
