"""The index on SQLite: an FTS5 table (rowid = item id) beside the side tables.

FTS5 is given folded text (search_fold: its own remove_diacritics folds Latin letters
only, and ё, й, ї must fold too), so it stores a folded copy; snippets come from the text
as written, kept in search_documents.

The match expression is built from folded terms, every alternative a double-quoted FTS5
string (quotes inside doubled), joined with OR, AND and NOT: FTS5 reads it as strings,
never as syntax. FTS5's own tokenizer then splits and folds each string as it did the
text. The rank is bm25 with the column weights set by the migration.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import Connection, text

from svidok.search import facet_sets
from svidok.search.documents import Prepared, SearchError, search_fold
from svidok.search.facets import FACET_CAP, conditions
from svidok.search.query import Filters, Query, Term


def _quoted(phrase: tuple[str, ...]) -> str:
    return '"' + " ".join(phrase).replace('"', '""') + '"'


def _term(term: Term) -> str:
    return "(" + " OR ".join(_quoted(p) for p in term.alternatives) + ")"


def match_expression(terms: Sequence[Term]) -> str:
    return " AND ".join(_term(t) for t in terms)


def check_index(conn: Connection) -> None:
    found = conn.execute(text(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'search_fts'")).first()
    if found is None:
        raise SearchError("the search index (table search_fts) is missing: run 'svidok "
                          "init' to bring the database up to date")


def remove(conn: Connection, item_ids: Sequence[int]) -> None:
    # The ids as one JSON array: one statement per table, whatever their number.
    ids = {"ids": json.dumps([int(i) for i in item_ids])}
    for sql in ("DELETE FROM search_fts WHERE rowid IN (SELECT value FROM json_each(:ids))",
                "DELETE FROM search_facets WHERE item_id IN "
                "(SELECT value FROM json_each(:ids))",
                "DELETE FROM search_facet_sets WHERE item_id IN "
                "(SELECT value FROM json_each(:ids))",
                "DELETE FROM search_dates WHERE item_id IN (SELECT value FROM json_each(:ids))",
                "DELETE FROM search_documents WHERE item_id IN "
                "(SELECT value FROM json_each(:ids))"):
        conn.execute(text(sql), ids)


def insert(conn: Connection, rows: Sequence[Prepared]) -> None:
    # Driver SQL with tuples: executemany as pysqlite does it, without per-row binding work.
    conn.exec_driver_sql(
        "INSERT INTO search_documents (item_id, title, kind, language, media_type, "
        "source_id, channel, occurred_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(p.item_id, p.document.title, p.document.kind, p.document.language,
          p.document.media_type, p.document.source_id, p.document.channel,
          _timestamp(p), p.body) for p in rows])
    conn.exec_driver_sql(
        "INSERT INTO search_fts (rowid, title, body, names, places, lemmas) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(p.item_id, search_fold(p.title), search_fold(p.body), search_fold(p.names),
          search_fold(p.places), p.lemmas) for p in rows])
    facets = [(p.item_id, f, v) for p in rows for f, v in p.facets]
    if facets:
        conn.exec_driver_sql(
            "INSERT INTO search_facets (item_id, facet, value) VALUES (?, ?, ?)", facets)
        facet_sets.store(conn, [(p.item_id, p.facets) for p in rows])
    dates = [(p.item_id, a, b) for p in rows for a, b in p.dates]
    if dates:
        conn.exec_driver_sql(
            "INSERT INTO search_dates (item_id, first_day, last_day) VALUES (?, ?, ?)", dates)


def _timestamp(p: Prepared) -> str | None:
    # As SQLAlchemy's DateTime stores it on SQLite, so the Core reads elsewhere agree.
    moment = p.document.occurred_at
    if moment is None:
        return None
    naive = moment.astimezone(UTC).replace(tzinfo=None)
    return naive.isoformat(sep=" ", timespec="microseconds")


def _candidates(query: Query, filters: Filters) -> tuple[str, str, dict[str, Any]]:
    """FROM and WHERE of the hits, the id expression, and parameters."""
    where, params = conditions(filters, "{id}")
    if query.required:
        params["match"] = match_expression(query.required)
        if query.excluded:
            params["match"] += " NOT (" + " OR ".join(map(_term, query.excluded)) + ")"
        ident = "search_fts.rowid"
        source = "search_fts"
        where.insert(0, "search_fts MATCH :match")
    else:
        ident = "search_documents.item_id"
        source = "search_documents"
        if query.excluded:
            params["match"] = " OR ".join(map(_term, query.excluded))
            where.append("search_documents.item_id NOT IN "
                         "(SELECT rowid FROM search_fts WHERE search_fts MATCH :match)")
    clause = " AND ".join(w.replace("{id}", ident) for w in where) or "1 = 1"
    return f"FROM {source} WHERE {clause}", ident, params


def ranked(conn: Connection, query: Query, filters: Filters, limit: int, offset: int
           ) -> tuple[int, list[tuple[int, float]]]:
    body, ident, params = _candidates(query, filters)
    page = params | {"limit": limit, "offset": offset}
    # Our own fragments; every value in them is a bound parameter.
    if query.required:
        # bm25 is lower for better matches; the hit's rank is its negation, higher better.
        # The item id breaks ties (reposts rank alike), so paging is stable.
        # The total comes with the page, from a window over the same matches: every match
        # is found and ranked for the ORDER BY anyway, and a count(*) of its own found
        # them all again (for common words that took as long again as the ranking).
        rows = conn.execute(text(
            f"SELECT {ident}, -search_fts.rank, count(*) OVER () {body} "
            f"ORDER BY search_fts.rank, {ident} LIMIT :limit OFFSET :offset"), page).all()
        if rows:
            total = int(rows[0][2])
        else:  # no match, or none left past the offset: only a count tells which
            total = conn.execute(text(f"SELECT count(*) {body}"), params).scalar_one() \
                if offset else 0
        return total, [(int(i), float(r)) for i, r, _ in rows]
    # No words: the newest items first, down the primary key. Counted apart: a window would
    # read every item before giving the first.
    total = conn.execute(text(f"SELECT count(*) {body}"), params).scalar_one()
    rows = conn.execute(text(f"SELECT {ident}, 0.0 {body} ORDER BY {ident} DESC "
                             "LIMIT :limit OFFSET :offset"), page).all()
    return total, [(int(i), float(r)) for i, r in rows]


def facet_counts(conn: Connection, query: Query, filters: Filters) -> list[Any]:
    body, ident, params = _candidates(query, filters)
    # CROSS JOIN keeps SQLite's loop order: for each hit, its set by primary key.
    return facet_sets.counts(conn, f"SELECT {ident} {body} LIMIT {FACET_CAP}", params,
                             join="CROSS JOIN")
