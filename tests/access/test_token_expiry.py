"""API tokens made to expire: live until then, refused after, revocable before, and
revoked at once (not merely expired later) when their owner is disabled. The expiry has a
column of its own: ``revoked_at`` is set only by revoking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from access.conftest import NOON
from svidok.access import (
    AccessError,
    User,
    create_token,
    disable_user,
    enable_user,
    list_tokens,
    lookup_token,
    revoke_token,
)
from svidok.db.schema import api_tokens

WEEK = timedelta(days=7)


def test_a_token_works_until_it_expires(engine: Engine, olena: User) -> None:
    raw, token = create_token(engine, olena.id, "field phone", expires_at=NOON + WEEK,
                              now=NOON)
    assert token.expires_at == NOON + WEEK and token.revoked_at is None
    assert token.as_dict()["expires_at"] == (NOON + WEEK).isoformat()
    assert lookup_token(engine, raw, now=NOON + WEEK - timedelta(seconds=1)) is not None
    assert lookup_token(engine, raw, now=NOON + WEEK) is None
    ended = list_tokens(engine, olena.id)[0]
    # Expired, not revoked: the listing can say which.
    assert ended.revoked_at is None and ended.expires_at == NOON + WEEK
    assert ended.live(NOON + WEEK - timedelta(seconds=1)) and ended.expired(NOON + WEEK)
    with engine.connect() as conn:
        row = conn.execute(select(api_tokens.c.revoked_at, api_tokens.c.expires_at)).one()
    assert row.revoked_at is None and row.expires_at == NOON + WEEK
    with pytest.raises(AccessError, match="no live API token"):
        revoke_token(engine, token.id, now=NOON + 2 * WEEK)
    assert list_tokens(engine, olena.id)[0].revoked_at is None


def test_an_expiring_token_can_be_revoked_sooner(engine: Engine, olena: User) -> None:
    raw, token = create_token(engine, olena.id, "script", expires_at=NOON + WEEK, now=NOON)
    revoke_token(engine, token.id, now=NOON + timedelta(days=1))
    assert lookup_token(engine, raw, now=NOON + timedelta(days=2)) is None
    seen = list_tokens(engine, olena.id)[0]
    assert seen.revoked_at == NOON + timedelta(days=1) and seen.expires_at == NOON + WEEK
    assert not seen.live(NOON + timedelta(days=2)) and not seen.expired(NOON + timedelta(days=2))


def test_disabling_ends_expiring_tokens_for_good(engine: Engine, olena: User) -> None:
    raw, _ = create_token(engine, olena.id, "script", expires_at=NOON + WEEK, now=NOON)
    disable_user(engine, "olena", now=NOON)
    enable_user(engine, "olena")
    assert lookup_token(engine, raw, now=NOON + timedelta(days=1)) is None
    assert list_tokens(engine, olena.id)[0].revoked_at == NOON


def test_disabling_leaves_an_expired_token_expired(engine: Engine, olena: User) -> None:
    create_token(engine, olena.id, "old script", expires_at=NOON + WEEK, now=NOON)
    create_token(engine, olena.id, "script", now=NOON)
    disable_user(engine, "olena", now=NOON + 2 * WEEK)
    old, current = list_tokens(engine, olena.id)
    assert old.revoked_at is None and old.expired(NOON + 2 * WEEK)
    assert current.revoked_at == NOON + 2 * WEEK


@pytest.mark.parametrize("ahead", [timedelta(hours=1), timedelta(days=-1),
                                   timedelta(days=3651)])
def test_an_expiry_must_be_a_day_to_ten_years_ahead(engine: Engine, olena: User,
                                                    ahead: timedelta) -> None:
    with pytest.raises(AccessError, match="expires at least 1"):
        create_token(engine, olena.id, "script", expires_at=NOON + ahead, now=NOON)
