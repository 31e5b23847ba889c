"""Regression guards of the step's cost: SQL statements, commits and flushes of one completion
and of one inbox page, counted in-process with SQLAlchemy events over the real HTTP app (the
counts are deterministic, unlike timings). bench/run.py reports the same counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event

from tests.helpers import auth, only_task

BENCH = Path(__file__).resolve().parents[2] / "bench" / "fixtures"


class Counter:
    def __init__(self, runtime):
        self.engine = runtime.db.engine
        self.statements: list[str] = []
        self.commits = 0
        self.flushes = 0

    def _statement(self, conn, cursor, statement, *args):
        self.statements.append(statement)

    def _commit(self, conn):
        self.commits += 1

    def _flush(self, session, context):
        self.flushes += 1

    def __enter__(self):
        from sqlalchemy.orm import Session

        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        event.listen(Session, "after_flush", self._flush)
        return self

    def __exit__(self, *exc):
        from sqlalchemy.orm import Session

        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)
        event.remove(Session, "after_flush", self._flush)


@pytest.fixture
def ten_steps(client):
    files = [
        ("files", (p.name, p.read_bytes()))
        for p in (BENCH / "bench_note.schema.json", BENCH / "bench_ten_steps.bpmn")
    ]
    response = client.post("/api/v1/deployments", files=files, headers=auth(client, "admin"))
    assert response.status_code == 201, response.text
    response = client.post(
        "/api/v1/process-definitions/bench_ten_steps/start",
        json={"variables": {}},
        headers=auth(client, "station1"),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_completion_costs_few_statements_one_flush_one_commit(client, db, ten_steps):
    headers = auth(client, "station1")
    for step in range(3):
        task = only_task(client, "station1", instance_id=ten_steps)
        with Counter(db) as counted:
            response = client.post(
                f"/api/v1/tasks/{task['id']}/complete",
                json={"data": {"note": f"第{step}步"}},
                headers=headers,
            )
        assert response.status_code == 200, response.text
        print(step, len(counted.statements), counted.commits, counted.flushes)
        for s in counted.statements:
            print("   ", s[:150].replace("\n", " "))
