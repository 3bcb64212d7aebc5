"""``svidok enrich``: run every enricher where its version or its inputs changed.

Items are taken in id order a page at a time; for each the planner names the runs to do
(:mod:`svidok.enrich.planning`). Groups of items go to worker processes (or run inline for
a handful of items, or when enrichers are given directly), and each group's results are
stored in one transaction together with their custody events, their search documents and
their duplicate links. A crash or ``kill -9`` loses at most the groups in flight; the next
``svidok enrich`` plans them again, because their runs were never stored.
"""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from svidok.db.bulk import chunks
from svidok.db.schema import artifacts, enrichments, imports, item_annotations, items
from svidok.enrich.enricher import Annotation, Artifact, Enricher, Output, Subject
from svidok.enrich.planning import ItemPlan, PlanError, ordered, plan, stored_keys
from svidok.enrich.storing import Stored, store_blobs, store_job
from svidok.enrich.working import (
    TEXT_ROLES,
    Job,
    JobResult,
    absorb,
    run_job,
    run_job_in_worker,
    start_worker,
)
from svidok.home import Home

PAGE = 1000  # items planned at a time
GROUP = 64  # items per job (and per transaction)
INLINE_BELOW = 64  # fewer planned items than this run in this process: no pool start-up
# Kinds of annotations that later enrichers read from a run that is not repeated.
_CARRIED_KINDS = ("title", "language", "ocr-pages")

AfterStore = Callable[[Connection, Stored], int]


class EnrichStopped(RuntimeError):
    """The data folder cannot be written (a full disk): the run stops; what was stored
    before is complete, and the same command finishes the work."""


class EnrichUsageError(ValueError):
    """--only named an enricher that does not exist; the message lists those that do."""


@dataclass(frozen=True)
class Failure:
    item_id: int
    enricher: str
    error: str


@dataclass
class EnrichReport:
    items: int = 0  # stored items looked at
    enriched: int = 0  # items at least one enricher ran on (done or failed; not only skipped)
    runs: Counter[tuple[str, str]] = field(default_factory=Counter)  # (enricher, state)
    failures: list[Failure] = field(default_factory=list)
    events: int = 0
    links: int = 0
    indexed: int = 0
    checkpoint: tuple[int, int, bool] | None = None  # (id, size, stamped) signed after
    checkpoint_error: str | None = None
    stamp_errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(n for (_, state), n in self.runs.items() if state == "failed")


def _workers(home: Home) -> int:
    configured = home.settings.enrich_workers  # enrich_workers, or SVIDOK_ENRICH_WORKERS
    return configured if configured > 0 else max(1, min(os.cpu_count() or 1, 4))


def _one_thread_per_worker() -> None:
    """Keep numerical libraries to one thread in each worker (inherited by the pool's
    forkserver, set before it starts). The pool already gives every core a process; natasha's
    matrix products on OpenBLAS's own threads besides made enrichment 40% slower."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def _stored_ids(conn: Connection, after: int) -> list[int]:
    return list(conn.execute(
        select(items.c.id).where(items.c.state == "stored", items.c.id > after)
        .order_by(items.c.id).limit(PAGE)).scalars())


def _subjects(conn: Connection, home: Home, plans: Sequence[ItemPlan],
              enrichers: Sequence[Enricher]) -> list[Subject]:
    ids = [p.item_id for p in plans]
    rows = {}
    for part in chunks(ids):
        for r in conn.execute(select(
                items.c.id, items.c.kind, items.c.media_type, items.c.original_name,
                items.c.size, items.c.sha256, items.c.record_sha256, items.c.record,
                items.c.occurred_at, items.c.captured_at)
                .where(items.c.id.in_(part))).mappings():
            rows[r["id"]] = r
    read_by: dict[int, str] = {}
    for part in chunks(ids):
        for item_id, importer in conn.execute(
                select(imports.c.item_id, imports.c.importer).where(
                    imports.c.item_id.in_(part), imports.c.state == "finished")
                .order_by(imports.c.id)):
            read_by[item_id] = importer.partition("/")[0]
    subjects = []
    for item_id in ids:
        r = rows[item_id]
        record = json.loads(r["record"]) if r["record"] else None
        subjects.append(Subject(
            item_id=item_id, kind=r["kind"], media_type=r["media_type"],
            name=r["original_name"], size=r["size"], sha256=r["sha256"],
            record_sha256=r["record_sha256"], record=record, occurred_at=r["occurred_at"],
            captured_at=r["captured_at"], read_by=read_by.get(item_id),
            blob_path=str(home.blobs.path_of(r["sha256"])) if r["sha256"] else None))
    _carry(conn, subjects, plans, [e.name for e in enrichers])
    return subjects


def _carry(conn: Connection, subjects: Sequence[Subject], plans: Sequence[ItemPlan],
           order: Sequence[str]) -> None:
    """Give each subject the text, title and language of runs that are not repeated."""
    ids = [s.item_id for s in subjects]
    found: dict[tuple[int, str], Output] = {}
    notes = item_annotations.c
    for part in chunks(ids):
        for item_id, name, role, content in conn.execute(
                select(artifacts.c.item_id, artifacts.c.enricher, artifacts.c.role,
                       artifacts.c.content)
                .where(artifacts.c.item_id.in_(part), artifacts.c.role.in_(TEXT_ROLES))
                .order_by(artifacts.c.id)):
            found.setdefault((item_id, name), Output()).artifacts.append(
                Artifact(role, "text/plain", content=content))
        for item_id, name, kind, value in conn.execute(
                select(notes.item_id, notes.enricher, notes.kind, notes.value)
                .where(notes.item_id.in_(part), notes.kind.in_(_CARRIED_KINDS))
                .order_by(notes.id)):
            found.setdefault((item_id, name), Output()).annotations.append(
                Annotation(kind, value))
    for subject, item_plan in zip(subjects, plans, strict=True):
        for name in order:
            output = found.get((subject.item_id, name))
            if output is not None and name not in item_plan.run:
                absorb(subject, output)


def enrich(home: Home, *, enrichers: Sequence[Enricher] | None = None,
           only: Sequence[str] = (), force: bool = False, workers: int | None = None,
           index: AfterStore | None = None, link: AfterStore | None = None,
           progress: Callable[[int, int], None] | None = None) -> EnrichReport:
    """Enrich every stored item; see the module's docstring."""
    inline_only = enrichers is not None
    if enrichers is None:
        from svidok.enrich.registry import enrichers as registered

        enrichers = registered()
    try:
        chain = ordered(enrichers)
    except PlanError as exc:
        raise EnrichUsageError(str(exc)) from exc
    names = [e.name for e in chain]
    unknown = sorted(set(only) - set(names))
    if unknown:
        raise EnrichUsageError(f"no enricher named {', '.join(unknown)}; "
                               f"there are: {', '.join(names)}")
    by_name = {e.name: e for e in chain}
    versions = {e.name: e.version for e in chain}
    only_set = frozenset(only) if only else None
    pool_size = 1 if inline_only else (workers or _workers(home))
    report = EnrichReport()
    with home.lock("enrich"), home.engine.connect() as conn:
        with conn.begin():
            total = conn.execute(select(func.count()).select_from(items)
                                 .where(items.c.state == "stored")).scalar_one()
        runner = _Runner(home, by_name, versions, (index, link), report, pool_size)
        try:
            for page_ids, jobs in _jobs(conn, home, chain, only_set, force):
                # A handful of items in all (the last page, and little planned so far) run
                # here; anything more starts the pool at once, so this process does not
                # load every model only to hand the rest to workers that load them again.
                planned = sum(len(plans) for _, plans in jobs)
                runner.few = (len(page_ids) < PAGE
                              and runner.queued + planned < INLINE_BELOW)
                for job, plans in jobs:
                    runner.submit(job, plans)
                report.items += len(page_ids)
                runner.drain(keep=runner.in_flight_limit)
                if progress is not None:
                    progress(report.items, total)
            runner.drain(keep=0)
        finally:
            runner.close()
        if progress is not None:
            progress(report.items, total)
    return report


def _jobs(conn: Connection, home: Home, chain: Sequence[Enricher],
          only: frozenset[str] | None, force: bool
          ) -> Iterator[tuple[list[int], list[tuple[Job, list[ItemPlan]]]]]:
    after = 0
    while True:
        with conn.begin():
            ids = _stored_ids(conn, after)
            if not ids:
                return
            after = ids[-1]
            plans = plan(ids, chain, stored_keys(conn, ids), only, force)
            subjects = _subjects(conn, home, plans, chain) if plans else []
        jobs = []
        for start in range(0, len(plans), GROUP):
            part = plans[start:start + GROUP]
            jobs.append((Job(subjects[start:start + GROUP], [p.run for p in part]), part))
        yield ids, jobs


class _Runner:
    """Jobs in flight, in order: results are stored in the order the jobs were made."""

    def __init__(self, home: Home, by_name: dict[str, Enricher], versions: dict[str, str],
                 hooks: tuple[AfterStore | None, AfterStore | None], report: EnrichReport,
                 pool_size: int) -> None:
        self.home, self.by_name, self.versions = home, by_name, versions
        self.index, self.link = hooks
        self.report, self.pool_size = report, pool_size
        self.in_flight_limit = 2 * pool_size
        self.pending: list[tuple[Future[JobResult] | JobResult, list[ItemPlan]]] = []
        self.pool: ProcessPoolExecutor | None = None
        self.queued = 0
        self.few = False  # too few items left to be worth starting the pool

    def submit(self, job: Job, plans: list[ItemPlan]) -> None:
        self.queued += len(plans)
        if self.pool_size > 1 and (self.pool is not None or not self.few):
            if self.pool is None:
                _one_thread_per_worker()
                self.pool = ProcessPoolExecutor(
                    self.pool_size, mp_context=multiprocessing.get_context("forkserver"),
                    initializer=start_worker, initargs=(list(self.by_name),))
            self.pending.append((self.pool.submit(run_job_in_worker, job), plans))
        else:
            self.pending.append((run_job(job, self.by_name), plans))
        self.drain(keep=self.in_flight_limit)

    def drain(self, keep: int) -> None:
        while len(self.pending) > keep:
            waiting, plans = self.pending.pop(0)
            result = waiting.result() if isinstance(waiting, Future) else waiting
            self._store(result, plans)

    def _store(self, result: JobResult, plans: list[ItemPlan]) -> None:
        try:
            store_blobs(result, self.home.blobs)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise EnrichStopped(
                    "the disk holding the data folder is full; what was enriched before is "
                    "kept: free space and run 'svidok enrich' again to finish") from exc
            raise EnrichStopped(f"cannot write to the data folder ({exc.strerror or exc}); "
                                "what was enriched before is kept") from exc
        now = datetime.now(UTC)
        with self.home.engine.begin() as conn:
            stored = store_job(conn, result, self.versions, [p.keys for p in plans],
                               [p.reruns for p in plans], now)
            # In the same transaction: a crash never leaves runs stored but not searchable
            # or not compared with what came before.
            indexed = self.index(conn, stored) if self.index else 0
            links = self.link(conn, stored) if self.link else 0
        report = self.report
        report.enriched += sum(1 for runs in result.results
                               if any(run.state != "skipped" for run in runs))
        report.events += stored.events
        report.indexed += indexed
        report.links += links
        for subject, runs in zip(result.subjects, result.results, strict=True):
            for run in runs:
                report.runs[(run.enricher, run.state)] += 1
                if run.state == "failed":
                    report.failures.append(Failure(subject.item_id, run.enricher,
                                                   run.error or "failed"))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def summary(conn: Connection) -> list[dict[str, object]]:
    """Per enricher and version: how many items are done, failed, skipped."""
    rows = conn.execute(select(enrichments.c.enricher, enrichments.c.version,
                               enrichments.c.state, func.count())
                        .group_by(enrichments.c.enricher, enrichments.c.version,
                                  enrichments.c.state)
                        .order_by(enrichments.c.enricher, enrichments.c.version))
    return [{"enricher": e, "version": v, "state": s, "items": n} for e, v, s, n in rows]
