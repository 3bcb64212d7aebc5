"""Names in a text: organisations, military units and people, as suggestions with offsets.

No multilingual named-entity model can be installed offline (see docs/enrich.md), so names
come from three layers, cheapest first:

* **Lists** (``data/organisations.json``): institutions such as military commissariats,
  the FSB, the «ДНР», the Center for Civil Liberties, and named units («Спарта», Wagner), in
  their uk/ru/en variants. A name is a sequence of words matched token by token through every
  lemma a word could have (:func:`svidok.enrich.words.lemmas`), so «військкомату», «в
  военкомате» and "military commissariats" all match. Names that are also common words
  («Восток», «Сомали») are only reported next to a unit word or in quotes.
* **Patterns**: numbered units («в/ч 12345», «105-й полк», "1st Army Corps") by regular
  expression, and people by shape — a role word before capitalised words («правозахисниця
  Олександра Матвійчук», «командира Иванова», "Mr. Smith"), a first name before a surname
  (pymorphy3 knows both by tag; Cyrillic surname endings -енко, -ук, -ов(а), -ський... count
  too), or initials («А. В. Петров»). People are low-confidence suggestions and never leave
  this module in a log or an error message.
* **natasha**, Russian only (``use_natasha=True``; the enricher asks for it on every
  Russian text): its news NER model is a second opinion. A span it finds too makes ours
  surer; a span nothing else found is added. Its tagger costs about 6 ms for 1 KB, five
  times the lists and patterns, so it reads only the sentences with a capitalised word
  nothing else explained, and is loaded on first use.

Every mention says how it was found (``how``) and how sure it is (``confidence``); a person
confirms or rejects it (DESIGN.md, premise 9).

The phrase matcher and the word keys here are shared with :mod:`svidok.enrich.violations`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Literal

from svidok.enrich.enricher import Annotation, EnrichError, Output, Subject
from svidok.enrich.places import PlacesError, spellings
from svidok.enrich.words import Token, analyzer, fold, is_cyrillic, lemmas, tokens

# The matcher's own version; NAMES_VERSION adds the list's.
_MATCHER_VERSION = "3"
MAX_TEXT_CHARS = 2_000_000  # about 1,000 pages; find_names refuses more (the enricher cuts)
NATASHA_MAX_CHARS = 200_000  # natasha needs about a minute for this much

Kind = Literal["person", "organisation", "unit"]


class NamesError(EnrichError):
    """The text could not be searched for names (too long, or the list is broken)."""


@dataclass(frozen=True, slots=True)
class NameMention:
    start: int
    end: int
    text: str
    kind: Kind
    value: str  # canonical id for list matches ("military_commissariat"), else the text
    confidence: float  # 0..1
    how: str  # "list", "pattern", "natasha"


# --------------------------------------------------------------------------- word keys


def english_stems(word: str) -> frozenset[str]:
    """The folded word and what it could be without an English inflection.

    pymorphy3 knows only Ukrainian and Russian, and English patterns only need plurals and
    verb forms to meet their base form: "detained" → detain, "passports" → passport,
    "confiscated" → confiscat/confiscate, "stopped" → stop, "parties" → party.
    """
    out = {word}
    if word.endswith(("'s", "s'")):
        word = word[:-2] if word.endswith("'s") else word[:-1]
        out.add(word)
    if word.endswith(("ies", "ied")) and len(word) > 4:
        out.add(word[:-3] + "y")
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            out.update((base, base + "e"))
            if suffix in ("ing", "ed") and base[-1] == base[-2]:
                out.add(base[:-1])
    return frozenset(out)


@lru_cache(maxsize=200_000)
def word_keys(word: str) -> frozenset[str]:
    """Every form a word is looked up under: its lemmas in uk and ru, or its English stems.

    Both Cyrillic dictionaries are always asked because posts mix Ukrainian and Russian.
    """
    if is_cyrillic(word):
        return lemmas(word, guess=False)
    return english_stems(fold(word))


# --------------------------------------------------------------------------- phrases

_SENTENCE_END = re.compile(r"[.!?;\n]")


@dataclass(frozen=True, slots=True)
class PhraseWord:
    keys: frozenset[str]  # matches a token having any of these keys
    upper: bool  # an abbreviation: the token must be written in capitals too


@dataclass(frozen=True, slots=True)
class Phrase:
    label: str  # what a match means (an organisation id, a category id)
    words: tuple[PhraseWord, ...]
    weight: float
    source: str  # the pattern as written, for tests and diagnostics (never evidence)


@dataclass(frozen=True, slots=True)
class PhraseMatch:
    phrase: Phrase
    positions: tuple[int, ...]  # token indexes of the matched words


def phrase_words(pattern: str) -> tuple[PhraseWord, ...]:
    """A pattern's words: «забрати|забирати на фронт» → three words, the first either verb.

    A Cyrillic word stands for every lemma it could have, so patterns may be written in any
    form; an English word for itself (a token's stems are what meet it). A word after "="
    stands for that form only: «=затримали» (they detained) but not «затримав» (he stopped
    the ball), where the lemma would take both.
    """
    out: list[PhraseWord] = []
    for part in pattern.split():
        keys: set[str] = set()
        upper = True
        for alternative in part.split("|"):
            exact = alternative.startswith("=")
            for token in tokens(alternative):
                if is_cyrillic(token.text) and not exact:
                    keys |= lemmas(token.text)
                else:
                    keys.add(fold(token.text))
            upper = upper and len(alternative) > 1 and alternative.lstrip("=").isupper()
        if keys:
            out.append(PhraseWord(frozenset(keys), upper))
    return tuple(out)


class PhraseMatcher:
    """Finds phrases in a tokenised text: word after word, with up to ``max_gap`` other
    words between two of a phrase's words, never across a sentence end."""

    def __init__(self, phrases: Iterable[Phrase], max_gap: int) -> None:
        self.max_gap = max_gap
        self._by_first: dict[str, list[Phrase]] = {}
        for phrase in phrases:
            for key in phrase.words[0].keys:
                self._by_first.setdefault(key, []).append(phrase)

    def find(self, text: TokenisedText) -> list[PhraseMatch]:
        out: list[PhraseMatch] = []
        for i, keys in enumerate(text.keys):
            seen: set[int] = set()
            for key in keys:
                for phrase in self._by_first.get(key, ()):
                    if id(phrase) in seen:
                        continue
                    seen.add(id(phrase))
                    positions = self._match(text, phrase, i)
                    if positions is not None:
                        out.append(PhraseMatch(phrase, positions))
        return out

    def _match(self, text: TokenisedText, phrase: Phrase, first: int) -> tuple[int, ...] | None:
        if not _word_fits(phrase.words[0], text.tokens[first]):
            return None
        positions = [first]
        for word in phrase.words[1:]:
            found = None
            last = min(positions[-1] + 1 + self.max_gap, len(text.tokens) - 1)
            for j in range(positions[-1] + 1, last + 1):
                if text.breaks[j]:
                    break
                if not word.keys.isdisjoint(text.keys[j]) and _word_fits(word, text.tokens[j]):
                    found = j
                    break
            if found is None:
                return None
            positions.append(found)
        return tuple(positions)


def _word_fits(word: PhraseWord, token: Token) -> bool:
    return not word.upper or token.text.isupper()


@dataclass(frozen=True, slots=True)
class TokenisedText:
    text: str
    tokens: tuple[Token, ...]
    keys: tuple[frozenset[str], ...]
    breaks: tuple[bool, ...]  # a sentence ends before this token

    @classmethod
    def of(cls, text: str) -> TokenisedText:
        found = tuple(tokens(text))
        breaks = []
        previous_end = 0
        for token in found:
            breaks.append(_SENTENCE_END.search(text, previous_end, token.start) is not None)
            previous_end = token.end
        return cls(text, found, tuple(word_keys(t.text) for t in found), tuple(breaks))


def tokenised_of(subject: Subject, text: str) -> TokenisedText:
    """The text's words and lemma keys, made once for the names and violations enrichers."""
    found = subject.memo.get("tokenised")
    if not isinstance(found, TokenisedText) or found.text is not text:
        check_length(text, NamesError)
        found = subject.memo["tokenised"] = TokenisedText.of(text)
    return found


def check_length(text: str, error: type[EnrichError]) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise error(f"text of {len(text)} characters is over the limit of {MAX_TEXT_CHARS}")


# --------------------------------------------------------------------------- the list


@dataclass(frozen=True, slots=True)
class _Listed:
    id: str
    kind: Kind
    needs_context: bool


@dataclass(frozen=True, slots=True)
class _NameList:
    version: str
    matcher: PhraseMatcher
    entries: Mapping[str, _Listed]
    unit_words: frozenset[str]


def read_data_json(name: str, error: type[EnrichError]) -> Mapping[str, Any]:
    """A packaged JSON file of ``data/`` with a ``version``; errors name the file only."""
    try:
        raw = resources.files("svidok.enrich").joinpath("data", name).read_text("utf-8")
        data = json.loads(raw)
    except (OSError, ValueError) as exc:
        raise error(f"cannot read the packaged {name}: {type(exc).__name__}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("version"), str):
        raise error(f"the packaged {name} has no version")
    return data


@cache
def _name_list() -> _NameList:
    data = read_data_json("organisations.json", NamesError)
    phrases: list[Phrase] = []
    entries: dict[str, _Listed] = {}
    try:
        for entry in data["entries"]:
            listed = _Listed(entry["id"], entry["kind"], bool(entry.get("context", False)))
            if listed.kind not in ("organisation", "unit") or listed.id in entries:
                raise NamesError(f"organisations.json: bad or repeated entry {listed.id!r}")
            entries[listed.id] = listed
            for name in entry["names"]:
                words = phrase_words(name)
                default = 0.9 if len(words) > 1 else 0.8
                weight = float(entry.get("confidence", default))
                phrases.append(Phrase(listed.id, words, weight, name))
        unit_words = frozenset(k for w in data["unit_words"] for k in phrase_words(w)[0].keys)
    except (KeyError, TypeError, IndexError) as exc:
        raise NamesError(f"organisations.json is malformed: {type(exc).__name__}") from exc
    return _NameList(data["version"], PhraseMatcher(phrases, max_gap=0), entries, unit_words)


def _names_version() -> str:
    # Read the list's version alone: importing this module must not load pymorphy3.
    listed = read_data_json("organisations.json", NamesError)["version"]
    return f"{_MATCHER_VERSION}+organisations.{listed}"


# --------------------------------------------------------------------------- organisations

_QUOTES = "«»\"“”„'‘’"


def _listed_mentions(text: TokenisedText) -> list[NameMention]:
    names = _name_list()
    found: list[NameMention] = []
    for match in names.matcher.find(text):
        listed = names.entries[match.phrase.label]
        first, last = text.tokens[match.positions[0]], text.tokens[match.positions[-1]]
        if listed.needs_context and not _has_context(text, match, names.unit_words):
            continue
        found.append(
            NameMention(
                first.start,
                last.end,
                text.text[first.start : last.end],
                listed.kind,
                listed.id,
                match.phrase.weight,
                "list",
            )
        )
    return found


def _has_context(text: TokenisedText, match: PhraseMatch, unit_words: frozenset[str]) -> bool:
    """A name that is also a common word counts when quoted or near «батальйон», "group"..."""
    first, last = match.positions[0], match.positions[-1]
    start, end = text.tokens[first].start, text.tokens[last].end
    if start > 0 and text.text[start - 1] in _QUOTES:
        return True
    if end < len(text.text) and text.text[end] in _QUOTES:
        return True
    if not text.tokens[first].text[:1].isupper():
        return False
    # Up to three words either side, within the sentence: «...в інший батальйон. Схід
    # країни...» is no battalion.
    before, after = first, last
    while before > max(0, first - 3) and not text.breaks[before]:
        before -= 1
    while after < min(len(text.tokens) - 1, last + 2) and not text.breaks[after + 1]:
        after += 1
    return any(not unit_words.isdisjoint(text.keys[j]) for j in range(before, after + 1))


# --------------------------------------------------------------------------- units

_UNIT_WORDS = (
    r"(?:(?:корпус|бригад|батальйон|батальон|дивізі|дивизи|отряд|загон)\w*|загін"
    r"|полк(?:а|у|ом|і|е|и|ов|ах)?|рот(?:а|и|у|і|ы|ой|ою|е)|армі[яїює]|арми[яиюей])\b"
)
_ADJECTIVE = r"[^\W\d_]+(?:ий|ій|ый|ой|ий|а|я|ого|ої|ой|ому|ом|ім|ым|ую|ої|их|ых)"
_CYRILLIC_UNIT = re.compile(
    rf"\b\d{{1,4}}\s*(?:-\s*(?:[^\W\d_]{{1,3}})|[-‑]?(?:й|я|ї|го))?"
    rf"(?:\s+{_ADJECTIVE}){{0,3}}\s+{_UNIT_WORDS}",
    re.IGNORECASE,
)
_ENGLISH_UNIT = re.compile(
    r"\b\d{1,4}(?:st|nd|rd|th)\s+(?:[A-Z][\w-]*\s+){0,4}"
    r"(?:Corps|Brigade|Regiment|Battalion|Division|Army|Company|Detachment)\b",
)
_NUMBERED_UNIT = re.compile(
    r"(?:\bв\s*/\s*ч|\bв\.\s*ч\.|\bВЧ|\bвойсков\w*\s+част\w*|\bвійськов\w*\s+частин\w*"
    r"|\bmilitary\s+unit)\s*(?:№\s*)?[АAВB]?-?\d{3,6}\b",
    re.IGNORECASE,
)
_UNIT_PATTERNS = ((_NUMBERED_UNIT, 0.85), (_CYRILLIC_UNIT, 0.7), (_ENGLISH_UNIT, 0.7))


def _unit_mentions(text: str) -> list[NameMention]:
    found: list[NameMention] = []
    for pattern, confidence in _UNIT_PATTERNS:
        for m in pattern.finditer(text):
            found.append(
                NameMention(m.start(), m.end(), m.group(), "unit", m.group(), confidence, "pattern")
            )
    return found


# --------------------------------------------------------------------------- people

_ROLES = phrase_words(
    "правозахисник|правозахисниця|командир|командувач|офіцер|журналіст|журналістка"
    "|військком|воєнком|сержант|полковник|генерал|майор|капітан|лейтенант|директор|голова"
    "|начальник|прокурор|суддя|мер|депутат|керівник|керівниця|адвокат|пан|пані|свідок|слідчий"
    "|правозащитник|правозащитница|командующий|офицер|журналист|журналистка|военком|капитан"
    "|глава|руководитель|судья|господин|госпожа|следователь|свидетель|гауляйтер"
    "|commander|officer|colonel|general|major|captain|lieutenant|sergeant|activist|journalist"
    "|lawyer|prosecutor|judge|director|head|chief|mayor|witness|defender|mr|mrs|ms|dr"
)[0].keys
_TITLE_ABBREVIATIONS = frozenset(("mr", "mrs", "ms", "dr"))
_CAPITALISED = re.compile(r"[A-ZА-ЯЁІЇЄҐ][a-zа-яёіїєґ'’ʼ-]+")
_INITIAL = re.compile(r"\b[A-ZА-ЯЁІЇЄҐ]\.\s?(?:[A-ZА-ЯЁІЇЄҐ]\.\s?)?")
_SURNAME_SHAPE = re.compile(
    r"(?:енк[оаиуові]|[ую]к|чук\w{0,2}|[оеё]в(?:а|у|ой|ым|ою|им|ій|ої|ому|ого)?"
    r"|ин(?:а|у|ой|ым|ою|ої|ому|ого)?|[сц]ьк(?:ий|а|ого|ому|им|ій|ої|у|ою)"
    r"|[сц]к(?:ий|ая|ого|ому|им|ой|ую)"
    r"|enko|chuk|[oe]va?|ina?|sk[yi]i?|ska)$"
)
# Capitalised words that start sentences or titles and are never a person's name.
_NOT_NAMES = frozenset(
    (
        "the",
        "a",
        "an",
        "in",
        "on",
        "of",
        "and",
        "at",
        "by",
        "for",
        "to",
        "this",
        "that",
        "staff",
        "general",
        "office",
        "army",
        "corps",
        "ministry",
    )
)


def _name_tags(word: str) -> frozenset[str]:
    """Which of Name/Surn/Patr pymorphy3 gives any parse of a Cyrillic word, in uk or ru."""
    return _name_tags_cached(fold(word)) if is_cyrillic(word) else frozenset()


@lru_cache(maxsize=50_000)
def _name_tags_cached(word: str) -> frozenset[str]:
    # Dictionary words only: a guess by analogy costs half a millisecond for every
    # capitalised word, and an unknown surname is caught by its shape (-енко, -ов...).
    found: set[str] = set()
    for language in ("uk", "ru"):
        morph = analyzer(language)
        if morph.word_is_known(word):
            for parse in morph.parse(word):
                found |= {"Name", "Surn", "Patr"} & set(parse.tag.grammemes)
    return frozenset(found)


def _is_capitalised(token: Token) -> bool:
    return (
        token.text[0].isupper()
        and _CAPITALISED.fullmatch(token.text) is not None
        and fold(token.text) not in _NOT_NAMES
    )


def _looks_like_surname(token: Token) -> bool:
    return "Surn" in _name_tags(token.text) or _SURNAME_SHAPE.search(fold(token.text)) is not None


def _joined(text: TokenisedText, i: int, j: int) -> bool:
    """Tokens i and j (j = i + 1) are parts of one name: only spaces between them."""
    if j >= len(text.tokens):
        return False
    return text.text[text.tokens[i].end : text.tokens[j].start].isspace()


def _next_name(text: TokenisedText, i: int) -> bool:
    """The token after i is capitalised and follows it with only spaces between."""
    return _joined(text, i, i + 1) and _is_capitalised(text.tokens[i + 1])


def _person(text: TokenisedText, first: int, last: int, confidence: float) -> NameMention:
    start, end = text.tokens[first].start, text.tokens[last].end
    span = text.text[start:end]
    return NameMention(start, end, span, "person", span, confidence, "pattern")


def _person_mentions(text: TokenisedText) -> list[NameMention]:
    found: list[NameMention] = []
    toks = text.tokens
    for i, token in enumerate(toks):
        # A role word before capitalised words: «командир Иванов», "Mr. Smith".
        if not _ROLES.isdisjoint(text.keys[i]):
            j = i + 1
            abbreviation = fold(token.text) in _TITLE_ABBREVIATIONS
            if j < len(toks) and (not text.breaks[j] or abbreviation) and _is_capitalised(toks[j]):
                last = j
                while last - j < 2 and _joined(text, last, last + 1):
                    if not _is_capitalised(toks[last + 1]):
                        break
                    last += 1
                tagged = any(_name_tags(toks[k].text) for k in range(j, last + 1))
                found.append(_person(text, j, last, 0.55 if tagged else 0.4))
        if not _is_capitalised(token):
            continue
        tags = _name_tags(token.text)
        # A first name, maybe a patronymic, then a surname: «Олександра Матвійчук».
        if "Name" in tags or (not is_cyrillic(token.text) and i > 0 and not text.breaks[i]):
            j = i + 1
            if _next_name(text, i) and "Patr" in _name_tags(toks[j].text):
                j += 1
            if _next_name(text, j - 1) and _looks_like_surname(toks[j]):
                confidence = 0.6 if "Name" in tags else 0.35
                found.append(_person(text, i, j, confidence))
        # A surname before a first name, as in lists and documents: «Иванов Иван Петрович».
        if "Surn" in tags and _next_name(text, i) and "Name" in _name_tags(toks[i + 1].text):
            last = i + 1
            if _joined(text, last, last + 1) and "Patr" in _name_tags(toks[last + 1].text):
                last += 1
            found.append(_person(text, i, last, 0.5))
    return found + _initialled(text)


def _initialled(text: TokenisedText) -> list[NameMention]:
    """«О. Матвійчук», «А. В. Петров», "O. Matviichuk", and «Петров А. В.»."""
    found: list[NameMention] = []
    for m in _INITIAL.finditer(text.text):
        after = _CAPITALISED.match(text.text, m.end())
        if after is not None and fold(after.group()) not in _NOT_NAMES:
            span = text.text[m.start() : after.end()]
            found.append(NameMention(m.start(), after.end(), span, "person", span, 0.55, "pattern"))
            continue
        before = re.search(r"([A-ZА-ЯЁІЇЄҐ][a-zа-яёіїєґ'’ʼ-]+)\s$", text.text[: m.start()][-40:])
        if before is not None and m.group().count(".") == 2:
            start = m.start() - len(before.group())
            span = text.text[start : m.end()].rstrip()
            end = start + len(span)
            found.append(NameMention(start, end, span, "person", span, 0.5, "pattern"))
    return found


# --------------------------------------------------------------------------- natasha

_natasha_lock = threading.Lock()
_natasha: dict[str, Any] = {}
_NATASHA_KINDS: Mapping[str, tuple[Kind, float]] = {
    "PER": ("person", 0.6),
    "ORG": ("organisation", 0.5),
}


def _natasha_models() -> dict[str, Any]:
    with _natasha_lock:
        if not _natasha:
            from natasha import NewsEmbedding, NewsNERTagger

            _natasha.update(ner=NewsNERTagger(NewsEmbedding()))
        return _natasha


def natasha_mentions(text: str,
                     spans: Sequence[tuple[int, int]] | None = None) -> list[NameMention]:
    """People and organisations natasha's Russian news model finds (6 ms for 1 KB).

    With ``spans``, only those parts of the text are read (offsets stay the text's).
    Places are left to :mod:`svidok.enrich.places`; natasha's normal forms are often wrong
    («Центр гражданские свободы»), so the value is the text as written.
    """
    parts = [(0, len(text))] if spans is None else list(spans)
    if sum(end - start for start, end in parts) > NATASHA_MAX_CHARS:
        raise NamesError(f"text of {len(text)} characters is over natasha's {NATASHA_MAX_CHARS}")
    # The tagger tokenises on its own: natasha's Doc and segmenter would add a quarter to
    # its time for sentence and token objects nothing here reads.
    tagger = _natasha_models()["ner"]
    found: list[NameMention] = []
    for (offset, _), markup in zip(parts, tagger.map([text[a:b] for a, b in parts]),
                                   strict=True):
        for span in markup.spans:
            kind = _NATASHA_KINDS.get(span.type)
            if kind is not None:
                kind_of, confidence = kind
                start, end = offset + span.start, offset + span.stop
                written = text[start:end]
                found.append(NameMention(start, end, written, kind_of, written, confidence,
                                         "natasha"))
    return found


def _unexplained_sentences(text: TokenisedText, taken: bytearray) -> list[tuple[int, int]]:
    """Sentences with a capitalised word inside them that no list, pattern or place name
    explained: the only ones natasha could add a name from. Most sentences of a post have
    none, and natasha's time is per word (a third of all enrichment before places counted
    as explained: in Russian posts they are the commonest capitalised words)."""
    spans: list[tuple[int, int]] = []
    toks = text.tokens
    first = 0
    for i in range(len(toks) + 1):
        if i < len(toks) and (i == 0 or not text.breaks[i]):
            continue
        if any(toks[j].text[0].isupper() and taken[toks[j].start] == 0
               and not _names_a_place(toks[j].text) for j in range(first + 1, i)):
            spans.append((toks[first].start, toks[i - 1].end))
        first = i
    return spans


@lru_cache(maxsize=50_000)
def _names_a_place(word: str) -> bool:
    """A word the gazetteer knows as a place (in any inflection) and pymorphy3 does not know
    as a first name, surname or patronymic: «Макеевке» yes, «Петров» no, even where some
    village is called so, since natasha should still read a sentence naming a person."""
    if _name_tags(word):
        return False
    try:
        return bool(spellings(word, "ru"))
    except PlacesError:  # no gazetteer: nothing is explained by it
        return False


# --------------------------------------------------------------------------- together


def find_names(
    text: str, language: str | None = None, use_natasha: bool = False,
    tokenised: TokenisedText | None = None,
) -> list[NameMention]:
    """Organisations, units and people mentioned in ``text``, in order of their offsets.

    ``language`` ("uk", "ru", "en" or None) is a hint: lists and patterns cover all three
    whatever it says, because posts mix languages; natasha runs only when it is "ru" and
    ``use_natasha`` is set, on the sentences with a capitalised word nothing else explained.
    A list or unit match hides a person pattern that overlaps it; natasha confirms a
    mention found the same, or adds one where nothing was found.
    """
    check_length(text, NamesError)
    if tokenised is None or tokenised.text != text:
        tokenised = TokenisedText.of(text)
    taken = bytearray(len(text))  # 1 where a kept mention is: overlaps cost O(length)
    found = _longest(_listed_mentions(tokenised) + _unit_mentions(text), taken)
    found += _longest(_person_mentions(tokenised), taken)
    if use_natasha and language == "ru":
        found = _with_natasha(found, natasha_mentions(
            text, _unexplained_sentences(tokenised, taken)), taken)
    return sorted(found, key=lambda m: (m.start, -m.end, m.how))


def _with_natasha(found: list[NameMention], extra: list[NameMention],
                  taken: bytearray) -> list[NameMention]:
    """natasha as a second opinion: the same span found twice is surer (one mention, both
    named in ``how``); a span of its own is added; one that cuts across ours is left out."""
    by_span = {(m.start, m.end): n for n, m in enumerate(found)}
    out = list(found)
    for m in extra:
        same = by_span.get((m.start, m.end))
        if same is not None:
            ours = out[same]
            out[same] = replace(ours, confidence=round(min(0.95, ours.confidence
                                                           + (1 - ours.confidence) / 2), 3),
                                how=f"{ours.how}+natasha")
        elif taken.find(1, m.start, m.end) == -1:
            out.append(m)
    return out


def _longest(mentions: Sequence[NameMention], taken: bytearray) -> list[NameMention]:
    """The longest, then surest, of overlapping mentions, that overlap nothing ``taken``."""
    ranked = sorted(mentions, key=lambda m: (-(m.end - m.start), -m.confidence, m.start))
    kept: list[NameMention] = []
    for mention in ranked:
        if taken.find(1, mention.start, mention.end) == -1:
            taken[mention.start : mention.end] = b"\x01" * (mention.end - mention.start)
            kept.append(mention)
    return kept


NAMES_VERSION: str = _names_version()


# --------------------------------------------------------------------------- the enricher

class NamesEnricher:
    """Organisations, units and people the text names, as suggestions (natasha for Russian)."""

    name = "names"
    needs: tuple[str, ...] = ("language",)

    @property
    def version(self) -> str:
        return f"{NAMES_VERSION}+natasha"

    def accepts(self, subject: Subject) -> bool:
        return bool(subject.text)

    def run(self, subject: Subject) -> Output:
        output = Output()
        text = subject.text_up_to(MAX_TEXT_CHARS, output, "names")
        russian = subject.language == "ru"
        if russian and len(text) > NATASHA_MAX_CHARS:
            output.notes.append(f"natasha read none of this text, longer than "
                                f"{NATASHA_MAX_CHARS:,} characters")
            russian = False
        found = find_names(text, subject.language, use_natasha=russian,
                           tokenised=tokenised_of(subject, text))
        for m in found:
            output.annotations.append(Annotation("name", m.value, m.start, m.end, m.confidence,
                                                 data={"text": m.text, "kind": m.kind,
                                                       "how": m.how}))
        return output
