"""The locker's custody events: a capture for each new item, a sighting for each repeat.

The capture context (where the file was, its file-system times, who collected it, on
which host) stays in the locker's records; the event commits to it by the SHA-256 of its
canonical JSON ("context"), so it can be disclosed later and checked, but a proof bundle
never carries it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from svidok.custody.events import (
    _HEX64,
    FORMAT,
    Actor,
    CustodyEvent,
    EventError,
    trusted_json,
    utc_text,
)

INGEST = Actor("svidok.locker.ingest")
_ENCODE = json.encoder.encode_basestring  # as the canonical encoder writes a string (UTF-8)

_CONTEXT_KEYS = ("batch_id", "root", "rel_path_bytes", "original_name", "size", "mtime_ns",
                 "ctime_ns", "atime_ns", "collector", "note", "host", "svidok_version")
# Only present for what an importer read out of a container (the SHA-256 of its record),
# so the contexts of plain files logged before importers existed keep their digests.
_OPTIONAL_KEYS = ("record_sha256",)


def context_document(row: Mapping[str, Any], moment: datetime) -> dict[str, Any]:
    """The capture context of an item or sighting row, as the event commits to it."""
    doc: dict[str, Any] = {}
    for key in _CONTEXT_KEYS:
        value = row.get(key)
        if isinstance(value, bytes | bytearray | memoryview):
            value = base64.b64encode(bytes(value)).decode()
        doc[key] = value
    for key in _OPTIONAL_KEYS:
        if row.get(key) is not None:
            doc[key] = row[key]
    doc["time"] = utc_text(moment)
    return doc


def context_digest(row: Mapping[str, Any], moment: datetime) -> str:
    # The document is built here from text, integers and None: no float can be in it, so
    # the encoder is used without canonical_json's walk, which doubled its cost.
    return hashlib.sha256(trusted_json(context_document(row, moment))).hexdigest()


class ContextTemplate:
    """The capture contexts of many records of one container at one moment.

    Only the name, the place, the size and the record's hash differ between them, so the
    rest of the document is encoded once; each digest is then the same bytes
    :func:`context_digest` would hash (a test holds them equal), at a quarter of the cost.
    """

    VARYING = ("original_name", "rel_path_bytes", "size", "record_sha256")

    def __init__(self, common: Mapping[str, Any], moment: datetime) -> None:
        # Each varying value is first a mark no real value can be (it holds NUL), then
        # the encoded document is cut at the marks.
        tokens = {key: trusted_json(f"\x00svidok-{key}\x00").decode()
                  for key in self.VARYING}
        marks = {key: f"\x00svidok-{key}\x00" for key in self.VARYING}
        text = trusted_json(context_document({**common, **marks}, moment)).decode()
        self._order = sorted(self.VARYING, key=lambda k: text.index(tokens[k]))
        self._parts: list[str] = []
        for key in self._order:
            before, text = text.split(tokens[key], 1)
            self._parts.append(before)
        self._parts.append(text)

    def digest(self, original_name: str, rel_path_bytes: bytes, size: int,
               record_sha256: str) -> str:
        values = {"original_name": _ENCODE(original_name),
                  "rel_path_bytes": '"' + base64.b64encode(rel_path_bytes).decode() + '"',
                  "size": str(int(size)), "record_sha256": '"' + record_sha256 + '"'}
        out = [self._parts[0]]
        for key, part in zip(self._order, self._parts[1:], strict=True):
            out += [values[key], part]
        return hashlib.sha256("".join(out).encode()).hexdigest()


def capture_event(sha256: str, row: Mapping[str, Any], moment: datetime, item_id: int,
                  actor: Actor = INGEST, purpose: str | None = None,
                  captured_at: datetime | None = None,
                  context: str | None = None) -> CustodyEvent:
    """The capture of ``row`` (an item); ``captured_at`` when the event is logged later
    than the capture itself (backfill), so the context still carries the capture time.
    ``context``: its digest, when the caller made it (with a :class:`ContextTemplate`)."""
    return CustodyEvent("capture", actor, moment, sha256, purpose=purpose,
                        context=context or context_digest(row, captured_at or moment),
                        details={"item": item_id, "size": row.get("size"),
                                 "batch": row.get("batch_id")})


def sighting_event(sha256: str, row: Mapping[str, Any], moment: datetime, item_id: int,
                   actor: Actor = INGEST, purpose: str | None = None,
                   seen_at: datetime | None = None,
                   context: str | None = None) -> CustodyEvent:
    return CustodyEvent("sighting", actor, moment, sha256, purpose=purpose,
                        context=context or context_digest(row, seen_at or moment),
                        details={"item": item_id, "size": row.get("size"),
                                 "batch": row.get("batch_id")})


def capture_records(captures: Sequence[tuple[str, str, int, int | None, int]],
                    moment: datetime, actor: Actor = INGEST) -> list[bytes]:
    """The encoded records of many captures at one moment, each given as (SHA-256,
    context digest, item id, size, batch): the bytes ``capture_event(...).record()``
    gives (a test holds them equal), written out at once. An import logs a capture per
    message, and building an event object for each cost a tenth of the import."""
    head = '{"action":"capture","actor":' + actor.json + ',"context":"'
    tail = '","time":"' + utc_text(moment) + '"}'
    out = []
    for sha256, context, item_id, size, batch in captures:
        if not (_HEX64.fullmatch(sha256) and _HEX64.fullmatch(context)):
            raise EventError("sha256 and context must be 64 lowercase hex digits")
        out.append("".join((
            head, context, '","details":{"batch":', str(int(batch)), ',"item":',
            str(int(item_id)), ',"size":', "null" if size is None else str(int(size)),
            '},"format":"', FORMAT, '","sha256":"', sha256, tail)).encode())
    return out
