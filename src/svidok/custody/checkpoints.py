"""Checkpoints: the signed tree head after each ingest batch, and their RFC 3161 stamps.

A checkpoint is a C2SP tlog-checkpoint (origin, size, root) signed as a C2SP note with
the instance's key. Before signing, the new head is proven consistent with the previous
checkpoint from the stored tiles: a log must never sign two heads that a consistency proof
cannot join, even if its database was tampered with.

Stamping needs a network and a TSA; neither is assumed. A checkpoint without a stamp is
valid and marked unstamped; ``stamp`` tries again later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, Select, func, insert, select, update

from svidok.custody import timestamps
from svidok.custody.merkle import ProofError, verify_consistency
from svidok.custody.note import CheckpointBody, Signer
from svidok.custody.tree import Tree
from svidok.db.schema import checkpoint_stamps, checkpoints

# Checkpoints stamped per attempt; the newest first, since a stamp on a later checkpoint
# also bounds every entry before it.
STAMP_BATCH = 20


class CheckpointError(Exception):
    """The log cannot be checkpointed: it would contradict an earlier checkpoint."""


@dataclass(frozen=True)
class Checkpoint:
    id: int
    size: int
    root: bytes
    note: str
    created_at: datetime
    stamps: int = 0
    stamp_error: str | None = None

    @property
    def stamped(self) -> bool:
        return self.stamps > 0


def _query() -> Select[Any]:
    stamps = (select(func.count()).where(checkpoint_stamps.c.checkpoint_id == checkpoints.c.id)
              .scalar_subquery().label("stamps"))
    return select(checkpoints, stamps)


def _row(row: Row[Any]) -> Checkpoint:
    r = row._mapping
    return Checkpoint(r["id"], int(r["size"]), bytes(r["root"]), r["note"], r["created_at"],
                      int(r["stamps"]), r["stamp_error"])


def latest(conn: Connection) -> Checkpoint | None:
    row = conn.execute(_query().order_by(checkpoints.c.id.desc()).limit(1)).first()
    return None if row is None else _row(row)


def all_checkpoints(conn: Connection) -> list[Checkpoint]:
    return [_row(r) for r in conn.execute(_query().order_by(checkpoints.c.id))]


def checkpoint(engine: Engine, signer: Signer) -> tuple[Checkpoint, bool]:
    """Sign the current tree head unless the latest checkpoint already has it; True if new."""
    with engine.begin() as conn:
        tree = Tree(conn)
        size, root = tree.head(for_update=True)
        last = latest(conn)
        if last is not None:
            if size < last.size:
                raise CheckpointError(f"the log holds {size} events but was checkpointed at "
                                      f"{last.size}; run 'svidok verify'")
            if size == last.size:
                if root != last.root:
                    raise CheckpointError("the log's root differs from its last checkpoint at "
                                          "the same size; run 'svidok verify'")
                return last, False
            if last.size:
                try:
                    verify_consistency(last.size, size, tree.consistency(last.size, size),
                                       last.root, root)
                except ProofError as exc:
                    raise CheckpointError(f"the log is not consistent with checkpoint "
                                          f"{last.id} ({exc}); run 'svidok verify'") from None
        note = signer.sign(CheckpointBody(signer.name, size, root).text())
        now = datetime.now(UTC)
        new_id = conn.execute(insert(checkpoints).values(
            size=size, root=root, note=note, created_at=now)).inserted_primary_key
        assert new_id is not None
        return Checkpoint(int(new_id[0]), size, root, note, now), True


@dataclass
class StampReport:
    stamped: list[int]
    errors: list[str]
    unstamped: int


def stamp(engine: Engine, urls: Sequence[str], timeout: float,
          limit: int = STAMP_BATCH) -> StampReport:
    """Send unstamped checkpoints to the TSAs; failures are recorded, never raised."""
    pending: list[Checkpoint] = []
    if urls:
        with engine.connect() as conn:
            pending = [_row(r) for r in conn.execute(
                _query().where(checkpoints.c.id.not_in(select(checkpoint_stamps.c.checkpoint_id)))
                .order_by(checkpoints.c.id.desc()).limit(limit))]
    report = StampReport([], [], 0)
    for cp in pending:
        stamps, errors = timestamps.stamp(cp.note.encode(), urls, timeout=timeout)
        now = datetime.now(UTC)
        with engine.begin() as conn:
            if stamps:
                conn.execute(insert(checkpoint_stamps), [
                    {"checkpoint_id": cp.id, "tsa_url": s.tsa_url, "token": s.token,
                     "gen_time": s.gen_time, "stamped_at": now} for s in stamps])
                report.stamped.append(cp.id)
            conn.execute(update(checkpoints).where(checkpoints.c.id == cp.id)
                         .values(stamp_error="; ".join(errors) or None))
        report.errors.extend(errors)
        if not stamps:
            break  # the TSAs are unreachable now; do not wait out every timeout again
    with engine.connect() as conn:
        report.unstamped = unstamped(conn)
    return report


def unstamped(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(checkpoints).where(
        checkpoints.c.id.not_in(select(checkpoint_stamps.c.checkpoint_id)))).scalar_one())


def stamps_of(conn: Connection, checkpoint_id: int) -> list[tuple[str, bytes, datetime]]:
    return [(r.tsa_url, bytes(r.token), r.gen_time) for r in conn.execute(
        select(checkpoint_stamps).where(checkpoint_stamps.c.checkpoint_id == checkpoint_id)
        .order_by(checkpoint_stamps.c.id))]
