"""``svidok items status``: record an item's verification status, as the item page does."""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer

from svidok.cases.verification import (
    CLI,
    STATUSES,
    VerificationError,
    check_status,
    clean_note,
    current,
    set_status,
)
from svidok.cli_common import EXIT_USAGE, JsonOpt, fail, opened
from svidok.home import Home
from svidok.locker import records
from svidok.output import emit_json, out, safe


def status_cmd(
    ref: Annotated[str, typer.Argument(help="Item id, or 8 or more hex digits of its SHA-256.")],
    status: Annotated[str, typer.Argument(
        help=f"The new status: {', '.join(STATUSES)}.")],
    note: Annotated[str | None, typer.Option(
        help="Why; kept with the decision (at most 2,000 characters).")] = None,
    by: Annotated[str | None, typer.Option(
        help="Who decided (default: the account running this command).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record an item's verification status with a note: a custody event, shown in the
    item's history. The same status and note again records nothing."""
    try:  # what was typed is checked before the data folder is opened: exit status 2
        check_status(status)
        clean_note(note)
    except VerificationError as exc:
        fail(str(exc), as_json, EXIT_USAGE)
    name = by if by is not None else _account(as_json)
    with opened(as_json) as home:
        item = records.find_item(home, ref)
        if item is None:
            fail(f"no item {ref!r} (give its number, or 8 or more hex digits of its SHA-256)",
                 as_json)
        try:
            done = set_status(home.engine, item["id"], status, note, decided_by=name,
                              component=CLI)
        except VerificationError as exc:
            fail(str(exc), as_json)
    decision = done.decision
    if as_json:
        emit_json({"changed": done.changed, "decision": decision.as_json()})
        return
    if not done.changed:
        out.print(safe(f"Item {decision.item_id} is already {decision.status} with this note; "
                       "nothing was recorded."))
        return
    out.print(safe(f"Item {decision.item_id} is now {decision.status} (was "
                   f"{decision.previous_status}), decided by {decision.decided_by}; custody "
                   f"event {decision.event_seq}."))


def _account(as_json: bool) -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        fail("cannot tell who is running this command; name the person with --by", as_json,
             EXIT_USAGE)


def verification_of(home: Home, item_id: int) -> dict[str, Any]:
    """For ``svidok items show``: the newest decision, or the default status."""
    with home.engine.connect() as conn:
        found = current(conn, item_id)
    return found.as_json() if found is not None else {"status": "unverified"}


def print_verification(found: dict[str, Any]) -> None:
    line = f"Verification: {found['status']}"
    if "decided_by" in found:
        line += f", by {found['decided_by']} at {found['decided_at'][:19]} UTC"
    out.print(safe(line))
    if found.get("note"):
        out.print(safe(f"  {found['note']}"))
