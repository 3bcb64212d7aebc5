"""``svidok tokens``: personal API tokens for scripts — add, list, revoke.

Run by whoever administers the data folder (it has the database). A new token is printed
once, for the person it belongs to; only its SHA-256 is kept, so it can never be shown
again. See docs/api.md and docs/access.md.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from svidok.access import (
    AccessError,
    ApiToken,
    User,
    allowed,
    create_token,
    get_user,
    list_tokens,
    list_users,
)
from svidok.access import revoke_token as revoke
from svidok.cli_common import EXIT_USAGE, JsonOpt, fail, opened
from svidok.output import emit_json, out, safe, table

tokens_app = typer.Typer(help="Manage personal API tokens for scripts (see docs/api.md).",
                         no_args_is_help=True)

MAX_DAYS = 3650


@tokens_app.command("add")
def tokens_add(
    user: Annotated[str, typer.Argument(help="The user the token acts as.")],
    label: Annotated[str, typer.Argument(help="What uses it, e.g. 'nightly export'.")],
    days: Annotated[int | None, typer.Option(
        "--days", min=1, max=MAX_DAYS, help="Stop working after this many days "
                                            "(default: until revoked).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a token for a user whose role may hold one; prints it once."""
    now = datetime.now(UTC)
    with opened(as_json) as home:
        found = get_user(home.engine, user)
        if found is None:
            fail(f"no user {user!r}", as_json)
        try:
            raw, token = create_token(home.engine, found.id, label, now=now,
                                      expires_at=now + timedelta(days=days) if days else None)
        except AccessError as exc:
            fail(str(exc), as_json, EXIT_USAGE)
    if as_json:
        emit_json({"token": raw, **_shown(token, found, now)})
        return
    until = f", until {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else ""
    out.print(safe(f"Token {token.id} for {found.name} ({found.role}): {token.name}{until}."))
    out.print("The token (shown only now; keep it like a password, it acts as "
              f"{found.name}):", style="bold")
    print(raw)


@tokens_app.command("list")
def tokens_list(
    user: Annotated[str | None, typer.Option(
        "--user", help="Only this user's tokens.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List tokens (never the tokens themselves): id, user, name, made, last used, state
    (live, live until a date, revoked, expired, or refused while its owner may not hold
    tokens)."""
    now = datetime.now(UTC)
    with opened(as_json) as home:
        if user is not None:
            found = get_user(home.engine, user)
            if found is None:
                fail(f"no user {user!r}", as_json)
            people = [found]
        else:
            people = list_users(home.engine)
        rows = [(t, p) for p in people for t in list_tokens(home.engine, p.id)]
    rows.sort(key=lambda pair: pair[0].id)
    if as_json:
        emit_json({"tokens": [_shown(t, person, now) for t, person in rows]})
        return
    out.print(table(f"API tokens ({len(rows)})",
                    ["id", "user", "name", "made (UTC)", "last used (UTC)", "state"],
                    [[t.id, person.name, t.name, _when(t.created_at), _when(t.last_used_at),
                      _state(t, person, now)] for t, person in rows]))


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="The token's id (see list).")],
    as_json: JsonOpt = False,
) -> None:
    """Revoke a token at once: scripts using it get 401 from then on."""
    if not 0 < token_id < 2**31:
        fail(f"no live API token {token_id}", as_json)
    with opened(as_json) as home:
        try:
            revoke(home.engine, token_id)
        except AccessError as exc:
            fail(str(exc), as_json)
    if as_json:
        emit_json({"id": token_id, "revoked": True})
        return
    out.print(safe(f"Token {token_id} revoked."))


def _shown(token: ApiToken, person: User, now: datetime) -> dict[str, Any]:
    return {**token.as_dict(), "user": person.name, "state": _state(token, person, now)}


def _state(token: ApiToken, person: User, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"  # by someone, or by disabling its owner; whatever its expiry
    if token.expired(now):
        return "expired"
    if person.disabled or not allowed(person.role, "api.tokens"):
        # Not revoked, but refused while the owner is disabled or their role holds none.
        return "refused"
    if token.expires_at is not None:
        return f"live until {token.expires_at:%Y-%m-%d}"
    return "live"


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at else "—"
