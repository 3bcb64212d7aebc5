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
    CheckConstraint("state IN ('pending', 'stored', 'failed', 'skipped')", name="state"),
    CheckConstraint("state <> 'stored' OR sha256 IS NOT NULL", name="stored_has_original"),
    UniqueConstraint("batch_id", "root", "rel_path_bytes"),
)
Index("ix_items_root", items.c.root)
Index("ix_items_state", items.c.state)

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
    UniqueConstraint("batch_id", "root", "rel_path_bytes"),
)
Index("ix_sightings_item_id", sightings.c.item_id)
Index("ix_sightings_root", sightings.c.root)

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
