"""Timers as rows: written when an instance is saved, fired once by whichever worker claims them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from tests.helpers import auth, deploy, tasks_of
from xueji.models import Timer
from xueji.scheduler.worker import claim_due, run_once

BEIJING = timezone(timedelta(hours=8))
DUE = datetime(2027, 3, 25, tzinfo=BEIJING)


def start_deadline(client):
    response = client.post(
        "/api/v1/process-definitions/deadline/start",
        json={"variables": {}},
        headers=auth(client, "station1"),
    )
    assert response.status_code == 201, response.text
    return response.json()


def timers(runtime, instance_id):
    with runtime.db.reader() as session:
        return list(session.scalars(select(Timer).where(Timer.instance_id == instance_id)))


def test_timer_row_is_written_and_fires_once_when_due(client, db):
    deploy(client, "deadline.bpmn")
    instance = start_deadline(client)
    [row] = timers(db, instance["id"])
    assert (row.state, row.element_id, row.due_at) == ("pending", "late", DUE)

    early = run_once(db, DUE - timedelta(seconds=1))
    assert (early.claimed, early.fired) == (0, 0)
    assert [t["name"] for t in tasks_of(client, "station1")] == ["新生学籍注册信息上报"]

    report = run_once(db, DUE + timedelta(hours=1))
    assert (report.claimed, report.fired) == (1, 1)
    assert tasks_of(client, "station1") == []
    assert [t["name"] for t in tasks_of(client, "registrar")] == ["催报"]
    [row] = timers(db, instance["id"])
    assert row.state == "fired"
    assert run_once(db, DUE + timedelta(days=1)).claimed == 0
    history = client.get(
        f"/api/v1/process-instances/{instance['id']}/history", headers=auth(client, "registrar")
    ).json()
    assert [h["kind"] for h in history].count("timer_fired") == 1


def test_completing_the_task_first_cancels_the_timer(client, db):
    deploy(client, "deadline.bpmn")
    instance = start_deadline(client)
    [task] = tasks_of(client, "station1")
    client.post(
        f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}, headers=auth(client, "station1")
    )
    [row] = timers(db, instance["id"])
    assert row.state == "cancelled"
    assert run_once(db, DUE + timedelta(days=1)).claimed == 0


def test_claims_are_exclusive_until_they_expire(client, db):
    deploy(client, "deadline.bpmn")
    start_deadline(client)
    later = DUE + timedelta(hours=1)
    assert len(claim_due(db, "worker-a", later)) == 1
    assert claim_due(db, "worker-b", later) == []
    # worker-a died holding the claim: after the lease, worker-b takes it over.
    taken = claim_due(db, "worker-b", later + timedelta(minutes=6))
    assert [t.claimed_by for t in taken] == ["worker-b"]


def test_suspended_instance_timer_waits(client, db):
    deploy(client, "deadline.bpmn")
    instance = start_deadline(client)
    client.post(
        f"/api/v1/process-instances/{instance['id']}/suspend", headers=auth(client, "registrar")
    )
    assert run_once(db, DUE + timedelta(hours=1)).fired == 0
    [row] = timers(db, instance["id"])
    assert row.state == "pending"
