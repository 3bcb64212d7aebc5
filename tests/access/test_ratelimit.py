"""Sign-in rate limiting: five failures in fifteen minutes pause a name; twenty, an
address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from access.conftest import NOON, PASSWORD
from svidok.access import AccessError, User, authenticate, retry_after

MINUTE = timedelta(minutes=1)


def _fail(engine: Engine, name: str, times: int, address: str | None = None) -> None:
    for n in range(times):
        with pytest.raises(AccessError, match="wrong name or password"):
            authenticate(engine, name, "wrong password!", address=address,
                         now=NOON + n * MINUTE)


def test_five_failures_pause_the_name_even_for_the_right_password(engine: Engine,
                                                                   olena: User) -> None:
    _fail(engine, "olena", 5)
    with pytest.raises(AccessError, match="too many failed sign-ins"):
        authenticate(engine, "olena", PASSWORD, now=NOON + 5 * MINUTE)
    # Allowed again when the first failure is fifteen minutes old.
    assert retry_after(engine, "olena", now=NOON + 5 * MINUTE) == 10 * MINUTE
    assert authenticate(engine, "olena", PASSWORD, now=NOON + 15 * MINUTE).id == olena.id


def test_four_failures_and_a_success_start_the_count_again(engine: Engine,
                                                           olena: User) -> None:
    _fail(engine, "olena", 4)
    authenticate(engine, "olena", PASSWORD, now=NOON + 4 * MINUTE)
    with pytest.raises(AccessError, match="wrong name"):
        authenticate(engine, "olena", "wrong password!", now=NOON + 5 * MINUTE)
    assert retry_after(engine, "olena", now=NOON + 5 * MINUTE) is None


def test_one_address_trying_many_names_is_paused(engine: Engine, olena: User) -> None:
    for n in range(20):
        with pytest.raises(AccessError, match="wrong name"):
            authenticate(engine, f"guess{n}", "wrong password!", address="198.51.100.7",
                         now=NOON)
    with pytest.raises(AccessError, match="too many"):
        authenticate(engine, "olena", PASSWORD, address="198.51.100.7", now=NOON)
    # Olena from her own address is not locked out by someone else's guessing.
    assert authenticate(engine, "olena", PASSWORD, address="203.0.113.5", now=NOON)
