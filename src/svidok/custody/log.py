"""The custody log as the rest of Svidok uses it: set up, checkpoint, stamp, prove, check.

Functions here take a :class:`~svidok.home.Home`; the modules beside this one hold the
mechanics (tree.py, checkpoints.py, proofs.py, audit.py) and know nothing of data folders.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from svidok.custody import checkpoints as cps
from svidok.custody.audit import LogReport, verify_log
from svidok.custody.capture import capture_event, sighting_event
from svidok.custody.contexts import check_contexts
from svidok.custody.events import Actor, CustodyEvent, append
from svidok.custody.keys import LogKeyError, create_key, load_signer
from svidok.custody.note import Signer, Verifier
from svidok.custody.proofs import bundle, capture_of
from svidok.custody.tree import Tree
from svidok.db.schema import items, sightings
from svidok.home import Home

BACKFILL = Actor("svidok.custody.backfill")
BACKFILL_CHUNK = 1000
BACKFILL_PURPOSE = "recorded before the custody log existed; logged when it was added"


class LogError(Exception):
    """A custody-log command cannot do what was asked; the message says why and what to do."""


def signer(home: Home) -> Signer:
    try:
        return load_signer(home.settings.home, home.instance_name)
    except LogKeyError as exc:
        raise LogError(str(exc)) from None


def verifier(home: Home) -> Verifier:
    return signer(home).verifier


def set_up(home: Home) -> tuple[Signer, bool, int]:
    """Make the key if there is none, and log captures of items stored before the log
    existed; returns the signer, whether the key is new, and how many were backfilled."""
    try:
        key, made = create_key(home.settings.home, home.instance_name)
    except LogKeyError as exc:
        raise LogError(str(exc)) from None
    added = backfill(home)
    if added:
        cps.checkpoint(home.engine, key)
    return key, made, added


def backfill(home: Home) -> int:
    """Capture and sighting events for a data folder made before the custody log.

    Runs only while the log is empty: from then on every item and sighting is logged in
    the transaction that records it. Each event says so in its purpose; its context
    commits to the locker's record as it is now, with the capture (or sighting) time from
    that record, while the event's own time is when it was logged.
    """
    with home.engine.connect() as conn:
        if Tree(conn).head()[0]:
            return 0
    added = 0
    for table in (items, sightings):
        last = 0
        while True:
            with home.engine.begin() as conn:
                query = select(table).where(table.c.id > last)
                if table is items:
                    query = query.where(items.c.state == "stored")
                else:
                    query = query.add_columns(func.coalesce(items.c.sha256, items.c.record_sha256)
                                              .label("item_sha256")).join(
                        items, items.c.id == sightings.c.item_id)
                rows = conn.execute(query.order_by(table.c.id).limit(BACKFILL_CHUNK)
                                    ).mappings().all()
                if not rows:
                    break
                now = datetime.now(UTC)
                append(conn, [_backfilled(dict(r), now, table is items) for r in rows])
                added += len(rows)
                last = rows[-1]["id"]
    return added


def _backfilled(row: dict[str, Any], now: datetime, is_item: bool) -> CustodyEvent:
    if is_item:
        return capture_event(row["sha256"] or row["record_sha256"], row, now, row["id"],
                             actor=BACKFILL, purpose=BACKFILL_PURPOSE,
                             captured_at=row["captured_at"])
    return sighting_event(row["item_sha256"], row, now, row["item_id"], actor=BACKFILL,
                          purpose=BACKFILL_PURPOSE, seen_at=row["seen_at"])


@dataclass
class CheckpointResult:
    checkpoint: cps.Checkpoint
    new: bool
    stamps: cps.StampReport


def checkpoint(home: Home) -> CheckpointResult:
    """Sign the current head (if not already signed), then stamp what is unstamped."""
    try:
        made, new = cps.checkpoint(home.engine, signer(home))
    except cps.CheckpointError as exc:
        raise LogError(str(exc)) from None
    stamps = stamp(home)
    with home.engine.connect() as conn:
        latest = cps.latest(conn)
    return CheckpointResult(latest or made, new, stamps)


def stamp(home: Home) -> cps.StampReport:
    settings = home.settings
    return cps.stamp(home.engine, settings.tsa_urls, float(settings.tsa_timeout_seconds))


def tsa_roots(home: Home) -> list[bytes]:
    roots = []
    for path in home.settings.tsa_root_files:
        try:
            roots.append(path.read_bytes())
        except OSError as exc:
            raise LogError(f"cannot read the TSA certificate {path}: {exc.strerror}") from None
    return roots


@dataclass
class Proof:
    sha256: str
    index: int
    checkpoint: cps.Checkpoint
    bundle: str
    stamps: list[tuple[str, bytes, datetime]]


def prove(home: Home, sha256: str) -> Proof:
    """A tlog-proof bundle for the capture of the original with this SHA-256."""
    with home.engine.connect() as conn:
        found = capture_of(conn, sha256)
        if found is None:
            raise LogError("this item has no capture event in the custody log; "
                           "run 'svidok init' to log items stored before the log existed")
        cp = cps.latest(conn)
    if cp is None or cp.size <= found.seq:
        cp = checkpoint(home).checkpoint
    with home.engine.connect() as conn:
        text = bundle(conn, found, cp)
        stamps = cps.stamps_of(conn, cp.id)
    return Proof(sha256, found.seq, cp, text, stamps)


def summary(home: Home) -> dict[str, Any]:
    """The log at a glance, for ``svidok status``."""
    with home.engine.connect() as conn:
        size, root = Tree(conn).head()
        latest = cps.latest(conn)
        unstamped = cps.unstamped(conn)
    return {"events": size, "root": base64.b64encode(root).decode(),
            "checkpoints": 0 if latest is None else latest.id,
            "latest_checkpoint": None if latest is None else {
                "id": latest.id, "size": latest.size, "stamped": latest.stamped,
                "created_at": latest.created_at.isoformat()},
            "unsigned_events": size - (latest.size if latest else 0),
            "unstamped_checkpoints": unstamped}


def check(home: Home, progress: Callable[[int, int], None] | None = None) -> LogReport:
    key = verifier(home)
    roots = tsa_roots(home)
    with home.engine.connect() as conn:
        report = verify_log(conn, key, roots=roots, progress=progress)
        report.items, problems = check_contexts(conn)
    report.problems += problems
    return report
