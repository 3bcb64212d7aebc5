"""Time-based one-time passwords (RFC 6238, 30-second steps, 6 digits) as a second factor.

Enrolment stores a new secret unconfirmed; a correct code confirms it. A code is accepted
one step early or late (clocks on phones drift), and never twice: the last accepted step
is stored and a code must be for a later one.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

import pyotp
from sqlalchemy import Engine, select, update

from svidok.access.errors import AccessError
from svidok.access.users import require_user
from svidok.db.schema import users

ISSUER = "Svidok"
VALID_WINDOW = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, name: str, issuer: str = ISSUER) -> str:
    """The otpauth:// URI an authenticator app reads (usually from a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=issuer)


def matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step the code belongs to, within the valid window, or None."""
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(at)
    found = None
    # Every candidate is compared, in constant time, so the time taken does not say which.
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def begin_enrolment(engine: Engine, name: str, issuer: str = ISSUER) -> tuple[str, str]:
    """Give the user a new, unconfirmed secret: (secret, otpauth URI). Until it is
    confirmed the account has no second factor (an earlier one is replaced)."""
    user = require_user(engine, name)
    secret = new_secret()
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(
            totp_secret=secret, totp_confirmed=False, totp_last_step=None))
    return secret, provisioning_uri(secret, user.name, issuer)


def pending_enrolment(engine: Engine, name: str, issuer: str = ISSUER
                      ) -> tuple[str, str] | None:
    """(secret, otpauth URI) of an enrolment begun and not yet confirmed, or None: the web
    page shows it again after a mistyped code rather than making a new one the phone
    does not know."""
    user = require_user(engine, name)
    with engine.connect() as conn:
        row = conn.execute(select(users.c.totp_secret, users.c.totp_confirmed).where(
            users.c.id == user.id)).first()
    if row is None or row.totp_secret is None or row.totp_confirmed:
        return None
    return row.totp_secret, provisioning_uri(row.totp_secret, user.name, issuer)


def confirm_enrolment(engine: Engine, name: str, code: str, *, now: datetime | None = None
                      ) -> None:
    """Turn the second factor on, given a correct code from the enrolled app."""
    user = require_user(engine, name)
    if not _accept(engine, user.id, code, now, confirming=True):
        raise AccessError("that code is not right (or was already used); check the "
                          "phone's clock and try the next code")


def verify(engine: Engine, user_id: int, code: str, *, now: datetime | None = None) -> bool:
    """Whether the code is right for the user's confirmed secret and not used before."""
    return _accept(engine, user_id, code, now, confirming=False)


def disable(engine: Engine, name: str) -> None:
    user = require_user(engine, name)
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(
            totp_secret=None, totp_confirmed=False, totp_last_step=None))


def _accept(engine: Engine, user_id: int, code: str, now: datetime | None,
            confirming: bool) -> bool:
    at = now if now is not None else datetime.now(UTC)
    with engine.connect() as conn:
        row = conn.execute(select(users.c.totp_secret, users.c.totp_confirmed).where(
            users.c.id == user_id)).first()
    if row is None or row.totp_secret is None or bool(row.totp_confirmed) == confirming:
        return False
    step = matching_step(row.totp_secret, code, at)
    if step is None:
        return False
    # One conditional update decides, so two requests racing with the same code cannot
    # both succeed.
    with engine.begin() as conn:
        done = conn.execute(update(users).where(
            users.c.id == user_id, users.c.totp_secret == row.totp_secret,
            users.c.totp_last_step.is_(None) | (users.c.totp_last_step < step))
            .values(totp_last_step=step, totp_confirmed=True))
    return done.rowcount == 1
