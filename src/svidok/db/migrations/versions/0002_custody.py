"""custody log: events, tiles, head, checkpoints, stamps

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 01:30:00.907258
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stamp_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoints")),
    )
    with op.batch_alter_table("checkpoints", schema=None) as batch_op:
        batch_op.create_index("ix_checkpoints_size", ["size"], unique=False)

    op.create_table(
        "custody_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("sha_key", sa.BigInteger(), nullable=False),
        sa.Column("record", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_custody_events")),
    )
    with op.batch_alter_table("custody_events", schema=None) as batch_op:
        batch_op.create_index("ix_custody_events_sha_key", ["sha_key"], unique=False)

    head = op.create_table(
        "custody_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_custody_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_head")),
    )
    # The empty tree: size 0, root SHA-256 of nothing (RFC 6962).
    op.bulk_insert(head, [{"id": 1, "size": 0, "root": hashlib.sha256(b"").digest()}])
    op.create_table(
        "custody_tiles",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_custody_tiles")),
    )
    op.create_table(
        "checkpoint_stamps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkpoint_id", sa.Integer(), nullable=False),
        sa.Column("tsa_url", sa.Text(), nullable=False),
        sa.Column("token", sa.LargeBinary(), nullable=False),
        sa.Column("gen_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stamped_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["checkpoints.id"],
            name=op.f("fk_checkpoint_stamps_checkpoint_id_checkpoints"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoint_stamps")),
    )
    with op.batch_alter_table("checkpoint_stamps", schema=None) as batch_op:
        batch_op.create_index("ix_checkpoint_stamps_checkpoint_id", ["checkpoint_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("checkpoint_stamps", schema=None) as batch_op:
        batch_op.drop_index("ix_checkpoint_stamps_checkpoint_id")

    op.drop_table("checkpoint_stamps")
    op.drop_table("custody_tiles")
    op.drop_table("custody_head")
    with op.batch_alter_table("custody_events", schema=None) as batch_op:
        batch_op.drop_index("ix_custody_events_sha_key")

    op.drop_table("custody_events")
    with op.batch_alter_table("checkpoints", schema=None) as batch_op:
        batch_op.drop_index("ix_checkpoints_size")

    op.drop_table("checkpoints")
