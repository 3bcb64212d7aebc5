"""Web archives: WARC files (ISO 28500, plain or gzipped) and WACZ packages, read as streams.

A WARC is a sequence of records. Each ``response`` and ``resource`` record becomes a
:class:`WebCapture` with its URL, capture time (``WARC-Date``, UTC by the standard), HTTP
status and headers, and its payload: the body as the server sent it, with the
``Transfer-Encoding: chunked`` framing removed and any ``Content-Encoding`` (gzip, br) kept,
which is what ``WARC-Payload-Digest`` is defined over. ``request``, ``warcinfo``,
``metadata`` and ``conversion`` records are skipped: they describe captures, they are not
captures. (The WARC file itself is the original that is preserved byte for byte.)

A ``revisit`` record has no payload of its own: the crawler saw the same payload again and
pointed at an earlier record. It is resolved to that record when the earlier one is in the
same file (or, in a WACZ, in the same package), by ``WARC-Refers-To``, then by
``WARC-Refers-To-Target-URI`` and ``WARC-Refers-To-Date``, then by payload digest; otherwise
the capture says the payload is in another archive.

Records are read one at a time with warcio. Memory is bounded: a payload is kept in memory
only up to ``max_payload`` bytes (larger ones are hashed and measured while streaming, and
can be re-read from the record's byte ``offset``); revisit resolution keeps a few facts per
record and at most ``revisit_cache`` bytes of earlier payloads.

Bad input costs only its own part. A record that is truncated or damaged becomes a
:class:`Problem` naming the record and its byte offset, and reading stops there: a gzip
stream cannot be re-synchronised. Everything before it is kept. A file that is not a WARC
at all raises :class:`ArchiveError`. Problems never quote the archive's content.

WACZ packages are read in wacz.py.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import io
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.limitreader import LimitReader

from svidok.sources.problems import Problem

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MAX_PAYLOAD = 64 * 1024 * 1024  # payloads up to this size are kept in memory
MAX_RECORD = 64 * 1024 * 1024 * 1024  # a record declaring more is not read
REVISIT_CACHE = 256 * 1024 * 1024  # earlier payloads kept to resolve revisits
CAPTURE_TYPES = ("response", "resource", "revisit")
BLOCK = 1024 * 1024
_WARC_DATE = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)?\Z")
_HEX = re.compile(r"[0-9a-fA-F]+\Z")
WHOLE_GZIP_NOTE = ("the file is gzipped as one stream, not one gzip member per record: the "
                   "offset is a position in the decompressed WARC")


class ArchiveError(Exception):
    """The file cannot be read as a web archive at all; the message says why."""


@dataclass(frozen=True)
class WebCapture:
    index: int  # record number in its WARC file, from 0, counting every record
    offset: int  # byte offset of the record in the WARC file as stored (gzipped or not)
    warc_type: str  # "response", "resource" or "revisit"
    record_id: str | None  # WARC-Record-ID, e.g. "<urn:uuid:...>"
    url: str | None  # WARC-Target-URI
    captured_at: datetime | None  # WARC-Date in UTC, fractions of a second kept (to µs)
    status: int | None  # HTTP status; None for a resource record or no HTTP headers
    http_headers: tuple[tuple[str, str], ...]  # as stored, in order, repeats kept
    content_type: str | None  # HTTP Content-Type, else the record's own Content-Type
    payload_digest: str | None  # WARC-Payload-Digest as given ("sha1:BASE32...")
    digest_ok: bool | None  # the payload checked against it; None: no digest, or unknown
    payload_sha256: str | None  # hex, computed while reading; None: revisit not resolved
    payload_size: int | None
    payload: bytes | None  # None when over max_payload, or a revisit's original is gone
    revisit_of: str | None = None  # what a revisit refers to, as it says it
    original_id: str | None = None  # WARC-Record-ID of the record a revisit resolved to
    warc_name: str | None = None  # the WARC's member name inside a WACZ; None otherwise
    notes: tuple[str, ...] = ()  # what a reader should know: missing payloads, odd dates


@dataclass
class _Original:
    record_id: str | None
    where: str
    sha256: str
    size: int
    content_type: str | None
    status: int | None
    http_headers: tuple[tuple[str, str], ...]


@dataclass
class Resolver:
    """What revisits can refer to, with a bounded cache of earlier payloads."""

    cache_limit: int
    by_id: dict[str, _Original] = field(default_factory=dict)
    by_uri_date: dict[tuple[str, str], _Original] = field(default_factory=dict)
    by_digest: dict[str, _Original] = field(default_factory=dict)
    payloads: OrderedDict[str, bytes] = field(default_factory=OrderedDict)  # by sha256
    cached: int = 0

    def add(self, original: _Original, uri: str | None, date: str | None,
            digest: str | None, payload: bytes | None) -> None:
        if original.record_id:
            self.by_id[original.record_id] = original
        if uri and date:
            self.by_uri_date[(uri, date)] = original
        if digest:
            self.by_digest[digest] = original
        if payload is not None and len(payload) <= self.cache_limit \
                and original.sha256 not in self.payloads:
            self.payloads[original.sha256] = payload
            self.cached += len(payload)
            while self.cached > self.cache_limit:
                _, dropped = self.payloads.popitem(last=False)
                self.cached -= len(dropped)

    def find(self, refers_to: str | None, uri: str | None, date: str | None,
             digest: str | None) -> _Original | None:
        if refers_to and refers_to in self.by_id:
            return self.by_id[refers_to]
        if uri and date and (uri, date) in self.by_uri_date:
            return self.by_uri_date[(uri, date)]
        if digest and not refers_to and digest in self.by_digest:
            return self.by_digest[digest]
        return None


# warcio logs a target URI that holds spaces at warning level; a URL can be evidence.
logging.getLogger("warcio.recordloader").setLevel(logging.ERROR)


class _Iterator(ArchiveIterator):  # type: ignore[misc]
    # warcio writes the bytes that follow a bad record to stderr; never echo evidence.
    INC_RECORD = ""

    def __init__(self, fileobj: IO[bytes] | _Unzipped) -> None:
        super().__init__(fileobj, no_record_parse=False, verify_http=False, arc2warc=False)
        self.known_format = "warc"


class _Tee:
    """Reads through to ``stream``, hashing and counting what passes."""

    def __init__(self, stream: Any, algorithm: str | None) -> None:
        self.stream = stream
        self.digest = hashlib.new(algorithm) if algorithm else None
        self.size = 0

    def _seen(self, data: bytes) -> bytes:
        if self.digest is not None:
            self.digest.update(data)
        self.size += len(data)
        return data

    def read(self, size: int | None = None) -> bytes:
        data: bytes = self.stream.read(size)
        return self._seen(data)

    def readline(self, size: int | None = None) -> bytes:
        data: bytes = self.stream.readline(size)
        return self._seen(data)


class _Stop(Exception):  # internal: a record ends the reading
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read_warc(path: Path, *, max_payload: int = MAX_PAYLOAD, max_record: int = MAX_RECORD,
              revisit_cache: int = REVISIT_CACHE) -> Iterator[WebCapture | Problem]:
    """Every capture of a WARC file (plain or gzipped), in order, with problems in between."""
    try:
        path.open("rb").close()
    except OSError as exc:
        raise ArchiveError(f"cannot read {path.name}: {exc.strerror}") from None
    yield from read_opened(lambda: path.open("rb"), None, path.name,
                            Resolver(revisit_cache), max_payload, max_record)


def read_opened(opener: Callable[[], IO[bytes]], warc_name: str | None, label: str,
                 resolver: Resolver, max_payload: int,
                 max_record: int) -> Iterator[WebCapture | Problem]:
    """Read a WARC; one gzipped as a single stream (``gzip file.warc``) is read again
    through a decompressor, from the record where warcio noticed."""
    with opener() as fh:
        try:
            yield from _read_stream(fh, warc_name, label, resolver, max_payload, max_record)
            return
        except _WholeGzip as whole:
            skip = whole.index
    with opener() as fh, gzip.GzipFile(fileobj=fh, mode="rb") as unzipped:
        yield from _read_stream(_Unzipped(unzipped), warc_name, label, resolver,
                                max_payload, max_record, skip=skip)


class _Truncated(Exception):  # the gzip stream ends before its end marker
    pass


class _Unzipped:
    """A whole-file gzip, decompressed. A cut-off stream raises :class:`_Truncated`, not
    ``EOFError`` (which warcio takes for a clean end), after the bytes that are there."""

    def __init__(self, stream: gzip.GzipFile) -> None:
        self.stream = stream
        self.position = 0
        self.cut = False

    def tell(self) -> int:
        return self.position

    def read(self, size: int = -1) -> bytes:
        if self.cut:
            raise _Truncated
        parts: list[bytes] = []
        wanted = size if size is not None and size >= 0 else 1 << 62
        got = 0
        while got < wanted:
            try:
                part = self.stream.read1(min(wanted - got, BLOCK))
            except EOFError:
                self.cut = True
                if not parts:
                    raise _Truncated from None
                break
            if not part:
                break
            parts.append(part)
            got += len(part)
        self.position += got
        return b"".join(parts)


class _WholeGzip(Exception):  # internal: start again, decompressing the whole file
    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


def _read_stream(fh: IO[bytes] | _Unzipped, warc_name: str | None, label: str,
                 resolver: Resolver, max_payload: int, max_record: int, *,
                 skip: int | None = None) -> Iterator[WebCapture | Problem]:
    """``skip`` is given when ``fh`` is a whole-file gzip decompressed: records before it
    were read already, and offsets are positions in the decompressed stream."""
    prefix = f"{warc_name} " if warc_name else ""
    records = _Iterator(fh)
    index = 0
    while True:
        offset = records.offset
        where = f"{prefix}record {index} (byte {offset})"
        try:
            record = next(records)
        except StopIteration:
            break
        except Exception as exc:  # a damaged archive must cost only what follows
            if index == 0 and isinstance(exc, ArchiveLoadFailed) \
                    and "first line" in str(exc):
                raise ArchiveError(f"{label} is not a WARC file: it does not begin with a "
                                   "'WARC/1.x' record") from None
            if skip is None and isinstance(exc, ArchiveLoadFailed) \
                    and "non-chunked gzip" in str(exc):
                raise _WholeGzip(index) from None
            yield Problem(where, _failure(exc))
            return
        try:
            found = _record(record, index, offset, warc_name, resolver, max_payload,
                            max_record)
        except _Stop as stop:
            yield Problem(where, stop.message)
            return
        except Exception as exc:  # a record warcio cannot read
            yield Problem(where, _failure(exc))
            return
        errors = records.err_count
        try:
            records.read_to_end()  # the blank lines after it; sets the next record's offset
        except Exception as exc:  # damage right after the record
            if found is not None:
                yield found
            yield Problem(f"{prefix}after record {index} (byte {offset})", _failure(exc))
            return
        if skip is not None and found is not None:
            found = None if index < skip else \
                replace(found, notes=(*found.notes, WHOLE_GZIP_NOTE))
        if found is not None:
            yield found
        if records.err_count != errors:
            yield Problem(where, "the record is not followed by the blank lines that end a "
                          "record: its Content-Length may be wrong")
        index += 1
    if index == 0:
        raise ArchiveError(f"{label} holds no WARC records")


def _failure(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, ArchiveLoadFailed) and "non-chunked gzip" in text:
        return ("the file is one gzip stream holding several records, not one gzip member "
                "per record; reading stopped (`warcio recompress` makes it readable)")
    if isinstance(exc, ArchiveLoadFailed) and "first line" in text:
        return ("no WARC record begins here: the previous record's Content-Length may be "
                "wrong, or the file is damaged; reading stopped")
    if isinstance(exc, EOFError | _Truncated):
        return "the file ends in the middle of a record (truncated); reading stopped"
    return f"cannot be read ({type(exc).__name__}); reading stopped"


def _record(record: Any, index: int, offset: int, warc_name: str | None,
            resolver: Resolver, max_payload: int, max_record: int) -> WebCapture | None:
    headers = record.rec_headers
    warc_type = (headers.get_header("WARC-Type") or "").lower()
    declared = headers.get_header("Content-Length")
    if declared is None:
        raise _Stop("the record has no Content-Length, so its end cannot be found; "
                    "reading stopped")
    try:
        length = int(declared)
    except ValueError:
        length = -1
    if length < 0 or length != record.length:
        raise _Stop("the record's Content-Length is not a number; reading stopped")
    if length > max_record:
        raise _Stop(f"the record declares {length:,} bytes, over the cap of "
                    f"{max_record:,}; reading stopped")
    if warc_type not in CAPTURE_TYPES:
        _drain(record, length)
        return None

    notes: list[str] = []
    digest_given = headers.get_header("WARC-Payload-Digest")
    algorithm, expected = _parse_digest(digest_given)
    http = record.http_headers
    raw = _Tee(record.raw_stream, algorithm)
    chunked = http is not None and \
        (http.get_header("Transfer-Encoding") or "").strip().lower() == "chunked"
    body: Any = ChunkedDataReader(raw, decomp_type=None) if chunked else raw
    sha256 = hashlib.sha256()
    check = hashlib.new(algorithm) if algorithm else None
    kept: list[bytes] | None = []
    size = 0
    while True:
        block = body.read(BLOCK)
        if not block:
            break
        size += len(block)
        sha256.update(block)
        if check is not None:
            check.update(block)
        if kept is not None:
            kept.append(block)
            if size > max_payload:
                kept = None
    while raw.read(BLOCK):  # what the chunked framing left, for the digest and the length
        pass
    _check_complete(record, length)

    url = headers.get_header("WARC-Target-URI")
    date_text = headers.get_header("WARC-Date")
    captured_at, date_note = warc_date(date_text)
    if date_note:
        notes.append(date_note)
    status = _status(http)
    http_headers = tuple((str(k), str(v)) for k, v in http.headers) if http else ()
    # The HTTP Content-Type; a record without HTTP headers (a resource) has its own.
    content_type = http.get_header("Content-Type") if http else \
        headers.get_header("Content-Type")
    record_id = headers.get_header("WARC-Record-ID")
    where = f"{warc_name + ' ' if warc_name else ''}record {index} (byte {offset})"

    if warc_type == "revisit":
        return _revisit(record, index, offset, warc_name, resolver, notes,
                        url=url, captured_at=captured_at, status=status,
                        http_headers=http_headers, content_type=content_type,
                        record_id=record_id, digest_given=digest_given)

    digest_ok: bool | None = None
    if expected is not None and check is not None:
        # warcio and some crawlers digest the chunked framing too; accept either.
        digest_ok = expected in (check.digest(), raw.digest.digest() if raw.digest else b"")
        if not digest_ok:
            notes.append("the payload does not match its WARC-Payload-Digest")
    elif digest_given:
        notes.append("the WARC-Payload-Digest uses an algorithm or form that is not checked")
    payload = b"".join(kept) if kept is not None else None
    if payload is None:
        notes.append(f"payload of {size:,} bytes is over the {max_payload:,}-byte cap: "
                     "hashed, not kept; re-read it from the record's offset")
    hexdigest = sha256.hexdigest()
    resolver.add(_Original(record_id, where, hexdigest, size, content_type, status,
                           http_headers),
                 url, date_text, digest_given, payload)
    return WebCapture(
        index=index, offset=offset, warc_type=warc_type, record_id=record_id, url=url,
        captured_at=captured_at, status=status, http_headers=http_headers,
        content_type=content_type, payload_digest=digest_given, digest_ok=digest_ok,
        payload_sha256=hexdigest, payload_size=size, payload=payload,
        warc_name=warc_name, notes=tuple(notes))


def _revisit(record: Any, index: int, offset: int, warc_name: str | None,
             resolver: Resolver, notes: list[str], *, url: str | None,
             captured_at: datetime | None, status: int | None,
             http_headers: tuple[tuple[str, str], ...], content_type: str | None,
             record_id: str | None, digest_given: str | None) -> WebCapture:
    headers = record.rec_headers
    refers_to = headers.get_header("WARC-Refers-To")
    refers_uri = headers.get_header("WARC-Refers-To-Target-URI")
    refers_date = headers.get_header("WARC-Refers-To-Date")
    if refers_to:
        revisit_of: str | None = refers_to
    elif refers_uri and refers_date:
        revisit_of = f"{refers_uri} {refers_date}"
    elif digest_given:
        revisit_of = f"payload {digest_given}"
    else:
        revisit_of = None
    original = resolver.find(refers_to, refers_uri, refers_date, digest_given)
    if original is None:
        notes.append("revisit: the original capture is not in this archive; its payload "
                     "is in another archive" if revisit_of else
                     "revisit: the record does not say which capture it repeats")
        return WebCapture(
            index=index, offset=offset, warc_type="revisit", record_id=record_id, url=url,
            captured_at=captured_at, status=status, http_headers=http_headers,
            content_type=content_type, payload_digest=digest_given, digest_ok=None,
            payload_sha256=None, payload_size=None, payload=None, revisit_of=revisit_of,
            warc_name=warc_name, notes=tuple(notes))
    payload = resolver.payloads.get(original.sha256)
    if payload is None:
        notes.append(f"revisit: the payload is that of {original.where}, not kept in "
                     "memory; re-read it from there")
    return WebCapture(
        index=index, offset=offset, warc_type="revisit", record_id=record_id, url=url,
        captured_at=captured_at, status=status if status is not None else original.status,
        http_headers=http_headers or original.http_headers,
        content_type=content_type or original.content_type, payload_digest=digest_given,
        digest_ok=None, payload_sha256=original.sha256, payload_size=original.size,
        payload=payload, revisit_of=revisit_of, original_id=original.record_id,
        warc_name=warc_name, notes=tuple(notes))


def _drain(record: Any, length: int) -> None:
    while record.raw_stream.read(BLOCK):
        pass
    _check_complete(record, length)


def _check_complete(record: Any, length: int) -> None:
    stream = record.raw_stream
    if isinstance(stream, LimitReader) and stream.limit > 0:
        raise _Stop(f"truncated: {length - stream.limit:,} of the record's {length:,} "
                    "bytes are present; reading stopped")


def _status(http: Any) -> int | None:
    if http is None or getattr(http, "is_http_request", False):
        return None
    code = str(http.get_statuscode() or "")
    return int(code) if code.isdigit() and len(code) == 3 else None


def _parse_digest(value: str | None) -> tuple[str | None, bytes | None]:
    """``sha1:BASE32``, ``sha256:hex`` …: the algorithm and the expected digest bytes."""
    if not value or ":" not in value:
        return None, None
    name, _, text = value.partition(":")
    algorithm = name.strip().lower().replace("-", "")
    if algorithm not in ("sha1", "sha256", "sha512", "md5"):
        return None, None
    wanted = hashlib.new(algorithm).digest_size
    text = text.strip()
    try:
        if _HEX.match(text) and len(text) == 2 * wanted:
            decoded = bytes.fromhex(text)
        else:
            decoded = base64.b32decode(text.upper() + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        return None, None
    return (algorithm, decoded) if len(decoded) == wanted else (None, None)


def warc_date(value: str | None) -> tuple[datetime | None, str | None]:
    if value is None:
        return None, "the record has no WARC-Date"
    match = _WARC_DATE.match(value.strip())
    if match is None:
        return None, "the WARC-Date cannot be read"
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute),
                          int(second), int((fraction or "0")[:6].ljust(6, "0")), tzinfo=UTC)
    except ValueError:
        return None, "the WARC-Date cannot be read"
    if zone is None:
        return moment, "the WARC-Date has no 'Z'; read as UTC, as the standard requires"
    if zone not in ("Z", "+00:00", "-00:00"):
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        moment -= sign * timedelta(hours=hours, minutes=minutes)
        return moment, "the WARC-Date has an offset (the standard requires UTC); converted"
    return moment, None


def open_payload(opener: Callable[[], IO[bytes]], offset: int, *,
                 whole_gzip: bool = False) -> IO[bytes]:
    """The payload of the capture record at ``offset`` (a :class:`WebCapture`'s), read
    again as a stream, as :func:`read_warc` gives it: for payloads over the cap, which are
    stored straight from the archive rather than held in memory.

    ``whole_gzip``: the file is one gzip stream (the capture's notes say so) and ``offset``
    is a position in the decompressed WARC, so it is decompressed up to there.
    """
    fh = opener()
    try:
        stream: IO[bytes] | _Unzipped = fh
        if whole_gzip:
            stream = _Unzipped(gzip.GzipFile(fileobj=fh, mode="rb"))
            left = offset
            while left > 0:
                skipped = stream.read(min(left, BLOCK))
                if not skipped:
                    raise ArchiveError("the archive ends before the record")
                left -= len(skipped)
        else:
            fh.seek(offset)
        record = next(_Iterator(stream))
        http = record.http_headers
        chunked = http is not None and \
            (http.get_header("Transfer-Encoding") or "").strip().lower() == "chunked"
        body = ChunkedDataReader(record.raw_stream, decomp_type=None) if chunked else \
            record.raw_stream
        return io.BufferedReader(_Payload(body, fh), BLOCK)
    except BaseException:
        fh.close()
        raise


class _Payload(io.RawIOBase):
    """A record's payload as a file; closing it closes the archive under it."""

    def __init__(self, body: Any, archive: IO[bytes]) -> None:
        super().__init__()
        self.body = body
        self.archive = archive

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data: bytes = self.body.read(len(view))
        view[:len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self.archive.close()
        finally:
            super().close()


# --- WACZ -------------------------------------------------------------------------------
