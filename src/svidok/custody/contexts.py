"""The locker's records checked against what the custody log committed to.

Every capture and sighting event carries the SHA-256 of its capture context (capture.py):
where the file was, its file-system times, who collected it, on which host, when. Here
each stored item and each sighting is read back from the locker, its context recomputed,
and compared with the logged one. An edited path, collector or capture time in the
records is then named, though the records themselves are not in the tree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, select

from svidok.custody.capture import context_digest
from svidok.custody.events import sha_key
from svidok.custody.proofs import Event
from svidok.db.schema import custody_events, items, sightings

CHUNK = 1000  # items looked up per query
MAX_NAMED = 20

_ITEM_COLUMNS = ("id", "sha256", "captured_at", "batch_id", "root", "rel_path_bytes",
                 "original_name", "size", "mtime_ns", "ctime_ns", "atime_ns", "collector",
                 "note", "host", "svidok_version", "record_sha256")


def check_contexts(conn: Connection,
                   progress: Callable[[int], None] | None = None) -> tuple[int, list[str]]:
    """(items checked, problems): every stored item has a capture whose context is the
    item's, and every sighting's context was logged."""
    problems: list[str] = []
    checked = 0
    query = (select(*(items.c[name] for name in _ITEM_COLUMNS))
             .where(items.c.state == "stored").order_by(items.c.id))
    # Through SQLAlchemy, not the driver's cursor: the times must come back as datetimes.
    for part in conn.execution_options(yield_per=CHUNK).execute(query).mappings().partitions():
        rows = [dict(row) for row in part]
        _check_chunk(conn, rows, problems)
        checked += len(rows)
        if progress is not None:
            progress(checked)
    if len(problems) > MAX_NAMED:
        problems[MAX_NAMED:] = [f"... and {len(problems) - MAX_NAMED} more items or "
                                "sightings that differ from the custody log"]
    return checked, problems


def _check_chunk(conn: Connection, rows: Sequence[dict[str, Any]], problems: list[str]) -> None:
    # An item is named in the log by its original's hash, or its record's when it has no
    # bytes of its own (a message inside a result.json).
    by_sha = {row["sha256"] or row["record_sha256"]: row for row in rows}
    captures: dict[str, str | None] = {}
    seen: dict[str, set[str]] = defaultdict(set)
    keys = sorted({sha_key(sha) for sha in by_sha})
    for seq, record in conn.execute(select(custody_events.c.seq, custody_events.c.record)
                                    .where(custody_events.c.sha_key.in_(keys))
                                    .order_by(custody_events.c.seq)):
        event = Event(seq, bytes(record))
        sha = event.sha256
        if sha not in by_sha:
            continue
        context = event.body.get("context")
        if event.action == "capture" and sha not in captures:
            captures[sha] = context if isinstance(context, str) else None
        elif event.action == "sighting" and isinstance(context, str):
            seen[sha].add(context)
    for sha, row in by_sha.items():
        if sha not in captures:
            problems.append(f"item {row['id']} has no capture event in the custody log")
        elif captures[sha] != context_digest(row, row["captured_at"]):
            problems.append(f"item {row['id']}: its capture context (path, file times, "
                            "collector, note, host or capture time) differs from what its "
                            "capture event recorded")
    item_ids = {row["id"]: row["sha256"] or row["record_sha256"] for row in rows}
    for sighting in conn.execute(select(sightings).where(
            sightings.c.item_id.in_(sorted(item_ids)))).mappings():
        sha = item_ids[sighting["item_id"]]
        if context_digest(dict(sighting), sighting["seen_at"]) not in seen[sha]:
            problems.append(f"sighting {sighting['id']} of item {sighting['item_id']} differs "
                            "from what its sighting event recorded")
