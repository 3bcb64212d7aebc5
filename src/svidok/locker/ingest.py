"""Ingest: preserve every file under the given paths as a batch that survives any crash.

A batch first lists what it will store as *pending* items, then stores files in worker
threads while the recorder (recorder.py) publishes and records them group by group. A run
killed at any moment leaves pending items behind; the next run over the same paths resumes
that batch. Bytes already in the locker make a *sighting* of the item that holds them, never
a second original.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from svidok import __version__
from svidok.custody import log
from svidok.db.schema import batches, imports, items, sightings
from svidok.home import Home
from svidok.locker.recorder import BatchContext, Recorder
from svidok.locker.report import (
    BatchReport,
    IngestOptions,
    Outcome,
    Reporter,
    SilentReporter,
    State,
)
from svidok.locker.store import Failed, Stored, StoreError
from svidok.locker.walk import Candidate, Skipped, display, scan
from svidok.locker.workers import TaskResult, workers
from svidok.sources.imports import Batch, import_batch

__all__ = ["BatchReport", "IngestError", "IngestOptions", "Outcome", "Reporter",
           "SilentReporter", "ingest", "resolve_paths"]

FLUSH_SECONDS = 0.5
# A worker's task: this many files or bytes, whichever comes first.
TASK_FILES = 32
TASK_BYTES = 32 * 1024 * 1024
PENDING_CHUNK = 1000


class IngestError(Exception):
    """The ingest cannot start: a path is missing or the data folder is busy."""


def _now() -> datetime:
    return datetime.now(UTC)


def resolve_paths(paths: Iterable[Path]) -> list[tuple[str, bytes | None]]:
    """Each path as (root folder, single file name or None); fails on a missing path."""
    roots: list[tuple[str, bytes | None]] = []
    for path in paths:
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            raise IngestError(f"cannot ingest {path}: it does not exist or cannot be reached "
                              f"({getattr(exc, 'strerror', None) or exc})") from exc
        if real.is_dir():
            roots.append((str(real), None))
        else:
            roots.append((str(real.parent), os.fsencode(real.name)))
    return roots


Key = tuple[str, bytes]  # (root as text, exact path bytes under it)


@contextmanager
def _sigint_as_flag() -> Iterator[threading.Event]:
    """Within this block Ctrl-C sets the returned flag instead of raising."""
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: flag.set())
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _result(future: Future[TaskResult]) -> TaskResult:
    try:
        return future.result()
    except BrokenProcessPool:
        return [], StoreError("a worker process died (out of memory?); nothing it was "
                              "storing was recorded; run the same ingest again to finish")


def _tasks(work: list[tuple[int, Candidate]]) -> Iterator[tuple[int, list[Candidate]]]:
    """Group the work into tasks, each starting at an index of ``work``."""
    chunk: list[Candidate] = []
    size = start = 0
    for index, (_, candidate) in enumerate(work):
        if not chunk:
            start = index
        chunk.append(candidate)
        size += candidate.size
        if len(chunk) >= TASK_FILES or size >= TASK_BYTES:
            yield start, chunk
            chunk, size = [], 0
    if chunk:
        yield start, chunk


class Ingest:
    """One run of ``svidok ingest``; use :func:`ingest` rather than this directly."""

    def __init__(self, home: Home, roots: list[tuple[str, bytes | None]],
                 options: IngestOptions, reporter: Reporter) -> None:
        self.home = home
        self.engine = home.engine
        self.roots = roots
        self.options = options
        self.reporter = reporter
        self.host = socket.gethostname()
        self.batch_id = 0
        self.roots_json = json.dumps(sorted(
            os.path.join(r, os.fsdecode(o)) if o else r for r, o in roots))

    # -- batch bookkeeping ------------------------------------------------------------

    def _open_batch(self) -> tuple[int, bool]:
        with self.engine.begin() as conn:
            # Holding the lock, no run of ours is alive: any 'running' batch of this host died.
            conn.execute(update(batches).where(batches.c.state == "running",
                                               batches.c.host == self.host)
                         .values(state="interrupted"))
            found = conn.execute(
                select(batches.c.id).where(batches.c.state == "interrupted",
                                           batches.c.roots == self.roots_json)
                .order_by(batches.c.id.desc()).limit(1)).scalar_one_or_none()
            if found is not None:
                conn.execute(update(batches).where(batches.c.id == found)
                             .values(state="running", finished_at=None))
                return found, True
            new_id = conn.execute(insert(batches).values(
                state="running", roots=self.roots_json, collector=self.options.collector,
                note=self.options.note, host=self.host, svidok_version=__version__,
                started_at=_now(), unchanged=0)).inserted_primary_key
            assert new_id is not None
            return int(new_id[0]), False

    def _close_batch(self, state: str, unchanged: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(batches).where(batches.c.id == self.batch_id).values(
                state=state, finished_at=_now() if state == "finished" else None,
                unchanged=batches.c.unchanged + unchanged))

    def _known(self) -> tuple[dict[Key, tuple[int, str]], set[Key],
                              set[tuple[str, bytes, int, int]], set[tuple[Key, str]]]:
        """This batch's rows by path, and every earlier observation under these roots
        (files by path, size and mtime; skips by path and reason, so an unchanged folder
        does not collect the same skip record on every run)."""
        root_set = sorted({display(os.fsencode(r))[0] for r, _ in self.roots})
        mine: dict[Key, tuple[int, str]] = {}
        mine_seen: set[Key] = set()
        earlier: set[tuple[str, bytes, int, int]] = set()
        earlier_skips: set[tuple[Key, str]] = set()
        with self.engine.connect() as conn:
            for row in conn.execute(select(items.c.id, items.c.root, items.c.rel_path_bytes,
                                           items.c.state, items.c.batch_id, items.c.size,
                                           items.c.mtime_ns, items.c.warning)
                                    # Files only: what importers read out of them
                                    # (a million messages) is not listed here.
                                    .where(items.c.root.in_(root_set),
                                           items.c.locator.is_(None))):
                if row.batch_id == self.batch_id:
                    mine[(row.root, row.rel_path_bytes)] = (row.id, row.state)
                elif row.state == "stored":
                    earlier.add((row.root, row.rel_path_bytes, row.size, row.mtime_ns))
                elif row.state == "skipped":
                    earlier_skips.add(((row.root, row.rel_path_bytes), row.warning))
            for seen in conn.execute(select(sightings.c.root, sightings.c.rel_path_bytes,
                                           sightings.c.batch_id, sightings.c.size,
                                           sightings.c.mtime_ns)
                                    .where(sightings.c.root.in_(root_set),
                                           sightings.c.locator.is_(None))):
                if seen.batch_id == self.batch_id:
                    mine_seen.add((seen.root, seen.rel_path_bytes))
                else:
                    earlier.add((seen.root, seen.rel_path_bytes, seen.size, seen.mtime_ns))
            # A container whose last reading failed (no --tz, no --date-order) is read
            # again, though unchanged: the user is running the ingest to fix just that.
            last: dict[Key, str] = {}
            for run in conn.execute(select(imports.c.root, imports.c.rel_path_bytes,
                                           imports.c.state)
                                    .where(imports.c.root.in_(root_set),
                                           imports.c.batch_id != self.batch_id)
                                    .order_by(imports.c.id)):
                last[(run.root, bytes(run.rel_path_bytes))] = run.state
            retry = {key for key, state in last.items() if state != "finished"}
            earlier = {e for e in earlier if (e[0], e[1]) not in retry}
        return mine, mine_seen, earlier, earlier_skips

    # -- listing ----------------------------------------------------------------------

    def _base_row(self, found: Candidate | Skipped) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id, "kind": "file", "original_name": found.name,
            "root": found.root_text, "rel_path": found.rel_path,
            "rel_path_bytes": found.rel_path_bytes, "collector": self.options.collector,
            "note": self.options.note, "host": self.host, "svidok_version": __version__,
            "updated_at": _now(), "error": None, "warning": None, "size": None,
            "mtime_ns": None, "ctime_ns": None, "atime_ns": None, "state": "pending",
        }

    def _insert_pending(self, rows: list[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        with self.engine.begin() as conn:
            result = conn.execute(insert(items).returning(items.c.id, sort_by_parameter_order=True),
                                  rows)
            return [r.id for r in result]

    def _list(self, report: BatchReport) -> list[tuple[int, Candidate]]:
        mine, mine_seen, earlier, earlier_skips = self._known()
        work: list[tuple[int, Candidate]] = []
        waiting: list[tuple[dict[str, Any], Candidate | None]] = []
        seen_keys: set[Key] = set()
        found_count = 0

        def flush() -> None:
            ids = self._insert_pending([row for row, _ in waiting])
            for new_id, (_, cand) in zip(ids, waiting, strict=True):
                if cand is not None:
                    work.append((new_id, cand))
            waiting.clear()

        for root, only in self.roots:
            for found in scan(root, only):
                found_count += 1
                if found_count % 1000 == 0:
                    self.reporter.scanning(found_count)
                key = (found.root_text, found.rel_path_bytes)
                if key in seen_keys:
                    continue
                seen_keys.add(key)
                if isinstance(found, Skipped):
                    state: State = "failed" if found.failed else "skipped"
                    outcome = Outcome(state, found.root_text, found.rel_path,
                                      message=found.reason)
                    report.outcomes.append(outcome)
                    self.reporter.advanced(outcome, 0)
                    if key not in mine and (key, found.reason) not in earlier_skips:
                        row = self._base_row(found)
                        row.update(state=state, kind="folder" if state == "failed" else "file")
                        row["error" if found.failed else "warning"] = found.reason
                        waiting.append((row, None))
                    continue
                done = mine.get(key)
                if key in mine_seen or (done is not None and done[1] == "stored"):
                    report.already_done += 1
                    continue
                if (not self.options.rehash and done is None
                        and (*key, found.size, found.mtime_ns) in earlier):
                    report.unchanged += 1
                    continue
                if done is not None:
                    work.append((done[0], found))
                else:
                    waiting.append((self._base_row(found), found))
                if len(waiting) >= PENDING_CHUNK:
                    flush()
        flush()
        self._forget_vanished(mine, seen_keys, report)
        return work

    def _forget_vanished(self, mine: dict[Key, tuple[int, str]], seen_keys: set[Key],
                         report: BatchReport) -> None:
        """Pending items of a resumed batch whose file is gone cannot be stored now."""
        gone = [(key, item_id) for key, (item_id, state) in mine.items()
                if state == "pending" and key not in seen_keys]
        if not gone:
            return
        reason = "the file was gone when the interrupted batch was resumed; nothing was stored"
        with self.engine.begin() as conn:
            conn.execute(update(items).where(items.c.id == bindparam("b_id"))
                         .values(state="failed", error=reason, updated_at=_now()),
                         [{"b_id": item_id} for _, item_id in gone])
        for (root, rel_path), item_id in gone:
            report.outcomes.append(Outcome("failed", root, display(rel_path)[0], item_id,
                                           message=reason))

    # -- storing ----------------------------------------------------------------------

    def _store_all(self, work: list[tuple[int, Candidate]], report: BatchReport) -> None:
        """Store files with the workers; the recorder publishes and records them in
        listing order, so when two files hold the same bytes the first listed becomes
        the item."""
        tasks = _tasks(work)
        inflight: dict[Future[TaskResult], int] = {}
        finished_at: dict[int, Stored | Failed] = {}
        next_index = 0
        done: list[tuple[int, Stored | Failed]] = []
        last_flush = time.monotonic()
        stop: BaseException | None = None
        recorder = Recorder(self.home, BatchContext(self.batch_id, self.options, self.host),
                            report, self.reporter)

        def collect() -> None:
            nonlocal next_index
            while next_index in finished_at:
                done.append((work[next_index][0], finished_at.pop(next_index)))
                next_index += 1

        # Ctrl-C only sets a flag until every finished file is recorded: a KeyboardInterrupt
        # at an arbitrary line could hand a group to the recorder twice, or stop the
        # program while the recorder is still writing.
        settings = self.home.settings
        with (_sigint_as_flag() as interrupted,
              workers(settings.ingest_pool, settings.ingest_workers, len(work)) as pool):

            def refill() -> None:
                while stop is None and len(inflight) < pool.size * 2:
                    task = next(tasks, None)
                    if task is None:
                        return
                    start, chunk = task
                    inflight[pool.submit(chunk, self.home.blobs)] = start

            try:
                refill()
                while inflight and recorder.error is None:
                    finished, _ = wait(inflight, timeout=0.05, return_when=FIRST_COMPLETED)
                    if interrupted.is_set():
                        raise KeyboardInterrupt
                    for future in finished:
                        start = inflight.pop(future)
                        results, error = _result(future)
                        finished_at.update(enumerate(results, start))
                        stop = stop or error
                    collect()
                    if (len(done) >= settings.ingest_group_files
                            or time.monotonic() - last_flush > FLUSH_SECONDS):
                        recorder.submit(done)
                        last_flush = time.monotonic()
                    refill()
            except BaseException as exc:  # Ctrl-C: keep what finished, leave the rest pending
                stop = exc
            finally:
                pool.stop.set()
                for future in inflight:
                    future.cancel()
                # Tasks already running stop at their next chunk; what they finished is
                # published and recorded like the rest, so no pending blob is left behind.
                for future, start in inflight.items():
                    if not future.cancelled():
                        results, _ = _result(future)
                        finished_at.update(enumerate(results, start))
                collect()
                # Stored out of order behind a gap: record them too; they are complete.
                done.extend((work[i][0], r) for i, r in sorted(finished_at.items()))
                recorder.submit(done)
                try:
                    recorder.close()
                except StoreError as exc:
                    stop = stop or exc
        if isinstance(stop, StoreError):
            report.aborted = str(stop)
        elif stop is not None:
            raise stop
        elif interrupted.is_set():
            raise KeyboardInterrupt

    def run(self) -> BatchReport:
        with self.home.lock("ingest"):
            self.home.blobs.clean_temp()
            self.batch_id, resumed = self._open_batch()
            report = BatchReport(self.batch_id, resumed)
            try:
                work = self._list(report)
                report.bytes_read = sum(c.size for _, c in work)
                self.reporter.started(len(work), report.bytes_read)
                self._store_all(work, report)
                if not report.aborted:
                    self._import(report)
            except BaseException:
                self._close_batch("interrupted", report.unchanged)
                raise
            self._close_batch("interrupted" if report.aborted else "finished", report.unchanged)
            self._checkpoint(report)
            return report

    def _import(self, report: BatchReport) -> None:
        """Read the containers among the batch's files (sources/imports.py)."""
        direct = frozenset((display(os.fsencode(root))[0], only)
                           for root, only in self.roots if only is not None)
        batch = Batch(self.batch_id, self.options.collector, self.options.note, self.host,
                      direct)
        try:
            report.imports = import_batch(self.home, batch, self.options.reading,
                                          self.reporter)
        except StoreError as exc:
            report.aborted = str(exc)

    def _checkpoint(self, report: BatchReport) -> None:
        """Sign the log's head now that the batch's captures are in it."""
        try:
            result = log.checkpoint(self.home)
        except log.LogError as exc:
            report.checkpoint_error = (f"the custody log was not checkpointed: {exc}; the "
                                       "files are stored; run 'svidok log checkpoint'")
            return
        cp = result.checkpoint
        report.checkpoint = (cp.id, cp.size, cp.stamped)
        report.stamp_errors = result.stamps.errors


def ingest(home: Home, paths: Iterable[Path], options: IngestOptions | None = None,
           reporter: Reporter | None = None) -> BatchReport:
    """Preserve every file under ``paths``; resumes an interrupted batch over the same paths."""
    roots = resolve_paths(paths)
    return Ingest(home, roots, options or IngestOptions(), reporter or SilentReporter()).run()
