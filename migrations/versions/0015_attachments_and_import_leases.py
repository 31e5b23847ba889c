"""attachments: the uploads a case's forms named (a task, a start, a message from outside);
import jobs run by the worker: the stored file, the caller, a lease

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xueji.db.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = xueji.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=False),
        sa.Column("attached_by", sa.String(length=80), nullable=False),
        sa.Column("attached_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_attachments_instance_id_process_instances"),
        ),
        sa.ForeignKeyConstraint(
            ["upload_id"], ["uploads.id"], name=op.f("fk_attachments_upload_id_uploads")
        ),
        sa.PrimaryKeyConstraint("instance_id", "upload_id", name=op.f("pk_attachments")),
    )
    op.create_index(op.f("ix_attachments_upload_id"), "attachments", ["upload_id"])
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("file_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("principal", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("claim_expires_at", _UTC, nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        for column in ("attempts", "claim_expires_at", "claimed_by", "principal", "file_key"):
            batch_op.drop_column(column)
    op.drop_index(op.f("ix_attachments_upload_id"), table_name="attachments")
    op.drop_table("attachments")
