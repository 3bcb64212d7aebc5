"""Verification status of an item: a person's decision, each one a custody event.

An item is *unverified* until someone decides otherwise: *in progress*, *verified*,
*disputed* or *false*, with a note saying why. Every decision is a row of
``verification_decisions`` and a ``verify`` event in the custody log, written in one
transaction after taking the log's lock, so a crash leaves either both or neither, and two
people deciding at once take turns (the second sees the first's status as the previous one).

The event names the item's original (or, for a message without bytes of its own, its
record), the new and previous status, and the person as its actor; it commits to the
decision (note included) by the SHA-256 of its canonical JSON, so a note, which may name
people, never travels in a proof bundle yet can be checked against the log when disclosed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Connection, Engine, bindparam, insert, select

from svidok.custody.events import Actor, CustodyEvent, append, digest, utc_text
from svidok.custody.tree import Tree
from svidok.db.schema import VERIFICATION_STATUSES, items, verification_decisions

STATUSES: Final = VERIFICATION_STATUSES
DEFAULT: Final = "unverified"
NOTE_MAX: Final = 2000  # characters; a note says why, the evidence itself lives elsewhere
NAME_MAX: Final = 64
WEB: Final = "svidok.web"
CLI: Final = "svidok.cli"
FORMAT: Final = "svidok.verification/1"


class VerificationError(ValueError):
    """A decision cannot be recorded as asked; the message says why and can be shown."""


@dataclass(frozen=True)
class Decision:
    id: int
    item_id: int
    status: str
    previous_status: str
    note: str | None
    decided_by: str
    user_id: int | None
    decided_at: datetime
    event_seq: int
    context: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "item": self.item_id, "status": self.status,
                "previous_status": self.previous_status, "note": self.note,
                "decided_by": self.decided_by, "decided_at": self.decided_at.isoformat(),
                "log_index": self.event_seq, "context": self.context}


@dataclass(frozen=True)
class Changed:
    decision: Decision
    changed: bool  # False: the item already had this status and note; nothing was written


def clean_note(note: str | None) -> str | None:
    """The note as it will be kept: NFC, no control characters but line breaks and tabs,
    trimmed; None when empty. Refuses one longer than :data:`NOTE_MAX`."""
    if note is None:
        return None
    text = unicodedata.normalize("NFC", note).replace("\r\n", "\n").replace("\r", "\n")
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text):
        raise VerificationError("the note holds control characters")
    text = text.strip()
    if len(text) > NOTE_MAX:
        raise VerificationError(f"the note is {len(text)} characters long; at most "
                                f"{NOTE_MAX} are kept")
    return text or None


def check_status(status: str) -> str:
    if status not in STATUSES:
        raise VerificationError(f"unknown status {status[:40]!r}; use one of "
                                f"{', '.join(STATUSES)}")
    return status


def _row(row: Any) -> Decision:
    return Decision(row.id, row.item_id, row.status, row.previous_status, row.note,
                    row.decided_by, row.user_id, row.decided_at, int(row.event_seq),
                    row.context)


def current(conn: Connection, item_id: int) -> Decision | None:
    """The item's newest decision; None while it is unverified by default."""
    row = conn.execute(select(verification_decisions)
                       .where(verification_decisions.c.item_id == item_id)
                       .order_by(verification_decisions.c.id.desc()).limit(1)).first()
    return _row(row) if row is not None else None


_DECISIONS = (select(verification_decisions)  # built once: see svidok.access.sessions
              .where(verification_decisions.c.item_id == bindparam("item_id"))
              .order_by(verification_decisions.c.id.desc()).limit(bindparam("limit")))


def decisions(conn: Connection, item_id: int, limit: int = 500) -> list[Decision]:
    """The item's decisions, newest first."""
    rows = conn.execute(_DECISIONS, {"item_id": item_id, "limit": limit})
    return [_row(r) for r in rows]


def document(item_id: int, subject: str, status: str, previous: str, note: str | None,
             decided_by: str, moment: datetime) -> dict[str, Any]:
    """What the event commits to: the decision in full, as canonical JSON hashes it."""
    return {"format": FORMAT, "item": item_id, "sha256": subject, "status": status,
            "previous_status": previous, "note": note, "decided_by": decided_by,
            "time": utc_text(moment)}


def set_status(engine: Engine, item_id: int, status: str, note: str | None, *,
               decided_by: str, user_id: int | None = None, component: str = WEB,
               now: datetime | None = None) -> Changed:
    """Record ``status`` for a stored item with its custody event, in one transaction.

    The same status with the same note as now is not a new decision: nothing is written.
    Raises :class:`VerificationError` for an unknown status, a bad note or name, or an
    item that does not exist or holds nothing yet (not stored).
    """
    check_status(status)
    note = clean_note(note)
    name = decided_by.strip()
    if not name or len(name) > NAME_MAX or not name.isprintable():
        raise VerificationError(f"who decided must be a name of 1 to {NAME_MAX} printable "
                                "characters")
    moment = now or datetime.now(UTC)
    with engine.begin() as conn:
        # The log's lock first: decisions on an item then take turns, and each sees the one
        # before it as its previous status.
        Tree(conn).head(for_update=True)
        item = conn.execute(select(items.c.state, items.c.sha256, items.c.record_sha256)
                            .where(items.c.id == item_id)).first()
        if item is None:
            raise VerificationError(f"no item {item_id}")
        subject = item.sha256 or item.record_sha256
        if item.state != "stored" or not subject:
            raise VerificationError(f"item {item_id} holds nothing yet ({item.state}); only "
                                    "a stored item has a verification status")
        before = current(conn, item_id)
        previous = before.status if before else DEFAULT
        if before is not None and before.status == status and before.note == note:
            return Changed(before, False)
        if before is None and status == DEFAULT and note is None:
            raise VerificationError(f"item {item_id} is already unverified")
        context = digest(document(item_id, subject, status, previous, note, name, moment))
        event = CustodyEvent("verify", Actor(component, user=name), moment, subject,
                             previous=before.context if before else None, context=context,
                             details={"item": item_id, "status": status, "from": previous})
        seq = append(conn, [event]).first
        new_id = conn.execute(insert(verification_decisions).values(
            item_id=item_id, status=status, previous_status=previous, note=note,
            decided_by=name, user_id=user_id, decided_at=moment, event_seq=seq,
            context=context)).inserted_primary_key
        assert new_id is not None
        return Changed(Decision(int(new_id[0]), item_id, status, previous, note, name,
                                user_id, moment, seq, context), True)
