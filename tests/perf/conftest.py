"""An instance of the bench's ten-task process (bench/fixtures), deployed through the API."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import auth

BENCH = Path(__file__).resolve().parents[2] / "bench" / "fixtures"


@pytest.fixture
def ten_steps(client):
    """An instance of the bench's ten-task process, its first task done (caches warm)."""
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
    return complete(client, response.json()["active_tasks"][0]["id"])


def complete(client, task_id: str) -> dict:
    response = client.post(
        f"/api/v1/tasks/{task_id}/complete",
        json={"data": {"note": "同意"}},
        headers=auth(client, "station1"),
    )
    assert response.status_code == 200, response.text
    return response.json()
