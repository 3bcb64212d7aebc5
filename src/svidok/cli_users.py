"""``svidok users``: add, list, change passwords, reset, disable, enable, enrol TOTP.

Run by whoever administers the data folder (it has the database). A one-time password or
TOTP secret is printed once, for the person it belongs to; hashes never are.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from svidok.access import (
    MIN_LENGTH,
    ROLES,
    AccessError,
    add_user,
    disable_user,
    enable_user,
    get_user,
    list_users,
    reset_password,
    set_password,
)
from svidok.access import totp as totp_mod
from svidok.cli_common import EXIT_USAGE, JsonOpt, fail, opened
from svidok.output import emit_json, out, safe, table

users_app = typer.Typer(help="Manage the people who sign in to the web app.",
                        no_args_is_help=True)

StdinOpt = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from the first line of standard input.")]


def _read_password(from_stdin: bool, as_json: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            fail("no password on standard input", as_json, EXIT_USAGE)
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        # Read twice from a pipe, as a person would type it twice.
        first, second = sys.stdin.readline(), sys.stdin.readline()
    else:
        first = getpass.getpass(f"New password (at least {MIN_LENGTH} characters): ")
        second = getpass.getpass("The same again: ")
    first, second = first.rstrip("\r\n"), second.rstrip("\r\n")
    if first != second:
        fail("the two passwords differ; nothing changed", as_json, EXIT_USAGE)
    return first


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The name they sign in with.")],
    role: Annotated[str, typer.Option(
        "--role", help=f"One of {', '.join(ROLES)} (see docs/access.md).")],
    language: Annotated[str, typer.Option(help="Interface language: en or uk.")] = "en",
    password_stdin: StdinOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Add a user. Prints a one-time password (changed at first sign-in) unless
    --password-stdin gives one."""
    password = _read_password(True, as_json) if password_stdin else None
    with opened(as_json) as home:
        try:
            user, one_time = add_user(home.engine, name, role, password, language=language)
        except AccessError as exc:
            fail(str(exc), as_json, EXIT_USAGE)
    if as_json:
        emit_json({"user": user.as_dict(), "one_time_password": one_time})
        return
    out.print(safe(f"Added {user.name} ({user.role})."))
    if one_time is not None:
        out.print("One-time password (shown only now; it must be changed at first sign-in):")
        print(one_time)


@users_app.command("list")
def users_list(as_json: JsonOpt = False) -> None:
    """List users: name, role, language, two-factor, state."""
    with opened(as_json) as home:
        found = list_users(home.engine)
    if as_json:
        emit_json({"users": [u.as_dict() for u in found]})
        return
    out.print(table(f"Users ({len(found)})", ["name", "role", "language", "TOTP", "state"], [
        [u.name, u.role, u.language, "on" if u.totp_enabled else "off",
         "disabled" if u.disabled else ("must change password" if u.must_change_password
                                        else "active")] for u in found]))


@users_app.command("passwd")
def users_passwd(
    name: str,
    password_stdin: StdinOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Set a user's password (typed twice, or --password-stdin); ends their sessions."""
    with opened(as_json) as home:
        if get_user(home.engine, name) is None:
            fail(f"no user {name!r}", as_json)
        password = _read_password(password_stdin, as_json)
        try:
            set_password(home.engine, name, password)
        except AccessError as exc:
            fail(str(exc), as_json, EXIT_USAGE)
    if as_json:
        emit_json({"name": name, "changed": True})
        return
    out.print(safe(f"Password of {name} changed; their sessions have ended."))


@users_app.command("reset")
def users_reset(name: str, as_json: JsonOpt = False) -> None:
    """Give a user a new one-time password and end their sessions."""
    with opened(as_json) as home:
        try:
            one_time = reset_password(home.engine, name)
        except AccessError as exc:
            fail(str(exc), as_json)
    if as_json:
        emit_json({"name": name, "one_time_password": one_time})
        return
    out.print(safe(f"Password of {name} reset; their sessions have ended."))
    out.print("One-time password (shown only now; it must be changed at first sign-in):")
    print(one_time)


@users_app.command("disable")
def users_disable(name: str, as_json: JsonOpt = False) -> None:
    """Disable a user: no sign-in; sessions end and API tokens are revoked at once."""
    with opened(as_json) as home:
        try:
            user = disable_user(home.engine, name)
        except AccessError as exc:
            fail(str(exc), as_json)
    if as_json:
        emit_json({"user": user.as_dict()})
        return
    out.print(safe(f"Disabled {user.name}; their sessions and API tokens no longer work."))


@users_app.command("enable")
def users_enable(name: str, as_json: JsonOpt = False) -> None:
    """Let a disabled user sign in again."""
    with opened(as_json) as home:
        try:
            user = enable_user(home.engine, name)
        except AccessError as exc:
            fail(str(exc), as_json)
    if as_json:
        emit_json({"user": user.as_dict()})
        return
    out.print(safe(f"Enabled {user.name}."))


@users_app.command("totp")
def users_totp(
    name: str,
    confirm: Annotated[str | None, typer.Option(
        "--confirm", metavar="CODE", help="Finish enrolment with a code from the app.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Enrol a user's authenticator app: prints a secret and otpauth URI (replacing any
    earlier one); then run again with --confirm CODE to turn the second factor on."""
    with opened(as_json) as home:
        try:
            if confirm is not None:
                totp_mod.confirm_enrolment(home.engine, name, confirm)
                secret = uri = None
            else:
                secret, uri = totp_mod.begin_enrolment(home.engine, name,
                                                       issuer=f"Svidok {home.instance_name}")
        except AccessError as exc:
            fail(str(exc), as_json)
    if as_json:
        emit_json({"name": name, "confirmed": confirm is not None, "secret": secret,
                   "uri": uri})
        return
    if confirm is not None:
        out.print(safe(f"Second factor on for {name}."))
        return
    out.print(safe(f"Enter this secret in {name}'s authenticator app (shown only now), "
                   "or make a QR code of the URI:"))
    print(secret)
    print(uri)
    out.print(safe(f"Then: svidok users totp {name} --confirm CODE"))
