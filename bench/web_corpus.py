"""The data folder bench/web_app.py serves: N items as an enriched archive holds them.

    .venv/bin/python bench/web_corpus.py [--items N]     # build it (bench/web_app.py does too)

A real data folder: ``svidok init`` makes it (settings, keys, every migration), then the
rows go in with SQLAlchemy Core (svidok.db.bulk), 10,000 items a transaction, shaped as
``svidok ingest`` and ``svidok enrich`` leave them (checked against the demo corpus):

* Sources of 2,000 items each. Nine in ten are Telegram exports: the export's
  ``result.json`` (an original), its chat, then messages; one message in eight has a
  photo or (one in five of those) a video as a child item, an original of its own. The
  tenth is a folder handed over: photos, PDFs, and e-mails (the ``.eml`` original and the
  message read out of it).
* Texts are the search benchmark's (bench/search.py): 40-80 words in uk, ru or en with Zipf
  frequencies, place names in their inflected forms, and a date written out in three in ten.
* Enrichment as its enrichers store it: nine runs per item, a "text" artifact with the
  text, suggestions with offsets into it (language, places with their gazetteer data,
  dates, names, violation types of the real taxonomy), fingerprints (MinHash of texts, PDQ
  of photos, one per keyframe of videos), metadata and thumbnails of media, keyframes of
  videos; duplicate links between one text in 25 and an earlier one, one photo in 30 and
  an earlier one; the search index (svidok.search.index_documents) of every item.
* The custody log (svidok.custody.events.append, so its tiles and head are right): a
  capture of each item's original or record, a derive of each artifact, a metadata event
  for each item enriched; about 3.3 million events at a million items.
* Originals, thumbnails and keyframes are real files in the blob store, named by their
  SHA-256, each its own: a photo is one of a few small JPEGs with bytes of its own after
  the end-of-image marker (browsers ignore them), a video the demo's three-second MP4
  likewise, so previews load.

Not there: sightings beyond one in a hundred media items, versions of edited messages,
MinHash bands, verification decisions; capture contexts are made-up digests, so
``svidok verify`` would find them wrong. No ANALYZE is run: ``svidok`` never runs it, so
the planner works without statistics, as on a real folder.

The folder is kept under ``bench/out/web/`` and reused while its name matches (item
count, LAYOUT below, schema revision); ``manifest.json`` is written last, so a build that
was interrupted is started again from scratch.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
import search as search_bench  # the texts of the search benchmark
from svidok.custody.events import Actor, CustodyEvent, append
from svidok.db import connect
from svidok.db.bulk import bulk_insert_typed
from svidok.db.engine import SCHEMA_REVISION
from svidok.db.schema import (
    artifacts,
    batches,
    duplicate_links,
    enrichments,
    fingerprints,
    imports,
    item_annotations,
    items,
    originals,
    sightings,
)
from svidok.search import SearchDocument, index_documents
from svidok.search.documents import word_lemmas

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = BENCH / "out" / "web"
EXAMPLE_VIDEO = (REPO / "examples" / "sample-evidence" / "telegram-export" / "video_files"
                 / "video_1@25-06-2024_07-55-00.mp4")
LAYOUT = 2  # bump when what is built changes, so a kept folder is built again
SEED = 20241206
CHUNK = 10_000  # items a transaction
SOURCE_ITEMS = 2_000  # items an export or a handed-over folder holds
FOLDER_EVERY = 10  # source s is a folder when s % FOLDER_EVERY == 2 (one at 5,000 items)
MEDIA_SHARE = 0.125  # messages with a photo or video
VIDEO_SHARE = 0.2  # of those
TEXT_LINK_SHARE = 0.04  # texts linked as near-duplicates of an earlier one
PHOTO_LINK_SHARE = 1 / 30
SIGHTING_SHARE = 0.01  # media items seen again (forwarded)
BUILT_AT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
ENRICHED_AFTER = timedelta(days=1)
VERSION = "0.1.0"
INGEST = Actor("svidok.locker.ingest", VERSION)
HOST = "bench"

# Enrichers, their versions as stored, and the runs of each kind of item.
ENRICHERS = (("text", "1"), ("ocr", "1+tesseract-5.3.0"), ("language", "1+lingua-2.1.1"),
             ("places", "places-2+8c1947cfb3ed"), ("dates", "1"),
             ("names", "3+organisations.2025.2+natasha"), ("violations", "2025.2+match.1"),
             ("media", "1"), ("fingerprints", "1+d75ab08b057f"))
DONE_FOR = {
    "text": {"text", "language", "places", "dates", "names", "violations", "fingerprints"},
    "photo": {"ocr", "media", "fingerprints"},
    "video": {"media", "fingerprints"},
    "other": set(),
}
# The search benchmark's violation names, as ids of the real taxonomy.
VIOLATION_IDS = {"forced-conscription": "compelled_service",
                 "detention": "arbitrary_detention",
                 "deportation": "deportation_forcible_transfer",
                 "passport-confiscation": "document_confiscation",
                 "disappearance": "enforced_disappearance"}
# Words of the texts that name an organisation, as the names enricher finds them.
ORGANISATIONS = {"військкомат": "military_commissariat", "військкомату": "military_commissariat",
                 "военкомат": "military_commissariat", "военкомата": "military_commissariat"}
CHANNELS = ("Новини Донбасу", "Макеевка сейчас", "Маріуполь зараз", "Херсон Live",
            "Луганск 24", "Melitopol Today", "Запоріжжя онлайн", "Донецк оперативно",
            "Kherson Resistance", "Оккупированный Мариуполь")


def folder_for(count: int) -> Path:
    return OUT / f"web-{count}-v{LAYOUT}-s{SCHEMA_REVISION}"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _jpeg(seed: int, size: tuple[int, int]) -> bytes:
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    picture = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), 120))
    draw = ImageDraw.Draw(picture)
    for _ in range(12):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.rectangle((x, y, x + rng.randrange(10, 80), y + rng.randrange(10, 60)),
                       fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=70)
    return buffer.getvalue()


@dataclass
class Rows:
    """One transaction's rows, table by table, in the order of each table's columns."""

    items: list[tuple[Any, ...]] = field(default_factory=list)
    originals: list[tuple[Any, ...]] = field(default_factory=list)
    batches: list[tuple[Any, ...]] = field(default_factory=list)
    imports: list[tuple[Any, ...]] = field(default_factory=list)
    enrichments: list[tuple[Any, ...]] = field(default_factory=list)
    artifacts: list[tuple[Any, ...]] = field(default_factory=list)
    annotations: list[tuple[Any, ...]] = field(default_factory=list)
    fingerprints: list[tuple[Any, ...]] = field(default_factory=list)
    links: list[tuple[Any, ...]] = field(default_factory=list)
    sightings: list[tuple[Any, ...]] = field(default_factory=list)
    documents: list[SearchDocument] = field(default_factory=list)
    events: list[CustodyEvent] = field(default_factory=list)  # captures, in item order
    # Enrichment's events, made at the flush: they name the item's subject (its original
    # or record), which a message has only once its record is written.
    later: list[Callable[[], CustodyEvent]] = field(default_factory=list)


ITEM_COLUMNS = ("id", "batch_id", "state", "kind", "parent_id", "sha256", "media_type", "size",
                "original_name", "root", "rel_path", "rel_path_bytes", "mtime_ns",
                "collector", "captured_at", "host", "svidok_version", "updated_at",
                "locator", "source_key", "version_key", "record", "record_sha256",
                "importer", "occurred_at")
TABLES: tuple[tuple[str, Table, tuple[str, ...]], ...] = (
    ("batches", batches, ("id", "state", "roots", "collector", "note", "host",
                          "svidok_version", "started_at", "finished_at", "unchanged")),
    ("originals", originals, ("sha256", "size", "media_type", "stored_at")),
    ("items", items, ITEM_COLUMNS),
    ("imports", imports, ("batch_id", "item_id", "root", "rel_path", "rel_path_bytes",
                          "importer", "state", "options", "items", "versions", "sightings",
                          "problems", "started_at", "finished_at")),
    ("sightings", sightings, ("item_id", "batch_id", "original_name", "root", "rel_path",
                              "rel_path_bytes", "size", "collector", "seen_at", "host",
                              "svidok_version", "parent_id")),
    ("enrichments", enrichments, ("item_id", "enricher", "version", "key", "state",
                                  "finished_at")),
    ("artifacts", artifacts, ("item_id", "enricher", "version", "role", "sha256",
                              "media_type", "size", "position_ms", "content", "created_at")),
    ("annotations", item_annotations, ("item_id", "enricher", "version", "kind", "value",
                                       "start", "end", "confidence", "data", "state")),
    ("fingerprints", fingerprints, ("item_id", "enricher", "version", "algorithm", "value",
                                    "quality", "position_ms")),
    ("links", duplicate_links, ("item_a", "item_b", "method", "distance", "grade",
                                "created_at")),
)


class Builder:
    def __init__(self, home: Path, count: int) -> None:
        from svidok.enrich.places import place
        from svidok.enrich.violations import taxonomy

        self.home = home
        self.count = count
        self.rng = random.Random(SEED)
        self.corpus = search_bench.Corpus()
        self.next_id = 1
        self.rows = Rows()
        self.blob_dir = home / "blobs" / "sha256"
        self.blob_count = 0
        self.blob_bytes = 0
        self.photos = [_jpeg(n, (240, 180)) for n in range(6)]
        self.video = EXAMPLE_VIDEO.read_bytes()
        self.thumbnails = [_jpeg(100 + n, (160, 120)) for n in range(4)]
        self.keyframes = [_jpeg(200 + n, (160, 90)) for n in range(8)]
        self.recent_texts: list[int] = []
        self.recent_photos: list[int] = []
        self.linked: set[tuple[int, int, str]] = set()
        self.places = {gid: place(gid) for gid in search_bench.PLACES}
        self.categories = {c.id: c for c in taxonomy()}
        self.counts: dict[str, int] = {}
        self.subjects: dict[int, str] = {}  # this chunk's items: what their events name

    # -- blobs and ids --------------------------------------------------------------

    def blob(self, data: bytes) -> tuple[str, int]:
        digest = sha(data)
        path = self.blob_dir / digest[:2] / digest
        if not path.exists():
            path.write_bytes(data)
            path.chmod(0o444)
            self.blob_count += 1
            self.blob_bytes += len(data)
        return digest, len(data)

    def take_id(self) -> int:
        item_id = self.next_id
        self.next_id += 1
        return item_id

    @property
    def full(self) -> bool:
        return self.next_id > self.count

    # -- rows of one item -----------------------------------------------------------

    def item(self, item_id: int, batch: int, kind: str, root: str, rel: str, name: str, *,
             parent: int | None = None, digest: str | None = None,
             media_type: str | None = None, size: int | None = None,
             locator: str | None = None, source_key: str | None = None,
             record: str | None = None, importer: str | None = None,
             occurred: datetime | None = None, at: datetime) -> None:
        rel_bytes = rel.encode() if locator is None else \
            rel.encode() + b"\0" + locator.encode()
        rel_text = rel if locator is None else f"{rel}#{locator}"
        record_sha = sha(record.encode()) if record is not None else None
        self.rows.items.append((
            item_id, batch, "stored", kind, parent, digest, media_type, size, name, root,
            rel_text, rel_bytes, None if locator else int(at.timestamp()) * 10**9,
            "bench collector", at, HOST, VERSION, at, locator, source_key,
            record_sha, record, record_sha, importer, occurred))
        if digest is not None:
            self.rows.originals.append((digest, size, media_type, at))
        subject = digest or record_sha
        assert subject is not None
        self.rows.events.append(CustodyEvent(
            "capture", INGEST, at, subject, purpose="intake",
            context=sha(b"context %d" % item_id),
            details={"item": item_id, "size": size, "batch": batch}))
        self.subjects[item_id] = subject

    def derived(self, item_id: int, enricher: str, role: str, digest: str, media_type: str,
                at: datetime, position_ms: int | None = None) -> None:
        details: dict[str, str | int | bool | None] = {
            "enricher": enricher, "enricher_version": "1", "role": role,
            "media_type": media_type}
        if position_ms is not None:
            details["position_ms"] = position_ms
        self.rows.later.append(lambda: CustodyEvent(
            "derive", Actor(f"svidok.enrich.{enricher}"), at + ENRICHED_AFTER, digest,
            previous=self.subjects[item_id], details=details))

    def runs(self, item_id: int, what: str, at: datetime) -> None:
        done = DONE_FOR[what]
        for enricher, version in ENRICHERS:
            key = sha(f"{item_id}:{enricher}:{version}".encode())
            self.rows.enrichments.append((item_id, enricher, version, key,
                                          "done" if enricher in done else "skipped",
                                          at + ENRICHED_AFTER))
        if done:
            details: dict[str, str | int | bool | None] = {
                "enrichers": ",".join(e for e, _ in ENRICHERS if e in done)}
            for enricher, version in ENRICHERS:
                if enricher in done:
                    details[f"{enricher}.version"] = version
                    details[f"{enricher}.found"] = 1
                    details[f"{enricher}.digest"] = sha(f"{item_id} {enricher}".encode())
            self.rows.later.append(lambda: CustodyEvent(
                "metadata", Actor("svidok.enrich"), at + ENRICHED_AFTER,
                self.subjects[item_id], details=details))

    def text_item(self, item_id: int, at: datetime) -> tuple[str, SearchDocument]:
        """The item's text, its enrichment, and its search document (kind and source
        left for the caller)."""
        doc = self.corpus.document(item_id)
        body = doc.text
        rows = self.rows
        language = doc.language or "en"
        notes: list[tuple[Any, ...]] = [
            (item_id, "language", ENRICHERS[2][1], "language", language, None, None, 1000,
             None, "suggested")]
        for gid in doc.places:
            spellings = sorted(search_bench.PLACES[gid][language], key=len, reverse=True)
            for spelling in spellings:
                start = body.find(spelling)
                if start >= 0:
                    break
            found = self.places[gid]
            assert found is not None
            data = {"alternatives": 1, "country": found.country, "how": "alias",
                    "latitude": found.latitude, "longitude": found.longitude,
                    "name": found.name, "oblast": found.oblast, "text": spelling}
            notes.append((item_id, "places", ENRICHERS[3][1], "place", str(gid), start,
                          start + len(spelling), 855, json.dumps(data, ensure_ascii=False,
                                                                  sort_keys=True),
                          "suggested"))
        for first, last in doc.dates:
            assert first is not None and last is not None
            written = f"{first.day:02d}.{first.month:02d}.{first.year}"
            start = len(body) + 1
            body = f"{body} {written}."
            data = {"anchor": first.isoformat(), "anchor_from": "occurred", "how": "rule",
                    "precision": "day" if first == last else "range", "text": written}
            notes.append((item_id, "dates", ENRICHERS[4][1], "date",
                          f"{first.isoformat()}/{last.isoformat()}", start,
                          start + len(written), 900, json.dumps(data, sort_keys=True),
                          "suggested"))
        names = []
        for word, org in ORGANISATIONS.items():
            start = body.find(f" {word} ")
            if start >= 0:
                names.append(word)
                data = {"how": "list", "kind": "organisation", "text": word}
                notes.append((item_id, "names", ENRICHERS[5][1], "name", org, start + 1,
                              start + 1 + len(word), 800,
                              json.dumps(data, ensure_ascii=False, sort_keys=True),
                              "suggested"))
                break
        violations = tuple(VIOLATION_IDS[v] for v in doc.violations)
        for category_id in violations:
            category = self.categories[category_id]
            word = self.rng.choice(search_bench.TOPICAL[language])
            start = body.find(f" {word} ")
            words = [[start + 1, start + 1 + len(word), word]] if start >= 0 else []
            data = {"group": category.group, "label": category.labels["en"],
                    "legal_basis": list(category.legal_basis), "words": words}
            notes.append((item_id, "violations", ENRICHERS[6][1], "violation", category_id,
                          words[0][0] if words else None, words[0][1] if words else None,
                          450 + self.rng.randrange(400),
                          json.dumps(data, ensure_ascii=False, sort_keys=True),
                          "suggested"))
        rows.annotations.extend(notes)
        encoded = body.encode()
        text_sha = sha(encoded)
        rows.artifacts.append((item_id, "text", "1", "text", text_sha,
                               "text/plain; charset=utf-8", len(encoded), None, body,
                               at + ENRICHED_AFTER))
        self.derived(item_id, "text", "text", text_sha, "text/plain; charset=utf-8", at)
        rows.fingerprints.append((item_id, "fingerprints", ENRICHERS[8][1], "minhash",
                                  self.rng.randbytes(512), None, None))
        self.runs(item_id, "text", at)
        # A repost of an earlier text, found by MinHash.
        if self.recent_texts and self.rng.random() < TEXT_LINK_SHARE:
            self.link(self.rng.choice(self.recent_texts), item_id, "minhash",
                      self.rng.choice((0, 0, 12, 40, 95, 160, 230)), at)
        self.recent_texts.append(item_id)
        if len(self.recent_texts) > 50_000:
            del self.recent_texts[:10_000]
        return body, SearchDocument(
            item_id=item_id, title=None, text=body, names=tuple(names), places=doc.places,
            place_names=doc.place_names, language=doc.language, kind="message",
            media_type=None, source_id=None, channel=None, occurred_at=doc.occurred_at,
            dates=doc.dates, violations=violations)

    def link(self, a: int, b: int, method: str, distance: int, at: datetime) -> None:
        from svidok.dedup.hash_index import grade

        key = (min(a, b), max(a, b), method)
        if a == b or key in self.linked:
            return
        self.linked.add(key)
        graded = ("duplicate" if distance <= 100 else "near-duplicate") \
            if method == "minhash" else grade(distance)
        self.rows.links.append((*key, distance, graded, at))

    def media(self, item_id: int, video: bool, at: datetime) -> tuple[str, int, str]:
        """A photo or video original with its enrichment; (sha256, size, media type)."""
        rows = self.rows
        # Bytes of its own after the picture or film, so each file is an original.
        suffix = b"svidok-bench-web %d" % item_id
        taken = (at - timedelta(seconds=self.rng.randrange(10**7))).isoformat()
        if video:
            digest, size = self.blob(self.video + suffix)
            meta: dict[str, Any] = {
                "bit_rate": 39237, "container": "mov,mp4,m4a,3gp,3g2,mj2",
                "duration_ms": 3000, "height": 360, "width": 480, "video_codec": "h264",
                "created_at": taken}
        else:
            digest, size = self.blob(self.rng.choice(self.photos) + suffix)
            meta = {"device": {"make": None, "model": None, "software": None}, "exif": {},
                    "exif_error": None, "format": "JPEG", "gps": None, "height": 180,
                    "orientation": None, "taken_at": taken, "width": 240}
        done = at + ENRICHED_AFTER
        encoded = json.dumps(meta, sort_keys=True).encode()
        rows.artifacts.append((item_id, "media", "1", "metadata", sha(encoded),
                               "application/json", len(encoded), None, encoded.decode(),
                               done))
        self.derived(item_id, "media", "metadata", sha(encoded), "application/json", at)
        thumb, thumb_size = self.blob(self.rng.choice(self.thumbnails) + suffix)
        rows.artifacts.append((item_id, "media", "1", "thumbnail", thumb, "image/jpeg",
                               thumb_size, None, None, done))
        self.derived(item_id, "media", "thumbnail", thumb, "image/jpeg", at)
        if video:
            for n in range(self.rng.randint(3, 8)):
                frame, frame_size = self.blob(self.keyframes[n] + suffix)
                rows.artifacts.append((item_id, "media", "1", "keyframe", frame,
                                       "image/jpeg", frame_size, n * 1000, None, done))
                self.derived(item_id, "media", "keyframe", frame, "image/jpeg", at,
                             n * 1000)
                rows.fingerprints.append((item_id, "fingerprints", ENRICHERS[8][1],
                                          "pdq-frame", self.rng.randbytes(32), 100,
                                          n * 1000))
        else:
            rows.fingerprints.append((item_id, "fingerprints", ENRICHERS[8][1], "pdq",
                                      self.rng.randbytes(32), 60 + self.rng.randrange(40),
                                      None))
            rows.fingerprints.append((item_id, "fingerprints", ENRICHERS[8][1],
                                      "pdq-variants", self.rng.randbytes(224), None, None))
            rows.annotations.append((item_id, "ocr", ENRICHERS[1][1], "ocr", "", None, None,
                                     0, '{"first_pass_language": null, "kept": false, '
                                     '"letters": 0, "pages": 1}', "suggested"))
            if self.recent_photos and self.rng.random() < PHOTO_LINK_SHARE:
                self.link(self.rng.choice(self.recent_photos), item_id, "pdq",
                          self.rng.randrange(32), at)
            self.recent_photos.append(item_id)
            if len(self.recent_photos) > 20_000:
                del self.recent_photos[:5_000]
        self.runs(item_id, "video" if video else "photo", at)
        return digest, size, "video/mp4" if video else "image/jpeg"

    # -- sources --------------------------------------------------------------------

    def telegram(self, s: int, at: datetime) -> None:
        rows = self.rows
        batch = s + 1
        root = f"/evidence/handover-{s:04d}/ChatExport_{s:04d}"
        chat = 1_000_000 + s
        channel = f"{CHANNELS[s % len(CHANNELS)]} {s}"
        rows.batches.append((batch, "finished", json.dumps([root]), "bench collector",
                             f"export {s} of the web benchmark", HOST, VERSION, at,
                             at + timedelta(minutes=5), 0))
        container = self.take_id()
        export = json.dumps({"name": channel, "id": chat, "bench": s}).encode()
        digest, size = self.blob(export)
        self.item(container, batch, "file", root, "result.json", "result.json",
                  digest=digest, media_type="application/json", size=size,
                  importer="telegram/1", at=at)
        self.runs(container, "other", at)
        self.index(container, "file", "result.json", "", "application/json", None, None,
                   None)
        chat_id = self.take_id()
        record = json.dumps({"id": chat, "kind": "chat", "locator": f"chat {chat}",
                             "name": channel, "type": "public_channel"},
                            ensure_ascii=False, sort_keys=True)
        self.item(chat_id, batch, "chat", root, "result.json", channel, parent=container,
                  locator=f"chat {chat}", source_key=f"telegram:{chat}", record=record,
                  importer="telegram/1", at=at)
        self.runs(chat_id, "other", at)
        self.index(chat_id, "chat", channel, "", None, container, None, None)
        messages = 0
        end = min(self.count, container + SOURCE_ITEMS - 1)
        while self.next_id <= end:
            messages += 1
            item_id = self.take_id()
            locator = f"chat {chat} message {messages}"
            body, doc = self.text_item(item_id, at)
            has_media = self.next_id <= end and self.rng.random() < MEDIA_SHARE
            video = has_media and self.rng.random() < VIDEO_SHARE
            when = doc.occurred_at
            assert when is not None
            files: list[dict[str, Any]] = []
            media_id = 0
            if has_media:
                media_id = self.take_id()
                digest, size, media_type = self.media(media_id, video, at)
                stamp = when.strftime("%d-%m-%Y_%H-%M-%S")
                media_name = (f"video_{messages}@{stamp}.mp4" if video
                              else f"photo_{messages}@{stamp}.jpg")
                media_rel = f"{'video_files' if video else 'photos'}/{media_name}"
                files.append({"path": media_rel, "sha256": digest, "size": size})
            record = json.dumps({
                "chat_id": chat, "date": when.isoformat(), "files": files, "from": channel,
                "from_id": f"channel{chat}", "id": messages, "kind": "message",
                "locator": locator, "post_link": f"https://t.me/c/{chat}/{messages}",
                "text": body, "time_source": "utc", "type": "message"},
                ensure_ascii=False, sort_keys=True)
            self.item(item_id, batch, "message", root, "result.json", locator,
                      parent=chat_id, locator=locator,
                      source_key=f"telegram:{chat}:{messages}", record=record,
                      importer="telegram/1", occurred=when, at=at)
            rows.documents.append(SearchDocument(
                item_id=item_id, title=locator, text=body, names=doc.names,
                places=doc.places, place_names=doc.place_names, language=doc.language,
                kind="message", media_type=None, source_id=container, channel=channel,
                occurred_at=when, dates=doc.dates, violations=doc.violations))
            if has_media:
                self.item(media_id, batch, "media", root, media_rel, media_name,
                          parent=item_id, digest=digest, media_type=media_type, size=size,
                          at=at)
                self.index(media_id, "media", media_name, "", media_type, container,
                           channel, None)
                if self.rng.random() < SIGHTING_SHARE:
                    forwarded = f"forwarded/{media_name}"
                    rows.sightings.append((media_id, batch, media_name, root, forwarded,
                                           forwarded.encode(), size, "bench collector",
                                           at + timedelta(minutes=1), HOST, VERSION, None))
        rows.imports.append((batch, container, root, "result.json", b"result.json",
                             "telegram/1", "finished", "{}", messages, 0, 0, 0, at,
                             at + timedelta(minutes=5)))

    def folder(self, s: int, at: datetime) -> None:
        rows = self.rows
        batch = s + 1
        root = f"/evidence/handover-{s:04d}"
        rows.batches.append((batch, "finished", json.dumps([root]), "bench collector",
                             f"folder {s} of the web benchmark", HOST, VERSION, at,
                             at + timedelta(minutes=5), 0))
        end = min(self.count, self.next_id + SOURCE_ITEMS - 1)
        n = 0
        while self.next_id <= end:
            n += 1
            item_id = self.take_id()
            pick = self.rng.random()
            if pick < 0.5 or self.next_id > end:  # a photo
                name = f"IMG_{n:05d}.jpg"
                digest, size, media_type = self.media(item_id, False, at)
                self.item(item_id, batch, "file", root, f"photos/{name}", name,
                          digest=digest, media_type=media_type, size=size, at=at)
                self.index(item_id, "file", name, "", media_type, None, None, None)
            elif pick < 0.7:  # a PDF with a text layer
                name = f"report-{n:05d}.pdf"
                body, doc = self.text_item(item_id, at)
                digest, size = self.blob(b"%PDF-1.4\n% svidok-bench-web " + name.encode()
                                         + b" %d\n" % item_id)
                self.item(item_id, batch, "file", root, f"reports/{name}", name,
                          digest=digest, media_type="application/pdf", size=size, at=at)
                rows.documents.append(SearchDocument(
                    item_id=item_id, title=name, text=body, names=doc.names,
                    places=doc.places, place_names=doc.place_names, language=doc.language,
                    kind="file", media_type="application/pdf", source_id=None,
                    channel=None, occurred_at=None, dates=doc.dates,
                    violations=doc.violations))
            else:  # an e-mail: the .eml original, the message read out of it
                name = f"letter-{n:05d}.eml"
                digest, size = self.blob(b"From: witness@example.org\r\nSubject: letter "
                                         + b"%d\r\n\r\n(svidok-bench-web)\r\n" % item_id)
                self.item(item_id, batch, "file", root, f"letters/{name}", name,
                          digest=digest, media_type="message/rfc822", size=size,
                          importer="email/1", at=at)
                self.runs(item_id, "other", at)
                self.index(item_id, "file", name, "", "message/rfc822", None, None, None)
                rows.imports.append((batch, item_id, root, f"letters/{name}",
                                     f"letters/{name}".encode(), "email/1", "finished", "{}",
                                     1, 0, 0, 0, at, at))
                if self.next_id > end:
                    continue
                email_id = self.take_id()
                body, doc = self.text_item(email_id, at)
                when = doc.occurred_at
                record = json.dumps({"date": when.isoformat() if when else None,
                                     "from": "witness@example.org", "kind": "email",
                                     "locator": "message 0", "subject": f"letter {n}",
                                     "text": body}, ensure_ascii=False, sort_keys=True)
                self.item(email_id, batch, "email", root, f"letters/{name}", "message 0",
                          parent=item_id, locator="message 0", source_key=f"email:{digest}",
                          record=record, importer="email/1", occurred=when, at=at)
                rows.documents.append(SearchDocument(
                    item_id=email_id, title="message 0", text=body, names=doc.names,
                    places=doc.places, place_names=doc.place_names, language=doc.language,
                    kind="email", media_type=None, source_id=item_id, channel=None,
                    occurred_at=when, dates=doc.dates, violations=doc.violations))

    def index(self, item_id: int, kind: str, title: str, body: str, media_type: str | None,
              source: int | None, channel: str | None, language: str | None) -> None:
        self.rows.documents.append(SearchDocument(
            item_id=item_id, title=title, text=body, names=(), places=(), place_names=(),
            language=language, kind=kind, media_type=media_type, source_id=source,
            channel=channel, occurred_at=None, dates=(), violations=()))

    # -- writing --------------------------------------------------------------------

    def flush(self, conn: Connection) -> None:
        rows = self.rows
        with conn.begin():
            for name, table, columns in TABLES:
                part: Sequence[tuple[Any, ...]] = getattr(rows, name)
                if part:
                    bulk_insert_typed(conn, table, columns, part)
                    self.counts[name] = self.counts.get(name, 0) + len(part)
            index_documents(conn, rows.documents)
            events = rows.events + [make() for make in rows.later]
            append(conn, events)
            self.counts["custody_events"] = self.counts.get("custody_events", 0) + len(events)
            self.counts["search_documents"] = (self.counts.get("search_documents", 0)
                                               + len(rows.documents))
        self.rows = Rows()
        self.subjects.clear()

    def build(self, conn: Connection) -> None:
        s = 0
        began = time.perf_counter()
        flushed = 0
        while not self.full:
            at = BUILT_AT + timedelta(hours=s)
            if s % FOLDER_EVERY == 2:
                self.folder(s, at)
            else:
                self.telegram(s, at)
            s += 1
            if self.next_id - 1 - flushed >= CHUNK or self.full:
                self.flush(conn)
                flushed = self.next_id - 1
                rate = flushed / (time.perf_counter() - began)
                print(f"\r  {flushed:,} of {self.count:,} items ({rate:,.0f} items/s)",
                      end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        self.counts["sources"] = s


def _secondary_indexes(conn: Connection) -> list[tuple[str, str]]:
    names = [table.name for _, table, _ in TABLES] + ["search_facets", "search_dates",
                                                      "search_documents"]
    marks = ", ".join("?" for _ in names)
    return [(str(n), str(s)) for n, s in conn.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({marks})", tuple(names)).all()]


def build(count: int, folder: Path) -> dict[str, Any]:
    """Make the data folder from nothing; returns what the manifest records."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    subprocess.run([str(REPO / ".venv" / "bin" / "svidok"), "--home", str(folder), "init",
                    "--name", "svidok-bench-web", "--json"], check=True,
                   stdout=subprocess.DEVNULL)
    builder = Builder(folder, count)
    # Lemmas of the vocabulary once, up front, as bench/search.py does.
    for words, _ in builder.corpus.vocab.values():
        for word in words:
            word_lemmas(word, None)
    engine = connect(f"sqlite:///{folder / 'svidok.sqlite3'}")
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        # For building only (outside any transaction, as SQLite wants); the server opens
        # the file with Svidok's own settings.
        for pragma in ("foreign_keys=OFF", "synchronous=OFF", "cache_size=-1048576"):
            raw.execute(f"PRAGMA {pragma}")
        # Indexes are made once at the end: cheaper than keeping them up to date.
        with conn.begin():
            indexes = _secondary_indexes(conn)
            for name, _ in indexes:
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
        builder.build(conn)
        print("  indexing the tables", file=sys.stderr)
        with conn.begin():
            for _, sql in indexes:
                conn.exec_driver_sql(sql)
        problems = raw.execute("PRAGMA foreign_key_check").fetchmany(5) \
            if count <= 20_000 else []
        if problems:
            raise SystemExit(f"bench/web_corpus.py: rows point at nothing: {problems}")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    manifest = {"items": count, "layout": LAYOUT, "schema": SCHEMA_REVISION,
                "build_s": round(time.perf_counter() - began, 1),
                "rows": builder.counts, "blobs": builder.blob_count,
                "blob_mb": round(builder.blob_bytes / 1e6, 1),
                "db_mb": round((folder / "svidok.sqlite3").stat().st_size / 1e6, 1)}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def ensure(count: int) -> tuple[Path, dict[str, Any], bool]:
    """The data folder of ``count`` items, built if not there; (folder, manifest, built)."""
    folder = folder_for(count)
    manifest = folder / "manifest.json"
    if manifest.exists():
        return folder, json.loads(manifest.read_text(encoding="utf-8")), False
    for stale in OUT.glob(f"web-{count}-*") if OUT.exists() else ():
        shutil.rmtree(stale)  # an older layout or schema, or a build that was cut short
    return folder, build(count, folder), True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    folder, manifest, built = ensure(args.items)
    print(json.dumps({"folder": str(folder), "built": built, **manifest}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
