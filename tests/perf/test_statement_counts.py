"""Regression guards of a step's cost, counted over the real HTTP app with SQLAlchemy's
events (bench/counting.py; the same counts bench/run.py reports): statements, commits and
flushes of one completion and of one inbox page. Counts are exact, unlike timings; each
bound leaves a margin of one statement over what the code does today."""

from __future__ import annotations

from bench.counting import Counted
from tests.helpers import auth
from tests.perf.conftest import complete

# Today 7 on both databases: the instance locked, its open tasks, the two UPDATEs and the new
# task, then one INSERT of the step's history lines and one of its outbox events (the caller
# comes from the principal cache).
MAX_STATEMENTS_PER_COMPLETE = 8
MAX_STATEMENTS_PER_INBOX_PAGE = 2  # today 1: the page (a first page that is not full is all)
MAX_STATEMENTS_PER_FULL_INBOX_PAGE = 3  # today 2: the page and the count of the rest


def test_a_completion_is_one_flush_one_commit_and_few_statements(client, db, ten_steps):
    task_id = ten_steps["next_tasks"][0]["id"]
    with Counted(*db.db.engines) as counted:
        done = complete(client, task_id)
    assert counted.commits == 1, counted.summary()
    assert counted.flushes == 1, counted.summary()
    assert len(counted.statements) <= MAX_STATEMENTS_PER_COMPLETE, counted.summary()
    # and the answer built from the rows the step wrote is what a fresh read gives
    (next_task,) = done["next_tasks"]
    assert next_task["element_id"] == "t3"
    assert [t["id"] for t in done["instance"]["active_tasks"]] == [next_task["id"]]
    fresh = client.get(
        f"/api/v1/process-instances/{done['instance']['id']}", headers=auth(client, "station1")
    ).json()
    assert fresh["active_tasks"] == done["instance"]["active_tasks"]
    assert fresh["children"] == done["instance"]["children"] == []


def test_an_inbox_page_is_few_statements(client, db, ten_steps):
    headers = auth(client, "station1")
    with Counted(*db.db.engines) as counted:
        response = client.get("/api/v1/tasks", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 1
    assert counted.commits <= 1, counted.summary()
    assert len(counted.statements) <= MAX_STATEMENTS_PER_INBOX_PAGE, counted.summary()


def test_a_full_first_page_counts_the_rest(client, db, ten_steps):
    headers = auth(client, "station1")
    started = client.post(
        "/api/v1/process-definitions/bench_ten_steps/start", json={"variables": {}}, headers=headers
    )
    assert started.status_code == 201, started.text
    client.get("/api/v1/me", headers=headers).raise_for_status()  # the caller read
    with Counted(*db.db.engines) as counted:
        response = client.get("/api/v1/tasks", params={"per_page": 1}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 2
    assert any("count(" in s for s in counted.statements), counted.summary()
    assert len(counted.statements) <= MAX_STATEMENTS_PER_FULL_INBOX_PAGE, counted.summary()
