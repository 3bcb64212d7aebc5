"""Full-text search with facets over items: SQLite FTS5 or PostgreSQL full text.

The enrichment runner hands each item to ``index_documents`` as a SearchDocument (its text,
names, places with every spelling, language, dates, violation types); ``search`` finds
items by words, phrases and exclusions, filtered and counted by facets. A place written in
one script is found in another two ways: a document carries all its places' spellings, and
a query word naming a place is widened by ``expand`` to that place's spellings.
"""

from svidok.search.api import facet_label, find, place_named
from svidok.search.documents import (
    MAX_TEXT_CHARS,
    SearchDocument,
    SearchError,
    SearchQueryError,
)
from svidok.search.engine import Hit, Results, index_documents, remove_documents, search
from svidok.search.facets import FACET_CAP, FACETS
from svidok.search.query import Filters

__all__ = ["FACETS", "FACET_CAP", "MAX_TEXT_CHARS", "Filters", "Hit", "Results",
           "SearchDocument", "SearchError", "SearchQueryError", "facet_label", "find",
           "index_documents", "place_named", "remove_documents", "search"]
