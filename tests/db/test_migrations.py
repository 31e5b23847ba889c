"""The schema comes only from Alembic: migrations and models must agree."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, insert, text

from tests.helpers import postgres_database
from xueji.db.migrate import alembic_config
from xueji.models import Base, Deployment, ProcessDefinition, ProcessInstance


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


@pytest.fixture
def empty_database(tmp_path):
    """A database of its own: a SQLite file, or a new PostgreSQL database on the suite's
    server (dropped afterwards)."""
    server = os.environ.get("XUEJI_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    with postgres_database(server, "xueji_migration") as url:
        yield url


def test_the_suspension_of_open_tasks_is_backfilled_from_their_instances(empty_database):
    """Migration 0022: READY tasks of suspended instances are marked suspended (their version
    bumped, as by every change of a task); other rows are not."""
    engine = create_engine(empty_database)

    def migrate(step, revision):
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, revision)

    def tasks() -> dict[str, tuple[bool, int]]:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, suspended, version FROM user_tasks"))
            return {r.id: (bool(r.suspended), r.version) for r in rows}

    try:
        migrate(command.upgrade, "0021")
        at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
        with engine.begin() as connection:
            [deployment] = connection.execute(
                insert(Deployment.__table__).returning(Deployment.__table__.c.id),
                {"deployed_by": "admin", "deployed_at": at, "files": []},
            ).scalars()
            [definition] = connection.execute(
                insert(ProcessDefinition.__table__).returning(ProcessDefinition.__table__.c.id),
                {
                    "key": "p",
                    "version": 1,
                    "name": "p",
                    "file_name": "p.bpmn",
                    "xml": "<x/>",
                    "content_hash": "0" * 64,
                    "deployment_id": deployment,
                    "deployed_by": "admin",
                    "deployed_at": at,
                },
            ).scalars()
            connection.execute(
                insert(ProcessInstance.__table__),
                [
                    {
                        "id": state,
                        "definition_id": definition,
                        "definition_key": "p",
                        "state": state,
                        "engine_state": "{}",
                        "started_by": "admin",
                        "started_at": at,
                        "updated_at": at,
                    }
                    for state in ("running", "suspended", "terminated")
                ],
            )
            for task_id, instance, state in [
                ("running-open", "running", "ready"),
                ("suspended-open", "suspended", "ready"),
                ("suspended-done", "suspended", "completed"),
                ("terminated-cancelled", "terminated", "cancelled"),
            ]:
                connection.execute(
                    text(
                        "INSERT INTO user_tasks (id, instance_id, element_id, name, state,"
                        " escalation_level, created_at, version)"
                        " VALUES (:id, :instance, 't1', 't1', :state, 0, :at, 3)"
                    ),
                    {"id": task_id, "instance": instance, "state": state, "at": at},
                )
        migrate(command.upgrade, "0022")
        assert tasks() == {
            "running-open": (False, 3),
            "suspended-open": (True, 4),
            "suspended-done": (False, 3),
            "terminated-cancelled": (False, 3),
        }
        # and back: the column goes, the rows stay
        migrate(command.downgrade, "0021")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM user_tasks")).scalar() == 4
    finally:
        engine.dispose()
