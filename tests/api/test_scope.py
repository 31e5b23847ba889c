"""Out of scope is 404 — list, get, complete, history, XML — never 403 and never a leak."""

from __future__ import annotations

from tests.api.test_workflow import REVIEW, start_review
from tests.helpers import auth, deploy, tasks_of


def test_other_station_and_other_student_see_nothing(client):
    deploy(client, *REVIEW)
    instance = start_review(client, "stu1001")
    task_id = instance["active_tasks"][0]["id"]
    url = f"/api/v1/process-instances/{instance['id']}"
    for outsider in ("stu1002", "stu2001", "station2"):
        headers = auth(client, outsider)
        assert tasks_of(client, outsider) == []
        listed = client.get("/api/v1/process-instances", headers=headers).json()
        assert listed["items"] == [] and listed["total"] == 0
        assert client.get(url, headers=headers).status_code == 404
        assert client.get(f"{url}/history", headers=headers).status_code == 404
        assert client.get(f"{url}/xml", headers=headers).status_code == 404
        assert client.get(f"/api/v1/tasks/{task_id}", headers=headers).status_code == 404
        assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=headers).status_code == 404
        response = client.post(
            f"/api/v1/tasks/{task_id}/complete",
            json={"data": {"reason": "偷偷", "effective_term": "2027-春"}},
            headers=headers,
        )
        assert response.status_code == 404
    # The owner and the own station still see it; the task is untouched.
    assert client.get(url, headers=auth(client, "station1")).status_code == 200
    assert client.get(f"{url}/xml", headers=auth(client, "stu1001")).status_code == 200
    assert [t["id"] for t in tasks_of(client, "stu1001")] == [task_id]


def test_station_lists_only_its_own_instances(client):
    deploy(client, *REVIEW)
    own = start_review(client, "stu1001")
    start_review(client, "stu2001")
    listed = client.get("/api/v1/process-instances", headers=auth(client, "station1")).json()
    assert [i["id"] for i in listed["items"]] == [own["id"]]
    everything = client.get("/api/v1/process-instances", headers=auth(client, "registrar")).json()
    assert everything["total"] == 2
    filtered = client.get(
        "/api/v1/process-instances", params={"station": "S02"}, headers=auth(client, "registrar")
    ).json()
    assert [i["station"] for i in filtered["items"]] == ["S02"]


def test_unknown_ids_are_404(client):
    headers = auth(client, "admin")
    assert client.get("/api/v1/tasks/nope", headers=headers).status_code == 404
    assert client.get("/api/v1/process-instances/nope", headers=headers).status_code == 404
    assert client.get("/api/v1/process-definitions/nope", headers=headers).status_code == 404
    response = client.post("/api/v1/process-definitions/nope/start", json={}, headers=headers)
    assert response.status_code == 404
    assert response.json()["error"] == "NotFound"
