"""search: the full-text index and its facets (svidok.search)

SQLite keeps the words in an FTS5 table (unicode61, diacritics removed) whose rowid is the
item id; PostgreSQL keeps a 'simple' tsvector beside the text, under a GIN index. Both
keep the text as written in search_documents, and share the facet and date side tables.
The index is derived data, rebuilt from the items by the enrichment runner, so it has no
foreign keys: the benchmark fills it without items.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)

# Column weights for bm25: title, body, names, places, lemmas. A word in the title says
# more than one in the body; a match found only through a lemma says a little less.
FTS5 = ("CREATE VIRTUAL TABLE search_fts USING fts5(title, body, names, places, lemmas, "
        "tokenize = 'unicode61 remove_diacritics 2')")
FTS5_RANK = ("INSERT INTO search_fts(search_fts, rank) "
             "VALUES ('rank', 'bm25(4.0, 1.0, 2.0, 2.0, 0.5)')")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    columns: list[sa.schema.SchemaItem] = [
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=False, nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("media_type", sa.String(255), nullable=True),
        sa.Column("source_id", sa.BigInteger(), nullable=True),
        sa.Column("channel", sa.Text(), nullable=True),
        sa.Column("occurred_at", UTC, nullable=True),
        # The text as written, for snippets: the words are indexed folded.
        sa.Column("body", sa.Text(), nullable=False),
    ]
    if postgres:
        columns.append(sa.Column("tsv", postgresql.TSVECTOR(), nullable=False))
    op.create_table("search_documents", *columns,
                    sa.PrimaryKeyConstraint("item_id", name=op.f("pk_search_documents")))
    if postgres:
        op.create_index("ix_search_documents_tsv", "search_documents", ["tsv"],
                        postgresql_using="gin")
    else:
        op.execute(FTS5)
        op.execute(FTS5_RANK)

    # One row per facet value of an item: counted per result set, and looked up by value
    # when a search is filtered by it.
    op.create_table(
        "search_facets",
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("facet", sa.String(16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "facet", "value", name=op.f("pk_search_facets")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_search_facets_facet_value_item_id", "search_facets",
                    ["facet", "value", "item_id"])
    # Days (proleptic ordinals) an item happened on or speaks of; open ends are the
    # smallest and largest day, so an overlap test is two comparisons.
    op.create_table(
        "search_dates",
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("first_day", sa.Integer(), nullable=False),
        sa.Column("last_day", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "first_day", "last_day",
                                name=op.f("pk_search_dates")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("search_dates")
    op.drop_index("ix_search_facets_facet_value_item_id", table_name="search_facets")
    op.drop_table("search_facets")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_search_documents_tsv", table_name="search_documents")
    else:
        op.execute("DROP TABLE search_fts")
    op.drop_table("search_documents")
