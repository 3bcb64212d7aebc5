"""``svidok tokens``, run as an administrator would: add (shown once, with an expiry),
list --json, revoke, and mistakes explained with a non-zero exit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import run_svidok
from svidok.access import add_user, create_token
from svidok.home import Home


def _json(env: dict[str, str], *args: str) -> Any:
    done = run_svidok(["tokens", *args, "--json"], env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_add_list_and_revoke(env: dict[str, str]) -> None:
    assert run_svidok(["init"], env).returncode == 0
    for name, role in (("olena", "analyst"), ("taras", "documenter")):
        assert run_svidok(["users", "add", name, "--role", role], env).returncode == 0

    added = run_svidok(["tokens", "add", "olena", "nightly export"], env)
    assert added.returncode == 0, added.stderr
    raw = added.stdout.strip().splitlines()[-1]
    assert raw.startswith("svk_") and len(raw) == 47
    assert "shown only now" in added.stdout

    expiring = _json(env, "add", "taras", "field phone", "--days", "30")
    assert expiring["token"].startswith("svk_") and expiring["user"] == "taras"
    until = datetime.fromisoformat(expiring["expires_at"])
    assert timedelta(days=29) < until - datetime.now(UTC) <= timedelta(days=30)

    listed = _json(env, "list")["tokens"]
    assert [(t["user"], t["name"], t["state"]) for t in listed] == [
        ("olena", "nightly export", "live"),
        ("taras", "field phone", f"live until {until:%Y-%m-%d}")]
    assert all("token" not in t and "token_hash" not in t for t in listed)
    assert raw not in json.dumps(listed)
    assert [t["user"] for t in _json(env, "list", "--user", "taras")["tokens"]] == ["taras"]

    table = run_svidok(["tokens", "list"], {**env, "COLUMNS": "200"})
    assert table.returncode == 0 and "nightly export" in table.stdout and raw not in table.stdout

    first = listed[0]["id"]
    assert _json(env, "revoke", str(first)) == {"id": first, "revoked": True}
    assert _json(env, "list", "--user", "olena")["tokens"][0]["state"] == "revoked"
    again = run_svidok(["tokens", "revoke", str(first)], env)
    assert again.returncode == 1 and "no live API token" in again.stderr

    # Disabling the owner ends their tokens too: revoked, the expiry kept apart.
    assert run_svidok(["users", "disable", "taras"], env).returncode == 0
    (ended,) = _json(env, "list", "--user", "taras")["tokens"]
    assert ended["state"] == "revoked" and ended["revoked_at"] is not None
    assert ended["expires_at"] == expiring["expires_at"]


def test_an_expired_token_is_listed_as_expired(env: dict[str, str], home: Home) -> None:
    olena, _ = add_user(home.engine, "olena", "analyst", "correct horse battery")
    now = datetime.now(UTC)
    create_token(home.engine, olena.id, "old script", now=now - timedelta(days=3),
                 expires_at=now - timedelta(days=1))
    (token,) = _json(env, "list")["tokens"]
    assert token["state"] == "expired" and token["revoked_at"] is None
    assert datetime.fromisoformat(token["expires_at"]) < now
    # Nothing live to revoke.
    assert run_svidok(["tokens", "revoke", str(token["id"])], env).returncode == 1


def test_mistakes_are_explained(env: dict[str, str]) -> None:
    run_svidok(["init"], env)
    run_svidok(["users", "add", "vira", "--role", "viewer"], env)
    viewer = run_svidok(["tokens", "add", "vira", "script"], env)
    assert viewer.returncode == 2 and "may not hold API tokens" in viewer.stderr
    nobody = run_svidok(["tokens", "add", "nobody", "script"], env)
    assert nobody.returncode == 1 and "no user" in nobody.stderr
    run_svidok(["users", "add", "olena", "--role", "analyst"], env)
    unnamed = run_svidok(["tokens", "add", "olena", "  "], env)
    assert unnamed.returncode == 2 and "name" in unnamed.stderr
    too_long = run_svidok(["tokens", "add", "olena", "script", "--days", "0"], env)
    assert too_long.returncode == 2
    assert run_svidok(["tokens", "list", "--user", "nobody"], env).returncode == 1
    assert run_svidok(["tokens", "revoke", "999"], env).returncode == 1
