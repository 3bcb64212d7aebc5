"""enrich: enrichment runs, derived artifacts, annotations, fingerprints, duplicate links

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
SHA256 = sa.String(64)


def _item_fk(table: str, column: str = "item_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["items.id"],
                                   name=op.f(f"fk_{table}_{column}_items"))


def upgrade() -> None:
    op.create_table(
        "enrichments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("enricher", sa.String(32), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("key", SHA256, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", UTC, nullable=False),
        sa.CheckConstraint("state IN ('done', 'failed', 'skipped')",
                           name=op.f("ck_enrichments_state")),
        _item_fk("enrichments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrichments")),
        sa.UniqueConstraint("item_id", "enricher", name=op.f("uq_enrichments_item_id_enricher")),
    )
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("enricher", sa.String(32), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("sha256", SHA256, nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("position_ms", sa.BigInteger(), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        _item_fk("artifacts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifacts")),
    )
    op.create_index("ix_artifacts_item_id", "artifacts", ["item_id"])
    op.create_table(
        "annotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("enricher", sa.String(32), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=True),
        sa.Column("end", sa.Integer(), nullable=True),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.CheckConstraint("state IN ('suggested', 'confirmed', 'rejected')",
                           name=op.f("ck_annotations_state")),
        _item_fk("annotations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotations")),
    )
    op.create_index("ix_annotations_item_id", "annotations", ["item_id"])
    op.create_index("ix_annotations_kind_value", "annotations", ["kind", "value"])
    op.create_table(
        "fingerprints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("enricher", sa.String(32), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("algorithm", sa.String(32), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("position_ms", sa.BigInteger(), nullable=True),
        _item_fk("fingerprints"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fingerprints")),
    )
    op.create_index("ix_fingerprints_item_id", "fingerprints", ["item_id"])
    op.create_index("ix_fingerprints_algorithm", "fingerprints", ["algorithm"])
    op.create_table(
        "duplicate_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_a", sa.Integer(), nullable=False),
        sa.Column("item_b", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(16), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint("item_a < item_b", name=op.f("ck_duplicate_links_ordered")),
        _item_fk("duplicate_links", "item_a"),
        _item_fk("duplicate_links", "item_b"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_links")),
        sa.UniqueConstraint("item_a", "item_b", "method",
                            name=op.f("uq_duplicate_links_item_a_item_b_method")),
    )
    op.create_index("ix_duplicate_links_item_b", "duplicate_links", ["item_b"])


def downgrade() -> None:
    for table in ("duplicate_links", "fingerprints", "annotations", "artifacts",
                  "enrichments"):
        op.drop_table(table)
