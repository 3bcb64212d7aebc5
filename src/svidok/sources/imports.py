"""After a batch stores its files: read every container in it with the best importer.

Each file the batch stored or saw again is shown to the importers (importers/__init__.py);
the one with the best score reads it, and its entries become child items of the file
(recording.py). An import run is a row of its own, so a killed run resumes where it
stopped, and a container whose import finished is not read again in the same batch.
Importers read the preserved bytes in the blob store, never the file at its source path,
which may have changed since it was stored.
"""

from __future__ import annotations

import json
import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import func, insert, select, update

from svidok.db.schema import imports, items, sightings
from svidok.home import Home
from svidok.locker.report import ImportOutcome, Reporter
from svidok.locker.store import StoreError
from svidok.sources.importer import (
    AnyEntry,
    Container,
    Importer,
    ImportFailed,
    ImportOptions,
    importer_id,
)
from svidok.sources.importers import choose
from svidok.sources.problems import Problem
from svidok.sources.reading import ReaderStopped, read_separately, separate
from svidok.sources.recording import EntryWriter, Figures, Place

PAGE = 1000
REPORT_EVERY = 2000
PIPE_CHUNK = 500  # entries handed to the writer thread at a time


@dataclass(frozen=True)
class Found:
    """A file of the batch that may be a container."""

    item_id: int
    root: str
    rel_path: str
    rel_path_bytes: bytes
    name: str
    sha256: str
    media_type: str
    size: int


@dataclass(frozen=True)
class Batch:
    batch_id: int
    collector: str | None
    note: str | None
    host: str
    direct: frozenset[tuple[str, bytes]]  # files named on the command line: (root, path)


def _now() -> datetime:
    return datetime.now(UTC)


def _files(home: Home, batch_id: int) -> Iterator[Found]:
    """The files the batch stored or saw again, page by page: not what importers read out
    of them, nor files an import brought in from beside its container (those are read
    when they are ingested themselves)."""
    with home.engine.connect() as conn:
        last_item = conn.execute(select(func.max(items.c.id))).scalar_one() or 0
        last_seen = conn.execute(select(func.max(sightings.c.id))).scalar_one() or 0
    queries = (
        select(items.c.id, items.c.id.label("item_id"), items.c.root, items.c.rel_path,
               items.c.rel_path_bytes, items.c.original_name, items.c.sha256,
               items.c.media_type, items.c.size)
        .where(items.c.batch_id == batch_id, items.c.state == "stored",
               items.c.locator.is_(None), items.c.sha256.is_not(None),
               items.c.id <= last_item),
        select(sightings.c.id, sightings.c.item_id, sightings.c.root, sightings.c.rel_path,
               sightings.c.rel_path_bytes, sightings.c.original_name, items.c.sha256,
               items.c.media_type, items.c.size)
        .join(items, items.c.id == sightings.c.item_id)
        .where(sightings.c.batch_id == batch_id, sightings.c.locator.is_(None),
               items.c.sha256.is_not(None), sightings.c.id <= last_seen),
    )
    for query in queries:
        last = 0
        first = query.selected_columns[0]
        while True:
            with home.engine.connect() as conn:
                rows = conn.execute(query.where(first > last).order_by(first).limit(PAGE)).all()
            if not rows:
                break
            last = rows[-1][0]
            for r in rows:
                yield Found(r.item_id, r.root, r.rel_path, bytes(r.rel_path_bytes),
                            r.original_name, r.sha256, r.media_type, r.size)


def import_batch(home: Home, batch: Batch, options: ImportOptions,
                 reporter: Reporter) -> list[ImportOutcome]:
    """Read every container of the batch; raises StoreError when the data folder fails."""
    if options.forced == "file":
        return []
    with home.engine.connect() as conn:
        runs = {(r.root, bytes(r.rel_path_bytes)): (r.id, r.state) for r in conn.execute(
            select(imports.c.id, imports.c.root, imports.c.rel_path_bytes, imports.c.state)
            .where(imports.c.batch_id == batch.batch_id))}
    outcomes: list[ImportOutcome] = []
    for found in _files(home, batch.batch_id):
        place = (found.root, found.rel_path_bytes)
        earlier = runs.get(place)
        if earlier is not None and earlier[1] != "running":
            continue  # read already in this batch (a resumed batch)
        folder = os.path.join(os.fsencode(found.root), *found.rel_path_bytes.split(b"/")[:-1])
        container = Container(path=home.blobs.path_of(found.sha256), name=found.name,
                              media_type=found.media_type, size=found.size,
                              folder=Path(os.fsdecode(folder)))
        importer = choose(container, options.forced, place in batch.direct)
        if importer is None:
            continue
        outcomes.append(_import(home, batch, found, container, importer, options,
                                earlier[0] if earlier else None, reporter))
    return outcomes


def _import(home: Home, batch: Batch, found: Found, container: Container, importer: Importer,
            options: ImportOptions, resumed_id: int | None,
            reporter: Reporter) -> ImportOutcome:
    name = importer_id(importer)
    import_id = resumed_id if resumed_id is not None else _start(home, batch, found, name,
                                                                 options)
    place = Place(import_id, batch.batch_id, found.item_id, found.root, found.rel_path,
                  found.rel_path_bytes, name, batch.collector, batch.note, batch.host)
    writer = EntryWriter(home, place, resumed=resumed_id is not None)
    reporter.importing(found.rel_path, importer.title)
    error: str | None = None
    read = 0
    pipe = _Pipe(writer)
    try:
        try:
            chunk: list[AnyEntry | Problem] = []
            entries = (read_separately(importer.name, container, options)
                       if separate(importer, container)
                       else importer.read(container, options))
            for entry in entries:
                chunk.append(entry)
                if len(chunk) == PIPE_CHUNK:
                    pipe.put(chunk)
                    chunk = []
                    read += PIPE_CHUNK
                    if read % REPORT_EVERY == 0:
                        reporter.read(REPORT_EVERY)
            pipe.put(chunk)
            read += len(chunk)
        finally:
            figures = pipe.close()  # what was read is recorded, whatever stopped reading
    except (ImportFailed, ReaderStopped) as exc:
        error = str(exc)
        figures = writer.figures
    except (StoreError, KeyboardInterrupt):
        raise  # the run stays 'running': the next ingest over these paths resumes it
    except Exception as exc:  # one broken container must not stop the batch
        # Only the exception's type: its text may quote the evidence.
        error = (f"the {importer.title} importer stopped ({type(exc).__name__}); what it "
                 "read before is kept; please report this with the importer's name")
        figures = writer.figures
    reporter.read(read % REPORT_EVERY)
    state: Literal["finished", "failed"] = "failed" if error else "finished"
    with home.engine.begin() as conn:
        conn.execute(update(imports).where(imports.c.id == import_id).values(
            state=state, error=error, finished_at=_now()))
    return ImportOutcome(
        root=found.root, rel_path=found.rel_path, item_id=found.item_id, importer=name,
        state=state, items=figures.items, versions=figures.versions,
        sightings=figures.sightings, files=figures.files, problems=figures.problems,
        first_problems=[(p.where, p.message) for p in figures.first_problems], error=error,
        import_id=import_id)


class _Pipe:
    """Entries recorded on a thread of their own while the importer reads on.

    SQLite and PostgreSQL do their work without holding Python's lock, so writing one
    group overlaps reading the next; the queue is short, so memory stays bounded.
    """

    def __init__(self, writer: EntryWriter, depth: int = 4) -> None:
        self.writer = writer
        self.error: BaseException | None = None
        self._queue: queue.Queue[list[AnyEntry | Problem] | None] = queue.Queue(
            maxsize=depth)
        self._thread = threading.Thread(target=self._run, name="import-writer", daemon=True)
        self._thread.start()

    def put(self, chunk: list[AnyEntry | Problem]) -> None:
        if self.error is not None:
            raise self.error
        self._queue.put(chunk)

    def close(self) -> Figures:
        """Record what was handed over, then stop; re-raises the writer's error."""
        self._queue.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self.writer.figures

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self.error is not None:
                continue  # drain; what is not recorded is read again on resume
            try:
                for found in chunk:
                    self.writer.add(found)
            except BaseException as exc:
                self.error = exc
        if self.error is None:
            try:
                self.writer.close()
            except BaseException as exc:
                self.error = exc


def _start(home: Home, batch: Batch, found: Found, name: str, options: ImportOptions) -> int:
    with home.engine.begin() as conn:
        new_id = conn.execute(insert(imports).values(
            batch_id=batch.batch_id, item_id=found.item_id, root=found.root,
            rel_path=found.rel_path, rel_path_bytes=found.rel_path_bytes, importer=name,
            state="running", options=json.dumps(options.described()) or None, items=0,
            versions=0, sightings=0, problems=0, started_at=_now())
            .returning(imports.c.id)).scalar_one()
        conn.execute(update(items).where(items.c.id == found.item_id,
                                         items.c.importer.is_(None))
                     .values(importer=name))
    return int(new_id)
