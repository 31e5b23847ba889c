"""Claim and assign act only on what the caller read: tasks carry a `version`, bumped by every
change; a stale `version` is 409; without one, two simultaneous assigns cannot both win."""

from __future__ import annotations

import threading

import httpx
from sqlalchemy import select

from tests.api.test_workflow import REVIEW
from tests.helpers import auth, deploy, history_kinds, tasks_of
from xueji.models import UserTask

# One task of the registrars' (学院学籍管理) lane: registrars and admins both see it.
RACE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="assign_race_definitions" targetNamespace="http://xueji.example/test">
  <bpmn:process id="assign_race" name="指派测试" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_registrar" name="学院学籍管理">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>check</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="开始"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="check" name="审核">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end" name="结束"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


def start_registrar_task(client) -> dict:
    started = client.post(
        "/api/v1/process-definitions/assign_race/start",
        json={"variables": {}},
        headers=auth(client, "registrar"),
    )
    assert started.status_code == 201, started.text
    return started.json()["active_tasks"][0]


def start_apply_task(client) -> dict:
    """A new 学籍异动 instance of stu1001; its first task (the student's, unassigned)."""
    started = client.post(
        "/api/v1/process-definitions/review/start",
        json={"variables": {"kind": "休学"}},
        headers=auth(client, "stu1001"),
    )
    assert started.status_code == 201, started.text
    return started.json()["active_tasks"][0]


def detail(client, task_id, username="admin") -> dict:
    response = client.get(f"/api/v1/tasks/{task_id}", headers=auth(client, username))
    assert response.status_code == 200, response.text
    return response.json()


def post(client, task_id, action, as_user, **body):
    return client.post(
        f"/api/v1/tasks/{task_id}/{action}", json=body or None, headers=auth(client, as_user)
    )


def test_the_version_is_shown_and_bumped_by_every_change(client):
    deploy(client, *REVIEW)
    task = start_apply_task(client)
    assert detail(client, task["id"])["version"] == 1
    assert tasks_of(client, "stu1001")[0]["version"] == 1

    claimed = post(client, task["id"], "claim", "stu1001", version=1)
    assert claimed.status_code == 200 and claimed.json()["version"] == 2
    assert detail(client, task["id"])["version"] == 2
    # Claiming one's own task again changes nothing.
    again = post(client, task["id"], "claim", "stu1001")
    assert again.status_code == 200 and again.json()["version"] == 2

    stale = post(client, task["id"], "unclaim", "stu1001", version=1)
    assert stale.status_code == 409 and stale.json()["error"] == "Conflict"
    assert "version 1, now 2" in stale.json()["detail"]
    unclaimed = post(client, task["id"], "unclaim", "stu1001", version=2)
    assert unclaimed.status_code == 200 and unclaimed.json()["version"] == 3
    assert post(client, task["id"], "claim", "stu1001", version=2).status_code == 409
    assert post(client, task["id"], "claim", "stu1001", version=3).status_code == 200

    done = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"reason": "工作调动", "effective_term": "2027-春"}},
        headers=auth(client, "stu1001"),
    )
    assert done.status_code == 200, done.text
    assert detail(client, task["id"], "admin")["version"] == 5


def test_assign_takes_a_held_task_only_from_a_registrar_who_sent_the_version(client):
    deploy(client, ("assign_race.bpmn", RACE))
    task = start_registrar_task(client)
    first = post(client, task["id"], "assign", "registrar", username="registrar")
    assert first.status_code == 200 and first.json()["assignee"] == "registrar"
    # Even a task one holds is handed on only with the version: it may be newly assigned.
    blind_own = post(client, task["id"], "assign", "registrar", username="admin")
    assert blind_own.status_code == 409
    version = first.json()["version"]
    mine = post(client, task["id"], "assign", "registrar", username="admin", version=version)
    assert mine.status_code == 200 and mine.json()["assignee"] == "admin"
    version = mine.json()["version"]

    # Held by someone else: without the version even a registrar is refused, and told why.
    blind = post(client, task["id"], "assign", "registrar", username="registrar")
    assert blind.status_code == 409
    assert blind.json()["detail"] == (
        f"the task is assigned to admin; to re-assign it, send the task's version (now {version})"
    )
    stale = post(
        client, task["id"], "assign", "registrar", username="registrar", version=version - 1
    )
    assert stale.status_code == 409
    explicit = post(
        client, task["id"], "assign", "registrar", username="registrar", version=version
    )
    assert explicit.status_code == 200 and explicit.json()["assignee"] == "registrar"
    assert explicit.json()["version"] == version + 1
    assert detail(client, task["id"])["assignee"] == "registrar"
    kinds = [k for k, _ in history_kinds(client, task["instance_id"])]
    assert kinds.count("task_assigned") == 3


def test_a_role_holder_cannot_take_a_task_someone_else_holds(client):
    deploy(client, "deadline.bpmn")
    started = client.post(
        "/api/v1/process-definitions/deadline/start",
        json={"variables": {}},
        headers=auth(client, "station1"),
    )
    assert started.status_code == 201, started.text
    task = started.json()["active_tasks"][0]
    assert post(client, task["id"], "assign", "admin", username="admin").status_code == 200
    version = detail(client, task["id"])["version"]
    taken = post(client, task["id"], "assign", "station1", username="station1", version=version)
    assert taken.status_code == 409
    assert taken.json()["detail"] == "the task is claimed by admin"


def race(server, calls) -> list[int]:  # noqa: F811
    """Send the (username, path, body) calls at the same instant; their statuses."""
    barrier = threading.Barrier(len(calls))
    statuses: list[int] = []

    def call(headers, path, body):
        with httpx.Client(base_url=server, timeout=60) as http:
            barrier.wait()
            statuses.append(http.post(path, json=body, headers=headers).status_code)

    threads = [threading.Thread(target=call, args=c) for c in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def test_two_simultaneous_assigns_one_wins_twenty_times(client, db, server):  # noqa: F811
    """A registrar and an admin assign the same task at the same instant, through a real
    server, each to the other: every round exactly one 200 and one 409. Odd rounds both send
    the version they read (1), even rounds none."""
    deploy(client, ("assign_race.bpmn", RACE))
    registrar, admin = auth(client, "registrar"), auth(client, "admin")
    for round_ in range(20):
        task = start_registrar_task(client)
        path = f"/api/v1/tasks/{task['id']}/assign"
        read = {"version": 1} if round_ % 2 else {}
        statuses = race(
            server,
            [
                (registrar, path, {"username": "admin", **read}),
                (admin, path, {"username": "registrar", **read}),
            ],
        )
        assert sorted(statuses) == [200, 409], (round_, statuses)
        kinds = [k for k, _ in history_kinds(client, task["instance_id"])]
        assert kinds.count("task_assigned") == 1
        with db.db.reader() as session:
            row = session.scalar(select(UserTask).where(UserTask.id == task["id"]))
        assert row.version == 2 and row.assignee in {"registrar", "admin"}
