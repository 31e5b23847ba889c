"""PostgreSQL's two pools: readers in autocommit and read-only on the server, and pooled
connections pinged before use only after they sat idle (xueji.db.session)."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InternalError

from tests.helpers import postgres_database
from xueji.db import session as sessions
from xueji.db.session import open_database, session_scope

SERVER = os.environ.get("XUEJI_TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not SERVER, reason="PostgreSQL's pools")


@pytest.fixture
def database():
    assert SERVER is not None
    with postgres_database(SERVER, "xueji_pools") as url:
        db = open_database(url)
        with db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE probe (n int)"))
        try:
            yield db
        finally:
            db.dispose()


def test_readers_run_in_autocommit_and_cannot_write(database):
    with database.reader() as session:
        assert session.connection().connection.dbapi_connection.autocommit
        assert session.scalar(text("SHOW default_transaction_read_only")) == "on"
        with pytest.raises(InternalError, match="read-only transaction"):
            session.execute(text("INSERT INTO probe VALUES (1)"))
    with session_scope(database.writer) as session:  # writers write
        session.execute(text("INSERT INTO probe VALUES (2)"))
    with database.reader() as session:
        assert session.scalars(text("SELECT n FROM probe")).all() == [2]


def _kill_pooled_connections(database) -> None:
    """Both pools hold an idle connection; the server ends them (as a restart would)."""
    with database.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    with database.reader() as session:
        session.execute(text("SELECT 1"))
    other = open_database(database.engine.url.set(database="postgres").render_as_string(False))
    try:
        with other.engine.connect() as connection:
            killed = connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'"
                ),
                {"name": database.engine.url.database},
            ).all()
    finally:
        other.dispose()
    assert len(killed) == 2, killed
    time.sleep(0.2)


def test_a_connection_idle_past_the_window_is_pinged_and_replaced(database, monkeypatch):
    monkeypatch.setattr(sessions, "PING_AFTER_IDLE_SECONDS", 0.1)
    _kill_pooled_connections(database)
    with session_scope(database.writer) as session:
        session.execute(text("INSERT INTO probe VALUES (3)"))
    with database.reader() as session:
        assert session.scalars(text("SELECT n FROM probe")).all() == [3]


def test_within_the_window_there_is_no_ping(database, monkeypatch):
    monkeypatch.setattr(sessions, "PING_AFTER_IDLE_SECONDS", 3600)
    _kill_pooled_connections(database)
    with pytest.raises(DBAPIError), database.reader() as session:
        session.execute(text("SELECT 1"))
