"""Sessions: only the token's hash is stored; idle and absolute timeouts; revoking."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import Engine, select

from access.conftest import NOON
from svidok.access import (
    User,
    complete_second_factor,
    create_session,
    lookup_session,
    revoke_all_for_user,
    revoke_session,
    set_password,
    touch,
)
from svidok.db.schema import sessions

MINUTE = timedelta(minutes=1)


def test_the_database_holds_the_hash_of_the_token_not_the_token(engine: Engine,
                                                                olena: User) -> None:
    token, session = create_session(engine, olena.id, now=NOON)
    with engine.connect() as conn:
        stored = conn.execute(select(sessions.c.id)).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()] == [session.id]
    found = lookup_session(engine, token, now=NOON)
    assert found is not None and found.user.name == "olena" and found.csrf_token
    assert lookup_session(engine, session.id, now=NOON) is None  # the hash opens nothing
    assert lookup_session(engine, "", now=NOON) is None


def test_an_idle_session_ends_and_activity_keeps_it_alive(engine: Engine,
                                                          olena: User) -> None:
    token, session = create_session(engine, olena.id, now=NOON)
    assert lookup_session(engine, token, now=NOON + 30 * MINUTE) is not None
    assert lookup_session(engine, token, now=NOON + 31 * MINUTE) is None
    touch(engine, session.id, now=NOON + 25 * MINUTE)
    assert lookup_session(engine, token, now=NOON + 50 * MINUTE) is not None
    # The idle timeout is a parameter.
    assert lookup_session(engine, token, idle=10 * MINUTE, now=NOON + 50 * MINUTE) is None


def test_a_session_ends_after_the_absolute_timeout_however_busy(engine: Engine,
                                                                olena: User) -> None:
    token, session = create_session(engine, olena.id, now=NOON)
    for minutes in range(20, 12 * 60, 20):
        touch(engine, session.id, now=NOON + minutes * MINUTE)
    late = NOON + (12 * 60 + 1) * MINUTE
    assert lookup_session(engine, token, now=late) is None
    assert lookup_session(engine, token, absolute=timedelta(hours=24), now=late) is not None


def test_revoking_one_or_all(engine: Engine, olena: User) -> None:
    first, one = create_session(engine, olena.id, now=NOON)
    second, _ = create_session(engine, olena.id, now=NOON)
    third, three = create_session(engine, olena.id, now=NOON)
    revoke_session(engine, one.id, now=NOON)
    assert lookup_session(engine, first, now=NOON) is None
    assert lookup_session(engine, second, now=NOON) is not None
    revoke_all_for_user(engine, olena.id, except_id=three.id, now=NOON)
    assert lookup_session(engine, second, now=NOON) is None
    assert lookup_session(engine, third, now=NOON) is not None


def test_a_password_change_keeps_only_the_session_making_it(engine: Engine,
                                                            olena: User) -> None:
    mine, session = create_session(engine, olena.id, now=NOON)
    other, _ = create_session(engine, olena.id, now=NOON)
    set_password(engine, "olena", "another long passphrase", keep_session=session.id,
                 now=NOON)
    assert lookup_session(engine, mine, now=NOON) is not None
    assert lookup_session(engine, other, now=NOON) is None


def test_the_second_factor_gives_a_new_token(engine: Engine, olena: User) -> None:
    before, session = create_session(engine, olena.id, now=NOON)
    assert not session.second_factor_done
    after, upgraded = complete_second_factor(engine, session.id, now=NOON)
    assert upgraded.second_factor_done and after != before
    assert lookup_session(engine, before, now=NOON) is None
