"""PDF: the text layer page by page (pypdf); pages without one are named for OCR later."""

from __future__ import annotations

from datetime import datetime
from typing import IO

from svidok.sources.documents.model import (
    Document,
    DocumentError,
    DocumentLimits,
    TextSink,
    clean,
    reason,
)
from svidok.sources.problems import Problem


def read_pdf(fh: IO[bytes], name: str, limits: DocumentLimits) -> Document:
    from pypdf import PasswordType, PdfReader
    from pypdf.generic import DictionaryObject

    notes: list[str] = []
    problems: list[Problem] = []
    try:
        reader = PdfReader(fh, strict=False)
        if reader.is_encrypted:
            if reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                raise DocumentError(f"{name} is an encrypted PDF that needs a password; "
                                    "stored, not read")
            notes.append("encrypted PDF, opened without a password (restrictions only)")
        pages = len(reader.pages)
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many kinds on damaged files
        raise DocumentError(f"{name} is a damaged PDF ({reason(exc)})") from None

    title = author = language = None
    created: datetime | None = None
    try:
        info = reader.metadata
        if info is not None:
            title, author = clean(info.title), clean(info.author)
            created = info.creation_date
    except Exception as exc:
        problems.append(Problem("PDF metadata", f"cannot be read ({type(exc).__name__})"))
    try:
        root = reader.trailer["/Root"].get_object()
        lang = root.get("/Lang") if isinstance(root, DictionaryObject) else None
        language = clean(str(lang), 35) if lang is not None else None
    except Exception:
        language = None  # only a hint
    if created is not None:
        notes.append("creation time from the PDF's own metadata: the file's claim")

    sink = TextSink(limits.max_text_chars)
    empty: list[int] = []
    read = min(pages, limits.max_pdf_pages)
    for number in range(1, read + 1):
        try:
            page_text = reader.pages[number - 1].extract_text() or ""
        except Exception as exc:
            problems.append(Problem(f"PDF page {number}", "text cannot be extracted "
                                    f"({reason(exc)})"))
            continue
        if not page_text.strip():
            empty.append(number)
            continue
        if not sink.add(page_text.strip()):
            notes.append(f"text cut at {limits.max_text_chars:,} characters, in page "
                         f"{number}")
            break
    if empty:
        notes.append(f"PDF {_page_ranges(empty)} no text layer (a scan? OCR is needed)")
    if pages > read:
        notes.append(f"only the first {read:,} of {pages:,} pages were read")
    if pages == 0:
        notes.append("the PDF has no pages")
    return Document(kind="pdf", title=title, author=author, published=None,
                    published_text=None, created=created, text=sink.text(),
                    language_hint=language, pages=pages, links=(), notes=tuple(notes),
                    problems=tuple(problems))


def _page_ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7] -> "pages 1-3, 7 have"; [3] -> "page 3 has"."""
    runs: list[str] = []
    start = previous = numbers[0]
    for number in [*numbers[1:], -1]:
        if number != previous + 1:
            runs.append(str(start) if start == previous else f"{start}-{previous}")
            start = number
        previous = number
    if len(numbers) == 1:
        return f"page {numbers[0]} has"
    return f"pages {', '.join(runs)} have"
