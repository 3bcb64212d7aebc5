"""review and uploads: verification decisions on items, web upload jobs, token expiry

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# As svidok.db.schema.VERIFICATION_STATUSES when this migration was written: a migration
# must build the same schema whatever the code says later.
STATUSES = "'unverified', 'in_progress', 'verified', 'disputed', 'false'"


def upgrade() -> None:
    op.create_table(
        "verification_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("previous_status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("context", sa.String(length=64), nullable=False),
        sa.CheckConstraint(f"status IN ({STATUSES})",
                           name=op.f("ck_verification_decisions_status")),
        sa.CheckConstraint(f"previous_status IN ({STATUSES})",
                           name=op.f("ck_verification_decisions_previous_status")),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"],
                                name=op.f("fk_verification_decisions_item_id_items")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_verification_decisions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_decisions")),
    )
    op.create_index("ix_verification_decisions_item_id_id", "verification_decisions",
                    ["item_id", "id"])
    op.create_table(
        "upload_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("collector", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("interrupted", sa.Boolean(), nullable=False),
        sa.Column("phase", sa.String(length=32), nullable=True),
        sa.Column("done", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("files", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("tz", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('receiving', 'queued', 'running', 'done', 'failed')",
                           name=op.f("ck_upload_jobs_state")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_upload_jobs_user_id_users")),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"],
                                name=op.f("fk_upload_jobs_batch_id_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_jobs")),
    )
    op.create_index("ix_upload_jobs_state", "upload_jobs", ["state"])
    op.create_index("ix_upload_jobs_user_id", "upload_jobs", ["user_id"])
    # When an API token stops working by itself (NULL: until revoked). Batch mode, so that
    # SQLite, which cannot alter a table in place, gets it too.
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
    op.drop_index("ix_upload_jobs_user_id", table_name="upload_jobs")
    op.drop_index("ix_upload_jobs_state", table_name="upload_jobs")
    op.drop_table("upload_jobs")
    op.drop_index("ix_verification_decisions_item_id_id", table_name="verification_decisions")
    op.drop_table("verification_decisions")
