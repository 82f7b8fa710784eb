"""The reference server's database: peewee models over one SQLite file.

The server always runs on a file (a temporary one when no ``--db`` is given): SQLite's
``:memory:`` database belongs to a single connection, while uvicorn serves requests from a
thread pool with one connection per thread. WAL lets those readers run beside a writer.

Times are epoch seconds (UTC) in INTEGER columns; list-valued settings that are only ever
read whole (working hours, endpoints, workflow definitions) are JSON text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from peewee import (
    BooleanField,
    CharField,
    CompositeKey,
    DatabaseProxy,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    SqliteDatabase,
    TextField,
)

# 2: the privacy_event table (a version-1 file gets it added when opened, see MIGRATIONS).
SCHEMA_VERSION = 2

database = DatabaseProxy()


class SchemaMismatchError(RuntimeError):
    """The file was made by another version of the server (or is not a server database)."""


class BaseModel(Model):
    # peewee adds ``id`` and a ``<name>_id`` accessor per foreign key at run time; these
    # bare annotations only tell the type checker (peewee looks at Field attributes alone).
    # ``id`` is Any because it is a Field on the class (queries) and an int on a row.
    id: Any

    class Meta:
        database = database
        legacy_table_names = False


class Versioned(BaseModel):
    """A record clients edit: ``version`` is its ETag and rises with every change."""

    version = IntegerField(default=1)


class Setting(BaseModel):
    key = CharField(primary_key=True)
    value = TextField()


class Tenant(Versioned):
    name = CharField(unique=True)
    time_zone = CharField()
    agents_allowed = IntegerField()
    supervisors_allowed = IntegerField()
    retention_days = IntegerField()
    live_chat_enabled = BooleanField(default=False)


class O365App(Versioned):
    tenant = ForeignKeyField(Tenant, backref="o365_apps", on_delete="CASCADE")
    tenant_id: int
    domain = CharField(unique=True)
    azure_tenant_id = CharField()
    client_id = CharField()
    authority = CharField()


class OrgUnit(Versioned):
    tenant = ForeignKeyField(Tenant, backref="org_units", on_delete="CASCADE")
    tenant_id: int
    parent = ForeignKeyField("self", null=True, backref="children")
    parent_id: int | None
    name = CharField()
    is_system = BooleanField(default=False)


class Team(Versioned):
    tenant = ForeignKeyField(Tenant, on_delete="CASCADE")
    tenant_id: int
    ou = ForeignKeyField(OrgUnit)
    ou_id: int
    name = CharField()
    time_zone = CharField()


class Responsibility(Versioned):
    tenant = ForeignKeyField(Tenant, on_delete="CASCADE")
    tenant_id: int
    ou = ForeignKeyField(OrgUnit)
    ou_id: int
    name = CharField()


class DutyProfile(Versioned):
    tenant = ForeignKeyField(Tenant, on_delete="CASCADE")
    tenant_id: int
    ou = ForeignKeyField(OrgUnit)
    ou_id: int
    name = CharField()
    working_hours = TextField(default="[]")
    escalation_levels = IntegerField(default=1)


class DutyProfileResponsibility(BaseModel):
    duty_profile = ForeignKeyField(DutyProfile, on_delete="CASCADE")
    duty_profile_id: int
    responsibility = ForeignKeyField(Responsibility, on_delete="CASCADE")
    responsibility_id: int

    class Meta:
        primary_key = CompositeKey("duty_profile", "responsibility")


class Trait(Versioned):
    tenant = ForeignKeyField(Tenant, on_delete="CASCADE")
    tenant_id: int
    ou = ForeignKeyField(OrgUnit)
    ou_id: int
    parent = ForeignKeyField("self", null=True, backref="children")
    parent_id: int | None
    name = CharField()


class User(Versioned):
    tenant = ForeignKeyField(Tenant, null=True, on_delete="CASCADE")
    tenant_id: int | None
    ou = ForeignKeyField(OrgUnit, null=True)
    ou_id: int | None
    first_name = CharField()
    last_name = CharField()
    upn = CharField()
    upn_key = CharField(unique=True)  # lower-cased UPN: user names are case-insensitive
    sip_uri = CharField(null=True)
    password_hash = CharField(null=True)
    active = BooleanField(default=True)
    directory_synced = BooleanField(default=False)
    duty_profile = ForeignKeyField(DutyProfile, null=True, on_delete="SET NULL")
    duty_profile_id: int | None


class UserRole(BaseModel):
    user = ForeignKeyField(User, on_delete="CASCADE")
    user_id: int
    role = CharField()

    class Meta:
        primary_key = CompositeKey("user", "role")


class TeamMember(BaseModel):
    team = ForeignKeyField(Team, on_delete="CASCADE")
    team_id: int
    user = ForeignKeyField(User, on_delete="CASCADE")
    user_id: int

    class Meta:
        primary_key = CompositeKey("team", "user")


class TeamManager(BaseModel):
    """The teams a team admin administers (their RBAC scope)."""

    team = ForeignKeyField(Team, on_delete="CASCADE")
    team_id: int
    user = ForeignKeyField(User, on_delete="CASCADE")
    user_id: int

    class Meta:
        primary_key = CompositeKey("team", "user")


class UserTrait(BaseModel):
    user = ForeignKeyField(User, on_delete="CASCADE")
    user_id: int
    trait = ForeignKeyField(Trait, on_delete="CASCADE")
    trait_id: int

    class Meta:
        primary_key = CompositeKey("user", "trait")


class UserResponsibility(BaseModel):
    user = ForeignKeyField(User, on_delete="CASCADE")
    user_id: int
    responsibility = ForeignKeyField(Responsibility, on_delete="CASCADE")
    responsibility_id: int

    class Meta:
        primary_key = CompositeKey("user", "responsibility")


class Workflow(Versioned):
    tenant = ForeignKeyField(Tenant, on_delete="CASCADE")
    tenant_id: int
    ou = ForeignKeyField(OrgUnit)
    ou_id: int
    name = CharField()
    type = CharField()
    definition = TextField()


class Service(Versioned):
    tenant = ForeignKeyField(Tenant, on_delete="CASCADE")
    tenant_id: int
    team = ForeignKeyField(Team)
    team_id: int
    ou = ForeignKeyField(OrgUnit)
    ou_id: int
    kind = CharField()
    name = CharField()
    address = CharField()
    display_name = CharField()
    endpoints = TextField(default="[]")
    priority = CharField(default="strict")
    wrr_level = IntegerField(null=True)
    direction = CharField(default="inbound")
    max_concurrent_sessions = IntegerField(default=10)
    workflow = ForeignKeyField(Workflow, null=True)
    workflow_id: int | None
    emergency_routing = BooleanField(default=False)


class ServiceTrait(BaseModel):
    service = ForeignKeyField(Service, on_delete="CASCADE")
    service_id: int
    trait = ForeignKeyField(Trait)
    trait_id: int

    class Meta:
        primary_key = CompositeKey("service", "trait")


class Instance(BaseModel):
    name = CharField(unique=True)
    host = CharField()
    role = CharField()
    application_id = CharField()
    fqdn = CharField()
    port = IntegerField()


class Component(BaseModel):
    instance = ForeignKeyField(Instance, backref="components", on_delete="CASCADE")
    instance_id: int
    abbreviation = CharField()
    mode = CharField()
    version = CharField()
    state = CharField()
    last_heartbeat = IntegerField(null=True)

    class Meta:
        indexes = ((("instance", "abbreviation"), True),)


class LicenseUsage(BaseModel):
    tenant = ForeignKeyField(Tenant, on_delete="CASCADE")
    tenant_id: int
    ou = ForeignKeyField(OrgUnit, on_delete="CASCADE")
    ou_id: int
    date = CharField()  # ISO date: sorts and compares as text
    concurrent_agents = IntegerField()
    configured_agents = IntegerField()
    supervisors = IntegerField()
    services = IntegerField()

    class Meta:
        indexes = ((("tenant", "date"), False), (("ou", "date"), True))


class Conversation(BaseModel):
    """Call and IM history. Plain id columns: history outlives the agents and services."""

    seq = IntegerField(unique=True)  # change sequence: the sync cursor
    tenant_id = IntegerField()
    team_id = IntegerField()
    service_id = IntegerField(null=True)
    agent_id = IntegerField(null=True)
    kind = CharField()
    direction = CharField()
    direct = BooleanField()
    started_at = IntegerField()
    answered_at = IntegerField(null=True)
    ended_at = IntegerField()
    outcome = CharField()
    wait_seconds = IntegerField()
    duration_seconds = IntegerField()
    voicemail = BooleanField()
    customer_id = CharField()

    class Meta:
        indexes = (
            (("tenant_id", "seq"), False),
            (("team_id", "seq"), False),
            (("customer_id",), False),
            (("started_at",), False),
        )


class Session(BaseModel):
    token_hash = CharField(unique=True)  # sha256 of the token: a leaked database grants nothing
    user = ForeignKeyField(User, on_delete="CASCADE")
    user_id: int
    created_at = IntegerField()
    last_seen_at = IntegerField()
    idle_expires_at = IntegerField()
    absolute_expires_at = IntegerField()
    ended_at = IntegerField(null=True)
    # Permissions are read at login (DOMAIN.md): a role change applies at the next login.
    roles = CharField()  # comma-separated
    team_scope = TextField(default="")  # comma-separated ids of the teams a team admin manages


class PrivacyExport(BaseModel):
    tenant = ForeignKeyField(Tenant, on_delete="CASCADE")
    tenant_id: int
    requested_by = IntegerField()
    requested_by_name = CharField()
    # The teams a team admin's export may read (comma-separated ids; empty: the whole tenant).
    team_scope = TextField(default="")
    subject_kind = CharField()
    subject = CharField()
    date_from = CharField()
    date_to = CharField()
    state = CharField(default="queued")
    progress = FloatField(default=0.0)
    row_count = IntegerField(default=0)
    error = TextField(null=True)
    result = TextField(null=True)
    created_at = IntegerField()
    finished_at = IntegerField(null=True)


class PrivacyEvent(BaseModel):
    """A change to the history that clients' local caches must follow (docs/privacy.md): a
    retention ``purge`` (the tenant's conversations that started before ``before`` are gone)
    or an ``erase`` (those conversations' customer identifiers were anonymised).

    A plain tenant id, like the history's: the record of what was erased outlives the tenant.
    """

    tenant_id = IntegerField()
    kind = CharField()  # "purge" or "erase"
    before = IntegerField(null=True)  # purge: epoch seconds
    conversation_ids = TextField(default="[]")  # erase: a JSON array of ids
    requested_by = IntegerField(null=True)  # erase: the admin who asked; None for retention
    created_at = IntegerField()

    class Meta:
        indexes = ((("tenant_id", "id"), False),)


class ChatMessage(BaseModel):
    tenant = ForeignKeyField(Tenant, on_delete="CASCADE")
    tenant_id: int
    user = ForeignKeyField(User, on_delete="CASCADE")  # whose chat with IT support
    user_id: int
    author = CharField()
    author_name = CharField()
    text = TextField()
    sent_at = IntegerField()

    class Meta:
        indexes = ((("user", "id"), False),)


TABLES: tuple[type[BaseModel], ...] = (
    Setting,
    Tenant,
    O365App,
    OrgUnit,
    Team,
    Responsibility,
    DutyProfile,
    DutyProfileResponsibility,
    Trait,
    User,
    UserRole,
    TeamMember,
    TeamManager,
    UserTrait,
    UserResponsibility,
    Workflow,
    Service,
    ServiceTrait,
    Instance,
    Component,
    LicenseUsage,
    Conversation,
    Session,
    PrivacyExport,
    PrivacyEvent,
    ChatMessage,
)


def _add_privacy_events(database: SqliteDatabase) -> None:
    database.create_tables([PrivacyEvent])


# How a file of an older version becomes the current one: MIGRATIONS[n] turns version n into
# n + 1, each step in one transaction. A version without a step here (or a newer one) is a
# SchemaMismatchError, which `stratus-tui demo` answers by generating its data anew.
MIGRATIONS: dict[int, Callable[[SqliteDatabase], None]] = {1: _add_privacy_events}


def _casefold(value: str | None) -> str | None:
    return value.casefold() if isinstance(value, str) else value


def open_database(path: Path) -> SqliteDatabase:
    """Open (creating if needed) the server database at ``path`` and bind the models to it.

    One server database per process: peewee binds model classes globally.
    """
    db = SqliteDatabase(
        str(path),
        pragmas={
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": 10_000,
            "synchronous": "normal",
        },
        # Writers take the lock up front: a deferred transaction that reads and then writes
        # fails at once with "database is locked" when another writer got in between.
        lock_type="IMMEDIATE",
    )
    # Case-insensitive search that folds more than ASCII (SQLite's lower() does not).
    db.register_function(_casefold, "casefold", 1)
    database.initialize(db)
    db.connect(reuse_if_open=True)
    found = db.user_version
    if found == 0 and not db.get_tables():
        with db.atomic():
            db.create_tables(TABLES)
        db.user_version = SCHEMA_VERSION
        return db
    while found in MIGRATIONS and found < SCHEMA_VERSION:
        with db.atomic():
            MIGRATIONS[found](db)
            found += 1
            db.user_version = found
    if found != SCHEMA_VERSION:
        db.close()
        raise SchemaMismatchError(
            f"{path} has schema version {found}, this server needs {SCHEMA_VERSION}: "
            "start with another --db file, or delete this one to generate fresh demo data"
        )
    return db


def tuples(query: Any) -> list[tuple[Any, ...]]:
    """The rows of a query as tuples (peewee's stubs type them as model instances)."""
    return list(query.tuples())


def column(query: Any) -> list[Any]:
    """The first column of a query's rows."""
    return [row[0] for row in query.tuples()]


def is_empty() -> bool:
    """True when the database holds no tenant yet (a new file that needs seeding)."""
    return not Tenant.select().exists()
