"""A task past its deadline is overdue and escalated exactly once per reminder."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from tests.helpers import auth, deploy, history_kinds, tasks_of
from xueji.deadlines import BEIJING
from xueji.models import OutboxEvent, UserTask
from xueji.scheduler.worker import run_once

DUE = datetime(2027, 3, 25, 23, 59, 59, tzinfo=BEIJING)


def start(client):
    response = client.post(
        "/api/v1/process-definitions/escalation/start",
        json={"variables": {"year": 2027}},
        headers=auth(client, "station1"),
    )
    assert response.status_code == 201, response.text
    return response.json()


def task_row(db, instance_id):
    with db.db.reader() as session:
        return session.scalar(
            select(UserTask).where(
                UserTask.instance_id == instance_id, UserTask.element_id == "report"
            )
        )


def events(db, kind):
    with db.db.reader() as session:
        return [
            e.payload
            for e in session.scalars(
                select(OutboxEvent).where(OutboxEvent.type == kind).order_by(OutboxEvent.id)
            )
        ]


def test_deadline_marks_overdue_and_escalates_once_per_reminder(client, db):
    deploy(client, "escalation.bpmn")
    instance = start(client)
    row = task_row(db, instance["id"])
    assert row.due_at == DUE and row.overdue_at is None

    assert run_once(db, DUE - timedelta(hours=1)).fired == 0
    assert run_once(db, DUE + timedelta(hours=1)).fired == 1
    row = task_row(db, instance["id"])
    assert row.overdue_at is not None and row.escalation_level == 1
    assert len(events(db, "task.overdue")) == 1
    [first] = events(db, "task.escalated")
    assert first["data"]["level"] == 1 and first["data"]["to"] == ["registrar", "station"]
    # the task is still open, and overdue in the inbox
    [task] = tasks_of(client, "station1", overdue="true")
    assert task["id"] == row.id and task["overdue"] and task["escalation_level"] == 1
    # the registrar sees it among the missed deadlines, counted per station
    overview = client.get("/api/v1/overdue-tasks", headers=auth(client, "registrar")).json()
    assert overview["counts"] == [{"station": "S01", "count": 1}]
    assert [t["id"] for t in overview["items"]] == [row.id]
    other = client.get("/api/v1/overdue-tasks", headers=auth(client, "station2")).json()
    assert other["total"] == 0
    # a day later nothing new; a reminder period later the second (and last) escalation
    assert run_once(db, DUE + timedelta(days=1)).fired == 0
    assert run_once(db, DUE + timedelta(days=7, hours=1)).fired == 1
    assert [e["data"]["level"] for e in events(db, "task.escalated")] == [1, 2]
    assert run_once(db, DUE + timedelta(days=30)).fired == 0
    assert len(events(db, "task.overdue")) == 1
    kinds = history_kinds(client, instance["id"])
    assert kinds.count(("task_escalated", "report")) == 2

    done = client.post(
        f"/api/v1/tasks/{row.id}/complete", json={"data": {}}, headers=auth(client, "station1")
    )
    assert done.json()["instance"]["state"] == "completed"


def test_task_done_in_time_is_never_escalated(client, db):
    deploy(client, "escalation.bpmn")
    instance = start(client)
    [task] = tasks_of(client, "station1")
    done = client.post(
        f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}, headers=auth(client, "station1")
    )
    assert done.json()["instance"]["state"] == "completed"
    assert run_once(db, DUE + timedelta(days=8)).fired == 0
    assert events(db, "task.escalated") == []
    assert ("task_overdue", "report") not in history_kinds(client, instance["id"])
