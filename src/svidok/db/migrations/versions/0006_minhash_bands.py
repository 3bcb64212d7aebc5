"""minhash_bands: the LSH bands of text signatures, indexed, for linking near-duplicate texts

Filled from the "minhash" fingerprints already stored, so texts enriched before this
migration are found as candidates too.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHUNK = 5_000


def upgrade() -> None:
    bands = op.create_table(
        "minhash_bands",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"],
                                name=op.f("fk_minhash_bands_item_id_items")),
        sa.PrimaryKeyConstraint("item_id", "band", name=op.f("pk_minhash_bands")),
    )
    op.create_index("ix_minhash_bands_band_key", "minhash_bands", ["band_key"])
    _backfill(bands)


def _backfill(bands: sa.Table) -> None:
    from svidok.dedup.text_similarity import band_keys

    conn = op.get_bind()
    prints = sa.table("fingerprints", sa.column("item_id", sa.Integer),
                      sa.column("algorithm", sa.String), sa.column("value", sa.LargeBinary))
    rows = []
    seen: set[int] = set()
    for item_id, value in conn.execute(sa.select(prints.c.item_id, prints.c.value).where(
            prints.c.algorithm == "minhash").order_by(prints.c.item_id)):
        if item_id in seen:
            continue
        seen.add(item_id)
        rows += [{"item_id": item_id, "band": n, "band_key": key}
                 for n, key in enumerate(band_keys(bytes(value)))]
        if len(rows) >= CHUNK:
            conn.execute(bands.insert(), rows)
            rows = []
    if rows:
        conn.execute(bands.insert(), rows)


def downgrade() -> None:
    op.drop_index("ix_minhash_bands_band_key", table_name="minhash_bands")
    op.drop_table("minhash_bands")
