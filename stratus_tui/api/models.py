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

from stratus_tui.api.contract_base import (
    COMPONENT_NAMES as COMPONENT_NAMES,
)
from stratus_tui.api.contract_base import (
    MINIMUM_COMPONENTS as MINIMUM_COMPONENTS,
)
from stratus_tui.api.contract_base import (
    ROLES as ROLES,
)
from stratus_tui.api.contract_base import (
    ChatAuthor as ChatAuthor,
)
from stratus_tui.api.contract_base import (
    ClockTime as ClockTime,
)
from stratus_tui.api.contract_base import (
    ComponentAbbreviation as ComponentAbbreviation,
)
from stratus_tui.api.contract_base import (
    ComponentMode as ComponentMode,
)
from stratus_tui.api.contract_base import (
    ComponentState as ComponentState,
)
from stratus_tui.api.contract_base import (
    ConversationDirection as ConversationDirection,
)
from stratus_tui.api.contract_base import (
    ConversationKind as ConversationKind,
)
from stratus_tui.api.contract_base import (
    Direction as Direction,
)
from stratus_tui.api.contract_base import (
    ExportState as ExportState,
)
from stratus_tui.api.contract_base import (
    Id as Id,
)
from stratus_tui.api.contract_base import (
    InstanceRole as InstanceRole,
)
from stratus_tui.api.contract_base import (
    LongText as LongText,
)
from stratus_tui.api.contract_base import (
    MailAddress as MailAddress,
)
from stratus_tui.api.contract_base import (
    Name as Name,
)
from stratus_tui.api.contract_base import (
    Outcome as Outcome,
)
from stratus_tui.api.contract_base import (
    Page as Page,
)
from stratus_tui.api.contract_base import (
    Patch as Patch,
)
from stratus_tui.api.contract_base import (
    Priority as Priority,
)
from stratus_tui.api.contract_base import (
    Problem as Problem,
)
from stratus_tui.api.contract_base import (
    ProblemItem as ProblemItem,
)
from stratus_tui.api.contract_base import (
    Request as Request,
)
from stratus_tui.api.contract_base import (
    Resource as Resource,
)
from stratus_tui.api.contract_base import (
    Role as Role,
)
from stratus_tui.api.contract_base import (
    ServiceKind as ServiceKind,
)
from stratus_tui.api.contract_base import (
    SipUri as SipUri,
)
from stratus_tui.api.contract_base import (
    SubjectKind as SubjectKind,
)
from stratus_tui.api.contract_base import (
    TimeZoneName as TimeZoneName,
)
from stratus_tui.api.contract_base import (
    WorkflowType as WorkflowType,
)
from stratus_tui.api.contract_base import (
    effective_role as effective_role,
)
from stratus_tui.api.contract_config import (
    DistributionPolicy as DistributionPolicy,
)
from stratus_tui.api.contract_config import (
    Endpoint as Endpoint,
)
from stratus_tui.api.contract_config import (
    MaxSessions as MaxSessions,
)
from stratus_tui.api.contract_config import (
    Service as Service,
)
from stratus_tui.api.contract_config import (
    ServiceCreate as ServiceCreate,
)
from stratus_tui.api.contract_config import (
    ServiceUpdate as ServiceUpdate,
)
from stratus_tui.api.contract_config import (
    StepId as StepId,
)
from stratus_tui.api.contract_config import (
    Workflow as Workflow,
)
from stratus_tui.api.contract_config import (
    WorkflowCreate as WorkflowCreate,
)
from stratus_tui.api.contract_config import (
    WorkflowDefinition as WorkflowDefinition,
)
from stratus_tui.api.contract_config import (
    WorkflowDocument as WorkflowDocument,
)
from stratus_tui.api.contract_config import (
    WorkflowImport as WorkflowImport,
)
from stratus_tui.api.contract_config import (
    WorkflowStep as WorkflowStep,
)
from stratus_tui.api.contract_config import (
    WorkflowUpdate as WorkflowUpdate,
)
from stratus_tui.api.contract_ops import (
    CONVERSATION_FIELDS as CONVERSATION_FIELDS,
)
from stratus_tui.api.contract_ops import (
    ERASED_CUSTOMER as ERASED_CUSTOMER,
)
from stratus_tui.api.contract_ops import (
    PRIVACY_EVENT_PAGE as PRIVACY_EVENT_PAGE,
)
from stratus_tui.api.contract_ops import (
    ChatMessage as ChatMessage,
)
from stratus_tui.api.contract_ops import (
    ChatMessageCreate as ChatMessageCreate,
)
from stratus_tui.api.contract_ops import (
    ChatSummary as ChatSummary,
)
from stratus_tui.api.contract_ops import (
    ChatText as ChatText,
)
from stratus_tui.api.contract_ops import (
    Component as Component,
)
from stratus_tui.api.contract_ops import (
    ComponentStateUpdate as ComponentStateUpdate,
)
from stratus_tui.api.contract_ops import (
    Conversation as Conversation,
)
from stratus_tui.api.contract_ops import (
    ConversationPage as ConversationPage,
)
from stratus_tui.api.contract_ops import (
    Erasure as Erasure,
)
from stratus_tui.api.contract_ops import (
    ErasureCreate as ErasureCreate,
)
from stratus_tui.api.contract_ops import (
    License as License,
)
from stratus_tui.api.contract_ops import (
    LicenseUsage as LicenseUsage,
)
from stratus_tui.api.contract_ops import (
    PrivacyEvent as PrivacyEvent,
)
from stratus_tui.api.contract_ops import (
    PrivacyEventPage as PrivacyEventPage,
)
from stratus_tui.api.contract_ops import (
    PrivacyExport as PrivacyExport,
)
from stratus_tui.api.contract_ops import (
    PrivacyExportCreate as PrivacyExportCreate,
)
from stratus_tui.api.contract_ops import (
    PrivacyExportResult as PrivacyExportResult,
)
from stratus_tui.api.contract_ops import (
    ServerInstance as ServerInstance,
)
from stratus_tui.api.contract_ops import (
    TrustedApplication as TrustedApplication,
)
from stratus_tui.api.contract_org import (
    AuthorityUrl as AuthorityUrl,
)
from stratus_tui.api.contract_org import (
    CurrentUser as CurrentUser,
)
from stratus_tui.api.contract_org import (
    Domain as Domain,
)
from stratus_tui.api.contract_org import (
    DutyProfile as DutyProfile,
)
from stratus_tui.api.contract_org import (
    DutyProfileCreate as DutyProfileCreate,
)
from stratus_tui.api.contract_org import (
    DutyProfileUpdate as DutyProfileUpdate,
)
from stratus_tui.api.contract_org import (
    EscalationLevels as EscalationLevels,
)
from stratus_tui.api.contract_org import (
    Guid as Guid,
)
from stratus_tui.api.contract_org import (
    LicenseLimits as LicenseLimits,
)
from stratus_tui.api.contract_org import (
    LoginRequest as LoginRequest,
)
from stratus_tui.api.contract_org import (
    O365App as O365App,
)
from stratus_tui.api.contract_org import (
    O365AppCreate as O365AppCreate,
)
from stratus_tui.api.contract_org import (
    O365AppUpdate as O365AppUpdate,
)
from stratus_tui.api.contract_org import (
    O365Config as O365Config,
)
from stratus_tui.api.contract_org import (
    O365LoginRequest as O365LoginRequest,
)
from stratus_tui.api.contract_org import (
    OrgUnit as OrgUnit,
)
from stratus_tui.api.contract_org import (
    OrgUnitCreate as OrgUnitCreate,
)
from stratus_tui.api.contract_org import (
    OrgUnitUpdate as OrgUnitUpdate,
)
from stratus_tui.api.contract_org import (
    Responsibility as Responsibility,
)
from stratus_tui.api.contract_org import (
    ResponsibilityCreate as ResponsibilityCreate,
)
from stratus_tui.api.contract_org import (
    ResponsibilityUpdate as ResponsibilityUpdate,
)
from stratus_tui.api.contract_org import (
    SessionInfo as SessionInfo,
)
from stratus_tui.api.contract_org import (
    SessionTimes as SessionTimes,
)
from stratus_tui.api.contract_org import (
    Team as Team,
)
from stratus_tui.api.contract_org import (
    TeamCreate as TeamCreate,
)
from stratus_tui.api.contract_org import (
    TeamUpdate as TeamUpdate,
)
from stratus_tui.api.contract_org import (
    Tenant as Tenant,
)
from stratus_tui.api.contract_org import (
    TenantCreate as TenantCreate,
)
from stratus_tui.api.contract_org import (
    TenantUpdate as TenantUpdate,
)
from stratus_tui.api.contract_org import (
    Trait as Trait,
)
from stratus_tui.api.contract_org import (
    TraitCreate as TraitCreate,
)
from stratus_tui.api.contract_org import (
    TraitUpdate as TraitUpdate,
)
from stratus_tui.api.contract_org import (
    User as User,
)
from stratus_tui.api.contract_org import (
    UserCreate as UserCreate,
)
from stratus_tui.api.contract_org import (
    UserUpdate as UserUpdate,
)
from stratus_tui.api.contract_org import (
    WorkingHours as WorkingHours,
)
