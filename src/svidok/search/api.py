"""Searching as people do it, for the CLI and the web app: places in any script.

:func:`find` is :func:`svidok.search.search` with a query word that names a place widened
to every spelling of it (Макіївка, Макеевка, Makiivka, Makeevka...), and
:func:`place_named` turns a name typed in a filter into the GeoNames id the index keeps.
:func:`facet_label` gives a facet value as a person reads it.
"""

from __future__ import annotations

from sqlalchemy import Connection

from svidok.search.engine import NO_FILTERS, Results, search
from svidok.search.query import Filters


def find(conn: Connection, query: str, filters: Filters = NO_FILTERS, *, limit: int = 20,
         offset: int = 0, facets: bool = False) -> Results:
    """Items matching the words, best first (see :func:`svidok.search.search`)."""
    from svidok.enrich.places import spellings

    return search(conn, query, filters, limit=limit, offset=offset, facets=facets,
                  expand=spellings)


def place_named(name: str) -> int | None:
    """The GeoNames id of the most populous place the name (any script, any case form)
    names; a number is taken as an id already. None when the gazetteer has no such place."""
    if name.isdigit():
        return int(name)
    from svidok.enrich.gazetteer import gazetteer
    from svidok.enrich.places import spellings

    g = gazetteer()
    ids = {entry.place.geonameid for key in spellings(name) for entry in g.index.get(key, ())}
    if not ids:
        return None
    return max(ids, key=lambda i: (g.places[i].population, -i))


def facet_label(facet: str, value: str) -> str:
    """A place's name for its id, a violation type's label for its id; else the value."""
    if facet == "place" and value.isdigit():
        from svidok.enrich.places import place

        found = place(int(value))
        return found.name if found is not None else value
    if facet == "violation":
        from svidok.enrich.violations import taxonomy

        labels = {c.id: c.labels["en"] for c in taxonomy()}
        return labels.get(value, value)
    return value
