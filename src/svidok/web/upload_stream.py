"""Receiving an upload: a multipart body streamed straight into the job's staging folder.

Starlette's own form reading would first spool every file whole to the system's temporary
folder, with no cap; here python-multipart's streaming parser hands each piece to a file in
the data folder as it arrives, so the size cap holds byte by byte and nothing lands outside
the data folder. Each file is written under a name made safe here (:func:`safe_name`), in
a numbered folder of its own, never under a path from the request. On any failure (the
cap, a full disk, a client gone mid-way, a bad form) the folder is removed whole and
:class:`UploadRefused` says why; nothing is half-kept.
"""

from __future__ import annotations

import errno
import hmac
import os
import shutil
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from svidok.locker.upload_jobs import StagedFile, remove
from svidok.web.i18n import N_

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FIELDS = ("note", "tz", "csrf_token")
FILE_FIELDS = ("files", "file")
FIELD_MAX = 16 * 1024  # bytes of one text field (a note is at most 2,000 characters)
MAX_FILES = 1000
NAME_BYTES = 200  # a staged name's UTF-8 bytes: room for the file system's 255
RESERVE_BYTES = 256 * 1024 * 1024  # left free on the disk, for the records and the ingest
FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# Characters that change how a name reads without being seen (right-to-left overrides
# make "gpj.exe" read as "exe.jpg").
INVISIBLE = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                      "\ufeff")


OUT_OF_DATE = N_("the form is out of date: reload the page and try again")
CUT_OFF = N_("the upload was cut off before it finished; nothing of it was kept")
TOO_LARGE = N_("the upload is larger than %(cap)s bytes, the most one upload may send "
               "(upload_max_bytes); send fewer or smaller files at a time")
DISK_FULL = N_("the disk holding the data folder is full; nothing of this upload was kept; "
               "free space and upload again")


class UploadRefused(Exception):
    """The upload is refused or failed. ``message`` (English, for the API and logs) is
    ``template`` with ``params``; :meth:`shown` is the same in the person's language."""

    def __init__(self, status: int, template: str, **params: object) -> None:
        self.status = status
        self.template = template
        self.params = params
        super().__init__(template % params if params else template)

    @property
    def message(self) -> str:
        return str(self)

    def shown(self, gettext: Callable[[str], str]) -> str:
        found = gettext(self.template)
        return found % self.params if self.params else found


@dataclass
class Received:
    files: list[StagedFile] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


def safe_name(raw: str, number: int) -> str:
    """A file name that is safe to create and shows what was sent: the last component
    only, NFC, no control or invisible direction characters, at most :data:`NAME_BYTES`
    bytes (the extension kept); ``file-N`` when nothing is left."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(c for c in name if c not in INVISIBLE and unicodedata.category(c) != "Cc")
    name = name.strip()
    if name in (".", ".."):
        name = ""
    if len(name.encode("utf-8")) > NAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        ext = ext if dot and len(ext.encode("utf-8")) <= 16 else ""
        stem = stem if ext else name
        room = NAME_BYTES - len(ext.encode("utf-8")) - (1 if ext else 0)
        stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore")
        name = f"{stem}.{ext}" if ext else stem
    return name or f"file-{number}"


def _write_chunk(fd: int, data: bytes) -> None:
    """Write all of ``data``; a test replaces it to fill the disk."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _Receiver:
    """The parser's callbacks: one part at a time, into a file or a field."""

    def __init__(self, folder: Path, max_bytes: int, csrf_expected: str | None) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.csrf_expected = csrf_expected
        self.received = Received()
        self.total = 0
        self.ended = False
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._fd: int | None = None
        self._file: tuple[str, str] | None = None  # (name as sent, staged path)
        self._size = 0
        self._field: str | None = None
        self._value = bytearray()

    def callbacks(self) -> MultipartCallbacks:
        return {"on_part_begin": self.part_begin, "on_part_data": self.part_data,
                "on_part_end": self.part_end, "on_header_field": self.header_field,
                "on_header_value": self.header_value, "on_header_end": self.header_end,
                "on_headers_finished": self.headers_finished, "on_end": self.end}

    def part_begin(self) -> None:
        self._headers = {}
        self._field, self._file, self._size = None, None, 0
        self._value = bytearray()

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field, self._header_value = bytearray(), bytearray()

    def headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is None:
            if name not in FIELDS:
                raise UploadRefused(400, N_("the form has a field it should not (%(name)s)"),
                                    name=name[:40])
            self._field = name
            return
        if name not in FILE_FIELDS:
            raise UploadRefused(400, N_("the form sends a file as %(name)s; files go in "
                                        "the 'files' field"), name=name[:40])
        if self.csrf_expected is not None:
            # The token must come before the first file: nothing is kept for a request
            # whose origin is not known yet.
            raise UploadRefused(403, OUT_OF_DATE)
        raw = filename.decode("utf-8", "replace")
        if not raw:
            return  # a file input left empty still sends an empty part
        if len(self.received.files) >= MAX_FILES:
            raise UploadRefused(413, N_("at most %(n)s files go in one upload; send the "
                                        "rest in another"), n=MAX_FILES)
        number = len(self.received.files) + 1
        shown = safe_name(raw, number)
        part = self.folder / "files" / str(number)
        part.mkdir(parents=True, mode=0o700)
        self._fd = os.open(part / shown, FILE_FLAGS, 0o600)
        self._file = (shown, f"files/{number}/{shown}")

    def part_data(self, data: bytes, start: int, end: int) -> None:
        size = end - start
        if self._file is None and self._field is None:
            return  # the body of an empty file part
        if self._field is not None:
            if len(self._value) + size > FIELD_MAX:
                raise UploadRefused(413, N_("the field %(name)s is too long"),
                                    name=self._field)
            self._value += data[start:end]
            return
        self.total += size
        if self.total > self.max_bytes:
            raise UploadRefused(413, TOO_LARGE, cap=f"{self.max_bytes:,}")
        assert self._fd is not None
        _write_chunk(self._fd, data[start:end])
        self._size += size

    def part_end(self) -> None:
        if self._field is not None:
            try:
                value = bytes(self._value).decode("utf-8")
            except UnicodeDecodeError:
                raise UploadRefused(400, N_("the field %(name)s is not UTF-8 text"),
                                    name=self._field) from None
            if self._field == "csrf_token":
                expected = self.csrf_expected
                if expected is not None and not hmac.compare_digest(
                        value.encode(), expected.encode()):
                    raise UploadRefused(403, OUT_OF_DATE)
                self.csrf_expected = None
            else:
                self.received.fields[self._field] = value
        elif self._file is not None:
            self.close()
            shown, staged = self._file
            self.received.files.append(StagedFile(shown, staged, self._size))
        self._field, self._file = None, None

    def end(self) -> None:
        self.ended = True

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def free_space_problem(folder: Path, expected: int) -> str | None:
    """Why an upload of ``expected`` bytes would not fit, or None. It is copied twice:
    staged, then stored as originals."""
    free = shutil.disk_usage(folder).free
    if 2 * expected + RESERVE_BYTES > free:
        return N_("the disk holding the data folder has too little free space for this "
                  "upload; free space or send less at a time")
    return None


async def receive(request: Request, folder: Path, max_bytes: int,
                  csrf_expected: str | None) -> Received:
    """Stream the request's multipart body into ``folder`` (made here, removed on any
    failure). ``csrf_expected``: the session's token, when it must come as a form field."""
    content_type = request.headers.get("content-type", "")
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadRefused(415, N_("send the files as multipart/form-data"))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + 1024 * 1024:
        raise UploadRefused(413, TOO_LARGE, cap=f"{max_bytes:,}")
    folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    problem = free_space_problem(folder.parent, int(declared) if declared.isdigit() else 0)
    if problem:
        raise UploadRefused(507, problem)
    folder.mkdir(mode=0o700)
    receiver = _Receiver(folder, max_bytes, csrf_expected)
    try:
        parser = MultipartParser(boundary, receiver.callbacks())
        async for chunk in request.stream():
            if chunk:
                # File writes go to a worker thread: the event loop serves other people.
                await anyio.to_thread.run_sync(parser.write, chunk)
        parser.finalize()
        if not receiver.ended:
            raise UploadRefused(400, CUT_OFF)
        if receiver.csrf_expected is not None:
            raise UploadRefused(403, OUT_OF_DATE)
        if not receiver.received.files:
            raise UploadRefused(400, N_("choose at least one file to upload"))
        return receiver.received
    except BaseException as exc:
        receiver.close()
        remove(folder)
        if isinstance(exc, UploadRefused):
            raise
        if isinstance(exc, ClientDisconnect):
            raise UploadRefused(400, CUT_OFF) from None
        if isinstance(exc, FormParserError):
            raise UploadRefused(400, N_("the upload is not a well-formed form; nothing "
                                        "of it was kept")) from None
        if isinstance(exc, OSError):
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise UploadRefused(507, DISK_FULL) from None
            raise UploadRefused(500, N_("the upload could not be written to the data folder "
                                        "(%(error)s); nothing of it was kept"),
                                error=exc.strerror or type(exc).__name__) from None
        raise
