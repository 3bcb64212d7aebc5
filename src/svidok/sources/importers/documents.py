"""Documents and articles: a saved web page, a PDF, a DOCX or plain text, read for its text.

The file is the original and is already stored; what is read from it (main text, title,
byline, claimed dates) is one ``document`` entry under it, naming the tool and version that
read it. Its key is the file's SHA-256, so reading the same bytes again is a sighting, and
a newer extractor that reads them differently makes a new version, not a second document.

Plain text scores lowest of all importers, so a chat or a letter saved as .txt goes to the
importer that knows it.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from importlib import metadata
from typing import Any, ClassVar

from svidok import __version__
from svidok.sources.documents import DocumentError, DocumentLimits, read_document
from svidok.sources.documents.model import Document
from svidok.sources.importer import (
    POSSIBLE,
    Container,
    Entry,
    ImportFailed,
    ImportOptions,
)
from svidok.sources.problems import Problem

# The text goes into the record, stored and hashed as JSON; the file keeps all of it.
MAX_TEXT_CHARS = 4 * 1024 * 1024
LIMITS = DocumentLimits(max_text_chars=MAX_TEXT_CHARS)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MARKUP = ("text/html", "application/xhtml+xml", "application/pdf", DOCX)
TOOLS = {"html": "trafilatura", "pdf": "pypdf", "docx": "python-docx"}
BLOCK = 1024 * 1024


class DocumentImporter:
    name: ClassVar[str] = "document"
    version: ClassVar[int] = 1
    title: ClassVar[str] = "document (HTML, PDF, DOCX, text)"

    def score(self, container: Container) -> int:
        kind = container.media_type
        if kind in MARKUP:
            return POSSIBLE
        if kind in ("application/zip", "application/octet-stream") and _is_docx(container):
            return POSSIBLE
        if kind in ("text/xml", "application/xml") and b"<html" in container.head[:8192]:
            return POSSIBLE
        # Plain text is not offered: its text is the original itself, and a document
        # entry repeating it for every letter and note would only double the locker.
        # --as document still reads it (to decode an unusual encoding, say).
        return 0

    def read(self, container: Container, options: ImportOptions) -> Iterator[Entry | Problem]:
        try:
            doc = read_document(container.path, limits=LIMITS)
        except DocumentError as exc:
            # The preserved copy is named by its hash; say the name the user knows.
            raise ImportFailed(str(exc).replace(container.path.name, container.name)) \
                from None
        yield from doc.problems
        yield Entry(locator="document", kind="document", fields=_fields(doc),
                    key=f"document:{_sha256(container)}", name=doc.title)


def _is_docx(container: Container) -> bool:
    if not container.head.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(container.path) as zf:
            return "word/document.xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False


def _fields(doc: Document) -> dict[str, Any]:
    tool = TOOLS.get(doc.kind)
    return _compact({
        "type": doc.kind, "title": doc.title, "author": doc.author,
        "published": doc.published.isoformat() if doc.published else None,
        "published_text": doc.published_text,
        "created": doc.created.isoformat() if doc.created else None,
        "language_hint": doc.language_hint, "pages": doc.pages,
        "links": list(doc.links) or None, "text": doc.text or None,
        "notes": list(doc.notes) or None, "tool": tool or "svidok",
        "tool_version": _version(tool) if tool else __version__})


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _sha256(container: Container) -> str:
    digest = hashlib.sha256()
    with container.path.open("rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}
