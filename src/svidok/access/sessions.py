"""Web sessions: a random token in the browser's cookie, its SHA-256 in the database.

A session ends when it has been idle too long (default 30 minutes), when it is too old
whatever its use (default 12 hours), when it is revoked (sign-out, password change or
reset, account disabled), or when its user is disabled.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, bindparam, insert, select, update

from svidok.access.users import _COLUMNS, User, _revoke_sessions, _user
from svidok.db.schema import sessions, users

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)


@dataclass(frozen=True)
class Session:
    id: str  # SHA-256 (hex) of the token; safe to log, useless to sign in with
    user: User
    created_at: datetime
    last_seen_at: datetime
    csrf_token: str
    second_factor_done: bool


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def create_session(engine: Engine, user_id: int, *, second_factor_done: bool = False,
                   now: datetime | None = None) -> tuple[str, Session]:
    """A new session: (the token for the cookie, shown nowhere else; the session)."""
    token = secrets.token_urlsafe(32)
    at = _now(now)
    with engine.begin() as conn:
        conn.execute(insert(sessions).values(
            id=token_id(token), user_id=user_id, created_at=at, last_seen_at=at,
            csrf_token=secrets.token_urlsafe(32), second_factor_done=second_factor_done,
            revoked_at=None))
    found = lookup_session(engine, token, now=at)
    assert found is not None
    return token, found


# Built once: a statement built for every request costs more than running it (about 0.1 ms
# of SQLAlchemy per statement; docs/benchmarks.md).
_SESSION = (select(sessions.c.id.label("session_id"), sessions.c.created_at.label("s_created"),
                   sessions.c.last_seen_at, sessions.c.csrf_token,
                   sessions.c.second_factor_done, sessions.c.revoked_at, *_COLUMNS)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.id == bindparam("id")))


def lookup_session(engine: Engine, token: str, *, idle: timedelta = IDLE_TIMEOUT,
                   absolute: timedelta = ABSOLUTE_TIMEOUT, now: datetime | None = None
                   ) -> Session | None:
    """The live session the token opens, or None (unknown, revoked, idle or too old, or
    its user disabled). Does not count as activity: call :func:`touch` for that."""
    if not token or len(token) > 256:
        return None
    wanted = token_id(token)
    at = _now(now)
    with engine.connect() as conn:
        row = conn.execute(_SESSION, {"id": wanted}).first()
    # The database found the row by its hash; compare again in constant time so that no
    # code path compares secrets byte by byte.
    if row is None or not hmac.compare_digest(row.session_id, wanted):
        return None
    if (row.revoked_at is not None or row.disabled or at - row.last_seen_at > idle
            or at - row.s_created > absolute):
        return None
    return Session(id=row.session_id, user=_user(row), created_at=row.s_created,
                   last_seen_at=row.last_seen_at, csrf_token=row.csrf_token,
                   second_factor_done=bool(row.second_factor_done))


def touch(engine: Engine, session_id: str, *, now: datetime | None = None) -> None:
    """Record activity, which restarts the idle timeout (never the absolute one)."""
    with engine.begin() as conn:
        conn.execute(update(sessions).where(sessions.c.id == session_id,
                                            sessions.c.revoked_at.is_(None))
                     .values(last_seen_at=_now(now)))


def complete_second_factor(engine: Engine, session_id: str, *, now: datetime | None = None
                           ) -> tuple[str, Session]:
    """After a correct TOTP code: a new session with the second factor done, the old one
    revoked. A new token, so one seen before the second factor (fixation) is worthless."""
    at = _now(now)
    with engine.begin() as conn:
        user_id = conn.execute(select(sessions.c.user_id).where(
            sessions.c.id == session_id)).scalar_one()
        conn.execute(update(sessions).where(sessions.c.id == session_id)
                     .values(revoked_at=at))
    return create_session(engine, user_id, second_factor_done=True, now=at)


def revoke_session(engine: Engine, session_id: str, *, now: datetime | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(update(sessions).where(sessions.c.id == session_id,
                                            sessions.c.revoked_at.is_(None))
                     .values(revoked_at=_now(now)))


def revoke_all_for_user(engine: Engine, user_id: int, *, except_id: str | None = None,
                        now: datetime | None = None) -> None:
    with engine.begin() as conn:
        _revoke_sessions(conn, user_id, _now(now), except_id)
