"""inbox summaries: user_tasks.summary, kind, subject_name; partial indexes of open tasks

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-01 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("state = 'ready'")


def upgrade() -> None:
    with op.batch_alter_table("user_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("kind", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("subject_name", sa.String(length=80), nullable=True))
    op.create_index(
        "ix_user_tasks_open_due",
        "user_tasks",
        ["due_at", "id"],
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )
    op.create_index(
        "ix_user_tasks_open_created",
        "user_tasks",
        ["created_at", "id"],
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_user_tasks_open_created", table_name="user_tasks")
    op.drop_index("ix_user_tasks_open_due", table_name="user_tasks")
    with op.batch_alter_table("user_tasks", schema=None) as batch_op:
        batch_op.drop_column("subject_name")
        batch_op.drop_column("kind")
        batch_op.drop_column("summary")
