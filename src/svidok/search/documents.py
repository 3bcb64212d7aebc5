"""What the index is given about an item, and the rows made of it.

An item becomes five bodies of words (title, text, names, places, lemmas), facet rows and
date rows. The lemma column holds every dictionary form (pymorphy3, uk and ru) of the
Cyrillic words of the text that differs from the word itself, so «блокпосту» in a query
finds «блокпостах» in a text through «блокпост». FTS5 has no Cyrillic stemmer and the
'simple' PostgreSQL configuration none at all, so this column is what makes inflected
Ukrainian and Russian findable on both backends alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

from svidok.enrich.words import is_cyrillic, lemmas

# A text is indexed up to this many characters: a 300-page book fits, and a runaway
# extraction cannot make one document cost minutes or gigabytes.
MAX_TEXT_CHARS = 1 << 20
MAX_FIELD_CHARS = 64 * 1024  # title, and names or places all together
MAX_ITEMS = 1000  # names, places, violations and date ranges kept per document
# A mentioned range spanning more years than this gives no year facets (only its ends
# say anything about when).
MAX_YEARS_SPANNED = 10

MIN_DAY = date.min.toordinal()
MAX_DAY = date.max.toordinal()

# Letters (any script), digits, and apostrophes or hyphens inside words: svidok.enrich.words'
# rule, compiled here for findall, which is three times faster than walking Token objects.
WORD = re.compile(r"[^\W_](?:[\w’ʼ'`-]*[^\W_])?", re.UNICODE)


class SearchError(Exception):
    """The search index is missing or a query or document cannot be used; never quotes
    evidence text."""


class SearchQueryError(SearchError):
    """The query or its paging is not one Svidok can run (too long, too many words); the
    message says what the limit is."""


@dataclass(frozen=True, slots=True)
class SearchDocument:
    item_id: int
    title: str | None
    text: str  # the item's text; indexed up to MAX_TEXT_CHARS
    names: tuple[str, ...]  # organisations, units and people mentioned, as written
    places: tuple[int, ...]  # GeoNames ids of places mentioned
    place_names: tuple[str, ...]  # every spelling of those places, all scripts
    language: str | None
    kind: str  # items.kind: file, message, email, document, web-response ...
    media_type: str | None
    source_id: int | None  # the container or chat the item came from; None for a plain file
    channel: str | None  # the name of the chat or channel a message is in
    occurred_at: datetime | None  # when it happened, as the source says (aware)
    dates: tuple[tuple[date | None, date | None], ...]  # ranges the text mentions
    violations: tuple[str, ...]  # violation category ids suggested


@dataclass(frozen=True, slots=True)
class Prepared:
    """A document as rows: what both backends store."""

    item_id: int
    title: str
    body: str
    names: str
    places: str
    lemmas: str
    facets: tuple[tuple[str, str], ...]
    dates: tuple[tuple[int, int], ...]
    document: SearchDocument


# Combining marks left by NFKD: Latin, Cyrillic and the extended and supplementary
# diacritic blocks. A regular expression removes them at C speed.
_MARKS = re.compile("[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff"
                    "\u20d0-\u20ff\ufe20-\ufe2f]+")


def search_fold(text: str) -> str:
    """Case folded, compatibility forms and diacritics removed: é as e, й as и, ї as і,
    ё as е. Both backends index and query only text folded so: FTS5's own
    remove_diacritics folds Latin letters only, and PostgreSQL folds none."""
    return _MARKS.sub("", unicodedata.normalize("NFKD", text)).casefold()


@lru_cache(maxsize=200_000)
def word_lemmas(word: str, language: str | None) -> frozenset[str]:
    """Folded lemmas of a Cyrillic word other than the word itself; empty for others.

    Only dictionary words have lemmas here: pymorphy3's guess for an unknown word costs
    half a millisecond, paid for every new word of every text, and most unknown words are
    typos, slang or names. Places, whose inflected forms matter most, are found through the
    gazetteer's spellings instead (the places column).
    """
    if not is_cyrillic(word):
        return frozenset()
    folded = search_fold(word)
    return frozenset(f for f in map(search_fold, lemmas(word, language, guess=False))
                     if f != folded)


def prepare(doc: SearchDocument) -> Prepared:
    if doc.item_id <= 0:
        raise SearchError(f"item id {doc.item_id} is not a stored item's id")
    body = doc.text[:MAX_TEXT_CHARS]
    title = (doc.title or "")[:MAX_FIELD_CHARS]
    language = doc.language if doc.language in ("uk", "ru") else None
    found: set[str] = set()
    for word in set(WORD.findall(title)) | set(WORD.findall(body)):
        found |= word_lemmas(word, language)
    return Prepared(
        item_id=doc.item_id, title=title, body=body,
        names=_joined(doc.names), places=_joined(doc.place_names),
        lemmas=" ".join(sorted(found)), facets=facet_rows(doc), dates=date_rows(doc),
        document=doc)


def _joined(values: Iterable[str]) -> str:
    # One per line: FTS5 and PostgreSQL split words at the newline, so each stays whole.
    return "\n".join(list(values)[:MAX_ITEMS])[:MAX_FIELD_CHARS]


def facet_rows(doc: SearchDocument) -> tuple[tuple[str, str], ...]:
    rows: set[tuple[str, str]] = {("kind", doc.kind)}
    if doc.language:
        rows.add(("language", doc.language))
    if doc.media_type:
        rows.add(("media_type", doc.media_type))
    if doc.source_id is not None:
        rows.add(("source", str(doc.source_id)))
    if doc.channel:
        rows.add(("channel", doc.channel[:1000]))
    rows.update(("place", str(p)) for p in doc.places[:MAX_ITEMS])
    rows.update(("violation", v) for v in doc.violations[:MAX_ITEMS])
    rows.update(("year", str(y)) for y in _years(doc))
    return tuple(sorted(rows))


def _years(doc: SearchDocument) -> set[int]:
    years: set[int] = set()
    if doc.occurred_at is not None:
        years.add(_utc_day(doc.occurred_at).year)
    for first, last in doc.dates[:MAX_ITEMS]:
        if first is not None and last is not None:
            if 0 <= last.year - first.year <= MAX_YEARS_SPANNED:
                years.update(range(first.year, last.year + 1))
        else:
            years.update(d.year for d in (first, last) if d is not None)
    return years


def date_rows(doc: SearchDocument) -> tuple[tuple[int, int], ...]:
    rows: set[tuple[int, int]] = set()
    if doc.occurred_at is not None:
        day = _utc_day(doc.occurred_at).toordinal()
        rows.add((day, day))
    for first, last in doc.dates[:MAX_ITEMS]:
        if first is None and last is None:
            continue
        low = MIN_DAY if first is None else first.toordinal()
        high = MAX_DAY if last is None else last.toordinal()
        rows.add((min(low, high), max(low, high)))
    return tuple(sorted(rows))


def _utc_day(moment: datetime) -> date:
    if moment.tzinfo is None:
        raise SearchError("occurred_at must be an aware datetime (times in Svidok are UTC)")
    return moment.astimezone(UTC).date()
