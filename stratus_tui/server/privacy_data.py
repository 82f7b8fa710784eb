"""Data privacy on the server's side: retention purges, erasures, the events caches follow.

- ``purge_expired``: a tenant's conversations that started before now - retention_days go,
  in one transaction with a ``purge`` event (``before`` = that cut-off) and with the rows
  of finished privacy exports that started before it. Run when a tenant's retention
  changes (``PATCH /tenants/{id}``), when the server starts and every hour while it runs.
- ``erase_customer``: a customer identifier's conversations in one tenant get the
  placeholder ``ERASED_CUSTOMER`` instead (and a new change sequence, so every client's
  feed sends them again), with an ``erase`` event naming them; privacy exports holding the
  identifier are redacted (or, when it is their subject, emptied and marked failed).
- ``recover_jobs``: export jobs a previous process left queued or running fail with a
  reason, as nothing will ever finish them.

docs/privacy.md says why each works as it does.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from peewee import SQL, Expression, Field, fn

from stratus_tui.api.models import CONVERSATION_FIELDS, ERASED_CUSTOMER
from stratus_tui.server import db

log = logging.getLogger("stratus_tui.server")

DAY = 86_400
EXPORT_CHUNK = 5000  # conversations a privacy export reads per step (ServerContext)
RETENTION_DAYS = range(1, 3651)  # what the product allows (TenantCreate / TenantUpdate)
# The highest id and seq ever given to a conversation: a purge may delete the rows holding
# them, and a change sequence must never be issued twice (clients' cursors are past it).
HIGH_WATER = "conversation_high_water"
RESTARTED = "the server restarted before this export finished; start it again"
_ID = CONVERSATION_FIELDS.index("id")
_STARTED = CONVERSATION_FIELDS.index("started_at")
_CUSTOMER = CONVERSATION_FIELDS.index("customer_id")
# A phone number as people write it: an optional "tel:", "+" or "00", digits, and the
# usual separators (spaces, dashes, dots, slashes, parentheses).
_PHONE = re.compile(r"(?:tel:)?\s*(?:\+|00)?[0-9][0-9 ().\-/]*", re.IGNORECASE)
_E164_DIGITS = re.compile(r"[1-9][0-9]{6,14}")


@dataclass(frozen=True)
class Purged:
    event_id: int
    before: int
    conversations: int


@dataclass(frozen=True)
class Erased:
    event_id: int
    conversation_ids: list[int]
    erased_at: int


def ids_in(field: Field, ids: Iterable[int]) -> Expression:
    """``field IN ids`` for any number of ids (one JSON parameter, not one per id: SQLite
    limits a statement's parameters)."""
    return field.in_(SQL("(SELECT value FROM json_each(?))", [json.dumps(list(ids))]))


# --- change sequence -------------------------------------------------------------------


def high_water() -> tuple[int, int]:
    """(highest conversation id, highest seq) ever issued, deleted rows included."""
    conversation = db.Conversation
    top_id, top_seq = db.tuples(
        conversation.select(fn.MAX(conversation.id), fn.MAX(conversation.seq))
    )[0]
    row = db.Setting.get_or_none(db.Setting.key == HIGH_WATER)
    kept = json.loads(row.value) if row is not None else [0, 0]
    return max(top_id or 0, int(kept[0])), max(top_seq or 0, int(kept[1]))


def _remember_high_water() -> None:
    """Before deleting conversations: keep the highest id and seq so far (in the caller's
    transaction)."""
    value = json.dumps(list(high_water()))
    table = db.Setting._meta.table_name
    db.database.execute_sql(
        f'INSERT OR REPLACE INTO "{table}" (key, value) VALUES (?, ?)',  # noqa: S608
        (HIGH_WATER, value),
    )


# --- retention -------------------------------------------------------------------------


def retention_cutoff(now: int, retention_days: int) -> int:
    """The oldest start a tenant keeps: now - retention_days (epoch seconds)."""
    return now - retention_days * DAY


def purge_expired(tenant_id: int, now: int) -> Purged | None:
    """Delete the tenant's conversations older than its retention, with a ``purge`` event.

    One transaction (a savepoint inside the caller's). Nothing to delete: no event, None.
    A retention outside what the product allows (a hand-edited database) purges nothing.
    """
    with db.database.atomic():
        tenant = db.Tenant.get_or_none(db.Tenant.id == tenant_id)
        if tenant is None:
            return None
        if tenant.retention_days not in RETENTION_DAYS:
            log.warning(
                "tenant %s has retention_days %s, outside 1-3650: not purged",
                tenant_id,
                tenant.retention_days,
            )
            return None
        before = retention_cutoff(now, tenant.retention_days)
        expired = db.Conversation.select().where(
            db.Conversation.tenant_id == tenant_id, db.Conversation.started_at < before
        )
        if not expired.exists():
            return None
        _remember_high_water()
        deleted = (
            db.Conversation.delete()
            .where(db.Conversation.tenant_id == tenant_id, db.Conversation.started_at < before)
            .execute()
        )
        event = db.PrivacyEvent.create(
            tenant_id=tenant_id, kind="purge", before=before, created_at=now
        )
        _trim_export_results(tenant_id, lambda row: row[_STARTED] >= before)
    log.info("tenant %s: purged %s conversations before %s", tenant_id, deleted, before)
    return Purged(event.id, before, deleted)


def purge_all(now: int) -> list[Purged]:
    """``purge_expired`` for every tenant, each in its own transaction."""
    done = []
    for tenant_id in db.column(db.Tenant.select(db.Tenant.id).order_by(db.Tenant.id)):
        purged = purge_expired(tenant_id, now)
        if purged is not None:
            done.append(purged)
    return done


# --- erasure ---------------------------------------------------------------------------


def customer_keys(identifier: str) -> list[str]:
    """The stored values that are ``identifier``: itself (stripped), and for a phone number
    written with separators, "00" or "tel:" also its E.164 form (``+41 79 123 45 67`` and
    ``0041791234567`` are ``+41791234567``, as the history stores numbers).

    A national number (``079 123 45 67``) names no country and matches only as written;
    addresses (SIP, mail) match exactly, case included.
    """
    text = identifier.strip()
    keys = [text]
    if _PHONE.fullmatch(text):
        # "+41 (0)79 ...": the bracketed trunk zero is not dialled from abroad.
        bare = text.lower().removeprefix("tel:").replace("(0)", "")
        digits = re.sub(r"[^0-9+]", "", bare)
        international = digits.startswith("+") or digits.startswith("00")
        number = digits.removeprefix("+") if digits.startswith("+") else digits[2:]
        if international and _E164_DIGITS.fullmatch(number) and f"+{number}" != text:
            keys.append(f"+{number}")
    return keys


def erase_customer(tenant_id: int, identifier: str, requested_by: int | None, now: int) -> Erased:
    """Anonymise ``identifier`` in the tenant's history and privacy exports; one
    transaction. Always records an ``erase`` event (an empty one when nothing matched), so
    that every erasure has an id and a trace, which does not name the identifier."""
    keys = customer_keys(identifier)
    with db.database.atomic():
        ids = db.column(
            db.Conversation.select(db.Conversation.id)
            .where(db.Conversation.tenant_id == tenant_id, db.Conversation.customer_id.in_(keys))
            .order_by(db.Conversation.id)
        )
        if ids:
            _, top_seq = high_water()
            db.database.connection().executemany(
                'UPDATE "conversation" SET customer_id = ?, seq = ? WHERE id = ?',
                [(ERASED_CUSTOMER, top_seq + n, row_id) for n, row_id in enumerate(ids, 1)],
            )
        event = db.PrivacyEvent.create(
            tenant_id=tenant_id,
            kind="erase",
            conversation_ids=json.dumps(ids),
            requested_by=requested_by,
            created_at=now,
        )
        _redact_exports(tenant_id, set(keys), set(ids), now)
    log.info("tenant %s: erased a customer identifier in %s conversations", tenant_id, len(ids))
    return Erased(event.id, ids, now)


def _redact_exports(tenant_id: int, keys: set[str], ids: set[int], now: int) -> None:
    """Exports of the erased customer lose their rows and subject (and fail, saying why);
    finished exports of anything else get the placeholder in the rows that held it."""
    day = datetime.fromtimestamp(now, UTC).date().isoformat()
    subjects = db.PrivacyExport.select().where(
        db.PrivacyExport.tenant == tenant_id, db.PrivacyExport.subject_kind == "customer"
    )
    for job in subjects:
        if keys & set(customer_keys(job.subject)):
            db.PrivacyExport.update(
                subject=ERASED_CUSTOMER,
                state="failed",
                progress=0.0,
                row_count=0,
                result=None,
                error=f"this customer's data was erased on {day}; so was this export",
                finished_at=job.finished_at or now,
            ).where(db.PrivacyExport.id == job.id).execute()

    def redact(row: list[Any]) -> list[Any]:
        if row[_ID] in ids or row[_CUSTOMER] in keys:
            row = list(row)
            row[_CUSTOMER] = ERASED_CUSTOMER
        return row

    _rewrite_export_results(tenant_id, redact)


def _trim_export_results(tenant_id: int, keep: Any) -> None:
    def rewrite(rows: list[list[Any]]) -> list[list[Any]]:
        return [row for row in rows if keep(row)]

    _each_result(tenant_id, rewrite)


def _rewrite_export_results(tenant_id: int, change: Any) -> None:
    def rewrite(rows: list[list[Any]]) -> list[list[Any]]:
        return [change(row) for row in rows]

    _each_result(tenant_id, rewrite)


def _each_result(tenant_id: int, rewrite: Any) -> None:
    """Apply ``rewrite`` to the stored rows of the tenant's finished exports (in the
    caller's transaction), writing back only those that changed."""
    done = db.PrivacyExport.select(db.PrivacyExport.id, db.PrivacyExport.result).where(
        db.PrivacyExport.tenant == tenant_id,
        db.PrivacyExport.state == "done",
        db.PrivacyExport.result.is_null(False),
    )
    for job_id, text in db.tuples(done):
        rows = json.loads(text)
        changed = rewrite(rows)
        if changed != rows:
            db.PrivacyExport.update(result=json.dumps(changed), row_count=len(changed)).where(
                db.PrivacyExport.id == job_id
            ).execute()


# --- events ----------------------------------------------------------------------------


def event_ids(text: str) -> list[int]:
    return [int(value) for value in json.loads(text or "[]")]


def visible_ids(ids: Iterable[int], teams: Iterable[int]) -> list[int]:
    """The ids among ``ids`` of conversations of ``teams`` (a team admin's scope)."""
    chosen, wanted = sorted(set(teams)), sorted(set(ids))
    if not chosen or not wanted:
        return []
    query = (
        db.Conversation.select(db.Conversation.id)
        .where(ids_in(db.Conversation.id, wanted), db.Conversation.team_id.in_(chosen))
        .order_by(db.Conversation.id)
    )
    return [int(value) for value in db.column(query)]


# --- export jobs -----------------------------------------------------------------------


def recover_jobs(now: int) -> int:
    """Jobs a previous process left queued or running: failed, with the reason. Count."""
    with db.database.atomic():
        return int(
            db.PrivacyExport.update(state="failed", error=RESTARTED, finished_at=now)
            .where(db.PrivacyExport.state.in_(["queued", "running"]))
            .execute()
        )


def on_server_start(now: int) -> None:
    """What the server does once before it answers: fail orphaned jobs, apply retention."""
    recovered = recover_jobs(now)
    if recovered:
        log.warning("%s privacy export(s) interrupted by a restart marked failed", recovered)
    purge_all(now)
