"""drop unused instance error column

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 17:13:59.404938
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xueji.db.base  # noqa: F401  (UTCDateTime in column types)

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("process_instances", schema=None) as batch_op:
        batch_op.drop_column("error")


def downgrade() -> None:
    with op.batch_alter_table("process_instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error", sa.TEXT(), nullable=True))
