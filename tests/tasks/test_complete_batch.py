"""POST /tasks/complete-batch: many tasks completed like one each, all or none."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.helpers import auth, deploy, history_kinds, tasks_of
from xueji.models import HistoryEvent, ProcessInstance, Student, UserTask

FILES = (
    "complete_batch_check.schema.json",
    "complete_batch_child.bpmn",
    "complete_batch_parent.bpmn",
)


def student_ids(db, *usernames):
    with db.db.reader() as session:
        rows = {s.user.username: s.id for s in session.scalars(select(Student))}
    return [rows[name] for name in usernames]


def start_batch(client, db, *usernames) -> dict:
    deploy(client, *FILES)
    started = client.post(
        "/api/v1/process-definitions/complete_batch_parent/start",
        json={"business_key": "B-1", "variables": {"students": student_ids(db, *usernames)}},
        headers=auth(client, "registrar"),
    )
    assert started.status_code == 201, started.text
    return started.json()


def complete_batch(client, username, items, expect=200):
    response = client.post(
        "/api/v1/tasks/complete-batch", json={"tasks": items}, headers=auth(client, username)
    )
    assert response.status_code == expect, response.text
    return response.json()


def counts(db):
    """(completed tasks, history lines): what a refused batch must leave as it was."""
    with db.db.reader() as session:
        done = session.scalar(
            select(func.count()).select_from(UserTask).where(UserTask.state == "completed")
        )
        return done, session.scalar(select(func.count()).select_from(HistoryEvent))


def test_station_completes_the_same_task_of_every_student_in_one_request(client, db):
    parent = start_batch(client, db, "stu1001", "stu1002", "stu1003")
    tasks = tasks_of(client, "station1")
    assert [t["name"] for t in tasks] == ["核对学生信息"] * 3
    [wrong] = student_ids(db, "stu1002")
    items = [
        {"id": t["id"], "data": {"outcome": "correct"}}
        if t["student"] != wrong
        else {"id": t["id"], "data": {"outcome": "wrong", "reason": "身份证号有误"}}
        for t in tasks
    ]

    result = complete_batch(client, "station1", items)

    assert result["completed"] == 3
    assert sorted(result["instances"]) == sorted(t["instance_id"] for t in tasks)
    assert result["next_tasks"] == []  # the children ended; the summary is the registrar's
    assert tasks_of(client, "station1") == []
    [summary] = tasks_of(client, "registrar")
    assert summary["name"] == "汇总" and summary["instance_id"] == parent["id"]
    detail = client.get(
        f"/api/v1/process-instances/{parent['id']}", headers=auth(client, "registrar")
    ).json()
    assert [r["outcome"] for r in detail["variables"]["results"]] == ["correct", "wrong", "correct"]
    for task, item in zip(tasks, items, strict=True):
        kinds = history_kinds(client, task["instance_id"])
        assert kinds.count(("task_completed", "check")) == 1
        assert kinds[-1] == ("instance_completed", None)
        history = client.get(
            f"/api/v1/process-instances/{task['instance_id']}/history",
            headers=auth(client, "admin"),
        ).json()
        line = next(h for h in history if h["kind"] == "task_completed")
        assert line["actor"] == "station1" and line["data"] == item["data"]


def test_one_invalid_form_refuses_the_whole_batch_and_names_every_problem(client, db):
    start_batch(client, db, "stu1001", "stu1002", "stu1003")
    tasks = tasks_of(client, "station1")
    before = counts(db)
    items = [
        {"id": tasks[0]["id"], "data": {"outcome": "correct"}},
        {"id": tasks[1]["id"], "data": {"outcome": "wrong"}},
        {"id": tasks[2]["id"], "data": {"outcome": "maybe"}},
    ]

    body = complete_batch(client, "station1", items, expect=422)

    assert body["error"] == "FormInvalid"
    assert [(p["index"], p["task_id"], p["field"]) for p in body["detail"]] == [
        (1, tasks[1]["id"], "reason"),
        (2, tasks[2]["id"], "outcome"),
    ]
    assert counts(db) == before
    assert len(tasks_of(client, "station1")) == 3


def test_a_task_out_of_scope_refuses_the_whole_batch_with_404(client, db):
    start_batch(client, db, "stu1001", "stu2001")
    [own] = tasks_of(client, "station1")
    [foreign] = tasks_of(client, "station2")
    before = counts(db)
    items = [
        {"id": own["id"], "data": {"outcome": "correct"}},
        {"id": foreign["id"], "data": {"outcome": "correct"}},
    ]

    body = complete_batch(client, "station1", items, expect=404)

    assert body["detail"]["index"] == 1 and body["detail"]["task_id"] == foreign["id"]
    assert counts(db) == before
    assert [t["id"] for t in tasks_of(client, "station1")] == [own["id"]]


def test_a_task_completed_meanwhile_is_a_conflict_and_nothing_else_completes(client, db):
    start_batch(client, db, "stu1001", "stu1002")
    first, second = tasks_of(client, "station1")
    client.post(
        f"/api/v1/tasks/{second['id']}/complete",
        json={"data": {"outcome": "correct"}},
        headers=auth(client, "station1"),
    )
    before = counts(db)
    items = [{"id": t["id"], "data": {"outcome": "correct"}} for t in (first, second)]

    body = complete_batch(client, "station1", items, expect=409)

    assert body["detail"]["index"] == 1 and body["detail"]["task_id"] == second["id"]
    assert counts(db) == before
    with db.db.reader() as session:
        assert session.get(ProcessInstance, first["instance_id"]).state == "running"


def test_the_batch_size_and_duplicates_are_checked(client, db):
    start_batch(client, db, "stu1001")
    [task] = tasks_of(client, "station1")
    complete_batch(client, "station1", [], expect=422)
    too_many = [{"id": task["id"], "data": {"outcome": "correct"}}] * 501
    complete_batch(client, "station1", too_many, expect=422)
    twice = complete_batch(client, "station1", too_many[:2], expect=422)
    assert twice["detail"] == [
        {"index": 1, "task_id": task["id"], "field": "id", "message": "listed twice"}
    ]
    assert tasks_of(client, "station1") == [task]
