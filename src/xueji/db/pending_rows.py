"""Append-only rows the ORM need not track (history lines, outbox events), gathered per
session and written by one INSERT per table (an executemany of every row of it), after the
session's own flush, instead of one ORM object each (and, on SQLite, one INSERT … RETURNING
each). Nothing reads them back as objects; queries in the same transaction still see them:

- the session's commit writes them first (`before_commit`);
- any statement the session executes while autoflush is on writes them first, as autoflush
  would write objects (inside `no_autoflush`, as in a step's save, they wait);
- `write(session)` writes them at once (a step's save, after its one flush);
- a transaction that ends without commit drops them, with everything else it held.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, Table, event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

_KEY = "xueji.pending_rows"


def add(session: Session, table: Table, row: dict[str, Any]) -> None:
    """Queue one row of `table` (every column it sets; each table's rows set the same ones)."""
    session.info.setdefault(_KEY, {}).setdefault(table, []).append(row)


def take(session: Session, table: Table) -> list[dict[str, Any]]:
    """Take the queued rows of `table` back (the caller writes them otherwise)."""
    return session.info.get(_KEY, {}).pop(table, [])


def write(session: Session) -> None:
    """Write the queued rows now: the session's pending objects first (the rows refer to
    them), then one statement per table."""
    pending: dict[Table, list[dict[str, Any]]] | None = session.info.pop(_KEY, None)
    if not pending:
        return
    session.flush()
    connection = session.connection()
    for table, rows in pending.items():
        # an executemany of the table's one INSERT: a multi-row VALUES built for the rows
        # at hand costs 3-6 times as much to make and compile (measured for two rows)
        connection.execute(_insert(table), rows)


_INSERTS: dict[Table, Insert] = {}


def _insert(table: Table) -> Insert:
    statement = _INSERTS.get(table)
    if statement is None:
        statement = _INSERTS.setdefault(table, table.insert())
    return statement


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    write(session)


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    session = state.session
    if _KEY in session.info and session.autoflush:
        write(session)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_KEY, None)
