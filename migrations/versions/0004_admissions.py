"""admissions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 15:50:21.706388
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xueji.db.base  # noqa: F401  (UTCDateTime in column types)

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exam_number", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("gender", sa.String(length=2), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("major", sa.String(length=80), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("intake_year", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_admissions_station_id_stations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admissions")),
        sa.UniqueConstraint("exam_number", name=op.f("uq_admissions_exam_number")),
    )
    with op.batch_alter_table("admissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admissions_id_number"), ["id_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_admissions_station_id"), ["station_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("admissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admissions_station_id"))
        batch_op.drop_index(batch_op.f("ix_admissions_id_number"))

    op.drop_table("admissions")
