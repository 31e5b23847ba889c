"""Trips to the thread pool per request: each wakes a worker thread and then the event loop
again, which costs ~0.1 ms on this kind of machine. The endpoints of every step and inbox page
take one (their work, their answer and the commit: `db.dependencies.committed`); the
caller comes from the principal cache, the other dependencies are async."""

from __future__ import annotations

import anyio.to_thread
import pytest

from tests.helpers import auth
from tests.perf.conftest import complete


@pytest.fixture
def trips(monkeypatch):
    """The functions run in the thread pool while it is set."""
    ran: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(func, *args, **kwargs):
        ran.append(getattr(func, "func", func).__qualname__)
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    return ran


def test_a_completion_is_one_trip(client, ten_steps, trips):
    task_id = ten_steps["next_tasks"][0]["id"]
    client.get("/api/v1/me", headers=auth(client, "station1"))  # the caller read
    trips.clear()
    complete(client, task_id)
    assert len(trips) == 1, trips


def test_an_inbox_page_its_counts_and_a_task_are_one_trip_each(client, ten_steps, trips):
    headers = auth(client, "station1")
    client.get("/api/v1/me", headers=headers)
    for path in ("/api/v1/tasks", "/api/v1/tasks/counts", "/api/v1/tasks?per_page=1"):
        trips.clear()
        assert client.get(path, headers=headers).status_code == 200
        assert len(trips) == 1, (path, trips)
    trips.clear()
    task_id = ten_steps["next_tasks"][0]["id"]
    assert client.get(f"/api/v1/tasks/{task_id}", headers=headers).status_code == 200
    assert len(trips) == 1, trips


def test_a_start_is_one_trip(client, ten_steps, trips):
    headers = auth(client, "station1")
    client.get("/api/v1/me", headers=headers)
    trips.clear()
    started = client.post(
        "/api/v1/process-definitions/bench_ten_steps/start", json={"variables": {}}, headers=headers
    )
    assert started.status_code == 201, started.text
    assert len(trips) == 1, trips
