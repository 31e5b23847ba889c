"""task deadlines

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 16:00:57.877717
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xueji.db.base  # noqa: F401  (UTCDateTime in column types)

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("overdue_at", xueji.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("escalation_level", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("user_tasks", schema=None) as batch_op:
        batch_op.drop_column("escalation_level")
        batch_op.drop_column("overdue_at")
