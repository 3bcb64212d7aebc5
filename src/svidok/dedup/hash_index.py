"""Exact Hamming range search over perceptual hashes (PDQ: 256 bits), for images and frames.

A query is an image's hash and its 7 dihedral variants, so a scan of every stored hash costs
eight times a single hash's: at a million hashes faiss's ``IndexBinaryFlat`` took 8.7 ms (p95
12.7 ms) for the eight on one thread, about 1.1 ms a hash. Past ``_TAIL_ROWS`` hashes the
index therefore answers by multi-index hashing (Norouzi et al.; upstream PDQ's README-MIH
does the same with 16 slots of 16 bits): the hash is cut into 16-bit slices, and per slice
the rows are kept sorted by that slice's value. Two hashes within ``radius`` bits agree to
within ``radius // 16`` bits on at least one slice (pigeonhole: the slices' distances add up
to the whole distance), so looking up, for each slice, the query's value and every value
that many bits away finds every row within the radius. Those candidates (about 4,000 for one
hash at a million random hashes) are then checked exactly, so the result is *exact*, the
same as a scan's; exactness matters more than speed here: a missed re-upload is a missed
piece of evidence. In numpy this takes about 1 ms for the eight hashes at a million, 0.5 ms
for one. (The research note found faiss's own IndexBinaryMultiHash no faster than its flat
scan for one hash; it is not used.) The tables, with a copy of the hashes row by row, take
96 bytes a hash on top of the 32 of the columns below and faiss's 32.

The flat scan remains for what slices do badly: radii over 47 bits (too many values to look
up), hashes that crowd into a few slice values (real PDQ hashes are clustered: flat images
all hash alike) so the candidates would exceed ``_CANDIDATE_SHARE`` of a scan's work, and
small indexes, where a scan is less work than the tables' fixed cost (``_FAISS_SCAN_WORK``).
faiss scans when installed, on one thread (FAISS_THREADS); without it the same scan runs in
numpy (``np.bitwise_count`` over the hashes stored as contiguous 64-bit columns, a few ms
per query hash), and ``brute_force`` always runs that numpy scan so tests and the benchmark
can hold the index to it.

Storage: rows in insertion order, each with the caller's key (a fingerprints row id, say).
A key may hold several hashes (the frames of a video); results are merged per key, keeping
the smallest distance. faiss row numbers are our row numbers, so no ``IndexBinaryIDMap`` is
needed. The slice tables cover the rows up to when they were built; rows added since (at
most ``_TAIL_ROWS``) are scanned, and the next add past that rebuilds the tables (about
0.3 s per million hashes). ``remove`` marks rows dead (tombstones) and queries filter them;
once more than a quarter of the rows are dead, the next query or add compacts the rows and
rebuilds the faiss index and the tables.

A query is one hash plus, optionally, its dihedral variants (rotations and flips, which PDQ
computes almost for free): only the primary hash is indexed, and a picture that was rotated
before reposting is found through the variant that undoes the rotation. ``HashMatch.variant``
says which one matched.

Distances are graded by upstream PDQ's confident-match threshold (31), split and extended as
the project's research note proposes (media-matching.md): 0–15 duplicate, 16–31
near-duplicate, 32–45 "maybe" (a person or a finer check decides; never linked
automatically). Hashes with a
PDQ quality under ``MIN_QUALITY`` are kept but must not be linked automatically: the caller
knows the quality, the index does not.
"""

from __future__ import annotations

import functools
import itertools
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
# Multi-index hashing: 16-bit slices, each looked up within _MAX_FLIPS bits (radius 47 at
# 256 bits); rows added since the tables were built are scanned until there are more than
# _TAIL_ROWS of them; and a query whose candidates would exceed 1/_CANDIDATE_SHARE of the
# rows times its hashes scans instead (checking a candidate costs several times what
# scanning a row does).
_SLICE_BITS = 16
_MAX_FLIPS = 2
_TAIL_ROWS = 16_384
_CANDIDATE_SHARE = 16
# A query scans when that is little work: rows times query hashes up to this many. faiss
# scans about a million rows a millisecond on one thread, numpy about a fifth of that; the
# tables cost about 0.15 ms however small the index.
_FAISS_SCAN_WORK = 1 << 19
_NUMPY_SCAN_WORK = 1 << 17

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
        self._multi: _MultiIndex | None = None

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
            if self._size > _TAIL_ROWS and (
                    self._multi is None or self._size - self._multi.size > _TAIL_ROWS):
                self._multi = _MultiIndex(self._cols, self._size)

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
            found = self._sliced(queries, radius)
            if found is not None:
                return self._merge(*found, limit)
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

    def _sliced(self, queries: npt.NDArray[np.uint8], radius: int
                ) -> tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]] | None:
        """``_scan``'s answer by the slice tables and a scan of the rows added since they
        were built; None when the tables cannot answer it well (see _CANDIDATE_SHARE)."""
        work = _NUMPY_SCAN_WORK if self._flat is None else _FAISS_SCAN_WORK
        if self._size <= _TAIL_ROWS or self._size * len(queries) <= work:
            return None
        multi = self._multi
        if multi is None:
            multi = self._multi = _MultiIndex(self._cols, self._size)
        flips = radius // multi.tables
        if flips > _MAX_FLIPS:
            return None
        budget = self._size * len(queries) // _CANDIDATE_SHARE
        found = multi.candidates(queries, flips, budget)
        if found is None:
            return None
        rows, variant = found
        codes = np.take(multi.codes, rows, axis=0)                 # (candidates, words)
        counts = np.bincount(variant, minlength=len(queries))
        np.bitwise_xor(codes, np.repeat(queries.view(np.uint64), counts, axis=0), out=codes)
        bits = _popcount(codes.ravel()).reshape(codes.shape)
        dist = bits[:, 0].astype(np.uint16)
        for w in range(1, self._words):
            dist += bits[:, w]
        near = np.flatnonzero(dist <= radius)
        rows, dist, variant = rows[near], dist[near], variant[near]
        if multi.size < self._size:
            more_rows, more_dist, more_variant = self._scan(queries, radius, start=multi.size)
            rows = np.concatenate((rows, more_rows))
            dist = np.concatenate((dist, more_dist))
            variant = np.concatenate((variant, more_variant))
        return rows, dist, variant

    def _scan(self, queries: npt.NDArray[np.uint8], radius: int, start: int = 0
              ) -> tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]:
        """Rows from ``start`` on within ``radius`` of any query, with their smallest
        distance and its variant.

        Chunked so each row's columns are read from memory once for all the variants.
        """
        words = queries.view(np.uint64)
        size = self._size
        best = np.empty(size - start, dtype=np.uint16)
        dist = np.empty(_CHUNK, dtype=np.uint16)
        xor = np.empty(_CHUNK, dtype=np.uint64)
        for first in range(start, size, _CHUNK):
            end = min(size, first + _CHUNK)
            n = end - first
            out = best[first - start:end - start]
            out.fill(np.iinfo(np.uint16).max)
            for q in words:
                d = dist[:n]
                d.fill(0)
                for w in range(self._words):
                    np.bitwise_xor(self._cols[w, first:end], q[w], out=xor[:n])
                    d += _popcount(xor[:n])
                np.minimum(out, d, out=out)
        rows = np.flatnonzero(best <= radius)
        dists = best[rows]
        rows += start
        # Which variant: recomputed for the few rows found, cheaper than tracking it above.
        per_variant = np.zeros((len(words), len(rows)), dtype=np.uint16)
        for v, q in enumerate(words):
            for w in range(self._words):
                per_variant[v] += _popcount(self._cols[w, rows] ^ q[w])
        return rows, dists, np.argmin(per_variant, axis=0)

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
        self._multi = None
        self._flat = self._new_flat()
        if self._flat is not None and len(keep):
            rows = np.ascontiguousarray(self._cols.T).view(np.uint8)
            self._flat.add(rows)

    def _new_flat(self) -> Any:
        return None if self._faiss is None else self._faiss.IndexBinaryFlat(self._bits)


class _MultiIndex:
    """The rows ``[0, size)`` of a HashIndex by 16-bit slice: per slice (table), the row
    numbers sorted by the slice's value, and where each value's rows begin.

    It also keeps the rows' hashes row by row: a candidate's 32 bytes are then one read from
    memory, where the index's columns take four (the candidates are scattered, so each read
    misses the cache; this made checking them three times faster). With the tables that is
    96 bytes a hash, on top of the index's 32 (and faiss's 32)."""

    def __init__(self, cols: U64, size: int) -> None:
        self.size = size
        self.codes: U64 = np.ascontiguousarray(cols[:, :size].T)
        self.tables = cols.shape[0] * (64 // _SLICE_BITS)
        values = 1 << _SLICE_BITS
        self.order = np.empty((self.tables, size), dtype=np.int32 if size < 2**31 else np.int64)
        self.starts = np.zeros((self.tables, values + 1), dtype=np.int64)
        for table, column in enumerate(_slices(cols[:, :size])):
            self.order[table] = np.argsort(column, kind="stable")
            np.cumsum(np.bincount(column, minlength=values), out=self.starts[table, 1:])

    def candidates(self, queries: npt.NDArray[np.uint8], flips: int, budget: int
                   ) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]] | None:
        """Rows sharing a slice with a query to within ``flips`` bits, and that query's
        number; a row may come more than once. None if there would be over ``budget``."""
        masks = _masks(flips)
        wanted = _slices(np.ascontiguousarray(queries.view(np.uint64).T))  # (tables, queries)
        stride = self.starts.shape[1]
        keys = (wanted.T[:, :, None] ^ masks).astype(np.int64)           # (queries, tables, masks)
        keys += (np.arange(self.tables, dtype=np.int64) * stride)[:, None]
        keys = keys.ravel()
        starts = self.starts.ravel()
        first = np.take(starts, keys)
        lengths = np.take(starts, keys + 1) - first
        ends = np.cumsum(lengths)
        total = int(ends[-1])
        if total > budget:
            return None
        # Where each looked-up run lies in the flattened tables, then every row of every run.
        first += np.tile(np.repeat(np.arange(self.tables, dtype=np.int64) * self.size,
                                   len(masks)), len(queries))
        spots = np.arange(total, dtype=np.int64) + np.repeat(first - (ends - lengths), lengths)
        rows = np.take(self.order.ravel(), spots)
        per_query = lengths.reshape(len(queries), -1).sum(axis=1)
        return rows, np.repeat(np.arange(len(queries), dtype=np.int64), per_query)


def _slices(cols: U64) -> npt.NDArray[np.uint16]:
    """(words, n) 64-bit columns as (4 * words, n) 16-bit slices."""
    out = np.empty((cols.shape[0] * 4, cols.shape[1]), dtype=np.uint16)
    for w in range(cols.shape[0]):
        for part in range(4):
            out[4 * w + part] = (cols[w] >> np.uint64(_SLICE_BITS * part)).astype(np.uint16)
    return out


@functools.cache
def _masks(flips: int) -> npt.NDArray[np.uint16]:
    """Every 16-bit mask of at most ``flips`` set bits, 0 first."""
    found = [0]
    for bits in range(1, flips + 1):
        found += [sum(1 << b for b in chosen)
                  for chosen in itertools.combinations(range(_SLICE_BITS), bits)]
    return np.array(found, dtype=np.uint16)


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
