"""The conversation history feed: a monotonic change cursor, columnar pages built by SQLite.

The feed carries millions of rows, so a page is assembled as JSON by SQLite itself
(``json_array`` per row) and joined, never turned into Python objects one by one.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from stratus_tui.api import models as m
from stratus_tui.api.contract_base import INT64_MAX
from stratus_tui.server import convert, db
from stratus_tui.server.crud import DbInt, get_or_404
from stratus_tui.server.deps import Caller
from stratus_tui.server.errors import not_found
from stratus_tui.server.scope import STAFF, ensure_team, ensure_tenant, require
from stratus_tui.server.sessions import Principal

router = APIRouter(tags=["conversations"])

DEFAULT_PAGE = 1000
MAX_PAGE = 10_000
_BOOLEANS = {"direct", "voicemail"}
_ROW_JSON = "json_array({})".format(
    ", ".join(
        f"json(CASE WHEN {field} THEN 'true' ELSE 'false' END)" if field in _BOOLEANS else field
        for field in m.CONVERSATION_FIELDS
    )
)
_FIELDS_JSON = json.dumps(list(m.CONVERSATION_FIELDS))


def scope_sql(principal: Principal, team_id: int | None) -> tuple[str, list[Any]]:
    """SQL conditions (and their parameters) for the history the caller may read."""
    clauses: list[str] = []
    params: list[Any] = []
    if principal.role == "tenant_admin":
        clauses.append("tenant_id = ?")
        params.append(principal.tenant_id)
    elif principal.role == "team_admin":
        teams = sorted(principal.managed_team_ids) or [0]
        clauses.append(f"team_id IN ({', '.join('?' * len(teams))})")
        params.extend(teams)
    if team_id is not None:
        team = db.Team.get_or_none(db.Team.id == team_id)
        if team is None:
            raise not_found("team")
        ensure_tenant(principal, team.tenant_id, "team")
        ensure_team(principal, team.id, "team")
        clauses.append("team_id = ?")
        params.append(team_id)
    return " AND ".join(clauses) or "1", params


@router.get(
    "/conversations",
    response_model=m.ConversationPage,
    summary="History changed after a cursor, oldest change first",
)
def conversation_feed(
    principal: Caller,
    after: Annotated[
        int, Query(ge=0, le=INT64_MAX, description="`next_cursor` of the previous page")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    team_id: DbInt | None = None,
) -> Response:
    require(principal, STAFF, "read conversation history")
    scope, params = scope_sql(principal, team_id)
    connection = db.database.connection()
    rows = connection.execute(
        f"SELECT {_ROW_JSON}, seq FROM conversation WHERE seq > ? AND {scope} "  # noqa: S608
        "ORDER BY seq LIMIT ?",
        [after, *params, limit],
    ).fetchall()
    cursor = rows[-1][1] if rows else after
    has_more = bool(rows) and (
        connection.execute(
            f"SELECT 1 FROM conversation WHERE seq > ? AND {scope} LIMIT 1",  # noqa: S608
            [cursor, *params],
        ).fetchone()
        is not None
    )
    # The newest change in the caller's scope, so a client can tell how far it has to go.
    # One index lookup per scope value (tenant, or each managed team).
    latest = connection.execute(
        f"SELECT max(seq) FROM conversation WHERE {scope}",  # noqa: S608
        params,
    ).fetchone()[0]
    body = (
        f'{{"fields":{_FIELDS_JSON},"rows":[{",".join(row[0] for row in rows)}],'
        f'"next_cursor":{cursor},"has_more":{"true" if has_more else "false"},'
        f'"latest_seq":{"null" if latest is None else latest}}}'
    )
    return Response(body, media_type="application/json")


@router.get("/conversations/{conversation_id}")
def get_conversation(conversation_id: DbInt, principal: Caller) -> m.Conversation:
    require(principal, STAFF, "read conversation history")
    row = get_or_404(db.Conversation, conversation_id, "conversation")
    ensure_tenant(principal, row.tenant_id, "conversation")
    ensure_team(principal, row.team_id, "conversation")
    return convert.conversation(row)
