"""call children index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 15:55:02.966833
"""

from collections.abc import Sequence

from alembic import op

import xueji.db.base  # noqa: F401  (UTCDateTime in column types)

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("process_instances", schema=None) as batch_op:
        batch_op.create_index(
            "ix_process_instances_call", ["parent_task_id", "state"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("process_instances", schema=None) as batch_op:
        batch_op.drop_index("ix_process_instances_call")
