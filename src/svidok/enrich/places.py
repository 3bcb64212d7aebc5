"""Places named in a text: each mention resolved to a GeoNames place with its oblast.

Matching is exact, never fuzzy: a word or a run of up to a few words is looked up in the
gazetteer (svidok.enrich.gazetteer) under its folded surface form and, for Cyrillic words,
under every lemma pymorphy3 allows («у Макіївці» → макіївка, «в Артемовске» → артемовск),
because the right lemma of a place name is among the parses but often not the first.
Latin words match folded spellings only; the gazetteer carries the transliterations.

What keeps ordinary words out:
- the first word must be capitalised in the text (or the whole word upper case, 4+ letters);
- a stop list of names that are mostly common words («Слава», "Nova", months) never matches
  alone;
- names that are also ordinary words, first names or surnames (found at build time: «Буча»,
  «Антрацит», «Володимир») match only after a preposition or a settlement word («у», «м.»,
  "near", «жителі») and not at the start of a sentence.

Ambiguity («Оленівка» names a dozen villages) is settled by the text first: a candidate in
the oblast of another, unambiguous place of the same text wins; then a candidate in the
occupied regions (the documenters' area); then the larger population. A mention records how
many other candidates there were, and its confidence drops when there were some.

Speed: the gazetteer loads once per process (about 0.2 s); matching a 1 KB text costs well
under a millisecond once the lemmas of its capitalised words are cached.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from svidok.enrich.enricher import Annotation, Output, Subject
from svidok.enrich.gazetteer import (
    OCCUPIED_ADMIN1,
    Entry,
    Gazetteer,
    GazetteerError,
    Place,
    gazetteer,
)
from svidok.enrich.words import Token, fold, is_cyrillic, lemmas, tokens

__all__ = [
    "GAZETTEER_VERSION",
    "Place",
    "PlaceMention",
    "PlacesEnricher",
    "PlacesError",
    "find_places",
    "place",
    "spellings",
]

# Bump the first part when matching rules change; the second is the SHA-256 of the data
# files (a test checks it), so a data change must update it too.
_RULES = "places-2"
_DATA_SHA256 = "8c1947cfb3ed6c39b36f8f41991a8a91d01c1dadba57f70118af4d92499340cc"
GAZETTEER_VERSION = f"{_RULES}+{_DATA_SHA256[:12]}"

MAX_TEXT_CHARS = 5_000_000

_Variants = Callable[[int], frozenset[str]]  # the lookup forms of the i-th word

# Words after which an ordinary-word place name is taken as a place: prepositions of place,
# settlement words and residents (lemmas, folded).
_CUES = frozenset(
    """
    у в з із зі до біля під поблизу через від на по за між околиця околиці неподалік
    из с со около под возле от к близ окрестность
    in near from to at of around outside into across
    м місто село селище смт сел с-ще г город поселок посёлок пгт деревня станица хутір хутор
    city town village settlement
    мешканець мешканка мешканці житель жителька жителі жители уродженець уроженец
    residents resident native
    колишній колишня колишнє бывший бывшая бывшее formerly former
    """.split()  # noqa: SIM905 - a word list reads better as text
)
# Settlement words written short with a full stop: «м. Буча», «с. Оленівка», «г. Антрацит».
_CUE_ABBREVIATIONS = frozenset(["м", "г", "с", "сел", "смт", "пгт"])
_OPENERS = "«\"'„“”(‘[—–-"
_SENTENCE_ENDS = ".!?…"

_BASE_CONFIDENCE = {"alias": 0.95, "name": 0.9, "lemma": 0.85}


class PlacesError(ValueError):
    """A text could not be searched for places (too long, not text, or no gazetteer)."""


@dataclass(frozen=True, slots=True)
class PlaceMention:
    start: int
    end: int
    text: str  # the text between the offsets, as written
    place: Place
    confidence: float  # 0..1
    how: str  # "name", "lemma" or "alias"
    alternatives: int  # other candidates it could have been


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A span that named one or more places, before ambiguity is settled."""

    start: int
    end: int
    entries: tuple[Entry, ...]
    how: str
    cued: frozenset[int]  # places matched only by an ordinary-word name after a cue


def find_places(text: str, language: str | None = None) -> list[PlaceMention]:
    """Every place the text names, in order, each resolved to one GeoNames place."""
    if not isinstance(text, str):
        raise PlacesError(f"expected text, got {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise PlacesError(f"text of {len(text):,} characters exceeds {MAX_TEXT_CHARS:,}")
    g = _gazetteer()
    return _resolve(text, _candidates(g, text, language))


def place(geonameid: int) -> Place | None:
    return _gazetteer().places.get(geonameid)


def spellings(word: str, language: str | None = None) -> frozenset[str]:
    """Every folded spelling (all scripts, aliases) of every place the word or phrase names.

    Matched like find_places (lemmas too) but without the capitalisation and cue rules, since
    a search query is often typed in lower case. Empty when it names no place.
    """
    if not isinstance(word, str) or len(word) > 1_000:
        return frozenset()
    g = _gazetteer()
    words = list(tokens(word))
    if not words or len(words) > g.max_words:
        return frozenset()
    forms = [_variants(t, language) for t in words]
    out: set[str] = set()
    for key in _keys(forms):
        if len(words) == 1 and key in g.stop:
            continue
        for entry in g.index.get(key, ()):
            out |= g.spellings[entry.place.geonameid]
    return frozenset(out)


def _gazetteer() -> Gazetteer:
    try:
        return gazetteer()
    except GazetteerError as error:
        raise PlacesError(str(error)) from error


def _variants(token: Token, language: str | None) -> frozenset[str]:
    if is_cyrillic(token.text):
        return _with_adjective_forms(lemmas(token.text, language))
    return frozenset((fold(token.text),))


# pymorphy3 gives the masculine lemma of an adjective, but places named by adjectives are
# mostly neuter or feminine: «у Сніжному» → сніжний → Сніжне, «в Белой» → белый → Белая.
_ADJECTIVE_ENDINGS = {
    "ый": ("ое", "ая"),
    "ий": ("е", "а", "ое", "ее", "ая", "яя"),
    "ій": ("є", "я"),
    "ой": ("ое", "ая"),
}


@functools.lru_cache(maxsize=100_000)
def _with_adjective_forms(found: frozenset[str]) -> frozenset[str]:
    extra = [
        word[:-2] + ending for word in found for ending in _ADJECTIVE_ENDINGS.get(word[-2:], ())
    ]
    return found | frozenset(extra) if extra else found


def _keys(forms: Sequence[Iterable[str]]) -> Iterable[str]:
    if len(forms) == 1:
        return forms[0]
    return (" ".join(words) for words in itertools.product(*forms))


def _capitalised(token: Token) -> bool:
    first = token.text[0]
    if not first.isupper():
        return False
    # Short all-caps words are abbreviations (ЗСУ, ДНР, USA), not names.
    return not (token.text.isupper() and len(token.text) <= 3)


def _candidates(g: Gazetteer, text: str, language: str | None) -> list[_Candidate]:
    words = list(tokens(text))
    cache: dict[int, frozenset[str]] = {}

    def variants(i: int) -> frozenset[str]:
        found = cache.get(i)
        if found is None:
            found = _variants(words[i], language)
            cache[i] = found
        return found

    out: list[_Candidate] = []
    i = 0
    while i < len(words):
        if not _capitalised(words[i]):
            i += 1
            continue
        found = _match_at(g, text, words, i, variants)
        if found is None:
            i += 1
            continue
        size, candidate = found
        out.append(candidate)
        i += size
    return out


def _match_at(
    g: Gazetteer, text: str, words: list[Token], i: int, variants: _Variants
) -> tuple[int, _Candidate] | None:
    first = variants(i)
    longest = min(g.max_words, len(words) - i)
    for size in range(longest, 0, -1):
        if size > 1 and not _joinable(g, text, words, i, size, first, variants):
            continue
        span = [first, *(variants(j) for j in range(i + 1, i + size))]
        surface = " ".join(fold(w.text) for w in words[i : i + size])
        entries: list[Entry] = []
        via_lemma = True
        plain: set[int] = set()
        cued: set[int] = set()
        for key in _keys(span):
            hits = g.index.get(key)
            if not hits:
                continue
            if size == 1 and key in g.stop:
                continue
            is_common = size == 1 and key in g.common
            if is_common and not _cued(g, text, words, i, variants):
                continue
            (cued if is_common else plain).update(e.place.geonameid for e in hits)
            entries.extend(hits)
            if key == surface:
                via_lemma = False
        if entries:
            how = "lemma" if via_lemma else "name"
            start, end = words[i].start, words[i + size - 1].end
            only_cued = frozenset(cued - plain)
            return size, _Candidate(start, end, tuple(entries), how, only_cued)
    return None


def _joinable(
    g: Gazetteer,
    text: str,
    words: list[Token],
    i: int,
    size: int,
    first: frozenset[str],
    variants: _Variants,
) -> bool:
    """Whether words i..i+size-1 could form one multi-word name (cheap checks first)."""
    if first.isdisjoint(g.first_words):
        return False
    for j in range(i + 1, i + size):
        # Only spaces may separate the words of one name: not a full stop or a comma.
        if text[words[j - 1].end : words[j].start].strip():
            return False
        if variants(j).isdisjoint(g.inner_words):
            return False
    return True


def _cued(g: Gazetteer, text: str, words: list[Token], i: int, variants: _Variants) -> bool:
    """An ordinary-word name counts only after a cue word and never opening a sentence
    («м. Буча» and «с. Антрацит» are cued: the full stop there ends an abbreviation)."""
    if i == 0:
        return False
    gap = text[words[i - 1].end : words[i].start]
    abbreviated = gap.strip() == "." and fold(words[i - 1].text) in _CUE_ABBREVIATIONS
    if not abbreviated and (_sentence_start(text, words[i].start)
                            or gap.strip() not in ("", ".")):
        return False
    return not variants(i - 1).isdisjoint(_CUES)


def _sentence_start(text: str, start: int) -> bool:
    k = start - 1
    while k >= 0 and (text[k].isspace() or text[k] in _OPENERS):
        if text[k] == "\n":
            return True
        k -= 1
    return k < 0 or text[k] in _SENTENCE_ENDS


def _resolve(text: str, found: list[_Candidate]) -> list[PlaceMention]:
    options = [_options(c.entries) for c in found]
    # Regions of the places the text names without doubt (one candidate, or a city against
    # villages of the same name): they settle the doubtful ones.
    context: set[tuple[str, str | None]] = set()
    for choices in options:
        settled = _settled(choices)
        if settled is not None:
            context.add((settled.country, settled.admin1))
    mentions: list[PlaceMention] = []
    for candidate, choices in zip(found, options, strict=True):
        places = {e.place.geonameid: e for e in choices}
        ranked = sorted(places.values(), key=lambda e: _rank(e.place, context), reverse=True)
        best = ranked[0]
        alternatives = len(ranked) - 1
        how = "alias" if candidate.how == "name" and best.source == "alias" else candidate.how
        confidence = _BASE_CONFIDENCE[how]
        if best.source == "alt":
            confidence *= 0.8
        if best.place.geonameid in candidate.cued:
            confidence *= 0.8
        if alternatives:
            confidence *= _doubt(best.place, ranked[1].place, context)
        mentions.append(
            PlaceMention(
                candidate.start,
                candidate.end,
                text[candidate.start : candidate.end],
                best.place,
                round(confidence, 3),
                how,
                alternatives,
            )
        )
    return mentions


def _settled(choices: list[Entry]) -> Place | None:
    by_size = sorted(
        {e.place.geonameid: e.place for e in choices}.values(),
        key=lambda p: p.population,
        reverse=True,
    )
    if len(by_size) == 1 or by_size[0].population >= 10 * max(by_size[1].population, 1):
        return by_size[0]
    return None


def _doubt(best: Place, runner_up: Place, context: set[tuple[str, str | None]]) -> float:
    """How far to trust a choice among several places of the same name."""
    if (best.country, best.admin1) in context:
        return 0.9  # the text names other places in the same region
    if best.population >= 10 * max(runner_up.population, 1):
        return 0.8  # a city against villages of the same name
    return 0.6


def _options(entries: tuple[Entry, ...]) -> list[Entry]:
    """Preferred names and our aliases outrank GeoNames' long tail of alternates."""
    preferred = [e for e in entries if e.source != "alt"]
    return preferred or list(entries)


def _rank(p: Place, context: set[tuple[str, str | None]]) -> tuple[bool, bool, bool, int, int]:
    return (
        (p.country, p.admin1) in context,
        p.country == "UA" and p.admin1 in OCCUPIED_ADMIN1,
        p.kind == "city",
        p.population,
        -p.geonameid,  # a stable last resort
    )


class PlacesEnricher:
    """Places the text names, resolved to GeoNames with coordinates and oblast."""

    name = "places"
    version = GAZETTEER_VERSION
    needs: tuple[str, ...] = ("language",)

    def accepts(self, subject: Subject) -> bool:
        return bool(subject.text)

    def run(self, subject: Subject) -> Output:
        assert subject.text is not None
        return Output(annotations=[Annotation(
            "place", str(m.place.geonameid), m.start, m.end, m.confidence, data={
                "text": m.text, "name": m.place.name, "oblast": m.place.oblast,
                "country": m.place.country, "latitude": m.place.latitude,
                "longitude": m.place.longitude, "how": m.how,
                "alternatives": m.alternatives})
            for m in find_places(subject.text, subject.language)])
