"""The cache's tables (SQL: bulk writes go through sqlite3 directly, see ``store``).

``PRAGMA user_version`` carries ``SCHEMA_VERSION``; a file of another version (or a corrupt
one) is moved aside and rebuilt: it is only a cache.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

TABLES = (
    # Key/value state: the history cursor, the last sync time, retention boundary...
    """CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    # Entities as the server sent them (JSON of the contract models), for instant painting.
    """CREATE TABLE IF NOT EXISTS entity (
        kind TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, fetched_at INTEGER NOT NULL,
        PRIMARY KEY (kind, key)) WITHOUT ROWID""",
    # Raw history (CONVERSATION_FIELDS), for the lost-calls PDF and the CSV export.
    """CREATE TABLE IF NOT EXISTS conversation (
        id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, tenant_id INTEGER NOT NULL,
        team_id INTEGER NOT NULL, service_id INTEGER, agent_id INTEGER, kind TEXT NOT NULL,
        direction TEXT NOT NULL, direct INTEGER NOT NULL, started_at INTEGER NOT NULL,
        answered_at INTEGER, ended_at INTEGER NOT NULL, outcome TEXT NOT NULL,
        wait_seconds INTEGER NOT NULL, duration_seconds INTEGER NOT NULL,
        voicemail INTEGER NOT NULL, customer_id TEXT NOT NULL)""",
    """CREATE INDEX IF NOT EXISTS conversation_team_started
        ON conversation (team_id, started_at)""",
    # Hourly buckets per team and local hour (see rollup.py), the source of every figure.
    """CREATE TABLE IF NOT EXISTS rollup (
        team_id INTEGER NOT NULL, hour INTEGER NOT NULL, kind TEXT NOT NULL,
        direction TEXT NOT NULL, direct INTEGER NOT NULL,
        local_day INTEGER NOT NULL, local_hour INTEGER NOT NULL, weekday INTEGER NOT NULL,
        total INTEGER NOT NULL, accepted INTEGER NOT NULL, lost INTEGER NOT NULL,
        voicemails INTEGER NOT NULL, duration_sum INTEGER NOT NULL, wait_sum INTEGER NOT NULL,
        PRIMARY KEY (team_id, hour, kind, direction, direct)) WITHOUT ROWID""",
)

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
