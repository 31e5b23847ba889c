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


@pytest.fixture(autouse=True)
def _postgresql_only(db):
    if db.db.is_sqlite:
        pytest.skip("exchanges with a server: PostgreSQL only")


def test_an_inbox_page_is_one_exchange(client, db, ten_steps):
    headers = auth(client, "station1")
    client.get("/api/v1/tasks", headers=headers).raise_for_status()  # a pooled connection
    with Exchanges(*db.db.engines) as exchanges:
        client.get("/api/v1/tasks", headers=headers).raise_for_status()
    assert (exchanges.begins, exchanges.commits, exchanges.pings) == (0, 0, 0), exchanges.summary()
    assert exchanges.total == 1, exchanges.summary()


def test_a_completion_is_its_statements_in_one_transaction(client, db, ten_steps):
    task_id = ten_steps["next_tasks"][0]["id"]
    with Exchanges(*db.db.engines) as exchanges, Counted(*db.db.engines) as counted:
        complete(client, task_id)
    assert (exchanges.begins, exchanges.commits, exchanges.pings) == (1, 1, 0), exchanges.summary()
    assert exchanges.total == len(counted.statements) + 2, exchanges.summary()
