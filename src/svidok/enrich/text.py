"""The text of an item, whatever it came as: a document, an e-mail, a chat message, a page.

:func:`extract_text` is given what the locker holds for one item (its kind, media type, a
way to open its original bytes, and the record its importer wrote) and gives back the text
later steps read: language, places, dates, names, search. It never decides anything from a
file name, and it never quotes the item in an error.

Where the text comes from:

- **Files, attachments, web responses** (items with bytes): by media type, read with the
  readers of :mod:`svidok.sources.documents` (HTML through trafilatura, a PDF's text layer,
  a DOCX's paragraphs and tables, plain text in the encodings of the region), with the
  same sniffing of the first bytes, so a PDF saved as ``.htm`` is still a PDF. PDF pages
  without a text layer are named in ``ocr_pages`` for OCR (:mod:`svidok.enrich.ocr`).
  Images, audio and video have no text here (``None``): OCR and media handle those.
- **E-mail**: the body the importer already put in the record (text/plain preferred,
  else the HTML body's text), or, when the record has none, the message's bytes parsed
  with the standard library; the subject is the title, attachments are items of their own.
- **Chat messages** (Telegram, WhatsApp) have no bytes: their record's ``text``.
- **Documents** (what the document importer read out of a file): the record's text.

Memory is bounded: plain text is read up to four bytes per character of
:data:`MAX_TEXT_CHARS` (a 100 MB log is read in part, with ``truncated`` set), HTML and
mail up to fixed sizes, PDFs and DOCX by the documents readers' limits (pages, ZIP bombs).
A file that cannot be read at all raises :class:`TextError`, which names what failed.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

from svidok.enrich.enricher import Annotation, Artifact, EnrichError, Output, Subject
from svidok.sources.documents import DocumentError, DocumentLimits, sniff_kind
from svidok.sources.documents.model import HEAD_BYTES, Document

__all__ = ["MAX_TEXT_CHARS", "TEXT_VERSION", "ExtractedText", "TextEnricher", "TextError",
           "extract_text"]

TEXT_VERSION = "1"
MAX_TEXT_CHARS = 4 * 1024 * 1024  # as much as the importers keep in a record
# UTF-8 takes at most four bytes a character: more than this cannot fit the cap.
MAX_PLAIN_BYTES = 4 * MAX_TEXT_CHARS
MAX_MAIL_BYTES = 64 * 1024 * 1024
LIMITS = DocumentLimits(max_text_chars=MAX_TEXT_CHARS)

_NAME = "the original"  # what the documents readers' messages call the file
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_DOCUMENT_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/pdf", _DOCX})
# Unnamed binaries may still be a PDF or a DOCX (libmagic names some DOCX as ZIP).
_MAYBE_DOCUMENT = frozenset({"application/zip", "application/octet-stream",
                             "application/x-zip-compressed", None})
_NOT_PROSE = frozenset({"text/css", "text/javascript", "text/x-javascript", "text/calendar",
                        "text/vcard", "text/x-vcard", "text/xml", "text/x-shellscript"})
_NO_TEXT_KINDS = frozenset({"chat", "page", "folder"})
_NO_TEXT_LAYER = re.compile(r"^PDF pages? ([\d, -]+) ha(?:s|ve) no text layer")
_CUT_NOTES = ("text cut at", "only the first")


class TextError(Exception):
    """The item's text cannot be read; the message says what failed, never what it holds."""


@dataclass(frozen=True, slots=True)
class ExtractedText:
    text: str
    title: str | None
    source: str  # "html", "pdf", "docx", "text", "email", "message"
    truncated: bool  # the text stops before the item's does (a size limit)
    ocr_pages: tuple[int, ...]  # PDF pages (1-based) with no text layer: OCR's job
    notes: tuple[str, ...]  # how the text was obtained, what is missing from it


def extract_text(kind: str, media_type: str | None,
                 open_original: Callable[[], BinaryIO] | None,
                 record: Mapping[str, Any] | None) -> ExtractedText | None:
    """The text of one item, or None when it has none to give (an image, a video, a chat)."""
    if kind in _NO_TEXT_KINDS:
        return None
    if kind == "message":
        return _message(record or {})
    if kind == "document" and record is not None:
        return _document_record(record)
    if kind == "email" and record is not None and _has_body(record):
        return _mail_record(record)
    if open_original is None:
        return None
    if kind == "email" or media_type == "message/rfc822":
        return _mail_bytes(open_original)
    if not _may_hold_text(media_type):
        return None
    try:
        with open_original() as raw:
            return _file(raw, media_type)
    except DocumentError as exc:
        raise TextError(str(exc)) from None
    except OSError as exc:
        raise TextError(f"cannot read the original ({exc.strerror or type(exc).__name__})"
                        ) from None


def _may_hold_text(media_type: str | None) -> bool:
    if media_type in _DOCUMENT_TYPES or media_type in _MAYBE_DOCUMENT:
        return True
    return (media_type is not None and media_type.startswith("text/")
            and media_type not in _NOT_PROSE)


# -- files --------------------------------------------------------------------------------

def _file(raw: BinaryIO, media_type: str | None) -> ExtractedText | None:
    fh = raw if raw.seekable() else _spooled(raw)
    size = fh.seek(0, io.SEEK_END)
    fh.seek(0)
    head = fh.read(HEAD_BYTES)
    if not head:
        return None
    found = sniff_kind(head, _NAME)
    fh.seek(0)
    if media_type in _MAYBE_DOCUMENT and (found not in ("pdf", "docx")
                                          or (found == "docx" and not _is_docx(fh))):
        return None  # an unnamed binary, or a ZIP, that is no document either
    if found in ("pdf", "docx") and size > LIMITS.max_file_bytes:
        raise TextError(f"the original is larger than {LIMITS.max_file_bytes:,} bytes; "
                        "not read")
    if found == "pdf":
        from svidok.sources.documents.pdf import read_pdf

        return _from_document(read_pdf(fh, _NAME, LIMITS))
    if found == "docx":
        from svidok.sources.documents.office import read_docx

        return _from_document(read_docx(fh, _NAME, LIMITS))
    if found == "html":
        from svidok.sources.documents.html import read_html

        if size > LIMITS.max_markup_bytes:
            raise TextError(f"HTML larger than {LIMITS.max_markup_bytes:,} bytes; not read")
        return _from_document(read_html(fh.read(), _NAME, LIMITS))
    from svidok.sources.documents.text import read_text

    # Read one byte past the cap, so read_text knows (and says) the text goes on.
    limits = DocumentLimits(max_text_chars=MAX_TEXT_CHARS, max_markup_bytes=MAX_PLAIN_BYTES)
    return _from_document(read_text(fh.read(MAX_PLAIN_BYTES + 1), _NAME, limits))


def _is_docx(fh: BinaryIO) -> bool:
    """Whether a ZIP holds a Word document (the stream is left at its start)."""
    import zipfile

    try:
        with zipfile.ZipFile(fh) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False
    finally:
        fh.seek(0)


def _spooled(raw: BinaryIO) -> BinaryIO:
    """A stream that cannot seek, copied into memory up to the largest file we read."""
    data = raw.read(LIMITS.max_markup_bytes + 1)
    if len(data) > LIMITS.max_markup_bytes:
        raise TextError(f"the original is a stream of more than "
                        f"{LIMITS.max_markup_bytes:,} bytes that cannot seek; not read")
    return io.BytesIO(data)


def _from_document(doc: Document) -> ExtractedText:
    notes = [*doc.notes, *(f"{p.where}: {p.message}" for p in doc.problems)]
    return ExtractedText(
        text=doc.text, title=doc.title, source=doc.kind,
        truncated=any(note.startswith(_CUT_NOTES) for note in doc.notes),
        ocr_pages=_ocr_pages(doc.notes) if doc.kind == "pdf" else (), notes=tuple(notes))


def _ocr_pages(notes: tuple[str, ...] | list[str]) -> tuple[int, ...]:
    """The pages a PDF reader's note names as without a text layer ("pages 1-3, 7 have")."""
    for note in notes:
        match = _NO_TEXT_LAYER.match(note)
        if match is None:
            continue
        pages: list[int] = []
        for run in match.group(1).split(","):
            first, _, last = run.strip().partition("-")
            if first.isdigit() and (not last or last.isdigit()):
                pages.extend(range(int(first), int(last or first) + 1))
        return tuple(pages)
    return ()


# -- records: chat messages and documents --------------------------------------------------

def _message(record: Mapping[str, Any]) -> ExtractedText | None:
    text = _flat(record.get("text"))
    if not text.strip():
        return None  # a photo without a caption, a service message
    text, notes = _capped(text, [])
    return ExtractedText(text=text, title=None, source="message", truncated=bool(notes),
                         ocr_pages=(), notes=tuple(notes))


def _flat(value: object) -> str:
    """A message's text: a string, or (older Telegram exports) a list of strings and
    entity objects holding a "text"."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part if isinstance(part, str) else _flat(part.get("text"))
                       if isinstance(part, dict) else "" for part in value)
    return ""


def _document_record(record: Mapping[str, Any]) -> ExtractedText | None:
    text = _flat(record.get("text"))
    title = _flat(record.get("title")) or None
    if not text.strip() and not title:
        return None
    notes = [str(note) for note in record.get("notes") or () if isinstance(note, str)]
    kind = str(record.get("type") or "document")
    cut = any(note.startswith(_CUT_NOTES) for note in notes)
    text, capped = _capped(text, [])
    return ExtractedText(text=text, title=title, source=kind, truncated=cut or bool(capped),
                         ocr_pages=_ocr_pages(notes) if kind == "pdf" else (),
                         notes=tuple([*notes, *capped]))


# -- e-mail -------------------------------------------------------------------------------

def _has_body(record: Mapping[str, Any]) -> bool:
    """Whether the importer put the body in the record (it writes "size" for every
    letter, and "text" and "html" when the letter has them)."""
    return any(key in record for key in ("text", "html", "size"))


def _mail_record(record: Mapping[str, Any]) -> ExtractedText | None:
    notes = [f"the importer's record: {record[key]}" for key in ("text_cut", "html_cut")
             if isinstance(record.get(key), str)]
    return _mail(_flat(record.get("subject")) or None, _flat(record.get("text")),
                 _flat(record.get("html")) or None, notes)


def _mail_bytes(open_original: Callable[[], BinaryIO]) -> ExtractedText | None:
    from svidok.sources.email import parse_message
    from svidok.sources.problems import Problem

    try:
        with open_original() as fh:
            raw = fh.read(MAX_MAIL_BYTES + 1)
    except OSError as exc:
        raise TextError(f"cannot read the e-mail ({exc.strerror or type(exc).__name__})"
                        ) from None
    if len(raw) > MAX_MAIL_BYTES:
        raise TextError(f"the e-mail is larger than {MAX_MAIL_BYTES:,} bytes; not read")
    found = parse_message(raw)
    if isinstance(found, Problem):
        raise TextError(f"the e-mail {found.message}")
    return _mail(found.subject, found.text, found.html, [])


def _mail(subject: str | None, text: str, html: str | None,
          notes: list[str]) -> ExtractedText | None:
    subject = " ".join(subject.split()) if subject else None
    if not text.strip() and html:
        from svidok.sources.documents.html import read_html

        # The body is text already; a byte-order mark makes the reader take it as UTF-8
        # whatever charset its <meta> claims (the letter's own charset was applied).
        try:
            doc = read_html(codecs.BOM_UTF8 + html.encode("utf-8", "replace"),
                            "the e-mail's HTML body", LIMITS)
        except DocumentError as exc:
            raise TextError(str(exc)) from None
        text = doc.text
        notes = [*notes, "text from the HTML body (the letter has no plain-text part)",
                 *doc.notes]
    if not text.strip() and not subject:
        return None
    text, capped = _capped(text.replace("\r\n", "\n"), notes)
    cut = any(note.startswith("the importer's record: cut") for note in notes)
    return ExtractedText(text=text, title=subject, source="email",
                         truncated=cut or len(capped) > len(notes), ocr_pages=(),
                         notes=tuple(capped))


def _capped(text: str, notes: list[str]) -> tuple[str, list[str]]:
    if len(text) <= MAX_TEXT_CHARS:
        return text, notes
    return text[:MAX_TEXT_CHARS], [*notes, f"text cut at {MAX_TEXT_CHARS:,} characters"]


# -- the enricher ----------------------------------------------------------------------------

class TextEnricher:
    """The item's text as an artifact ("text"), its title, and the PDF pages OCR should read.

    Each text is read once: a ``document`` item (what the document importer read out of
    an HTML, PDF or DOCX file) is left to its file, whose bytes OCR needs too; a file any
    other importer read into items (a Telegram export, a mailbox, a saved ``.eml``, a
    WhatsApp chat) is left to those items, each message and letter its own text.
    Otherwise a search would find every article, post and letter twice.
    """

    name = "text"
    version = TEXT_VERSION
    needs: tuple[str, ...] = ()

    def accepts(self, subject: Subject) -> bool:
        kind = subject.kind
        if kind in _NO_TEXT_KINDS or kind == "document":
            return False
        if kind in ("message", "email") and subject.record is not None:
            return True
        if subject.blob_path is None:
            return False
        if subject.read_by is not None and subject.read_by != "document":
            return False
        if subject.media_type == "message/rfc822":
            return kind == "email"
        return _may_hold_text(subject.media_type)

    def run(self, subject: Subject) -> Output:
        try:
            found = extract_text(subject.kind, subject.media_type,
                                 subject.open if subject.blob_path else None, subject.record)
        except TextError as exc:
            raise EnrichError(str(exc)) from None
        if found is None:
            return Output()
        output = Output(notes=list(found.notes))
        if found.text.strip():
            output.artifacts.append(Artifact("text", "text/plain; charset=utf-8",
                                             content=found.text))
        if found.title:
            output.annotations.append(Annotation("title", found.title, data={
                "source": found.source}))
        if found.ocr_pages:
            output.annotations.append(Annotation(
                "ocr-pages", ",".join(str(p) for p in found.ocr_pages)))
        if found.truncated:
            output.notes.append("the text was cut at a size limit; search sees its beginning")
        return output
