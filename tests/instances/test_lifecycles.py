"""Lifecycles that end: terminating cascades to children, a terminated child never leaves its
caller waiting silently, failing timers give up with one incident, suspended timers wait."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from tests.helpers import auth, deploy, tasks_of
from xueji.models import Incident, Student, Timer
from xueji.scheduler.worker import MAX_ATTEMPTS, retry_delay, run_once

BEIJING = timezone(timedelta(hours=8))
DUE = datetime(2027, 3, 25, tzinfo=BEIJING)


def student_ids(db, *usernames):
    with db.db.reader() as session:
        rows = {s.user.username: s.id for s in session.scalars(select(Student))}
    return [rows[name] for name in usernames]


def start_batch(client, db, *usernames):
    deploy(client, "batch_child.bpmn", "batch_parent.bpmn")
    response = client.post(
        "/api/v1/process-definitions/batch_parent/start",
        json={"variables": {"students": student_ids(db, *usernames), "station": "S01"}},
        headers=auth(client, "registrar"),
    )
    assert response.status_code == 201, response.text
    return response.json()


def get(client, path, user="admin"):
    response = client.get(f"/api/v1{path}", headers=auth(client, user))
    assert response.status_code == 200, response.text
    return response.json()


def post(client, path, body=None, user="admin", expect=200):
    response = client.post(f"/api/v1{path}", json=body or {}, headers=auth(client, user))
    assert response.status_code == expect, response.text
    return response.json()


def test_terminating_a_caller_terminates_its_running_children_and_cancels_their_tasks(client, db):
    parent = start_batch(client, db, "stu1001", "stu1002", "stu1003")
    post(client, f"/process-instances/{parent['id']}/terminate", user="registrar")

    for child_id in parent["children"]:
        child = get(client, f"/process-instances/{child_id}")
        assert child["state"] == "terminated" and child["active_tasks"] == []
        kinds = [h["kind"] for h in get(client, f"/process-instances/{child_id}/history")]
        assert kinds.count("task_cancelled") == 1 and "instance_terminated" in kinds
    assert tasks_of(client, "stu1001") == [] and tasks_of(client, "stu1002") == []
    # Children ended with their caller: nobody waits, so there is nothing to resolve.
    assert get(client, "/incidents") == []


def test_terminating_the_last_running_child_gives_its_caller_an_incident_to_skip(client, db):
    parent = start_batch(client, db, "stu1001", "stu1002")
    [task] = tasks_of(client, "stu1001")
    post(client, f"/tasks/{task['id']}/complete", {"data": {"answer": "yes"}}, user="stu1001")
    waiting = next(c for c in parent["children"] if c != task["instance_id"])
    post(client, f"/process-instances/{waiting}/terminate", user="registrar")

    assert get(client, f"/process-instances/{parent['id']}")["state"] == "running"
    [incident] = get(client, "/incidents")
    assert incident["instance_id"] == parent["id"]
    assert incident["data"]["kind"] == "child_ended" and incident["data"]["child_id"] == waiting
    assert "已终止" in incident["message"]
    assert tasks_of(client, "registrar") == []  # still waiting, but no longer silently

    post(
        client,
        f"/incidents/{incident['id']}/resolve",
        {"action": "skip", "outputs": {"result": {"ok": False, "student": 0}}},
    )
    [summary] = tasks_of(client, "registrar")
    assert summary["name"] == "汇总" and summary["instance_id"] == parent["id"]
    results = get(client, f"/process-instances/{parent['id']}")["variables"]["results"]
    assert len(results) == 2 and {"ok": False, "student": 0} in results
    assert get(client, "/incidents") == []


def test_a_terminated_child_can_be_retried_with_its_inputs(client, db):
    parent = start_batch(client, db, "stu1001")
    [child_id] = parent["children"]
    post(client, f"/process-instances/{child_id}/terminate", user="registrar")
    [incident] = get(client, "/incidents")
    resolved = post(client, f"/incidents/{incident['id']}/resolve", {"action": "retry"})
    assert resolved["resolved_at"] is not None

    [task] = tasks_of(client, "stu1001")
    assert task["instance_id"] != child_id
    post(client, f"/tasks/{task['id']}/complete", {"data": {"answer": "yes"}}, user="stu1001")
    [summary] = tasks_of(client, "registrar")
    assert summary["instance_id"] == parent["id"]
    [result] = get(client, f"/process-instances/{parent['id']}")["variables"]["results"]
    assert result["ok"] is True


def test_a_caller_waiting_on_a_terminated_child_can_be_terminated_from_its_incident(client, db):
    parent = start_batch(client, db, "stu1001", "stu1002")
    post(client, f"/process-instances/{parent['children'][0]}/terminate", user="registrar")
    [incident] = get(client, "/incidents")
    post(client, f"/incidents/{incident['id']}/resolve", {"action": "terminate_caller"})
    assert get(client, f"/process-instances/{parent['id']}")["state"] == "terminated"
    other = get(client, f"/process-instances/{parent['children'][1]}")
    assert other["state"] == "terminated"
    assert tasks_of(client, "stu1002") == []


def test_only_administrators_resolve_incidents(client, db):
    parent = start_batch(client, db, "stu1001")
    post(client, f"/process-instances/{parent['children'][0]}/terminate", user="registrar")
    [incident] = get(client, "/incidents")
    post(
        client,
        f"/incidents/{incident['id']}/resolve",
        {"action": "dismiss"},
        user="registrar",
        expect=403,
    )
    post(client, "/incidents/999999/resolve", {"action": "dismiss"}, expect=404)


def _start_deadline(client, key):
    deploy(client, f"{key}.bpmn")
    return post(client, f"/process-definitions/{key}/start", {"variables": {}}, "station1", 201)


def _timer(db, instance_id):
    with db.db.reader() as session:
        [row] = session.scalars(select(Timer).where(Timer.instance_id == instance_id))
        return row


def test_a_failing_timer_is_retried_with_backoff_then_fails_with_one_incident(client, db):
    instance = _start_deadline(client, "deadline_failing")
    moment = DUE + timedelta(minutes=1)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = run_once(db, moment)
        assert (report.claimed, report.fired, report.failed) == (1, 0, 1)
        row = _timer(db, instance["id"])
        assert row.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert row.state == "pending" and row.retry_at == moment + retry_delay(attempt)
            # Not before its retry time: the same pass again claims nothing.
            assert run_once(db, moment).claimed == 0
            moment = row.retry_at
    assert row.state == "failed" and "division by zero" in row.last_error
    assert run_once(db, moment + timedelta(days=30)).claimed == 0
    with db.db.reader() as session:
        incidents = list(
            session.scalars(select(Incident).where(Incident.instance_id == instance["id"]))
        )
    assert len(incidents) == 1 and incidents[0].data["kind"] == "timer_failed"
    # The instance itself is untouched: its task still waits.
    assert [t["name"] for t in tasks_of(client, "station1")] == ["新生学籍注册信息上报"]

    post(client, f"/incidents/{incidents[0].id}/resolve", {"action": "retry"})
    row = _timer(db, instance["id"])
    assert (row.state, row.attempts) == ("pending", 0)
    assert run_once(db, moment + timedelta(days=30)).claimed == 1


def test_timers_of_a_suspended_instance_wait_until_it_is_resumed(client, db):
    instance = _start_deadline(client, "deadline")
    post(client, f"/process-instances/{instance['id']}/suspend", user="registrar")
    for _ in range(3):
        assert run_once(db, DUE + timedelta(days=1)).claimed == 0
    row = _timer(db, instance["id"])
    assert (row.state, row.claimed_by, row.attempts) == ("pending", None, 0)

    post(client, f"/process-instances/{instance['id']}/resume", user="registrar")
    report = run_once(db, DUE + timedelta(days=1))
    assert (report.claimed, report.fired) == (1, 1)
    assert [t["name"] for t in tasks_of(client, "registrar")] == ["催报"]
