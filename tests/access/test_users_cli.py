"""``svidok users``, run as an administrator would: add, list --json, passwd, reset,
disable, totp."""

from __future__ import annotations

import json

import pyotp

from conftest import run_svidok


def _json(env: dict[str, str], *args: str, stdin: str | None = None) -> dict:  # type: ignore[type-arg]
    done = run_svidok(["users", *args, "--json"], env, input=stdin)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_add_list_and_disable(env: dict[str, str]) -> None:
    assert run_svidok(["init"], env).returncode == 0
    added = run_svidok(["users", "add", "olena", "--role", "analyst"], env)
    assert added.returncode == 0, added.stderr
    one_time = added.stdout.strip().splitlines()[-1]
    assert len(one_time) >= 12 and "argon2" not in added.stdout
    _json(env, "add", "petro", "--role", "viewer", "--password-stdin",
          stdin="a long enough password\n")
    listed = _json(env, "list")["users"]
    assert [(u["name"], u["role"], u["must_change_password"]) for u in listed] == [
        ("olena", "analyst", True), ("petro", "viewer", False)]
    assert all("password_hash" not in u and "totp_secret" not in u for u in listed)
    assert _json(env, "disable", "petro")["user"]["disabled"] is True


def test_mistakes_are_explained(env: dict[str, str]) -> None:
    run_svidok(["init"], env)
    wrong_role = run_svidok(["users", "add", "olena", "--role", "root"], env)
    assert wrong_role.returncode == 2 and "unknown role" in wrong_role.stderr
    short = run_svidok(["users", "add", "olena", "--role", "viewer", "--password-stdin"],
                       env, input="short\n")
    assert short.returncode == 2 and "too short" in short.stderr
    missing = run_svidok(["users", "disable", "nobody"], env)
    assert missing.returncode == 1 and "no user" in missing.stderr


def test_passwd_reset_and_totp(env: dict[str, str]) -> None:
    run_svidok(["init"], env)
    _json(env, "add", "olena", "--role", "admin")
    differ = run_svidok(["users", "passwd", "olena"], env,
                        input="first long password\nsecond long password\n")
    assert differ.returncode == 2 and "differ" in differ.stderr
    same = run_svidok(["users", "passwd", "olena"], env,
                      input="first long password\nfirst long password\n")
    assert same.returncode == 0, same.stderr
    assert _json(env, "reset", "olena")["one_time_password"]
    enrol = _json(env, "totp", "olena")
    assert enrol["uri"].startswith("otpauth://totp/")
    code = pyotp.TOTP(enrol["secret"]).now()
    assert _json(env, "totp", "olena", "--confirm", code)["confirmed"] is True
    assert _json(env, "list")["users"][0]["totp_enabled"] is True
