"""Proof bundles: a C2SP tlog-proof for one custody event, checkable without Svidok.

    c2sp.org/tlog-proof@v1
    extra <base64 of the event's canonical record>
    index <leaf index, 0-based>
    <inclusion path, base64, one hash a line, leaf upward>

    <the signed checkpoint, verbatim>

The ``extra`` line lets a verifier recompute the leaf from the bundle alone and read which
original (by SHA-256) the event is about; verifier/svidok_verify.py does exactly that.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, select

from svidok.custody.checkpoints import Checkpoint
from svidok.custody.events import sha_key
from svidok.custody.merkle import ProofError, leaf_hash, verify_inclusion
from svidok.custody.tree import Tree
from svidok.db.schema import custody_events

HEADER = "c2sp.org/tlog-proof@v1"


@dataclass(frozen=True)
class Event:
    seq: int
    record: bytes

    @cached_property
    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.record)
        return body

    @property
    def action(self) -> str:
        return str(self.body.get("action", ""))

    @property
    def sha256(self) -> str:
        return str(self.body.get("sha256", ""))


def events_of(conn: Connection, sha256: str) -> list[Event]:
    """An original's events, oldest first; the index narrows, the records decide."""
    rows = conn.execute(select(custody_events).where(custody_events.c.sha_key == sha_key(sha256))
                        .order_by(custody_events.c.seq))
    found = (Event(r.seq, bytes(r.record)) for r in rows)
    return [e for e in found if e.sha256 == sha256]


def capture_of(conn: Connection, sha256: str) -> Event | None:
    """The first capture event of an original."""
    return next((e for e in events_of(conn, sha256) if e.action == "capture"), None)


def bundle(conn: Connection, found: Event, cp: Checkpoint) -> str:
    """The tlog-proof text for ``found`` under ``cp``; checked before it is returned."""
    if found.seq >= cp.size:
        raise ProofError(f"event {found.seq} came after checkpoint {cp.id}")
    tree = Tree(conn)
    path = tree.inclusion(found.seq, cp.size)
    # Prove it here first: a bundle that does not verify must never reach a court.
    verify_inclusion(leaf_hash(found.record), found.seq, cp.size, path, cp.root)
    lines = [HEADER, "extra " + base64.b64encode(found.record).decode(), f"index {found.seq}"]
    lines += [base64.b64encode(h).decode() for h in path]
    return "\n".join(lines) + "\n\n" + cp.note
