"""Users: adding, names, listing, reset and disable (which end sessions), language."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from access.conftest import NOON, PASSWORD
from svidok.access import (
    AccessError,
    User,
    add_user,
    authenticate,
    create_session,
    disable_user,
    enable_user,
    get_user,
    list_users,
    lookup_session,
    reset_password,
    set_language,
)


def test_a_new_user_without_a_password_gets_a_one_time_one(engine: Engine) -> None:
    user, one_time = add_user(engine, "Микола", "documenter", now=NOON)
    assert one_time is not None and user.must_change_password
    assert authenticate(engine, "Микола", one_time, now=NOON).id == user.id


def test_a_user_object_carries_no_secrets(olena: User) -> None:
    shown = repr(olena) + str(olena.as_dict())
    assert PASSWORD not in shown and "argon2" not in shown
    assert "password_hash" not in olena.as_dict()


def test_names_are_unique_and_plain(engine: Engine, olena: User) -> None:
    with pytest.raises(AccessError, match="already"):
        add_user(engine, "olena", "viewer", PASSWORD)
    for bad in ("", "two words", "x" * 65, "tab\there"):
        with pytest.raises(AccessError, match="cannot be a user name"):
            add_user(engine, bad, "viewer", PASSWORD)
    with pytest.raises(AccessError, match="unknown role"):
        add_user(engine, "petro", "superuser", PASSWORD)
    assert [u.name for u in list_users(engine)] == ["olena"]


def test_reset_gives_a_one_time_password_and_ends_sessions(engine: Engine,
                                                           olena: User) -> None:
    token, _ = create_session(engine, olena.id, now=NOON)
    one_time = reset_password(engine, "olena", now=NOON)
    assert lookup_session(engine, token, now=NOON) is None
    found = get_user(engine, "olena")
    assert found is not None and found.must_change_password
    assert authenticate(engine, "olena", one_time, now=NOON).id == olena.id
    with pytest.raises(AccessError):
        authenticate(engine, "olena", PASSWORD, now=NOON)


def test_disable_ends_sessions_and_refuses_sign_in(engine: Engine, olena: User) -> None:
    token, _ = create_session(engine, olena.id, now=NOON)
    assert disable_user(engine, "olena", now=NOON).disabled
    assert lookup_session(engine, token, now=NOON) is None
    with pytest.raises(AccessError, match="disabled"):
        authenticate(engine, "olena", PASSWORD, now=NOON)
    enable_user(engine, "olena")
    assert authenticate(engine, "olena", PASSWORD, now=NOON).id == olena.id
    assert lookup_session(engine, token, now=NOON) is None  # old sessions stay ended


def test_language(engine: Engine, olena: User) -> None:
    set_language(engine, "olena", "uk")
    found = get_user(engine, "olena")
    assert found is not None and found.language == "uk"
    with pytest.raises(AccessError, match="unknown language"):
        set_language(engine, "olena", "ru")
