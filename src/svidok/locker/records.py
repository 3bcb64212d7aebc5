"""Reading the locker's records: status figures, item listings and one item in full."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select

from svidok.db.schema import batches, items, originals, sightings, verifications
from svidok.home import Home, HomeError

ITEM_STATES = ("pending", "stored", "failed", "skipped")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _plain(row: Row[Any, *tuple[Any, ...]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row._mapping.items():
        if isinstance(value, datetime):
            out[key] = _iso(value)
        elif isinstance(value, bytes):
            out[key] = value.hex()
        else:
            out[key] = value
    return out


def ingest_running(home: Home) -> bool:
    try:
        with home.lock("ingest"):
            return False
    except HomeError:
        return True


def status(home: Home) -> dict[str, Any]:
    with home.engine.connect() as conn:
        by_state: dict[str, int] = {
            row.state: row.n for row in conn.execute(
                select(items.c.state, func.count().label("n")).group_by(items.c.state))}
        n_originals, n_bytes = conn.execute(
            select(func.count(), func.coalesce(func.sum(originals.c.size), 0))).one()
        n_sightings = conn.execute(select(func.count()).select_from(sightings)).scalar_one()
        by_kind: dict[str, int] = {
            row.kind: row.n for row in conn.execute(
                select(items.c.kind, func.count().label("n"))
                .where(items.c.state == "stored").group_by(items.c.kind))}
        last_batch = conn.execute(select(batches).order_by(batches.c.id.desc()).limit(1)).first()
        unfinished = conn.execute(
            select(batches.c.id, batches.c.roots, batches.c.state)
            .where(batches.c.state.in_(("interrupted", "running")))
            .order_by(batches.c.id)).all()
        last_check = conn.execute(
            select(verifications).order_by(verifications.c.id.desc()).limit(1)).first()
    running_now = ingest_running(home)
    # A batch still marked running while nobody holds the ingest lock was killed.
    interrupted = [r for r in unfinished if r.state == "interrupted" or not running_now]
    return {
        "home": str(home.settings.home),
        "ingest_running": running_now,
        "instance": home.instance_name,
        "database": "postgresql" if home.engine.dialect.name == "postgresql" else "sqlite",
        "items": {state: int(by_state.get(state, 0)) for state in ITEM_STATES},
        # Stored items by kind: files, and what importers read out of them.
        "kinds": {kind: int(n) for kind, n in sorted(by_kind.items())},
        "originals": int(n_originals),
        "bytes": int(n_bytes),
        "sightings": int(n_sightings),
        "last_batch": _plain(last_batch) if last_batch else None,
        "interrupted_batches": [{"id": r.id, "roots": r.roots} for r in interrupted],
        "last_verification": _plain(last_check) if last_check else None,
    }


LIST_COLUMNS = (items.c.id, items.c.state, items.c.kind, items.c.parent_id, items.c.media_type,
                items.c.size, items.c.original_name, items.c.rel_path, items.c.captured_at,
                items.c.occurred_at, items.c.batch_id, items.c.sha256, items.c.record_sha256,
                items.c.previous_id, items.c.error, items.c.warning)


def list_items(home: Home, *, state: str | None = None, batch: int | None = None,
               kind: str | None = None, parent: int | None = None,
               limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """A page of items, newest first, and how many match in all."""
    query = select(*LIST_COLUMNS)
    count = select(func.count()).select_from(items)
    for column, value in ((items.c.state, state), (items.c.batch_id, batch),
                          (items.c.kind, kind), (items.c.parent_id, parent)):
        if value is not None:
            query, count = query.where(column == value), count.where(column == value)
    with home.engine.connect() as conn:
        rows = conn.execute(query.order_by(items.c.id.desc()).limit(limit).offset(offset))
        return [_plain(r) for r in rows], int(conn.execute(count).scalar_one())


def find_item(home: Home, ref: str) -> dict[str, Any] | None:
    """One item by id or by (a prefix of at least 8 hex digits of) its SHA-256."""
    with home.engine.connect() as conn:
        return read_item(conn, home, ref)


# Built once, as every page reads them (see svidok.access.sessions).
_ITEM = select(items).where(items.c.id == bindparam("id"))
_ORIGINAL = select(originals).where(originals.c.sha256 == bindparam("sha256"))
_SIGHTINGS = select(sightings).where(sightings.c.item_id == bindparam("item_id")) \
    .order_by(sightings.c.id)
_CHILDREN = select(func.count()).select_from(items) \
    .where(items.c.parent_id == bindparam("parent_id"))
_NEXT_VERSIONS = select(items.c.id).where(
    items.c.source_key == bindparam("source_key"),
    items.c.previous_id == bindparam("previous_id")).order_by(items.c.id)


def read_item(conn: Connection, home: Home, ref: str) -> dict[str, Any] | None:
    """:func:`find_item` on the caller's connection, so a page reads one snapshot."""
    row = None
    if ref.isdigit() and int(ref) < 2**31:  # the id column is a 32-bit integer
        row = conn.execute(_ITEM, {"id": int(ref)}).first()
    if row is None and 8 <= len(ref) <= 64 and all(c in "0123456789abcdef"
                                                    for c in ref.lower()):
        found = conn.execute(select(items).where(
            items.c.sha256.startswith(ref.lower(), autoescape=True)).limit(2)).all()
        row = found[0] if len(found) == 1 else None
    if row is None:
        return None
    item = _plain(row)
    item["rel_path_bytes"] = row.rel_path_bytes.hex() if row.rel_path_bytes else None
    if row.sha256:
        original = conn.execute(_ORIGINAL, {"sha256": row.sha256}).first()
        item["original"] = _plain(original) if original else None
        item["blob_path"] = str(home.blobs.path_of(row.sha256))
    item["sightings"] = [_plain(s) for s in conn.execute(_SIGHTINGS, {"item_id": row.id})]
    item["record"] = json.loads(row.record) if row.record else None
    item["children"] = int(conn.execute(_CHILDREN, {"parent_id": row.id}).scalar_one())
    # Later versions of the same message point back at this one. They share its
    # source_key (an importer links a version only to the latest item of its key), and
    # that column is indexed: previous_id is not, and a scan of the items took 0.4 s
    # at a million (bench/web_app.py).
    item["next_versions"] = list(conn.scalars(_NEXT_VERSIONS, {
        "source_key": row.source_key, "previous_id": row.id})) \
        if row.source_key is not None else []
    return item
