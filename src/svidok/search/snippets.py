"""Snippets: the part of a hit's text around the first word the query looks for.

Made in Python for both backends, from the stored text: FTS5's snippet() and PostgreSQL's
ts_headline see only surface words, and a hit found through a lemma («блокпостах» for
«блокпост») or another script's spelling would get no mark. A word is marked when its
folded form or one of its lemmas is among the query's words.
"""

from __future__ import annotations

from dataclasses import dataclass

from svidok.search.documents import WORD, search_fold, word_lemmas

WIDTH = 200  # characters of text around the first marked word
SCANNED = 200_000  # a hit whose first mark lies further in shows its beginning


@dataclass(frozen=True, slots=True)
class Snippet:
    text: str
    marks: tuple[tuple[int, int], ...]  # (start, end) of marked words within text


class Marker:
    """Whether a word is one the query looks for, each distinct word judged once: texts
    say «на» and «і» many times, and folding and lemmas cost more than a lookup. One for
    all the hits of a search."""

    def __init__(self, wanted: frozenset[str]) -> None:
        self.wanted = wanted
        self.judged: dict[str, bool] = {}

    def __call__(self, word: str) -> bool:
        hit = self.judged.get(word)
        if hit is None:
            hit = search_fold(word) in self.wanted \
                or not self.wanted.isdisjoint(word_lemmas(word, None))
            self.judged[word] = hit
        return hit


def snippet(text: str, wanted: frozenset[str] | Marker, width: int = WIDTH) -> Snippet:
    head = text[:SCANNED]
    first = None
    hits_word = wanted if isinstance(wanted, Marker) else Marker(wanted)
    for match in WORD.finditer(head):
        if hits_word(match.group()):
            first = match.start()
            break
    start = 0
    if first is not None and first > width // 3:
        # Begin at a word, not inside one.
        start = first - width // 3
        space = head.find(" ", start, first)
        if space >= 0:
            start = space + 1
    end = min(len(head), start + width)
    if end < len(head):
        space = head.rfind(" ", start, end)
        end = space if space > start else end
    window = " ".join(head[start:end].split())
    prefix = "… " if start else ""
    suffix = " …" if end < len(text) else ""
    shown = prefix + window + suffix
    marks = tuple((m.start(), m.end()) for m in WORD.finditer(shown) if hits_word(m.group()))
    return Snippet(shown, marks)
