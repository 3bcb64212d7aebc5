"""The tree kept as tiles in the database gives the same roots and proofs as RFC 6962."""

from __future__ import annotations

import itertools
import random

import pytest
from sqlalchemy import select

from svidok.custody import ProofError, verify_consistency, verify_inclusion
from svidok.custody.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    memory_subtrees,
    root_of,
)
from svidok.custody.tree import TILE_WIDTH, TileBuilder, Tree, TreeError
from svidok.db.schema import custody_tiles
from svidok.home import Home


def leaves(n: int, start: int = 0) -> list[bytes]:
    return [leaf_hash(i.to_bytes(8, "big")) for i in range(start, start + n)]


def test_builder_root_matches_rfc6962_at_every_size_across_tiles() -> None:
    all_leaves = leaves(600)
    builder = TileBuilder()
    for size in range(1, 600):
        builder.push(all_leaves[size - 1:size])
        if size < 20 or size % 37 == 0 or size in (255, 256, 257, 511, 512, 513):
            assert builder.root() == root_of(all_leaves[:size]), size
    assert TileBuilder().root() == EMPTY_ROOT


def test_tiles_follow_c2sp_counts() -> None:
    """Size 70,000: 273 full level-0 tiles + 112 wide; 1 full + 17 at L1; 1 at L2."""
    builder = TileBuilder()
    builder.push(leaves(70_000))
    full = sorted(builder.full)
    assert sum(1 for level, _ in full if level == 0) == 273
    assert sum(1 for level, _ in full if level == 1) == 1
    partial = {level: len(blob) // 32 for level, _, blob in builder.partial()}
    assert partial == {0: 112, 1: 17, 2: 1}


def test_appends_in_batches_give_rfc6962_roots_and_proofs(home: Home) -> None:
    everything = leaves(66_000)  # past 256**2, so a level-2 tile exists
    sizes = [0]
    rng = random.Random(7)
    with home.engine.begin() as conn:
        tree = Tree(conn)
        pos = 0
        for batch in (1, 2, 253, 1, 256, 300, 1000, 40_000, 24_187):
            first, size, root = tree.append(everything[pos:pos + batch])
            assert first == pos
            pos += batch
            assert size == pos
            assert root == root_of(everything[:pos])
            sizes.append(pos)
    assert pos == len(everything)
    subtrees = memory_subtrees(everything)
    with home.engine.connect() as conn:
        tree = Tree(conn)
        assert tree.head() == (pos, root_of(everything))
        for size in sizes[1:]:
            assert tree.root(size) == root_of(everything[:size])
        for _ in range(40):
            size = rng.choice(sizes[1:])
            index = rng.randrange(size)
            path = tree.inclusion(index, size)
            assert path == inclusion_proof(index, size, memory_subtrees(everything[:size]))
            verify_inclusion(everything[index], index, size, path, tree.root(size))
        for old, new in itertools.pairwise(sizes[1:]):
            proof = tree.consistency(old, new)
            assert proof == consistency_proof(old, new, subtrees)
            verify_consistency(old, new, proof, tree.root(old), tree.root(new))


def test_a_tree_of_one_leaf_and_proofs_out_of_range(home: Home) -> None:
    with home.engine.begin() as conn:
        tree = Tree(conn)
        assert tree.head() == (0, EMPTY_ROOT)
        tree.append(leaves(1))
        assert tree.inclusion(0, 1) == []
        with pytest.raises(ProofError):
            tree.inclusion(1, 1)
        with pytest.raises(ProofError):
            tree.consistency(0, 1)


def test_a_missing_tile_is_named(home: Home) -> None:
    with home.engine.begin() as conn:
        Tree(conn).append(leaves(3 * TILE_WIDTH + 5))
        conn.execute(custody_tiles.delete().where(custody_tiles.c.level == 0,
                                                  custody_tiles.c.idx == 1))
    with home.engine.connect() as conn, pytest.raises(TreeError, match="tile 0/1"):
        Tree(conn).inclusion(300, 3 * TILE_WIDTH + 5)


def test_an_append_is_undone_with_its_transaction(home: Home) -> None:
    with home.engine.begin() as conn:
        Tree(conn).append(leaves(10))
    with pytest.raises(RuntimeError), home.engine.begin() as conn:
        Tree(conn).append(leaves(500, 10))
        raise RuntimeError("crash before commit")
    with home.engine.connect() as conn:
        assert Tree(conn).head() == (10, root_of(leaves(10)))
        assert conn.execute(select(custody_tiles.c.idx)).scalars().all() == [0]


def test_concurrent_appenders_take_turns(home: Home) -> None:
    """Four writers at once: every leaf lands exactly once and the tree stays whole."""
    import threading

    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for batch in range(5):
                with home.engine.begin() as conn:
                    Tree(conn).append(leaves(37, n * 1000 + batch * 37))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with home.engine.connect() as conn:
        tree = Tree(conn)
        size, root = tree.head()
        assert size == 4 * 5 * 37
        stored = [tree.leaf(i) for i in range(size)]
    written = [leaf for n in range(4) for b in range(5) for leaf in leaves(37, n * 1000 + b * 37)]
    assert sorted(stored) == sorted(written)
    assert root_of(stored) == root
