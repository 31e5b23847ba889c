"""The audit log, generated from the routes: every endpoint that changes something is either
marked `Audited(...)` or named here as not administrative, and every marked one, called
successfully, leaves exactly one row naming who, from where, what and on what."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select

from tests.helpers import FIXTURES as ROOT_FIXTURES
from tests.helpers import auth, deploy, tasks_of
from tests.operations import cases
from xueji.audit.dependencies import audit_action
from xueji.models import AuditEntry, Incident, ProcessInstance, Timer, Webhook, WebhookDelivery
from xueji.models.events import OutboxEvent

# Changes that are not administrative: the work itself (starting cases, one's own tasks,
# uploads, messages), logging in and checking a deployment without deploying it.
NOT_ADMINISTRATIVE = {
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/password"),
    ("POST", "/api/v1/deployments/validate"),
    ("POST", "/api/v1/migrations/dry-run"),
    ("POST", "/api/v1/process-definitions/{key}/start"),
    ("POST", "/api/v1/tasks/complete-batch"),
    ("POST", "/api/v1/tasks/{task_id}/claim"),
    ("POST", "/api/v1/tasks/{task_id}/unclaim"),
    ("POST", "/api/v1/tasks/{task_id}/complete"),
    ("POST", "/api/v1/uploads"),
    ("POST", "/api/v1/messages"),
}


def _audit_actions(dependant) -> list[str]:
    found = []
    for dependency in dependant.dependencies:
        action = audit_action(dependency.call)
        if action:
            found.append(action)
        found.extend(_audit_actions(dependency))
    return found


def changing_routes(app) -> dict[tuple[str, str], list[str]]:
    """(method, path) of every non-GET API route, with the audit actions it declares."""
    routes = {}
    for context in iter_route_contexts(app.routes):
        route = getattr(context, "original_route", context)
        if not isinstance(route, APIRoute) or not context.path.startswith("/api/"):
            continue
        dependant = getattr(context, "dependant", None) or route.dependant
        for method in context.methods - {"GET", "HEAD"}:
            routes[method, context.path] = _audit_actions(dependant)
    return routes


# --- what each audited route needs to succeed -------------------------------------------


def _instance(client) -> dict:
    response = client.post(
        "/api/v1/process-definitions/deadline/start",
        json={"variables": {}},
        headers=auth(client, "station1"),
    )
    assert response.status_code == 201, response.text
    return response.json()


def _incident(db, instance_id) -> int:
    with db.db.writer() as session, session.begin():
        instance = session.get(ProcessInstance, instance_id)
        row = Incident(
            instance_id=instance_id,
            definition_id=instance.definition_id,
            element_id="report",
            message="an incident of the audit test",
            actor="test",
            data={},
            created_at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        return row.id


def _delivery(db, instance_id) -> int:
    with db.db.writer() as session, session.begin():
        hook = Webhook(
            url="http://127.0.0.1:9/audit",
            secret="s",
            event_types=["task.created"],
            active=True,
            created_by="test",
            created_at=datetime.now(UTC),
        )
        event = OutboxEvent(type="task.created", at=datetime.now(UTC), instance_id=instance_id)
        session.add_all([hook, event])
        session.flush()
        delivery = WebhookDelivery(
            webhook_id=hook.id,
            event_id=event.id,
            state="failed",
            attempts=5,
            next_attempt_at=datetime.now(UTC) + timedelta(days=1),
        )
        session.add(delivery)
        session.flush()
        return delivery.id


def _webhook(client) -> int:
    response = client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["task.created"]},
        headers=auth(client, "admin"),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _token(client) -> int:
    response = client.post(
        "/api/v1/api-tokens",
        json={"name": "t", "role": "station", "station": "S01"},
        headers=auth(client, "admin"),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _user(client, name="audited_user") -> str:
    response = client.post(
        "/api/v1/users",
        json={
            "username": name,
            "password": "good-pass-1",
            "display_name": "审计",
            "roles": ["registrar"],
        },
        headers=auth(client, "admin"),
    )
    assert response.status_code in (201, 409), response.text
    return name


# (method, path) -> (client, runtime) -> (the path to call, the request's keywords)
CASES: dict[tuple[str, str], Callable] = {
    ("POST", "/api/v1/users"): lambda c, db: (
        "/api/v1/users",
        {
            "json": {
                "username": "new_clerk",
                "password": "good-pass-1",
                "display_name": "新",
                "roles": ["registrar"],
            }
        },
    ),
    ("PATCH", "/api/v1/users/{username}"): lambda c, db: (
        f"/api/v1/users/{_user(c)}",
        {"json": {"roles": ["registrar", "grades"]}},
    ),
    ("POST", "/api/v1/users/{username}/password-reset"): lambda c, db: (
        f"/api/v1/users/{_user(c)}/password-reset",
        {},
    ),
    ("POST", "/api/v1/api-tokens"): lambda c, db: (
        "/api/v1/api-tokens",
        {"json": {"name": "integration", "role": "registrar"}},
    ),
    ("DELETE", "/api/v1/api-tokens/{token_id}"): lambda c, db: (
        f"/api/v1/api-tokens/{_token(c)}",
        {},
    ),
    ("POST", "/api/v1/deployments"): lambda c, db: (
        "/api/v1/deployments",
        {"files": [("files", ("ping.bpmn", (ROOT_FIXTURES / "ping.bpmn").read_bytes()))]},
    ),
    ("POST", "/api/v1/process-instances/{instance_id}/suspend"): lambda c, db: (
        f"/api/v1/process-instances/{_instance(c)['id']}/suspend",
        {},
    ),
    ("POST", "/api/v1/process-instances/{instance_id}/resume"): lambda c, db: (_suspended(c), {}),
    ("POST", "/api/v1/process-instances/{instance_id}/terminate"): lambda c, db: (
        f"/api/v1/process-instances/{_instance(c)['id']}/terminate",
        {},
    ),
    ("POST", "/api/v1/incidents/{incident_id}/resolve"): lambda c, db: (
        f"/api/v1/incidents/{_incident(db, _instance(c)['id'])}/resolve",
        {"json": {"action": "dismiss"}},
    ),
    ("POST", "/api/v1/jobs/incidents/{incident_id}/resolve"): lambda c, db: (
        f"/api/v1/jobs/incidents/{_incident(db, _instance(c)['id'])}/resolve",
        {},
    ),
    ("POST", "/api/v1/jobs/timers/{timer_id}/retry"): lambda c, db: (
        f"/api/v1/jobs/timers/{_timer(db, _instance(c)['id'])}/retry",
        {},
    ),
    ("POST", "/api/v1/jobs/deliveries/{delivery_id}/retry"): lambda c, db: (
        f"/api/v1/jobs/deliveries/{_delivery(db, _instance(c)['id'])}/retry",
        {},
    ),
    ("POST", "/api/v1/tasks/{task_id}/assign"): lambda c, db: (
        f"/api/v1/tasks/{_task(c)}/assign",
        {"json": {"username": "station1"}},
    ),
    ("POST", "/api/v1/webhooks"): lambda c, db: (
        "/api/v1/webhooks",
        {"json": {"url": "http://127.0.0.1:9/x", "event_types": ["task.created"]}},
    ),
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): lambda c, db: (
        f"/api/v1/webhooks/{_webhook(c)}",
        {},
    ),
    ("POST", "/api/v1/stations"): lambda c, db: (
        "/api/v1/stations",
        {"json": {"code": "S77", "name": "审计站"}},
    ),
    ("PUT", "/api/v1/stations/{code}"): lambda c, db: (
        "/api/v1/stations/S02",
        {"json": {"name": "洛阳函授站（改）"}},
    ),
    ("POST", "/api/v1/migrations"): lambda c, db: (
        "/api/v1/migrations",
        {"json": {"key": cases.KEY, "target_version": _two_versions(c)}},
    ),
    ("POST", "/api/v1/process-instances/{instance_id}/move"): lambda c, db: (
        f"/api/v1/process-instances/{_passed_check(c)}/move",
        {"json": {"element_id": "check"}},
    ),
    ("PUT", "/api/v1/process-instances/{instance_id}/variables/{name}"): lambda c, db: (
        f"/api/v1/process-instances/{_review_case(c)}/variables/count",
        {"json": {"value": 2}},
    ),
    ("POST", "/api/v1/imports/{kind}"): lambda c, db: (
        "/api/v1/imports/admissions",
        {"files": {"file": ("招生录取库.xlsx", _template(c), "application/octet-stream")}},
    ),
}


def _two_versions(client) -> int:
    cases.deploy_version(client)
    cases.start(client)
    return cases.deploy_version(client, check_name="初审（新）")


def _review_case(client) -> str:
    cases.deploy_version(client)
    return cases.start(client)["id"]


def _passed_check(client) -> str:
    case = _review_case(client)
    [check] = cases.active(client, case)
    cases.call(
        client,
        "POST",
        f"/tasks/{check['id']}/complete",
        {"data": {"mode": "normal", "count": 3}},
        "registrar",
    )
    return case


def _suspended(client) -> str:
    instance = _instance(client)
    response = client.post(
        f"/api/v1/process-instances/{instance['id']}/suspend", headers=auth(client, "admin")
    )
    assert response.status_code == 200, response.text
    return f"/api/v1/process-instances/{instance['id']}/resume"


def _timer(db, instance_id) -> int:
    with db.db.reader() as session:
        return session.scalar(select(Timer.id).where(Timer.instance_id == instance_id))


def _task(client) -> str:
    instance = _instance(client)
    return next(t["id"] for t in tasks_of(client, "station1") if t["instance_id"] == instance["id"])


def _template(client) -> bytes:
    response = client.get("/api/v1/imports/admissions/template", headers=auth(client, "admin"))
    assert response.status_code == 200, response.text
    return response.content


def test_every_changing_route_is_audited_or_named_as_not_administrative(api_app):
    routes = changing_routes(api_app)
    unclassified = sorted(
        key for key, actions in routes.items() if not actions and key not in NOT_ADMINISTRATIVE
    )
    assert unclassified == [], "mark these Audited(...) or name them in NOT_ADMINISTRATIVE"
    audited = {key for key, actions in routes.items() if actions}
    assert audited == set(CASES), "every audited route needs a case here"
    assert all(len(actions) == 1 for actions in routes.values() if actions)


@pytest.mark.parametrize("key", sorted(CASES), ids=lambda k: f"{k[0]} {k[1]}")
def test_an_audited_route_leaves_one_row(client, db, api_app, key):
    deploy(client, "deadline.bpmn")
    [action] = changing_routes(api_app)[key]
    path, request = CASES[key](client, db)
    with db.db.reader() as session:
        before = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0
    response = client.request(key[0], path, headers=auth(client, "admin"), **request)
    assert response.status_code < 300, response.text
    with db.db.reader() as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.id > before)))
    mine = [r for r in rows if r.action == action]
    assert len(mine) == 1, [(r.action, r.target) for r in rows]
    entry = mine[0]
    assert entry.actor == "admin" and entry.address == "testclient", entry
    assert entry.target, entry


def test_a_refused_change_leaves_no_row_and_secrets_stay_out(client, db):
    admin = auth(client, "admin")
    weak = client.post(
        "/api/v1/users",
        json={
            "username": "weak_one",
            "password": "12345678",
            "display_name": "弱",
            "roles": ["registrar"],
        },
        headers=admin,
    )
    assert weak.status_code == 422, weak.text
    created = client.post(
        "/api/v1/api-tokens", json={"name": "hidden", "role": "registrar"}, headers=admin
    )
    assert created.status_code == 201
    with db.db.reader() as session:
        rows = list(session.scalars(select(AuditEntry)))
    assert [r.action for r in rows] == ["api_token.create"]
    assert created.json()["token"] not in str(rows[0].after)
    assert rows[0].target == f"api_token:{created.json()['id']}"


def test_the_log_is_filtered_for_admins_and_exported_as_xlsx(client, db):
    admin = auth(client, "admin")
    name = _user(client)
    client.patch(f"/api/v1/users/{name}", json={"display_name": "王芳芳"}, headers=admin)
    client.put("/api/v1/stations/S02", json={"name": "洛阳站"}, headers=admin)
    listed = client.get("/api/v1/audit", params={"action": "user.update"}, headers=admin)
    assert listed.status_code == 200, listed.text
    [entry] = listed.json()["items"]
    assert entry["target"] == f"user:{name}"
    assert entry["before"]["display_name"] == "审计" and entry["after"]["display_name"] == "王芳芳"
    assert (
        client.get("/api/v1/audit", params={"target": "user:"}, headers=admin).json()["total"] == 2
    )
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert client.get("/api/v1/audit", params={"from": later}, headers=admin).json()["total"] == 0
    assert (
        client.get(
            "/api/v1/audit", params={"from": "2027-01-01T00:00:00"}, headers=admin
        ).status_code
        == 422
    )
    assert client.get("/api/v1/audit", headers=auth(client, "registrar")).status_code == 403

    exported = client.get("/api/v1/exports/audit", params={"actor": "admin"}, headers=admin)
    assert exported.status_code == 200, exported.text
    sheet = openpyxl.load_workbook(io.BytesIO(exported.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("时间", "操作人", "来源地址", "操作", "对象")
    assert {r[3] for r in rows[1:]} == {"user.create", "user.update", "station.rename"}
