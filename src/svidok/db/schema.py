"""The schema of the records, in SQLAlchemy Core.

Times are stored as timezone-aware UTC; file-system times as integer nanoseconds, exactly
as the operating system reported them. Paths are kept twice: readable text for people, and
the exact bytes the file system gave, which decide identity.
"""

from __future__ import annotations

from datetime import UTC as TZ_UTC
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; SQLite would otherwise hand back naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("refusing a naive datetime: times in Svidok are UTC")
        return value.astimezone(TZ_UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect
                             ) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=TZ_UTC) if value.tzinfo is None else value


UTC = UTCDateTime()
SHA256 = String(64)

instance = Table(
    "instance",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", UTC, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

batches = Table(
    "batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("state", String(16), nullable=False),
    # The ingest roots as a JSON list; a batch is resumed only by a run over the same roots.
    Column("roots", Text, nullable=False),
    Column("collector", Text),
    Column("note", Text),
    Column("host", Text, nullable=False),
    Column("svidok_version", String(64), nullable=False),
    Column("started_at", UTC, nullable=False),
    Column("finished_at", UTC),
    Column("unchanged", Integer, nullable=False, default=0),
    CheckConstraint("state IN ('running', 'finished', 'interrupted')", name="state"),
)

originals = Table(
    "originals",
    metadata,
    Column("sha256", SHA256, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("stored_at", UTC, nullable=False),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", ForeignKey("batches.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("error", Text),
    # Stored, but with something the collector should know (an empty file, a followed link).
    Column("warning", Text),
    Column("kind", String(32), nullable=False, default="file"),
    Column("parent_id", ForeignKey("items.id")),
    Column("sha256", ForeignKey("originals.sha256"), unique=True),
    Column("media_type", String(255)),
    Column("size", BigInteger),
    Column("original_name", Text, nullable=False),
    Column("root", Text, nullable=False),
    # Readable form; bytes that are not UTF-8 appear as \xNN escapes.
    Column("rel_path", Text, nullable=False),
    # The exact path as the file system named it: the identity of "where".
    Column("rel_path_bytes", LargeBinary, nullable=False),
    Column("mtime_ns", BigInteger),
    Column("ctime_ns", BigInteger),
    Column("atime_ns", BigInteger),
    Column("collector", Text),
    Column("note", Text),
    Column("captured_at", UTC),
    Column("host", Text, nullable=False),
    Column("svidok_version", String(64), nullable=False),
    Column("updated_at", UTC, nullable=False),
    # -- what an importer read out of a container (sources/importers) ----------------
    # Where in its container: "message 42", "record 7 (byte 10240)". A child's rel_path is
    # the container's, "#", and this; its rel_path_bytes the container's, NUL, and this,
    # since no file name can hold a NUL.
    Column("locator", Text),
    # The same message across exports: "telegram:1234:42". Versions share it.
    Column("source_key", Text),
    # SHA-256 of what makes a version (text, media, edit time; not reactions or names).
    Column("version_key", SHA256),
    Column("previous_id", ForeignKey("items.id")),  # the version this one replaces
    # The fields as read, canonical JSON; its SHA-256 is what the capture event names
    # when the item has no bytes of its own (a message inside a result.json).
    Column("record", Text),
    Column("record_sha256", SHA256),
    Column("importer", String(64)),  # "telegram/1": which importer and version read it
    Column("occurred_at", UTC),  # when it happened, as the source says (a message's date)
    CheckConstraint("state IN ('pending', 'stored', 'failed', 'skipped')", name="state"),
    CheckConstraint("state <> 'stored' OR sha256 IS NOT NULL OR record_sha256 IS NOT NULL",
                    name="stored_has_content"),
    UniqueConstraint("batch_id", "root", "rel_path_bytes"),
)
# Files by root, for listing what an ingest has seen before; records read out of files
# are left out of it (they are found by their container), which made their inserts cheaper.
Index("ix_items_root", items.c.root, sqlite_where=items.c.locator.is_(None),
      postgresql_where=items.c.locator.is_(None))
Index("ix_items_state", items.c.state)
Index("ix_items_parent_id", items.c.parent_id)
Index("ix_items_source_key", items.c.source_key)

sightings = Table(
    "sightings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("batch_id", ForeignKey("batches.id"), nullable=False),
    Column("original_name", Text, nullable=False),
    Column("root", Text, nullable=False),
    Column("rel_path", Text, nullable=False),
    Column("rel_path_bytes", LargeBinary, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger),
    Column("ctime_ns", BigInteger),
    Column("atime_ns", BigInteger),
    Column("collector", Text),
    Column("note", Text),
    Column("seen_at", UTC, nullable=False),
    Column("host", Text, nullable=False),
    Column("svidok_version", String(64), nullable=False),
    # Seen again inside a container: as items' columns of the same names. The record is
    # this sighting's own reading (names and reactions may differ from the item's).
    Column("parent_id", ForeignKey("items.id")),
    Column("locator", Text),
    Column("record", Text),
    Column("record_sha256", SHA256),
    UniqueConstraint("batch_id", "root", "rel_path_bytes"),
)
Index("ix_sightings_item_id", sightings.c.item_id)
Index("ix_sightings_root", sightings.c.root)
Index("ix_sightings_parent_id", sightings.c.parent_id)

# One importer's run over one container in one batch: resumable, with its figures.
imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", ForeignKey("batches.id"), nullable=False),
    # The container as an item: the one stored in this batch, or the one it was a sighting of.
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("root", Text, nullable=False),
    Column("rel_path", Text, nullable=False),
    Column("rel_path_bytes", LargeBinary, nullable=False),
    Column("importer", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("options", Text),  # JSON: --tz, --date-order as given
    Column("items", Integer, nullable=False, default=0),
    Column("versions", Integer, nullable=False, default=0),
    Column("sightings", Integer, nullable=False, default=0),
    Column("problems", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("started_at", UTC, nullable=False),
    Column("finished_at", UTC),
    CheckConstraint("state IN ('running', 'finished', 'failed')", name="state"),
    UniqueConstraint("batch_id", "root", "rel_path_bytes"),
)

# A part of a container that could not be read: where and what, never the content.
import_problems = Table(
    "import_problems",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("import_id", ForeignKey("imports.id"), nullable=False),
    Column("location", Text, nullable=False),
    Column("message", Text, nullable=False),
)
Index("ix_import_problems_import_id", import_problems.c.import_id)

verifications = Table(
    "verifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("started_at", UTC, nullable=False),
    Column("finished_at", UTC, nullable=False),
    Column("sample_percent", Integer, nullable=False),
    Column("checked", Integer, nullable=False),
    Column("missing", Integer, nullable=False),
    Column("altered", Integer, nullable=False),
    Column("ok", Boolean, nullable=False),
)

# -- custody log (svidok.custody) ------------------------------------------------------

# One row per leaf of the Merkle tree; ``seq`` is the 0-based leaf index and ``record`` the
# canonical JSON whose RFC 6962 leaf hash is in the tree. ``sha_key`` (the first 8 bytes of
# the record's SHA-256 as a signed integer) finds an original's events; verification checks
# it against the record. Nothing else is repeated outside the record: an index of 64-digit
# keys made appends three times slower, and extra columns slowed checking the log.
custody_events = Table(
    "custody_events",
    metadata,
    # On SQLite "INTEGER" makes seq the rowid itself; BIGINT would add a second index.
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=False),
    Column("sha_key", BigInteger, nullable=False),
    Column("record", LargeBinary, nullable=False),
)
Index("ix_custody_events_sha_key", custody_events.c.sha_key)

# The tree's hashes as C2SP tlog tiles: 256 hashes of 32 bytes per full tile. Level 0 holds
# leaf hashes; each hash at level L is the root of a full tile at level L-1.
custody_tiles = Table(
    "custody_tiles",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hashes", LargeBinary, nullable=False),
)

# The tree head after the last append; the single row is also the appenders' lock.
custody_head = Table(
    "custody_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary, nullable=False),
    # The C2SP signed note exactly as signed: what proofs and timestamps refer to.
    Column("note", Text, nullable=False),
    Column("created_at", UTC, nullable=False),
    Column("stamp_error", Text),
)
Index("ix_checkpoints_size", checkpoints.c.size)

checkpoint_stamps = Table(
    "checkpoint_stamps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("checkpoint_id", ForeignKey("checkpoints.id"), nullable=False),
    Column("tsa_url", Text, nullable=False),
    # The TSA's whole TimeStampResp (DER), so `openssl ts -verify -in` reads it as it is.
    Column("token", LargeBinary, nullable=False),
    Column("gen_time", UTC, nullable=False),
    Column("stamped_at", UTC, nullable=False),
)
Index("ix_checkpoint_stamps_checkpoint_id", checkpoint_stamps.c.checkpoint_id)

# -- enrichment (svidok.enrich, svidok.dedup) -------------------------------------------

# One enricher's last run on one item. ``key`` is the SHA-256 of the enricher's version and
# the keys of the runs it read (text for places, ...): a run is repeated only when it
# differs, so a new version of the text extractor re-runs everything downstream of it.
enrichments = Table(
    "enrichments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("enricher", String(32), nullable=False),
    Column("version", String(64), nullable=False),
    Column("key", SHA256, nullable=False),
    Column("state", String(16), nullable=False),
    Column("error", Text),  # what failed, never the content
    Column("finished_at", UTC, nullable=False),
    CheckConstraint("state IN ('done', 'failed', 'skipped')", name="state"),
    UniqueConstraint("item_id", "enricher"),
)

# Something computed from an item: its text, OCR text, a thumbnail, a keyframe, metadata.
# Text lives in ``content``; bytes (images) in the blob store under ``sha256``. Either way
# ``sha256`` is what the "derive" custody event names, with the original as "previous".
artifacts = Table(
    "artifacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("enricher", String(32), nullable=False),
    Column("version", String(64), nullable=False),
    Column("role", String(32), nullable=False),  # "text", "ocr-text", "thumbnail", ...
    Column("sha256", SHA256, nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("position_ms", BigInteger),  # a keyframe's time
    Column("content", Text),  # text artifacts and metadata (JSON)
    Column("created_at", UTC, nullable=False),
)
Index("ix_artifacts_item_id", artifacts.c.item_id)

# A suggestion a machine made about an item: a language, a place, a date, a name, a
# violation type. Offsets are into the item's text; ``data`` is JSON with the evidence
# (matched words, coordinates, precision). People confirm or reject (``state``).
# (Named so in Python because ``annotations`` is taken by the __future__ import.)
item_annotations = Table(
    "annotations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("enricher", String(32), nullable=False),
    Column("version", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("value", Text, nullable=False),
    Column("start", Integer),
    Column("end", Integer),
    Column("confidence", Integer, nullable=False),  # per mille: records hold no floats
    Column("data", Text),
    Column("state", String(16), nullable=False, default="suggested"),
    CheckConstraint("state IN ('suggested', 'confirmed', 'rejected')", name="state"),
)
Index("ix_annotations_item_id", item_annotations.c.item_id)
Index("ix_annotations_kind_value", item_annotations.c.kind, item_annotations.c.value)

# Perceptual and text fingerprints: PDQ of an image or a video frame, MinHash of a text.
fingerprints = Table(
    "fingerprints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("enricher", String(32), nullable=False),
    Column("version", String(64), nullable=False),
    Column("algorithm", String(32), nullable=False),  # "pdq", "pdq-frame", "minhash"
    Column("value", LargeBinary, nullable=False),
    Column("quality", Integer),
    Column("position_ms", BigInteger),
)
Index("ix_fingerprints_item_id", fingerprints.c.item_id)
Index("ix_fingerprints_algorithm", fingerprints.c.algorithm)

# Two items that look alike, with how and how far. Clusters are read from these links;
# nothing is ever merged. ``item_a`` < ``item_b``.
duplicate_links = Table(
    "duplicate_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_a", ForeignKey("items.id"), nullable=False),
    Column("item_b", ForeignKey("items.id"), nullable=False),
    Column("method", String(32), nullable=False),  # "pdq", "pdq-frame", "minhash"
    Column("distance", Integer, nullable=False),  # Hamming bits, or per mille of 1 - Jaccard
    Column("grade", String(16), nullable=False),
    Column("created_at", UTC, nullable=False),
    CheckConstraint("item_a < item_b", name="ordered"),
    UniqueConstraint("item_a", "item_b", "method"),
)
Index("ix_duplicate_links_item_b", duplicate_links.c.item_b)

# The LSH bands of each text's MinHash signature (svidok.dedup.text_similarity.band_keys):
# a new text's candidates are the items sharing a band, found through the index, so linking
# needs no index of every text in memory. Derived from the "minhash" fingerprints, rebuilt
# with them.
minhash_bands = Table(
    "minhash_bands",
    metadata,
    Column("item_id", ForeignKey("items.id"), primary_key=True),
    Column("band", Integer, primary_key=True),
    Column("band_key", BigInteger, nullable=False),
)
Index("ix_minhash_bands_band_key", minhash_bands.c.band_key)

# -- search (svidok.search) ------------------------------------------------------------------

# The full-text index is derived data, rebuilt from items by ``svidok enrich``, so it has no
# foreign keys. The words themselves are kept by each dialect its own way, built by hand in
# migration 0005 and named in HAND_BUILT: an FTS5 table (rowid = item id) on SQLite, a
# ``tsv`` tsvector column under a GIN index on PostgreSQL.
search_documents = Table(
    "search_documents",
    metadata,
    Column("item_id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
           autoincrement=False),
    Column("title", Text),
    Column("kind", String(32), nullable=False),
    Column("language", String(16)),
    Column("media_type", String(255)),
    Column("source_id", BigInteger),
    Column("channel", Text),
    Column("occurred_at", UTC),
    Column("body", Text, nullable=False),  # the text as written, for snippets
)

# One row per facet value of an item: counted per result set, looked up when filtering.
search_facets = Table(
    "search_facets",
    metadata,
    Column("item_id", BigInteger, primary_key=True),
    Column("facet", String(16), primary_key=True),
    Column("value", Text, primary_key=True),
    sqlite_with_rowid=False,
)
Index("ix_search_facets_facet_value_item_id", search_facets.c.facet, search_facets.c.value,
      search_facets.c.item_id)

# Every (facet, value) pair an item has had, numbered once; the numbers never change, so a
# process may keep what it has read of this table.
facet_values = Table(
    "facet_values",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("facet", String(16), nullable=False),
    Column("value", Text, nullable=False),
    UniqueConstraint("facet", "value"),
)

# An item's facet values in one row: their numbers as little-endian 32-bit integers. The
# counts of a search read one such row per hit and add them up in numpy, less than half the
# time of grouping the hits' rows of search_facets (eight of text per item; docs/search.md).
search_facet_sets = Table(
    "search_facet_sets",
    metadata,
    Column("item_id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
           autoincrement=False),
    Column("value_ids", LargeBinary, nullable=False),
)

# Days (proleptic ordinals) an item happened on or speaks of; open ends are the smallest and
# largest day, so an overlap test is two comparisons.
search_dates = Table(
    "search_dates",
    metadata,
    Column("item_id", BigInteger, primary_key=True),
    Column("first_day", Integer, primary_key=True),
    Column("last_day", Integer, primary_key=True),
    sqlite_with_rowid=False,
)

# Access: people who sign in to the web app, their sessions and API tokens, and login
# attempts for rate limiting (see svidok.access and docs/access.md). Secrets are never kept
# as given: passwords as Argon2id hashes, session and API tokens as their SHA-256.

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    # The TOTP shared secret (base32); NULL until enrolment begins. Never logged or shown
    # after enrolment.
    Column("totp_secret", Text),
    Column("totp_confirmed", Boolean, nullable=False, default=False),
    # The last TOTP time step accepted: a code is refused unless its step is newer, so an
    # overheard code cannot be used twice.
    Column("totp_last_step", BigInteger),
    Column("language", String(8), nullable=False, default="en"),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("must_change_password", Boolean, nullable=False, default=False),
    Column("created_at", UTC, nullable=False),
    Column("password_changed_at", UTC, nullable=False),
    CheckConstraint("role IN ('admin', 'analyst', 'documenter', 'viewer')", name="role"),
    CheckConstraint("language IN ('en', 'uk')", name="language"),
)

# A session's id is the SHA-256 (hex) of the token in the browser's cookie: a copy of this
# table does not let anyone sign in.
sessions = Table(
    "sessions",
    metadata,
    Column("id", SHA256, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", UTC, nullable=False),
    Column("last_seen_at", UTC, nullable=False),
    Column("csrf_token", Text, nullable=False),
    Column("second_factor_done", Boolean, nullable=False, default=False),
    Column("revoked_at", UTC),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("token_hash", SHA256, nullable=False, unique=True),
    Column("created_at", UTC, nullable=False),
    Column("last_used_at", UTC),
    Column("revoked_at", UTC),  # revoked then (by a person, or by disabling the owner)
    Column("expires_at", UTC),  # stops working by itself then; NULL: until revoked
)

# One row per sign-in attempt, keyed "name:<name>" or "addr:<client address>"; rows older
# than the rate-limit window are deleted as new ones arrive.
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", Text, nullable=False),
    Column("at", UTC, nullable=False),
    Column("succeeded", Boolean, nullable=False),
)
Index("ix_login_attempts_key_at", login_attempts.c.key, login_attempts.c.at)

# -- review and uploads (svidok.cases.verification, svidok.locker.uploads) ---------------

VERIFICATION_STATUSES = ("unverified", "in_progress", "verified", "disputed", "false")
_STATUS_LIST = ", ".join(f"'{s}'" for s in VERIFICATION_STATUSES)

# A person's decision on whether an item is what it claims to be; the newest is the item's
# status (none: unverified). Each is a "verify" custody event, written in the same
# transaction; the event carries the status and commits to this row (note included) by the
# SHA-256 of its canonical JSON (``context``), so the note never enters a proof bundle.
verification_decisions = Table(
    "verification_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("previous_status", String(16), nullable=False),
    Column("note", Text),
    Column("decided_by", Text, nullable=False),  # the person, as the event's actor names them
    Column("user_id", ForeignKey("users.id")),  # NULL when decided on the command line
    Column("decided_at", UTC, nullable=False),
    Column("event_seq", BigInteger, nullable=False),  # the custody event's leaf index
    Column("context", SHA256, nullable=False),
    CheckConstraint(f"status IN ({_STATUS_LIST})", name="status"),
    CheckConstraint(f"previous_status IN ({_STATUS_LIST})", name="previous_status"),
)
Index("ix_verification_decisions_item_id_id", verification_decisions.c.item_id,
      verification_decisions.c.id)

# One web upload: its files are streamed into the data folder's staging folder, then a
# background worker ingests them as ``svidok ingest`` does. The row outlives the server: a
# job left receiving, queued or running by a server that died is marked failed and
# interrupted when the next one starts, and its staging folder removed.
upload_jobs = Table(
    "upload_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("collector", Text, nullable=False),  # the uploading person's name
    Column("state", String(16), nullable=False),
    Column("interrupted", Boolean, nullable=False, default=False),
    Column("phase", String(32)),  # what a running job is doing: storing, reading, enriching
    Column("done", BigInteger, nullable=False, default=0),
    Column("total", BigInteger, nullable=False, default=0),
    Column("files", Text),  # JSON: each file's name as sent, as staged, and its size
    Column("note", Text),
    Column("tz", String(64)),  # the exporting computer's zone, as ``ingest --tz``
    Column("message", Text),  # why it failed, or what needs attention
    Column("result", Text),  # JSON: items stored and seen again, containers read
    Column("batch_id", ForeignKey("batches.id")),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("owner", String(32), nullable=False),  # the receiving server's random id
    Column("created_at", UTC, nullable=False),
    Column("started_at", UTC),
    Column("finished_at", UTC),
    CheckConstraint("state IN ('receiving', 'queued', 'running', 'done', 'failed')",
                    name="state"),
)
Index("ix_upload_jobs_state", upload_jobs.c.state)
Index("ix_upload_jobs_user_id", upload_jobs.c.user_id)

# What migrations build in one dialect's own SQL and this schema does not declare: tables
# (FTS5 and its shadow tables), columns as (table, column), and indexes.
HAND_BUILT_TABLES = ("search_fts",)  # and every table whose name starts "search_fts_"
HAND_BUILT_COLUMNS = (("search_documents", "tsv"),)
HAND_BUILT_INDEXES = ("ix_search_documents_tsv",)


def hand_built(name: str | None, type_: str, table: str | None = None) -> bool:
    """Whether a schema object is one of those migrations build by hand (see above)."""
    if name is None:
        return False
    if type_ == "table":
        return name in HAND_BUILT_TABLES or name.startswith("search_fts_")
    if type_ == "column":
        return (table, name) in HAND_BUILT_COLUMNS
    if type_ == "index":
        return name in HAND_BUILT_INDEXES
    return False
