"""Documents and articles: a web page's article, a PDF's text layer, a DOCX, plain text.

:func:`read_document` turns one file into a :class:`Document`: its main text and what the
file says about itself (title, author or byline, publication or creation date, language).
The file itself is the original and is stored byte for byte elsewhere; everything here is
derived from it, and every date here is a *claim* the file makes, not a fact.

The kind is decided from the content, never from the file name: documenters receive files
renamed, without extensions, or saved by a browser as ``.htm`` when they are PDFs.

- **HTML** goes through trafilatura, which separates an article from the navigation, ads
  and footer around it and reads its title, byline and publication date (htmldate). It is
  given a string, never a URL, so it cannot fetch anything. htmldate gives a *date*, not a
  time; the value as the page wrote it (often with a time and offset) is kept beside it.
  When trafilatura finds no article, the whole page's text is given instead, and a note
  says so.
- **PDF**: pypdf reads the text layer page by page. A page without one is usually a scan,
  which needs OCR (another part of Svidok); the notes name those pages.
- **DOCX**: python-docx reads paragraphs and tables in document order and the core
  properties. The ZIP is checked member by member (sizes, ratios, encryption) before
  python-docx reads anything, so a zip bomb is refused without being expanded.
- **Plain text**: UTF-8 (with or without a byte-order mark), UTF-16/32 with a byte-order
  mark, and the legacy Cyrillic encodings still common in the region, Windows-1251 and
  KOI8-U. The encoding used is always in the notes.

Bad input costs only its own part: a PDF page that cannot be read becomes a
:class:`Problem` and the next page is read. :class:`DocumentError` is raised only when
nothing can be read at all. Problems, notes and errors never quote the document: it is
evidence and may be personal data, and these messages end up in logs and terminals.

Memory and time are bounded by :class:`DocumentLimits`: file size, markup size, PDF pages,
DOCX expansion and the length of the extracted text.
"""

from __future__ import annotations

import re
from pathlib import Path

from svidok.sources.documents.html import read_html
from svidok.sources.documents.model import (
    HEAD_BYTES,
    KINDS,
    Document,
    DocumentError,
    DocumentLimits,
    Kind,
)
from svidok.sources.documents.office import read_docx
from svidok.sources.documents.pdf import read_pdf
from svidok.sources.documents.text import BOMS, read_text
from svidok.sources.problems import Problem

__all__ = [
    "Document",
    "DocumentError",
    "DocumentLimits",
    "Kind",
    "Problem",
    "read_document",
    "sniff_kind",
]


def read_document(path: Path, *, kind: Kind | None = None,
                  limits: DocumentLimits | None = None) -> Document:
    """Read one document; ``kind`` forces a kind instead of sniffing the content.

    Raises :class:`DocumentError` when the file cannot be read at all: missing, empty, too
    large, of a kind not supported, damaged beyond reading, or encrypted with a password.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}; one of {', '.join(KINDS)}")
    limits = limits or DocumentLimits()
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
            if size > limits.max_file_bytes:
                raise DocumentError(f"{path.name} is larger than {limits.max_file_bytes:,} "
                                    "bytes; stored, not read")
            if not head:
                raise DocumentError(f"{path.name} is empty")
            found = kind or sniff_kind(head, path.name)
            fh.seek(0)
            if found == "pdf":
                return read_pdf(fh, path.name, limits)
            if found == "docx":
                return read_docx(fh, path.name, limits)
            if found == "html" and size > limits.max_markup_bytes:
                raise DocumentError(f"{path.name}: HTML larger than "
                                    f"{limits.max_markup_bytes:,} bytes; stored, not read")
            data = fh.read(limits.max_markup_bytes + 1)
    except OSError as exc:
        raise DocumentError(f"cannot read {path.name}: {exc.strerror or type(exc).__name__}"
                            ) from None
    if found == "html":
        return read_html(data, path.name, limits)
    return read_text(data, path.name, limits)


_HTML_START = re.compile(r"<(?:!doctype\s+html|html)\b")
_HTML_TAG = re.compile(r"<(?:html|head|body|meta|title)[\s>/]")


def sniff_kind(head: bytes, name: str = "the file") -> Kind:
    """The kind of a file from its first bytes (8 KiB are plenty).

    PDF by its ``%PDF-`` header (readers accept it within the first KiB); DOCX as a ZIP
    holding ``word/document.xml`` is decided later, when the directory is read, so any ZIP
    is "docx" here; HTML by a doctype or ``<html>`` at the start, or an ``<html>``,
    ``<head>``, ``<body>``, ``<meta>`` or ``<title>`` tag in the first 8 KiB; anything else
    is plain text if it decodes as text. Formats known and not supported are named.
    """
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise DocumentError(f"{name} is a legacy Office file (.doc, .xls, .ppt or .msg); "
                            "not supported: convert it to DOCX or PDF")
    if head.startswith(b"{\\rtf"):
        raise DocumentError(f"{name} is RTF; not supported: convert it to DOCX or PDF")
    sample = _head_text(head).lower()
    if _HTML_START.match(_skip_prolog(sample)) or _HTML_TAG.search(sample):
        return "html"
    return "text"


def _skip_prolog(text: str) -> str:
    """The text after leading white space, an XML declaration and comments (no regex
    backtracking: the head may be hostile)."""
    text = text.lstrip()
    while text.startswith(("<?xml", "<!--")):
        end = text.find("?>" if text.startswith("<?") else "-->")
        if end < 0:
            return ""
        text = text[end + (2 if text.startswith("<?") else 3):].lstrip()
    return text


def _head_text(head: bytes) -> str:
    """The first bytes as text, good enough to look for tags."""
    for bom, codec in BOMS:
        if head.startswith(bom):
            return head[len(bom):].decode(codec, errors="replace")
    return head.decode("latin-1")  # every byte is a character; tags are ASCII
