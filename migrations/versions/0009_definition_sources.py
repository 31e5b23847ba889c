"""definition sources

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:00:00.000000

Each definition version records where it came from ("directory": processes/ deployed on start;
"upload": the API or `xueji deploy`) and the hash of its file with the forms it names, so that
start-up compares processes/ with what it deployed itself, not with an administrator's upload.
Existing versions deployed by "system" (start-up's name) are taken as the directory's; their
hashes are computed here from the stored XML and forms, as deploying them now would.
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

import xueji.db.base  # noqa: F401  (UTCDateTime in column types)

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

definitions = sa.table(
    "process_definitions",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("xml", sa.Text),
    sa.column("forms", sa.JSON),
    sa.column("deployed_by", sa.String),
    sa.column("source", sa.String),
    sa.column("source_hash", sa.String),
)
forms = sa.table("forms", sa.column("id", sa.Integer), sa.column("content_hash", sa.String))


def _sha256(*parts: bytes) -> str:
    # The same as xueji.definitions.service._sha256 (copied: a migration must not change later).
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("process_definitions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=20), server_default="upload", nullable=False)
        )
        batch_op.add_column(sa.Column("source_hash", sa.String(length=64), nullable=True))
    op.execute(
        definitions.update().where(definitions.c.deployed_by == "system").values(source="directory")
    )
    if context.is_offline_mode():
        return  # hashes need the rows; start-up then deploys processes/ once more
    bind = op.get_bind()
    form_hashes = dict(bind.execute(sa.select(forms.c.id, forms.c.content_hash)).all())
    rows = bind.execute(
        sa.select(definitions.c.id, definitions.c.kind, definitions.c.xml, definitions.c.forms)
    ).all()
    for row in rows:
        pinned = (row.forms or {}) if row.kind == "bpmn" else {}
        source_hash = _sha256(
            row.xml.encode("utf-8"),
            *(form_hashes.get(int(i), "").encode() for _, i in sorted(pinned.items())),
        )
        bind.execute(
            definitions.update().where(definitions.c.id == row.id).values(source_hash=source_hash)
        )


def downgrade() -> None:
    with op.batch_alter_table("process_definitions", schema=None) as batch_op:
        batch_op.drop_column("source_hash")
        batch_op.drop_column("source")
