"""Engine and session factories; `session_scope()` for background code that owns its transaction.

Writers to one process instance are serialised. On PostgreSQL a step locks its instance row
(`SELECT … FOR UPDATE`) and the version column catches anything that slips past. SQLite has
one writer at a time anyway: write transactions start with `BEGIN IMMEDIATE`, so a second
writer waits for the first to commit and then sees its result, instead of failing half-way.

On PostgreSQL, read-only work has a pool of its own, in autocommit and read-only: each
statement is its own transaction (under READ COMMITTED, what a transaction of several
statements saw anyway), so a GET sends no BEGIN and no COMMIT, and the server refuses any
write made through it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

_IMMEDIATE = "xueji_begin_immediate"
SHARED = "xueji_shared"
_HOLDS_WRITER_LOCK = "xueji_holds_writer_lock"
# As long as SQLite's busy timeout: past it, BEGIN IMMEDIATE meets the busy handler itself.
_WRITER_WAIT_SECONDS = 30
# A pooled PostgreSQL connection is pinged before use only when it has been idle this long:
# one back in the pool a moment ago is alive (HikariCP's aliveBypassWindowMs, 500 ms, is
# the same rule), and pinging it would add a round trip to every request.
PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "xueji_idle_since"
# PostgreSQL connections of one process: writers and readers together at most as many as the
# thread pool runs requests at once (anyio's 40).
_WRITERS, _MORE_WRITERS = 10, 10
_READERS, _MORE_READERS = 5, 15


def make_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return _ping_when_idle(create_engine(url, pool_size=_WRITERS, max_overflow=_MORE_WRITERS))

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


def make_reader_engine(url: str) -> Engine:
    """PostgreSQL's engine of read-only work: autocommit, and read-only on the server."""
    engine = _ping_when_idle(
        create_engine(
            url, isolation_level="AUTOCOMMIT", pool_size=_READERS, max_overflow=_MORE_READERS
        )
    )

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = on")
        if not dbapi_connection.autocommit:
            dbapi_connection.commit()

    return engine


def _ping_when_idle(engine: Engine) -> Engine:
    """Ping a connection at checkout if it was idle PING_AFTER_IDLE_SECONDS or longer; a dead
    one is replaced by a new connection (the pool retries on DisconnectionError)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection is gone") from exc

    return engine


@dataclass
class Database:
    """The engine and two session factories: read-only work, and work that writes. `engine`
    is the writers' (migrations, advisory locks); `reader_engine` the readers', the same one
    on SQLite."""

    engine: Engine
    reader_engine: Engine
    reader: sessionmaker[Session]
    writer: sessionmaker[Session]
    # What this process keeps of this database across sessions (caches, by name); every
    # session of the two factories carries the same dict as `session.info[SHARED]`.
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def engines(self) -> tuple[Engine, ...]:
        """Both engines, once each."""
        return tuple(dict.fromkeys((self.engine, self.reader_engine)))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        for engine in self.engines:
            engine.dispose()


def open_database(url: str) -> Database:
    engine = make_engine(url)
    writer_engine = engine.execution_options(**{_IMMEDIATE: True})
    reader_engine = engine if url.startswith("sqlite") else make_reader_engine(url)
    shared: dict[str, Any] = {}
    return Database(
        engine=engine,
        reader_engine=reader_engine,
        reader=sessionmaker(reader_engine, expire_on_commit=False, info={SHARED: shared}),
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
