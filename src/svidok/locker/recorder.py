"""Recording what the workers stored, in a thread of its own.

Publishing blobs (two file-system syncs) and committing their records take as long as
storing the files; done in the ingest's main loop they left the workers idle. The recorder
takes groups of finished files from a short queue, publishes their blobs, then records
them in one transaction, while the workers go on with the next files.
"""

from __future__ import annotations

import queue
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from svidok import __version__
from svidok.custody import events as custody
from svidok.custody.capture import capture_event, sighting_event
from svidok.db.schema import items, originals, sightings
from svidok.home import Home
from svidok.locker.report import BatchReport, IngestOptions, Outcome, Reporter
from svidok.locker.store import Failed, Stored, writing

Done = list[tuple[int, "Stored | Failed"]]


@dataclass(frozen=True)
class BatchContext:
    batch_id: int
    options: IngestOptions
    host: str = socket.gethostname()


class Recorder:
    """Publishes and records groups of outcomes in order, on one background thread."""

    def __init__(self, home: Home, context: BatchContext, report: BatchReport,
                 reporter: Reporter, depth: int = 2) -> None:
        self.home = home
        self.engine = home.engine
        self.batch_id = context.batch_id
        self.options = context.options
        self.host = context.host
        self.report = report
        self.reporter = reporter
        self.error: BaseException | None = None
        self._queue: queue.Queue[Done | None] = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()

    def submit(self, done: Done) -> None:
        """Hand over a group; blocks while the recorder is ``depth`` groups behind."""
        if done and self.error is None:
            self._queue.put(list(done))
        done.clear()

    def close(self) -> None:
        """Record everything submitted, then stop; re-raises the recorder's error."""
        self._queue.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        while (group := self._queue.get()) is not None:
            if self.error is not None:
                continue  # drain: what is not recorded stays pending for the next run
            try:
                self._flush(group)
            except BaseException as exc:
                self.error = exc

    def _flush(self, done: Done) -> None:
        with writing():  # blobs are durable under their names before any record names them
            self.home.blobs.publish([r.blob for _, r in done if isinstance(r, Stored)])
        with self.engine.begin() as conn:
            outcomes = self._record(conn, done)
        self.report.outcomes.extend(outcomes)
        for outcome in outcomes:
            self.reporter.advanced(outcome, outcome.size or 0)

    def _record(self, conn: Connection, done: list[tuple[int, Stored | Failed]]
                ) -> list[Outcome]:
        """Write one group of outcomes; the caller has published their blobs."""
        outcomes: list[Outcome] = []
        stored = [(i, r) for i, r in done if isinstance(r, Stored)]
        shas = sorted({r.blob.sha256 for _, r in stored})
        have = set(conn.scalars(select(originals.c.sha256).where(originals.c.sha256.in_(shas))))
        owners: dict[str, int] = {row.sha256: row.id for row in conn.execute(
            select(items.c.sha256, items.c.id).where(items.c.sha256.in_(shas)))}
        new_originals, updates, new_sightings, drop = [], [], [], []
        log: list[custody.CustodyEvent] = []
        now = _now()
        for item_id, res in stored:
            sha, cand, st = res.blob.sha256, res.candidate, res.stat
            if sha not in have:
                have.add(sha)
                new_originals.append({"sha256": sha, "size": res.blob.size,
                                      "media_type": res.media_type, "stored_at": now})
            fs_times = {"size": st.st_size, "mtime_ns": st.st_mtime_ns,
                        "ctime_ns": st.st_ctime_ns, "atime_ns": st.st_atime_ns}
            context = {
                "batch_id": self.batch_id, "original_name": cand.name, "root": cand.root_text,
                "rel_path_bytes": cand.rel_path_bytes, "collector": self.options.collector,
                "note": self.options.note, "host": self.host, "svidok_version": __version__,
                **fs_times}
            owner = owners.get(sha)
            if owner is not None and owner != item_id:
                new_sightings.append({"item_id": owner, "rel_path": cand.rel_path,
                                      "seen_at": now, **context})
                log.append(sighting_event(sha, context, now, owner))
                drop.append({"b_id": item_id})
                outcomes.append(Outcome("sighting", cand.root_text, cand.rel_path, owner, sha,
                                        res.blob.size, res.media_type, res.warning))
                continue
            owners[sha] = item_id
            # The run that stores the bytes is the capture: its collector, note and host
            # are recorded, as its capture event commits to them.
            updates.append({"b_id": item_id, "state": "stored", "error": None, "sha256": sha,
                            "media_type": res.media_type, "warning": res.warning,
                            "captured_at": now, "updated_at": now,
                            "collector": self.options.collector, "note": self.options.note,
                            "host": self.host, "svidok_version": __version__, **fs_times})
            log.append(capture_event(sha, context, now, item_id))
            outcomes.append(Outcome("stored", cand.root_text, cand.rel_path, item_id, sha,
                                    res.blob.size, res.media_type, res.warning))
        failures = [{"b_id": i, "error": r.error, "updated_at": now}
                    for i, r in done if isinstance(r, Failed)]
        if new_originals:
            conn.execute(insert(originals), new_originals)
        if drop:
            conn.execute(delete(items).where(items.c.id == bindparam("b_id")), drop)
        if new_sightings:
            conn.execute(insert(sightings), new_sightings)
        if updates:
            conn.execute(update(items).where(items.c.id == bindparam("b_id")), updates)
        if failures:
            conn.execute(update(items).where(items.c.id == bindparam("b_id"))
                         .values(state="failed"), failures)
        for item_id, failed in done:
            if isinstance(failed, Failed):
                outcomes.append(Outcome("failed", failed.candidate.root_text,
                                        failed.candidate.rel_path, item_id, message=failed.error))
        # In the same transaction: an item is stored exactly when its capture is logged.
        custody.append(conn, log)
        return outcomes



def _now() -> datetime:
    return datetime.now(UTC)
