"""Web archives: each capture of a WARC or WACZ a child item whose original is its payload.

The payload (the body as the server sent it) is what a capture shows, so it is the entry's
own original: the same page captured twice, or a revisit record resolved to its original
capture, is one item seen again. The record keeps what the archive says of the capture
(URL, time, status, headers, digest), and a WARC-Record-ID, unique by the standard, is its
key. Payloads too big to hold in memory are re-read from their record's offset when they
are stored, straight from the archive.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

from svidok.sources import wacz, warc
from svidok.sources.importer import (
    CERTAIN,
    Container,
    Entry,
    ImportFailed,
    ImportOptions,
    Opener,
)
from svidok.sources.problems import Problem

HEAD_PLAIN = 64
# Read at each import (not bound as defaults), so tests can make them small.
MAX_PAYLOAD = warc.MAX_PAYLOAD
REVISIT_CACHE = warc.REVISIT_CACHE


class WarcImporter:
    name: ClassVar[str] = "warc"
    version: ClassVar[int] = 1
    title: ClassVar[str] = "web archive (WARC)"

    def score(self, container: Container) -> int:
        head = container.head
        if head.startswith(b"\x1f\x8b"):
            try:
                head = zlib.decompressobj(wbits=31).decompress(head, HEAD_PLAIN)
            except zlib.error:
                return 0
        return CERTAIN if head.startswith(b"WARC/1.") else 0

    def read(self, container: Container, options: ImportOptions) -> Iterator[Entry | Problem]:
        path = container.path
        try:
            captures = warc.read_warc(path, max_payload=MAX_PAYLOAD,
                                      revisit_cache=REVISIT_CACHE)
            yield from _captures(captures, lambda _: lambda: path.open("rb"))
        except warc.ArchiveError as exc:
            raise ImportFailed(str(exc)) from None


class WaczImporter:
    name: ClassVar[str] = "wacz"
    version: ClassVar[int] = 1
    title: ClassVar[str] = "web archive package (WACZ)"

    def score(self, container: Container) -> int:
        if not container.head.startswith(b"PK\x03\x04"):
            return 0
        try:
            with zipfile.ZipFile(container.path) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            return 0
        if "datapackage.json" in names:
            return CERTAIN
        wacz_named = container.name.lower().endswith(".wacz")
        return CERTAIN if wacz_named and any(n.startswith("archive/") for n in names) else 0

    def read(self, container: Container, options: ImportOptions) -> Iterator[Entry | Problem]:
        path = container.path
        reported: set[tuple[str, str]] = set()
        try:
            captures = wacz.read_wacz(path, max_payload=MAX_PAYLOAD,
                                      revisit_cache=REVISIT_CACHE)
            for found in _captures(captures, lambda name: _member(path, name)):
                if isinstance(found, Problem):
                    reported.add((found.where, found.message))
                yield found
            pages = 0
            for page in wacz.read_wacz_pages(path):
                if isinstance(page, Problem):
                    if (page.where, page.message) not in reported:
                        yield page
                    continue
                yield _page_entry(pages, page)
                pages += 1
        except warc.ArchiveError as exc:
            raise ImportFailed(str(exc)) from None


# Where a WARC's bytes are: the file itself, or a member of a WACZ, by that member's name.
Archive = Callable[[str | None], Opener]


def _member(path: Path, name: str | None) -> Opener:
    def opener() -> IO[bytes]:
        zf = zipfile.ZipFile(path)
        try:
            # The member keeps the zip's file open after the ZipFile itself is closed.
            return zf.open(name or "")
        finally:
            zf.close()
    return opener


def _captures(found: Iterator[warc.WebCapture | Problem],
              archive: Archive) -> Iterator[Entry | Problem]:
    # Where each payload was first seen, to re-read a revisit's original when the parser
    # no longer holds it: (WARC member name, offset, gzipped as one stream).
    first_seen: dict[str, tuple[str | None, int, bool]] = {}
    for capture in found:
        if isinstance(capture, Problem):
            yield capture
            continue
        where = _locator(capture)
        if capture.digest_ok is False:
            yield Problem(where, "the payload does not match its WARC-Payload-Digest: it "
                          "was changed or damaged after capture")
        whole = warc.WHOLE_GZIP_NOTE in capture.notes
        sha = capture.payload_sha256
        if sha is not None and capture.warc_type != "revisit":
            first_seen.setdefault(sha, (capture.warc_name, capture.offset, whole))
        payload: bytes | Opener | None = capture.payload
        missing: tuple[dict[str, Any], ...] = ()
        if payload is None and sha is not None and sha in first_seen:
            name, offset, gzipped = first_seen[sha]
            payload = _reader(archive(name), offset, gzipped)
        elif payload is None:
            missing = ({"payload": capture.revisit_of or "unknown",
                        "missing": "the original capture is not in this archive"},)
        yield Entry(locator=where, kind="web-response", fields=_fields(capture),
                    key=f"warc:{capture.record_id}" if capture.record_id else None,
                    time=capture.captured_at, payload=payload, missing=missing)


def _reader(opener: Opener, offset: int, whole_gzip: bool) -> Opener:
    return lambda: warc.open_payload(opener, offset, whole_gzip=whole_gzip)


def _locator(capture: warc.WebCapture) -> str:
    prefix = f"{capture.warc_name} " if capture.warc_name else ""
    return f"{prefix}record {capture.index} (byte {capture.offset})"


def _fields(c: warc.WebCapture) -> dict[str, Any]:
    return _compact({
        "warc": c.warc_name, "warc_type": c.warc_type, "record_id": c.record_id,
        "url": c.url, "captured_at": c.captured_at.isoformat() if c.captured_at else None,
        "status": c.status, "http_headers": [[k, v] for k, v in c.http_headers] or None,
        "content_type": c.content_type, "payload_digest": c.payload_digest,
        "digest_ok": c.digest_ok, "payload_sha256": c.payload_sha256,
        "payload_size": c.payload_size, "revisit_of": c.revisit_of,
        "original_id": c.original_id, "notes": list(c.notes) or None})


def _page_entry(number: int, page: wacz.WebPage) -> Entry:
    fields = _compact({"url": page.url, "title": page.title, "ts": page.ts})
    # A page has no bytes of its own; the URL and time it was captured name it.
    return Entry(locator=f"page {number}", kind="page", fields=fields,
                 key=f"wacz-page:{page.url} {page.ts or ''}", time=page.captured_at,
                 name=page.title)


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}
