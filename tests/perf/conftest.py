"""An instance of the bench's ten-task process (bench/fixtures), deployed through the API."""

from __future__ import annotations

import pytest

from tests.helpers import auth, deploy_bench


@pytest.fixture
def ten_steps(client):
    """An instance of the bench's ten-task process, its first task done (caches warm)."""
    deploy_bench(client)
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
