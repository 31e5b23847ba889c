"""PostgreSQL advisory locks that serialise work across processes: migrating the schema, and
a replica's start-up (migrate, deploy processes/, seed the demo), so that replicas started
at the same moment take turns instead of failing on each other's rows. SQLite has one
writer at a time and needs none."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text

# Keys of pg_advisory_xact_lock (any 64-bit numbers, the same in every process).
MIGRATION = 0x78756A6901
STARTUP = 0x78756A6902


def advisory_xact_lock(connection: Connection, key: int) -> None:
    """Wait for the lock `key`; it is held until the connection's transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


@contextmanager
def held(engine: Engine, key: int) -> Iterator[None]:
    """Hold the lock `key` (on a connection of its own) for the duration of the block."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection, connection.begin():
        advisory_xact_lock(connection, key)
        yield
