"""An item's place among its containers: the parent chain up to the top (an export, an
e-mail, an archive) and the first of its children, for the item page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select

from svidok.db.schema import items

FIRST_CHILDREN = 20
# Containers nest a few levels (an archive in an e-mail in a mailbox); the cap only guards
# against a loop that a damaged database could hold.
MAX_DEPTH = 32

_COLUMNS = (items.c.id, items.c.parent_id, items.c.kind, items.c.original_name,
            items.c.locator, items.c.media_type)
# Built once, as every item page reads them (see svidok.access.sessions).
_ONE = select(*_COLUMNS).where(items.c.id == bindparam("id"))
_FIRST_CHILDREN = select(*_COLUMNS).where(items.c.parent_id == bindparam("parent_id")) \
    .order_by(items.c.id).limit(FIRST_CHILDREN)


def _entry(row: Any) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind, "media_type": row.media_type,
            "name": row.original_name or row.locator or row.kind, "locator": row.locator}


def family_of(conn: Connection, item_id: int, parent_id: int | None, child_count: int
              ) -> dict[str, Any]:
    """``ancestors`` from the top down to the parent, ``children`` (the first ones, by id)
    and ``child_count`` (as the caller counted them: svidok.locker.records.read_item)."""
    ancestors: list[dict[str, Any]] = []
    seen = {item_id}
    next_id = parent_id
    while next_id is not None and next_id not in seen and len(ancestors) < MAX_DEPTH:
        seen.add(next_id)
        row = conn.execute(_ONE, {"id": next_id}).first()
        if row is None:
            break
        ancestors.append(_entry(row))
        next_id = row.parent_id
    ancestors.reverse()
    children = [_entry(r) for r in conn.execute(_FIRST_CHILDREN, {"parent_id": item_id})] \
        if child_count else []
    return {"ancestors": ancestors, "children": children, "child_count": child_count}
