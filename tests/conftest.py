"""Shared fixtures: a real database (SQLite, or PostgreSQL when XUEJI_TEST_DATABASE_URL is set),
migrated once per run with the demo accounts; each test starts with no definitions or instances."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import delete, exists, select, update

from tests.helpers import postgres_database
from xueji.app import create_app
from xueji.auth import principal_cache
from xueji.config import Settings, get_settings
from xueji.db.migrate import upgrade
from xueji.db.session import session_scope
from xueji.demo import seed_demo
from xueji.events.service import clear_webhook_cache
from xueji.models import (
    Admission,
    ApiToken,
    Attachment,
    AuditEntry,
    Course,
    Deployment,
    Form,
    Grade,
    HistoryEvent,
    ImportJob,
    Incident,
    Major,
    OutboxEvent,
    ProcessDefinition,
    ProcessInstance,
    SchoolClass,
    Sequence,
    Station,
    StatusChange,
    Student,
    ThesisResult,
    Timer,
    Upload,
    User,
    UserTask,
    Webhook,
    WebhookDelivery,
    WorkerHeartbeat,
    user_roles,
)
from xueji.models.auth import LoginAttempt
from xueji.wiring import build_runtime

# Cheap argon2 parameters for every password hash the tests make (demo accounts, new users,
# check-ins), here and in the subprocesses they start: at the production cost one login takes
# ~0.2 s, which was most of the suite's time. Read when the first hash is made.
os.environ["XUEJI_PASSWORD_HASHING"] = "fast"
get_settings.cache_clear()

HERE = Path(__file__).parent
# Rows of these tables belong to one test; users, stations and students are the demo's.
PER_TEST_TABLES = [
    AuditEntry,
    WorkerHeartbeat,
    ImportJob,
    LoginAttempt,  # a fuzz's wrong passwords must not throttle the next test's logins
    WebhookDelivery,
    Webhook,
    OutboxEvent,
    StatusChange,
    Grade,
    ThesisResult,
    Sequence,
    HistoryEvent,
    Incident,
    Timer,
    UserTask,
    ProcessInstance,
    ProcessDefinition,
    Form,
    Deployment,
]
# Record tables whose demo rows are put back as they were seeded, and other rows removed.
RESTORED_TABLES = [Student, Admission, SchoolClass, Course, Major]
# Emptied with the per-test tables (rows may name instances), then the demo's put back.
REINSERTED_TABLES = [Grade]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    server = os.environ.get("XUEJI_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    with postgres_database(server, "xueji_test") as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url, tmp_path_factory):
    empty = tmp_path_factory.mktemp("empty")
    return Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("var"),
        secret_key="test-secret-key-not-for-production-0123456789",
        processes_dir=empty,
        forms_dir=empty,
        run_worker=False,
    )


@pytest.fixture(scope="session")
def runtime(settings):
    runtime = build_runtime(settings)
    upgrade(runtime.db.engine)
    with session_scope(runtime.db.writer) as session:
        seed_demo(session)
    with runtime.db.reader() as session:
        runtime.demo_user_ids = list(session.scalars(select(User.id)))
        runtime.demo_rows = {
            model: [dict(row._mapping) for row in session.execute(select(model.__table__))]
            for model in [*RESTORED_TABLES, *REINSERTED_TABLES, Station]
        }
    yield runtime
    runtime.db.dispose()


@pytest.fixture
def db(runtime):
    """The runtime, with this test's workflow tables empty."""
    with session_scope(runtime.db.writer) as session:
        session.execute(
            update(Student).where(Student.photo_upload_id.is_not(None)).values(photo_upload_id=None)
        )
        # One query says which tables the last test left rows in; only those are emptied.
        tables = [Attachment, Upload, *PER_TEST_TABLES, ApiToken]
        filled = session.execute(
            select(*(exists().select_from(t.__table__).label(t.__tablename__) for t in tables))
        ).one()
        for table, has_rows in zip(tables, filled, strict=True):
            if has_rows:
                session.execute(delete(table))
        for model in RESTORED_TABLES:
            _restore(session, model, runtime.demo_rows[model])
        for model in REINSERTED_TABLES:
            if runtime.demo_rows[model]:
                session.execute(model.__table__.insert(), runtime.demo_rows[model])
        # Accounts the test made (demo accounts stay).
        extra_users = list(
            session.scalars(select(User.id).where(User.id.not_in(runtime.demo_user_ids)))
        )
        if extra_users:
            session.execute(delete(user_roles).where(user_roles.c.user_id.in_(extra_users)))
            session.execute(delete(User).where(User.id.in_(extra_users)))
        _restore(session, Station, runtime.demo_rows[Station])
    runtime.specs = type(runtime.specs)()
    clear_webhook_cache()  # the rows were deleted in SQL, behind the cache's back
    principal_cache.of(runtime.db.shared).forget()  # and the users restored
    return runtime


def _restore(session, model, rows: list[dict]) -> None:
    """Put the table back to the demo's rows: remove the others, rewrite the changed ones."""
    table = model.__table__
    demo = {row["id"]: row for row in rows}
    current = {row.id: dict(row._mapping) for row in session.execute(select(table))}
    extra = [id_ for id_ in current if id_ not in demo]
    if extra:
        session.execute(delete(table).where(table.c.id.in_(extra)))
    for id_, row in demo.items():
        if current.get(id_, row) != row:
            session.execute(update(table).where(table.c.id == id_).values(**row))


@pytest.fixture(scope="session")
def api_app(runtime):
    """One app for the run: building one (routers, dependencies) takes ~0.15 s, and it holds
    nothing of its own but the runtime, whose per-test state `db` resets."""
    return create_app(runtime.settings, runtime, prepare_on_start=False)


@pytest.fixture
def client(db, api_app):
    with TestClient(api_app) as test_client:
        yield test_client


@pytest.fixture
def server(db):
    """The app served by a real uvicorn server in a thread (for concurrent HTTP clients)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(db.settings, db, prepare_on_start=False),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
