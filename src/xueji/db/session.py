"""Engine and session factories; `session_scope()` for background code that owns its transaction.

Writers to one process instance are serialised. On PostgreSQL a step locks its instance row
(`SELECT … FOR UPDATE`) and the version column catches anything that slips past. SQLite has
one writer at a time anyway: write transactions start with `BEGIN IMMEDIATE`, so a second
writer waits for the first to commit and then sees its result, instead of failing half-way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

_IMMEDIATE = "xueji_begin_immediate"
SHARED = "xueji_shared"
_HOLDS_WRITER_LOCK = "xueji_holds_writer_lock"
# As long as SQLite's busy timeout: past it, BEGIN IMMEDIATE meets the busy handler itself.
_WRITER_WAIT_SECONDS = 30


def make_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)

    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN, instead of pysqlite guessing.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    # This process's writers queue here and each goes on the moment the one before it has
    # committed, instead of retrying BEGIN IMMEDIATE in SQLite's busy handler, which sleeps
    # in steps of up to 100 ms (writers in other processes still meet that). Held from
    # BEGIN until the connection is back in the pool (after its COMMIT or ROLLBACK).
    writers = threading.Lock()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        if immediate and writers.acquire(timeout=_WRITER_WAIT_SECONDS):
            conn.info[_HOLDS_WRITER_LOCK] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        except BaseException:
            _release(conn.info)
            raise

    def _release(info) -> None:
        if info.pop(_HOLDS_WRITER_LOCK, False):
            writers.release()

    @event.listens_for(engine, "checkin")
    def _sqlite_checkin(dbapi_connection, record):
        _release(record.info)

    @event.listens_for(engine, "invalidate")
    def _sqlite_invalidate(dbapi_connection, record, exception):
        _release(record.info)

    return engine


@dataclass
class Database:
    """The engine and two session factories: read-only work, and work that writes."""

    engine: Engine
    reader: sessionmaker[Session]
    writer: sessionmaker[Session]
    # What this process keeps of this database across sessions (caches, by name); every
    # session of the two factories carries the same dict as `session.info[SHARED]`.
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str) -> Database:
    engine = make_engine(url)
    writer_engine = engine.execution_options(**{_IMMEDIATE: True})
    shared: dict[str, Any] = {}
    return Database(
        engine=engine,
        reader=sessionmaker(engine, expire_on_commit=False, info={SHARED: shared}),
        writer=sessionmaker(writer_engine, expire_on_commit=False, info={SHARED: shared}),
        shared=shared,
    )


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    session = factory()
    try:
        yield session
    except BaseException:
        abandon(session)
        raise
    commit_and_close(session)


def commit_and_close(session: Session) -> None:
    """Commit the session's work (rolled back if the commit fails) and close it."""
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def abandon(session: Session) -> None:
    """Roll the session's work back and close it."""
    try:
        session.rollback()
    finally:
        session.close()
