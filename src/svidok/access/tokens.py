"""Personal API tokens, for scripts: "svk_" and 43 random characters, shown once.

Only the token's SHA-256 is stored; the prefix lets secret scanners and people recognise
a leaked Svidok token. A token acts as its user, with the user's role, and stops working
when it is revoked or the user is disabled.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from svidok.access.errors import AccessError
from svidok.access.roles import allowed
from svidok.access.users import _COLUMNS, User, _user, get_user_by_id
from svidok.db.schema import api_tokens, users

PREFIX = "svk_"


@dataclass(frozen=True)
class ApiToken:
    id: int
    user_id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "user_id": self.user_id, "name": self.name,
                "created_at": self.created_at.isoformat(),
                "last_used_at": self.last_used_at and self.last_used_at.isoformat(),
                "revoked_at": self.revoked_at and self.revoked_at.isoformat()}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _token(row: Any) -> ApiToken:
    return ApiToken(id=row.token_id, user_id=row.user_id, name=row.token_name,
                    created_at=row.token_created_at, last_used_at=row.last_used_at,
                    revoked_at=row.revoked_at)


_TOKEN_COLUMNS = (api_tokens.c.id.label("token_id"), api_tokens.c.user_id,
                  api_tokens.c.name.label("token_name"),
                  api_tokens.c.created_at.label("token_created_at"),
                  api_tokens.c.last_used_at, api_tokens.c.revoked_at)


def create_token(engine: Engine, user_id: int, name: str, *, now: datetime | None = None
                 ) -> tuple[str, ApiToken]:
    """A new token for the user: (the token, shown once and never stored; its record)."""
    user = get_user_by_id(engine, user_id)
    if user is None or user.disabled:
        raise AccessError("no such user, or the account is disabled")
    if not allowed(user.role, "api.tokens"):
        raise AccessError(f"the role {user.role!r} may not hold API tokens")
    name = name.strip()
    if not name or len(name) > 100:
        raise AccessError("give the token a name of 1 to 100 characters, saying what uses it")
    raw = PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        new_id = conn.execute(insert(api_tokens).values(
            user_id=user_id, name=name, token_hash=token_hash(raw), created_at=_now(now),
            last_used_at=None, revoked_at=None).returning(api_tokens.c.id)).scalar_one()
        row = conn.execute(select(*_TOKEN_COLUMNS).where(api_tokens.c.id == new_id)).one()
    return raw, _token(row)


def lookup_token(engine: Engine, raw: str, *, now: datetime | None = None
                 ) -> tuple[ApiToken, User] | None:
    """The live token and its user, or None; a successful look-up records its use."""
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
    if row.revoked_at is not None or user.disabled or not allowed(user.role, "api.tokens"):
        return None
    at = _now(now)
    with engine.begin() as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.id == row.token_id)
                     .values(last_used_at=at))
    return replace(_token(row), last_used_at=at), user


def list_tokens(engine: Engine, user_id: int) -> list[ApiToken]:
    with engine.connect() as conn:
        return [_token(r) for r in conn.execute(select(*_TOKEN_COLUMNS).where(
            api_tokens.c.user_id == user_id).order_by(api_tokens.c.id))]


def revoke_token(engine: Engine, token_id: int, *, user_id: int | None = None,
                 now: datetime | None = None) -> None:
    """Revoke a token; with ``user_id``, only if it is that user's (a person revoking
    their own token cannot revoke someone else's by guessing ids)."""
    query = update(api_tokens).where(api_tokens.c.id == token_id,
                                     api_tokens.c.revoked_at.is_(None))
    if user_id is not None:
        query = query.where(api_tokens.c.user_id == user_id)
    with engine.begin() as conn:
        done = conn.execute(query.values(revoked_at=_now(now)))
    if done.rowcount != 1:
        raise AccessError(f"no live API token {token_id}")
