"""The enricher contract: what an enricher is given, what it gives back, and how it fails.

An enricher is one module with one class that declares its ``name``, its ``version`` and the
enrichers whose outputs it ``needs``; ``accepts`` says whether an item is for it, ``run``
computes. It never touches the database or the custody log: the runner
(:mod:`svidok.enrich.runner`) stores what it returns — artifacts, annotations, fingerprints —
names the original, the enricher and its version on every row, and appends the custody
events, all in one transaction per group of items.

Enrichers run in worker processes, so a :class:`Subject` carries plain values (the blob's
path, not an open store) and an :class:`Output` is plain data. The item's text travels on
the subject: the text and OCR enrichers set it for those after them.

Bad input raises :class:`EnrichError` with a message that names what failed and never
quotes the evidence; the runner records it, and the rest of the items proceed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol


class EnrichError(Exception):
    """An enricher could not read this item; the message says what failed, not what it holds."""


@dataclass
class Subject:
    """One item as enrichers see it."""

    item_id: int
    kind: str  # "file", "message", "email", "document", "web-response", ...
    media_type: str | None
    name: str
    size: int | None
    sha256: str | None  # the original's bytes, when the item has bytes of its own
    record_sha256: str | None
    record: Mapping[str, Any] | None  # what an importer read (a message's fields)
    occurred_at: datetime | None
    blob_path: str | None = None  # where the original's bytes are, read-only
    captured_at: datetime | None = None  # when Svidok collected it (the capture context)
    # The importer that read this file into items of its own ("telegram", "email",
    # "document"...), when one did: an export's text is in its messages, not in itself.
    read_by: str | None = None
    # Set by the text, OCR and language enrichers for those after them (or loaded from
    # their stored outputs when they do not run again).
    text: str | None = None
    title: str | None = None
    language: str | None = None
    ocr_pages: tuple[int, ...] = ()  # PDF pages with no text layer
    # What one enricher computed that the next may reuse (the text's words and their
    # lemmas, for names and violation types); emptied before the subject travels back.
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def content_sha256(self) -> str:
        """What custody events name as this item: its bytes, or its record."""
        found = self.sha256 or self.record_sha256
        if found is None:
            raise EnrichError(f"item {self.item_id} has neither bytes nor a record")
        return found

    def text_up_to(self, limit: int, output: Output, what: str) -> str:
        """The text, cut at ``limit`` characters; the cut is noted in ``output``."""
        text = self.text or ""
        if len(text) > limit:
            output.notes.append(f"{what} were looked for in the first {limit:,} characters")
            return text[:limit]
        return text

    def open(self) -> BinaryIO:
        if self.blob_path is None:
            raise EnrichError(f"item {self.item_id} has no bytes of its own")
        return Path(self.blob_path).open("rb")


@dataclass(frozen=True, slots=True)
class Annotation:
    """A suggestion: a language, place, date, name or violation type, with its evidence."""

    kind: str
    value: str  # canonical: "uk", a GeoNames id, "2022-06-21/2022-06-30", a category id
    start: int | None = None  # offsets into the item's text
    end: int | None = None
    confidence: float = 1.0
    data: Mapping[str, Any] | None = None  # JSON: matched words, coordinates, precision...


@dataclass(frozen=True, slots=True)
class Artifact:
    """Something derived: text (``content``) or bytes (``data``: a thumbnail, a keyframe)."""

    role: str
    media_type: str
    content: str | None = None
    data: bytes | None = None
    position_ms: int | None = None

    @property
    def payload(self) -> bytes:
        if self.data is not None:
            return self.data
        return (self.content or "").encode("utf-8")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.payload).hexdigest()


@dataclass(frozen=True, slots=True)
class Fingerprint:
    algorithm: str  # "pdq", "pdq-frame", "minhash"
    value: bytes
    quality: int | None = None
    position_ms: int | None = None


@dataclass
class Output:
    annotations: list[Annotation] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    fingerprints: list[Fingerprint] = field(default_factory=list)
    # For people: "page 3 has no text layer". Stored as annotations of kind "note"; like
    # errors, they never quote the evidence.
    notes: list[str] = field(default_factory=list)

    def digest(self) -> str:
        """SHA-256 of what was found, as the custody event commits to it."""
        doc = {
            "annotations": [[a.kind, a.value, a.start, a.end, round(a.confidence * 1000),
                             dict(a.data or {})] for a in self.annotations],
            "artifacts": [[a.role, a.sha256, a.position_ms] for a in self.artifacts],
            "fingerprints": [[f.algorithm, f.value.hex(), f.quality, f.position_ms]
                             for f in self.fingerprints],
            "notes": list(self.notes),
        }
        encoded = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                             default=str)
        return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


class Enricher(Protocol):
    name: str  # short and stable: it keys the stored runs ("places")
    needs: tuple[str, ...]  # enrichers whose outputs it reads; they run first

    @property
    def version(self) -> str:
        """Changes whenever the output could change (rules, data, a library's version);
        at most 64 characters."""

    def accepts(self, subject: Subject) -> bool: ...

    def run(self, subject: Subject) -> Output: ...
