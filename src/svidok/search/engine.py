"""Indexing and searching, on whichever backend the connection is.

Everything runs inside the caller's transaction: the enrichment runner indexes an item in
the same transaction that records its enrichments, so the index never holds half an item.
An upsert is a delete and an insert (FTS5 has no update in place worth having).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from weakref import WeakSet

from sqlalchemy import Connection, Engine, bindparam, column, select, table

from svidok.db.schema import UTC
from svidok.search import postgres_fts, sqlite_fts
from svidok.search.documents import SearchDocument, SearchError, SearchQueryError, prepare
from svidok.search.facets import FACET_CAP, grouped
from svidok.search.query import Expand, Filters, parse
from svidok.search.snippets import Marker, snippet

MAX_LIMIT = 1000
MAX_OFFSET = 100_000
NO_FILTERS = Filters()
_index_seen: WeakSet[Engine] = WeakSet()  # engines whose database has the search index

_documents = table("search_documents", column("item_id"), column("title"), column("kind"),
                   column("occurred_at", UTC), column("language"), column("body"))

# Built once (see svidok.access.sessions).
_HITS = select(_documents).where(_documents.c.item_id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True, slots=True)
class Hit:
    item_id: int
    rank: float  # higher is better; comparable within one search only
    snippet: str
    marks: tuple[tuple[int, int], ...]  # (start, end) of the matched words in the snippet
    title: str | None
    kind: str
    occurred_at: datetime | None
    language: str | None


@dataclass(frozen=True, slots=True)
class Results:
    total: int
    hits: list[Hit]
    # facet -> (value, count), most frequent first; None unless asked for
    facets: dict[str, list[tuple[str, int]]] | None
    facets_capped: bool = False  # counted over the first FACET_CAP hits only


def _backend(conn: Connection) -> ModuleType:
    name = conn.dialect.name
    if name == "sqlite":
        return sqlite_fts
    if name == "postgresql":
        return postgres_fts
    raise SearchError(f"no search index for the {name} database")


def index_documents(conn: Connection, docs: Sequence[SearchDocument]) -> None:
    """Put documents in the index, replacing what it held for their items."""
    if not docs:
        return
    backend = _backend(conn)
    # The last document of an item wins, as if they had been indexed one after another.
    latest = {doc.item_id: doc for doc in docs}
    rows = [prepare(doc) for doc in latest.values()]
    backend.check_index(conn)
    backend.remove(conn, list(latest))
    backend.insert(conn, rows)


def remove_documents(conn: Connection, item_ids: Sequence[int]) -> None:
    if item_ids:
        _backend(conn).remove(conn, list(item_ids))


def search(conn: Connection, query: str, filters: Filters = NO_FILTERS, limit: int = 20,
           offset: int = 0, facets: bool = False, expand: Expand | None = None) -> Results:
    """Items matching the query and filters, best first, with facet counts if asked.

    An empty query lists every item the filters let through, newest item first."""
    if not 0 < limit <= MAX_LIMIT or not 0 <= offset <= MAX_OFFSET:
        raise SearchQueryError(f"limit must be 1 to {MAX_LIMIT} and offset 0 to {MAX_OFFSET}")
    backend = _backend(conn)
    if conn.engine not in _index_seen:
        # Once there, the index stays (a migration does not remove it): one query less on
        # every search after the first (3 % of a search page's time).
        backend.check_index(conn)
        _index_seen.add(conn.engine)
    parsed = parse(query, expand)
    total, ranked = backend.ranked(conn, parsed, filters, limit, offset)
    ids = [item_id for item_id, _ in ranked]
    rows = {r.item_id: r for r in conn.execute(_HITS, {"ids": ids})} if ids else {}
    wanted = Marker(parsed.words())
    hits = []
    for item_id, rank in ranked:
        row = rows[item_id]
        shown = snippet(row.body, wanted)
        hits.append(Hit(item_id, rank, shown.text, shown.marks, row.title, row.kind,
                        row.occurred_at, row.language))
    counts = grouped(backend.facet_counts(conn, parsed, filters)) if facets else None
    return Results(total, hits, counts, facets and total > FACET_CAP)
