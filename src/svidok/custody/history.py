"""An item's history: every custody event about it, newest first.

Events name originals, not items: the item's original (or its record, for a message with
no bytes of its own) is named by its capture, its sightings, what the enrichers found
("metadata") and people's verification decisions; each artifact derived from it is named
by its own "derive" event, whose "previous" is the original. Both are found through the
log's ``sha_key`` index and then read from the records themselves, which decide.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, select

from svidok.custody.events import sha_key
from svidok.db.schema import artifacts, custody_events, items

LIMIT = 1000  # events shown; an item with more (thousands of keyframes) says so


@dataclass(frozen=True)
class HistoryEvent:
    seq: int  # the leaf index in the custody log
    action: str
    time: str  # as recorded: UTC with microseconds and "Z"
    component: str
    version: str
    user: str | None
    sha256: str
    details: dict[str, Any] = field(default_factory=dict)
    purpose: str | None = None
    previous: str | None = None  # the SHA-256 of the state before (a derive: the original)

    def as_json(self) -> dict[str, Any]:
        return {"log_index": self.seq, "action": self.action, "time": self.time,
                "actor": {"component": self.component, "version": self.version,
                          "user": self.user},
                "sha256": self.sha256, "previous": self.previous, "details": self.details,
                "purpose": self.purpose}


@dataclass
class History:
    events: list[HistoryEvent]
    truncated: bool  # more than LIMIT events: the oldest are left out


# Built once, as every item page reads it (see svidok.access.sessions).
_EVENTS = select(custody_events.c.seq, custody_events.c.record) \
    .where(custody_events.c.sha_key.in_(bindparam("keys", expanding=True))) \
    .order_by(custody_events.c.seq.desc())


def item_history(conn: Connection, item_id: int, limit: int = LIMIT, *,
                 item: dict[str, Any] | None = None, derived: set[str] | None = None
                 ) -> History:
    """The custody events about item ``item_id``, newest first (empty for an item that holds
    nothing yet). A caller that has read the item's row (``item``) or the hashes of its
    artifacts (``derived``) hands them over, and they are not read again."""
    if item is None:
        row = conn.execute(select(items.c.sha256, items.c.record_sha256)
                           .where(items.c.id == item_id)).first()
        item = row._asdict() if row is not None else {}
    subject = item.get("sha256") or item.get("record_sha256")
    if not subject:
        return History([], False)
    if derived is None:
        derived = set(conn.scalars(select(artifacts.c.sha256).where(
            artifacts.c.item_id == item_id)).all())
    wanted = {subject} | derived
    keys = sorted({sha_key(sha) for sha in wanted})
    found: list[HistoryEvent] = []
    truncated = False
    for part in range(0, len(keys), 500):
        for seq, record in conn.execute(_EVENTS, {"keys": keys[part:part + 500]}):
            event = _event(int(seq), bytes(record))
            if event is None or event.sha256 not in wanted:
                continue
            # An artifact's own events count only as what was derived from this original
            # (the same bytes may have been derived from another item too).
            if event.sha256 != subject and not (
                    event.action == "derive" and event.previous == subject):
                continue
            found.append(event)
    found.sort(key=lambda e: e.seq, reverse=True)
    if len(found) > limit:
        found, truncated = found[:limit], True
    return History(found, truncated)


def _event(seq: int, record: bytes) -> HistoryEvent | None:
    try:
        body = json.loads(record)
    except ValueError:
        return None  # svidok verify names an unreadable record; a history just skips it
    if not isinstance(body, dict):
        return None
    found = body.get("actor")
    actor: dict[str, Any] = found if isinstance(found, dict) else {}
    details = dict(body["details"]) if isinstance(body.get("details"), dict) else {}
    return HistoryEvent(seq=seq, action=str(body.get("action", "")),
                        time=str(body.get("time", "")),
                        component=str(actor.get("component", "")),
                        version=str(actor.get("version", "")),
                        user=_text(actor.get("user")),
                        sha256=str(body.get("sha256", "")), details=details,
                        purpose=_text(body.get("purpose")), previous=_text(body.get("previous")))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
