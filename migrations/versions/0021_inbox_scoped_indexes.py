"""partial indexes of open tasks within a role and station (a station's inbox pages), in place
of the index on (state, role, station_id)

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("state = 'ready'")
COLUMNS = {"due": "due_at", "created": "created_at"}


def upgrade() -> None:
    op.drop_index("ix_user_tasks_inbox", table_name="user_tasks")
    for key, column in COLUMNS.items():
        op.create_index(
            f"ix_user_tasks_open_scoped_{key}",
            "user_tasks",
            ["role", "station_id", column, "id"],
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        )


def downgrade() -> None:
    for key in COLUMNS:
        op.drop_index(f"ix_user_tasks_open_scoped_{key}", table_name="user_tasks")
    op.create_index("ix_user_tasks_inbox", "user_tasks", ["state", "role", "station_id"])
