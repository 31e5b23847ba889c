"""The schema comes only from Alembic: migrations and models must agree."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from xueji.models import Base


def test_models_and_migrations_agree(runtime):
    with runtime.db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_roles_are_seeded_by_the_migration(runtime):
    from sqlalchemy import select

    from xueji.auth.roles import ROLES
    from xueji.models import Role

    with runtime.db.reader() as session:
        rows = {r.key: r.name_zh for r in session.scalars(select(Role))}
    assert rows == {key: zh for key, (zh, _aliases) in ROLES.items()}
