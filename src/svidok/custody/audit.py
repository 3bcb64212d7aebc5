"""Checking the whole custody log against itself and its signed checkpoints.

Nothing stored is trusted: every leaf is recomputed from the event records, the tree is
rebuilt from those leaves alone, and its root at each checkpoint's size must equal the root
the checkpoint signed. Rebuilding from one sequence of leaves proves every checkpoint
consistent with the one before. The stored tiles (which proofs are made from) and the tree
head must equal the rebuilt ones too. Each problem is named: which event, which checkpoint.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from svidok.custody import timestamps
from svidok.custody.checkpoints import all_checkpoints, stamps_of
from svidok.custody.events import KEY_OFFSET
from svidok.custody.merkle import HASH_SIZE
from svidok.custody.note import CheckpointBody, NoteError, Verifier, open_note
from svidok.custody.tree import TILE_WIDTH, TileBuilder, Tree, TreeError, split_hashes
from svidok.db.bulk import stream_rows
from svidok.db.schema import custody_events, custody_tiles

MAX_NAMED = 20  # events named one by one; past that, counted
PART = 4096  # rows read and hashed at a time
# Findings kept in memory for naming (swaps need pairs); a log rewritten wholesale is
# counted past this, so checking ten million bad events does not exhaust memory.
MAX_TRACKED = 100_000
_MISSING = b"\x00" * HASH_SIZE


@dataclass
class LogReport:
    events: int = 0
    size: int = 0
    checkpoints: int = 0
    stamped: int = 0
    unsigned: int = 0  # events after the latest checkpoint
    items: int = 0  # stored items whose capture context was checked (contexts.py)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


class _Named:
    """Collects per-event findings, naming the first few and counting the rest."""

    def __init__(self, report: LogReport) -> None:
        self.report = report
        self.counts: dict[str, int] = {}

    def add(self, kind: str, message: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if self.counts[kind] <= MAX_NAMED:
            self.report.problems.append(message)

    def close(self) -> None:
        for kind, count in self.counts.items():
            if count > MAX_NAMED:
                self.report.problems.append(f"... and {count - MAX_NAMED} more {kind}")


def _level0(conn: Connection) -> Iterator[tuple[int, bytes]]:
    rows = conn.execution_options(yield_per=256).execute(
        select(custody_tiles.c.idx, custody_tiles.c.hashes)
        .where(custody_tiles.c.level == 0).order_by(custody_tiles.c.idx))
    for idx, blob in rows:
        yield int(idx), bytes(blob)


class _StoredLeaves:
    """The stored level-0 tiles, read in step with the events."""

    def __init__(self, conn: Connection) -> None:
        self._tiles = _level0(conn)
        self._idx = -1
        self._blob = b""

    def tile(self, idx: int) -> bytes:
        while self._idx < idx:
            nxt = next(self._tiles, None)
            if nxt is None:
                self._idx, self._blob = 1 << 62, b""
                break
            self._idx, self._blob = nxt
        return self._blob if self._idx == idx else b""

    def leaf(self, seq: int) -> bytes | None:
        blob = self.tile(seq // TILE_WIDTH)
        part = blob[(seq % TILE_WIDTH) * HASH_SIZE:(seq % TILE_WIDTH + 1) * HASH_SIZE]
        return part if len(part) == HASH_SIZE else None


def verify_log(conn: Connection, verifier: Verifier, *, roots: Sequence[bytes] = (),
               progress: Callable[[int, int], None] | None = None) -> LogReport:
    started = time.perf_counter()
    report = LogReport()
    named = _Named(report)
    tree = Tree(conn)
    head_size, head_root = tree.head()
    report.size = head_size

    # Checkpoints: each signature, then the roots they signed, by size.
    targets: dict[int, list[int]] = {}
    signed_roots: dict[int, bytes] = {}
    cps = all_checkpoints(conn)
    report.checkpoints = len(cps)
    last_size = 0
    for cp in cps:
        try:
            body = CheckpointBody.parse(open_note(cp.note, [verifier]))
        except NoteError as exc:
            report.problems.append(f"checkpoint {cp.id}: its signature does not verify ({exc})")
            continue
        if (body.origin, body.size, body.root) != (verifier.name, cp.size, cp.root):
            report.problems.append(f"checkpoint {cp.id}: the signed text differs from its record")
            continue
        if cp.size < last_size:
            report.problems.append(f"checkpoint {cp.id}: smaller ({cp.size}) than the one "
                                   f"before ({last_size})")
        last_size = max(last_size, cp.size)
        targets.setdefault(cp.size, []).append(cp.id)
        signed_roots[cp.id] = cp.root
        stamps = stamps_of(conn, cp.id)
        report.stamped += bool(stamps)
        for url, token, _ in stamps:
            try:
                timestamps.check_stamp(token, cp.note.encode(), roots=roots)
            except timestamps.TimestampError as exc:
                report.problems.append(f"checkpoint {cp.id}: its timestamp from {url} "
                                       f"does not verify ({exc})")
    if cps:
        report.unsigned = max(0, head_size - cps[-1].size)

    rebuild = _Rebuild(tree, _StoredLeaves(conn), report, named, targets, signed_roots)
    for part in stream_rows(conn, select(
            custody_events.c.seq, custody_events.c.sha_key, custody_events.c.record)
            .order_by(custody_events.c.seq), PART):
        rebuild.feed(part)
        if progress is not None:
            progress(rebuild.expected, head_size)
    rebuild.finish(head_size, head_root)
    named.close()
    if progress is not None:
        progress(rebuild.expected, head_size)
    report.seconds = time.perf_counter() - started
    return report


class _Rebuild:
    """The tree rebuilt from the event records alone, compared as it grows."""

    def __init__(self, tree: Tree, stored: _StoredLeaves, report: LogReport, named: _Named,
                 targets: dict[int, list[int]], signed_roots: dict[int, bytes]) -> None:
        self.tree, self.stored, self.report, self.named = tree, stored, report, named
        self.targets, self.signed_roots = targets, signed_roots
        self.stops = sorted(targets)  # sizes at which a signed root must come out
        self.builder = TileBuilder()
        self.expected = 0
        self.missing: set[int] = set()
        # seq -> (leaf recomputed from the record, leaf stored in the tree), where they differ
        self.differing: dict[int, tuple[bytes, bytes]] = {}
        self.untracked = 0  # differing leaves past MAX_TRACKED, only counted
        # Events below ``vouched`` gave a root a checkpoint signed; ``bad_from`` is the size
        # of the first checkpoint whose root they do not give.
        self.vouched, self.bad_from = 0, 1 << 62

    def feed(self, part: Sequence[Any]) -> None:
        """Take the next rows (in seq order): hash, check filing, fill gaps, push."""
        sha256 = hashlib.sha256
        first = part[0][0]
        if first != self.expected or part[-1][0] - first != len(part) - 1:
            for row in part:  # a gap: go row by row, the stored leaf standing in
                self._gap(row[0])
                self.push([sha256(b"\x00" + row[2]).digest()])
            self.report.events += len(part)
        else:
            self.push([sha256(b"\x00" + row[2]).digest() for row in part])
            self.report.events += len(part)
        # Canonical JSON escapes every quote inside a string, so these byte patterns can
        # only be the record's own keys. Comprehensions: this runs for every event.
        # The top-level "sha256" is the last one: only "time" sorts after it, and a key of
        # that name inside "details" sorts before.
        at = [row[2].rfind(b'"sha256":"') + 10 for row in part]
        for seq in [row[0] for row, i in zip(part, at, strict=True)
                    if i < 10 or row[1] != int(row[2][i:i + 16], 16) - KEY_OFFSET]:
            self.named.add("misfiled events", f"custody event {seq} is filed under another "
                                              "original than its record names")

    def _gap(self, upto: int) -> None:
        while self.expected < upto:
            seq = self.expected
            if len(self.missing) < MAX_TRACKED:
                self.missing.add(seq)
            self.named.add("missing events", f"custody event {seq} is missing from the log")
            self.push([self.stored.leaf(seq) or _MISSING])

    def push(self, leaves: list[bytes]) -> None:
        """Add leaves, stopping at every checkpoint size on the way to compare its root."""
        pos = 0
        while pos < len(leaves):
            end = self.expected + len(leaves) - pos
            stop = next((s for s in self.stops if self.expected < s <= end), end)
            take = stop - self.expected
            self.builder.push(leaves[pos:pos + take])
            pos += take
            self.expected = stop
            self._compare_tiles()
            for cp_id in self.targets.get(stop, ()):
                self._compare_root(cp_id, stop)

    def _compare_root(self, cp_id: int, size: int) -> None:
        if self.builder.root() == self.signed_roots[cp_id]:
            self.vouched = size
            return
        self.bad_from = min(self.bad_from, size)
        self.report.problems.append(f"checkpoint {cp_id}: the events give a different root "
                                    f"for its {size} events than the one it signed")

    def _compare_tiles(self) -> None:
        for (level, idx), blob in self.builder.full.items():
            self._compare_tile(level, idx, blob)
        self.builder.full.clear()

    def _compare_tile(self, level: int, idx: int, built: bytes) -> None:
        kept = self.stored.tile(idx) if level == 0 else self._tile(level, idx)
        kept = kept[:len(built)]
        if built == kept:
            return
        if level:
            self.report.problems.append(f"the stored tile {level}/{idx} of the custody log "
                                        "differs from the events; proofs made from it fail")
            return
        for i, leaf in enumerate(split_hashes(built)):
            seq = idx * TILE_WIDTH + i
            was = kept[i * HASH_SIZE:(i + 1) * HASH_SIZE]
            if was != leaf and seq not in self.missing:
                if len(self.differing) < MAX_TRACKED:
                    self.differing[seq] = (leaf, was)
                else:
                    self.untracked += 1

    def _tile(self, level: int, idx: int) -> bytes:
        try:
            return self.tree.tile(level, idx)
        except TreeError:
            return b""

    def finish(self, head_size: int, head_root: bytes) -> None:
        self._gap(head_size)  # events deleted from the end
        for level, idx, blob in self.builder.partial():
            self._compare_tile(level, idx, blob)
        _name_altered(self.differing, self.named,
                      self.vouched if self.vouched < self.bad_from else 0)
        if self.untracked:
            self.report.problems.append(f"... and {self.untracked} more events whose leaves "
                                        "differ from the log, not examined one by one")
        size = self.builder.size
        if size != head_size or self.builder.root() != head_root:
            self.report.problems.append(f"the log's head ({head_size} events) does not "
                                        f"match the {size} events it holds")
        for target, ids in self.targets.items():
            if target > size:
                self.report.problems.append(f"checkpoint {ids[0]} signed {target} events "
                                            f"but the log holds {size}")


def _name_altered(differing: dict[int, tuple[bytes, bytes]], named: _Named,
                  vouched: int) -> None:
    """Name altered events; two that hold each other's leaf were swapped. Where the events
    still give a signed root, the event is sound and the stored tree was altered."""
    by_leaf = {leaf: seq for seq, (leaf, _) in differing.items()}
    done: set[int] = set()
    for seq in sorted(differing):
        if seq in done:
            continue
        leaf, kept = differing[seq]
        other = by_leaf.get(kept)
        if other is not None and other != seq and differing[other][1] == leaf:
            done.update((seq, other))
            named.add("altered events", f"custody events {seq} and {other} are out of "
                                        "order (swapped)")
        elif seq < vouched:
            named.add("altered tree", f"the stored tree's leaf for custody event {seq} was "
                                      "altered (the event itself gives the signed root)")
        else:
            named.add("altered events", f"custody event {seq} was altered: its record no "
                                        "longer gives the leaf hash in the log")

