"""The importer contract: what a format module declares, and what it yields.

One module per format (sources/importers/); each says what it handles by returning a
score for a file it is shown, and the best score wins (ingest-file's convention). An
importer never writes anything: it reads the container's preserved bytes and yields an
:class:`Entry` for each message, post or record inside, and a :class:`Problem` for each part
it cannot read. The locker turns entries into child items with their custody events
(sources/recording.py), so every format is stored, versioned and logged alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cached_property
from pathlib import Path
from typing import IO, Any, ClassVar, NamedTuple, Protocol

from svidok.sources.problems import Problem
from svidok.sources.whatsapp import DateOrder

HEAD_BYTES = 64 * 1024

# Scores: how sure an importer is that a file is its format. 0 means "not mine".
CERTAIN = 100  # a signature no other format has (WARC/1.0, a WACZ datapackage.json)
LIKELY = 60  # name and content agree (result.json holding "messages")
POSSIBLE = 20  # the content could be read this way (any HTML as an article)
FALLBACK = 5  # readable, but something better usually exists (plain text)


@dataclass(frozen=True)
class ImportOptions:
    tz: tzinfo | None = None  # the exporting computer's zone, for exports without UTC
    date_order: DateOrder | None = None  # WhatsApp day/month order when the file cannot say
    forced: str | None = None  # --as FORMAT: this importer only ("file": none at all)

    def described(self) -> dict[str, str]:
        """The options that change how a container reads, as recorded with its import."""
        out: dict[str, str] = {}
        if self.tz is not None:
            out["tz"] = str(self.tz)
        if self.date_order is not None:
            out["date_order"] = self.date_order.value
        if self.forced is not None:
            out["as"] = self.forced
        return out


@dataclass(frozen=True)
class Container:
    """A file an importer reads: its preserved bytes, and where it was found."""

    path: Path  # the original in the blob store: the bytes that were preserved
    name: str  # its file name as found
    media_type: str
    size: int
    # The folder it was found in, for formats whose media sit beside them (a Telegram
    # export, an unzipped WhatsApp chat). None when the folder is not available.
    folder: Path | None = None

    @cached_property
    def head(self) -> bytes:
        with self.path.open("rb") as fh:
            return fh.read(HEAD_BYTES)


# A payload too big to hold is re-read from the container when it is stored.
Opener = Callable[[], IO[bytes]]


@dataclass(frozen=True)
class Entry:
    """One message, post or record inside a container: a child item to be."""

    locator: str  # unique within the container: "message 42", "record 3 (byte 1024)"
    kind: str  # chat, message, email, attachment, web-response, document, media
    fields: Mapping[str, Any]  # what was read; JSON values (no floats: the record is hashed)
    parent: str | None = None  # the locator of the entry it belongs to; None: the container
    # Identity across exports of the same source ("telegram:1234:42"); with ``version``
    # it decides between a sighting (same content) and a new version (edited).
    key: str | None = None
    version: Mapping[str, Any] | None = None  # the fields that make a version; None: all
    time: datetime | None = None  # when it happened, as the source says; aware UTC
    name: str | None = None  # a file name for people (an attachment's); else the locator
    payload: bytes | Opener | None = None  # bytes that are this entry's own original
    # Files beside the container that belong to this entry (a message's photo), as
    # relative paths; they are stored as the entry's children, and their SHA-256 enters
    # its record, so the record commits to its media.
    files: tuple[str, ...] = ()
    missing: tuple[Mapping[str, Any], ...] = field(default=())  # media it names but lacks
    # Importers leave it None; see PreparedEntry.
    prepared: tuple[bytes, str, str | None] | None = None


class PreparedEntry(NamedTuple):
    """An entry whose record was made where it was read (recording.prepared): what crosses
    from a reading process to the recorder. A plain tuple pickles in a third of the time
    of an Entry, and its fields travel as the record. It reads like an Entry."""

    locator: str
    kind: str
    parent: str | None
    key: str | None
    time: datetime | None
    name: str | None
    prepared: tuple[bytes, str, str | None]
    fields: Mapping[str, Any] = {}
    version: Mapping[str, Any] | None = None
    payload: None = None
    files: tuple[str, ...] = ()
    missing: tuple[Mapping[str, Any], ...] = ()


AnyEntry = Entry | PreparedEntry


class Importer(Protocol):
    name: ClassVar[str]  # "telegram": what --as takes
    version: ClassVar[int]  # raised whenever what it yields for the same bytes changes
    title: ClassVar[str]  # "Telegram Desktop JSON export"

    def score(self, container: Container) -> int:
        """How sure this importer is that it reads ``container`` (0: not at all)."""
        ...

    def read(self, container: Container, options: ImportOptions) -> Iterator[Entry | Problem]:
        """Every entry in the container, and a problem for each part it cannot read.

        Raises :class:`ImportFailed` when the container cannot be read at all."""
        ...


class ImportFailed(Exception):
    """The container cannot be read at all; the message says why and what to do."""


def importer_id(importer: Importer) -> str:
    return f"{importer.name}/{importer.version}"
