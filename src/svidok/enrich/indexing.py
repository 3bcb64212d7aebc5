"""Making search documents of enriched items, from what the enrichers stored.

The runner calls :func:`index_items` in the transaction that stores a group's runs, for
every item one of them changed; the document is built from the database, so it is the
same whether one enricher ran again or all of them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from svidok.db.bulk import chunks
from svidok.db.schema import artifacts, item_annotations, items
from svidok.enrich.storing import Stored
from svidok.enrich.working import TEXT_ROLES
from svidok.search import SearchDocument, index_documents

_KINDS = ("title", "language", "place", "date", "name", "violation")


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _ancestors(conn: Connection, rows: dict[int, Any]) -> dict[int, Any]:
    """Every ancestor of the given items (their containers and chats), by id."""
    known = dict(rows)
    wanted = {r.parent_id for r in rows.values() if r.parent_id and r.parent_id not in known}
    while wanted:
        found = {}
        for part in chunks(sorted(wanted)):
            for r in conn.execute(select(items.c.id, items.c.parent_id, items.c.kind,
                                         items.c.original_name).where(items.c.id.in_(part))):
                found[r.id] = r
        known.update(found)
        wanted = {r.parent_id for r in found.values()
                  if r.parent_id and r.parent_id not in known}
    return known


def _source_and_channel(item_id: int, known: dict[int, Any]) -> tuple[int | None, str | None]:
    row = known[item_id]
    channel = None
    seen = {item_id}
    while row.parent_id is not None and row.parent_id in known and row.parent_id not in seen:
        seen.add(row.parent_id)
        row = known[row.parent_id]
        if channel is None and row.kind == "chat":
            channel = row.original_name
    return (None if row.id == item_id else row.id), channel


def search_documents(conn: Connection, item_ids: Sequence[int]) -> list[SearchDocument]:
    from svidok.enrich.places import place, spellings

    rows: dict[int, Any] = {}
    texts: dict[int, list[str]] = defaultdict(list)
    notes: dict[int, list[Any]] = defaultdict(list)
    for part in chunks(sorted(item_ids)):
        for r in conn.execute(select(items.c.id, items.c.parent_id, items.c.kind,
                                     items.c.original_name, items.c.media_type,
                                     items.c.occurred_at).where(items.c.id.in_(part))):
            rows[r.id] = r
        for item_id, content in conn.execute(
                select(artifacts.c.item_id, artifacts.c.content)
                .where(artifacts.c.item_id.in_(part), artifacts.c.role.in_(TEXT_ROLES))
                .order_by(artifacts.c.role.desc(), artifacts.c.id)):  # "text" before "ocr-text"
            if content:
                texts[item_id].append(content)
        for n in conn.execute(
                select(item_annotations.c.item_id, item_annotations.c.kind,
                       item_annotations.c.value, item_annotations.c.data)
                .where(item_annotations.c.item_id.in_(part),
                       item_annotations.c.kind.in_(_KINDS),
                       item_annotations.c.state != "rejected")
                .order_by(item_annotations.c.id)):
            notes[n.item_id].append(n)
    known = _ancestors(conn, rows)
    docs = []
    for item_id in sorted(rows):
        r = rows[item_id]
        mine = notes[item_id]
        by_kind: dict[str, list[Any]] = defaultdict(list)
        for n in mine:
            by_kind[n.kind].append(n)
        place_ids = tuple(dict.fromkeys(int(n.value) for n in by_kind["place"]))
        place_names: set[str] = set()
        for geonameid in place_ids:
            found = place(geonameid)
            if found is not None:
                for name in (found.name, found.name_uk, found.name_ru):
                    if name:
                        place_names.add(name)
                        place_names |= spellings(name)
        names = tuple(dict.fromkeys(
            str(json.loads(n.data).get("text", n.value)) if n.data else n.value
            for n in by_kind["name"]))
        dates = tuple(dict.fromkeys(
            (_day(first), _day(last)) for first, _, last in
            (n.value.partition("/") for n in by_kind["date"])))
        titles = [n.value for n in by_kind["title"]]
        languages = [n.value for n in by_kind["language"]]
        source_id, channel = _source_and_channel(item_id, known)
        docs.append(SearchDocument(
            item_id=item_id, title=titles[0] if titles else r.original_name,
            text="\n\n".join(texts[item_id]), names=names, places=place_ids,
            place_names=tuple(sorted(place_names)),
            language=languages[0] if languages else None, kind=r.kind,
            media_type=r.media_type, source_id=source_id, channel=channel,
            occurred_at=r.occurred_at, dates=dates,
            violations=tuple(dict.fromkeys(n.value for n in by_kind["violation"]))))
    return docs


def index_items(conn: Connection, stored: Stored) -> int:
    """The runner's hook: (re)index every item a group changed."""
    if not stored.changed_items:
        return 0
    docs = search_documents(conn, sorted(stored.changed_items))
    index_documents(conn, docs)
    return len(docs)
