"""graduation deferral (缓验) kept on the student record: season and reason

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deferred_season", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("deferral_reason", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.drop_column("deferral_reason")
        batch_op.drop_column("deferred_season")
