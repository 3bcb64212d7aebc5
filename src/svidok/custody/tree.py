"""The custody tree kept as C2SP tlog tiles in the database.

A tile holds up to 256 hashes. Level-0 tiles hold leaf hashes; a hash at level L is the
root of a full tile at level L-1, i.e. of a perfect subtree of 256**L leaves. Only the
right edge of each level is ever partial, so an append rewrites at most one partial tile
per level and adds the tiles it completes: about one row per 256 leaves. Any perfect
subtree's hash then costs at most 255 hashes within one tile, and roots and proofs at ten
million leaves read a handful of rows (see merkle.py for the proof algorithms).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, and_, bindparam, insert, or_, select, update

from svidok.custody.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    consistency_proof,
    inclusion_proof,
    node_hash,
    range_hash,
    root_of,
)
from svidok.db.schema import custody_head, custody_tiles

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
TILE_BYTES = TILE_WIDTH * HASH_SIZE


class TreeError(Exception):
    """The stored tree is inconsistent with itself; the log needs verification."""


def split_hashes(blob: bytes) -> list[bytes]:
    return [blob[i:i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]


@dataclass
class TileBuilder:
    """The right edge of every level, extended leaf by leaf.

    Appends and full verification both use it: appending gives the tiles to write,
    verification the tiles to compare with what is stored.
    """

    size: int = 0
    # level -> the partial tile at the right edge (concatenated hashes)
    edge: list[bytearray] = field(default_factory=list)
    # (level, index) -> full tiles completed since the last ``take_full``
    full: dict[tuple[int, int], bytes] = field(default_factory=dict)

    def push(self, hashes: Sequence[bytes]) -> None:
        """Append leaf hashes."""
        pos = 0
        while pos < len(hashes):
            buf = self._level(0)
            room = TILE_WIDTH - len(buf) // HASH_SIZE
            chunk = hashes[pos:pos + room]
            buf += b"".join(chunk)
            pos += len(chunk)
            self.size += len(chunk)
            if len(buf) == TILE_BYTES:
                self._complete(0)

    def _level(self, level: int) -> bytearray:
        while len(self.edge) <= level:
            self.edge.append(bytearray())
        return self.edge[level]

    def _complete(self, level: int) -> None:
        while True:
            buf = self.edge[level]
            units = self.size >> (TILE_HEIGHT * level)  # full units at this level
            index = units // TILE_WIDTH - 1
            self.full[(level, index)] = bytes(buf)
            up = self._level(level + 1)
            up += root_of(split_hashes(bytes(buf)))
            buf.clear()
            if len(up) < TILE_BYTES:
                return
            level += 1

    def partial(self) -> Iterator[tuple[int, int, bytes]]:
        """The partial tiles of the right edge as (level, index, hashes)."""
        for level, buf in enumerate(self.edge):
            if buf:
                yield level, (self.size >> (TILE_HEIGHT * level)) // TILE_WIDTH, bytes(buf)

    def root(self) -> bytes:
        """The tree's root from its compact range: perfect subtrees, largest first."""
        if self.size == 0:
            return EMPTY_ROOT
        peaks: list[bytes] = []
        for level in range(len(self.edge) - 1, -1, -1):
            entries = split_hashes(bytes(self.edge[level]))
            pos = 0
            for bit in range(TILE_HEIGHT - 1, -1, -1):
                if len(entries) >> bit & 1:
                    peaks.append(root_of(entries[pos:pos + (1 << bit)]))
                    pos += 1 << bit
        root = peaks[-1]
        for peak in reversed(peaks[:-1]):
            root = node_hash(peak, root)
        return root


class Tree:
    """The stored tree, read and extended within the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._tiles: dict[tuple[int, int], bytes] = {}

    def head(self, *, for_update: bool = False) -> tuple[int, bytes]:
        """The size and root; ``for_update`` locks the head until the transaction ends, so
        that appenders and checkpoints take their turns."""
        query = select(custody_head.c.size, custody_head.c.root).where(custody_head.c.id == 1)
        if for_update and self.conn.dialect.name == "sqlite":
            # Take SQLite's write lock before reading: a transaction that read first would
            # fail, not wait, once another writer committed.
            self.conn.execute(update(custody_head).where(custody_head.c.id == 1)
                              .values(size=custody_head.c.size))
        elif for_update:
            query = query.with_for_update()
        row = self.conn.execute(query).one_or_none()
        if row is None:
            raise TreeError("the custody log's head is missing; run 'svidok init'")
        return int(row.size), bytes(row.root)

    def append(self, leaves: Sequence[bytes]) -> tuple[int, int, bytes]:
        """Add leaf hashes; returns (index of the first, new size, new root)."""
        size, _ = self.head(for_update=True)
        builder = self._edge(size)
        existing = {(level, index) for level, index, _ in builder.partial()}
        builder.push(leaves)
        tiles = dict(builder.full)
        tiles.update({(lv, ix): h for lv, ix, h in builder.partial()})
        new = [{"level": lv, "idx": ix, "hashes": h}
               for (lv, ix), h in tiles.items() if (lv, ix) not in existing]
        changed = [{"b_level": lv, "b_idx": ix, "hashes": h}
                   for (lv, ix), h in tiles.items() if (lv, ix) in existing]
        if new:
            self.conn.execute(insert(custody_tiles), new)
        if changed:
            self.conn.execute(update(custody_tiles).where(
                custody_tiles.c.level == bindparam("b_level"),
                custody_tiles.c.idx == bindparam("b_idx")), changed)
        root = builder.root()
        self.conn.execute(update(custody_head).where(custody_head.c.id == 1)
                          .values(size=builder.size, root=root))
        self._tiles.clear()
        return size, builder.size, root

    def _edge(self, size: int) -> TileBuilder:
        """A builder holding the stored right edge of a tree of ``size`` leaves."""
        builder = TileBuilder(size=size)
        wanted = []
        level = 0
        while size >> (TILE_HEIGHT * level):
            units = size >> (TILE_HEIGHT * level)
            builder._level(level)
            if units % TILE_WIDTH:
                wanted.append((level, units // TILE_WIDTH, units % TILE_WIDTH))
            level += 1
        if wanted:
            rows = self.conn.execute(select(custody_tiles).where(or_(*(
                and_(custody_tiles.c.level == lv, custody_tiles.c.idx == ix)
                for lv, ix, _ in wanted))))
            found = {(r.level, r.idx): bytes(r.hashes) for r in rows}
            for lv, ix, width in wanted:
                hashes = found.get((lv, ix), b"")
                if len(hashes) < width * HASH_SIZE:
                    raise TreeError(f"tile {lv}/{ix} of the custody log is missing or short")
                builder.edge[lv] += hashes[:width * HASH_SIZE]
        return builder

    def tile(self, level: int, index: int) -> bytes:
        key = (level, index)
        if key not in self._tiles:
            blob = self.conn.execute(select(custody_tiles.c.hashes).where(
                custody_tiles.c.level == level, custody_tiles.c.idx == index)).scalar()
            if blob is None:
                raise TreeError(f"tile {level}/{index} of the custody log is missing")
            self._tiles[key] = bytes(blob)
        return self._tiles[key]

    def subtree(self, height: int, index: int) -> bytes:
        """MTH of leaves [index * 2**height, (index + 1) * 2**height)."""
        level, rest = divmod(height, TILE_HEIGHT)
        first = index << rest
        tile_index, offset = divmod(first, TILE_WIDTH)
        blob = self.tile(level, tile_index)
        part = blob[offset * HASH_SIZE:(offset + (1 << rest)) * HASH_SIZE]
        if len(part) != (1 << rest) * HASH_SIZE:
            raise TreeError(f"tile {level}/{tile_index} of the custody log is short")
        return root_of(split_hashes(part))

    def leaf(self, index: int) -> bytes:
        return self.subtree(0, index)

    def root(self, size: int) -> bytes:
        """The root of the first ``size`` leaves: any earlier tree head, or the current."""
        return range_hash(0, size, self.subtree) if size else EMPTY_ROOT

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return inclusion_proof(index, size, self.subtree)

    def consistency(self, size1: int, size2: int) -> list[bytes]:
        return consistency_proof(size1, size2, self.subtree)
