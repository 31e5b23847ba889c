"""Health and metrics over HTTP: ready only with the database at head and a worker heard
from; /metrics parsed by Prometheus' own parser; no service path answers with the UI."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from tests.helpers import auth, deploy, tasks_of
from xueji import clock
from xueji.app import create_app
from xueji.config import Settings
from xueji.db.migrate import upgrade
from xueji.scheduler.worker import beat, run_once
from xueji.wiring import build_runtime


def metrics(client) -> dict[str, list]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {f.name: f.samples for f in text_string_to_metric_families(response.text)}


def value(samples, name, **labels) -> float:
    found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    return sum(found)


def test_ready_needs_a_worker_heartbeat_and_the_schema_at_head(client, db):
    assert client.get("/api/v1/health/live").json() == {"status": "live"}
    waiting = client.get("/api/v1/health/ready")
    assert waiting.status_code == 503, waiting.text
    checks = waiting.json()["checks"]
    assert checks["database"]["ok"] and checks["schema"]["ok"]
    assert checks["worker"] == {
        "ok": False,
        "last_heartbeat_seconds_ago": None,
        "limit_seconds": 60.0,
    }

    beat(db, "test-worker")
    ready = client.get("/api/v1/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"

    with db.db.engine.begin() as connection:
        head = connection.scalar(text("SELECT version_num FROM alembic_version"))
        connection.execute(text("UPDATE alembic_version SET version_num = '0014'"))
    try:
        behind = client.get("/api/v1/health/ready")
        assert behind.status_code == 503
        assert behind.json()["checks"]["schema"] == {
            "ok": False,
            "revision": "0014",
            "head": head,
        }
    finally:
        with db.db.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :h"), {"h": head})


def test_ready_fails_when_the_database_is_gone(tmp_path):
    path = tmp_path / "gone.sqlite3"
    settings = Settings(
        database_url=f"sqlite:///{path}",
        data_dir=tmp_path / "var",
        secret_key="health-test-key-not-for-production-0123456789",
        processes_dir=tmp_path,
        forms_dir=tmp_path,
        run_worker=False,
    )
    runtime = build_runtime(settings)
    upgrade(runtime.db.engine)
    beat(runtime, "test-worker")
    with TestClient(create_app(settings, runtime, prepare_on_start=False)) as client:
        assert client.get("/api/v1/health/ready").status_code == 200
        runtime.db.dispose()
        for leftover in tmp_path.glob("gone.sqlite3*"):
            leftover.unlink()
        path.mkdir()  # no database file can be opened (or made) there any more
        gone = client.get("/api/v1/health/ready")
        assert gone.status_code == 503, gone.text
        assert gone.json()["checks"]["database"] == {"ok": False, "error": "OperationalError"}
        assert client.get("/api/v1/health/live").status_code == 200
        scraped = metrics(client)
        assert value(scraped["xueji_database_up"], "xueji_database_up") == 0
    shutil.rmtree(path)


def test_metrics_count_requests_by_route_and_the_work_from_the_database(client, db):
    deploy(client, "deadline.bpmn")
    response = client.post(
        "/api/v1/process-definitions/deadline/start",
        json={"variables": {}},
        headers=auth(client, "station1"),
    )
    assert response.status_code == 201, response.text
    [task] = tasks_of(client, "station1")
    client.get(f"/api/v1/tasks/{task['id']}", headers=auth(client, "station1"))
    client.get(
        "/api/v1/tasks/00000000-0000-4000-8000-000000000000", headers=auth(client, "station1")
    )
    before = metrics(client)
    requests = before["xueji_http_requests"]
    route = "/api/v1/tasks/{task_id}"
    assert value(requests, "xueji_http_requests_total", route=route, status="200") >= 1
    assert value(requests, "xueji_http_requests_total", route=route, status="404") >= 1
    # the raw path never becomes a label (one series per route, not per task)
    assert not [s for s in requests if task["id"] in s.labels["route"]]
    latency = before["xueji_http_request_duration_seconds"]
    assert value(latency, "xueji_http_request_duration_seconds_count", route=route) >= 2
    assert value(before["xueji_steps"], "xueji_steps_total", process="deadline") >= 1
    assert value(before["xueji_timers_due"], "xueji_timers_due") == 0

    # the deadline passes: the timer is due and (a minute on) late, until a worker fires it
    due = datetime(2027, 3, 25, tzinfo=timezone(timedelta(hours=8)))
    with clock.at(due + timedelta(minutes=5)):
        late = metrics(client)
    assert value(late["xueji_timers_due"], "xueji_timers_due") == 1
    assert value(late["xueji_timers_late"], "xueji_timers_late") == 1
    run_once(db, due + timedelta(minutes=5))
    with clock.at(due + timedelta(minutes=5)):
        fired = metrics(client)
    assert value(fired["xueji_timers_due"], "xueji_timers_due") == 0
    for name in (
        "xueji_outbox_backlog",
        "xueji_outbox_oldest_age_seconds",
        "xueji_webhook_failures",
        "xueji_incidents_open",
        "xueji_step_failures",
    ):
        assert name in fired, name


def test_no_service_path_answers_with_the_ui(client):
    for path in (
        "/health",
        "/metrics/x",
        "/health/nope",
        "/api/v1/health",
        "/api/v1/nothing",
        "/api/nope",
    ):
        response = client.get(path)
        assert response.status_code == 404, (path, response.text)
        assert response.headers["content-type"] == "application/json", path
        assert response.json()["error"] == "NotFound", path
