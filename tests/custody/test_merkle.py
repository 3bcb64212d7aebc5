"""RFC 6962 / 9162 hashing, proof generation and verification against published vectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svidok.custody import ProofError, verify_consistency, verify_inclusion
from svidok.custody.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    memory_subtrees,
    node_hash,
    root_of,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "data" / "transparency" / "rfc6962_vectors.json").read_text())
TREE = VECTORS["tree"]
LEAVES = [leaf_hash(bytes.fromhex(h)) for h in TREE["leaf_inputs_hex"]]
ROOTS = [bytes.fromhex(h) for h in TREE["root_hex_by_size"]]


def hexes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def test_hasher_vectors() -> None:
    for case in VECTORS["hasher"]:
        want = bytes.fromhex(case["want_hex"])
        if case["kind"] == "empty_root":
            assert want == EMPTY_ROOT
        elif case["kind"] == "leaf":
            data = (bytes.fromhex(case["input_hex"]) if "input_hex" in case
                    else case["input_ascii"].encode())
            assert leaf_hash(data) == want
        else:
            assert node_hash(case["left_ascii"].encode(), case["right_ascii"].encode()) == want


@pytest.mark.parametrize("size", range(9))
def test_roots_by_size(size: int) -> None:
    """k is the largest power of two *strictly* below n: sizes 5-7 catch the mistake."""
    assert root_of(LEAVES[:size]) == ROOTS[size]


def test_published_inclusion_proofs_verify_and_regenerate() -> None:
    for case in VECTORS["inclusion_proofs"]:
        index, size = case["leaf_index"], case["tree_size"]
        path = hexes(case["audit_path_hex"])
        verify_inclusion(bytes.fromhex(case["leaf_hash_hex"]), index, size, path,
                         bytes.fromhex(case["root_hex"]))
        assert inclusion_proof(index, size, memory_subtrees(LEAVES[:size])) == path


def test_every_proof_of_the_8_leaf_tree() -> None:
    derived = VECTORS["derived_all_proofs_8_leaf"]
    for case in derived["inclusion"]:
        index, size = case["leaf_index"], case["tree_size"]
        path = hexes(case["audit_path_hex"])
        assert inclusion_proof(index, size, memory_subtrees(LEAVES[:size])) == path
        verify_inclusion(LEAVES[index], index, size, path, ROOTS[size])
    for case in derived["consistency"] + VECTORS["consistency_proofs"]:
        size1, size2 = case["size1"], case["size2"]
        proof = hexes(case["proof_hex"])
        assert consistency_proof(size1, size2, memory_subtrees(LEAVES[:size2])) == proof
        verify_consistency(size1, size2, proof, ROOTS[size1], ROOTS[size2])


def _inclusion_case() -> tuple[bytes, int, int, list[bytes], bytes]:
    return LEAVES[2], 2, 7, inclusion_proof(2, 7, memory_subtrees(LEAVES[:7])), ROOTS[7]


@pytest.mark.parametrize("probe", [
    "trailing", "missing", "inserted", "wrong_index", "index_at_size", "negative_index",
    "size_doubled", "size_halved", "short_hash", "long_hash", "flipped_root", "flipped_leaf",
    "flipped_element", "empty_for_big_tree"])
def test_inclusion_probes_are_rejected(probe: str) -> None:
    leaf, index, size, path, root = _inclusion_case()
    if probe == "trailing":
        path = [*path, path[0]]
    elif probe == "missing":
        path = path[:-1]
    elif probe == "inserted":
        path = [path[0], LEAVES[5], *path[1:]]
    elif probe == "wrong_index":
        index = 3
    elif probe == "index_at_size":
        index = size
    elif probe == "negative_index":
        index = -1
    elif probe == "size_doubled":
        size *= 2
    elif probe == "size_halved":
        size //= 2
    elif probe == "short_hash":
        path = [path[0][:31], *path[1:]]
    elif probe == "long_hash":
        path = [path[0] + b"\x00", *path[1:]]
    elif probe == "flipped_root":
        root = bytes([root[0] ^ 1]) + root[1:]
    elif probe == "flipped_leaf":
        leaf = bytes([leaf[0] ^ 1]) + leaf[1:]
    elif probe == "flipped_element":
        path = [bytes([path[0][0] ^ 0x80]) + path[0][1:], *path[1:]]
    elif probe == "empty_for_big_tree":
        path = []
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, path, root)


@pytest.mark.parametrize("probe", [
    "trailing", "missing", "empty", "size1_zero", "size2_smaller", "size2_doubled",
    "equal_sizes_nonempty_proof", "equal_sizes_other_root", "flipped_root1", "flipped_root2",
    "short_hash", "size1_halved"])
def test_consistency_probes_are_rejected(probe: str) -> None:
    size1, size2 = 3, 7
    proof = consistency_proof(size1, size2, memory_subtrees(LEAVES[:size2]))
    root1, root2 = ROOTS[size1], ROOTS[size2]
    verify_consistency(size1, size2, proof, root1, root2)
    if probe == "trailing":
        proof = [*proof, proof[0]]
    elif probe == "missing":
        proof = proof[:-1]
    elif probe == "empty":
        proof = []
    elif probe == "size1_zero":
        size1 = 0
    elif probe == "size2_smaller":
        size1, size2 = 7, 3
    elif probe == "size2_doubled":
        size2 *= 2
    elif probe == "equal_sizes_nonempty_proof":
        size2, root2 = size1, root1
    elif probe == "equal_sizes_other_root":
        size2, proof = size1, []
    elif probe == "flipped_root1":
        root1 = bytes([root1[0] ^ 1]) + root1[1:]
    elif probe == "flipped_root2":
        root2 = bytes([root2[0] ^ 1]) + root2[1:]
    elif probe == "short_hash":
        proof = [proof[0][:31], *proof[1:]]
    elif probe == "size1_halved":
        size1 = 1
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, root1, root2)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=300), st.data())
def test_generated_proofs_verify_at_any_size(size: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    subtrees = memory_subtrees(leaves)
    root = root_of(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    verify_inclusion(leaves[index], index, size, inclusion_proof(index, size, subtrees), root)
    size1 = data.draw(st.integers(min_value=1, max_value=size))
    verify_consistency(size1, size, consistency_proof(size1, size, subtrees),
                       root_of(leaves[:size1]), root)
