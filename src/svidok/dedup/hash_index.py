"""Exact Hamming range search over perceptual hashes (PDQ: 256 bits), for images and frames.

Why a flat scan: at a million hashes an exhaustive scan with faiss's ``IndexBinaryFlat`` takes
about 1.3 ms a query and is *exact*; multi-index hashing gains nothing at this size and HNSW
loses half of the true near-duplicates (research note media-matching.md §3.3). Exactness
matters more than speed here: a missed re-upload is a missed piece of evidence. faiss is
optional at run time; without it the same scan runs in numpy (``np.bitwise_count`` over the
hashes stored as contiguous 64-bit columns, a few ms per query hash), and ``brute_force``
always runs that numpy scan so tests and the benchmark can hold faiss to it.

Storage: rows in insertion order, each with the caller's key (a fingerprints row id, say).
A key may hold several hashes (the frames of a video); results are merged per key, keeping
the smallest distance. faiss row numbers are our row numbers, so no ``IndexBinaryIDMap`` is
needed. ``remove`` marks rows dead (tombstones) and queries filter them; once more than a
quarter of the rows are dead, the next query or add compacts the rows and rebuilds the faiss
index, which takes well under a second per million hashes.

A query is one hash plus, optionally, its dihedral variants (rotations and flips, which PDQ
computes almost for free): only the primary hash is indexed, and a picture that was rotated
before reposting is found through the variant that undoes the rotation. ``HashMatch.variant``
says which one matched.

Distances are graded as upstream PDQ recommends: 0–15 duplicate, 16–31 near-duplicate,
32–45 "maybe" (a person or a finer check decides; never linked automatically). Hashes with a
PDQ quality under ``MIN_QUALITY`` are kept but must not be linked automatically: the caller
knows the quality, the index does not.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from svidok.dedup import DedupError

MATCH_RADIUS = 31       # PDQ's confident-match threshold (pdq_utils.py upstream)
MAYBE_RADIUS = 45       # beyond this, unrelated for all purposes
MIN_QUALITY = 50        # PDQ quality below this: hash kept, never auto-linked
MAX_VARIANTS = 64       # a query is a hash and its variants; more is a caller's bug
# One OpenMP thread: with two, every query (even a single hash) ends at a barrier that
# waits for the slower thread, and on a machine busy with importers and enrichers a
# 1.3 ms query took 20 ms. Parallelism comes from several queries or workers instead.
FAISS_THREADS = 1

_CHUNK = 16_384         # rows per numpy pass: 4 columns of 128 KiB stay in cache
_COMPACT_FRACTION = 4   # compact once dead rows exceed 1/4 of all rows

Grade = Literal["duplicate", "near-duplicate", "maybe", "different"]

U64 = npt.NDArray[np.uint64]
_faiss_threads_set = False


@dataclass(frozen=True, slots=True)
class HashMatch:
    key: int        # the caller's id for the stored hash
    distance: int   # Hamming distance, the smallest over the query's variants
    variant: int    # which query hash gave it: 0 as given, 1..7 the dihedral variants


def grade(distance: int) -> Grade:
    """How a Hamming distance between two PDQ hashes is presented to a person."""
    if distance < 0:
        raise DedupError(f"negative distance {distance}")
    if distance <= 15:
        return "duplicate"
    if distance <= MATCH_RADIUS:
        return "near-duplicate"
    if distance <= MAYBE_RADIUS:
        return "maybe"
    return "different"


class HashIndex:
    """Exact Hamming range search over fixed-size binary hashes; not persisted.

    Thread-safe: one lock serialises adds, removals and queries (a query at a million
    hashes takes a few milliseconds).
    """

    def __init__(self, bits: int = 256, *, use_faiss: bool | None = None) -> None:
        """``use_faiss``: None uses faiss when it is installed, False never does, True
        requires it (DedupError when it is missing)."""
        if bits <= 0 or bits % 64:
            raise DedupError(f"hash size must be a positive multiple of 64 bits, not {bits}")
        self._bits = bits
        self._nbytes = bits // 8
        self._words = bits // 64
        self._faiss = _load_faiss(use_faiss)
        self._lock = threading.RLock()
        self._cols: U64 = np.empty((self._words, 0), dtype=np.uint64)
        self._keys: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._alive: npt.NDArray[np.bool_] = np.empty(0, dtype=np.bool_)
        self._size = 0      # rows in use (alive or dead)
        self._dead = 0
        self._flat: Any = self._new_flat()

    @property
    def uses_faiss(self) -> bool:
        return self._faiss is not None

    @property
    def bits(self) -> int:
        return self._bits

    def __len__(self) -> int:
        """Hashes stored and not removed (a key with several hashes counts each)."""
        with self._lock:
            return self._size - self._dead

    def add(self, keys: Sequence[int] | npt.NDArray[Any],
            hashes: Sequence[bytes] | npt.NDArray[Any]) -> None:
        """Store ``hashes[i]`` under ``keys[i]``; an (n, bits/8) uint8 array or n byte strings."""
        codes = _as_codes(hashes, self._nbytes, "hash")
        ids = _as_keys(keys, len(codes))
        if not len(codes):
            return
        with self._lock:
            self._maybe_compact()
            self._reserve(len(codes))
            start, end = self._size, self._size + len(codes)
            self._cols[:, start:end] = codes.view(np.uint64).T
            self._keys[start:end] = ids
            self._alive[start:end] = True
            self._size = end
            if self._flat is not None:
                self._flat.add(codes)

    def remove(self, keys: Iterable[int]) -> None:
        """Hide every hash stored under these keys; unknown keys are ignored."""
        ids = _as_keys(list(keys), None)
        with self._lock:
            hit = np.isin(self._keys[:self._size], ids) & self._alive[:self._size]
            self._alive[:self._size][hit] = False
            self._dead += int(np.count_nonzero(hit))

    def query(self, hashes: Sequence[bytes] | npt.NDArray[Any], radius: int = MATCH_RADIUS,
              limit: int | None = None) -> list[HashMatch]:
        """Keys with a hash within ``radius`` bits of any query hash, nearest first.

        ``hashes`` is the query hash followed by its variants, if any. One match per key,
        with the smallest distance over the variants and the key's hashes (on a tie, the
        lowest variant); sorted by distance, then key; cut to ``limit`` if given.
        """
        queries = self._check_query(hashes, radius, limit)
        with self._lock:
            self._maybe_compact()
            if self._flat is None:
                rows, dist, variant = self._scan(queries, radius)
            else:
                lims, d, i = self._flat.range_search(queries, radius + 1)  # strict "<" there
                rows, dist = i, d
                variant = np.repeat(np.arange(len(queries)), np.diff(lims.astype(np.int64)))
            return self._merge(rows, dist, variant, limit)

    def brute_force(self, hashes: Sequence[bytes] | npt.NDArray[Any],
                    radius: int = MATCH_RADIUS) -> list[HashMatch]:
        """``query`` computed by the numpy scan whatever the index uses: the yardstick."""
        queries = self._check_query(hashes, radius, None)
        with self._lock:
            rows, dist, variant = self._scan(queries, radius)
            return self._merge(rows, dist, variant, None)

    # -- internals ---------------------------------------------------------------------

    def _check_query(self, hashes: Sequence[bytes] | npt.NDArray[Any], radius: int,
                     limit: int | None) -> npt.NDArray[np.uint8]:
        queries = _as_codes(hashes, self._nbytes, "query hash")
        if not 1 <= len(queries) <= MAX_VARIANTS:
            raise DedupError(f"a query takes 1 to {MAX_VARIANTS} hashes, not {len(queries)}")
        if isinstance(radius, bool) or not isinstance(radius, int) \
                or not 0 <= radius <= self._bits:
            raise DedupError(f"radius must be an integer from 0 to {self._bits}")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or limit < 0):
            raise DedupError("limit must be a non-negative integer or None")
        return queries

    def _scan(self, queries: npt.NDArray[np.uint8], radius: int
              ) -> tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]:
        """Rows within ``radius`` of any query, with their smallest distance and its variant.

        Chunked so each row's columns are read from memory once for all the variants.
        """
        words = queries.view(np.uint64)
        size = self._size
        best = np.empty(size, dtype=np.uint16)
        dist = np.empty(_CHUNK, dtype=np.uint16)
        xor = np.empty(_CHUNK, dtype=np.uint64)
        for start in range(0, size, _CHUNK):
            end = min(size, start + _CHUNK)
            n = end - start
            out = best[start:end]
            out.fill(np.iinfo(np.uint16).max)
            for q in words:
                d = dist[:n]
                d.fill(0)
                for w in range(self._words):
                    np.bitwise_xor(self._cols[w, start:end], q[w], out=xor[:n])
                    d += _popcount(xor[:n])
                np.minimum(out, d, out=out)
        rows = np.flatnonzero(best <= radius)
        # Which variant: recomputed for the few rows found, cheaper than tracking it above.
        per_variant = np.zeros((len(words), len(rows)), dtype=np.uint16)
        for v, q in enumerate(words):
            for w in range(self._words):
                per_variant[v] += _popcount(self._cols[w, rows] ^ q[w])
        return rows, best[rows], np.argmin(per_variant, axis=0)

    def _merge(self, rows: npt.NDArray[Any], dist: npt.NDArray[Any],
               variant: npt.NDArray[Any], limit: int | None) -> list[HashMatch]:
        rows = np.asarray(rows, dtype=np.int64)
        live = self._alive[rows]
        rows, dist, variant = rows[live], np.asarray(dist)[live], np.asarray(variant)[live]
        keys = self._keys[rows]
        # Per key, the smallest distance, then the lowest variant.
        order = np.lexsort((variant, dist, keys))
        keys, dist, variant = keys[order], dist[order], variant[order]
        first = np.ones(len(keys), dtype=np.bool_)
        first[1:] = keys[1:] != keys[:-1]
        keys, dist, variant = keys[first], dist[first], variant[first]
        order = np.lexsort((keys, dist))[:limit]
        return [HashMatch(int(k), int(d), int(v))
                for k, d, v in zip(keys[order], dist[order], variant[order], strict=True)]

    def _reserve(self, more: int) -> None:
        need = self._size + more
        capacity = len(self._keys)
        if need <= capacity:
            return
        capacity = max(need, 2 * capacity, 1024)
        cols = np.empty((self._words, capacity), dtype=np.uint64)
        cols[:, :self._size] = self._cols[:, :self._size]
        keys = np.empty(capacity, dtype=np.int64)
        keys[:self._size] = self._keys[:self._size]
        alive = np.zeros(capacity, dtype=np.bool_)
        alive[:self._size] = self._alive[:self._size]
        self._cols, self._keys, self._alive = cols, keys, alive

    def _maybe_compact(self) -> None:
        if not self._dead or self._dead * _COMPACT_FRACTION <= self._size:
            return
        keep = np.flatnonzero(self._alive[:self._size])
        self._cols = np.ascontiguousarray(self._cols[:, keep])
        self._keys = self._keys[keep]
        self._alive = np.ones(len(keep), dtype=np.bool_)
        self._size, self._dead = len(keep), 0
        self._flat = self._new_flat()
        if self._flat is not None and len(keep):
            rows = np.ascontiguousarray(self._cols.T).view(np.uint8)
            self._flat.add(rows)

    def _new_flat(self) -> Any:
        return None if self._faiss is None else self._faiss.IndexBinaryFlat(self._bits)


def _load_faiss(use_faiss: bool | None) -> Any:
    global _faiss_threads_set
    if use_faiss is False:
        return None
    try:
        import faiss
    except ImportError:
        if use_faiss:
            raise DedupError("faiss was asked for but is not installed") from None
        return None
    if not _faiss_threads_set:
        faiss.omp_set_num_threads(min(FAISS_THREADS, faiss.omp_get_max_threads()))
        _faiss_threads_set = True
    return faiss


def _as_codes(hashes: Sequence[bytes] | npt.NDArray[Any], nbytes: int,
              what: str) -> npt.NDArray[np.uint8]:
    """Hashes as a C-contiguous (n, nbytes) uint8 array; sizes checked, values never shown."""
    if isinstance(hashes, np.ndarray):
        if hashes.dtype != np.uint8 or hashes.ndim != 2 or hashes.shape[1] != nbytes:
            raise DedupError(f"{what} array must be (n, {nbytes}) uint8, "
                             f"not {hashes.shape} {hashes.dtype}")
        return np.ascontiguousarray(hashes)
    if isinstance(hashes, bytes | bytearray | memoryview | str):
        raise DedupError(f"expected a sequence of {what}es, got a single value")
    values = list(hashes)
    for i, value in enumerate(values):
        if not isinstance(value, bytes | bytearray | memoryview):
            raise DedupError(f"{what} {i} is {type(value).__name__}, not bytes")
        if len(value) != nbytes:
            raise DedupError(f"{what} {i} has {len(value)} bytes, expected {nbytes}")
    if not values:
        return np.empty((0, nbytes), dtype=np.uint8)
    joined = b"".join(bytes(v) for v in values)
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(values), nbytes).copy()


def _as_keys(keys: Sequence[int] | npt.NDArray[Any], count: int | None
             ) -> npt.NDArray[np.int64]:
    try:
        given = np.asarray(keys)
        if given.size and given.dtype.kind not in "iu":
            raise TypeError(given.dtype)
        ids = given.astype(np.int64, casting="safe" if given.dtype.kind == "i" else "unsafe")
        if given.dtype.kind == "u" and given.size and int(given.max()) > np.iinfo(np.int64).max:
            raise OverflowError
    except (OverflowError, TypeError, ValueError):
        raise DedupError("keys must be 64-bit signed integers") from None
    if ids.ndim != 1:
        raise DedupError(f"keys must be one-dimensional, not of shape {ids.shape}")
    if count is not None and len(ids) != count:
        raise DedupError(f"{len(ids)} keys for {count} hashes")
    return ids


def _popcount_table(x: U64) -> npt.NDArray[np.uint8]:
    """Bits set in each uint64, for numpy before 2.0 (no ``bitwise_count``)."""
    table = _POP8[np.ascontiguousarray(x).view(np.uint8)].reshape(-1, 8)
    counts: npt.NDArray[np.uint8] = table.sum(axis=1, dtype=np.uint8)
    return counts


_POP8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


_popcount: Callable[[U64], npt.NDArray[np.uint8]] = getattr(np, "bitwise_count", _popcount_table)
