"""Personal API tokens: shown once, stored as a hash, revocable."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from access.conftest import NOON, PASSWORD
from svidok.access import (
    AccessError,
    User,
    add_user,
    create_token,
    disable_user,
    list_tokens,
    lookup_token,
    revoke_token,
)
from svidok.db.schema import api_tokens


def test_a_token_is_stored_only_as_its_hash(engine: Engine, olena: User) -> None:
    raw, token = create_token(engine, olena.id, "nightly export", now=NOON)
    assert raw.startswith("svk_") and len(raw) > 40
    with engine.connect() as conn:
        rows = conn.execute(select(api_tokens)).mappings().all()
    assert len(rows) == 1
    assert rows[0]["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert all(raw not in str(value) for value in rows[0].values())
    assert "svk_" not in str(token.as_dict())


def test_look_up_records_use_and_revoke_ends_it(engine: Engine, olena: User) -> None:
    raw, token = create_token(engine, olena.id, "script", now=NOON)
    found = lookup_token(engine, raw, now=NOON)
    assert found is not None
    used, user = found
    assert user.name == "olena" and used.last_used_at == NOON
    assert lookup_token(engine, raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert lookup_token(engine, "not-a-token") is None
    revoke_token(engine, token.id, now=NOON)
    assert lookup_token(engine, raw, now=NOON) is None
    assert list_tokens(engine, olena.id)[0].revoked_at == NOON
    with pytest.raises(AccessError, match="no live API token"):
        revoke_token(engine, token.id)


def test_only_the_owner_revokes_and_disable_revokes_all(engine: Engine, olena: User) -> None:
    raw, token = create_token(engine, olena.id, "script", now=NOON)
    petro, _ = add_user(engine, "petro", "documenter", PASSWORD)
    with pytest.raises(AccessError):
        revoke_token(engine, token.id, user_id=petro.id)
    disable_user(engine, "olena", now=NOON)
    assert lookup_token(engine, raw, now=NOON) is None


def test_use_is_written_at_most_once_a_minute(engine: Engine, olena: User) -> None:
    raw, _token = create_token(engine, olena.id, "busy script", now=NOON)

    def stored() -> object:
        with engine.connect() as conn:
            return conn.execute(select(api_tokens.c.last_used_at)).scalar_one()

    assert lookup_token(engine, raw, now=NOON) is not None and stored() == NOON
    soon = lookup_token(engine, raw, now=NOON + timedelta(seconds=59))
    # Not written again within the minute; the answer says the use that is recorded.
    assert soon is not None and soon[0].last_used_at == NOON and stored() == NOON
    later = NOON + timedelta(seconds=60)
    found = lookup_token(engine, raw, now=later)
    assert found is not None and found[0].last_used_at == later and stored() == later


def test_a_viewer_holds_no_tokens(engine: Engine) -> None:
    viewer, _ = add_user(engine, "iryna", "viewer", PASSWORD)
    with pytest.raises(AccessError, match="may not hold API tokens"):
        create_token(engine, viewer.id, "script")
