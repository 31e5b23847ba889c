"""PostgreSQL: every exchange with the server a request costs, from libpq's trace
(bench/counting.py Exchanges), including what SQLAlchemy's events do not see. Reads go
through the reader pool (autocommit: no BEGIN, no COMMIT) and a pooled connection used a
moment ago is not pinged, so a page is one exchange and a completion its statements plus
its transaction's BEGIN and COMMIT."""

from __future__ import annotations

import pytest

from bench.counting import Counted, Exchanges
from tests.helpers import auth
from tests.perf.conftest import complete
from xueji.auth import principal_cache


@pytest.fixture(autouse=True)
def _postgresql_only(db):
    if db.db.is_sqlite:
        pytest.skip("exchanges with a server: PostgreSQL only")


def test_an_inbox_page_sends_no_begin_commit_or_ping(client, db, ten_steps):
    headers = auth(client, "station1")
    client.get("/api/v1/tasks", headers=headers).raise_for_status()  # a pooled connection
    with Exchanges(*db.db.engines) as exchanges, Counted(*db.db.engines) as counted:
        client.get("/api/v1/tasks", headers=headers).raise_for_status()
    assert (exchanges.begins, exchanges.commits, exchanges.pings) == (0, 0, 0), exchanges.summary()
    # Its one statement; and the caller's row when the principal cache's 2 s ran out meanwhile
    # (one more statement, one more exchange: never a BEGIN, a COMMIT or a ping). psycopg may
    # add one of its own on a connection of a long-used pool: the suite's PostgreSQL run saw
    # 2 exchanges for 1 statement once, with no BEGIN, COMMIT, ping or preparation.
    assert len(counted.statements) <= 2, counted.summary()
    assert exchanges.total <= len(counted.statements) + 1, (
        exchanges.summary() + "\n" + counted.summary()
    )
    assert sum("FROM user_tasks" in s for s in counted.statements) == 1, counted.summary()


def test_a_completion_is_its_statements_in_one_transaction(client, db, ten_steps):
    task_id = ten_steps["next_tasks"][0]["id"]
    with Exchanges(*db.db.engines) as exchanges, Counted(*db.db.engines) as counted:
        complete(client, task_id)
    assert (exchanges.begins, exchanges.commits, exchanges.pings) == (1, 1, 0), exchanges.summary()
    # its statements, BEGIN and COMMIT (and at most one of psycopg's own, as on a page)
    assert exchanges.total - (len(counted.statements) + 2) in (0, 1), exchanges.summary()


def test_a_statement_prepared_on_its_fifth_run_is_counted_apart(db):
    """psycopg prepares a statement on a connection the fifth time it runs there, in an
    exchange of its own: that one is counted as a preparation, not as the request's cost
    (which of the pool's connections a request gets decides when it happens)."""
    with db.db.engine.connect() as connection:
        with Exchanges(db.db.engine) as exchanges:
            dbapi_connection = connection.connection.dbapi_connection
            exchanges._trace(dbapi_connection, None, None)
            for n in range(7):
                dbapi_connection.execute("SELECT %s::int", (n,)).fetchall()
            exchanges._untrace(dbapi_connection, None)
        connection.rollback()
    # seven statements and their transaction's BEGIN, and one preparation
    assert (exchanges.total, exchanges.prepares) == (7 + 1, 1), exchanges.summary()


def test_the_callers_row_read_afresh_is_one_exchange_more(client, db, ten_steps):
    headers = auth(client, "station1")
    client.get("/api/v1/tasks", headers=headers).raise_for_status()
    principal_cache.of(db.db.shared).forget()  # as when its 2 s run out
    with Exchanges(*db.db.engines) as exchanges, Counted(*db.db.engines) as counted:
        client.get("/api/v1/tasks", headers=headers).raise_for_status()
    assert (exchanges.begins, exchanges.commits, exchanges.pings) == (0, 0, 0), exchanges.summary()
    assert exchanges.total == len(counted.statements) == 2, counted.summary()
