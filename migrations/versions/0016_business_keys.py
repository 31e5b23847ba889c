"""business keys: unique per process among unfinished top-level instances

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-01 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_USE = sa.text(
    "business_key IS NOT NULL AND parent_id IS NULL AND state IN ('running', 'suspended', 'error')"
)


def upgrade() -> None:
    with op.batch_alter_table("process_instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("definition_key", sa.String(length=120), nullable=True))
    op.execute(
        "UPDATE process_instances SET definition_key = (SELECT d.key FROM process_definitions d"
        " WHERE d.id = process_instances.definition_id)"
    )
    bind = op.get_bind()
    duplicates = bind.execute(
        sa.text(
            "SELECT definition_key, business_key, count(*) FROM process_instances"
            f" WHERE {IN_USE.text} GROUP BY definition_key, business_key HAVING count(*) > 1"
        )
    ).all()
    if duplicates:
        listed = ", ".join(f"{key}/{business_key} ({n})" for key, business_key, n in duplicates)
        raise RuntimeError(
            "unfinished instances share a business key; end or re-key all but one of each"
            f" first: {listed}"
        )
    with op.batch_alter_table("process_instances", schema=None) as batch_op:
        batch_op.alter_column("definition_key", existing_type=sa.String(length=120), nullable=False)
        batch_op.create_index(
            "uq_process_instances_business_key",
            ["definition_key", "business_key"],
            unique=True,
            sqlite_where=IN_USE,
            postgresql_where=IN_USE,
        )


def downgrade() -> None:
    with op.batch_alter_table("process_instances", schema=None) as batch_op:
        batch_op.drop_index("uq_process_instances_business_key")
        batch_op.drop_column("definition_key")
