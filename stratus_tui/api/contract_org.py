"""Auth, tenants, O365 apps, org units, teams, users and their settings."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    field_serializer,
    field_validator,
    model_validator,
)

from stratus_tui.api import validation
from stratus_tui.api.contract_base import (
    ClockTime,
    Id,
    MailAddress,
    Name,
    Patch,
    Request,
    Resource,
    Role,
    SipUri,
    TimeZoneName,
    _rule,
)

# --- auth ----------------------------------------------------------------------------------


class LoginRequest(Request):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]
    password: Annotated[SecretStr, Field(min_length=1, max_length=1024)]


class O365LoginRequest(Request):
    """Sign in with a Microsoft access token (from msal) for the user's O365 application."""

    access_token: Annotated[SecretStr, Field(min_length=1, max_length=32768)]


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


# RFC 6750's b64token, bounded: what may follow "Bearer " in an Authorization header.
BEARER_TOKEN = re.compile(r"[A-Za-z0-9._~+/-]{1,4096}=*")


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

    @field_validator("token")
    @classmethod
    def _fits_a_header(cls, token: SecretStr) -> SecretStr:
        # The client sends it back in every Authorization header: a token that cannot go
        # there (a newline, a space, a control character) is refused here, as the server's
        # error, instead of failing each later request as a network error quoting it.
        if not BEARER_TOKEN.fullmatch(token.get_secret_value()):
            raise ValueError("is not a bearer token (RFC 6750: 1 to 4096 of A-Z a-z 0-9 -._~+/ =)")
        return token


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
