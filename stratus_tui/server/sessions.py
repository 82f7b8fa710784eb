"""Server-side sessions: opaque bearer tokens, sliding idle expiry, an absolute limit,
and login throttling.

Only the token's SHA-256 is stored. A session slides its idle expiry on each request made
by the user; requests a client marks as background (``Stratus-Background: true``, e.g. a
dashboard's automatic refresh) do not, so an unattended terminal still expires.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import defaultdict, deque
from dataclasses import dataclass

from stratus_tui.api.models import Role, effective_role
from stratus_tui.server import db
from stratus_tui.server.clock import Clock
from stratus_tui.server.errors import ProblemError

IDLE_TIMEOUT = 10 * 60
ABSOLUTE_TIMEOUT = 12 * 60 * 60


@dataclass(frozen=True)
class Principal:
    """Who is calling, with the permissions read at login."""

    user_id: int
    session_id: int
    role: Role
    roles: tuple[Role, ...]
    tenant_id: int | None
    managed_team_ids: frozenset[int]
    name: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unauthenticated(detail: str, kind: str = "unauthenticated") -> ProblemError:
    return ProblemError(401, detail, kind=kind, headers={"WWW-Authenticate": "Bearer"})


@dataclass(frozen=True)
class SessionPolicy:
    idle_timeout: int = IDLE_TIMEOUT
    absolute_timeout: int = ABSOLUTE_TIMEOUT


def start_session(
    user: db.User, roles: list[Role], team_scope: list[int], clock: Clock, policy: SessionPolicy
) -> tuple[str, db.Session]:
    """A new token for every login, never a reused one (session fixation)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    session = db.Session.create(
        token_hash=token_hash(token),
        user=user.id,
        created_at=now,
        last_seen_at=now,
        idle_expires_at=now + policy.idle_timeout,
        absolute_expires_at=now + policy.absolute_timeout,
        roles=",".join(roles),
        team_scope=",".join(str(team_id) for team_id in sorted(team_scope)),
    )
    return token, session


def resolve_session(
    token: str, clock: Clock, policy: SessionPolicy, *, user_activity: bool
) -> tuple[Principal, db.Session]:
    """The caller behind ``token``, sliding the idle expiry when this is user activity."""
    session = db.Session.get_or_none(db.Session.token_hash == token_hash(token))
    now = clock.now()
    if session is None or session.ended_at is not None:
        raise unauthenticated("This session has ended; sign in again", kind="session-ended")
    if now >= session.absolute_expires_at:
        raise unauthenticated(
            "Your session reached its time limit; sign in again", kind="session-expired"
        )
    if now >= session.idle_expires_at:
        raise unauthenticated(
            f"Your session expired after {_duration(policy.idle_timeout)} without activity",
            kind="session-expired",
        )
    user = db.User.get_or_none(db.User.id == session.user_id)
    if user is None or not user.active:
        raise unauthenticated("This account is no longer active", kind="account-disabled")
    if user_activity and now > session.last_seen_at:
        session.last_seen_at = now
        session.idle_expires_at = min(now + policy.idle_timeout, session.absolute_expires_at)
        db.Session.update(
            last_seen_at=session.last_seen_at, idle_expires_at=session.idle_expires_at
        ).where(db.Session.id == session.id).execute()
    roles = tuple(role for role in session.roles.split(",") if role)
    role = effective_role(roles)  # type: ignore[arg-type]
    if role is None:
        raise unauthenticated("This session carries no role; sign in again", kind="no-role")
    principal = Principal(
        user_id=user.id,
        session_id=session.id,
        role=role,
        roles=roles,  # type: ignore[arg-type]
        tenant_id=user.tenant_id,
        managed_team_ids=frozenset(int(part) for part in session.team_scope.split(",") if part),
        name=f"{user.first_name} {user.last_name}",
    )
    return principal, session


def _duration(seconds: int) -> str:
    """``600`` -> "10 minutes"; a developer's short limit (serve --idle-timeout 5) in seconds."""
    if seconds % 60 == 0:
        return f"{seconds // 60} minute{'s' if seconds != 60 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def end_session(session_id: int, clock: Clock) -> None:
    db.Session.update(ended_at=clock.now()).where(db.Session.id == session_id).execute()


class LoginThrottle:
    """Failed sign-ins per user name and per client address, in a sliding window.

    Kept in memory: a restart forgets it, which only ever helps a legitimate user.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        per_user: int = 5,
        per_address: int = 30,
        window_seconds: int = 15 * 60,
    ) -> None:
        self._clock = clock
        self._limits = {"user": per_user, "address": per_address}
        self._window = window_seconds
        self._failures: dict[tuple[str, str], deque[int]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _keys(self, username: str, address: str) -> list[tuple[str, str]]:
        return [("user", username.lower()), ("address", address)]

    def retry_after(self, username: str, address: str) -> int | None:
        """Seconds until another attempt is allowed, or None when it is allowed now."""
        now = self._clock.now()
        waits = []
        with self._lock:
            for key in self._keys(username, address):
                failures = self._failures[key]
                while failures and failures[0] <= now - self._window:
                    failures.popleft()
                if len(failures) >= self._limits[key[0]]:
                    waits.append(failures[0] + self._window - now)
        return max(waits) if waits else None

    def failed(self, username: str, address: str) -> None:
        now = self._clock.now()
        with self._lock:
            for key in self._keys(username, address):
                self._failures[key].append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(("user", username.lower()), None)
