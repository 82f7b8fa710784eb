"""Mechanics shared by the resource routes: keyset paging, ETags, versioned writes, lookups."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Header, Query, Response
from peewee import Expression, ModelSelect, fn
from pydantic import Field

from stratus_tui.api.contract_base import INT64_MAX, INT64_MIN
from stratus_tui.api.models import Page
from stratus_tui.server import db
from stratus_tui.server.errors import ProblemError, invalid, not_found

R = TypeVar("R")
M = TypeVar("M", bound=db.BaseModel)
V = TypeVar("V", bound=db.Versioned)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

# An id or other number in a path or query: SQLite's range, so that a larger one is a 422
# before any query runs (peewee would raise OverflowError binding it).
DbInt = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
Cursor = Annotated[
    str | None, Query(max_length=40, description="`next_cursor` of the previous page")
]
Search = Annotated[
    str | None, Query(max_length=200, description="Case-insensitive part of the name")
]
IfMatch = Annotated[
    str | None, Header(description="The ETag this change is based on (from GET or the list)")
]


def contains(field: Any, text: str | None) -> Expression | None:
    """A Unicode-aware, case-insensitive substring match (SQLite's LIKE folds ASCII only)."""
    if not text:
        return None
    return fn.instr(fn.casefold(field), text.casefold()) > 0


_CURSOR = re.compile(r"[0-9]{1,19}")


def paginate(
    query: ModelSelect[Any],
    model: type[db.BaseModel],
    cursor: str | None,
    limit: int,
    convert: Callable[[list[Any]], Sequence[R]],
) -> Page[R]:
    """One page by keyset on ``id``: stable while rows are added or removed meanwhile."""
    after = 0
    if cursor:
        # ASCII digits only (str.isdigit() accepts "²", which int() refuses), within SQLite's range.
        if not _CURSOR.fullmatch(cursor) or int(cursor) > INT64_MAX:
            raise ProblemError(400, "cursor is not one this server issued", kind="bad-cursor")
        after = int(cursor)
    total = query.count()
    rows: list[Any] = list(query.where(model.id > after).order_by(model.id).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page[R](
        items=list(convert(rows)),
        next_cursor=str(rows[-1].id) if more and rows else None,
        total=total,
    )


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


_ETAG = re.compile(r'^(?:W/)?"(\d+)"$')


def expected_version(if_match: str | None, current: int, what: str, *, required: bool) -> int:
    """The version the client's change is based on; 428/412 when absent or stale."""
    if if_match is None:
        if required:
            raise ProblemError(
                428,
                f"Send If-Match with the ETag of the {what} you read, so that a change made "
                "by someone else meanwhile is not overwritten",
                kind="precondition-required",
            )
        return current
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags:
        return current
    versions = {int(match.group(1)) for tag in tags if (match := _ETAG.match(tag))}
    if current not in versions:
        raise stale(what, current)
    return current


def stale(what: str, current: int) -> ProblemError:
    return ProblemError(
        412,
        f"This {what} was changed by someone else meanwhile (it is now at version {current}); "
        "nothing was saved: reload it and apply your change again",
        kind="stale-version",
        headers={"ETag": etag(current)},
    )


def versioned_update(row: db.Versioned, expected: int, values: dict[str, Any], what: str) -> None:
    """Write ``values`` only if the row is still at ``expected``; bump its version."""
    model = type(row)
    updated = (
        model.update(**values, version=model.version + 1)
        .where(model.id == row.id, model.version == expected)
        .execute()
    )
    if updated == 0:
        current = model.get_by_id(row.id).version
        raise stale(what, current)


def get_or_404(model: type[M], row_id: int, what: str) -> M:
    row = model.get_or_none(model.id == row_id)
    if row is None:
        raise not_found(what)
    return row


def reference(model: type[M], row_id: int, field: str, tenant_id: int | None, what: str) -> M:
    """A row another row points to: it must exist and belong to ``tenant_id``."""
    row = model.get_or_none(model.id == row_id)
    if row is None or (tenant_id is not None and getattr(row, "tenant_id", None) != tenant_id):
        raise invalid(f"no {what} with id {row_id} in this tenant", field=field)
    return row


def references(
    model: type[db.BaseModel], ids: list[int], field: str, tenant_id: int, what: str
) -> list[int]:
    """Check a list of ids (traits, teams...) against a tenant; the unique ids, in order."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return []
    query = model.select(model.id).where(model.id.in_(unique), model.tenant == tenant_id)  # type: ignore[attr-defined]
    found = set(db.column(query))
    missing = [row_id for row_id in unique if row_id not in found]
    if missing:
        listed = ", ".join(str(row_id) for row_id in missing)
        raise invalid(f"no {what} with id {listed} in this tenant", field=field)
    return unique


def replace_links(
    model: type[db.BaseModel], owner_field: str, owner_id: int, value_field: str, ids: list[int]
) -> None:
    """Make a many-to-many link table hold exactly ``ids`` for one owner."""
    owner = getattr(model, owner_field)
    model.delete().where(owner == owner_id).execute()
    if ids:
        model.insert_many([{owner_field: owner_id, value_field: value} for value in ids]).execute()


def links(
    model: type[db.BaseModel], owner_field: str, value_field: str, owner_ids: list[int]
) -> dict[int, list[int]]:
    """Load a link table for many owners at once (no query per row)."""
    result: dict[int, list[int]] = {owner_id: [] for owner_id in owner_ids}
    if not owner_ids:
        return result
    owner = getattr(model, owner_field)
    value = getattr(model, value_field)
    query = model.select(owner, value).where(owner.in_(owner_ids)).order_by(owner, value)
    for owner_id, value_id in db.tuples(query):
        result[owner_id].append(value_id)
    return result


def versioned_delete(row: db.Versioned, if_match: str | None, what: str) -> None:
    """Delete only the version the client saw (If-Match required)."""
    model = type(row)
    expected = expected_version(if_match, row.version, what, required=True)
    deleted = model.delete().where(model.id == row.id, model.version == expected).execute()
    if deleted == 0:
        raise stale(what, model.get_by_id(row.id).version)


def in_use_detail(what: str, uses: dict[str, int]) -> str | None:
    """'This org unit is still used by 2 teams and 14 users', or None when unused."""
    parts = [f"{count} {plural(label, count)}" for label, count in uses.items() if count]
    if not parts:
        return None
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"This {what} is still used by {listed}; change or remove those first"


def plural(noun: str, count: int) -> str:
    if count == 1:
        return noun
    return noun[:-1] + "ies" if noun.endswith("y") else noun + "s"


def respond(response: Response, row: V, convert: Callable[[list[V]], Sequence[R]]) -> R:
    """The resource for ``row`` with its ETag, after a read or a write."""
    set_etag(response, row.version)
    return convert([row])[0]


def created(response: Response, path: str, row: V, convert: Callable[[list[V]], Sequence[R]]) -> R:
    response.headers["Location"] = f"/api/v1/{path}/{row.id}"
    return respond(response, row, convert)


def reload(row: M) -> M:
    return type(row).get_by_id(row.id)


def save(
    response: Response,
    row: V,
    if_match: str | None,
    values: dict[str, Any],
    what: str,
    convert: Callable[[list[V]], Sequence[R]],
    *,
    links: Callable[[], None] | None = None,
) -> R:
    """Apply a client's change if the row is still the version they saw, and answer it.

    ``links`` rewrites link tables (traits, teams...) in the same transaction.
    """
    expected = expected_version(if_match, row.version, what, required=True)
    with db.database.atomic():
        versioned_update(row, expected, values, what)
        if links is not None:
            links()
    return respond(response, reload(row), convert)
