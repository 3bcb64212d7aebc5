"""Storing what enrichers found, with its custody events, in the caller's transaction.

A run that is repeated replaces its earlier rows: artifacts and fingerprints of that
enricher on that item, and the annotations still only *suggested* (a person's decision
on a suggestion is kept). Every row names the enricher and its version.

Custody: each artifact gets a "derive" event naming the artifact's SHA-256, with the
original (or the item's record) as "previous"; what the enrichers of one pass found about
an item (annotations, fingerprints, notes) gets one "metadata" event naming the original,
whose details name each enricher and version and commit to its findings by digest.
Runs that found nothing and failed runs are in the enrichments table, not in the log.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, and_, delete, or_

from svidok.custody.events import Actor, CustodyEvent, append
from svidok.db.bulk import bulk_insert_typed, reserve_ids
from svidok.db.schema import artifacts, enrichments, fingerprints, item_annotations
from svidok.enrich.enricher import Artifact, Subject
from svidok.enrich.working import JobResult, RunResult
from svidok.locker.blobs import FilesystemBlobStore, PendingBlob

_ANNOTATION_COLUMNS = ("item_id", "enricher", "version", "kind", "value", "start", "end",
                       "confidence", "data", "state")
_ARTIFACT_COLUMNS = ("item_id", "enricher", "version", "role", "sha256", "media_type", "size",
                     "position_ms", "content", "created_at")
_FINGERPRINT_COLUMNS = ("id", "item_id", "enricher", "version", "algorithm", "value",
                        "quality", "position_ms")
_RUN_COLUMNS = ("item_id", "enricher", "version", "key", "state", "error", "finished_at")


@dataclass(frozen=True, slots=True)
class NewFingerprint:
    id: int
    item_id: int
    algorithm: str
    value: bytes
    quality: int | None


@dataclass
class Stored:
    fingerprints: list[NewFingerprint] = field(default_factory=list)
    changed_items: set[int] = field(default_factory=set)  # for the search index
    events: int = 0


def _json(value: object) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def store_blobs(result: JobResult, blobs: FilesystemBlobStore) -> None:
    """Write binary artifacts before the transaction that names them: a crash then leaves
    at most an unnamed blob, never a row naming a blob that is not there. A write that
    fails (a full disk) takes back the group's other unpublished files with it."""
    pending: list[PendingBlob] = []
    try:
        for runs in result.results:
            for run in runs:
                for artifact in run.output.artifacts if run.output else ():
                    if artifact.data is not None:
                        writer = blobs.writer()
                        try:
                            writer.write(artifact.data)
                            pending.append(writer.finish())
                        except BaseException:
                            writer.abort()
                            raise
        blobs.publish(pending)
    except BaseException:
        for blob in pending:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(blob.temp)
        raise


def store_job(conn: Connection, result: JobResult, versions: dict[str, str],
              keys: Sequence[dict[str, str]], reruns: Sequence[set[str]],
              now: datetime) -> Stored:
    stored = Stored()
    replaced = [(s.item_id, r.enricher) for s, runs, again in
                zip(result.subjects, result.results, reruns, strict=True)
                for r in runs if r.enricher in again]
    _forget(conn, replaced)
    run_rows, notes, things, prints = [], [], [], []
    events: list[CustodyEvent] = []
    for subject, runs, item_keys in zip(result.subjects, result.results, keys, strict=True):
        for run in runs:
            version = versions[run.enricher]
            run_rows.append((subject.item_id, run.enricher, version, item_keys[run.enricher],
                             run.state, run.error, now))
            if run.output is None:
                continue
            stored.changed_items.add(subject.item_id)
            out = run.output
            for a in out.annotations:
                notes.append((subject.item_id, run.enricher, version, a.kind, a.value, a.start,
                              a.end, round(a.confidence * 1000), _json(a.data), "suggested"))
            for art in out.artifacts:
                things.append(_artifact_row(subject, run, version, art, now))
                events.append(_derive_event(subject, run, version, art, now))
            for f in out.fingerprints:
                prints.append((subject.item_id, run.enricher, version, f.algorithm, f.value,
                               f.quality, f.position_ms))
            # What the enricher says about its own work ("page 3 has no text layer") is kept
            # beside its findings, so a person sees why something is missing.
            for note in out.notes:
                notes.append((subject.item_id, run.enricher, version, "note", note, None, None,
                              1000, None, "suggested"))
        found = [(run, versions[run.enricher]) for run in runs if run.output is not None
                 and (run.output.annotations or run.output.fingerprints or run.output.notes)]
        if found:
            events.append(_metadata_event(subject, found, now))
    bulk_insert_typed(conn, enrichments, _RUN_COLUMNS, run_rows)
    bulk_insert_typed(conn, item_annotations, _ANNOTATION_COLUMNS, notes)
    bulk_insert_typed(conn, artifacts, _ARTIFACT_COLUMNS, things)
    ids = reserve_ids(conn, fingerprints, len(prints))
    bulk_insert_typed(conn, fingerprints, _FINGERPRINT_COLUMNS,
                      [(i, *row) for i, row in zip(ids, prints, strict=True)])
    stored.fingerprints = [NewFingerprint(i, row[0], row[3], row[4], row[5])
                           for i, row in zip(ids, prints, strict=True)]
    append(conn, events)
    stored.events = len(events)
    return stored


def _forget(conn: Connection, replaced: list[tuple[int, str]]) -> None:
    """Remove the earlier rows of runs that are being repeated."""
    for start in range(0, len(replaced), 400):
        part = replaced[start:start + 400]
        for table, extra in ((enrichments, None), (artifacts, None), (fingerprints, None),
                             (item_annotations, item_annotations.c.state == "suggested")):
            match = or_(*(and_(table.c.item_id == item, table.c.enricher == name)
                          for item, name in part))
            conn.execute(delete(table).where(match if extra is None else and_(match, extra)))


def _artifact_row(subject: Subject, run: RunResult, version: str, art: Artifact,
                  now: datetime) -> tuple[object, ...]:
    payload = art.payload
    return (subject.item_id, run.enricher, version, art.role, art.sha256, art.media_type,
            len(payload), art.position_ms, art.content, now)


def _actor(run: RunResult) -> Actor:
    return Actor(f"svidok.enrich.{run.enricher}")


def _derive_event(subject: Subject, run: RunResult, version: str, art: Artifact,
                  now: datetime) -> CustodyEvent:
    details: dict[str, str | int | bool | None] = {
        "enricher": run.enricher, "enricher_version": version, "role": art.role,
        "media_type": art.media_type}
    if art.position_ms is not None:
        details["position_ms"] = art.position_ms
    return CustodyEvent("derive", _actor(run), now, art.sha256,
                        previous=subject.content_sha256, details=details)


def _metadata_event(subject: Subject, found: list[tuple[RunResult, str]],
                    now: datetime) -> CustodyEvent:
    """One event for what the enrichers of one pass found about one item: each enricher
    named with its version, how many findings, and the SHA-256 of them (Output.digest)."""
    details: dict[str, str | int | bool | None] = {
        "enrichers": ",".join(run.enricher for run, _ in found)}
    for run, version in found:
        assert run.output is not None
        details[f"{run.enricher}.version"] = version
        details[f"{run.enricher}.found"] = (len(run.output.annotations)
                                           + len(run.output.fingerprints))
        details[f"{run.enricher}.digest"] = run.output.digest()
    return CustodyEvent("metadata", Actor("svidok.enrich"), now, subject.content_sha256,
                        details=details)
