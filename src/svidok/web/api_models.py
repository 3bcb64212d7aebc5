"""What the JSON API answers, as pydantic models, so the OpenAPI document says exactly what a
client gets (and FastAPI drops anything a record holds that is not listed here, such as
where an original lies on the server's disk).

Times are ISO 8601 in UTC. Hashes are lower-case hex. Field names follow the records (see
docs/api.md and ``svidok items show --json``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

ItemState = Literal["pending", "stored", "failed", "skipped"]


class Error(BaseModel):
    """A refusal or failure, said in English for the person running the script."""

    detail: str


class Me(BaseModel):
    id: int
    name: str
    role: Literal["admin", "analyst", "documenter", "viewer"]
    language: str
    permissions: list[str] = Field(description="what the role may do (docs/access.md)")
    signed_in_with: Literal["token", "session"]


class Batch(BaseModel):
    id: int
    state: Literal["running", "finished", "interrupted"]
    started_at: datetime
    finished_at: datetime | None = None


class FixityCheck(BaseModel):
    id: int
    started_at: datetime
    finished_at: datetime
    sample_percent: int
    checked: int
    missing: int
    altered: int
    ok: bool


class Checkpoint(BaseModel):
    """The latest signed checkpoint of the custody log."""

    id: int
    size: int = Field(description="events in the log it signs")
    root: str = Field(description="the Merkle tree's root hash, hex")
    created_at: datetime
    stamps: int = Field(description="RFC 3161 timestamps it has")
    stamp_error: str | None = None
    note: str = Field(description="the C2SP signed note exactly as signed")


class Status(BaseModel):
    """What the dashboard shows."""

    instance: str
    database: Literal["sqlite", "postgresql"]
    ingest_running: bool
    items: dict[str, int] = Field(description="items by state")
    kinds: dict[str, int] = Field(description="stored items by kind")
    originals: int
    bytes: int
    sightings: int
    last_batch: Batch | None
    interrupted_batches: list[int] = Field(description="ids of ingests to run again")
    last_fixity_check: FixityCheck | None
    checkpoint: Checkpoint | None


class ItemSummary(BaseModel):
    id: int
    state: ItemState
    kind: str
    parent_id: int | None = Field(description="the container it was read out of")
    media_type: str | None
    size: int | None
    original_name: str
    rel_path: str
    captured_at: datetime | None
    occurred_at: datetime | None = Field(description="when it happened, as the source says")
    batch_id: int
    sha256: str | None = Field(description="the original's SHA-256")
    record_sha256: str | None = Field(description="for an item read out of a container: "
                                                  "the SHA-256 of its record")
    previous_id: int | None = Field(description="the version this one replaces")
    error: str | None
    warning: str | None


class ItemList(BaseModel):
    total: int = Field(description="items matching the filters, in all")
    limit: int
    offset: int
    items: list[ItemSummary] = Field(description="newest first")


class ItemOriginal(BaseModel):
    sha256: str
    size: int
    media_type: str
    stored_at: datetime


class Sighting(BaseModel):
    """The same bytes (or message) seen again, with that capture's own context."""

    id: int
    batch_id: int
    original_name: str
    root: str
    rel_path: str
    rel_path_bytes: str = Field(description="the path exactly as the file system gave it, hex")
    size: int
    mtime_ns: int | None
    ctime_ns: int | None
    atime_ns: int | None
    collector: str | None
    note: str | None
    seen_at: datetime
    host: str
    svidok_version: str
    parent_id: int | None
    locator: str | None
    record: str | None = Field(description="this sighting's record, canonical JSON as hashed")
    record_sha256: str | None


class EnrichmentRun(BaseModel):
    enricher: str
    version: str
    state: Literal["done", "failed", "skipped"]
    error: str | None
    finished_at: datetime


class Annotation(BaseModel):
    """A suggestion a machine made: people confirm or reject it."""

    id: int
    kind: str = Field(description="language, place, date, name, violation, ...")
    value: str
    start: int | None = Field(description="offset into the item's text")
    end: int | None
    confidence: float = Field(ge=0, le=1)
    state: Literal["suggested", "confirmed", "rejected"]
    enricher: str
    version: str
    data: Any = Field(description="the evidence: matched words, coordinates, precision")


class Artifact(BaseModel):
    """Something derived from the original: text, OCR, a thumbnail, a keyframe."""

    role: str
    sha256: str
    media_type: str
    size: int
    position_ms: int | None
    enricher: str
    version: str


class Duplicate(BaseModel):
    item: int = Field(description="the other item")
    method: str = Field(description="pdq, pdq-frame or minhash")
    distance: int = Field(description="Hamming bits, or per mille of 1 - Jaccard")
    grade: str


class Enrichment(BaseModel):
    runs: list[EnrichmentRun]
    annotations: list[Annotation]
    artifacts: list[Artifact]
    fingerprints: dict[str, int] = Field(description="fingerprints by algorithm")
    duplicates: list[Duplicate] = Field(description="nearest first")


class Item(ItemSummary):
    """One item in full: capture context, what was read into it, sightings, enrichment."""

    root: str
    rel_path_bytes: str | None = Field(description="the path exactly as the file system "
                                                   "gave it, hex")
    mtime_ns: int | None
    ctime_ns: int | None
    atime_ns: int | None
    collector: str | None
    note: str | None
    host: str
    svidok_version: str
    updated_at: datetime
    locator: str | None = Field(description="where in its container")
    source_key: str | None = Field(description="the same message across exports")
    version_key: str | None
    importer: str | None
    record: Any = Field(description="the fields an importer read, as JSON")
    original: ItemOriginal | None = None
    sightings: list[Sighting]
    children: int = Field(description="items read out of this one")
    next_versions: list[int]
    enrichment: Enrichment


class SearchHit(BaseModel):
    item_id: int
    rank: float = Field(description="higher is better; comparable within one search only")
    title: str | None
    kind: str
    language: str | None
    occurred_at: datetime | None
    snippet: str
    marks: list[tuple[int, int]] = Field(description="(start, end) of matched words in the "
                                                     "snippet")


class FacetValue(BaseModel):
    value: str = Field(description="what the filter of the same facet takes")
    label: str = Field(description="as a person reads it (a place's name for its id)")
    count: int


class SearchResults(BaseModel):
    total: int
    limit: int
    offset: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetValue]] | None = Field(
        description="by facet, most frequent first; only with facets=true")
    facets_capped: bool = Field(description="facets counted over the first hits only")
