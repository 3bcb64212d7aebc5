"""Running an upload job: the staged files through the same ingest as ``svidok ingest``.

A job's files wait in its staging folder (upload_jobs.py). The job unpacks the export
archives among them (unpack.py; a hostile archive fails the job before anything is
ingested), ingests the files and unpacked folders with :func:`svidok.locker.ingest.ingest`,
the uploading person as collector, then enriches as ``svidok ingest --enrich`` does. Each
waits its turn behind the data folder's ``ingest`` and ``enrich`` locks, as a second
command would. The staging folder is removed whatever happens: the originals are in the
locker by then, or the job says what failed.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from svidok.db.schema import batches
from svidok.home import Home, HomeError
from svidok.locker.ingest import BatchReport, IngestError, IngestOptions, Outcome, ingest
from svidok.locker.store import StoreError
from svidok.locker.unpack import UnpackError, is_export_archive, unpack
from svidok.locker.upload_jobs import (
    Job,
    abandon_batch,
    fail_job,
    finish_job,
    get_job,
    job_folder,
    remove,
    set_progress,
)
from svidok.sources.importer import ImportOptions

log = logging.getLogger(__name__)

WAIT_SECONDS = 2.0  # between looks at a busy lock
PROGRESS_SECONDS = 0.5  # progress is written at most this often
SHOWN_ITEMS = 1000  # items named in a job's result; the figures count them all


class JobProgress:
    """An ingest :class:`~svidok.locker.report.Reporter` writing the job's progress."""

    def __init__(self, home: Home, job_id: int) -> None:
        self.engine = home.engine
        self.job_id = job_id
        self.done = 0
        self.total = 0
        self._last = 0.0
        self._lock = threading.Lock()

    def phase(self, phase: str, done: int = 0, total: int = 0) -> None:
        with self._lock:
            self.done, self.total = done, total
            set_progress(self.engine, self.job_id, phase=phase, done=done, total=total)
            self._last = time.monotonic()

    def tick(self, phase: str) -> None:
        """Write the figures if the last write is old enough (the caller holds the lock
        or is the only writer)."""
        if time.monotonic() - self._last >= PROGRESS_SECONDS:
            self._last = time.monotonic()
            set_progress(self.engine, self.job_id, phase=phase, done=self.done,
                         total=self.total)

    def scanning(self, found: int) -> None:
        pass

    def started(self, files: int, total_bytes: int) -> None:
        # Under the ingest lock this host runs one batch: the one just opened.
        with self.engine.connect() as conn:
            batch = conn.execute(select(batches.c.id).where(
                batches.c.state == "running", batches.c.host == socket.gethostname())
                .order_by(batches.c.id.desc()).limit(1)).scalar_one_or_none()
        with self._lock:
            self.done, self.total = 0, files
            set_progress(self.engine, self.job_id, phase="storing", done=0, total=files,
                         batch_id=batch)

    def advanced(self, outcome: Outcome, nbytes: int) -> None:
        with self._lock:
            self.done += 1
            self.tick("storing")

    def importing(self, rel_path: str, importer: str) -> None:
        with self._lock:
            self.done, self.total = 0, 0
            set_progress(self.engine, self.job_id, phase="reading", done=0, total=0)

    def read(self, entries: int) -> None:
        with self._lock:
            self.done = entries
            self.tick("reading")


def run_job(home: Home, job: Job, *, enrich: bool | None = None,
            stop: threading.Event | None = None) -> None:
    """Do ``job`` (claimed, so running) to the end: done or failed, never left running.
    The staging folder is gone before the job says it ended."""
    folder = job_folder(home, job.id)
    try:
        end = _run(home, job, folder, enrich, stop)
    finally:
        remove(folder)
    end()


def _run(home: Home, job: Job, folder: Path, enrich: bool | None,
         stop: threading.Event | None) -> Callable[[], None]:
    """The work; returns what records its end."""
    progress = JobProgress(home, job.id)
    engine = home.engine

    def failed(message: str, abandon: bool = True) -> Callable[[], None]:
        def end() -> None:
            if abandon:
                _abandon(home, job.id)
            fail_job(engine, job.id, message)
        return end

    try:
        paths, labels = _prepare(home, job, folder, progress)
        report = _waiting_for_lock(lambda: ingest(home, paths, _options(job), progress),
                                   progress, "waiting for another ingest", stop)
        if report.aborted:
            return failed(f"the ingest stopped: {report.aborted}; what was stored before "
                          "is kept")
        result = _result(report, labels)
        message = _attention(report)
        if home.settings.upload_enrich if enrich is None else enrich:
            message = _enrich(home, progress, stop, result) or message
        return lambda: finish_job(engine, job.id, result, message)
    except UnpackError as exc:
        return failed(str(exc), abandon=False)
    except (IngestError, HomeError, StoreError) as exc:
        return failed(str(exc))
    except SQLAlchemyError as exc:
        log.warning("upload job %s: the database failed (%s)", job.id, type(exc).__name__)
        return failed("the database failed while storing this upload; what was stored "
                      "before is kept; upload the rest again")
    except OSError as exc:
        return failed(f"the data folder could not be written "
                      f"({exc.strerror or type(exc).__name__}); what was stored before is "
                      "kept; upload the rest again")


def _options(job: Job) -> IngestOptions:
    return IngestOptions(collector=job.collector, note=job.note,
                         reading=ImportOptions(tz=ZoneInfo(job.tz) if job.tz else None))


def _prepare(home: Home, job: Job, folder: Path, progress: JobProgress
             ) -> tuple[list[Path], dict[str, str]]:
    """The paths to ingest, and what to call each root for people: a staged file is its
    own root; an archive is ingested as it is (the bytes as received) and, unpacked, as a
    folder the importers read."""
    paths: list[Path] = []
    labels: dict[str, str] = {}
    archives = []
    for number, staged in enumerate(job.files):
        path = folder / staged.staged
        if not path.is_file() or path.is_symlink():
            raise UnpackError(f"{staged.name} is no longer in the staging folder")
        paths.append(path)
        labels[str(path.parent.resolve())] = ""
        if is_export_archive(path, staged.name):
            archives.append((number, staged, path))
    for at, (number, staged, path) in enumerate(archives):
        progress.phase("unpacking", at, len(archives))
        stem = path.name[:-4] or "archive"
        dest = folder / "unpacked" / str(number)
        dest.mkdir(parents=True, mode=0o700)
        unpacked = unpack(path, staged.name, dest / stem,
                          home.settings.upload_unpack_max_bytes)
        paths.append(unpacked.folder)
        labels[str(unpacked.folder.resolve())] = staged.name
    return paths, labels


def _waiting_for_lock(work: Callable[[], BatchReport], progress: JobProgress, waiting: str,
                      stop: threading.Event | None) -> BatchReport:
    while True:
        try:
            return work()
        except HomeError as exc:
            if not _busy(exc):
                raise
        progress.phase(waiting)
        if _pause(stop):
            raise HomeError("the server stopped before this upload's turn came; upload it "
                            "again")


def _busy(exc: HomeError) -> bool:
    # Home.lock's refusal: another command holds the lock (and will let go of it).
    return "is running on" in str(exc)


def _pause(stop: threading.Event | None) -> bool:
    """Wait a moment; True when the server is stopping."""
    if stop is None:
        time.sleep(WAIT_SECONDS)
        return False
    return stop.wait(WAIT_SECONDS)


def _result(report: BatchReport, labels: dict[str, str]) -> dict[str, Any]:
    def shown(outcome_root: str, rel_path: str) -> str:
        archive = labels.get(outcome_root, "")
        return f"{archive}/{rel_path}" if archive else rel_path

    kept = [o for o in report.outcomes if o.state in ("stored", "sighting") and o.item_id]
    return {
        "batch": report.batch_id,
        "stored": report.count("stored"), "seen_again": report.count("sighting"),
        "failed": report.count("failed"), "skipped": report.count("skipped"),
        "items": [{"id": o.item_id, "name": shown(o.root, o.rel_path), "state": o.state,
                   "media_type": o.media_type, "size": o.size} for o in kept[:SHOWN_ITEMS]],
        "problems": [{"name": shown(o.root, o.rel_path), "state": o.state,
                      "message": o.message} for o in report.outcomes if o.message
                     ][:SHOWN_ITEMS],
        "imports": [{"item": i.item_id, "name": shown(i.root, i.rel_path),
                     "importer": i.importer, "state": i.state, "items": i.items,
                     "versions": i.versions, "sightings": i.sightings, "files": i.files,
                     "problems": i.problems, "error": i.error} for i in report.imports],
    }


def _attention(report: BatchReport) -> str | None:
    parts = []
    if report.count("failed"):
        parts.append(f"{report.count('failed')} files could not be stored")
    broken = [i for i in report.imports if i.state != "finished" or i.problems]
    if broken:
        parts.append(f"{len(broken)} containers were read with problems")
    if report.checkpoint_error:
        parts.append(report.checkpoint_error)
    return "; ".join(parts) or None


def _enrich(home: Home, progress: JobProgress, stop: threading.Event | None,
            result: dict[str, Any]) -> str | None:
    """Enrich as ``svidok ingest --enrich`` does; a failure here leaves the upload stored
    and says so."""
    from svidok.enrich.pipeline import enrich_home
    from svidok.enrich.runner import EnrichStopped

    def tick(done: int, total: int) -> None:
        progress.done, progress.total = done, total
        progress.tick("enriching")

    progress.phase("enriching")
    while True:
        try:
            report = enrich_home(home, progress=tick)
            break
        except HomeError as exc:
            if not _busy(exc):
                raise
        except EnrichStopped as exc:
            return f"stored, but enriching stopped: {exc}"
        progress.phase("waiting for another enrichment")
        if _pause(stop):
            return "stored, not enriched: the server stopped; run 'svidok enrich'"
    result["enrich"] = {"items": report.items, "enriched": report.enriched,
                        "failed": report.failed}
    if report.failed:
        return f"stored; {report.failed} enricher runs failed (see each item)"
    return None


def _abandon(home: Home, job_id: int) -> None:
    with home.engine.connect() as conn:
        job = get_job(conn, job_id)
    if job is not None and job.batch_id is not None:
        abandon_batch(home.engine, job.batch_id)

