"""Turning an importer's entries into child items, sightings and versions, group by group.

For each group of entries, in one transaction with their custody events:

- an entry with bytes of its own (an e-mail, an attachment, a web response) stores them as
  an original; bytes already in the locker make a sighting of the item that holds them;
- an entry with a ``key`` (a Telegram message) is a new item the first time; seen again
  with the same content it is a sighting, with other content a new version of it;
- files an entry names beside the container (a message's photo) become its children:
  found among this batch's files, or stored now when only the container was ingested;
- problems are kept with the import run, and its figures are updated.

A child's place is its container's plus its locator, joined by NUL in the exact path bytes
(no file name can hold a NUL), so a killed import resumes where it stopped: what is already
recorded in this batch is found by place and skipped.
"""

from __future__ import annotations

import hashlib
import json
import operator
import os
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from svidok import __version__
from svidok.custody import events as custody
from svidok.custody.capture import (
    ContextTemplate,
    capture_event,
    capture_records,
    sighting_event,
)
from svidok.custody.events import canonical_json
from svidok.db.bulk import bulk_insert_typed, chunks, reserve_ids
from svidok.db.schema import import_problems, imports, items, originals, sightings
from svidok.home import Home
from svidok.locker import mediatype
from svidok.locker.blobs import PendingBlob
from svidok.locker.store import Failed, StoreError, store_file, writing
from svidok.locker.walk import Candidate, Skipped, _entry
from svidok.sources.importer import AnyEntry, Entry, Opener, PreparedEntry
from svidok.sources.problems import Problem

GROUP_ENTRIES = 2500
GROUP_BYTES = 64 * 1024 * 1024
PARENTS_KEPT = 100_000  # locators remembered for children; older ones are looked up
COPY_CHUNK = 1024 * 1024
MAX_PROBLEMS_KEPT = 10_000  # per import; beyond, problems are counted, not kept


@dataclass(frozen=True)
class Place:
    """The container being imported, as this batch found it."""

    import_id: int
    batch_id: int
    item_id: int  # the container's item (stored now, or the one it is a sighting of)
    root: str
    rel_path: str
    rel_path_bytes: bytes
    importer: str  # "telegram/1"
    collector: str | None
    note: str | None
    host: str

    @property
    def folder_parts(self) -> tuple[bytes, ...]:
        return tuple(self.rel_path_bytes.split(b"/")[:-1])


@dataclass
class Figures:
    items: int = 0
    versions: int = 0
    sightings: int = 0
    problems: int = 0
    files: int = 0
    first_problems: list[Problem] = field(default_factory=list)


@dataclass
class _Row:
    entry: AnyEntry
    place: bytes
    record: bytes
    record_sha: str
    version_key: str | None
    sha256: str | None = None  # its own bytes, once stored
    media_type: str | None = None
    size: int | None = None
    parent_id: int | None = None


_VERSION_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"),
                                    ensure_ascii=False)
# In the table's own order, so the bulk insert need not reorder every row.
_ITEM_COLUMNS = tuple(column.name for column in items.columns)
_ITEM_ROW = operator.itemgetter(*_ITEM_COLUMNS)
_TWICE = ("appears twice in this container; the first is recorded, the second is kept "
          "only in the container")
_Ref = tuple[str, int]  # ("item", item id) or ("row", index in the group)


def _now() -> datetime:
    return datetime.now(UTC)


class EntryWriter:
    """Records one container's entries; :meth:`add` them in order, then :meth:`close`."""

    def __init__(self, home: Home, place: Place, resumed: bool) -> None:
        self.home = home
        self.place = place
        self.resumed = resumed
        self.figures = Figures()
        if resumed:  # the figures go on from what the killed run recorded
            with home.engine.connect() as conn:
                row = conn.execute(select(imports).where(imports.c.id == place.import_id)).one()
            self.figures = Figures(row.items, row.versions, row.sightings, row.problems)
        self._entries: list[AnyEntry] = []
        self._problems: list[Problem] = []
        self._bytes = 0
        self._ids: OrderedDict[str, int] = OrderedDict()  # locator -> item id
        self._attempt: list[str] = []  # locators remembered by the transaction under way
        self._shared: dict[str, Any] | None = None

    # -- buffering -----------------------------------------------------------------------

    def add(self, found: AnyEntry | Problem) -> None:
        if isinstance(found, Problem):
            self._problems.append(found)
        else:
            self._entries.append(found)
            if isinstance(found.payload, bytes):
                self._bytes += len(found.payload)
        if (len(self._entries) + len(self._problems) >= GROUP_ENTRIES
                or self._bytes >= GROUP_BYTES):
            self.flush()

    def flush(self) -> None:
        entries, problems = self._entries, self._problems
        self._entries, self._problems, self._bytes = [], [], 0
        if entries or problems:
            self._write(entries, problems)

    # -- one group -----------------------------------------------------------------------

    def _write(self, entries: list[AnyEntry], problems: list[Problem]) -> None:
        place = self.place
        base = place.rel_path_bytes + b"\x00"
        # On a resumed import, what the killed run recorded is looked up first. Otherwise
        # a place recorded twice is rare (a message id twice in an export): the unique
        # constraint finds it, and only then is the group looked up (see _commit).
        done = (self._already_recorded([base + e.locator.encode() for e in entries])
                if self.resumed else {})
        rows: list[_Row] = []
        files: dict[bytes, _File] = {}
        pending = []
        this_group: set[bytes] = set()
        for entry in entries:
            at = base + entry.locator.encode()
            if at in done and self.resumed:
                self._remember(entry.locator, done[at])
                continue
            if at in done or at in this_group:
                # Two entries at one place (a message id twice in one chat): the first is
                # kept; the second stays in the preserved container, and is named.
                problems.append(Problem(entry.locator, _TWICE))
                continue
            this_group.add(at)
            sha: str | None = None
            media_type: str | None = None
            size: int | None = None
            if entry.payload is not None:
                try:
                    blob, head = self._store_payload(entry.payload)
                except _Unreadable as exc:
                    problems.append(Problem(entry.locator, str(exc)))
                    continue
                pending.append(blob)
                media_type = mediatype.detect(head)
                sha, size = blob.sha256, blob.size
            wanted = [self._file_place(path) for path in entry.files]
            for key in wanted:
                if key is not None and key not in files:
                    files[key] = _File(key)
            rows.append(_Row(entry, at, b"", "", None, sha, media_type, size))
        self._find_files(files)
        pending += [f.pending for f in files.values() if f.pending is not None]
        with writing():
            self.home.blobs.publish(pending)
        for row in rows:
            self._finish_record(row, files)
        self._commit(rows, files, problems)

    def _commit(self, rows: list[_Row], files: dict[bytes, _File],
                problems: list[Problem]) -> None:
        self._attempt = []
        try:
            with self.home.engine.begin() as conn:
                self._record(conn, rows, files, problems)
            return
        except IntegrityError:
            if self.resumed:
                raise
            done = self._already_recorded([row.place for row in rows])
            if not done:
                raise
        for locator in self._attempt:  # ids of the rolled-back transaction
            self._ids.pop(locator, None)
        for f in files.values():
            f.linked = False
        kept = []
        for row in rows:
            if row.place in done:
                problems.append(Problem(row.entry.locator, _TWICE))
            else:
                kept.append(row)
        with self.home.engine.begin() as conn:
            self._record(conn, kept, files, problems)

    def _already_recorded(self, places: Sequence[bytes]) -> dict[bytes, int]:
        """Entries this batch already recorded at these places, as item ids: on a resumed
        import, what the killed run wrote; otherwise, repeats of a place."""
        if not places:
            return {}
        p = self.place
        found: dict[bytes, int] = {}
        with self.home.engine.connect() as conn:
            for table, column in ((items, items.c.id), (sightings, sightings.c.item_id)):
                for part in chunks(places):
                    for at, item_id in conn.execute(
                            select(table.c.rel_path_bytes, column).where(
                                table.c.batch_id == p.batch_id, table.c.root == p.root,
                                table.c.rel_path_bytes.in_(part))):
                        found[bytes(at)] = item_id
        return found

    def _store_payload(self, payload: bytes | Opener) -> tuple[PendingBlob, bytes]:
        """Its bytes into the blob store; :class:`_Unreadable` when the container cannot
        give them (a damaged zip member), StoreError when the data folder fails."""
        with writing():
            writer = self.home.blobs.writer()
        head = b""
        try:
            if isinstance(payload, bytes):
                with writing():
                    writer.write(payload)
                head = payload[:mediatype.SNIFF_BYTES]
            else:
                with _reading(), payload() as fh:
                    while chunk := _read(fh):
                        if len(head) < mediatype.SNIFF_BYTES:
                            head += chunk[:mediatype.SNIFF_BYTES - len(head)]
                        with writing():
                            writer.write(chunk)
            with writing():
                return writer.finish(), head
        except BaseException:
            writer.abort()
            raise

    # -- files beside the container --------------------------------------------------------

    def _file_place(self, path: str) -> bytes | None:
        parts = tuple(os.fsencode(p) for p in path.split("/"))
        if path.startswith("/") or any(p in (b"", b".", b"..") or b"\x00" in p for p in parts):
            return None  # importers refuse these first; never trusted here either
        return b"/".join((*self.place.folder_parts, *parts))

    def _find_files(self, files: dict[bytes, _File]) -> None:
        """Each file as this batch recorded it, or stored now from beside the container."""
        if not files:
            return
        p = self.place
        with self.home.engine.connect() as conn:
            for keys in chunks(sorted(files)):
                for row in conn.execute(
                        select(items.c.id, items.c.rel_path_bytes, items.c.sha256,
                               items.c.size, items.c.state, items.c.error)
                        .where(items.c.batch_id == p.batch_id, items.c.root == p.root,
                               items.c.rel_path_bytes.in_(keys))):
                    f = files[bytes(row.rel_path_bytes)]
                    if row.state == "stored":
                        f.item_id, f.sha256, f.size = row.id, row.sha256, row.size
                    else:
                        f.error = row.error or "the file was not stored"
                for seen in conn.execute(
                        select(sightings.c.id, sightings.c.rel_path_bytes, items.c.sha256,
                               sightings.c.size)
                        .join(items, items.c.id == sightings.c.item_id)
                        .where(sightings.c.batch_id == p.batch_id, sightings.c.root == p.root,
                               sightings.c.rel_path_bytes.in_(keys))):
                    f = files[bytes(seen.rel_path_bytes)]
                    f.sighting_id, f.sha256, f.size = seen.id, seen.sha256, seen.size
        for f in files.values():
            if f.sha256 is None and f.error is None:
                self._store_file(f)

    def _store_file(self, f: _File) -> None:
        """A file the batch did not list (only the container was named): store it now."""
        parts = tuple(f.place.split(b"/"))
        found = next(iter(_entry(self.place.root, parts[:-1], parts[-1])), None)
        if isinstance(found, Skipped) or not isinstance(found, Candidate):
            f.error = found.reason if isinstance(found, Skipped) else "not a file"
            return
        with writing():
            result = store_file(found, self.home.blobs)
        if isinstance(result, Failed):
            f.error = result.error
            return
        f.candidate, f.pending = found, result.blob
        f.sha256, f.size, f.media_type = result.blob.sha256, result.blob.size, result.media_type

    # -- records -------------------------------------------------------------------------

    def _finish_record(self, row: _Row, files: dict[bytes, _File]) -> None:
        """The record names the entry's files by hash, so it commits to its media."""
        entry = row.entry
        listed: list[dict[str, Any]] = []
        for path in entry.files:
            key = self._file_place(path)
            f = files.get(key) if key is not None else None
            if f is not None and f.sha256 is not None:
                listed.append({"path": path, "sha256": f.sha256, "size": f.size})
            else:
                listed.append({"path": path, "missing": f.error if f else
                               "refused: the path leaves the container's folder"})
        listed += [dict(m) for m in entry.missing]
        if entry.prepared is not None and not listed and row.sha256 is None:
            row.record, row.record_sha, row.version_key = entry.prepared
            return
        row.record, row.record_sha, row.version_key = prepare_record(entry, listed,
                                                                     row.sha256)

    def _remember(self, locator: str, item_id: int) -> None:
        self._attempt.append(locator)
        self._ids[locator] = item_id
        if len(self._ids) > PARENTS_KEPT:
            self._ids.popitem(last=False)

    def _parent_id(self, conn: Connection, locator: str | None) -> int | None:
        if locator is None:
            return self.place.item_id
        found = self._ids.get(locator)
        if found is not None:
            # Parents are asked for again and again (a chat for each of its messages): kept
            # as the most recent, they are never the ones forgotten. Forgotten, every
            # message after the 100,000th cost two lookups, and imports slowed with size.
            self._ids.move_to_end(locator)
            return found
        p = self.place
        at = p.rel_path_bytes + b"\x00" + locator.encode()
        for table, column in ((items, items.c.id), (sightings, sightings.c.item_id)):
            found = conn.execute(select(column).where(
                table.c.batch_id == p.batch_id, table.c.root == p.root,
                table.c.rel_path_bytes == at)).scalar_one_or_none()
            if found is not None:
                self._ids[locator] = int(found)
                return int(found)
        return self.place.item_id  # a parent that could not be read: the container holds it

    def _record(self, conn: Connection, rows: list[_Row], files: dict[bytes, _File],
                problems: list[Problem]) -> None:
        p, now, fig = self.place, _now(), self.figures
        # Written first: on SQLite this takes the write lock that reserve_ids relies on.
        conn.execute(update(imports).where(imports.c.id == p.import_id).values(
            state="running"))
        shas = sorted({r.sha256 for r in rows if r.sha256} | {
            f.sha256 for f in files.values() if f.pending is not None and f.sha256})
        owners: dict[str, int] = {}
        have: set[str] = set()
        for part in chunks(shas):
            owners.update((r.sha256, r.id) for r in conn.execute(
                select(items.c.sha256, items.c.id).where(items.c.sha256.in_(part))))
            have.update(conn.scalars(select(originals.c.sha256).where(
                originals.c.sha256.in_(part))))
        latest = self._latest(conn, sorted({r.entry.key for r in rows if r.entry.key}))
        # Pass 1: each row is new, or a sighting of an item: ("item", id) when it exists,
        # ("row", index) when an earlier row of this group is storing it now.
        by_sha: dict[str, _Ref] = {sha: ("item", i) for sha, i in owners.items()}
        by_key: dict[str, tuple[_Ref, str | None]] = {
            k: (("item", i), v) for k, (i, v) in latest.items()}
        owner_of: dict[int, _Ref] = {}
        previous_of: dict[int, _Ref] = {}
        new_originals: list[dict[str, Any]] = []
        for index, row in enumerate(rows):
            entry = row.entry
            if row.sha256 is not None:
                if row.sha256 in by_sha:
                    owner_of[index] = by_sha[row.sha256]
                else:
                    by_sha[row.sha256] = ("row", index)
                if row.sha256 not in have:
                    have.add(row.sha256)
                    new_originals.append({"sha256": row.sha256, "size": row.size,
                                          "media_type": row.media_type, "stored_at": now})
            elif entry.key is not None:
                last = by_key.get(entry.key)
                if last is not None and last[1] == row.version_key:
                    owner_of[index] = last[0]
                    continue
                if last is not None:
                    previous_of[index] = last[0]
                by_key[entry.key] = (("row", index), row.version_key)
        new = [i for i in range(len(rows)) if i not in owner_of]
        twice = self._seen_here(conn, rows, owner_of)
        for i in sorted(twice):
            problems.append(Problem(rows[i].entry.locator, _TWICE))
        id_of: dict[int, int] = {}

        def resolve(ref: _Ref) -> int:
            return ref[1] if ref[0] == "item" else id_of[ref[1]]

        # A parent read in an earlier group is known now; one in this group only after
        # the insert below, so those rows are fixed up afterwards.
        group_at = {row.entry.locator: i for i, row in enumerate(rows)}
        late: set[int] = set()
        for i, row in enumerate(rows):
            parent = row.entry.parent
            if parent is not None and parent in group_at and group_at[parent] < i:
                late.add(i)
            else:
                row.parent_id = self._parent_id(conn, parent)
        if new_originals:
            conn.execute(insert(originals), new_originals)
        values_of: dict[int, dict[str, Any]] = {}
        # What every new row of the group shares, copied and completed row by row.
        base = {**self._common(), "state": "stored", "importer": p.importer,
                "captured_at": now, "updated_at": now, "error": None, "warning": None}
        for i in new:
            row, entry = rows[i], rows[i].entry
            ref = previous_of.get(i)
            values = base.copy()
            values.update(
                original_name=(entry.name or entry.locator)[:1000], rel_path_bytes=row.place,
                size=row.size if row.size is not None else len(row.record),
                record_sha256=row.record_sha, kind=entry.kind, parent_id=row.parent_id,
                sha256=row.sha256, media_type=row.media_type,
                rel_path=f"{p.rel_path}#{entry.locator}", locator=entry.locator,
                source_key=entry.key, version_key=row.version_key,
                previous_id=ref[1] if ref and ref[0] == "item" else None,
                record=row.record.decode(), occurred_at=entry.time)
            values_of[i] = values
        if new:
            for i, item_id in zip(new, reserve_ids(conn, items, len(new)), strict=True):
                id_of[i] = values_of[i]["id"] = item_id
            bulk_insert_typed(conn, items, _ITEM_COLUMNS,
                              [_ITEM_ROW(values_of[i]) for i in new])

        def item_of(i: int) -> int:
            return id_of[i] if i in id_of else resolve(owner_of[i])

        for i in late:
            parent_index = group_at[rows[i].entry.parent or ""]
            rows[i].parent_id = item_of(parent_index)
        fixes = [{"b_id": id_of[i], "b_parent": rows[i].parent_id,
                  "b_previous": (resolve(previous_of[i]) if i in previous_of
                                 else values_of[i]["previous_id"])}
                 for i in new if i in late or previous_of.get(i, ("item", 0))[0] == "row"]
        if fixes:
            conn.execute(update(items).where(items.c.id == bindparam("b_id")).values(
                parent_id=bindparam("b_parent"), previous_id=bindparam("b_previous")), fixes)
        log: list[custody.CustodyEvent] = []
        captures: list[tuple[str, str, int, int | None, int]] = []
        seen_rows: list[dict[str, Any]] = []
        template = ContextTemplate(self._common(), now)
        for i, row in enumerate(rows):
            entry = row.entry
            self._remember(entry.locator, item_of(i))
            if i in twice:
                continue
            context = self._context(row) if i not in id_of else values_of[i]
            digest = template.digest(context["original_name"], row.place, context["size"],
                                     row.record_sha)
            if i in id_of:
                captures.append((row.sha256 or row.record_sha, digest, id_of[i],
                                 context["size"], p.batch_id))
                continue
            owner = item_of(i)
            seen_rows.append({**context, "item_id": owner, "parent_id": row.parent_id,
                              "rel_path": self._shown(entry.locator), "seen_at": now,
                              "locator": entry.locator, "record": row.record.decode()})
            log.append(sighting_event(row.sha256 or self._identity(conn, owner),
                                      context, now, owner, context=digest))
        if seen_rows:
            conn.execute(insert(sightings), seen_rows)
        for sha, ref in by_sha.items():
            owners[sha] = resolve(ref)
        self._link_files(conn, rows, files, owners, log, now)
        # In the same transaction: an entry is recorded exactly when its event is logged.
        custody.append_records(conn, capture_records(captures, now)
                               + [event.record() for event in log],
                               [c[0] for c in captures] + [event.sha256 for event in log])
        self._count_problems(conn, problems)
        fig.items += len(new)
        fig.versions += len(previous_of)
        fig.sightings += len(seen_rows)
        conn.execute(update(imports).where(imports.c.id == p.import_id).values(
            items=fig.items, versions=fig.versions, sightings=fig.sightings,
            problems=fig.problems))

    def _seen_here(self, conn: Connection, rows: list[_Row],
                   owner_of: dict[int, _Ref]) -> set[int]:
        """Rows that would be sightings of the item recorded at their very place in this
        batch: the same message twice in one export, unchanged, in different groups."""
        owners = {ref[1] for ref in owner_of.values() if ref[0] == "item"}
        if not owners:
            return set()
        p = self.place
        here = {(item_id, bytes(at)) for part in chunks(sorted(owners))
                for item_id, at in conn.execute(
                    select(items.c.id, items.c.rel_path_bytes).where(
                        items.c.id.in_(part), items.c.batch_id == p.batch_id,
                        items.c.root == p.root))}
        return {i for i, ref in owner_of.items()
                if ref[0] == "item" and (ref[1], rows[i].place) in here}

    def _latest(self, conn: Connection, keys: list[str]) -> dict[str, tuple[int, str | None]]:
        """The newest version of each key: (item id, version key)."""
        out: dict[str, tuple[int, str | None]] = {}
        if not keys:
            return out
        found = sorted(row for part in chunks(keys) for row in conn.execute(
            select(items.c.id, items.c.source_key, items.c.version_key)
            .where(items.c.source_key.in_(part))))
        for item_id, key, version in found:  # by id: the newest version last
            out[key] = (item_id, version)
        return out

    def _identity(self, conn: Connection, item_id: int) -> str:
        """What an item's custody events name: its original's hash, else its record's."""
        row = conn.execute(select(items.c.sha256, items.c.record_sha256)
                           .where(items.c.id == item_id)).one()
        return str(row.sha256 or row.record_sha256)

    def _link_files(self, conn: Connection, rows: list[_Row], files: dict[bytes, _File],
                    owners: dict[str, int], log: list[custody.CustodyEvent],
                    now: datetime) -> None:
        """Each entry's files become its children (media)."""
        item_updates: list[dict[str, Any]] = []
        seen_updates: list[dict[str, Any]] = []
        for row in rows:
            parent = self._ids.get(row.entry.locator)
            for path in row.entry.files:
                key = self._file_place(path)
                f = files.get(key) if key is not None else None
                if f is None or f.sha256 is None or f.linked:
                    continue
                f.linked = True
                self.figures.files += 1
                if f.item_id is not None:
                    item_updates.append({"b_id": f.item_id, "b_parent": parent})
                elif f.sighting_id is not None:
                    seen_updates.append({"b_id": f.sighting_id, "b_parent": parent})
                elif f.candidate is not None:
                    self._record_file(conn, f, parent, owners, log, now)
        if item_updates:
            conn.execute(update(items).where(items.c.id == bindparam("b_id"))
                         .values(parent_id=bindparam("b_parent"), kind="media"), item_updates)
        if seen_updates:
            conn.execute(update(sightings).where(sightings.c.id == bindparam("b_id"))
                         .values(parent_id=bindparam("b_parent")), seen_updates)

    def _record_file(self, conn: Connection, f: _File, parent: int | None,
                     owners: dict[str, int], log: list[custody.CustodyEvent],
                     now: datetime) -> None:
        """A file stored by this import (not listed by the batch): an item or sighting."""
        cand, sha = f.candidate, f.sha256
        assert cand is not None and sha is not None
        p = self.place
        context = {"batch_id": p.batch_id, "original_name": cand.name, "root": cand.root_text,
                   "rel_path_bytes": cand.rel_path_bytes, "size": f.size,
                   "mtime_ns": cand.mtime_ns, "ctime_ns": cand.ctime_ns,
                   "atime_ns": cand.atime_ns, "collector": p.collector, "note": p.note,
                   "host": p.host, "svidok_version": __version__}
        if conn.execute(select(originals.c.sha256).where(originals.c.sha256 == sha)).first() \
                is None:
            conn.execute(insert(originals).values(sha256=sha, size=f.size,
                                                  media_type=f.media_type, stored_at=now))
        owner = owners.get(sha) or conn.execute(
            select(items.c.id).where(items.c.sha256 == sha)).scalar_one_or_none()
        if owner is not None and owner > 0:
            conn.execute(insert(sightings).values(**context, item_id=owner, parent_id=parent,
                                                  rel_path=cand.rel_path, seen_at=now))
            log.append(sighting_event(sha, context, now, owner))
            return
        new_id = conn.execute(insert(items).values(
            **context, state="stored", kind="media", parent_id=parent, sha256=sha,
            media_type=f.media_type, rel_path=cand.rel_path, captured_at=now, updated_at=now)
            .returning(items.c.id)).scalar_one()
        owners[sha] = new_id
        log.append(capture_event(sha, context, now, new_id))

    def _count_problems(self, conn: Connection, problems: list[Problem]) -> None:
        fig = self.figures
        keep = max(0, MAX_PROBLEMS_KEPT - fig.problems)
        if problems[:keep]:
            conn.execute(insert(import_problems), [
                {"import_id": self.place.import_id, "location": pr.where[:500],
                 "message": pr.message[:2000]} for pr in problems[:keep]])
        fig.problems += len(problems)
        room = 20 - len(fig.first_problems)
        fig.first_problems.extend(problems[:max(0, room)])

    # -- context -------------------------------------------------------------------------

    def _shown(self, locator: str) -> str:
        return f"{self.place.rel_path}#{locator}"

    def _common(self) -> dict[str, Any]:
        """What every entry's capture context of this import shares."""
        if self._shared is not None:
            return self._shared
        p = self.place
        self._shared = {"batch_id": p.batch_id, "root": p.root, "mtime_ns": None, "ctime_ns": None,
                "atime_ns": None, "collector": p.collector, "note": p.note, "host": p.host,
                "svidok_version": __version__}
        return self._shared

    def _context(self, row: _Row) -> dict[str, Any]:
        entry = row.entry
        return {**self._common(), "original_name": (entry.name or entry.locator)[:1000],
                "rel_path_bytes": row.place,
                "size": row.size if row.size is not None else len(row.record),
                "record_sha256": row.record_sha}

    def close(self) -> Figures:
        self.flush()
        return self.figures


def prepare_record(entry: AnyEntry, listed: Sequence[Mapping[str, Any]] = (),
                   sha256: str | None = None) -> tuple[bytes, str, str | None]:
    """An entry's record (canonical JSON), its SHA-256, and its version key.

    ``listed``: its files as found (path and hash, or why missing); ``sha256``: its own
    bytes' hash. An entry with neither can be prepared where it is read (reading.py),
    which takes this work off the process that records it.
    """
    record: dict[str, Any] = {"kind": entry.kind, "locator": entry.locator, **entry.fields}
    if listed:
        record["files"] = list(listed)
    if sha256 is not None:
        record["sha256"] = sha256
    text = canonical_json(record)
    version_key = None
    if entry.key is not None:
        version: dict[str, Any] = dict(entry.version if entry.version is not None
                                       else entry.fields)
        version["files"] = [item.get("sha256") or item.get("path") for item in listed]
        # Only an identity, never logged: the plain encoder, without the float check.
        version_key = hashlib.sha256(_VERSION_ENCODER.encode(version).encode()).hexdigest()
    return text, hashlib.sha256(text).hexdigest(), version_key


def prepared(entry: Entry) -> AnyEntry:
    """The entry with its record made now, and its fields dropped (the record holds
    them), when it has no files or bytes of its own that only the recorder can resolve."""
    if entry.files or entry.missing or entry.payload is not None:
        return entry
    return PreparedEntry(entry.locator, entry.kind, entry.parent, entry.key, entry.time,
                         entry.name, prepare_record(entry))


class _Unreadable(Exception):
    """An entry's bytes could not be read out of its container."""


def _read(fh: IO[bytes]) -> bytes:
    with _reading():
        return fh.read(COPY_CHUNK)


@contextmanager
def _reading() -> Iterator[None]:
    """Reading a payload out of its container: any failure costs only that entry."""
    try:
        yield
    except StoreError:
        raise
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        # The type only: the text of a decoder's error can quote the bytes.
        raise _Unreadable(f"its bytes could not be read out of the container "
                          f"({type(exc).__name__}); the container itself is preserved") from None


@dataclass
class _File:
    place: bytes
    item_id: int | None = None
    sighting_id: int | None = None
    sha256: str | None = None
    size: int | None = None
    media_type: str | None = None
    error: str | None = None
    candidate: Candidate | None = None
    pending: Any = None
    linked: bool = False


def problem_rows(conn: Connection, import_id: int, limit: int) -> list[Mapping[str, Any]]:
    return [dict(r) for r in conn.execute(
        select(import_problems.c.location, import_problems.c.message)
        .where(import_problems.c.import_id == import_id)
        .order_by(import_problems.c.id).limit(limit)).mappings()]
