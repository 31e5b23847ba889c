"""Cascades with limits, messages with the sender's scope, and errors of a step as users and
administrators see them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm.exc import StaleDataError

from tests.helpers import auth, deploy, tasks_of
from xueji.errors import ServiceError
from xueji.instances.flows import MAX_DEPTH
from xueji.models import Incident, ProcessInstance


def post(client, path, body=None, user="registrar", expect=200):
    response = client.post(f"/api/v1{path}", json=body or {}, headers=auth(client, user))
    assert response.status_code == expect, response.text
    return response.json()


def test_diagrams_that_message_each_other_forever_are_refused_with_their_chain(client, db):
    deploy(client, "ping.bpmn")
    refused = post(client, "/messages", {"name": "乒"}, expect=422)
    assert refused["error"] == "CascadeTooDeep"
    chain = refused["detail"]["chain"]
    assert len(chain) == MAX_DEPTH + 1 and chain[0] == "catch 乒 in ping"
    assert "message 乒 from ping" in chain
    assert str(MAX_DEPTH) in refused["detail"]["message"]
    with db.db.reader() as session:  # nothing of the refused cascade was kept
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0


def test_a_thrown_message_reaches_only_instances_in_the_senders_scope(client, db):
    deploy(client, "msg_wait_any.bpmn", "msg_throw.bpmn")
    own = post(client, "/process-definitions/msg_wait_any/start", {}, "station1", 201)
    other = post(client, "/process-definitions/msg_wait_any/start", {}, "station2", 201)
    post(
        client,
        "/process-definitions/msg_throw/start",
        {"variables": {"station": "S01"}},
        expect=201,
    )
    [confirm] = tasks_of(client, "registrar")
    post(client, f"/tasks/{confirm['id']}/complete", {"data": {"checked_in_on": "2027-09-01"}})

    assert [t["instance_id"] for t in tasks_of(client, "station1")] == [own["id"]]
    assert tasks_of(client, "station2") == []  # S02's instance never saw S01's message
    waiting = client.get(
        f"/api/v1/process-instances/{other['id']}", headers=auth(client, "station2")
    ).json()
    assert waiting["state"] == "running" and waiting["active_tasks"] == []


@pytest.fixture
def probe(db):
    """A service task operator of this test's: refuses, crashes or succeeds by the data."""

    def test_probe(step: Any, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("mode") == "refuse":
            raise ServiceError("招生录取库中没有考生号 2027410100001")
        if data.get("mode") == "crash":
            return {"number": data["exam_number"]}
        if data.get("mode") == "database":
            step.session.execute(text("UPDATE no_such_table SET x = 1"))
        return {"instance": step.instance().id}

    services = db.runner.script_engine.environment.services
    db.services = {**db.services, "test_probe": test_probe}
    services["test_probe"] = test_probe
    yield
    del services["test_probe"]
    db.services = {k: v for k, v in db.services.items() if k != "test_probe"}


def _probe_task(client):
    deploy(client, "service_probe.bpmn")
    instance = post(client, "/process-definitions/service_probe/start", {}, expect=201)
    [task] = tasks_of(client, "registrar")
    return instance, task


def test_a_business_refusal_reaches_the_user_as_the_services_sentence(client, db, probe):
    instance, task = _probe_task(client)
    refused = post(
        client, f"/tasks/{task['id']}/complete", {"data": {"mode": "refuse"}}, expect=422
    )
    assert refused["error"] == "ServiceError"
    assert refused["detail"]["message"] == "招生录取库中没有考生号 2027410100001"
    assert refused["detail"]["element_id"] == "probe"
    assert tasks_of(client, "registrar")[0]["id"] == task["id"]  # nothing changed


def test_a_crash_in_a_step_is_a_500_with_a_request_id_and_an_incident_that_later_resolves(
    client, db, probe
):
    instance, task = _probe_task(client)
    crashed = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"mode": "crash"}},
        headers=auth(client, "registrar"),
    )
    assert crashed.status_code == 500, crashed.text
    body = crashed.json()
    assert body["error"] == "InternalError" and len(body["detail"]["request_id"]) == 32
    assert "exam_number" not in crashed.text  # internals stay in the log and the incident
    with db.db.reader() as session:
        [incident] = session.scalars(select(Incident))
        assert incident.instance_id == instance["id"] and incident.element_id == "probe"
        assert incident.message == "KeyError: 'exam_number'" and incident.resolved_at is None
    assert tasks_of(client, "registrar")[0]["id"] == task["id"]  # rolled back

    post(client, f"/tasks/{task['id']}/complete", {"data": {"mode": "ok"}})
    with db.db.reader() as session:
        [incident] = session.scalars(select(Incident))
        assert incident.resolved_at is not None  # the step it recorded has now succeeded


def test_a_database_error_inside_a_step_is_a_500_with_an_incident_and_nothing_half_written(
    client, db, probe
):
    instance, task = _probe_task(client)
    failed = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"mode": "database"}},
        headers=auth(client, "registrar"),
    )
    assert failed.status_code == 500, failed.text
    assert failed.json()["detail"]["request_id"]
    with db.db.reader() as session:
        [incident] = session.scalars(select(Incident))
        assert incident.instance_id == instance["id"]
        assert "no_such_table" in incident.message
    history = client.get(
        f"/api/v1/process-instances/{instance['id']}/history", headers=auth(client, "registrar")
    ).json()
    assert [h["kind"] for h in history][-1] == "step_failed"
    assert "task_completed" not in [h["kind"] for h in history]


def test_a_lost_update_anywhere_answers_409(db):
    from fastapi.testclient import TestClient

    from xueji.app import create_app

    app = create_app(db.settings, db, prepare_on_start=False)

    def lose() -> None:
        raise StaleDataError("UPDATE statement on table 'process_instances' matched 0 rows")

    app.add_api_route("/lost-update", lose)
    app.router.routes.insert(0, app.router.routes.pop())  # before the UI's catch-all

    with TestClient(app) as test_client:
        response = test_client.get("/lost-update")
    assert response.status_code == 409
    assert response.json()["error"] == "Conflict"
