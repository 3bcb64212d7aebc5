"""Personal API tokens, for scripts: "svk_" and 43 random characters, shown once.

Only the token's SHA-256 is stored; the prefix lets secret scanners and people recognise
a leaked Svidok token. A token acts as its user, with the user's role, and stops working
when it is revoked, when it expires, or when the user is disabled.

``revoked_at`` says when a token was revoked (by a person, or by disabling its owner) and
nothing else; ``expires_at`` when a token made with an expiry stops working by itself. A
token revoked before its expiry keeps both, so a listing can tell the two ends apart.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, insert, or_, select, update

from svidok.access.errors import AccessError
from svidok.access.roles import allowed
from svidok.access.users import _COLUMNS, User, _user, get_user_by_id
from svidok.db.schema import api_tokens, users

PREFIX = "svk_"
# A token made to expire lives at least a day and at most ten years.
MAX_LIFETIME = timedelta(days=3650)
# Use is written at most this often (as sessions' activity is, svidok.web.sessions): a
# script making a hundred requests a minute would otherwise write the row a hundred times.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class ApiToken:
    id: int
    user_id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None  # when it was revoked, if it was
    expires_at: datetime | None = None  # when it stops (or stopped) by itself, if ever

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def live(self, now: datetime) -> bool:
        """Neither revoked nor expired (its owner may still be refused: see lookup)."""
        return self.revoked_at is None and not self.expired(now)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "user_id": self.user_id, "name": self.name,
                "created_at": self.created_at.isoformat(),
                "last_used_at": self.last_used_at and self.last_used_at.isoformat(),
                "revoked_at": self.revoked_at and self.revoked_at.isoformat(),
                "expires_at": self.expires_at and self.expires_at.isoformat()}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _token(row: Any) -> ApiToken:
    return ApiToken(id=row.token_id, user_id=row.user_id, name=row.token_name,
                    created_at=row.token_created_at, last_used_at=row.last_used_at,
                    revoked_at=row.revoked_at, expires_at=row.expires_at)


def _live(now: datetime) -> Any:
    """The SQL condition of :meth:`ApiToken.live`."""
    return and_(api_tokens.c.revoked_at.is_(None),
                or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > now))


_TOKEN_COLUMNS = (api_tokens.c.id.label("token_id"), api_tokens.c.user_id,
                  api_tokens.c.name.label("token_name"),
                  api_tokens.c.created_at.label("token_created_at"),
                  api_tokens.c.last_used_at, api_tokens.c.revoked_at,
                  api_tokens.c.expires_at)


def create_token(engine: Engine, user_id: int, name: str, *,
                 expires_at: datetime | None = None, now: datetime | None = None
                 ) -> tuple[str, ApiToken]:
    """A new token for the user: (the token, shown once and never stored; its record).
    With ``expires_at`` it stops working then (at least a day, at most ten years ahead)."""
    user = get_user_by_id(engine, user_id)
    if user is None or user.disabled:
        raise AccessError("no such user, or the account is disabled")
    if not allowed(user.role, "api.tokens"):
        raise AccessError(f"the role {user.role!r} may not hold API tokens")
    name = name.strip()
    if not name or len(name) > 100:
        raise AccessError("give the token a name of 1 to 100 characters, saying what uses it")
    at = _now(now)
    if expires_at is not None and not (timedelta(days=1) <= expires_at - at <= MAX_LIFETIME):
        raise AccessError("a token expires at least 1 and at most 3650 days after it is made")
    raw = PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        new_id = conn.execute(insert(api_tokens).values(
            user_id=user_id, name=name, token_hash=token_hash(raw), created_at=at,
            last_used_at=None, revoked_at=None, expires_at=expires_at)
            .returning(api_tokens.c.id)).scalar_one()
        row = conn.execute(select(*_TOKEN_COLUMNS).where(api_tokens.c.id == new_id)).one()
    return raw, _token(row)


def lookup_token(engine: Engine, raw: str, *, now: datetime | None = None
                 ) -> tuple[ApiToken, User] | None:
    """The live token and its user, or None. A successful look-up records its use, unless
    the use recorded is less than :data:`TOUCH_EVERY` old."""
    if not raw.startswith(PREFIX) or len(raw) > 256:
        return None
    wanted = token_hash(raw)
    with engine.connect() as conn:
        row = conn.execute(select(api_tokens.c.token_hash, *_TOKEN_COLUMNS, *_COLUMNS)
                           .join(users, users.c.id == api_tokens.c.user_id)
                           .where(api_tokens.c.token_hash == wanted)).first()
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        return None
    user = _user(row)
    at = _now(now)
    token = _token(row)
    if not token.live(at) or user.disabled or not allowed(user.role, "api.tokens"):
        return None
    if token.last_used_at is not None and at - token.last_used_at < TOUCH_EVERY:
        return token, user
    with engine.begin() as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.id == row.token_id)
                     .values(last_used_at=at))
    return replace(token, last_used_at=at), user


def list_tokens(engine: Engine, user_id: int) -> list[ApiToken]:
    """The user's tokens, revoked and expired ones too, oldest first."""
    with engine.connect() as conn:
        return [_token(r) for r in conn.execute(select(*_TOKEN_COLUMNS).where(
            api_tokens.c.user_id == user_id).order_by(api_tokens.c.id))]


def revoke_token(engine: Engine, token_id: int, *, user_id: int | None = None,
                 now: datetime | None = None) -> None:
    """Revoke a live token; with ``user_id``, only if it is that user's (a person revoking
    their own token cannot revoke someone else's by guessing ids). An expired one is left
    as it is: it already stopped working, and its listing keeps saying why."""
    at = _now(now)
    query = update(api_tokens).where(api_tokens.c.id == token_id, _live(at))
    if user_id is not None:
        query = query.where(api_tokens.c.user_id == user_id)
    with engine.begin() as conn:
        done = conn.execute(query.values(revoked_at=at))
    if done.rowcount != 1:
        raise AccessError(f"no live API token {token_id}")
