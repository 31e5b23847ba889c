"""The whole path through the HTTP app: deploy, start, inbox by role and scope, claim, complete."""

from __future__ import annotations

import itertools

from tests.helpers import auth, deploy, tasks_of

_numbers = itertools.count(1)

REVIEW = [
    "review.bpmn",
    "review_start.schema.json",
    "review_apply.schema.json",
    "review_apply.uischema.json",
    "review_decide.schema.json",
]


def start_review(client, username="stu1001", **variables):
    response = client.post(
        "/api/v1/process-definitions/review/start",
        # Each case its own business key: an unfinished case's key is taken (409).
        json={"business_key": f"R-{next(_numbers)}", "variables": {"kind": "休学", **variables}},
        headers=auth(client, username),
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_deploy_start_and_complete_along_the_approved_path(client):
    deployed = deploy(client, *REVIEW)
    assert deployed["definitions"] == [
        {"key": "review", "version": 1, "name": "学籍异动（测试）", "kind": "bpmn", "new": True}
    ]

    instance = start_review(client)
    assert instance["state"] == "running"
    assert instance["station"] == "S01"
    [apply] = instance["active_tasks"]
    assert apply["name"] == "填写学籍异动审批表" and apply["role"] == "student"

    # Offered to the student who started it, and to nobody else's inbox.
    assert [t["id"] for t in tasks_of(client, "stu1001")] == [apply["id"]]
    assert tasks_of(client, "stu1002") == []
    assert tasks_of(client, "station1") == []
    assert tasks_of(client, "registrar") == []

    detail = client.get(f"/api/v1/tasks/{apply['id']}", headers=auth(client, "stu1001")).json()
    assert detail["form"]["schema"]["title"] == "学籍异动审批表"
    assert detail["form"]["ui_schema"] == {"reason": {"ui:widget": "textarea"}}
    assert detail["documentation"] == "请如实填写异动原因。"
    assert detail["data"]["kind"] == "休学"

    claimed = client.post(f"/api/v1/tasks/{apply['id']}/claim", headers=auth(client, "stu1001"))
    assert claimed.status_code == 200 and claimed.json()["assignee"] == "stu1001"
    assert tasks_of(client, "stu1001", assignee="me")[0]["id"] == apply["id"]

    invalid = client.post(
        f"/api/v1/tasks/{apply['id']}/complete",
        json={"data": {"reason": "x", "effective_term": "next year"}},
        headers=auth(client, "stu1001"),
    )
    assert invalid.status_code == 422
    fields = {p["field"] for p in invalid.json()["detail"]}
    assert fields == {"reason", "effective_term"}

    done = client.post(
        f"/api/v1/tasks/{apply['id']}/complete",
        json={"data": {"reason": "工作调动", "effective_term": "2027-春"}},
        headers=auth(client, "stu1001"),
    )
    assert done.status_code == 200, done.text
    assert done.json()["next_tasks"] == []  # the next task is the station's
    [station_task] = tasks_of(client, "station1")
    assert station_task["name"] == "函授站签署审核意见" and station_task["station"] == "S01"
    assert tasks_of(client, "station2") == []

    rejected_without_reason = client.post(
        f"/api/v1/tasks/{station_task['id']}/complete",
        json={"data": {"outcome": "rejected"}},
        headers=auth(client, "station1"),
    )
    assert rejected_without_reason.status_code == 422
    assert rejected_without_reason.json()["detail"] == [
        {"field": "reason", "message": "'reason' is required"}
    ]

    client.post(
        f"/api/v1/tasks/{station_task['id']}/complete",
        json={"data": {"outcome": "approved"}},
        headers=auth(client, "station1"),
    )
    [college] = tasks_of(client, "registrar")
    finished = client.post(
        f"/api/v1/tasks/{college['id']}/complete",
        json={"data": {"outcome": "approved"}},
        headers=auth(client, "registrar"),
    )
    assert finished.status_code == 200, finished.text
    result = finished.json()["instance"]
    assert result["state"] == "completed"
    assert result["variables"]["result"] == "通过"
    assert result["variables"]["decided_on"] == "2027-03-15"

    history = client.get(
        f"/api/v1/process-instances/{instance['id']}/history", headers=auth(client, "registrar")
    ).json()
    kinds = [(h["kind"], h["element_id"], h["actor"]) for h in history]
    assert kinds[0] == ("instance_started", None, "stu1001")
    assert ("task_claimed", "apply", "stu1001") in kinds
    completed = [(e, a) for k, e, a in kinds if k == "task_completed"]
    assert completed == [
        ("apply", "stu1001"),
        ("station_review", "station1"),
        ("college_review", "registrar"),
    ]
    assert ("element_completed", "record_result", "registrar") in kinds
    assert ("element_completed", "done_end", "registrar") in kinds
    assert kinds[-1] == ("instance_completed", None, "registrar")
    apply_line = next(h for h in history if h["kind"] == "task_completed")
    assert apply_line["data"] == {"reason": "工作调动", "effective_term": "2027-春"}


def test_rejection_ends_the_instance_at_the_station(client):
    deploy(client, *REVIEW)
    instance = start_review(client)
    [apply] = tasks_of(client, "stu1001")
    client.post(
        f"/api/v1/tasks/{apply['id']}/complete",
        json={"data": {"reason": "工作调动", "effective_term": "2027-春"}},
        headers=auth(client, "stu1001"),
    )
    [station_task] = tasks_of(client, "station1")
    response = client.post(
        f"/api/v1/tasks/{station_task['id']}/complete",
        json={"data": {"outcome": "rejected", "reason": "材料不全"}},
        headers=auth(client, "station1"),
    )
    assert response.json()["instance"]["state"] == "completed"
    history = client.get(
        f"/api/v1/process-instances/{instance['id']}/history", headers=auth(client, "stu1001")
    ).json()
    assert "rejected_end" in [h["element_id"] for h in history]
    assert "college_review" not in [h["element_id"] for h in history]


def test_completed_task_cannot_be_completed_again(client):
    deploy(client, *REVIEW)
    start_review(client)
    [apply] = tasks_of(client, "stu1001")
    body = {"data": {"reason": "工作调动", "effective_term": "2027-春"}}
    first = client.post(
        f"/api/v1/tasks/{apply['id']}/complete", json=body, headers=auth(client, "stu1001")
    )
    again = client.post(
        f"/api/v1/tasks/{apply['id']}/complete", json=body, headers=auth(client, "stu1001")
    )
    assert (first.status_code, again.status_code) == (200, 409)


def test_task_claimed_by_someone_else_is_a_conflict(client):
    deploy(client, *REVIEW)
    start_review(client)
    [apply] = tasks_of(client, "stu1001")
    client.post(
        f"/api/v1/tasks/{apply['id']}/complete",
        json={"data": {"reason": "工作调动", "effective_term": "2027-春"}},
        headers=auth(client, "stu1001"),
    )
    [station_task] = tasks_of(client, "station1")
    assert (
        client.post(
            f"/api/v1/tasks/{station_task['id']}/assign",
            json={"username": "station2"},
            headers=auth(client, "station1"),
        ).status_code
        == 422
    )
    client.post(f"/api/v1/tasks/{station_task['id']}/claim", headers=auth(client, "admin"))
    response = client.post(
        f"/api/v1/tasks/{station_task['id']}/complete",
        json={"data": {"outcome": "approved"}},
        headers=auth(client, "station1"),
    )
    assert response.status_code == 409
    assert tasks_of(client, "station1", unassigned="true") == []


def test_start_is_for_the_start_lane_role_only(client):
    deploy(client, *REVIEW)
    response = client.post(
        "/api/v1/process-definitions/review/start",
        json={"variables": {"kind": "休学"}},
        headers=auth(client, "station1"),
    )
    assert response.status_code == 403
    listed = client.get("/api/v1/process-definitions", headers=auth(client, "stu1001")).json()
    assert [(d["key"], d["startable"]) for d in listed] == [("review", True)]
    listed = client.get("/api/v1/process-definitions", headers=auth(client, "station1")).json()
    assert [(d["key"], d["startable"]) for d in listed] == [("review", False)]


def test_start_form_is_validated(client):
    deploy(client, *REVIEW)
    response = client.post(
        "/api/v1/process-definitions/review/start",
        json={"variables": {"kind": "出国"}},
        headers=auth(client, "stu1001"),
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "kind"
    listed = client.get("/api/v1/process-instances", headers=auth(client, "admin")).json()
    assert listed["total"] == 0


def test_suspended_instance_leaves_the_inbox_until_resumed(client):
    deploy(client, *REVIEW)
    instance = start_review(client)
    url = f"/api/v1/process-instances/{instance['id']}"
    assert client.post(f"{url}/suspend", headers=auth(client, "station1")).status_code == 403
    assert (
        client.post(f"{url}/suspend", headers=auth(client, "registrar")).json()["state"]
        == "suspended"
    )
    assert tasks_of(client, "stu1001") == []
    assert (
        client.post(f"{url}/resume", headers=auth(client, "registrar")).json()["state"] == "running"
    )
    assert len(tasks_of(client, "stu1001")) == 1
    terminated = client.post(f"{url}/terminate", headers=auth(client, "admin")).json()
    assert terminated["state"] == "terminated" and terminated["active_tasks"] == []
    assert client.post(f"{url}/resume", headers=auth(client, "registrar")).status_code == 409


def test_unauthenticated_calls_are_401(client):
    for path in (
        "/api/v1/me",
        "/api/v1/tasks",
        "/api/v1/process-definitions",
        "/api/v1/process-instances",
    ):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_me_names_roles_and_station(client):
    me = client.get("/api/v1/me", headers=auth(client, "station1")).json()
    assert me["username"] == "station1" and me["roles"] == ["station"] and me["station"] == "S01"
