"""Counting what one request costs the database: statements sent (the transaction's BEGIN
left out, which PostgreSQL's driver sends implicitly), commits and ORM flushes, with
SQLAlchemy's events on a real engine (`Counted`); on PostgreSQL also every exchange with the
server, the driver's BEGIN and COMMIT and the pool's pings included (`Exchanges`). Used by
bench/run.py and the suite's regression guards (tests/perf/test_statement_counts.py)."""

from __future__ import annotations

import tempfile
from typing import Any

from psycopg import pq
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session


class Counted:
    """Counts over `engines` (a Database's `engines`: on PostgreSQL readers have their own)."""

    def __init__(self, *engines: Engine):
        self.engines = list(dict.fromkeys(engines))
        self.statements: list[str] = []
        self.commits = 0
        self.flushes = 0

    def _statement(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            self.statements.append(statement)

    def _commit(self, conn) -> None:
        self.commits += 1

    def _flush(self, session, context) -> None:
        self.flushes += 1

    def __enter__(self) -> Counted:
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._statement)
            event.listen(engine, "commit", self._commit)
        event.listen(Session, "after_flush", self._flush)
        return self

    def __exit__(self, *exc) -> None:
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._statement)
            event.remove(engine, "commit", self._commit)
        event.remove(Session, "after_flush", self._flush)

    def summary(self) -> str:
        lines = [
            f"{len(self.statements)} statements, {self.commits} commits, {self.flushes} flushes"
        ]
        lines += ["  " + " ".join(s.split())[:160] for s in self.statements]
        return "\n".join(lines)


class Exchanges:
    """PostgreSQL only: what one request costs in exchanges with the server, from libpq's
    own trace of every connection checked out meanwhile, so that what SQLAlchemy's events
    do not see is counted too: the driver's BEGIN and COMMIT, and the pool's pings.

    An exchange is what ends with the server's ReadyForQuery: one statement, a BEGIN, a
    COMMIT, a ping, or an executemany (sent as one pipeline). psycopg prepares a statement
    on a connection the fifth time it runs there, in an exchange of its own (a Parse alone):
    those are counted apart (`prepares`), so that `total` is what every request costs once
    its connections are warm, whichever of the pool's connections it was given."""

    def __init__(self, *engines: Engine):
        self.engines = list(dict.fromkeys(engines))
        self.lines: list[str] = []
        self._files: dict[int, Any] = {}

    def _trace(self, dbapi_connection, _record, _proxy) -> None:
        trace = tempfile.TemporaryFile("w+")
        self._files[id(dbapi_connection)] = trace
        dbapi_connection.pgconn.trace(trace.fileno())
        dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)

    def _untrace(self, dbapi_connection, _record) -> None:
        trace = self._files.pop(id(dbapi_connection), None)
        if trace is None:
            return
        dbapi_connection.pgconn.untrace()  # flushes libpq's buffer
        trace.seek(0)
        self.lines += trace.read().splitlines()
        trace.close()

    def __enter__(self) -> Exchanges:
        for engine in self.engines:
            # before the pool's own checkout listener, so that its ping is traced too
            event.listen(engine, "checkout", self._trace, insert=True)
            event.listen(engine, "checkin", self._untrace)
        return self

    def __exit__(self, *exc) -> None:
        for engine in self.engines:
            event.remove(engine, "checkout", self._trace)
            event.remove(engine, "checkin", self._untrace)

    def _sent(self, query: str) -> int:
        """How many times `query` was sent (as a simple Query, or parsed)."""
        sent = 0
        for line in self.lines:
            fields = line.split("\t")
            if len(fields) < 4 or fields[0] != "F":
                continue
            if fields[2] == "Query" and fields[3] == f' "{query}"':
                sent += 1
            elif fields[2] == "Parse" and f' "{query}"' in fields[3]:
                sent += 1
        return sent

    def _exchanges(self) -> list[list[str]]:
        """The messages the client sent in each exchange, in order."""
        exchanges, sent = [], []
        for line in self.lines:
            fields = line.split("\t")
            if len(fields) < 3:
                continue
            if fields[0] == "F":
                sent.append(fields[2])
            elif fields[0] == "B" and fields[2] == "ReadyForQuery":
                exchanges.append(sent)
                sent = []
        return exchanges

    @property
    def total(self) -> int:
        return sum(1 for sent in self._exchanges() if sent != ["Parse", "Sync"])

    @property
    def prepares(self) -> int:
        return sum(1 for sent in self._exchanges() if sent == ["Parse", "Sync"])

    @property
    def begins(self) -> int:
        return self._sent("BEGIN")

    @property
    def commits(self) -> int:
        return self._sent("COMMIT")

    @property
    def pings(self) -> int:
        return self._sent("SELECT 1")

    def summary(self) -> str:
        return (
            f"{self.total} exchanges ({self.begins} BEGIN, {self.commits} COMMIT, "
            f"{self.pings} pings; and {self.prepares} statements prepared)"
        )
