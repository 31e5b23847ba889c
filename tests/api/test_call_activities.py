"""Call activities run as child instances; the caller wakes once, when the last child ends."""

from __future__ import annotations

from sqlalchemy import select

from tests.helpers import FIXTURES, auth, deploy, tasks_of
from xueji.models import Student


def student_ids(db, *usernames):
    with db.db.reader() as session:
        rows = {s.user.username: s.id for s in session.scalars(select(Student))}
    return [rows[name] for name in usernames]


def test_multi_instance_call_runs_one_child_per_student(client, db):
    deploy(client, "batch_child.bpmn", "batch_parent.bpmn")
    ids = student_ids(db, "stu1001", "stu1002", "stu1003")
    started = client.post(
        "/api/v1/process-definitions/batch_parent/start",
        json={"business_key": "B-1", "variables": {"students": ids, "station": "S01"}},
        headers=auth(client, "registrar"),
    )
    assert started.status_code == 201, started.text
    parent = started.json()
    assert parent["active_tasks"] == [] and len(parent["children"]) == 3

    children = client.get(
        "/api/v1/process-instances",
        params={"parent": parent["id"]},
        headers=auth(client, "registrar"),
    ).json()["items"]
    assert sorted(c["student"] for c in children) == sorted(ids)
    assert {c["station"] for c in children} == {"S01"}
    # Each student sees only the task of their own child instance.
    for username, answer in (("stu1003", "yes"), ("stu1001", "no")):
        [task] = tasks_of(client, username)
        done = client.post(
            f"/api/v1/tasks/{task['id']}/complete",
            json={"data": {"answer": answer}},
            headers=auth(client, username),
        )
        assert done.status_code == 200, done.text
    assert tasks_of(client, "registrar") == []  # the caller still waits for stu1002
    [last] = tasks_of(client, "stu1002")
    client.post(
        f"/api/v1/tasks/{last['id']}/complete",
        json={"data": {"answer": "yes"}},
        headers=auth(client, "stu1002"),
    )

    [summary] = tasks_of(client, "registrar")
    assert summary["name"] == "汇总" and summary["instance_id"] == parent["id"]
    detail = client.get(
        f"/api/v1/process-instances/{parent['id']}", headers=auth(client, "registrar")
    ).json()
    assert detail["variables"]["results"] == [
        {"student": ids[0], "ok": False},
        {"student": ids[1], "ok": True},
        {"student": ids[2], "ok": True},
    ]
    history = client.get(
        f"/api/v1/process-instances/{parent['id']}/history", headers=auth(client, "registrar")
    ).json()
    kinds = [h["kind"] for h in history]
    assert kinds.count("call_started") == 1 and kinds.count("call_completed") == 1


def test_children_are_scoped_like_any_instance(client, db):
    deploy(client, "batch_child.bpmn", "batch_parent.bpmn")
    ids = student_ids(db, "stu1001", "stu2001")
    client.post(
        "/api/v1/process-definitions/batch_parent/start",
        json={"variables": {"students": ids}},
        headers=auth(client, "registrar"),
    )
    assert len(tasks_of(client, "stu1001")) == 1 and len(tasks_of(client, "stu2001")) == 1
    assert tasks_of(client, "stu1002") == []


def test_empty_batch_goes_straight_on(client, db):
    deploy(client, "batch_child.bpmn", "batch_parent.bpmn")
    started = client.post(
        "/api/v1/process-definitions/batch_parent/start",
        json={"variables": {"students": []}},
        headers=auth(client, "registrar"),
    )
    assert [t["name"] for t in started.json()["active_tasks"]] == ["汇总"]
    assert started.json()["variables"]["results"] == []


def test_children_that_end_at_once_wake_the_caller_once(client, db):
    child = (
        (FIXTURES / "batch_child.bpmn")
        .read_text()
        .replace(
            '<bpmn:userTask id="confirm" name="学生核实个人信息并签字确认"><bpmn:incoming>f1</bpmn:incoming>'
            "<bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>",
            '<bpmn:scriptTask id="confirm" name="自动确认"><bpmn:incoming>f1</bpmn:incoming>'
            "<bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>answer = 'yes'</bpmn:script>"
            "</bpmn:scriptTask>",
        )
    )
    assert "自动确认" in child
    deploy(client, ("batch_child.bpmn", child.encode()), "batch_parent.bpmn")
    ids = student_ids(db, "stu1001", "stu1002", "stu1003")
    started = client.post(
        "/api/v1/process-definitions/batch_parent/start",
        json={"variables": {"students": ids, "roster": ids}},
        headers=auth(client, "registrar"),
    )
    assert started.status_code == 201, started.text
    body = started.json()
    assert [t["name"] for t in body["active_tasks"]] == ["汇总"]
    assert [r["student"] for r in body["variables"]["results"]] == ids
    kinds = [
        h["kind"]
        for h in client.get(
            f"/api/v1/process-instances/{body['id']}/history", headers=auth(client, "registrar")
        ).json()
    ]
    assert kinds.count("call_completed") == 1


def test_batch_children_inherit_plain_values_not_lists(client, db):
    deploy(client, "batch_child.bpmn", "batch_parent.bpmn")
    ids = student_ids(db, "stu1001", "stu1002")
    started = client.post(
        "/api/v1/process-definitions/batch_parent/start",
        json={"variables": {"students": ids, "roster": ids, "year": 2027}},
        headers=auth(client, "registrar"),
    ).json()
    child = client.get(
        f"/api/v1/process-instances/{started['children'][0]}", headers=auth(client, "registrar")
    ).json()
    assert child["variables"]["year"] == 2027 and child["variables"]["student"] == ids[0]
    assert "roster" not in child["variables"] and "students" not in child["variables"]
