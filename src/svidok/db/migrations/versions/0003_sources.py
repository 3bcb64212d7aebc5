"""sources: records read out of containers, their versions, and import runs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
SHA256 = sa.String(64)
OLD_CHECK = "state <> 'stored' OR sha256 IS NOT NULL"
NEW_CHECK = "state <> 'stored' OR sha256 IS NOT NULL OR record_sha256 IS NOT NULL"


def upgrade() -> None:
    # SQLite cannot alter a CHECK constraint: batch mode copies the table, in one
    # transaction with the rest of the migration.
    with op.batch_alter_table("items", schema=None, recreate="auto") as batch_op:
        batch_op.add_column(sa.Column("locator", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("source_key", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("version_key", SHA256, nullable=True))
        batch_op.add_column(sa.Column("previous_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("record", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("record_sha256", SHA256, nullable=True))
        batch_op.add_column(sa.Column("importer", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("occurred_at", UTC, nullable=True))
        batch_op.create_foreign_key(op.f("fk_items_previous_id_items"), "items",
                                    ["previous_id"], ["id"])
        batch_op.drop_constraint(op.f("ck_items_stored_has_original"), type_="check")
        batch_op.create_check_constraint(op.f("ck_items_stored_has_content"), NEW_CHECK)
        batch_op.create_index("ix_items_parent_id", ["parent_id"], unique=False)
        batch_op.create_index("ix_items_source_key", ["source_key"], unique=False)
        batch_op.drop_index("ix_items_root")
    # Files only: the records read out of them are found by their container.
    op.create_index("ix_items_root", "items", ["root"], unique=False,
                    sqlite_where=sa.text("locator IS NULL"),
                    postgresql_where=sa.text("locator IS NULL"))

    with op.batch_alter_table("sightings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("locator", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("record", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("record_sha256", SHA256, nullable=True))
        batch_op.create_foreign_key(op.f("fk_sightings_parent_id_items"), "items",
                                    ["parent_id"], ["id"])
        batch_op.create_index("ix_sightings_parent_id", ["parent_id"], unique=False)

    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("root", sa.Text(), nullable=False),
        sa.Column("rel_path", sa.Text(), nullable=False),
        sa.Column("rel_path_bytes", sa.LargeBinary(), nullable=False),
        sa.Column("importer", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("options", sa.Text(), nullable=True),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("versions", sa.Integer(), nullable=False),
        sa.Column("sightings", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=True),
        sa.CheckConstraint("state IN ('running', 'finished', 'failed')",
                           name=op.f("ck_imports_state")),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"],
                                name=op.f("fk_imports_batch_id_batches")),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_imports_item_id_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
        sa.UniqueConstraint("batch_id", "root", "rel_path_bytes",
                            name=op.f("uq_imports_batch_id_root_rel_path_bytes")),
    )
    op.create_table(
        "import_problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"],
                                name=op.f("fk_import_problems_import_id_imports")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_problems")),
    )
    with op.batch_alter_table("import_problems", schema=None) as batch_op:
        batch_op.create_index("ix_import_problems_import_id", ["import_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("import_problems", schema=None) as batch_op:
        batch_op.drop_index("ix_import_problems_import_id")
    op.drop_table("import_problems")
    op.drop_table("imports")
    with op.batch_alter_table("sightings", schema=None) as batch_op:
        batch_op.drop_index("ix_sightings_parent_id")
        batch_op.drop_constraint(op.f("fk_sightings_parent_id_items"), type_="foreignkey")
        for name in ("record_sha256", "record", "locator", "parent_id"):
            batch_op.drop_column(name)
    # Records without an original cannot satisfy the old constraint: they go first.
    op.execute("DELETE FROM items WHERE sha256 IS NULL AND record_sha256 IS NOT NULL "
               "AND state = 'stored'")
    op.drop_index("ix_items_root", table_name="items")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index("ix_items_root", ["root"], unique=False)
        batch_op.drop_index("ix_items_source_key")
        batch_op.drop_index("ix_items_parent_id")
        batch_op.drop_constraint(op.f("ck_items_stored_has_content"), type_="check")
        batch_op.create_check_constraint(op.f("ck_items_stored_has_original"), OLD_CHECK)
        batch_op.drop_constraint(op.f("fk_items_previous_id_items"), type_="foreignkey")
        for name in ("occurred_at", "importer", "record_sha256", "record", "previous_id",
                     "version_key", "source_key", "locator"):
            batch_op.drop_column(name)
