"""Custody events: what happened to a piece of evidence, as canonical JSON records.

Every event is one leaf of the custody tree. Its record is canonical JSON (keys sorted, no
spaces, UTF-8, no floats) so that anyone can re-encode it and get the same bytes, and so
the same leaf hash (RFC 6962: SHA-256 of 0x00 and the record).

Records name evidence by the SHA-256 of the original and commit to everything else by hash
("context", "previous"): a proof bundle handed to a court then carries no names of
collectors, witnesses or file paths, yet any disclosed document can be checked against it.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import Any, Final, Literal, get_args

from sqlalchemy import Connection

from svidok import __version__
from svidok.custody.merkle import leaf_hash
from svidok.custody.tree import Tree
from svidok.db.bulk import bulk_insert
from svidok.db.schema import custody_events

FORMAT: Final = "svidok.custody-event/1"
Action = Literal["capture", "sighting", "derive", "open", "metadata", "verify", "export",
                 "dispose"]
ACTIONS: Final = frozenset(get_args(Action))
_HEX64 = re.compile(r"[0-9a-f]{64}")
Scalar = str | int | bool | None


class EventError(ValueError):
    """An event cannot be recorded as it is (bad hash, unknown action, a float...)."""


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                            allow_nan=False)
_SCALARS = (str, int, bool, type(None))
_quote: Callable[[str], str] = json.encoder.encode_basestring


def canonical_json(value: Any) -> bytes:
    """The one byte string for a JSON value: sorted keys, no spaces, UTF-8, no floats."""
    _refuse_floats(value)
    return _ENCODER.encode(value).encode("utf-8")


def trusted_json(value: Any) -> bytes:
    """:func:`canonical_json` of a value built by Svidok's own code from text, integers
    and None, so that it cannot hold a float: the check is skipped, not the encoding."""
    return _ENCODER.encode(value).encode("utf-8")


def _refuse_floats(value: Any) -> None:
    # A loop over exact types first: importers hash a record per message, and the
    # recursive isinstance walk (Mapping is an ABC) cost more than encoding.
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is dict or (kind is not float and isinstance(item, Mapping)):
            if any(type(key) is not str for key in item):
                raise EventError("custody record keys are strings")
            stack.extend(item.values())
        elif kind is list or kind is tuple or isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, float):
            raise EventError("custody records hold no floating-point numbers")


def digest(value: Any) -> str:
    """SHA-256 (hex) of a value's canonical JSON: how records commit to documents."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


@lru_cache(maxsize=64)  # events of one transaction mostly share their time
def utc_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise EventError("custody times are aware UTC datetimes")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Actor:
    """Who acted: a system component with its version, on behalf of a user if one acted."""

    component: str
    version: str = __version__
    user: str | None = None

    @cached_property
    def record(self) -> dict[str, str]:
        out = {"component": self.component, "version": self.version}
        if self.user is not None:
            out["user"] = self.user
        return out

    @cached_property
    def json(self) -> str:
        return _ENCODER.encode(self.record)


@dataclass(frozen=True)
class CustodyEvent:
    action: Action
    actor: Actor
    time: datetime
    sha256: str
    purpose: str | None = None
    previous: str | None = None
    context: str | None = None
    details: Mapping[str, Scalar] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """The record as a JSON object (what :meth:`record` encodes)."""
        body: dict[str, Any] = {"format": FORMAT, "action": self.action,
                                "actor": self.actor.record, "time": utc_text(self.time),
                                "sha256": self.sha256}
        for name in ("purpose", "previous", "context"):
            if getattr(self, name) is not None:
                body[name] = getattr(self, name)
        if self.details:
            body["details"] = dict(self.details)
        return body

    def record(self) -> bytes:
        """The canonical JSON of :meth:`body`, written out key by key in sorted order.

        Appends encode a hundred thousand records a second; the general encoder took most
        of that time. A test holds this equal to ``canonical_json(self.body())``.
        """
        if self.action not in ACTIONS:
            raise EventError(f"unknown custody action {self.action!r}")
        parts = ['{"action":"', self.action, '","actor":', self.actor.json]
        if self.context is not None:
            parts += [',"context":"', _hex("context", self.context), '"']
        if self.details:
            if any(not isinstance(v, _SCALARS) for v in self.details.values()):
                raise EventError("event details are strings, integers, booleans or null")
            parts += [',"details":', _ENCODER.encode(self.details)]
        parts += [',"format":"', FORMAT, '"']
        if self.previous is not None:
            parts += [',"previous":"', _hex("previous", self.previous), '"']
        if self.purpose is not None:
            parts += [',"purpose":', _quote(self.purpose)]
        parts += [',"sha256":"', _hex("sha256", self.sha256), '","time":"',
                  utc_text(self.time), '"}']
        return "".join(parts).encode("utf-8")


def _hex(name: str, value: str) -> str:
    if not _HEX64.fullmatch(value):
        raise EventError(f"{name} must be 64 lowercase hex digits")
    return value


KEY_OFFSET: Final = 1 << 63


def sha_key(sha256: str) -> int:
    """The indexed key of a SHA-256: its first 8 bytes as a signed 64-bit integer."""
    return int(sha256[:16], 16) - KEY_OFFSET


@dataclass(frozen=True)
class Appended:
    first: int
    size: int
    root: bytes


def append(conn: Connection, events: Sequence[CustodyEvent]) -> Appended:
    """Add events to the log within the caller's transaction: they count only if it commits."""
    records = [e.record() for e in events]
    return append_records(conn, records, [e.sha256 for e in events])


def append_records(conn: Connection, records: Sequence[bytes],
                   shas: Sequence[str]) -> Appended:
    """Add already encoded records, each with the SHA-256 its record names."""
    tree = Tree(conn)
    if not records:
        size, root = tree.head()
        return Appended(size, size, root)
    first, size, root = tree.append([leaf_hash(r) for r in records])
    bulk_insert(conn, custody_events, ("seq", "sha_key", "record"), [
        (first + i, int(sha[:16], 16) - KEY_OFFSET, record)
        for i, (record, sha) in enumerate(zip(records, shas, strict=True))])
    return Appended(first, size, root)
