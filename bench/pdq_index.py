"""PDQ index benchmark: range queries against a million hashes, faiss against numpy.

    .venv/bin/python bench/pdq_index.py [--hashes 1000000] [--queries 1000] [--quick]

Data: ``--hashes`` random 256-bit hashes (unrelated PDQ hashes are about 128 bits apart,
like random ones) plus one planted near-duplicate per query, at a random distance from 0 to
31 from one of the query's 8 variants (stand-ins for the 8 rotations and flips PDQ gives).

Cases, each query timed alone (a lookup at ingest is one item at a time):

    (8 variants)  the query hash and its 7 dihedral variants in one ``HashIndex.query``
    (1 hash)      the single variant the planted copy is near

Each case runs on a faiss index (IndexBinaryFlat, one thread unless ``--threads``; see
FAISS_THREADS in svidok/dedup/hash_index.py for why) and on the numpy scan
(``HashIndex.brute_force``, the fallback without faiss), alternating per query so a busy
machine slows both alike; the ratio is numpy's time over faiss's. Every faiss result list
must equal the numpy one exactly (same keys, distances and variants) and contain the planted
copy: "exact: yes". Target: p95 under 5 ms per query at 1 million hashes.

A last line gives MinHash throughput: text signatures per second on 1 KB posts, with
datasketch's MinHash (128 permutations, same shingles) as the yardstick.

Figures go to the terminal and, with ``--json PATH``, to a file.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from svidok.dedup.hash_index import FAISS_THREADS, MATCH_RADIUS, HashIndex
from svidok.dedup.text_similarity import minhash, shingles

TARGET_MS = 5.0
Codes = npt.NDArray[np.uint8]


def flip(code: Codes, bits: int, rng: np.random.Generator) -> Codes:
    unpacked = np.unpackbits(code)
    unpacked[rng.choice(256, size=bits, replace=False)] ^= 1
    return np.packbits(unpacked)


def percentile(values: list[float], p: float) -> float:
    return float(np.percentile(np.array(values), p))


def bench_index(n: int, queries: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    variants = rng.integers(0, 256, (queries, 8, 32), dtype=np.uint8)
    near = rng.integers(0, 8, queries)
    distance = rng.integers(0, MATCH_RADIUS + 1, queries)
    planted = np.stack([flip(variants[i, near[i]], int(distance[i]), rng)
                        for i in range(queries)])

    indexes = {}
    build_s = {}
    for name, use_faiss in (("faiss", True), ("numpy", False)):
        start = time.perf_counter()
        index = HashIndex(use_faiss=use_faiss)
        index.add(np.arange(n), base)
        index.add(np.arange(n, n + queries), planted)
        build_s[name] = time.perf_counter() - start
        indexes[name] = index
    faiss_index, numpy_index = indexes["faiss"], indexes["numpy"]

    results: dict[str, Any] = {"build_s": build_s}
    exact = True
    for case in ("8 variants", "1 hash"):
        times: dict[str, list[float]] = {"faiss": [], "numpy": []}
        found = 0
        for i in range(queries):
            q = variants[i] if case == "8 variants" else variants[i, near[i]:near[i] + 1]
            hashes = [h.tobytes() for h in q]
            start = time.perf_counter()
            got = faiss_index.query(hashes)
            times["faiss"].append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            want = numpy_index.brute_force(hashes)
            times["numpy"].append((time.perf_counter() - start) * 1000)
            exact &= got == want
            found += any(m.key == n + i and m.distance <= distance[i] for m in got)
        results[case] = {
            "faiss_p50_ms": percentile(times["faiss"], 50),
            "faiss_p95_ms": percentile(times["faiss"], 95),
            "numpy_p50_ms": percentile(times["numpy"], 50),
            "numpy_p95_ms": percentile(times["numpy"], 95),
            "ratio_p50": statistics.median(times["numpy"]) / statistics.median(times["faiss"]),
            "planted_found": found / queries,
        }
    results["exact"] = exact
    return results


def bench_minhash(texts: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    vocabulary = [f"слово{i}" for i in range(20_000)] + [f"word{i}" for i in range(20_000)]
    posts = []
    for _ in range(texts):
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < 1024:
            words.append(rng.choice(vocabulary))
        posts.append(" ".join(words)[:1024])
    start = time.perf_counter()
    for post in posts:
        minhash(shingles(post))
    ours = texts / (time.perf_counter() - start)
    figures = {"signatures_per_s": ours}
    try:
        from datasketch import MinHash
    except ImportError:
        return figures
    start = time.perf_counter()
    for post in posts:
        m = MinHash(num_perm=128)
        m.update_batch([s.encode() for s in shingles(post)])
    figures["datasketch_per_s"] = texts / (time.perf_counter() - start)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=20240905)
    parser.add_argument("--quick", action="store_true", help="100,000 hashes, 100 queries")
    parser.add_argument("--threads", type=int, help="faiss threads instead of FAISS_THREADS")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    HashIndex(use_faiss=True)       # loads faiss and sets FAISS_THREADS...
    if args.threads:                # ...which this overrides for the whole process
        import faiss
        faiss.omp_set_num_threads(args.threads)
    if args.quick:
        args.hashes, args.queries = 100_000, 100

    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"numpy {np.__version__}; {args.hashes:,} hashes, {args.queries:,} queries, "
          f"radius {MATCH_RADIUS}, faiss threads {args.threads or FAISS_THREADS}")
    index = bench_index(args.hashes, args.queries, args.seed)
    build = index["build_s"]
    print(f"build: faiss {build['faiss']:.2f} s, numpy {build['numpy']:.2f} s")
    print(f"{'case':<12} {'faiss p50':>10} {'faiss p95':>10} {'numpy p50':>10} "
          f"{'numpy p95':>10} {'ratio':>7} {'planted':>8}")
    for case in ("8 variants", "1 hash"):
        r = index[case]
        print(f"{case:<12} {r['faiss_p50_ms']:>8.2f}ms {r['faiss_p95_ms']:>8.2f}ms "
              f"{r['numpy_p50_ms']:>8.2f}ms {r['numpy_p95_ms']:>8.2f}ms "
              f"{r['ratio_p50']:>6.1f}× {r['planted_found']:>8.3f}")
    print(f"exact: {'yes' if index['exact'] else 'NO'}")
    for case in ("8 variants", "1 hash"):
        print(f"PDQ query ({case}), {args.hashes / 1e6:g}M hashes: "
              f"p95 {index[case]['faiss_p95_ms']:.2f} ms (target {TARGET_MS:g})")

    texts = bench_minhash(200 if args.quick else 2_000, args.seed)
    line = f"MinHash, 1 KB texts: {texts['signatures_per_s']:,.0f} signatures/s"
    if "datasketch_per_s" in texts:
        line += f" (datasketch on the same shingles: {texts['datasketch_per_s']:,.0f}/s)"
    print(line)

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)},
                                         "index": index, "minhash": texts},
                                        indent=2, default=str))
    return 0 if index["exact"] else 1


if __name__ == "__main__":
    sys.exit(main())
