"""DOCX: paragraphs and tables (python-docx), after the ZIP is checked for bombs."""

from __future__ import annotations

import zipfile
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


def _check_docx_zip(fh: IO[bytes], name: str, limits: DocumentLimits) -> None:
    """Refuse a ZIP that is not a DOCX, or that expands too far, before python-docx."""
    try:
        with zipfile.ZipFile(fh) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise DocumentError(f"{name} is not a readable ZIP, so not a DOCX "
                            f"({reason(exc)})") from None
    names = {member.filename for member in members}
    if "word/document.xml" not in names:
        what = ("an OpenDocument file; not supported: convert it to DOCX or PDF"
                if "content.xml" in names else "a ZIP archive but not a Word document "
                "(no word/document.xml)")
        raise DocumentError(f"{name} is {what}")
    total = 0
    for member in members:
        if member.flag_bits & 0x1:
            raise DocumentError(f"{name}: DOCX member {member.filename!r} is encrypted")
        total += member.file_size
        if member.file_size > limits.max_docx_member_bytes:
            raise DocumentError(f"{name}: DOCX member {member.filename!r} expands to "
                                f"{member.file_size:,} bytes, more than "
                                f"{limits.max_docx_member_bytes:,}; refused (a zip bomb?)")
        if (member.file_size > limits.docx_ratio_floor_bytes
                and member.file_size > limits.max_docx_ratio * max(member.compress_size, 1)):
            raise DocumentError(f"{name}: DOCX member {member.filename!r} expands "
                                f"{member.file_size / max(member.compress_size, 1):,.0f} "
                                "times its compressed size; refused (a zip bomb?)")
    if total > limits.max_docx_total_bytes:
        raise DocumentError(f"{name}: the DOCX expands to {total:,} bytes, more than "
                            f"{limits.max_docx_total_bytes:,}; refused (a zip bomb?)")


def read_docx(fh: IO[bytes], name: str, limits: DocumentLimits) -> Document:
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.parts.coreprops import CorePropertiesPart
    from docx.table import Table

    _check_docx_zip(fh, name, limits)
    fh.seek(0)
    try:
        document = docx.Document(fh)
        blocks = list(document.iter_inner_content())
    except Exception as exc:  # python-docx raises many kinds on damaged packages
        raise DocumentError(f"{name} is a damaged DOCX ({reason(exc)})") from None

    notes: list[str] = []
    problems: list[Problem] = []
    sink = TextSink(limits.max_text_chars)
    tables = 0
    for block in blocks:
        try:
            if isinstance(block, Table):
                tables += 1
                part = _table_text(block)
            else:
                part = block.text
        except Exception as exc:
            what = f"table {tables}" if isinstance(block, Table) else "a paragraph"
            problems.append(Problem(f"DOCX {what}", f"cannot be read ({type(exc).__name__})"))
            continue
        if not sink.add(part):
            notes.append(f"text cut at {limits.max_text_chars:,} characters")
            break

    title = author = language = None
    created: datetime | None = None
    try:
        # Not ``document.core_properties``: for a file without them, python-docx makes up
        # a default set (title "Word Document", modified now), which is no claim of the file.
        core = document.part.package.part_related_by(RT.CORE_PROPERTIES)
    except KeyError:
        core = None
    try:
        if isinstance(core, CorePropertiesPart):
            props = core.core_properties
            title, author = clean(props.title), clean(props.author)
            language = clean(props.language, 35)
            created = props.created
    except Exception as exc:
        problems.append(Problem("DOCX core properties",
                                f"cannot be read ({type(exc).__name__})"))
    if created is not None:
        notes.append("creation time from the DOCX's core properties: the file's claim")
    text = sink.text().strip("\n")
    if not text.strip():
        notes.append("the DOCX has no text in its body (text boxes, headers and footers "
                     "are not read)")
    return Document(kind="docx", title=title, author=author, published=None,
                    published_text=None, created=created, text=text,
                    language_hint=language, pages=None, links=(), notes=tuple(notes),
                    problems=tuple(problems))


def _table_text(table: object) -> str:
    """A line per row, cells separated by tabs; a merged cell once, not per grid column."""
    from docx.table import Table

    assert isinstance(table, Table)
    lines = []
    for row in table.rows:
        cells: list[str] = []
        previous: object = None
        for cell in row.cells:
            if cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(" ".join(cell.text.split()))
        lines.append("\t".join(cells))
    return "\n".join(lines)
