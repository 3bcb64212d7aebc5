"""E-mail: each message of a mailbox, or the one message of an .eml, with its attachments.

A message's identity is its exact bytes: in an mbox each message is its own original, so
the same letter in two mailboxes is one item seen twice. Its key is ``email:`` and the
SHA-256 of those bytes, which lets an .eml of the same letter find it too.

An .eml file *is* the message, and is already stored as it came. Giving its bytes again as
the message's payload would make the message a sighting of its own container, with the
fields kept on that sighting and the attachments hung on the file. So an .eml yields the
message as fields only (keyed by the bytes' hash, so reading it again is a sighting), and
its attachments as children of that message: the same tree as a message in a mailbox.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC
from typing import Any, ClassVar

from svidok.sources import email as mail
from svidok.sources.importer import (
    CERTAIN,
    LIKELY,
    POSSIBLE,
    Container,
    Entry,
    ImportFailed,
    ImportOptions,
)
from svidok.sources.problems import Problem

# Bodies go into the record, which is stored and hashed as JSON; the message's bytes are
# the original, so a cut body loses nothing, and the record says it was cut.
MAX_TEXT_CHARS = 4 * 1024 * 1024
MAX_HTML_CHARS = 1024 * 1024

_HEADER = re.compile(rb"[!-9;-~]+:")  # a header name: printable ASCII without ":"
_KNOWN = frozenset({b"from", b"to", b"cc", b"date", b"subject", b"message-id", b"received",
                    b"return-path", b"mime-version", b"content-type", b"delivered-to",
                    b"reply-to", b"sender", b"x-mailer", b"dkim-signature", b"references",
                    b"in-reply-to"})
_IDENTIFYING = frozenset({b"from", b"received", b"message-id", b"return-path"})


class MboxImporter:
    name: ClassVar[str] = "mbox"
    version: ClassVar[int] = 1
    title: ClassVar[str] = "mailbox (mbox)"

    def score(self, container: Container) -> int:
        return CERTAIN - POSSIBLE if mail.starts_mbox(container.head) else 0

    def read(self, container: Container, options: ImportOptions) -> Iterator[Entry | Problem]:
        try:
            for found in mail.read_mbox(container.path):
                if isinstance(found, Problem):
                    yield found
                else:
                    yield from _entries(found, f"message {found.index}", payload=True)
        except mail.MailError as exc:
            raise ImportFailed(str(exc)) from None


class EmailImporter:
    name: ClassVar[str] = "email"
    version: ClassVar[int] = 1
    title: ClassVar[str] = "e-mail message (.eml)"

    def score(self, container: Container) -> int:
        if container.media_type == "message/rfc822":
            return LIKELY + POSSIBLE
        found = _header_names(container.head)
        if found & _IDENTIFYING and len(found & _KNOWN) >= 2:
            return LIKELY
        return 0

    def read(self, container: Container, options: ImportOptions) -> Iterator[Entry | Problem]:
        try:
            found = mail.read_eml(container.path)
        except mail.MailError as exc:
            raise ImportFailed(str(exc)) from None
        if isinstance(found, Problem):
            yield found
            return
        yield from _entries(found, "message 0", payload=False)


def _header_names(head: bytes) -> set[bytes]:
    """The header names a file begins with; empty unless every line up to the first blank
    one (or the end of the head) is a header or its continuation."""
    names: set[bytes] = set()
    lines = head.split(b"\n")
    # The head may end inside a line; a whole header block has a blank line after it.
    for line in lines[:-1] if len(lines) > 1 else lines:
        line = line.rstrip(b"\r")
        if not line:
            break
        if line[:1] in (b" ", b"\t") and names:
            continue
        match = _HEADER.match(line)
        if match is None:
            return set()
        names.add(match.group()[:-1].lower())
    return names


def _entries(m: mail.Mail, locator: str, *, payload: bool) -> Iterator[Entry]:
    digest = hashlib.sha256(m.raw).hexdigest()
    text, text_cut = _capped(m.text, MAX_TEXT_CHARS)
    html, html_cut = _capped(m.html, MAX_HTML_CHARS)
    fields = _compact({
        "from": m.sender, "to": list(m.recipients) or None,
        "date": m.date.isoformat() if m.date else None, "date_note": m.date_note,
        "message_id": m.message_id, "subject": m.subject,
        "received": list(m.received) or None, "text": text or None,
        "text_cut": f"cut at {MAX_TEXT_CHARS:,} of {len(m.text):,} characters"
        if text_cut else None,
        "html": html, "html_cut": f"cut at {MAX_HTML_CHARS:,} of {len(m.html or ''):,} "
        "characters" if html_cut else None,
        "defects": list(m.defects) or None, "attachments": len(m.attachments) or None,
        "size": len(m.raw)})
    # Where it sits in the file is not part of the letter: the same bytes elsewhere are
    # the same letter.
    version = dict(fields)
    if payload:
        fields = {**fields, "index": m.index, "offset": m.offset}
    aware = m.date is not None and m.date.tzinfo is not None
    yield Entry(locator=locator, kind="email", fields=fields, key=f"email:{digest}",
                version=version, time=m.date.astimezone(UTC) if m.date and aware else None,
                payload=m.raw if payload else None)
    for number, attachment in enumerate(m.attachments):
        yield Entry(
            locator=f"{locator} attachment {number}", kind="attachment", parent=locator,
            fields=_compact({"name": attachment.name,
                             "content_type": attachment.content_type,
                             "size": len(attachment.data)}),
            name=attachment.name, payload=attachment.data)


def _capped(value: str | None, limit: int) -> tuple[str | None, bool]:
    if value is None or len(value) <= limit:
        return value, False
    return value[:limit], True


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}
