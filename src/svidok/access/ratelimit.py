"""Sign-in rate limiting: too many failures for a name, or from one client address, and
further attempts are refused until the window has passed.

Per name, 5 failures in 15 minutes: enough for typos, far too few to guess a password.
Per address, 20: an office behind one NAT address must not lock everyone out because one
person forgot their password, but one client trying many names is stopped. A success
clears the count for the name. Refused attempts are not recorded, so an attacker who
keeps trying does not keep the lock on forever: it ends 15 minutes after the failures.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select

from svidok.access.errors import AccessError
from svidok.db.schema import login_attempts

WINDOW = timedelta(minutes=15)
NAME_LIMIT = 5
ADDRESS_LIMIT = 20


def _keys(name: str, address: str | None) -> list[tuple[str, int]]:
    keys = [("name:" + unicodedata.normalize("NFC", name.strip()).casefold(), NAME_LIMIT)]
    if address:
        keys.append(("addr:" + address, ADDRESS_LIMIT))
    return keys


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def retry_after(engine: Engine, name: str, address: str | None = None, *,
                now: datetime | None = None) -> timedelta | None:
    """How long until an attempt for this name from this address is allowed; None: now."""
    at = _now(now)
    wait: timedelta | None = None
    with engine.connect() as conn:
        for key, limit in _keys(name, address):
            since = at - WINDOW
            last_success = conn.execute(select(func.max(login_attempts.c.at)).where(
                login_attempts.c.key == key, login_attempts.c.succeeded.is_(True),
                login_attempts.c.at > since)).scalar()
            if last_success is not None:
                since = last_success
            failures = conn.execute(
                select(login_attempts.c.at).where(
                    login_attempts.c.key == key, login_attempts.c.succeeded.is_(False),
                    login_attempts.c.at > since)
                .order_by(login_attempts.c.at.desc()).limit(limit)).scalars().all()
            if len(failures) >= limit:
                # Allowed again when the oldest of the last `limit` failures leaves the window.
                left = failures[-1] + WINDOW - at
                wait = left if wait is None else max(wait, left)
    return wait


def check(engine: Engine, name: str, address: str | None = None, *,
          now: datetime | None = None) -> None:
    """AccessError if sign-in attempts for this name or from this address are paused."""
    wait = retry_after(engine, name, address, now=now)
    if wait is not None:
        minutes = max(1, -(-int(wait.total_seconds()) // 60))
        raise AccessError(f"too many failed sign-ins; try again in {minutes} minute(s)")


def record(engine: Engine, name: str, address: str | None = None, *, succeeded: bool,
           now: datetime | None = None) -> None:
    """Record an attempt (for the name, and the address if known); forget old ones."""
    at = _now(now)
    with engine.begin() as conn:
        conn.execute(delete(login_attempts).where(login_attempts.c.at < at - WINDOW))
        conn.execute(insert(login_attempts), [
            {"key": key, "at": at, "succeeded": succeeded} for key, _ in _keys(name, address)])
