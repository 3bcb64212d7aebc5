"""Passwords: Argon2id hashes, length rules, rehashing, one-time passwords; and signing in
with them."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select, update

from access.conftest import NOON, PASSWORD
from svidok.access import AccessError, User, authenticate, generate_password, set_password
from svidok.access.passwords import MIN_LENGTH, hash_password, verify_password
from svidok.db.schema import users


def test_a_hash_is_argon2id_and_verifies_only_the_right_password() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed
    assert verify_password(hashed, PASSWORD) == (True, None)
    assert verify_password(hashed, PASSWORD + "!") == (False, None)
    assert verify_password("not a hash", PASSWORD) == (False, None)


def test_a_short_password_is_refused() -> None:
    with pytest.raises(AccessError, match=f"at least {MIN_LENGTH}"):
        hash_password("x" * (MIN_LENGTH - 1))
    assert hash_password("x" * MIN_LENGTH)


def test_a_hash_made_with_weaker_parameters_is_replaced_on_verification() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024).hash(PASSWORD)
    ok, new_hash = verify_password(weak, PASSWORD)
    assert ok and new_hash is not None and new_hash != weak
    assert verify_password(new_hash, PASSWORD) == (True, None)


def test_one_time_passwords_are_long_enough_and_differ() -> None:
    made = {generate_password() for _ in range(20)}
    assert len(made) == 20
    assert all(len(p) >= MIN_LENGTH for p in made)


def test_signing_in_with_the_right_and_wrong_password(engine: Engine, olena: User) -> None:
    assert authenticate(engine, "olena", PASSWORD, now=NOON).id == olena.id
    with pytest.raises(AccessError, match="wrong name or password"):
        authenticate(engine, "olena", "not her password", now=NOON)
    # An unknown name gets the very same answer: it does not reveal who has an account.
    with pytest.raises(AccessError, match="wrong name or password"):
        authenticate(engine, "nobody", PASSWORD, now=NOON)


def test_signing_in_stores_a_stronger_hash(engine: Engine, olena: User) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024).hash(PASSWORD)
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == olena.id).values(password_hash=weak))
    authenticate(engine, "olena", PASSWORD, now=NOON)
    with engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    assert stored != weak and verify_password(stored, PASSWORD) == (True, None)


def test_changing_the_password(engine: Engine, olena: User) -> None:
    with pytest.raises(AccessError, match="too short"):
        set_password(engine, "olena", "short")
    set_password(engine, "olena", "a new long passphrase", now=NOON)
    assert authenticate(engine, "olena", "a new long passphrase", now=NOON).id == olena.id
    with pytest.raises(AccessError):
        authenticate(engine, "olena", PASSWORD, now=NOON)
