"""The cache file: one SQLite database per (profile, user), private, self-repairing.

``<cache dir>/<profile>/<key>.sqlite3`` where the key is a hash of the server address and
the user's UPN, so the path names no one. Files are 0600 in 0700 folders (SECURITY.md D).

peewee opens the file and creates the tables from ``schema``'s models; queries and writes
then run as plain SQL on that connection: the sync writes a million rows, and raw
``executemany`` is an order of magnitude faster than peewee's ``insert_many``.

WAL (readers never wait for the writer), a busy timeout, ``synchronous=NORMAL`` (WAL
stays consistent on power loss, only the last commits may be lost: it is a cache), and
every write in ``BEGIN IMMEDIATE``: a deferred transaction that reads and then writes
fails at once with "database is locked" when another process wrote in between, whatever
the busy timeout.

``PRAGMA user_version`` holds ``schema.SCHEMA_VERSION``. A file of another version, or one
SQLite cannot read, is moved aside (``<name>.broken-<time>``, the previous such copy is
deleted) and rebuilt empty; ``Cache.notice`` says so, for the UI to show.

One connection per ``Cache``, shared by threads (the sync ingests in a worker thread)
under a lock; ``read()`` lends it for queries (``reports`` runs its SELECTs there).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import peewee

from stratus_tui.cache import schema
from stratus_tui.config import paths

SUFFIX = ".sqlite3"
COMPANIONS = ("-wal", "-shm", "-journal")  # SQLite's own files next to the database
LOCK_SUFFIX = ".lock"  # held (flock) by the process that syncs this cache
BROKEN = ".broken-"
ADHOC_PROFILE = "_url"  # caches of `--url` sign-ins, which have no profile name
BUSY_TIMEOUT = 10.0  # seconds a statement waits for another process's write lock
NOTICE_UNREADABLE = "the local cache was unreadable and has been rebuilt"
NOTICE_VERSION = "the local cache was made by another version of stratus-tui and has been rebuilt"
_CORRUPT_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB

# The feed's booleans go into INTEGER columns as 1/0, which sqlite3 does by itself, but only
# after failing to find an adapter for ``bool`` (two per row: a quarter of the insert time).
# Registering the same conversion makes that lookup succeed at once. Process-wide, and
# harmless: a bool is stored exactly as before.
sqlite3.register_adapter(bool, int)


class CacheError(Exception):
    """The cache cannot be used (disk full, no permission...): one sentence to show."""


class _Rebuild(Exception):
    """The file must be moved aside and made anew; ``args[0]`` is the notice."""


def server_key(server_url: str) -> str:
    """The address as the cache knows it: scheme and host lower case, no trailing slash."""
    parts = urlsplit(server_url.strip())
    netloc = parts.netloc.lower()
    return urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), "", ""))


def cache_path(profile: str, server_url: str, upn: str, *, folder: Path | None = None) -> Path:
    """Where the cache of this user on this server, signed in through ``profile``, lives."""
    if not profile or profile.startswith(".") or "/" in profile or "\\" in profile:
        raise ValueError(f"not a usable profile name for the cache: {profile!r}")
    identity = f"{server_key(server_url)}\0{upn.strip().lower()}"
    name = hashlib.sha256(identity.encode()).hexdigest()[:20]
    return (folder or paths.cache_dir()) / profile / f"{name}{SUFFIX}"


def is_corruption(error: sqlite3.DatabaseError) -> bool:
    """Damage a rebuild repairs (not a lock, a full disk or a permission problem)."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _CORRUPT_CODES
    return type(error) is sqlite3.DatabaseError


def companions(path: Path) -> list[Path]:
    """The database and its SQLite companion files (which may not exist)."""
    return [path, *(path.with_name(path.name + suffix) for suffix in COMPANIONS)]


class Cache:
    """One open cache file. Plain Python, thread-safe; see the module docstring."""

    def __init__(self, path: Path, connection: sqlite3.Connection, notice: str | None) -> None:
        self.path = path
        self.notice = notice  # set when the file was rebuilt: tell the user once
        self._connection: sqlite3.Connection | None = connection
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"Cache({str(self.path)!r})"

    @classmethod
    def open(cls, profile: str, server_url: str, upn: str, *, folder: Path | None = None) -> Cache:
        """Open (creating or rebuilding if needed) the cache of ``upn`` on ``server_url``."""
        path = cache_path(profile, server_url, upn, folder=folder)
        try:
            paths.private_dir(path.parent.parent)  # the cache root: profile names are private
        except OSError as error:
            raise CacheError(
                f"the cache folder {path.parent.parent} is not usable: {error}"
            ) from None
        cache = cls.open_path(path)
        identity = {"server": server_key(server_url), "user": upn.strip().lower()}
        if any(cache.get_state(key) != value for key, value in identity.items()):
            cache.set_state(identity)
        return cache

    @classmethod
    def open_path(cls, path: Path) -> Cache:
        try:
            paths.private_dir(path.parent)
            try:
                return cls(path, _connect(path), None)
            except _Rebuild as rebuild:
                move_aside(path)
                return cls(path, _connect(path), str(rebuild.args[0]))
        except OSError as error:
            reason = error.strerror or str(error)
            raise CacheError(f"the local cache {path} could not be opened: {reason}") from None

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + LOCK_SUFFIX)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                with suppress(sqlite3.Error):
                    self._connection.close()
                self._connection = None

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- transactions ------------------------------------------------------------------

    def _open_connection(self) -> sqlite3.Connection:
        if self._connection is None:
            raise CacheError("the local cache is closed")
        return self._connection

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """The connection, for queries (no writes: use ``write``)."""
        with self._lock, _errors():
            yield self._open_connection()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction: committed at the end, rolled back on error."""
        with self._lock, _errors():
            connection = self._open_connection()
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                if connection.in_transaction:  # SQLite may have rolled back already
                    connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def rebuild(self, notice: str = NOTICE_UNREADABLE) -> None:
        """Move the (damaged) file aside and start again empty, keeping this object."""
        with self._lock:
            self.close()
            move_aside(self.path)
            self._connection = _connect(self.path)
            self.notice = notice

    # --- small state -------------------------------------------------------------------

    def get_state(self, key: str) -> str | None:
        with self.read() as connection:
            row = connection.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_state(self, values: Mapping[str, Any]) -> None:
        with self.write() as connection:
            set_state(connection, values)

    def cursor(self) -> int:
        """The history feed's cursor: everything up to this change is stored."""
        return int(self.get_state("cursor") or 0)

    def last_sync(self) -> int | None:
        """When a sync last reached the end of the feed (epoch seconds)."""
        value = self.get_state("last_sync")
        return None if value is None else int(value)

    # --- entities ----------------------------------------------------------------------

    def put_entities(
        self, kind: str, items: Mapping[str, str], fetched_at: int, *, replace_kind: bool = True
    ) -> None:
        """Store JSON texts by key. ``replace_kind``: these are all of ``kind`` (the others
        go) and ``fetched_at`` becomes the kind's age; otherwise only these change."""
        with self.write() as connection:
            if replace_kind:
                connection.execute("DELETE FROM entity WHERE kind = ?", (kind,))
            connection.executemany(
                "INSERT OR REPLACE INTO entity (kind, key, data, fetched_at) VALUES (?, ?, ?, ?)",
                [(kind, key, data, fetched_at) for key, data in items.items()],
            )
            marker = f"fetched:{kind}"
            known = connection.execute("SELECT 1 FROM state WHERE key = ?", (marker,)).fetchone()
            if replace_kind or known is None:
                set_state(connection, {marker: fetched_at})

    def get_entities(self, kind: str) -> tuple[dict[str, str], int | None]:
        """(key -> JSON, when the kind was last fetched whole); ({}, None) if never."""
        with self.read() as connection:
            rows = connection.execute(
                "SELECT key, data FROM entity WHERE kind = ?", (kind,)
            ).fetchall()
            marker = connection.execute(
                "SELECT value FROM state WHERE key = ?", (f"fetched:{kind}",)
            ).fetchone()
        return {key: data for key, data in rows}, None if marker is None else int(marker[0])

    def get_entity(self, kind: str, key: str) -> str | None:
        """One entity's JSON (a list of 50,000 is not read whole to show one)."""
        with self.read() as connection:
            row = connection.execute(
                "SELECT data FROM entity WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
        return None if row is None else str(row[0])

    def delete_entities(self, kind: str, keys: Iterable[str]) -> None:
        with self.write() as connection:
            connection.executemany(
                "DELETE FROM entity WHERE kind = ? AND key = ?", [(kind, key) for key in keys]
            )

    # --- history -----------------------------------------------------------------------

    def history_bounds(self) -> tuple[int | None, int | None]:
        """The first and last ``started_at`` in the stored history (None: no history)."""
        with self.read() as connection:
            teams = team_ids(connection, "conversation")
            if not teams:
                return None, None
            first = min(
                connection.execute(
                    "SELECT min(started_at) FROM conversation WHERE team_id = ?", (team,)
                ).fetchone()[0]
                for team in teams
            )
            last = max(
                connection.execute(
                    "SELECT max(started_at) FROM conversation WHERE team_id = ?", (team,)
                ).fetchone()[0]
                for team in teams
            )
        return int(first), int(last)

    def purge(self) -> list[Path]:
        """Close and delete the cache (with its companions and lock file); what went."""
        self.close()
        return delete_files(self.path)


def team_ids(connection: sqlite3.Connection, table: str) -> list[int]:
    """The distinct ``team_id`` of ``conversation`` or ``rollup``, by skipping through the
    index whose first column it is: a few lookups, not a scan of the table."""
    assert table in ("conversation", "rollup")
    rows = connection.execute(
        f"WITH RECURSIVE t(id) AS (SELECT min(team_id) FROM {table} UNION ALL "  # noqa: S608
        f"SELECT (SELECT min(team_id) FROM {table} WHERE team_id > t.id) FROM t "
        "WHERE t.id IS NOT NULL) SELECT id FROM t WHERE id IS NOT NULL"
    ).fetchall()
    return [int(row[0]) for row in rows]


def set_state(connection: sqlite3.Connection, values: Mapping[str, Any]) -> None:
    """Inside a write transaction: store values (non-strings as JSON, None deletes)."""
    for key, value in values.items():
        if value is None:
            connection.execute("DELETE FROM state WHERE key = ?", (key,))
            continue
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        connection.execute("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", (key, text))


@contextmanager
def reader(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection of the caller's own to the cache file at ``path``.

    For the exports: ``Cache.read`` lends the shared connection under a lock, and holding
    it for the seconds a million rows take would stall the page's reports and the sync.
    In WAL mode this reader sees one consistent state while the sync goes on writing.
    Raises ``CacheError`` (also for errors while the block reads).
    """
    try:
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT
        )
    except sqlite3.Error as error:
        raise CacheError(f"the local cache could not be read: {error}") from None
    try:
        connection.execute("PRAGMA query_only = ON")
        yield connection
    except sqlite3.Error as error:
        raise CacheError(f"the local cache could not be read: {error}") from None
    finally:
        connection.close()


@contextmanager
def _errors() -> Iterator[None]:
    """SQLite errors that are not the caller's to handle become a ``CacheError``."""
    try:
        yield
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise CacheError(
                "the local cache stayed busy (another stratus-tui is writing to it); "
                "try again in a moment"
            ) from None
        raise CacheError(f"the local cache could not be used: {error}") from None


def _connect(path: Path) -> sqlite3.Connection:
    """Open ``path`` with the cache's settings and schema; raises ``_Rebuild``.

    peewee opens the file, applies the pragmas and creates the tables from ``schema``'s
    models; the Cache then works on its connection directly (one connection, shared by
    threads under the Cache's lock, so peewee's per-thread state is switched off).
    """
    paths.private_file(path)
    for companion in companions(path)[1:]:  # SQLite gives them the database's mode
        if companion.exists() and companion.stat().st_mode & 0o077:
            companion.chmod(0o600)
    database = peewee.SqliteDatabase(
        str(path),
        timeout=BUSY_TIMEOUT,
        check_same_thread=False,
        thread_safe=False,
        pragmas=(
            ("busy_timeout", int(BUSY_TIMEOUT * 1000)),
            ("journal_mode", "wal"),  # the first read of the file
            ("synchronous", "normal"),
            ("temp_store", "memory"),  # the sync's staging table
        ),
    )
    try:
        database.connect()
        connection: sqlite3.Connection = database.connection()  # type: ignore[no-untyped-call]
        if connection.execute("PRAGMA user_version").fetchone()[0] != schema.SCHEMA_VERSION:
            _create_schema(database)
        connection.execute("SELECT count(*) FROM state").fetchone()
    except _Rebuild:
        database.close()
        raise
    except (sqlite3.DatabaseError, peewee.DatabaseError) as error:
        database.close()
        cause = getattr(error, "orig", error)  # peewee wraps sqlite3's error as ``orig``
        if isinstance(cause, sqlite3.DatabaseError) and is_corruption(cause):
            raise _Rebuild(NOTICE_UNREADABLE) from None
        raise CacheError(f"the local cache {path} could not be opened: {error}") from None
    return connection


def _create_schema(database: peewee.SqliteDatabase) -> None:
    connection: sqlite3.Connection = database.connection()  # type: ignore[no-untyped-call]
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version != schema.SCHEMA_VERSION:
            tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if version != 0 or tables:
                raise _Rebuild(NOTICE_VERSION)
            with database.bind_ctx(schema.MODELS):
                database.create_tables(schema.MODELS)
            connection.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def move_aside(path: Path) -> Path:
    """Rename a damaged cache to ``<name>.broken-<time>`` (replacing an older one)."""
    for old in path.parent.glob(f"{path.name}{BROKEN}*"):
        with suppress(OSError):
            old.unlink()
    target = path.with_name(f"{path.name}{BROKEN}{time.strftime('%Y%m%d-%H%M%S')}")
    with suppress(FileNotFoundError):
        path.replace(target)
    for companion in companions(path)[1:]:
        with suppress(FileNotFoundError):
            companion.unlink()
    return target


def delete_files(path: Path) -> list[Path]:
    """Delete a cache file, its companions, lock file and broken copies; what went."""
    gone = []
    candidates = [*companions(path), path.with_name(path.name + LOCK_SUFFIX)]
    candidates += sorted(path.parent.glob(f"{path.name}{BROKEN}*"))
    for candidate in candidates:
        with suppress(FileNotFoundError):
            candidate.unlink()
            gone.append(candidate)
    return gone
