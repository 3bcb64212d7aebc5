"""The RFC 6962 / RFC 9162 Merkle tree: hashing, proofs from a tree of any size, verification.

Indices are 0-based. A proof is a list of 32-byte hashes from the leaf upward, with neither
the leaf nor the root in it: RFC 9162's wire form, and C2SP tlog-proof's.

Proof *generation* needs the hash of arbitrary perfect subtrees; it takes them from a
``SubtreeHashes`` (the stored tiles in ``tree.py``, or a list in memory), so the same code
serves a 10-million-leaf log and the test vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from hashlib import sha256

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()

# (height, index) -> MTH of leaves [index * 2**height, (index + 1) * 2**height)
SubtreeHashes = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof does not verify, or its parameters are impossible; the message says why."""


def leaf_hash(data: bytes) -> bytes:
    return sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes held in memory (tiles, tests); bottom-up, no recursion."""
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        # node_hash written out: this loop is most of the hashing when appending or checking.
        nxt = [sha256(b"\x01" + level[i] + level[i + 1]).digest()
               for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])  # a ragged right edge is carried up unpaired, never duplicated
        level = nxt
    return level[0]


def range_hash(start: int, end: int, subtree: SubtreeHashes) -> bytes:
    """MTH(D[start:end]) where ``start`` is aligned as RFC 6962's recursion leaves it."""
    size = end - start
    if size & (size - 1) == 0:
        height = size.bit_length() - 1
        return subtree(height, start >> height)
    k = split(size)
    return node_hash(subtree(k.bit_length() - 1, start // k), range_hash(start + k, end, subtree))


def inclusion_proof(index: int, size: int, subtree: SubtreeHashes) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 section 2.1.3.1."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            path.append(range_hash(start + k, end, subtree))
            end = start + k
        else:
            path.append(range_hash(start, start + k, subtree))
            start += k
    path.reverse()
    return path


def consistency_proof(size1: int, size2: int, subtree: SubtreeHashes) -> list[bytes]:
    """PROOF(size1, D[size2]) of RFC 9162 section 2.1.4.1."""
    if not 0 < size1 <= size2:
        raise ProofError(f"no consistency proof from {size1} to {size2} leaves")
    proof: list[bytes] = []
    start, end, whole = 0, size2, True
    m = size1
    while m != end - start:
        k = split(end - start)
        if m <= k:
            proof.append(range_hash(start + k, end, subtree))
            end = start + k
        else:
            proof.append(range_hash(start, start + k, subtree))
            start += k
            m -= k
            whole = False
    if not whole:
        proof.append(range_hash(start, end, subtree))
    proof.reverse()
    return proof


def _check_hash(name: str, value: bytes) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise ProofError(f"{name} must be {HASH_SIZE} bytes")


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 section 2.1.3.2, steps 1-3)."""
    _check_hash("the leaf hash", leaf)
    if index < 0 or size < 0 or index >= size:
        raise ProofError(f"index {index} is not below the tree size {size}")
    fn, sn, r = index, size - 1, bytes(leaf)
    for i, p in enumerate(proof):
        _check_hash(f"proof element {i}", p)
        if sn == 0:
            raise ProofError("the proof has more elements than the tree has levels")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof has fewer elements than the tree has levels")
    return r


def verify_inclusion(leaf_hash: bytes, index: int, tree_size: int,
                     proof: Sequence[bytes], root: bytes) -> None:
    """Raise ProofError unless ``proof`` shows leaf ``index`` is in the tree with ``root``."""
    _check_hash("the root", root)
    if root_from_inclusion(leaf_hash, index, tree_size, proof) != root:
        raise ProofError("the inclusion proof leads to a different root")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes],
                       root1: bytes, root2: bytes) -> None:
    """Raise ProofError unless the tree of ``size2`` leaves extends the one of ``size1``."""
    _check_hash("the first root", root1)
    _check_hash("the second root", root2)
    for i, p in enumerate(proof):
        _check_hash(f"proof element {i}", p)
    if size1 < 1 or size2 < size1:
        raise ProofError(f"no tree of {size2} leaves can extend one of {size1}")
    if size1 == size2:
        if proof:
            raise ProofError("trees of equal size need an empty consistency proof")
        if root1 != root2:
            raise ProofError("two trees of the same size have different roots")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    elements = list(proof)
    if size1 & (size1 - 1) == 0:
        elements.insert(0, bytes(root1))
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = elements[0]
    for c in elements[1:]:
        if sn == 0:
            raise ProofError("the consistency proof has too many elements")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof has too few elements")
    if fr != root1:
        raise ProofError("the consistency proof does not lead to the first root")
    if sr != root2:
        raise ProofError("the consistency proof does not lead to the second root")


def memory_subtrees(leaves: Sequence[bytes]) -> SubtreeHashes:
    """Subtree hashes over leaf hashes held in memory (small trees, tests)."""
    def subtree(height: int, index: int) -> bytes:
        width = 1 << height
        return root_of(leaves[index * width:(index + 1) * width])
    return subtree
