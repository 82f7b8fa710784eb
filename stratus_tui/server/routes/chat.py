"""Live chat between a user and internal IT support (where the tenant enables it).

The user side is ``/chat``; IT support (system admins here) answers on ``/support``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from peewee import fn

from stratus_tui.api import models as m
from stratus_tui.api.contract_base import INT64_MAX
from stratus_tui.server import convert, db
from stratus_tui.server.convert import utc
from stratus_tui.server.crud import DbInt, get_or_404
from stratus_tui.server.deps import Caller, Context
from stratus_tui.server.errors import ProblemError, not_found
from stratus_tui.server.scope import SYSTEM, require
from stratus_tui.server.sessions import Principal

router = APIRouter(tags=["chat"])
SUPPORT = SYSTEM  # IT support answers chats; here, the system admins
After = Annotated[int, Query(ge=0, le=INT64_MAX, description="Only messages with a greater id")]
ChatLimit = Annotated[int, Query(ge=1, le=500)]


def _chat_tenant(principal: Principal) -> int:
    if principal.tenant_id is None:
        raise ProblemError(
            403, "System admins answer chats on the support side (/support/chats)", kind="forbidden"
        )
    tenant = db.Tenant.get_by_id(principal.tenant_id)
    if not tenant.live_chat_enabled:
        raise ProblemError(403, "Live chat is not enabled for your tenant", kind="feature-disabled")
    return int(tenant.id)


def _messages(user_id: int, after: int, limit: int) -> list[m.ChatMessage]:
    query = (
        db.ChatMessage.select()
        .where(db.ChatMessage.user == user_id, db.ChatMessage.id > after)
        .order_by(db.ChatMessage.id)
        .limit(limit)
    )
    return convert.chat_messages(list(query))


def _post(
    tenant_id: int, user_id: int, author: str, name: str, text: str, now: int
) -> m.ChatMessage:
    with db.database.atomic():
        row = db.ChatMessage.create(
            tenant=tenant_id, user=user_id, author=author, author_name=name, text=text, sent_at=now
        )
    return convert.chat_messages([row])[0]


@router.get("/chat/messages", summary="The caller's chat with IT support")
def list_chat_messages(
    principal: Caller, after: After = 0, limit: ChatLimit = 100
) -> list[m.ChatMessage]:
    _chat_tenant(principal)
    return _messages(principal.user_id, after, limit)


@router.post("/chat/messages", status_code=201)
def send_chat_message(
    body: m.ChatMessageCreate, principal: Caller, context: Context
) -> m.ChatMessage:
    tenant_id = _chat_tenant(principal)
    return _post(
        tenant_id, principal.user_id, "user", principal.name, body.text, context.clock.now()
    )


@router.get("/support/chats", summary="Every chat, newest first (IT support)")
def list_support_chats(principal: Caller) -> list[m.ChatSummary]:
    require(principal, SUPPORT, "answer support chats")
    query = (
        db.ChatMessage.select(
            db.ChatMessage.user,
            db.ChatMessage.tenant,
            fn.COUNT(db.ChatMessage.id),
            fn.MAX(db.ChatMessage.sent_at),
        )
        .group_by(db.ChatMessage.user, db.ChatMessage.tenant)
        .order_by(fn.MAX(db.ChatMessage.sent_at).desc())
    )
    chats = db.tuples(query)
    users = {
        user.id: user for user in db.User.select().where(db.User.id.in_([c[0] for c in chats]))
    }
    return [
        m.ChatSummary(
            user_id=user_id,
            user_name=f"{users[user_id].first_name} {users[user_id].last_name}",
            tenant_id=tenant_id,
            message_count=count,
            last_message_at=utc(last),
        )
        for user_id, tenant_id, count, last in chats
        if user_id in users
    ]


def _chat_owner(principal: Principal, user_id: int) -> db.User:
    require(principal, SUPPORT, "answer support chats")
    user = get_or_404(db.User, user_id, "user")
    if user.tenant_id is None:
        raise not_found("chat")
    return user


@router.get("/support/chats/{user_id}/messages")
def list_support_messages(
    user_id: DbInt, principal: Caller, after: After = 0, limit: ChatLimit = 100
) -> list[m.ChatMessage]:
    return _messages(_chat_owner(principal, user_id).id, after, limit)


@router.post("/support/chats/{user_id}/messages", status_code=201)
def answer_chat(
    user_id: DbInt, body: m.ChatMessageCreate, principal: Caller, context: Context
) -> m.ChatMessage:
    user = _chat_owner(principal, user_id)
    assert user.tenant_id is not None  # _chat_owner refuses system admins' "chats"
    return _post(user.tenant_id, user.id, "support", "IT Support", body.text, context.clock.now())
