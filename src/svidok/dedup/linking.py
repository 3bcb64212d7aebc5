"""Comparing each new fingerprint with every one before it, and storing the links.

The runner calls a :class:`Linker` in the transaction that stores a group's fingerprints,
so links and fingerprints are written together or not at all. The image index lives in
memory for one ``svidok enrich`` (32 bytes a hash: 32 MB for a million): it is filled from
the database the first time a group brings an image or frame hash, then grows with each
group. Texts are looked up in the database.

- Images and video frames (PDQ): a hash of quality under 50 is kept but never linked
  (flat images all hash alike). A query is the item's hash and, when the fingerprint
  enricher stored them, its 7 rotations and flips. Distances up to 31 bits are links
  ("duplicate" up to 15, "near-duplicate" above); 32–45 ("maybe") is left to people.
  Two items are linked once per method with their smallest distance.
- Texts (MinHash, LSH at 0.5): a text's candidates are the items sharing one of its 32
  bands, looked up in the indexed ``minhash_bands`` table (so no index of every text is
  held in memory: at a million posts it would take gigabytes), each confirmed by the exact
  Jaccard similarity of the shingles, recomputed from the stored text; distance is
  1 − Jaccard in per mille.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from svidok.db.bulk import chunks, stream_rows
from svidok.db.schema import artifacts, duplicate_links, fingerprints, minhash_bands
from svidok.dedup.hash_index import MATCH_RADIUS, HashIndex, grade
from svidok.dedup.text_similarity import THRESHOLD, band_keys, jaccard, shingles
from svidok.enrich.storing import NewFingerprint, Stored

MIN_QUALITY = 50
IMAGE_ALGORITHMS = ("pdq", "pdq-frame")
VARIANTS = "pdq-variants"  # the 7 other rotations and flips of an image's hash, concatenated
TEXT = "minhash"
TEXT_ROLES = ("text", "ocr-text")
SHINGLE_CACHE = 4096


_TEXTS = select(artifacts.c.content).where(  # built once: see svidok.access.sessions
    artifacts.c.item_id == bindparam("item_id"), artifacts.c.role.in_(TEXT_ROLES)) \
    .order_by(artifacts.c.id)


def text_of(conn: Connection, item_id: int) -> str:
    parts = conn.execute(_TEXTS, {"item_id": item_id}).scalars()
    return "\n\n".join(p for p in parts if p)


class Linker:
    def __init__(self) -> None:
        self.images: HashIndex | None = None
        self.image_items: dict[int, tuple[int, str]] = {}  # fingerprint id -> item, algorithm
        self.shingle_cache: dict[int, frozenset[str]] = {}  # oldest first

    def __call__(self, conn: Connection, stored: Stored) -> int:
        new = stored.fingerprints
        found: dict[tuple[int, int, str], int] = {}
        # An item fingerprinted again (a new version) is compared afresh: its old links go,
        # and those still true come back with their new distances.
        _forget_links(conn, {f.item_id for f in new if f.algorithm in IMAGE_ALGORITHMS},
                      ("pdq", "pdq-frame"))
        _forget_links(conn, {f.item_id for f in new if f.algorithm == TEXT}, (TEXT,))
        if any(f.algorithm in IMAGE_ALGORITHMS for f in new):
            self._link_images(conn, new, found)
        if any(f.algorithm == TEXT for f in new):
            self._link_texts(conn, new, found)
        return _store(conn, found)

    # -- images and frames ------------------------------------------------------------

    def _load_images(self, conn: Connection, skip: set[int]) -> HashIndex:
        index = HashIndex()
        keys, values = [], []
        statement = select(fingerprints.c.id, fingerprints.c.item_id, fingerprints.c.algorithm,
                           fingerprints.c.value).where(
            fingerprints.c.algorithm.in_(IMAGE_ALGORITHMS),
            fingerprints.c.quality >= MIN_QUALITY)
        for rows in stream_rows(conn, statement):
            for fp_id, item_id, algorithm, value in rows:
                if fp_id in skip:
                    continue
                keys.append(fp_id)
                values.append(bytes(value))
                self.image_items[fp_id] = (item_id, algorithm)
        if keys:
            index.add(np.asarray(keys, dtype=np.int64), values)
        return index

    def _link_images(self, conn: Connection, new: list[NewFingerprint],
                     found: dict[tuple[int, int, str], int]) -> None:
        if self.images is None:
            self.images = self._load_images(conn, {f.id for f in new})
        variants = {f.item_id: f.value for f in new if f.algorithm == VARIANTS}
        usable = [f for f in new if f.algorithm in IMAGE_ALGORITHMS
                  and (f.quality or 0) >= MIN_QUALITY]
        # Each item's hashes are added once they have been asked about, so the items of
        # one group are compared with each other too (the later asks, the earlier answers).
        for item_id, mine in _by_item(usable):
            for n, f in enumerate(mine):
                query = [f.value]
                # The rotations and flips are of the primary hash, the item's first.
                extra = variants.get(item_id) if f.algorithm == "pdq" and n == 0 else None
                if extra:
                    query += [extra[i:i + 32] for i in range(0, len(extra), 32)]
                for match in self.images.query(query, radius=MATCH_RADIUS):
                    other, their_algorithm = self.image_items[match.key]
                    if other == item_id:
                        continue
                    method = "pdq" if f.algorithm == their_algorithm == "pdq" else "pdq-frame"
                    _keep(found, item_id, other, method, match.distance)
            self.images.add(np.asarray([f.id for f in mine], dtype=np.int64),
                            [f.value for f in mine])
            for f in mine:
                self.image_items[f.id] = (item_id, f.algorithm)

    # -- texts ------------------------------------------------------------------------

    def _link_texts(self, conn: Connection, new: list[NewFingerprint],
                    found: dict[tuple[int, int, str], int]) -> None:
        texts = [f for f in new if f.algorithm == TEXT]
        mine_ids = sorted({f.item_id for f in texts})
        for part in chunks(mine_ids):  # bands of an earlier version of these fingerprints
            conn.execute(delete(minhash_bands).where(minhash_bands.c.item_id.in_(part)))
        keyed = [(f, keys) for f in texts if (keys := band_keys(f.value))]  # no words: none
        # The group's candidates stored before it, in one query per IN chunk: a query per
        # text was most of linking's time, and on PostgreSQL each is a round trip.
        stored: dict[int, set[int]] = defaultdict(set)
        bands = minhash_bands.c
        for part in chunks(sorted({k for _, keys in keyed for k in keys})):
            for item_id, key in conn.execute(
                    select(bands.item_id, bands.band_key).where(bands.band_key.in_(part))):
                stored[key].add(item_id)
        rows: list[dict[str, int]] = []
        for f, keys in keyed:
            others = set().union(*(stored.get(k, ()) for k in keys))
            others.discard(f.item_id)
            if others:
                mine = self._shingles(conn, f.item_id)
                for other in sorted(others):
                    similarity = jaccard(mine, self._shingles(conn, other))
                    if similarity >= THRESHOLD:
                        _keep(found, f.item_id, other, TEXT, round((1 - similarity) * 1000))
            # Added once asked about, so the texts of one group are compared too.
            for n, key in enumerate(keys):
                stored[key].add(f.item_id)
                rows.append({"item_id": f.item_id, "band": n, "band_key": key})
        for batch in chunks(rows):
            conn.execute(minhash_bands.insert(), batch)

    def _shingles(self, conn: Connection, item_id: int) -> frozenset[str]:
        """An item's shingles from its stored text; the last few thousand are kept, since a
        post reposted forty times is every repost's candidate."""
        found = self.shingle_cache.pop(item_id, None)
        if found is None:
            found = shingles(text_of(conn, item_id))
            if len(self.shingle_cache) >= SHINGLE_CACHE:
                del self.shingle_cache[next(iter(self.shingle_cache))]
        self.shingle_cache[item_id] = found
        return found


def _forget_links(conn: Connection, item_ids: set[int], methods: tuple[str, ...]) -> None:
    links = duplicate_links.c
    for part in chunks(sorted(item_ids)):
        conn.execute(delete(duplicate_links).where(
            links.method.in_(methods), links.item_a.in_(part) | links.item_b.in_(part)))


def _by_item(prints: list[NewFingerprint]) -> list[tuple[int, list[NewFingerprint]]]:
    grouped: dict[int, list[NewFingerprint]] = defaultdict(list)
    for f in prints:
        grouped[f.item_id].append(f)
    return list(grouped.items())


def _keep(found: dict[tuple[int, int, str], int], a: int, b: int, method: str,
          distance: int) -> None:
    key = (min(a, b), max(a, b), method)
    if key not in found or distance < found[key]:
        found[key] = distance


def _grade(method: str, distance: int) -> str:
    if method == TEXT:
        return "duplicate" if distance <= 100 else "near-duplicate"
    return grade(distance)


def _store(conn: Connection, found: dict[tuple[int, int, str], int]) -> int:
    if not found:
        return 0
    now = datetime.now(UTC)
    rows = [{"item_a": a, "item_b": b, "method": m, "distance": d, "grade": _grade(m, d),
             "created_at": now} for (a, b, m), d in sorted(found.items())]
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(duplicate_links).on_conflict_do_nothing(
        index_elements=["item_a", "item_b", "method"])
    conn.execute(statement, rows)
    return len(rows)


def links_of(conn: Connection, item_ids: Iterable[int]) -> dict[int, list[tuple[int, str]]]:
    """For each item, the items it is linked to and how (for showing one item)."""
    wanted = list(item_ids)
    out: dict[int, list[tuple[int, str]]] = defaultdict(list)
    rows = conn.execute(select(duplicate_links.c.item_a, duplicate_links.c.item_b,
                               duplicate_links.c.method).where(
        duplicate_links.c.item_a.in_(wanted) | duplicate_links.c.item_b.in_(wanted)))
    for a, b, method in rows:
        out[a].append((b, method))
        out[b].append((a, method))
    return dict(out)
