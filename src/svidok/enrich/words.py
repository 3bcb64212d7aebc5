"""Words of a text: tokens with their offsets, and every lemma each one could have.

Places, names and violation types are matched against lemmas, not surface forms, because
Ukrainian and Russian inflect: «у Макіївці», «в Макеевке», «військкомату». pymorphy3's top
parse is often wrong for proper names («Макіївці» → «макіївець», a resident), but the right
lemma is always among the parses, so a matcher looks a word up under all of them.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Letters (any script), digits, and the apostrophes and hyphens inside Ukrainian words
# («пам'ять», «Кам'янське», «Нью-Йорк»).
_WORD = re.compile(r"[^\W_](?:[\w’ʼ'`-]*[^\W_])?", re.UNICODE)
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "‘": "'"})
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")

_lock = threading.Lock()
_analyzers: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    text: str

    @property
    def folded(self) -> str:
        return fold(self.text)


def fold(text: str) -> str:
    """Case-folded, NFC, one apostrophe, ё as е: the form lookups use."""
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES).casefold()
    return text.replace("ё", "е")


def tokens(text: str) -> Iterator[Token]:
    for match in _WORD.finditer(text):
        yield Token(match.start(), match.end(), match.group())


def is_cyrillic(word: str) -> bool:
    return _CYRILLIC.search(word) is not None


def analyzer(language: str) -> Any:
    """pymorphy3's analyser for "uk" or "ru", loaded once per process (about 0.1 s)."""
    with _lock:
        found = _analyzers.get(language)
        if found is None:
            import pymorphy3  # loaded only by enrichers that need it

            found = pymorphy3.MorphAnalyzer(lang=language)
            _analyzers[language] = found
        return found


@lru_cache(maxsize=200_000)
def _lemmas(word: str, language: str, guess: bool) -> frozenset[str]:
    morph = analyzer(language)
    if not guess and not morph.word_is_known(word):
        # pymorphy3 guesses a lemma for an unknown word by analogy with known endings, at
        # about half a millisecond a word: worth it for a place name, not for every word.
        return frozenset()
    return frozenset(fold(p.normal_form) for p in morph.parse(word))


def lemmas(word: str, language: str | None = None, guess: bool = True) -> frozenset[str]:
    """Every lemma the word could have, folded, and the folded word itself.

    A Cyrillic word is looked up in Ukrainian and Russian unless the language says which;
    other words are only folded (English inflects too little to matter for our lists).
    ``guess=False`` leaves words out of the dictionaries as they are: the lists of names
    and violation words hold dictionary words only, and they read every word of a text.
    """
    folded = fold(word)
    if not is_cyrillic(folded):
        return frozenset((folded,))
    languages = (language,) if language in ("uk", "ru") else ("uk", "ru")
    out = {folded}
    for lang in languages:
        assert lang is not None
        out |= _lemmas(folded, lang, guess)
    return frozenset(out)
