"""What reading a document gives, its limits and errors, and helpers all readers share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, get_args

from svidok.sources.problems import Problem

Kind = Literal["html", "pdf", "docx", "text"]
KINDS: tuple[str, ...] = get_args(Kind)

MiB = 1024 * 1024
GiB = 1024 * MiB
HEAD_BYTES = 8192  # bytes read to decide the kind


class DocumentError(Exception):
    """Nothing of the file can be read as a document; the message says why."""


@dataclass(frozen=True)
class DocumentLimits:
    # Scanned PDFs of a few hundred MiB exist; beyond this the file is refused, not read.
    max_file_bytes: int = 512 * MiB
    # HTML and plain text are read into memory whole and HTML becomes a tree several times
    # its size. HTML above this is refused; plain text is read up to it, and a note says so.
    max_markup_bytes: int = 64 * MiB
    # Extracted text is cut here (16 Mi characters: thousands of pages), with a note.
    max_text_chars: int = 16 * 1024 * 1024
    # Pages of a PDF whose text is extracted; later pages are counted, not read.
    max_pdf_pages: int = 5000
    # DOCX is a ZIP: these are checked against the sizes its directory declares (and
    # Python's zipfile never expands a member past its declared size).
    max_docx_member_bytes: int = 256 * MiB
    max_docx_total_bytes: int = 1 * GiB
    # Word XML compresses maybe 10-50 times; a huge ratio on a sizeable member is a bomb.
    max_docx_ratio: float = 200.0
    docx_ratio_floor_bytes: int = 1 * MiB


@dataclass(frozen=True)
class Document:
    kind: Kind
    title: str | None
    author: str | None  # a page's byline, or the author the file's metadata names
    # An article's publication date as the page claims it (htmldate: a date, no time).
    published: date | None
    # The publication date as written in the page (e.g. "2023-03-14T10:00:00+02:00"), or
    # the extractor's reading when it cannot be found verbatim; None with ``published``.
    published_text: str | None
    # Creation time from a PDF's or DOCX's own metadata: set by whichever program wrote the
    # file, easy to change, often wrong. Aware when the file gave an offset.
    created: datetime | None
    text: str  # main text: the article, the text layer, the paragraphs and tables
    language_hint: str | None  # <html lang>, PDF /Lang or DOCX language, as written
    pages: int | None  # PDF only: pages in the file (not only those read)
    links: tuple[str, ...]  # HTML only: link targets inside the main text, as written
    notes: tuple[str, ...]  # how the text was obtained and what is missing from it
    problems: tuple[Problem, ...]  # parts that could not be read


def cap_text(text: str, limits: DocumentLimits, notes: list[str]) -> str:
    if len(text) > limits.max_text_chars:
        notes.append(f"text cut at {limits.max_text_chars:,} characters")
        return text[:limits.max_text_chars]
    return text


class TextSink:
    """Collects text parts up to the character cap."""

    def __init__(self, limit: int) -> None:
        self.parts: list[str] = []
        self.left = limit
        self.full = False

    def add(self, part: str) -> bool:
        """Add a part; False once the cap is reached (the part is cut to fit)."""
        if self.full:
            return False
        if len(part) + 1 > self.left:
            self.parts.append(part[:max(self.left, 0)])
            self.full = True
            return False
        self.parts.append(part)
        self.left -= len(part) + 1
        return True

    def text(self) -> str:
        return "\n".join(self.parts)


_BYTES_LITERAL = re.compile(r"""b(['"]).*?\1""")


def reason(exc: BaseException) -> str:
    """A library's reason, shortened, without the bytes some messages quote."""
    message = str(exc).splitlines()[0] if str(exc).strip() else ""
    message = _BYTES_LITERAL.sub("b'…'", message)
    if len(message) > 120:
        message = message[:117] + "…"
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def clean(value: str | None, limit: int = 1000) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())[:limit]
    return value or None
