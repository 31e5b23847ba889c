"""Counting what one request costs the database: statements sent (the transaction's BEGIN
left out, which PostgreSQL's driver sends implicitly), commits and ORM flushes, with
SQLAlchemy's events on a real engine. Used by bench/run.py and the suite's regression guards
(tests/perf/test_statement_counts.py)."""

from __future__ import annotations

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session


class Counted:
    def __init__(self, engine: Engine):
        self.engine = engine
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
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        event.listen(Session, "after_flush", self._flush)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)
        event.remove(Session, "after_flush", self._flush)

    def summary(self) -> str:
        lines = [
            f"{len(self.statements)} statements, {self.commits} commits, {self.flushes} flushes"
        ]
        lines += ["  " + " ".join(s.split())[:160] for s in self.statements]
        return "\n".join(lines)
