"""E-mail: single messages (.eml) and mailboxes (.mbox), read message by message.

Each message keeps its exact bytes (they are the evidence) and is parsed with the standard
library's ``email`` package for what people search: sender, recipients, subject, the
``Date:`` the sender claimed, ``Message-ID``, the ``Received:`` chain (the servers' own
record of the route, top first), text and HTML bodies, and attachments.

An mbox is split on separator lines that look like one (``From <sender> <asctime date>``),
not on every line starting "From ": unescaped "From " lines in bodies are common, and
splitting on them cuts a letter in two. Bytes are never rewritten (no ``>From``
unescaping). A message larger than the cap, or one the parser cannot read, becomes a
:class:`Problem` for that message and the next one is read.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path, PurePath
from typing import BinaryIO

from svidok.sources.problems import Problem

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
# "From sender@example.org Sun Aug  7 11:40:37 2022", with optional time zone or extras.
_SEPARATOR = re.compile(
    rb"From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct"
    rb"|Nov|Dec) +\d{1,2} \d{1,2}:\d\d(?::\d\d)? (?:[A-Z]{3,4} |[+-]\d{4} )?\d{4}")


class MailError(Exception):
    """The file cannot be read as e-mail at all; the message says why."""


@dataclass(frozen=True)
class Attachment:
    name: str | None  # the file name the sender gave, reduced to a bare name
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Mail:
    index: int  # position in the mailbox, from 0; 0 for a single message
    offset: int  # byte offset of the message (after its separator line) in the file
    raw: bytes  # the message exactly as stored: what is preserved and hashed
    message_id: str | None
    subject: str | None
    sender: str | None
    recipients: tuple[str, ...]  # To, Cc and Bcc addresses
    date: datetime | None  # the Date header, with the offset the sender's program wrote
    date_note: str | None  # why ``date`` is missing or lacks an offset
    received: tuple[str, ...]  # Received headers, newest (top) first
    text: str
    html: str | None
    attachments: tuple[Attachment, ...]
    defects: tuple[str, ...]  # what the parser had to repair, by kind


def starts_mbox(head: bytes) -> bool:
    """Whether a file's first bytes begin with an mbox separator line."""
    return _SEPARATOR.match(head) is not None


def read_eml(path: Path) -> Mail | Problem:
    try:
        raw = _read_capped(path)
    except OSError as exc:
        raise MailError(f"cannot read {path.name}: {exc.strerror}") from None
    if raw is None:
        return Problem("the message", f"larger than {MAX_MESSAGE_BYTES:,} bytes; stored, "
                       "not parsed")
    return parse_message(raw, 0, 0)


def read_mbox(path: Path) -> Iterator[Mail | Problem]:
    """Every message of an mbox, in order; the file is read line by line."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise MailError(f"cannot read {path.name}: {exc.strerror}") from None
    with fh:
        first = fh.readline()
        if not _SEPARATOR.match(first):
            raise MailError(f"{path.name} is not an mbox: it does not begin with a "
                            "'From ' separator line")
        yield from _messages(fh, len(first))


def _messages(fh: BinaryIO, start: int) -> Iterator[Mail | Problem]:
    index, offset, position = 0, start, start
    lines: list[bytes] = []
    size = 0
    too_big = False
    previous_blank = True
    for line in fh:
        if previous_blank and _SEPARATOR.match(line):
            yield _finish(index, offset, lines, too_big)
            index, offset = index + 1, position + len(line)
            lines, size, too_big = [], 0, False
        else:
            size += len(line)
            if size > MAX_MESSAGE_BYTES:
                too_big, lines = True, []
            elif not too_big:
                lines.append(line)
        position += len(line)
        previous_blank = line in (b"\n", b"\r\n")
    yield _finish(index, offset, lines, too_big)


def _finish(index: int, offset: int, lines: list[bytes], too_big: bool) -> Mail | Problem:
    if too_big:
        return Problem(f"message {index} (byte {offset})",
                       f"larger than {MAX_MESSAGE_BYTES:,} bytes; not parsed")
    raw = b"".join(lines)
    # The blank line before the next separator belongs to the mbox, not to the letter.
    if raw.endswith(b"\r\n\r\n"):
        raw = raw[:-2]
    elif raw.endswith(b"\n\n"):
        raw = raw[:-1]
    return parse_message(raw, index, offset)


def parse_message(raw: bytes, index: int = 0, offset: int = 0) -> Mail | Problem:
    where = f"message {index} (byte {offset})"
    if not raw.strip():
        return Problem(where, "the message is empty")
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        date, note = _date(msg)
        text, html, attachments = _parts(msg)
        return Mail(
            index=index, offset=offset, raw=raw,
            message_id=_header(msg, "Message-ID"), subject=_header(msg, "Subject"),
            sender=_header(msg, "From"),
            recipients=tuple(addr for _, addr in getaddresses(
                [str(v) for name in ("To", "Cc", "Bcc") for v in msg.get_all(name, [])])
                if addr),
            date=date, date_note=note,
            received=tuple(str(v) for v in msg.get_all("Received", [])),
            text=text, html=html, attachments=attachments,
            defects=tuple(sorted({type(d).__name__ for part in msg.walk()
                                  for d in part.defects})))
    except Exception as exc:  # a hostile message must cost only itself
        return Problem(where, f"cannot be parsed ({type(exc).__name__}); stored as it is")


def _header(msg: EmailMessage, name: str) -> str | None:
    try:
        value = msg.get(name)
    except Exception:  # headers are parsed lazily; a broken one raises here
        return None
    return None if value is None else str(value)


def _date(msg: EmailMessage) -> tuple[datetime | None, str | None]:
    value = _header(msg, "Date")
    if value is None:
        return None, "the message has no Date header"
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None, "the Date header cannot be read"
    if parsed.tzinfo is None:
        return parsed, "the Date header has no time-zone offset (-0000 or none)"
    return parsed, None


def _parts(msg: EmailMessage) -> tuple[str, str | None, tuple[Attachment, ...]]:
    texts: list[str] = []
    html: str | None = None
    attachments: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        disposition = part.get_content_disposition()
        if disposition != "attachment" and kind == "text/plain":
            texts.append(_decoded(part))
        elif disposition != "attachment" and kind == "text/html" and html is None:
            html = _decoded(part)
        elif kind != "message/rfc822":
            payload = part.get_payload(decode=True)
            attachments.append(Attachment(_bare_name(part.get_filename()), kind,
                                          payload if isinstance(payload, bytes) else b""))
    return "\n".join(texts), html, tuple(attachments)


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return payload.decode("utf-8", errors="replace")


def _bare_name(name: str | None) -> str | None:
    """The last component only: a sender's "../../x" or "C:\\x" names no place here."""
    if not name:
        return None
    bare = PurePath(name.replace("\\", "/")).name.strip().lstrip(".")
    return bare[:255] or None


def _read_capped(path: Path) -> bytes | None:
    with path.open("rb") as fh:
        data = fh.read(MAX_MESSAGE_BYTES + 1)
    return None if len(data) > MAX_MESSAGE_BYTES else data
