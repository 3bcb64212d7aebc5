"""The index on PostgreSQL: a 'simple' tsvector beside the text, under a GIN index.

The text is folded in Python (search_fold: case, and diacritics as FTS5 removes them)
before to_tsvector, rather than through the unaccent extension: the same folding as on
SQLite, and no extension for an administrator to install with superuser rights. Weights:
A title, B names and places, C text, D lemmas.

Each alternative of a term is a bound parameter of phraseto_tsquery; the terms are joined
with the tsquery operators && || !! in SQL written here, so nothing typed becomes syntax.
The tsquery is computed once, as text, and handed to the searches as a parameter, so the
planner sees a constant it can take to the GIN index.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text

from svidok.search import facet_sets
from svidok.search.documents import WORD, Prepared, SearchError, search_fold
from svidok.search.facets import FACET_CAP, conditions
from svidok.search.query import Filters, Query, Term

# PostgreSQL refuses a tsvector over 1 MB; texts are cut to stay under this estimate.
MAX_TSVECTOR_BYTES = 900_000

INSERT = (
    "INSERT INTO search_documents (item_id, title, kind, language, media_type, source_id, "
    "channel, occurred_at, body, tsv) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, "
    "setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'C')"
    " || setweight(to_tsvector('simple', %s), 'B') || setweight(to_tsvector('simple', %s), "
    "'D'))")


def check_index(conn: Connection) -> None:
    found = conn.execute(text("SELECT to_regclass('search_documents') IS NOT NULL")).scalar()
    if not found:
        raise SearchError("the search index (table search_documents) is missing: run "
                          "'svidok init' to bring the database up to date")


def remove(conn: Connection, item_ids: Sequence[int]) -> None:
    ids = {"ids": [int(i) for i in item_ids]}
    for sql in ("DELETE FROM search_facets WHERE item_id = ANY(:ids)",
                "DELETE FROM search_facet_sets WHERE item_id = ANY(:ids)",
                "DELETE FROM search_dates WHERE item_id = ANY(:ids)",
                "DELETE FROM search_documents WHERE item_id = ANY(:ids)"):
        conn.execute(text(sql), ids)


def _bounded(folded: str) -> str:
    """The folded text, cut so its tsvector stays under PostgreSQL's limit: each distinct
    word costs its bytes and a header, each position two bytes (at most 256 kept)."""
    while True:
        counts = Counter(WORD.findall(folded))
        size = sum(len(w.encode()) + 8 + 2 * min(n, 256) for w, n in counts.items())
        if size <= MAX_TSVECTOR_BYTES:
            return folded
        folded = folded[: int(len(folded) * MAX_TSVECTOR_BYTES / size * 0.9)]


def insert(conn: Connection, rows: Sequence[Prepared]) -> None:
    conn.exec_driver_sql(INSERT, [
        (p.item_id, p.document.title, p.document.kind, p.document.language,
         p.document.media_type, p.document.source_id, p.document.channel,
         p.document.occurred_at, p.body, search_fold(p.title), _bounded(search_fold(p.body)),
         search_fold(p.names + "\n" + p.places), p.lemmas) for p in rows])
    facets = [(p.item_id, f, v) for p in rows for f, v in p.facets]
    if facets:
        conn.exec_driver_sql(
            "INSERT INTO search_facets (item_id, facet, value) VALUES (%s, %s, %s)", facets)
        facet_sets.store(conn, [(p.item_id, p.facets) for p in rows])
    dates = [(p.item_id, a, b) for p in rows for a, b in p.dates]
    if dates:
        conn.exec_driver_sql(
            "INSERT INTO search_dates (item_id, first_day, last_day) VALUES (%s, %s, %s)",
            dates)


def _tsquery_sql(terms: Sequence[Term], params: dict[str, Any]) -> str:
    parts = []
    for term in terms:
        alternatives = []
        for phrase in term.alternatives:
            name = f"a{len(params)}"
            params[name] = " ".join(phrase)
            alternatives.append(f"phraseto_tsquery('simple', :{name})")
        parts.append("(" + " || ".join(alternatives) + ")")
    return " && ".join(parts)


def tsquery(conn: Connection, terms: Sequence[Term]) -> str:
    params: dict[str, Any] = {}
    sql = _tsquery_sql(terms, params)
    return str(conn.execute(text(f"SELECT CAST(({sql}) AS text)"), params).scalar_one())


def _candidates(conn: Connection, query: Query, filters: Filters
                ) -> tuple[str, dict[str, Any]]:
    where, params = conditions(filters, "d.item_id")
    if query.required:
        params["query"] = tsquery(conn, query.required)
        where.insert(0, "d.tsv @@ CAST(:query AS tsquery)")
    if query.excluded:
        # One tsquery per excluded term: "none of them", whatever the others hold.
        params["excluded"] = tsquery(conn, [Term(tuple(
            p for t in query.excluded for p in t.alternatives))])
        where.append("NOT (d.tsv @@ CAST(:excluded AS tsquery))")
    clause = " AND ".join(where) or "TRUE"
    return f"FROM search_documents d WHERE {clause}", params


def ranked(conn: Connection, query: Query, filters: Filters, limit: int, offset: int
           ) -> tuple[int, list[tuple[int, float]]]:
    body, params = _candidates(conn, query, filters)
    page = params | {"limit": limit, "offset": offset}
    if query.required:
        # The total comes with the page, from a window over the ranked hits: ranking reads
        # every hit's row and tsvector anyway, and a count(*) of its own read every row
        # again (for common words, as long again as the ranking). The hits are
        # materialised so that ts_rank runs once per hit, below the window, and the window
        # keeps ids and scores rather than whole rows.
        rows = conn.execute(text(
            f"WITH hits AS MATERIALIZED (SELECT d.item_id, "  # noqa: S608
            f"ts_rank(d.tsv, CAST(:query AS tsquery)) AS score {body}) "
            "SELECT item_id, score, count(*) OVER () FROM hits "
            "ORDER BY score DESC, item_id DESC LIMIT :limit OFFSET :offset"), page).all()
        if rows:
            total = int(rows[0][2])
        else:  # no hit, or none left past the offset: only a count tells which
            total = int(conn.execute(text(f"SELECT count(*) {body}"), params).scalar_one()) \
                if offset else 0
        return total, [(int(i), float(r)) for i, r, _ in rows]
    # No words: the newest items first. Counted apart: a window would read every item
    # before giving the first.
    total = conn.execute(text(f"SELECT count(*) {body}"), params).scalar_one()
    rows = conn.execute(text(
        f"SELECT d.item_id, 0.0 AS score {body} ORDER BY d.item_id DESC "
        "LIMIT :limit OFFSET :offset"), page).all()
    return int(total), [(int(i), float(r)) for i, r in rows]


def facet_counts(conn: Connection, query: Query, filters: Filters) -> list[Any]:
    body, params = _candidates(conn, query, filters)
    return facet_sets.counts(conn, f"SELECT d.item_id {body} LIMIT {FACET_CAP}", params)
