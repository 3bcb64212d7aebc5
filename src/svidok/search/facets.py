"""Facets: how many hits have each value, and filtering by a value.

Every facet value of a document is a row of search_facets (item, facet, value); the counts
are one GROUP BY over the rows of the hits, on both backends. Counting walks each hit's
rows, so a query matching half the archive would cost seconds: past FACET_CAP hits the
counts are of the first FACET_CAP hits the index yields (in no ranked order), and the
results say so (``facets_capped``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from svidok.search.documents import MAX_DAY, MIN_DAY
from svidok.search.query import Filters

FACETS = ("source", "channel", "kind", "media_type", "language", "place", "year",
          "violation")
FACET_CAP = 20_000
VALUES_PER_FACET = 50


def conditions(filters: Filters, item: str) -> tuple[list[str], dict[str, Any]]:
    """SQL conditions on the item id expression ``item`` and their parameters.

    Correlated EXISTS on the primary key: its cost grows with the hits, not with how
    common the value is (language 'uk' is on a third of the archive)."""
    sql: list[str] = []
    params: dict[str, Any] = {}
    for n, (facet, value) in enumerate(filters.facet_values()):
        # Only names made here go into the text; the values are bound parameters.
        sql.append(f"EXISTS (SELECT 1 FROM search_facets sf{n} WHERE sf{n}.item_id = {item} "  # noqa: S608
                   f"AND sf{n}.facet = :facet{n} AND sf{n}.value = :value{n})")
        params[f"facet{n}"] = facet
        params[f"value{n}"] = value
    if filters.dated:
        sql.append(f"EXISTS (SELECT 1 FROM search_dates sd WHERE sd.item_id = {item} "  # noqa: S608
                   "AND sd.last_day >= :day_from AND sd.first_day <= :day_to)")
        params["day_from"] = (MIN_DAY if filters.date_from is None
                              else filters.date_from.toordinal())
        params["day_to"] = MAX_DAY if filters.date_to is None else filters.date_to.toordinal()
    return sql, params


def grouped(rows: Iterable[Any]) -> dict[str, list[tuple[str, int]]]:
    """(facet, value, count) rows as the most frequent values of each facet."""
    out: dict[str, list[tuple[str, int]]] = {facet: [] for facet in FACETS}
    for facet, value, count in rows:
        out.setdefault(facet, []).append((value, int(count)))
    for values in out.values():
        values.sort(key=lambda vc: (-vc[1], vc[0]))
        del values[VALUES_PER_FACET:]
    return out
