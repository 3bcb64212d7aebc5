"""The PDQ hash index: exact range search, dihedral queries, removals, grading.

Every behaviour runs on both scans: faiss's IndexBinaryFlat and the numpy fallback used when
faiss is missing. Hashes are random 256-bit strings (as unrelated PDQ hashes are, about 128
bits apart) with near-duplicates planted at known distances.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from svidok.dedup import DedupError, hash_index
from svidok.dedup.hash_index import HashIndex, HashMatch, grade

SCANS = [pytest.param(True, id="faiss"), pytest.param(False, id="numpy")]
Codes = npt.NDArray[np.uint8]


def flip(code: Codes, bits: int, rng: np.random.Generator) -> Codes:
    """``code`` with ``bits`` distinct bits flipped: exactly that Hamming distance away."""
    unpacked = np.unpackbits(code)
    unpacked[rng.choice(256, size=bits, replace=False)] ^= 1
    return np.packbits(unpacked)


def random_codes(n: int, seed: int) -> Codes:
    return np.random.default_rng(seed).integers(0, 256, (n, 32), dtype=np.uint8)


@pytest.fixture(scope="module")
def planted() -> tuple[Codes, Codes, dict[int, int]]:
    """20,000 random hashes, and a query with a copy at every distance from 0 to 33.

    Key 100_000 + d holds the copy at distance d; copies at 32 and 33 lie outside radius 31.
    """
    rng = np.random.default_rng(20240905)
    base = random_codes(20_000, seed=7)
    query = rng.integers(0, 256, 32, dtype=np.uint8)
    copies = np.stack([flip(query, d, rng) for d in range(34)])
    expected = {100_000 + d: d for d in range(32)}
    return base, copies, expected


def build(base: Codes, copies: Codes, use_faiss: bool) -> HashIndex:
    index = HashIndex(use_faiss=use_faiss)
    index.add(np.arange(len(base)), base)
    index.add([100_000 + d for d in range(len(copies))], [c.tobytes() for c in copies])
    return index


@pytest.mark.parametrize("use_faiss", SCANS)
def test_query_finds_every_planted_copy_and_equals_brute_force(
        planted: tuple[Codes, Codes, dict[int, int]], use_faiss: bool) -> None:
    base, copies, expected = planted
    index = build(base, copies, use_faiss)
    assert index.uses_faiss is use_faiss
    assert len(index) == 20_000 + 34
    query = [copies[0].tobytes()]     # the copy at distance 0 is the query itself

    found = index.query(query)

    assert {m.key: m.distance for m in found} == expected
    assert found == index.brute_force(query)
    assert [m.distance for m in found] == sorted(m.distance for m in found)


@pytest.mark.parametrize("use_faiss", SCANS)
def test_random_queries_equal_brute_force_at_every_radius(use_faiss: bool) -> None:
    rng = np.random.default_rng(5)
    base = random_codes(20_000, seed=11)
    index = HashIndex(use_faiss=use_faiss)
    index.add(np.arange(len(base)), base)
    for radius in (0, 31, 45, 100):
        queries = [flip(base[int(i)], int(rng.integers(0, 40)), rng).tobytes()
                   for i in rng.integers(0, len(base), 5)]
        assert index.query(queries, radius=radius) == index.brute_force(queries, radius=radius)


@pytest.mark.parametrize("use_faiss", SCANS)
def test_radius_is_inclusive(use_faiss: bool) -> None:
    rng = np.random.default_rng(1)
    stored = random_codes(1, seed=2)[0]
    index = HashIndex(use_faiss=use_faiss)
    index.add([1], [flip(stored, 31, rng).tobytes()])

    assert index.query([stored.tobytes()], radius=31) == [HashMatch(1, 31, 0)]
    assert index.query([stored.tobytes()], radius=30) == []


@pytest.mark.parametrize("use_faiss", SCANS)
def test_a_rotated_repost_is_found_through_its_dihedral_variant(use_faiss: bool) -> None:
    """Only the primary hash is indexed; the query brings all 8 rotations and flips."""
    rng = np.random.default_rng(3)
    variants = random_codes(8, seed=4)        # stand-ins for pdq_dihedral's 8 hashes
    index = HashIndex(use_faiss=use_faiss)
    index.add(np.arange(1000), random_codes(1000, seed=5))
    index.add([7_000], [flip(variants[5], 9, rng).tobytes()])   # reposted rotated

    found = index.query([v.tobytes() for v in variants])

    assert found == [HashMatch(key=7_000, distance=9, variant=5)]
    assert index.query([variants[0].tobytes()]) == []           # as given: no match


@pytest.mark.parametrize("use_faiss", SCANS)
def test_each_key_once_with_its_nearest_hash_and_lowest_variant_on_a_tie(
        use_faiss: bool) -> None:
    rng = np.random.default_rng(8)
    q = random_codes(2, seed=9)
    index = HashIndex(use_faiss=use_faiss)
    # Key 1 is a video: three frames at 20, 4 and 12 bits from the query.
    index.add([1, 1, 1], [flip(q[0], d, rng).tobytes() for d in (20, 4, 12)])
    # Key 2 is 6 bits from variant 0 and from variant 1 alike.
    index.add([2, 2], [flip(q[0], 6, rng).tobytes(), flip(q[1], 6, rng).tobytes()])

    found = index.query([q[0].tobytes(), q[1].tobytes()])

    assert found == [HashMatch(1, 4, 0), HashMatch(2, 6, 0)]
    assert index.query([q[0].tobytes()], limit=1) == [HashMatch(1, 4, 0)]
    assert index.query([q[0].tobytes()], limit=0) == []


@pytest.mark.parametrize("use_faiss", SCANS)
def test_removed_keys_are_hidden_and_can_come_back(use_faiss: bool) -> None:
    codes = random_codes(100, seed=12)
    index = HashIndex(use_faiss=use_faiss)
    index.add(np.arange(100), codes)
    probe = [codes[10].tobytes()]

    index.remove([10, 12345])           # unknown keys are ignored
    assert index.query(probe) == []
    assert index.brute_force(probe) == []
    assert len(index) == 99

    index.add([10], [codes[10].tobytes()])
    assert index.query(probe) == [HashMatch(10, 0, 0)]


@pytest.mark.parametrize("use_faiss", SCANS)
def test_many_removals_compact_the_index_without_changing_results(use_faiss: bool) -> None:
    codes = random_codes(2_000, seed=13)
    index = HashIndex(use_faiss=use_faiss)
    index.add(np.arange(2_000), codes)
    index.remove(range(0, 2_000, 2))            # half the rows: compacted on next use

    for i in (0, 1, 998, 999):
        found = index.query([codes[i].tobytes()])
        assert found == ([] if i % 2 == 0 else [HashMatch(i, 0, 0)])
        assert found == index.brute_force([codes[i].tobytes()])
    assert len(index) == 1_000
    index.add([5_000], [codes[0].tobytes()])    # new rows after a compaction line up
    assert index.query([codes[0].tobytes()]) == [HashMatch(5_000, 0, 0)]


def variants_near(stored: Codes, radius: int, rng: np.random.Generator) -> list[bytes]:
    """8 query hashes: random ones, and one within ``radius`` of ``stored``."""
    queries = rng.integers(0, 256, (8, 32), dtype=np.uint8)
    queries[int(rng.integers(0, 8))] = flip(stored, int(rng.integers(0, radius + 1)), rng)
    return [q.tobytes() for q in queries]


@pytest.mark.parametrize("use_faiss", SCANS)
def test_slice_tables_answer_as_the_scan_through_adds_removals_and_compaction(
        use_faiss: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past _TAIL_ROWS hashes a query is answered by the 16-bit slice tables and a scan of
    the rows added since they were built: always exactly what the scan finds."""
    monkeypatch.setattr(hash_index, "_TAIL_ROWS", 500)
    monkeypatch.setattr(hash_index, "_FAISS_SCAN_WORK", 0)
    monkeypatch.setattr(hash_index, "_NUMPY_SCAN_WORK", 0)
    rng = np.random.default_rng(21)
    codes = random_codes(3_000, seed=22)
    index = HashIndex(use_faiss=use_faiss)

    def same_as_the_scan(rows: int, removed: bool = False) -> None:
        for radius in (0, 15, 31, 45, 47, 48):  # 48 and over: 3 bits a slice, so a scan
            for _ in range(3):
                near = int(rng.integers(0, rows))
                queries = variants_near(codes[near], radius, rng)
                found = index.query(queries, radius=radius)
                assert found == index.brute_force(queries, radius=radius)
                if not (removed and near % 3 == 0):
                    assert near in {m.key for m in found}

    index.add(np.arange(2_000), codes[:2_000])          # tables built at once
    assert index._multi is not None and index._multi.size == 2_000
    same_as_the_scan(2_000)
    index.add(np.arange(2_000, 2_300), codes[2_000:2_300])
    assert index._multi.size == 2_000                   # 300 rows scanned beside them
    same_as_the_scan(2_300)
    index.add(np.arange(2_300, 3_000), codes[2_300:])
    assert index._multi.size == 3_000                   # 1,000 added: built again
    same_as_the_scan(3_000)
    index.remove(range(0, 3_000, 3))                    # a third: compacted on next use
    same_as_the_scan(3_000, removed=True)
    assert index._multi is not None and index._multi.size == 2_000
    assert index.query([codes[3].tobytes()]) == []
    assert index.query([codes[4].tobytes()]) == [HashMatch(4, 0, 0)]


@pytest.mark.parametrize("use_faiss", SCANS)
def test_hashes_crowded_into_few_slice_values_are_scanned_instead(
        use_faiss: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Flat pictures all hash alike: then the slices would hand back most rows for every
    lookup, and the scan answers instead, with the same result."""
    rng = np.random.default_rng(23)
    centre = random_codes(1, seed=24)[0]
    crowd = np.stack([flip(centre, int(d), rng) for d in rng.integers(0, 60, 20_000)])
    monkeypatch.setattr(hash_index, "_FAISS_SCAN_WORK", 0)
    monkeypatch.setattr(hash_index, "_NUMPY_SCAN_WORK", 0)
    index = HashIndex(use_faiss=use_faiss)
    index.add(np.arange(len(crowd)), crowd)
    asked: list[object] = []
    candidates = hash_index._MultiIndex.candidates

    def spy(self: Any, *args: Any) -> Any:
        asked.append(found := candidates(self, *args))
        return found

    monkeypatch.setattr(hash_index._MultiIndex, "candidates", spy)
    found = index.query([centre.tobytes()])

    assert asked == [None]
    assert len(found) > 1_000
    assert found == index.brute_force([centre.tobytes()])


@pytest.mark.parametrize("use_faiss", SCANS)
def test_an_empty_index_matches_nothing(use_faiss: bool) -> None:
    index = HashIndex(use_faiss=use_faiss)
    assert len(index) == 0
    assert index.query([bytes(32)], radius=256) == []
    index.add([], [])
    assert len(index) == 0


def test_hashes_of_another_size_are_refused_without_showing_them() -> None:
    index = HashIndex(use_faiss=False)
    secret = b"\xab" * 31
    with pytest.raises(DedupError, match=r"^hash 1 has 31 bytes, expected 32$"):
        index.add([1, 2], [bytes(32), secret])
    bad: list[Any] = [
        lambda: index.add([1], [bytes(32), bytes(32)]),                 # 1 key, 2 hashes
        lambda: index.add([1.5], [bytes(32)]),  # type: ignore[list-item]  # not an integer
        lambda: index.add([2**64], [bytes(32)]),                        # beyond int64
        lambda: index.add([1], np.zeros((1, 16), dtype=np.uint8)),      # wrong width
        lambda: index.query(bytes(32)),  # type: ignore[arg-type]  # one hash, not a list
        lambda: index.query([]),                                        # nothing to look for
        lambda: index.query([bytes(32)], radius=-1),
        lambda: index.query([bytes(32)], radius=257),
        lambda: index.query([bytes(32)], limit=-1),
        lambda: HashIndex(bits=100),
        lambda: grade(-1),
    ]
    for call in bad:
        with pytest.raises(DedupError):
            call()
    assert len(index) == 0


def test_other_hash_sizes_work_too() -> None:
    codes = random_codes(50, seed=14)[:, :8]              # 64-bit hashes
    for use_faiss in (True, False):
        index = HashIndex(bits=64, use_faiss=use_faiss)
        index.add(np.arange(50), np.ascontiguousarray(codes))
        assert index.query([codes[3].tobytes()], radius=0) == [HashMatch(3, 0, 0)]


def test_faiss_can_be_required_or_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert HashIndex().uses_faiss               # installed here, so used by default
    assert not HashIndex(use_faiss=False).uses_faiss
    monkeypatch.setitem(sys.modules, "faiss", None)     # "import faiss" now fails
    assert not HashIndex().uses_faiss
    with pytest.raises(DedupError, match="not installed"):
        HashIndex(use_faiss=True)


def test_popcount_fallback_for_numpy_without_bitwise_count() -> None:
    x = np.random.default_rng(15).integers(0, 2**63, 1000, dtype=np.uint64)
    assert np.array_equal(hash_index._popcount_table(x), np.bitwise_count(x))


@pytest.mark.parametrize(("distance", "expected"), [
    (0, "duplicate"), (15, "duplicate"),
    (16, "near-duplicate"), (31, "near-duplicate"),
    (32, "maybe"), (45, "maybe"),
    (46, "different"), (128, "different"),
])
def test_grades_follow_pdq_upstream_bands(distance: int, expected: str) -> None:
    assert grade(distance) == expected
