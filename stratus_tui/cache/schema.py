"""The cache's tables, declared as peewee models.

peewee declares the schema and opens the file (``store``); the hot paths (a million rows
per sync, the rollup upsert, the report queries) run as plain SQL on the same connection,
where peewee's ``insert_many`` would cost ten times the time (docs/cache.md, "Speed").
``TABLES`` is the DDL peewee generates for these models, for code and tests that hold a
bare ``sqlite3`` connection.

``PRAGMA user_version`` carries ``SCHEMA_VERSION``; a file of another version (or a corrupt
one) is moved aside and rebuilt: it is only a cache.
"""

from __future__ import annotations

from typing import Any

import peewee

SCHEMA_VERSION = 2  # 2: the listing table

# Deferred: each Cache opens its own SqliteDatabase; these models only describe the tables.
_DDL = peewee.SqliteDatabase(None)


class _Table(peewee.Model):
    class Meta:
        database = _DDL
        legacy_table_names = False


class State(_Table):
    """Key/value state: the history cursor, the last sync, the scope, the time zones..."""

    key = peewee.TextField(primary_key=True)
    value = peewee.TextField()


class Entity(_Table):
    """Entities as the server sent them (JSON of the contract models), for instant painting."""

    kind = peewee.TextField()
    key = peewee.TextField()
    data = peewee.TextField()
    fetched_at = peewee.IntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("kind", "key")
        without_rowid = True


class Conversation(_Table):
    """Raw history (``ingest.CONVERSATION_FIELDS``), for the lost-calls PDF and the CSV."""

    id = peewee.IntegerField(primary_key=True)  # the server's id: the rowid itself
    seq = peewee.IntegerField()
    tenant_id = peewee.IntegerField()
    team_id = peewee.IntegerField()
    service_id = peewee.IntegerField(null=True)
    agent_id = peewee.IntegerField(null=True)
    kind = peewee.TextField()
    direction = peewee.TextField()
    direct = peewee.IntegerField()
    started_at = peewee.IntegerField()
    answered_at = peewee.IntegerField(null=True)
    ended_at = peewee.IntegerField()
    outcome = peewee.TextField()
    wait_seconds = peewee.IntegerField()
    duration_seconds = peewee.IntegerField()
    voicemail = peewee.IntegerField()
    customer_id = peewee.TextField()

    class Meta:
        # Exports read a team's rows by time; retention prunes by the same key.
        indexes = ((("team_id", "started_at"), False),)


class Rollup(_Table):
    """Hourly buckets per team and local hour (rollup.py), the source of every figure."""

    team_id = peewee.IntegerField()
    hour = peewee.IntegerField()
    kind = peewee.TextField()
    direction = peewee.TextField()
    direct = peewee.IntegerField()
    local_day = peewee.IntegerField()
    local_hour = peewee.IntegerField()
    weekday = peewee.IntegerField()
    total = peewee.IntegerField()
    accepted = peewee.IntegerField()
    lost = peewee.IntegerField()
    voicemails = peewee.IntegerField()
    duration_sum = peewee.IntegerField()
    wait_sum = peewee.IntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("team_id", "hour", "kind", "direction", "direct")
        without_rowid = True


class Listing(_Table):
    """A list's rows ready to show (``listing.py``): cells joined by "\\x1f", per kind."""

    kind = peewee.TextField()
    id = peewee.IntegerField()
    cells = peewee.TextField()

    class Meta:
        primary_key = peewee.CompositeKey("kind", "id")
        without_rowid = True  # rows come out in (kind, id) order straight from the key


MODELS: tuple[type[peewee.Model], ...] = (State, Entity, Conversation, Rollup, Listing)
CONVERSATION_INDEX = "conversation_team_id_started_at"


def _ddl() -> tuple[str, ...]:
    """The CREATE statements peewee would run for ``MODELS`` (its schema manager's nodes)."""
    statements: list[str] = []
    for model in MODELS:
        manager: Any = model._schema  # type: ignore[attr-defined]
        nodes = [manager._create_table(safe=True), *manager._create_indexes(safe=True)]
        for node in nodes:
            context: Any = _DDL.get_sql_context()  # one per statement: a context accumulates
            statements.append(context.sql(node).query()[0])
    return tuple(statements)


TABLES = _ddl()

# Adds a batch of contributions (negative ones remove a changed record's old values).
UPSERT_ROLLUP = """
INSERT INTO rollup (team_id, hour, kind, direction, direct, local_day, local_hour, weekday,
                    total, accepted, lost, voicemails, duration_sum, wait_sum)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (team_id, hour, kind, direction, direct) DO UPDATE SET
    total = total + excluded.total, accepted = accepted + excluded.accepted,
    lost = lost + excluded.lost, voicemails = voicemails + excluded.voicemails,
    duration_sum = duration_sum + excluded.duration_sum, wait_sum = wait_sum + excluded.wait_sum
"""
