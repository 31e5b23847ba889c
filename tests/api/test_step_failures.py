"""A failing step rolls back completely, answers 422 naming the element, and leaves an incident."""

from __future__ import annotations

import pytest

from tests.helpers import auth, deploy, tasks_of

STEPS = ["steps.bpmn", "steps_enter.schema.json"]


def start_steps(client):
    response = client.post(
        "/api/v1/process-definitions/steps/start",
        json={"variables": {}},
        headers=auth(client, "registrar"),
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(
    "data, element, words",
    [
        ({"mode": "boom", "count": 1}, "compute", "ZeroDivisionError"),
        ({"mode": "loop", "count": 1}, "compute", "time limit"),
        ({"mode": "normal", "count": 0}, "size_gateway", "No conditions satisfied"),
    ],
)
def test_failed_step_is_rolled_back_and_kept_as_incident(client, data, element, words):
    deploy(client, *STEPS)
    instance = start_steps(client)
    [task] = tasks_of(client, "registrar")
    before = client.get(
        f"/api/v1/process-instances/{instance['id']}/history", headers=auth(client, "registrar")
    ).json()

    response = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": data},
        headers=auth(client, "registrar"),
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "EngineStepFailed"
    assert body["detail"]["element_id"] == element and words in body["detail"]["message"]

    # Nothing of the step remains: same open task, same history plus the failure line.
    assert [t["id"] for t in tasks_of(client, "registrar")] == [task["id"]]
    after = client.get(
        f"/api/v1/process-instances/{instance['id']}/history", headers=auth(client, "registrar")
    ).json()
    assert after[: len(before)] == before
    assert [(h["kind"], h["element_id"]) for h in after[len(before) :]] == [
        ("step_failed", element)
    ]
    detail = client.get(
        f"/api/v1/process-instances/{instance['id']}", headers=auth(client, "admin")
    ).json()
    assert detail["state"] == "running"
    assert [i["element_id"] for i in detail["incidents"]] == [element]
    incidents = client.get("/api/v1/incidents", headers=auth(client, "admin")).json()
    assert [(i["instance_id"], i["element_id"]) for i in incidents] == [(instance["id"], element)]
    assert client.get("/api/v1/incidents", headers=auth(client, "registrar")).status_code == 403

    # The instance is still usable: the same task completes with good data.
    ok = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"mode": "normal", "count": 3}},
        headers=auth(client, "registrar"),
    )
    assert ok.status_code == 200, ok.text
    assert [t["name"] for t in ok.json()["next_tasks"]] == ["小"]


def test_service_task_runs_registered_python(client):
    deploy(client, *STEPS)
    start_steps(client)
    [task] = tasks_of(client, "registrar")
    client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"mode": "normal", "count": 6}},
        headers=auth(client, "registrar"),
    )
    [big] = tasks_of(client, "registrar")
    assert big["name"] == "大"
    done = client.post(
        f"/api/v1/tasks/{big['id']}/complete", json={"data": {}}, headers=auth(client, "registrar")
    ).json()
    assert done["instance"]["state"] == "completed"
    assert done["instance"]["variables"]["echoed"] == {"total": 12}


def test_unknown_service_is_refused_at_deployment(client):
    from tests.helpers import FIXTURES

    xml = (FIXTURES / "steps.bpmn").read_bytes().replace(b'id="echo"', b'id="send_email"')
    response = client.post(
        "/api/v1/deployments",
        headers=auth(client, "admin"),
        files=[
            ("files", ("steps.bpmn", xml)),
            (
                "files",
                ("steps_enter.schema.json", (FIXTURES / "steps_enter.schema.json").read_bytes()),
            ),
        ],
    )
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["element_id"] == "notify" and "send_email" in problem["message"]


def test_first_step_failing_at_start_creates_nothing(client):
    from tests.helpers import FIXTURES

    xml = (
        (FIXTURES / "steps.bpmn")
        .read_text()
        .replace(
            "<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>",
            "<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>",
        )
        .replace('sourceRef="start" targetRef="enter"', 'sourceRef="start" targetRef="compute"')
    )
    xml = xml.replace(
        "<bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>",
        "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>",
    )
    deploy(client, ("steps.bpmn", xml.encode()), "steps_enter.schema.json")
    response = client.post(
        "/api/v1/process-definitions/steps/start",
        json={"variables": {}},
        headers=auth(client, "registrar"),
    )
    assert response.status_code == 422
    assert response.json()["detail"]["element_id"] == "compute"
    assert (
        client.get("/api/v1/process-instances", headers=auth(client, "admin")).json()["total"] == 0
    )
    incidents = client.get("/api/v1/incidents", headers=auth(client, "admin")).json()
    assert [(i["instance_id"], i["element_id"]) for i in incidents] == [(None, "compute")]
