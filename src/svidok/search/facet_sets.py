"""Facet sets: each item's facet values as one row of numbers, for counting.

search_facets holds one row per (item, facet, value), which filters look up by value.
Counting the values of 20,000 hits by grouping those rows sorted some 160,000 rows of text.
Here each (facet, value) is numbered once (facet_values) and an item's numbers are stored
together (search_facet_sets), so counting reads one row per hit and adds up in numpy: less
than half the time at a million items (docs/search.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from weakref import WeakKeyDictionary, WeakSet

import numpy as np
from sqlalchemy import Connection, Engine, bindparam, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from svidok.db.schema import facet_values, search_facet_sets

NUMBER = np.dtype("<u4")  # as stored: little-endian, whatever the machine
CHUNK = 1_000  # values per lookup; (facet, value) pairs take two bound parameters each

Pair = tuple[str, str]


def pack(numbers: Iterable[int]) -> bytes:
    return np.array(sorted(set(numbers)), dtype=NUMBER).tobytes()


def numbered(conn: Connection, pairs: set[Pair]) -> dict[Pair, int]:
    """The number of each (facet, value), numbering those new to the archive."""
    found = _numbers_of(conn, pairs)
    missing = pairs - found.keys()
    if missing:
        _numbering.add(conn)
        # Another indexer may number the same value first: its number is the one kept.
        dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
        conn.execute(dialect.insert(facet_values).on_conflict_do_nothing(),
                     [{"facet": f, "value": v} for f, v in sorted(missing)])
        found |= _numbers_of(conn, missing)
    return found


def _numbers_of(conn: Connection, pairs: set[Pair]) -> dict[Pair, int]:
    ordered = sorted(pairs)
    found: dict[Pair, int] = {}
    for start in range(0, len(ordered), CHUNK):
        part = ordered[start:start + CHUNK]
        found.update(((facet, value), number) for number, facet, value in conn.execute(
            select(facet_values.c.id, facet_values.c.facet, facet_values.c.value)
            .where(tuple_(facet_values.c.facet, facet_values.c.value).in_(part))))
    return found


def store(conn: Connection, sets: Sequence[tuple[int, Sequence[Pair]]]) -> None:
    """Each (item id, its facet values) as the item's set; the caller removed the old ones."""
    pairs = {pair for _, facets in sets for pair in facets}
    if not pairs:
        return
    numbers = numbered(conn, pairs)
    conn.execute(search_facet_sets.insert(), [
        {"item_id": item_id, "value_ids": pack(numbers[pair] for pair in facets)}
        for item_id, facets in sets if facets])


def counts(conn: Connection, hits: str, params: dict[str, Any], join: str = "JOIN"
           ) -> list[tuple[str, str, int]]:
    """(facet, value, hits) of the hits: ``hits`` is the backend's query of their item ids,
    its values bound in ``params``; ``join`` how it joins them to their sets."""
    result = conn.execute(text(
        f"WITH hits(id) AS MATERIALIZED ({hits}) SELECT s.value_ids "  # noqa: S608
        f"FROM hits {join} search_facet_sets s ON s.item_id = hits.id"), params)
    # The driver's rows as they are: one blob each, and SQLAlchemy's row objects cost more
    # than the counting (20,000 of them for a common word).
    blobs = [blob for (blob,) in result.cursor.fetchall()]
    result.close()
    if not blobs:
        return []
    numbers, tallies = np.unique(np.frombuffer(b"".join(blobs), dtype=NUMBER),
                                 return_counts=True)
    names = labels(conn, numbers.tolist())
    return [(*names[number], count)
            for number, count in zip(numbers.tolist(), tallies.tolist(), strict=True)]


# Per engine, the (facet, value) of each number read. A committed number never changes and
# is never handed out again, and a connection sees no number uncommitted but its own: what
# any connection that numbered nothing reads may be kept (a migration forgets it all).
_read: WeakKeyDictionary[Engine, dict[int, Pair]] = WeakKeyDictionary()
_numbering: WeakSet[Connection] = WeakSet()


_LABELS = select(facet_values.c.id, facet_values.c.facet, facet_values.c.value) \
    .where(facet_values.c.id.in_(bindparam("ids", expanding=True)))


def labels(conn: Connection, numbers: list[int]) -> dict[int, Pair]:
    """The (facet, value) of each number."""
    known = _read.setdefault(conn.engine, {})
    missing = [n for n in numbers if n not in known]
    found: dict[int, Pair] = {}
    for start in range(0, len(missing), CHUNK):
        found.update((number, (facet, value)) for number, facet, value in conn.execute(
            _LABELS, {"ids": missing[start:start + CHUNK]}))
    if conn not in _numbering:
        known.update(found)
    return {n: known.get(n) or found[n] for n in numbers}


def forget(engine: Engine) -> None:
    """Drop what was read through ``engine``: a migration may have numbered anew."""
    _read.pop(engine, None)
