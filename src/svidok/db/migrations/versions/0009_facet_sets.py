"""facet_sets: facet values numbered, and each indexed item's values as one row of numbers
(svidok.search.facet_sets), so that counting a search's facets reads one row per hit

Filled from search_facets, so an archive indexed before this migration counts its facets
at once: at a million items it takes about half a minute.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

CHUNK = 10_000  # items per insert


def upgrade() -> None:
    values = op.create_table(
        "facet_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facet_values")),
        sa.UniqueConstraint("facet", "value", name=op.f("uq_facet_values_facet_value")),
    )
    sets = op.create_table(
        "search_facet_sets",
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=False, nullable=False),
        sa.Column("value_ids", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_search_facet_sets")),
    )
    _backfill(values, sets)


def _backfill(values: sa.Table, sets: sa.Table) -> None:
    from svidok.search.facet_sets import pack

    conn = op.get_bind()
    facets = sa.table("search_facets", sa.column("item_id", sa.Integer),
                      sa.column("facet", sa.String), sa.column("value", sa.Text))
    pairs = sa.select(facets.c.facet, facets.c.value).distinct()
    conn.execute(values.insert().from_select(["facet", "value"], pairs))
    numbers = {(f, v): n for n, f, v in conn.execute(
        sa.select(values.c.id, values.c.facet, values.c.value))}
    rows: list[dict[str, object]] = []
    item_id = None
    found: list[int] = []
    # In primary-key order, so an item's rows come together; streamed, so PostgreSQL does
    # not hand over all of them at once.
    ordered = sa.select(facets.c.item_id, facets.c.facet, facets.c.value).order_by(
        facets.c.item_id, facets.c.facet, facets.c.value)
    for row_item, facet, value in conn.execute(
            ordered, execution_options={"stream_results": True}):
        if row_item != item_id:
            if item_id is not None:
                rows.append({"item_id": item_id, "value_ids": pack(found)})
            if len(rows) >= CHUNK:
                conn.execute(sets.insert(), rows)
                rows = []
            item_id, found = row_item, []
        found.append(numbers[(facet, value)])
    if item_id is not None:
        rows.append({"item_id": item_id, "value_ids": pack(found)})
    if rows:
        conn.execute(sets.insert(), rows)


def downgrade() -> None:
    op.drop_table("search_facet_sets")
    op.drop_table("facet_values")
