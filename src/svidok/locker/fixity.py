"""Fixity: re-hash stored originals and report every one that is missing or altered."""

from __future__ import annotations

import hashlib
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol

from sqlalchemy import insert, select

from svidok.db.schema import items, originals, verifications
from svidok.home import Home

CHUNK = 1024 * 1024

Problem = Literal["missing", "altered", "unreadable"]


@dataclass(frozen=True)
class Finding:
    sha256: str
    problem: Problem
    detail: str
    item_ids: tuple[int, ...] = ()


@dataclass
class FixityReport:
    checked: int = 0
    bytes_checked: int = 0
    sample_percent: int = 100
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _check(home: Home, sha256: str, size: int) -> Finding | None:
    digest = hashlib.sha256()
    read = 0
    try:
        with home.blobs.open(sha256) as blob:
            while chunk := blob.read(CHUNK):
                digest.update(chunk)
                read += len(chunk)
    except FileNotFoundError:
        return Finding(sha256, "missing", "the original's file is not in the blob store")
    except OSError as exc:
        return Finding(sha256, "unreadable", f"cannot read the original: {exc.strerror}")
    if digest.hexdigest() != sha256:
        return Finding(sha256, "altered",
                       f"content hashes to {digest.hexdigest()}, {read} bytes (recorded {size})")
    return None


class FixityProgress(Protocol):
    def started(self, files: int, total_bytes: int) -> None: ...
    def checked(self, nbytes: int) -> None: ...


def verify(home: Home, sample_percent: int = 100, progress: FixityProgress | None = None,
           rng: random.Random | None = None) -> FixityReport:
    """Re-hash all originals, or a random sample of them, and record the verification."""
    if not 1 <= sample_percent <= 100:
        raise ValueError("sample must be a percentage between 1 and 100")
    started = datetime.now(UTC)
    with home.engine.connect() as conn:
        rows = [(r.sha256, r.size) for r in conn.execute(
            select(originals.c.sha256, originals.c.size).order_by(originals.c.sha256))]
    if sample_percent < 100 and rows:
        k = max(1, round(len(rows) * sample_percent / 100))
        rows = (rng or random.SystemRandom()).sample(rows, k)
    report = FixityReport(sample_percent=sample_percent)
    if progress:
        progress.started(len(rows), sum(size for _, size in rows))
    with ThreadPoolExecutor(max_workers=home.settings.ingest_workers) as pool:
        for (_, size), finding in zip(rows, pool.map(lambda r: _check(home, *r), rows),
                                        strict=True):
            report.checked += 1
            report.bytes_checked += size
            if finding:
                report.findings.append(finding)
            if progress:
                progress.checked(size)
    if report.findings:
        bad = [f.sha256 for f in report.findings]
        with home.engine.connect() as conn:
            owners: dict[str, list[int]] = {}
            for start in range(0, len(bad), 500):
                for row in conn.execute(select(items.c.sha256, items.c.id)
                                        .where(items.c.sha256.in_(bad[start:start + 500]))):
                    owners.setdefault(row.sha256, []).append(row.id)
        report.findings = [Finding(f.sha256, f.problem, f.detail,
                                   tuple(owners.get(f.sha256, ()))) for f in report.findings]
    with home.engine.begin() as conn:
        conn.execute(insert(verifications).values(
            started_at=started, finished_at=datetime.now(UTC), sample_percent=sample_percent,
            checked=report.checked,
            missing=sum(f.problem == "missing" for f in report.findings),
            altered=sum(f.problem != "missing" for f in report.findings), ok=report.ok))
    return report
