"""WhatsApp "Export chat": the chat text, each message, and the media the zip holds.

WhatsApp gives messages no ids, so a message's identity across exports of the same chat is
the chat's name, its local time and sender, and how many messages that sender wrote in that
minute before it; its version is what it says and which files it names. A newer export of
the chat then adds only new messages and makes a sighting of the others.

Times are the phone's wall-clock time without a zone. They are recorded as local time;
only with ``--tz`` does a message get a UTC time, and the record names the zone used.

Nothing in a zip is written to disk: each medium is read from the zip into the blob store,
and members the parser refused (traversal, links, bombs, encryption) are never opened.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path, PurePosixPath
from typing import IO, Any, ClassVar

from svidok.sources import whatsapp as wa
from svidok.sources.importer import (
    LIKELY,
    POSSIBLE,
    Container,
    Entry,
    ImportFailed,
    ImportOptions,
    Opener,
)
from svidok.sources.problems import Problem

ZIP_TYPES = ("application/zip", "application/x-zip-compressed")
HEAD_LINES = 5
# A medium up to this size is read (and its CRC checked) here, so a damaged member is a
# problem of its own; a larger one is checked by a first pass and stored by a second.
IN_MEMORY = 16 * 1024 * 1024
BLOCK = 1024 * 1024
_BARE = re.compile(r"[^/\\\x00]+")


class WhatsAppImporter:
    name: ClassVar[str] = "whatsapp"
    version: ClassVar[int] = 1
    title: ClassVar[str] = "WhatsApp chat export"

    def score(self, container: Container) -> int:
        if container.head.startswith(b"PK\x03\x04") or container.media_type in ZIP_TYPES:
            return _zip_score(container.path)
        if container.media_type.startswith("text/") \
                or container.media_type == "application/octet-stream":
            return LIKELY if _first_lines_match(container.head) else 0
        return 0

    def read(self, container: Container, options: ImportOptions) -> Iterator[Entry | Problem]:
        try:
            export = wa.read_export(container.path)
        except wa.ExportError as exc:
            raise ImportFailed(str(exc)) from None
        try:
            result = wa.parse_chat(export.text, date_order=options.date_order)
        except wa.DateOrderUnknown as exc:
            # The parser's message says which option to pass; the same ingest with it
            # reads the file again, unchanged as it is, since this reading failed.
            raise ImportFailed(f"cannot tell day from month: {exc}") from None
        if result.platform is None:
            raise ImportFailed("no WhatsApp message header found: not a chat export")
        for p in (*export.problems, *result.problems):
            yield Problem(f"line {p.line}", p.message)
        if not zipfile.is_zipfile(container.path):
            # The preserved copy is named by its hash; the chat by its own name.
            export = replace(export, source_name=container.name)
            yield _chat_entry(container, export, result, options, in_zip=False)
            yield from _messages(container, export, result, options, None)
            return
        yield _chat_entry(container, export, result, options, in_zip=True)
        try:
            # One open zip for every medium: opening it again per member would read
            # its whole directory each time.
            zf = zipfile.ZipFile(container.path)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise ImportFailed(f"the zip cannot be opened again ({type(exc).__name__})") \
                from None
        with zf:
            yield from _messages(container, export, result, options, zf)


def _zip_score(path: Path) -> int:
    try:
        with zipfile.ZipFile(path) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
            if any(_is_chat_name(n) for n in names):
                return LIKELY
            texts = [n for n in names if n.lower().endswith(".txt")]
            if len(texts) == 1:
                with zf.open(texts[0]) as fh:
                    return POSSIBLE if _first_lines_match(fh.read(4096)) else 0
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError,
            NotImplementedError, ValueError):
        return 0
    return 0


def _is_chat_name(name: str) -> bool:
    base = PurePosixPath(name).name.lower()
    return base == "_chat.txt" or ("whatsapp" in base and base.endswith(".txt"))


def _first_lines_match(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head[:4096].decode("utf-16", errors="replace")
    else:
        text = head[:4096].decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = [line for line in text.split("\n")[:HEAD_LINES] if line.strip()]
    return bool(lines) and wa.header_platform(lines[0]) is not None


def _chat_name(container: Container, export: wa.ChatExport) -> str:
    """The chat as its export names it: "WhatsApp Chat with Olena". iOS names the text
    ``_chat.txt`` in every zip, so there the zip's own name says which chat it is."""
    source = PurePosixPath(export.source_name.replace("\\", "/")).name
    if source.lower() == "_chat.txt":
        source = container.name
    return PurePosixPath(source).stem


def _chat_entry(container: Container, export: wa.ChatExport, result: wa.ChatResult,
                options: ImportOptions, *, in_zip: bool) -> Entry:
    chat = _chat_name(container, export)
    fields = _compact({
        "chat": chat, "source_name": export.source_name, "encoding": export.encoding,
        "platform": result.platform, "clock": result.clock,
        "date_order": result.date_order.value if result.date_order else None,
        "date_order_given": options.date_order is not None or None,
        "time_zone": str(options.tz) if options.tz else None,
        "messages": len(result.messages), "members": len(export.members) or None})
    # In a zip the chat text is a file of its own, kept as it is; a bare .txt is the
    # container itself, so the chat is its reading only.
    payload = _member_opener(container.path, export.source_name) if in_zip else None
    return Entry(locator="chat", kind="chat", fields=fields, key=f"whatsapp:{chat}",
                 version={"chat": chat, "platform": result.platform},
                 name=export.source_name, payload=payload)


def _messages(container: Container, export: wa.ChatExport, result: wa.ChatResult,
              options: ImportOptions, zf: zipfile.ZipFile | None) -> Iterator[Entry | Problem]:
    """The messages; with ``zf`` (a zip export) the media it holds, else the files beside
    the chat text that its messages name."""
    chat = _chat_name(container, export)
    match = wa.match_attachments(result.messages, export.members)
    refused = {PurePosixPath(m.name.replace("\\", "/")).name: m.problem
               for m in export.members if m.problem is not None}
    missing_of: dict[int, list[str]] = {}
    for index, name in match.missing:
        missing_of.setdefault(index, []).append(name)
    seen: dict[tuple[str, str], int] = {}
    for m in result.messages:
        sender = m.sender or ""
        pair = (m.local_time.isoformat(), sender)
        n = seen.get(pair, 0)
        seen[pair] = n + 1
        locator = f"message {m.index}"
        missing: list[dict[str, Any]] = []
        if m.omitted_media:
            missing.append({"missing": "the chat was exported without media"})
        files: tuple[str, ...] = ()
        if zf is not None:
            for name in missing_of.get(m.index, []):
                reason = refused.get(name)
                missing.append({"name": name, "missing": f"refused: {reason}" if reason
                                else "not in the export"})
        else:
            files, refused_names = _beside(m.attachments)
            missing += [{"name": name, "missing": "refused: not a bare file name"}
                        for name in refused_names]
        yield _message_entry(m, chat, n, options.tz, locator, files, tuple(missing))
        if zf is not None:
            for name in match.by_message.get(m.index, []):
                yield from _member_entry(zf, container.path, name, f"{locator} file {name}",
                                         "media", locator)
    if zf is None:
        return
    for member in export.members:
        if member.problem is not None:
            yield Problem(f"member {_shown(member.name)}", f"not extracted: {member.problem}")
    for name in match.unreferenced:
        yield from _member_entry(zf, container.path, name, f"member {name}", "attachment",
                                 None)


def _message_entry(m: wa.ChatMessage, chat: str, n: int, tz: tzinfo | None, locator: str,
                   files: tuple[str, ...], missing: tuple[dict[str, Any], ...]) -> Entry:
    local = m.local_time.isoformat()
    when, note = _utc(m.local_time, tz)
    fields = _compact({
        "index": m.index, "line": m.line, "sender": m.sender, "local_time": local,
        "time_zone": str(tz) if tz else None, "time_note": note, "text": m.text,
        "system": m.system or None, "deleted": m.deleted or None, "edited": m.edited or None,
        "attachments": list(m.attachments) or None,
        "omitted_media": m.omitted_media or None})
    return Entry(locator=locator, kind="message", fields=fields, parent="chat",
                 key=f"whatsapp:{chat}:{local}:{m.sender or ''}:{n}",
                 version={"text": m.text, "attachments": list(m.attachments)},
                 time=when, name=None, files=files, missing=missing)


def _utc(local: datetime, tz: tzinfo | None) -> tuple[datetime | None, str | None]:
    if tz is None:
        return None, None
    first = local.replace(tzinfo=tz, fold=0)
    second = local.replace(tzinfo=tz, fold=1)
    note = None
    if first.utcoffset() != second.utcoffset():
        back = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        note = ("ambiguous local time (the clocks went back); the first of the two readings "
                "is used") if back == local else (
            "local time that did not exist (the clocks went forward)")
    return first.astimezone(UTC), note


def _beside(names: tuple[str, ...]) -> tuple[tuple[str, ...], list[str]]:
    """Files a bare .txt names: only plain names in its own folder are looked for."""
    ok = tuple(n for n in names if _BARE.fullmatch(n) and n not in (".", ".."))
    return ok, [n for n in names if n not in ok]


def _member_entry(zf: zipfile.ZipFile, path: Path, member: str, locator: str, kind: str,
                  parent: str | None) -> Iterator[Entry | Problem]:
    name = PurePosixPath(member.replace("\\", "/")).name
    try:
        info = zf.getinfo(member)
        with zf.open(info) as fh:
            payload: bytes | Opener
            if info.file_size <= IN_MEMORY:
                payload = fh.read(IN_MEMORY + 1)
                size = len(payload)
            else:
                size = 0
                while block := fh.read(BLOCK):  # the CRC is checked at the end
                    size += len(block)
                payload = _member_opener(path, member)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError,
            NotImplementedError, KeyError, ValueError) as exc:
        yield Problem(f"member {_shown(member)}", f"cannot be read ({type(exc).__name__}); "
                      "not stored")
        return
    yield Entry(locator=locator, kind=kind, parent=parent, name=name,
                fields={"name": member, "size": size}, payload=payload)


def _member_opener(path: Path, member: str) -> Opener:
    def opener() -> IO[bytes]:
        zf = zipfile.ZipFile(path)
        try:
            # The member keeps the zip's file open after the ZipFile itself is closed.
            return zf.open(member)
        finally:
            zf.close()
    return opener


def _shown(name: str) -> str:
    return name.encode("unicode_escape").decode("ascii")[:200]


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}
