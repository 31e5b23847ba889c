"""Two users completing one task at once, through a real uvicorn server: one 200, one 409."""

from __future__ import annotations

import threading

import httpx

from tests.api.test_workflow import REVIEW
from tests.helpers import auth, deploy, tasks_of


def test_concurrent_completions_of_one_task_give_one_200_and_one_409(client, server):
    deploy(client, *REVIEW)
    body = {"data": {"reason": "工作调动", "effective_term": "2027-春"}}
    headers = auth(client, "stu1001")
    for _ in range(5):
        started = client.post(
            "/api/v1/process-definitions/review/start",
            json={"variables": {"kind": "休学"}},
            headers=headers,
        ).json()
        task_id = started["active_tasks"][0]["id"]
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def complete(task_id=task_id, barrier=barrier, statuses=statuses):
            with httpx.Client(base_url=server, timeout=60) as http:
                barrier.wait()
                statuses.append(
                    http.post(
                        f"/api/v1/tasks/{task_id}/complete", json=body, headers=headers
                    ).status_code
                )

        threads = [threading.Thread(target=complete) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(statuses) == [200, 409]

        history = client.get(
            f"/api/v1/process-instances/{started['id']}/history", headers=headers
        ).json()
        assert [h["kind"] for h in history].count("task_completed") == 1
        station_tasks = [
            t for t in tasks_of(client, "station1") if t["instance_id"] == started["id"]
        ]
        assert len(station_tasks) == 1
