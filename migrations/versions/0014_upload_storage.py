"""upload storage: the bytes of new uploads live in the storage (uploads.content nullable)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.alter_column("content", existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    # Rows whose bytes are only in the storage cannot go back; refuse rather than lose them.
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM uploads WHERE content IS NULL")).scalar():
        raise RuntimeError("uploads whose bytes are in the storage: copy them back first")
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.alter_column("content", existing_type=sa.LargeBinary(), nullable=False)
