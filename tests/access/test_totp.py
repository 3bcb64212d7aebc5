"""TOTP: enrolment, codes one step either side, and no code accepted twice."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy import Engine

from access.conftest import NOON
from svidok.access import AccessError, User, get_user
from svidok.access import totp as totp_mod

STEP = timedelta(seconds=30)


def _code(secret: str, at_step: int) -> str:
    return pyotp.TOTP(secret).generate_otp(at_step)


@pytest.fixture
def secret(engine: Engine, olena: User) -> str:
    """Olena's authenticator app, enrolled and confirmed a minute before noon."""
    secret, uri = totp_mod.begin_enrolment(engine, "olena")
    assert urlparse(uri).scheme == "otpauth"
    assert parse_qs(urlparse(uri).query)["secret"] == [secret]
    now = NOON - 2 * STEP
    totp_mod.confirm_enrolment(engine, "olena", pyotp.TOTP(secret).at(now), now=now)
    return secret


def test_enrolment_needs_a_right_code(engine: Engine, olena: User) -> None:
    secret, _ = totp_mod.begin_enrolment(engine, "olena")
    found = get_user(engine, "olena")
    assert found is not None and not found.totp_enabled
    with pytest.raises(AccessError, match="not right"):
        totp_mod.confirm_enrolment(engine, "olena", "000000" if pyotp.TOTP(secret).at(NOON)
                                   != "000000" else "111111", now=NOON)
    totp_mod.confirm_enrolment(engine, "olena", pyotp.TOTP(secret).at(NOON), now=NOON)
    found = get_user(engine, "olena")
    assert found is not None and found.totp_enabled


def test_a_code_is_accepted_once(engine: Engine, olena: User, secret: str) -> None:
    code = pyotp.TOTP(secret).at(NOON)
    assert totp_mod.verify(engine, olena.id, code, now=NOON)
    assert not totp_mod.verify(engine, olena.id, code, now=NOON)
    assert not totp_mod.verify(engine, olena.id, code, now=NOON + STEP)  # still in window


def test_a_code_from_one_step_away_is_accepted_two_is_not(engine: Engine, olena: User,
                                                          secret: str) -> None:
    step = pyotp.TOTP(secret).timecode(NOON)
    assert not totp_mod.verify(engine, olena.id, _code(secret, step - 2), now=NOON)
    assert totp_mod.verify(engine, olena.id, _code(secret, step - 1), now=NOON)
    assert totp_mod.verify(engine, olena.id, _code(secret, step + 1), now=NOON)
    # An older step than the last one accepted is a replay, even within the window.
    assert not totp_mod.verify(engine, olena.id, _code(secret, step), now=NOON)


def test_malformed_codes_and_users_without_totp(engine: Engine, olena: User) -> None:
    assert not totp_mod.verify(engine, olena.id, "123456", now=NOON)
    for bad in ("", "12345", "abcdef", "1234567"):
        assert totp_mod.matching_step(pyotp.random_base32(), bad, NOON) is None
