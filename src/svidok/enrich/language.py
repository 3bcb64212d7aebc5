"""The language of a text, and of each part of a mixed one (lingua, offline).

Svidok's material is Ukrainian, Russian and English, and much of it mixes the first two: a
Ukrainian post quoting a Russian order, a Russian letter with a Ukrainian sentence. Every
language-dependent step after this one (lemmas, dates, OCR's second pass) is routed by what
is found here, so a wrong language costs more than a missing one.

- **Detector.** lingua restricted to English, Ukrainian and Russian, with Belarusian and
  Bulgarian as decoys: without them a Belarusian or Bulgarian text would be forced into
  "uk" or "ru". They are reported as themselves ("be", "bg"), so a later step can tell
  "not one of ours" from a wrong guess; no step after this one treats them as uk or ru.
  A text in any other language is reported as the closest of the five (a Latin-script text
  usually as "en"). The detector takes about half a second to load, so it is built once
  per process, on first use; lingua's detector is safe to share between threads.
- **Main language.** lingua's confidence values on the text, or on its first
  :data:`SAMPLE_CHARS` characters for a long text: the language does not change past a few
  pages, and lingua's time grows with the length. ``None`` when the text has fewer than
  :data:`MIN_LETTERS` letters (a single word is guessed, not known) or lingua cannot
  decide.
- **Segments.** A text shorter than :data:`SAMPLE_CHARS` is split into sentences and
  lines, and each sentence long enough to judge (:data:`MIN_SEGMENT_LETTERS`) gets its own
  language; it keeps the main language unless lingua is sure of another one
  (:data:`SWITCH_CONFIDENCE`), because uk and ru share most short words and one ambiguous
  sentence must not make a text "mixed". Short sentences join their neighbours, and
  neighbours of one language are merged. Mixed posts switch language at sentence
  boundaries (a quote, a reply), which is why sentences are used rather than lingua's
  ``detect_multiple_languages_of``: its boundaries fall mid-sentence on our posts, and
  it is eight times slower.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING

from svidok.enrich.enricher import Annotation, Output, Subject

if TYPE_CHECKING:
    from lingua import LanguageDetector

__all__ = ["LANGUAGE_VERSION", "LanguageEnricher", "LanguageResult", "Segment",
           "detect_language"]

# The lingua version is part of it: a new model may decide differently.
LANGUAGE_VERSION = f"1+lingua-{metadata.version('lingua-language-detector')}"

SAMPLE_CHARS = 20_000
MIN_LETTERS = 8
MIN_SEGMENT_LETTERS = 20
SWITCH_CONFIDENCE = 0.7
MAX_SENTENCES = 2_000  # a text under SAMPLE_CHARS of one-letter lines stays cheap

_CODES = ("en", "uk", "ru", "be", "bg")
# A sentence ends at ., !, ?, … (with closing quotes or brackets) and white space, or at a
# line break.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'»”)\]]*\s+|\n\s*")
_AT_LEAST = {n: re.compile(r"(?:[^\W\d_][\W\d_]*){" + str(n) + "}")
             for n in (MIN_LETTERS, MIN_SEGMENT_LETTERS)}
# Letters only one of the two has. A sentence of 20 letters or more nearly always has one.
_UK_ONLY = frozenset("іїєґІЇЄҐ")
_RU_ONLY = frozenset("ыэъёЫЭЪЁ")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")

_lock = threading.Lock()
_detector: LanguageDetector | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    start: int  # character offsets into the text, end exclusive
    end: int
    language: str  # "uk", "ru", "en", "be", "bg"


@dataclass(frozen=True, slots=True)
class LanguageResult:
    # The text's main language; None when it cannot tell (too short, no letters).
    language: str | None
    confidence: float  # lingua's relative confidence in ``language``, 0 to 1
    segments: tuple[Segment, ...]  # more than one only for mixed texts


def detect_language(text: str) -> LanguageResult:
    """The main language of ``text`` and, for a mixed text, its parts."""
    sample = text[:SAMPLE_CHARS]
    if not _has_letters(sample, MIN_LETTERS):
        return LanguageResult(None, 0.0, ())
    language, confidence = _top(sample)
    if language is None:
        return LanguageResult(None, 0.0, ())
    whole = (Segment(0, len(text), language),)
    if len(text) > SAMPLE_CHARS:
        return LanguageResult(language, confidence, whole)
    segments = _segments(text, language)
    return LanguageResult(language, confidence, segments if len(segments) > 1 else whole)


def detector() -> LanguageDetector:
    """The process's detector, built on first use (about 0.5 s)."""
    global _detector
    with _lock:
        if _detector is None:
            from lingua import Language, LanguageDetectorBuilder

            _detector = (LanguageDetectorBuilder.from_languages(
                Language.ENGLISH, Language.UKRAINIAN, Language.RUSSIAN,
                Language.BELARUSIAN, Language.BULGARIAN)
                .with_preloaded_language_models().build())
        return _detector


def _top(text: str) -> tuple[str | None, float]:
    values = detector().compute_language_confidence_values(text)
    if not values or values[0].value <= 0.0:
        return None, 0.0
    if len(values) > 1 and values[1].value >= values[0].value:
        return None, 0.0  # a tie: lingua cannot tell
    code = values[0].language.iso_code_639_1.name.lower()
    return (code, float(values[0].value)) if code in _CODES else (None, 0.0)


def _has_letters(text: str, count: int) -> bool:
    # A pattern that stops at the count-th letter: counting every letter of every sentence
    # took a third of this module's time.
    return _AT_LEAST[count].search(text) is not None


def _segments(text: str, main: str) -> tuple[Segment, ...]:
    """Sentences with their languages, short ones joined to a neighbour, runs merged."""
    spans = _sentences(text)
    if len(spans) < 2 or len(spans) > MAX_SENTENCES:
        return ()
    judged: list[str | None] = []
    for start, end in spans:
        part = text[start:end]
        if not _has_letters(part, MIN_SEGMENT_LETTERS):
            judged.append(None)
            continue
        if _plainly(part, main):
            judged.append(main)
            continue
        language, confidence = _top(part)
        switch = language is not None and language != main and confidence >= SWITCH_CONFIDENCE
        judged.append(language if switch else main)
    if all(language in (None, main) for language in judged):
        return ()
    # A short sentence belongs with the one before it («Так.» after a question), or with
    # the first judged one when it opens the text.
    first = next(language for language in judged if language is not None)
    merged: list[Segment] = []
    for (start, end), language in zip(spans, judged, strict=True):
        language = language or (merged[-1].language if merged else first)
        if merged and merged[-1].language == language:
            merged[-1] = Segment(merged[-1].start, end, language)
        else:
            merged.append(Segment(start, end, language))
    # Segments cover the text: the white space between two belongs to the first.
    covered = [Segment(0 if n == 0 else s.start,
                       merged[n + 1].start if n + 1 < len(merged) else len(text), s.language)
               for n, s in enumerate(merged)]
    return tuple(covered)


def _plainly(part: str, main: str) -> bool:
    """True when a sentence's letters leave no doubt it is in the main language, so lingua
    need not be asked: most sentences of a text, and lingua's time is per call."""
    letters = set(part)
    if main == "uk":
        return bool(letters & _UK_ONLY) and not letters & _RU_ONLY
    if main == "ru":
        return bool(letters & _RU_ONLY) and not letters & _UK_ONLY
    if main == "en":
        return _CYRILLIC.search(part) is None
    return False


def _sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
        if len(spans) > MAX_SENTENCES:
            return spans
    if start < len(text) and text[start:].strip():
        spans.append((start, len(text)))
    return spans


# -- the enricher ----------------------------------------------------------------------------

class LanguageEnricher:
    """The main language of the item's text (and OCR's), and the parts of a mixed one."""

    name = "language"
    version = LANGUAGE_VERSION
    needs: tuple[str, ...] = ("text", "ocr")

    def accepts(self, subject: Subject) -> bool:
        return bool(subject.text and subject.text.strip())

    def run(self, subject: Subject) -> Output:
        assert subject.text is not None
        found = detect_language(subject.text)
        if found.language is None:
            return Output(notes=["too little text to tell its language"])
        notes = [Annotation("language", found.language, confidence=found.confidence)]
        notes += [Annotation("language-segment", s.language, s.start, s.end)
                  for s in found.segments if len(found.segments) > 1]
        return Output(annotations=notes)
