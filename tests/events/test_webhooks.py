"""Webhooks: signed deliveries from the outbox, retries with backoff, nothing for rolled-back steps."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from tests.api.test_workflow import REVIEW, start_review
from tests.helpers import auth, deploy, tasks_of
from xueji import clock
from xueji.events.webhooks import backoff
from xueji.models import OutboxEvent, WebhookDelivery
from xueji.scheduler.worker import run_once

SECRET = "a-test-secret-of-enough-length"


class Receiver:
    """A local HTTP endpoint that records requests and fails the first `failures` of them."""

    def __init__(self, failures: int = 0):
        self.failures = failures
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                failing = len(receiver.requests) <= receiver.failures
                self.send_response(503 if failing else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    made = []

    def make(failures=0):
        made.append(Receiver(failures))
        return made[-1]

    yield make
    for r in made:
        r.close()


def register(client, url, types):
    response = client.post(
        "/api/v1/webhooks",
        json={"url": url, "event_types": types, "secret": SECRET},
        headers=auth(client, "admin"),
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_delivery_is_signed_and_verifies(client, db, receiver):
    target = receiver()
    register(client, target.url, ["task.created"])
    deploy(client, *REVIEW)
    instance = start_review(client)
    report = run_once(db)
    assert report.delivered == 1
    [(headers, body)] = target.requests
    expected = hmac.new(
        SECRET.encode(), f"{headers['X-Xueji-Timestamp']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Xueji-Signature"] == f"sha256={expected}"
    assert headers["X-Xueji-Event"] == "task.created"
    event = json.loads(body)
    assert event["instance_id"] == instance["id"] and event["role"] == "student"
    assert event["element_id"] == "apply" and event["station"] == "S01"
    assert run_once(db).delivered == 0  # delivered once only


def test_failing_receiver_gets_the_event_on_the_third_try(client, db, receiver):
    target = receiver(failures=2)
    register(client, target.url, ["instance.started"])
    deploy(client, *REVIEW)
    start_review(client)
    now = clock.now()
    assert run_once(db, now).undelivered == 1
    assert run_once(db, now + backoff(1) / 2).undelivered == 0  # not due yet
    later = now + backoff(1)
    assert run_once(db, later).undelivered == 1
    third = run_once(db, later + backoff(2))
    assert third.delivered == 1 and len(target.requests) == 3
    with db.db.reader() as session:
        [delivery] = session.scalars(select(WebhookDelivery))
        assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 3, 204)


def test_rolled_back_step_sends_nothing(client, db, receiver):
    target = receiver()
    register(client, target.url, ["task.completed", "task.created"])
    deploy(client, "steps.bpmn", "steps_enter.schema.json")
    client.post(
        "/api/v1/process-definitions/steps/start",
        json={"variables": {}},
        headers=auth(client, "registrar"),
    )
    [task] = tasks_of(client, "registrar")
    failed = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"mode": "boom", "count": 1}},
        headers=auth(client, "registrar"),
    )
    assert failed.status_code == 422
    with db.db.reader() as session:
        types = [e.type for e in session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))]
    assert "task.completed" not in types
    assert types.count("task.created") == 1 and "instance.failed" in types
    run_once(db)
    sent = [json.loads(body)["type"] for _headers, body in target.requests]
    assert sent == ["task.created"]


def test_only_admins_register_webhooks_and_types_are_checked(client):
    body = {"url": "http://127.0.0.1:9/x", "event_types": ["task.created"]}
    assert (
        client.post("/api/v1/webhooks", json=body, headers=auth(client, "registrar")).status_code
        == 403
    )
    bad = client.post(
        "/api/v1/webhooks",
        json={**body, "event_types": ["task.exploded"]},
        headers=auth(client, "admin"),
    )
    assert bad.status_code == 422 and "task.exploded" in bad.text
    created = client.post("/api/v1/webhooks", json=body, headers=auth(client, "admin")).json()
    assert len(created["secret"]) >= 32
    listed = client.get("/api/v1/webhooks", headers=auth(client, "admin")).json()
    assert listed[0]["secret"] is None


def test_jobs_show_failed_deliveries_and_retry_them(client, db, receiver):
    target = receiver(failures=100)
    register(client, target.url, ["instance.started"])
    deploy(client, *REVIEW)
    start_review(client)
    run_once(db)
    jobs = client.get("/api/v1/jobs", headers=auth(client, "admin")).json()
    [delivery] = jobs["deliveries"]
    assert delivery["attempts"] == 1 and delivery["last_status"] == 503
    target.failures = 0
    retried = client.post(
        f"/api/v1/jobs/deliveries/{delivery['id']}/retry", headers=auth(client, "admin")
    )
    assert retried.status_code == 200
    assert run_once(db).delivered == 1
    assert client.get("/api/v1/jobs", headers=auth(client, "registrar")).status_code == 403


def test_backoff_grows_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [10, 20, 40]
    assert backoff(20) == timedelta(hours=1)
