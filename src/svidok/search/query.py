"""Queries: what a person types, parsed into terms, and the filters beside it.

Syntax: words are all required; "a quoted phrase" is required as written; a leading minus
(-word, -"a phrase") excludes. Each plain word becomes a term with alternatives, any of
which matches: the word, its lemmas (so «Макіївці» looks for «Макіївка» too), and the
spellings an ``expand`` function gives (a place named in one script, in all the others).
A phrase is not expanded: quotes mean "exactly these words".

The terms are folded here and handed to the backends as data: SQLite gets each alternative
as a double-quoted FTS5 string, PostgreSQL as a bound parameter of phraseto_tsquery, so no
character a person types can become query syntax or SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from svidok.search.documents import WORD, SearchQueryError, search_fold, word_lemmas

MAX_QUERY_CHARS = 1000
MAX_TERMS = 16
MAX_ALTERNATIVES = 64

Expand = Callable[[str], frozenset[str]]

# A chunk: an optional minus, then a quoted phrase (the closing quote may be missing) or
# a run of non-space characters.
_CHUNK = re.compile(r'(-?)(?:"([^"]*)"?|(\S+))')


@dataclass(frozen=True, slots=True)
class Filters:
    language: str | None = None
    place: int | None = None  # GeoNames id
    violation: str | None = None
    kind: str | None = None
    media_type: str | None = None
    source_id: int | None = None
    channel: str | None = None
    # A hit if the item happened, or speaks of a range that overlaps, within these days.
    date_from: date | None = None
    date_to: date | None = None

    def facet_values(self) -> list[tuple[str, str]]:
        pairs = [("language", self.language), ("kind", self.kind),
                 ("media_type", self.media_type), ("channel", self.channel),
                 ("violation", self.violation),
                 ("place", None if self.place is None else str(self.place)),
                 ("source", None if self.source_id is None else str(self.source_id))]
        return [(facet, value) for facet, value in pairs if value is not None]

    @property
    def dated(self) -> bool:
        return self.date_from is not None or self.date_to is not None


# An alternative is a phrase: folded words in order (usually one).
Phrase = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Term:
    alternatives: tuple[Phrase, ...]

    def words(self) -> frozenset[str]:
        return frozenset(w for phrase in self.alternatives for w in phrase)


@dataclass(frozen=True, slots=True)
class Query:
    required: tuple[Term, ...]
    excluded: tuple[Term, ...]

    @property
    def empty(self) -> bool:
        return not self.required and not self.excluded

    def words(self) -> frozenset[str]:
        """Every folded word a hit may contain: what a snippet marks."""
        out: frozenset[str] = frozenset()
        for term in self.required:
            out |= term.words()
        return out


def parse(text: str, expand: Expand | None = None) -> Query:
    if len(text) > MAX_QUERY_CHARS:
        raise SearchQueryError(f"the query is {len(text)} characters long; at most "
                          f"{MAX_QUERY_CHARS} are allowed")
    required: list[Term] = []
    excluded: list[Term] = []
    for match in _CHUNK.finditer(text):
        minus, phrase, plain = match.groups()
        target = excluded if minus else required
        if phrase is not None:
            words = _phrase(phrase)
            if words:
                target.append(Term((words,)))
            continue
        for word in WORD.findall(plain):
            target.append(_word_term(word, expand))
    if len(required) + len(excluded) > MAX_TERMS:
        raise SearchQueryError(f"the query has {len(required) + len(excluded)} words; at most "
                          f"{MAX_TERMS} are allowed")
    return Query(tuple(required), tuple(excluded))


def _phrase(text: str) -> Phrase:
    return tuple(search_fold(w) for w in WORD.findall(text))


def _word_term(word: str, expand: Expand | None) -> Term:
    alternatives: dict[Phrase, None] = {(search_fold(word),): None}
    for lemma in sorted(word_lemmas(word, None)):
        alternatives[(lemma,)] = None
    if expand is not None:
        for spelling in sorted(expand(word)):
            phrase = _phrase(spelling)
            if phrase:
                alternatives[phrase] = None
    return Term(tuple(alternatives)[:MAX_ALTERNATIVES])
