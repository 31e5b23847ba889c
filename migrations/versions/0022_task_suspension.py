"""user_tasks.suspended: whether the task's instance is suspended, kept on the row (backfilled
from the instances), and the inbox's partial indexes of open tasks narrowed to the rows the
inbox shows (open, not suspended)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("state = 'ready'")
# As the models write it (xueji.models.tasks.INBOX_ROWS), per database.
INBOX_ROWS = {
    "postgresql_where": sa.text("state = 'ready' AND NOT suspended"),
    "sqlite_where": sa.text("state = 'ready' AND suspended = 0"),
}
INDEXES = {
    "ix_user_tasks_open_due": ["due_at", "id"],
    "ix_user_tasks_open_created": ["created_at", "id"],
    "ix_user_tasks_open_scoped_due": ["role", "station_id", "due_at", "id"],
    "ix_user_tasks_open_scoped_created": ["role", "station_id", "created_at", "id"],
}


def upgrade() -> None:
    with op.batch_alter_table("user_tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("suspended", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    tasks = sa.table(
        "user_tasks",
        sa.column("instance_id", sa.String),
        sa.column("state", sa.String),
        sa.column("suspended", sa.Boolean),
        sa.column("version", sa.Integer),
    )
    instances = sa.table("process_instances", sa.column("id", sa.String), sa.column("state"))
    # The open tasks of suspended instances; like every UPDATE of a task, it bumps `version`.
    op.execute(
        tasks.update()
        .where(
            tasks.c.state == "ready",
            tasks.c.instance_id.in_(
                sa.select(instances.c.id).where(instances.c.state == "suspended")
            ),
        )
        .values(suspended=sa.true(), version=tasks.c.version + 1)
    )
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="user_tasks")
        op.create_index(name, "user_tasks", columns, **INBOX_ROWS)


def downgrade() -> None:
    # The indexes are dropped before the column and made after it: SQLite drops a column by
    # copying the table, which would not carry their conditions over.
    for name in INDEXES:
        op.drop_index(name, table_name="user_tasks")
    with op.batch_alter_table("user_tasks", schema=None) as batch_op:
        batch_op.drop_column("suspended")
    for name, columns in INDEXES.items():
        op.create_index(name, "user_tasks", columns, postgresql_where=OPEN, sqlite_where=OPEN)
