"""People who sign in: add, find, list, change password, reset, disable, language.

A :class:`User` never carries the password hash or the TOTP secret, so printing or logging
one cannot leak them; the few functions that need them read them in their own query.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from svidok.access import passwords, ratelimit
from svidok.access.errors import AccessError
from svidok.access.roles import check_role
from svidok.db.schema import api_tokens, sessions, users

LANGUAGES = ("en", "uk")
# Letters of any script, digits, and . _ @ -: a name is typed at sign-in and shown in
# listings, so no spaces or control characters that could make two names look alike.
_NAME = re.compile(r"[\w.@-]{1,64}")


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    language: str
    disabled: bool
    must_change_password: bool
    totp_enabled: bool
    created_at: datetime
    password_changed_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "role": self.role,
                "language": self.language, "disabled": self.disabled,
                "must_change_password": self.must_change_password,
                "totp_enabled": self.totp_enabled,
                "created_at": self.created_at.isoformat(),
                "password_changed_at": self.password_changed_at.isoformat()}


_COLUMNS = (users.c.id, users.c.name, users.c.role, users.c.language, users.c.disabled,
            users.c.must_change_password, users.c.totp_confirmed, users.c.created_at,
            users.c.password_changed_at)


def _user(row: Any) -> User:
    return User(id=row.id, name=row.name, role=row.role, language=row.language,
                disabled=bool(row.disabled), must_change_password=bool(row.must_change_password),
                totp_enabled=bool(row.totp_confirmed), created_at=row.created_at,
                password_changed_at=row.password_changed_at)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def normalise_name(name: str) -> str:
    """NFC, so that a name typed on another keyboard (composed or not) is the same name."""
    normal = unicodedata.normalize("NFC", name.strip())
    if not _NAME.fullmatch(normal):
        raise AccessError(f"{name!r} cannot be a user name: use 1 to 64 letters, digits "
                          "or . _ @ -")
    return normal


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise AccessError(f"unknown language {language!r}; use one of {', '.join(LANGUAGES)}")
    return language


def add_user(engine: Engine, name: str, role: str, password: str | None = None, *,
             language: str = "en", now: datetime | None = None) -> tuple[User, str | None]:
    """Add a user. Without a password, one is generated and returned (shown once; the
    user must change it at first sign-in); with one, the second value is None."""
    name = normalise_name(name)
    check_role(role)
    check_language(language)
    one_time = passwords.generate_password() if password is None else None
    hashed = passwords.hash_password(password if password is not None else str(one_time))
    at = _now(now)
    try:
        with engine.begin() as conn:
            conn.execute(insert(users).values(
                name=name, role=role, password_hash=hashed, totp_secret=None,
                totp_confirmed=False, language=language, disabled=False,
                must_change_password=one_time is not None, created_at=at,
                password_changed_at=at))
    except IntegrityError:
        raise AccessError(f"there is already a user {name!r}") from None
    found = get_user(engine, name)
    assert found is not None
    return found, one_time


def get_user(engine: Engine | Connection, name: str) -> User | None:
    query = select(*_COLUMNS).where(users.c.name == unicodedata.normalize("NFC", name))
    if isinstance(engine, Connection):
        row = engine.execute(query).first()
    else:
        with engine.connect() as conn:
            row = conn.execute(query).first()
    return None if row is None else _user(row)


def get_user_by_id(engine: Engine, user_id: int) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(select(*_COLUMNS).where(users.c.id == user_id)).first()
    return None if row is None else _user(row)


def require_user(engine: Engine, name: str) -> User:
    found = get_user(engine, name)
    if found is None:
        raise AccessError(f"no user {name!r}")
    return found


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        return [_user(r) for r in conn.execute(select(*_COLUMNS).order_by(users.c.name))]


def set_password(engine: Engine, name: str, new_password: str, *,
                 keep_session: str | None = None, now: datetime | None = None) -> None:
    """Change the password and end the user's other sessions (whoever knew the old
    password may hold one); ``keep_session`` is the id of the session making the change."""
    user = require_user(engine, name)
    hashed = passwords.hash_password(new_password)
    at = _now(now)
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(
            password_hash=hashed, must_change_password=False, password_changed_at=at))
        _revoke_sessions(conn, user.id, at, except_id=keep_session)


def reset_password(engine: Engine, name: str, *, now: datetime | None = None) -> str:
    """Give the user a new one-time password (returned, to be shown once) that must be
    changed at the next sign-in, and end all their sessions."""
    user = require_user(engine, name)
    one_time = passwords.generate_password()
    hashed = passwords.hash_password(one_time)
    at = _now(now)
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(
            password_hash=hashed, must_change_password=True, password_changed_at=at))
        _revoke_sessions(conn, user.id, at)
    return one_time


def disable_user(engine: Engine, name: str, *, now: datetime | None = None) -> User:
    """Disable the account: it cannot sign in, its sessions end and its API tokens are
    revoked at once (a departing colleague's laptop may still hold a cookie)."""
    user = require_user(engine, name)
    at = _now(now)
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(disabled=True))
        _revoke_sessions(conn, user.id, at)
        # The live ones (svidok.access.tokens): an expired token keeps saying it expired.
        conn.execute(update(api_tokens).where(
            api_tokens.c.user_id == user.id, api_tokens.c.revoked_at.is_(None),
            or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > at))
                     .values(revoked_at=at))
    return require_user(engine, name)


def enable_user(engine: Engine, name: str) -> User:
    """Let a disabled account sign in again (its old sessions and tokens stay revoked)."""
    user = require_user(engine, name)
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(disabled=False))
    return require_user(engine, name)


def set_language(engine: Engine, name: str, language: str) -> None:
    check_language(language)
    user = require_user(engine, name)
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(language=language))


def authenticate(engine: Engine, name: str, password: str, *, address: str | None = None,
                 now: datetime | None = None) -> User:
    """The user, if the name and password match and the account may sign in; otherwise
    AccessError. Every attempt counts towards the rate limit of the name and the address.

    A wrong name and a wrong password get the same message and take the same time, so the
    answer does not tell which names exist.
    """
    at = _now(now)
    ratelimit.check(engine, name, address, now=at)
    with engine.connect() as conn:
        row = conn.execute(select(users.c.id, users.c.password_hash).where(
            users.c.name == unicodedata.normalize("NFC", name.strip()))).first()
    if row is None:
        passwords.waste_time(password)
        ok, new_hash = False, None
    else:
        ok, new_hash = passwords.verify_password(row.password_hash, password)
    ratelimit.record(engine, name, address, succeeded=ok, now=at)
    if not ok or row is None:
        raise AccessError("wrong name or password")
    if new_hash is not None:
        with engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == row.id)
                         .values(password_hash=new_hash))
    user = get_user_by_id(engine, row.id)
    assert user is not None
    if user.disabled:
        raise AccessError("this account is disabled; ask an administrator")
    return user


def _revoke_sessions(conn: Connection, user_id: int, at: datetime,
                     except_id: str | None = None) -> None:
    query = update(sessions).where(sessions.c.user_id == user_id,
                                   sessions.c.revoked_at.is_(None))
    if except_id is not None:
        query = query.where(sessions.c.id != except_id)
    conn.execute(query.values(revoked_at=at))
