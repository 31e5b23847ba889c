"""Access-control matrix generated from the app's routes, so that no endpoint is forgotten.

Every route under /api/v1, every method, as the running app serves it (FastAPI's
`iter_route_contexts`: since 0.137 `app.routes` holds included routers, not their routes),
is requested by five principals — admin, registrar, station1 (S01), stu1001 (a student of
S01) and an API token of the role `station` for S01 made with POST /api-tokens — in six cases:

in_scope      The principal's own objects (its station's; its own as a student).
              GET: 200, or 403 when the route's role guard (`require_roles`) refuses the
              principal. POST/PUT/DELETE with a body are sent with a body that fails
              validation, so nothing changes: 422, or 403 from the role guard. POST/PUT/DELETE
              without a body are sent only where the role guard refuses the principal (403);
              elsewhere they would change the state and are counted as "not run".
out_of_scope  Objects of station S02 (for S01's staff and the token) or of another student of
              S01 (for the student): in the path, in a list's filter, or in the body
              (complete-batch, uploads, messages). Each request is sent again with an object
              that does not exist, and both answers must be the same (status, error, and the
              detail but for the id): 404, never 200; a 403 only when a nonexistent object gets
              it too (the principal's role may not use the route, whatever the id). A list
              filtered by an out-of-scope object is 200 and shows what an unknown object shows.
              Mutating requests carry a valid body here, so that the scope check is what
              refuses them (before anything changes). College-wide principals (admin,
              registrar) have no out-of-scope objects (n/a).
no_token      401 (sent once per route: there is no principal).
expired       An access token signed with the service's key whose exp is past (for the API
              token: its expires_at moved into the past): 401.
tampered      The principal's token with one byte changed: 401.
revoked       An API token revoked through DELETE /api/v1/api-tokens/{id}: 401 on every
              route; skipped while that endpoint is not on this branch.

The objects come from the demo data: status_change started for stu1001 three times (left at
the student's, the station's and the registrar's task), for stu1002 and for stu2001 (at
station2's task); daily_records for stu1002 and stu2001 (a message 学籍异动申请 reaches them);
an upload of each student; every open task made overdue; the instances' deadline timers, their webhook deliveries, and an
incident row on each. Path parameters are filled by name from PATH_PARAMS (ROUTE_PARAMS
overrides a name for one route); a route whose path parameter, required query parameter or
body the tables cannot fill fails the test, naming what to add.

No answer to an S01 principal (or to a request without a token) may name a student of S02:
names, ID numbers and exam numbers are read from the database first; nor, for the student,
the other students of S01, nor the ids of the out-of-scope instances and tasks (unless the
request itself sent them). Any 5xx is unexpected everywhere.

The figures (routes, requests per case, statuses, unexpected) are printed in the run's
summary ("reliability figures").
"""

from __future__ import annotations

import inspect
import io
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select, update

from tests.helpers import auth, complete, deploy_processes, student_id, tasks_of
from xueji.auth.tokens import API_TOKEN_PREFIX, create_access_token
from xueji.models import (
    ApiToken,
    ImportJob,
    Incident,
    OutboxEvent,
    ProcessInstance,
    Station,
    Student,
    Timer,
    UserTask,
    WebhookDelivery,
)

try:  # FastAPI 0.137.2 and later; before 0.137, app.routes is flat
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover
    iter_route_contexts = None

PREFIX = "/api/v1"
# Routes answered without a token.
PUBLIC = {("POST", "/api/v1/auth/token")}
# Probes answered to anyone, token or not, alike (no data of anyone's): not in the matrix.
PROBES = {("GET", "/api/v1/health/live"), ("GET", "/api/v1/health/ready")}
PRINCIPALS = ("admin", "registrar", "station1", "stu1001", "api_token")
CASES = ("in_scope", "out_of_scope", "no_token", "expired", "tampered", "revoked")
# The principals' roles, as the role guards see them (admin passes every guard).
ROLES = {
    "admin": {"admin"},
    "registrar": {"registrar"},
    "station1": {"station"},
    "stu1001": {"student"},
    "api_token": {"station"},
}
S01_PRINCIPALS = ("station1", "stu1001", "api_token")
REVOCATION = "revocation endpoint not on this branch"

# Path parameter -> the kind of object it names (values per principal in World.objects).
PATH_PARAMS = {
    "instance_id": "instance",
    "task_id": "task",
    "student_id": "student",
    "upload_id": "upload",
    "incident_id": "incident",
    "timer_id": "timer",
    "delivery_id": "delivery",
    "webhook_id": "webhook",
    "key": "process_key",
    "version": "version",
    "code": "station_code",
    "username": "username",
    "class_id": "class",
    "job_id": "import_job",
}
# (path, parameter) -> kind, where a name means something else on one route.
ROUTE_PARAMS = {
    ("/api/v1/decision-definitions/{key}/xml", "key"): "decision_key",
    ("/api/v1/api-tokens/{token_id}", "token_id"): "api_token",
    ("/api/v1/choices/{kind}", "kind"): "choice_kind",  # searched by q (a name) below
    ("/api/v1/imports/{kind}", "kind"): "import_kind",
    ("/api/v1/imports/{kind}/template", "kind"): "import_kind",
    ("/api/v1/exports/registration/{kind}", "kind"): "registration_kind",
    ("/api/v1/process-instances/{instance_id}/variables/{name}", "name"): "variable_name",
}
# Query parameters that name an object: a list filtered by an out-of-scope one is sent (one
# filter at a time) and must show what a nonexistent one shows.
QUERY_OBJECTS = {
    "student": "student",
    "station": "station_code",
    "instance_id": "instance",
    "parent": "instance",
    "q": "student_name",  # a search by name
}
# Query parameters sent with every request of a route.
# The event stream: every event the caller may see, then the end (instead of waiting).
QUERY_ALWAYS = {
    ("GET", "/api/v1/events/stream"): {"after": 0, "wait": 0},
    # the documents' required choices (a season, a course and term, an intake)
    ("GET", "/api/v1/documents/seal-verification"): {"year": 2028, "season": "春季"},
    ("GET", "/api/v1/documents/blank-grade-sheet/{class_id}"): {
        "course": "GG001",
        "term": "2027-春",
    },
    ("GET", "/api/v1/documents/makeup-sheet"): {"course": "ZY401", "term": "2027-春"},
    ("GET", "/api/v1/documents/checkin-statistics"): {"intake": 2027},
    ("GET", "/api/v1/documents/photo-collection"): {"year": 2028},
    ("GET", "/api/v1/definitions/{key}/diff"): {"from": 1, "to": 1},
    ("GET", "/api/v1/deadline-rules/words"): {"rule": "P7D"},
}

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
APPLICATION = {"kind": "休学", "reason": "工作调动", "effective_term": "2027-春"}
# Process 4 refuses a second open application of one kind: the student's others differ.
OTHER_KINDS = {"退学": {}, "转专业": {"target_major": "护理"}}
FORM = {"phone": "13800000000", "statement": "因工作调动申请异动"}


def _json(body: Any) -> dict[str, Any]:
    return {"json": body}


@dataclass(frozen=True)
class Body:
    """How to send a route's body: `invalid` (request keywords) fails validation; `valid`
    (given the objects of the case) passes it, so that only scope can refuse it; `uses` the
    kinds of object the valid body names (an out-of-scope case of its own)."""

    invalid: dict[str, Any]
    valid: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    uses: tuple[str, ...] = ()


BODIES: dict[tuple[str, str], Body] = {
    ("POST", "/api/v1/auth/token"): Body({"data": {}}),
    ("POST", "/api/v1/users"): Body(_json({})),
    ("POST", "/api/v1/auth/password"): Body(_json({})),
    ("POST", "/api/v1/api-tokens"): Body(_json({})),
    ("POST", "/api/v1/deployments"): Body({"data": {}}),
    ("POST", "/api/v1/deployments/validate"): Body({"data": {}}),
    ("POST", "/api/v1/process-definitions/{key}/start"): Body(_json({"variables": []})),
    ("POST", "/api/v1/incidents/{incident_id}/resolve"): Body(
        _json({"action": "bogus"}), lambda o: _json({"action": "dismiss"})
    ),
    ("POST", "/api/v1/migrations"): Body(_json({"target_version": "x"})),
    ("POST", "/api/v1/migrations/dry-run"): Body(_json({"target_version": "x"})),
    # An element the case never passed: refused (422), nothing moves.
    ("POST", "/api/v1/process-instances/{instance_id}/move"): Body(
        _json({}), lambda o: _json({"element_id": "nowhere"})
    ),
    ("PUT", "/api/v1/process-instances/{instance_id}/variables/{name}"): Body(
        _json([]), lambda o: _json({"value": "访问矩阵"})
    ),
    ("POST", "/api/v1/tasks/complete-batch"): Body(
        _json({"tasks": []}),
        lambda o: _json({"tasks": [{"id": o["task"], "data": {}}]}),
        uses=("task",),
    ),
    ("POST", "/api/v1/tasks/{task_id}/assign"): Body(
        _json({}), lambda o: _json({"username": "admin"})
    ),
    ("POST", "/api/v1/tasks/{task_id}/complete"): Body(
        _json({"data": "x"}), lambda o: _json({"data": {}})
    ),
    ("POST", "/api/v1/uploads"): Body(
        {"data": {}},
        lambda o: {
            "files": {"file": ("photo.jpg", JPEG, "image/jpeg")},
            "data": {"student": str(o["student"])},
        },
        uses=("student",),
    ),
    ("POST", "/api/v1/messages"): Body(
        _json({}),
        lambda o: _json(
            {
                "name": "学籍异动申请",
                "correlation": {"student": o["student"]},
                "payload": {**APPLICATION, "kind": "退学"},
            }
        ),
        uses=("student",),
    ),
    ("POST", "/api/v1/webhooks"): Body(_json({})),
    ("POST", "/api/v1/stations"): Body(_json({})),
    ("PUT", "/api/v1/stations/{code}"): Body(_json({}), lambda o: _json({"name": "改名"})),
    # A version nobody read: refused as stale in scope (nothing changes), 404 outside it.
    ("POST", "/api/v1/tasks/{task_id}/claim"): Body(
        _json({"version": "x"}), lambda o: _json({"version": 10**6})
    ),
    ("POST", "/api/v1/tasks/{task_id}/unclaim"): Body(
        _json({"version": "x"}), lambda o: _json({"version": 10**6})
    ),
    # The station may not import the admissions list (403 before the file is read).
    ("POST", "/api/v1/imports/{kind}"): Body(
        {"data": {}}, lambda o: {"files": {"file": ("a.csv", b"KSH\n", "text/csv")}}
    ),
    # Enabling an active account changes nothing.
    ("PATCH", "/api/v1/users/{username}"): Body(
        _json({"is_active": "maybe"}), lambda o: _json({"is_active": True})
    ),
}

UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"
UNKNOWN_ROW = 2**31 - 1  # the largest id the API accepts (paging.MAX_ID); no row has it
UNKNOWN = {
    "instance": UNKNOWN_UUID,
    "task": UNKNOWN_UUID,
    "student": UNKNOWN_ROW,
    "upload": UNKNOWN_ROW,
    "incident": UNKNOWN_ROW,
    "timer": UNKNOWN_ROW,
    "delivery": UNKNOWN_ROW,
    "station_code": "S99",
    "student_name": "不存在",
    "username": "nobody-at-all",
    "class": UNKNOWN_ROW,
    "import_job": UNKNOWN_UUID,
}


# --- the routes -------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    route: APIRoute
    dependant: Any

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def mutating(self) -> bool:
        return self.method != "GET"

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def api_routes(app) -> list[Route]:
    """Every (method, path) the app serves under /api/v1, with the full dependency tree."""
    contexts = iter_route_contexts(app.routes) if iter_route_contexts else app.routes
    found = []
    for context in contexts:
        route = getattr(context, "original_route", context)
        if not isinstance(route, APIRoute) or not context.path.startswith(PREFIX + "/"):
            continue
        dependant = getattr(context, "dependant", None) or route.dependant
        for method in sorted(context.methods):
            if (method, context.path) not in PROBES:
                found.append(Route(method, context.path, route, dependant))
    return sorted(found, key=lambda r: (r.path, r.method))


def role_guards(dependant) -> list[set[str]]:
    """The role sets of every `require_roles` guard in a dependency tree."""
    guards = []
    for dependency in dependant.dependencies:
        call = dependency.call
        if getattr(call, "__qualname__", "") == "require_roles.<locals>.guard":
            guards.append({str(r) for r in inspect.getclosurevars(call).nonlocals["roles"]})
        guards.extend(role_guards(dependency))
    return guards


def flat_params(dependant, kind: str) -> list:
    """The path or query parameters of a dependency tree (paging and filters are dependencies)."""
    params = {p.name: p for p in getattr(dependant, f"{kind}_params")}
    for dependency in dependant.dependencies:
        params.update({p.name: p for p in flat_params(dependency, kind)})
    return list(params.values())


def admitted(principal: str, guards: list[set[str]]) -> bool:
    roles = ROLES[principal]
    return all("admin" in roles or roles & guard for guard in guards)


# --- the objects ------------------------------------------------------------------------


@dataclass
class World:
    tokens: dict[str, str]
    expired: dict[str, str]
    tampered: dict[str, str]
    # principal -> "in" | "out" -> kind -> value ("out" empty for college-wide principals)
    objects: dict[str, dict[str, dict[str, Any]]]
    # principal -> strings its answers must not contain
    secrets: dict[str, list[str]]
    # strings no answer without a token may contain
    names: list[str]


def _start_status_change(client, username: str, kind: str = "休学") -> str:
    response = client.post(
        "/api/v1/process-definitions/status_change/start",
        json={"variables": {**APPLICATION, "kind": kind, **OTHER_KINDS.get(kind, {})}},
        headers=auth(client, username),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _task(client, username: str, instance_id: str) -> str:
    (task,) = tasks_of(client, username, instance_id=instance_id)
    return task["id"]


def _advance(client, instance_id: str, *steps: tuple[str, dict]) -> None:
    for username, data in steps:
        complete(client, username, {"id": _task(client, username, instance_id)}, data)


def _upload(client, username: str) -> int:
    response = client.post(
        "/api/v1/uploads",
        files={"file": ("photo.jpg", JPEG, "image/jpeg")},
        headers=auth(client, username),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _api_token(client, name: str, **fields) -> dict:
    response = client.post(
        "/api/v1/api-tokens",
        json={"name": name, "role": "station", "station": "S01", **fields},
        headers=auth(client, "admin"),
    )
    assert response.status_code == 201, response.text
    return response.json()


def tamper(token: str) -> str:
    """The token with one byte changed: in the middle of a JWT's signature (its last
    character may carry only padding bits), or of an API token's secret."""
    start = token.rfind(".") + 1 if token.count(".") == 2 else len(API_TOKEN_PREFIX)
    at = start + (len(token) - start) // 2
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]


def build_world(client, db) -> World:
    deploy_processes(client, "graduation_deferral", "daily_records", "status_change")
    admin = auth(client, "admin")
    # Before the instances, so that their events get deliveries.
    hook = client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/matrix", "event_types": ["task.created"]},
        headers=admin,
    )
    assert hook.status_code == 201, hook.text

    at_student = _start_status_change(client, "stu1001")
    at_station = _start_status_change(client, "stu1001", "退学")
    _advance(client, at_station, ("stu1001", FORM))
    at_registrar = _start_status_change(client, "stu1001", "转专业")
    _advance(client, at_registrar, ("stu1001", FORM), ("station1", {"outcome": "approved"}))
    classmate = _start_status_change(client, "stu1002")
    s02 = _start_status_change(client, "stu2001")
    _advance(client, s02, ("stu2001", FORM))
    # Waiting for the message 学籍异动申请 of their student (POST /messages).
    for student, station_user in (("stu1002", "station1"), ("stu2001", "station2")):
        response = client.post(
            "/api/v1/process-definitions/daily_records/start",
            json={"variables": {"student": student_id(client, student)}},
            headers=auth(client, station_user),
        )
        assert response.status_code == 201, response.text

    token = _api_token(client, "matrix-station")["token"]
    expiring = _api_token(client, "matrix-expired", days=1)
    revocable = _api_token(client, "matrix-revocable")["id"]

    instances = {"s01": at_station, "classmate": classmate, "s02": s02}
    with db.db.writer() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == expiring["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(hours=1))
        )
        # Every open task overdue, so that the overdue views have something to show (or leak).
        session.execute(update(UserTask).values(due_at=datetime.now(UTC) - timedelta(days=1)))
        incidents = {}
        for name, instance_id in instances.items():
            instance = session.get(ProcessInstance, instance_id)
            incident = Incident(
                instance_id=instance_id,
                definition_id=instance.definition_id,
                element_id="fill_form",
                message="an incident of the access matrix",
                actor="matrix",
                data={},
                created_at=datetime.now(UTC),
            )
            session.add(incident)
            session.flush()
            incidents[name] = incident.id
        timers, deliveries = {}, {}
        for name, instance_id in instances.items():
            timers[name] = session.scalar(
                select(Timer.id).where(Timer.instance_id == instance_id).order_by(Timer.id)
            )
            deliveries[name] = session.scalar(
                select(WebhookDelivery.id)
                .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
                .where(OutboxEvent.instance_id == instance_id)
                .order_by(WebhookDelivery.id)
            )
        session.commit()
        students = {
            station: list(
                session.execute(
                    select(Student.name, Student.id_number, Student.exam_number)
                    .join(Station, Station.id == Student.station_id)
                    .where(Station.code == station)
                )
            )
            for station in ("S01", "S02")
        }
    assert all(timers.values()) and all(deliveries.values()), (timers, deliveries)

    sid = {name: student_id(client, name) for name in ("stu1001", "stu1002", "stu2001")}
    with db.db.writer() as session, session.begin():
        names = {name: session.get(Student, id_).name for name, id_ in sid.items()}
        classes = {name: session.get(Student, id_).class_id for name, id_ in sid.items()}
        # stu1001's 毕业证书 can be printed (GET /documents/diploma is 200 in scope)
        session.get(Student, sid["stu1001"]).certificate_number = "104755202805000001"
    shared = {
        "webhook": hook.json()["id"],
        "process_key": "status_change",
        "decision_key": "graduation_deferral",
        "version": 1,
        "api_token": revocable,
        "username": "stu1002",
        "choice_kind": "students",
        "import_kind": "admissions",
        "registration_kind": "new",
        "variable_name": "access_probe",
    }
    # Import jobs (with a report): a station's, and one of each student.
    jobs = {}
    with db.db.writer() as session:
        stations = {code: id_ for id_, code in session.execute(select(Station.id, Station.code))}
        for name, creator, station in (
            ("s01", "station1", "S01"),
            ("s02", "station2", "S02"),
            ("own", "stu1001", None),
            ("classmate", "stu1002", None),
        ):
            jobs[name] = str(uuid.uuid4())
            session.add(
                ImportJob(
                    id=jobs[name],
                    kind="grades",
                    mode="all_or_nothing",
                    file_name="x.xlsx",
                    state="rejected",
                    percent=100,
                    total_rows=1,
                    written_rows=0,
                    problems=[],
                    report=b"PK",
                    created_by=creator,
                    station_id=stations[station] if station else None,
                    created_at=datetime.now(UTC),
                    updated_at=datetime.now(UTC),
                )  # fmt: skip
            )
        session.commit()

    def station_objects(name: str, task: str, student: str, code: str) -> dict[str, Any]:
        return {
            "instance": instances[name],
            "task": task,
            "student": sid[student],
            "upload": uploads[student],
            "incident": incidents[name],
            "timer": timers[name],
            "delivery": deliveries[name],
            "station_code": code,
            "student_name": names[student],
            "class": classes[student],
            "import_job": jobs[name],
            **shared,
        }

    uploads = {name: _upload(client, name) for name in sid}
    s01 = station_objects("s01", _task(client, "station1", at_station), "stu1001", "S01")
    s02_objects = station_objects("s02", _task(client, "station2", s02), "stu2001", "S02")
    # A classmate's objects; the station of the code is S02 (the student's own is S01).
    other_student = station_objects(
        "classmate", _task(client, "stu1002", classmate), "stu1002", "S02"
    )
    own = {
        **s01,
        "instance": at_student,
        "task": _task(client, "stu1001", at_student),
        "import_job": jobs["own"],
    }
    objects = {
        "admin": {"in": s01, "out": {}},
        "registrar": {
            "in": {**s01, "task": _task(client, "registrar", at_registrar)},
            "out": {},
        },
        "station1": {"in": s01, "out": s02_objects},
        "api_token": {"in": s01, "out": s02_objects},
        "stu1001": {"in": own, "out": other_student},
    }

    def identifying(rows) -> list[str]:
        return [value for row in rows for value in row if value]

    s02_names = identifying(students["S02"])
    classmates = identifying(r for r in students["S01"] if r[0] != names["stu1001"])
    secrets = {
        "station1": [*s02_names, s02_objects["instance"], s02_objects["task"]],
        "api_token": [*s02_names, s02_objects["instance"], s02_objects["task"]],
        "stu1001": [
            *s02_names,
            *classmates,
            other_student["instance"],
            other_student["task"],
            s02_objects["instance"],
            s02_objects["task"],
        ],
    }
    secret = db.secret_key
    past = datetime.now(UTC) - timedelta(days=1)
    users = ("admin", "registrar", "station1", "stu1001")
    tokens = {u: auth(client, u)["Authorization"].removeprefix("Bearer ") for u in users}
    tokens["api_token"] = token
    expired = {u: create_access_token(u, secret, 60, now=past) for u in users}
    expired["api_token"] = expiring["token"]
    return World(
        tokens=tokens,
        expired=expired,
        tampered={p: tamper(t) for p, t in tokens.items()},
        objects=objects,
        secrets=secrets,
        names=identifying(students["S01"]) + s02_names,
    )


# --- requests and checks ----------------------------------------------------------------


@dataclass
class Request:
    route: Route
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)

    def send(self, client, token: str | None):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return client.request(
            self.route.method, self.path, params=self.params, headers=headers, **self.body
        )

    def text(self) -> str:
        return f"{self.route.method} {self.path} {self.params} {self.body}"


class Unfillable(Exception):
    pass


def kind_of(route: Route, name: str) -> str:
    kind = ROUTE_PARAMS.get((route.path, name)) or PATH_PARAMS.get(name)
    if kind is None:
        raise Unfillable(
            f"{route}: no value for the path parameter {name!r}; add it to PATH_PARAMS (or "
            f"ROUTE_PARAMS) in tests/reliability/test_access_matrix.py, with an in-scope and an "
            f"out-of-scope object in build_world"
        )
    return kind


def build(route: Route, objects: dict[str, Any], params: dict | None = None, body=None):
    path = route.path
    for param in flat_params(route.dependant, "path"):
        kind = kind_of(route, param.name)
        if kind not in objects:
            raise Unfillable(f"{route}: build_world has no {kind!r} object for {param.name!r}")
        path = path.replace("{" + param.name + "}", str(objects[kind]))
    query = dict(QUERY_ALWAYS.get(route.key, {}))
    for param in flat_params(route.dependant, "query"):
        if (
            param.field_info.is_required()
            and param.alias not in query  # the name sent (?from= for from_version)
            and param.name not in (params or {})
        ):
            raise Unfillable(
                f"{route}: the required query parameter {param.name!r} has no value; add it "
                f"to QUERY_ALWAYS in tests/reliability/test_access_matrix.py"
            )
    query.update(params or {})
    return Request(route, path, query, body or {})


def body_of(route: Route) -> Body | None:
    if not route.mutating:
        return None
    body = BODIES.get(route.key)
    if route.route.body_field is not None and body is None:
        raise Unfillable(
            f"{route}: takes a body; add an invalid (and a valid) one to BODIES in "
            f"tests/reliability/test_access_matrix.py"
        )
    return body


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def normalized(response, values: list[Any]) -> str:
    text = response.text
    if response.headers.get("content-type", "").startswith(XLSX):
        # A workbook's bytes differ by its creation time (and any byte may read as an id):
        # compare its cells.
        book = load_workbook(io.BytesIO(response.content), read_only=True)
        text = repr([list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets])
    for value in values:
        text = re.sub(rf"(?<![\w-]){re.escape(str(value))}(?![\w-])", "<object>", text)
    return text


def error_of(response) -> str | None:
    try:
        return response.json().get("error")
    except (ValueError, AttributeError):
        return None


@dataclass
class Tally:
    requests: Counter = field(default_factory=Counter)
    statuses: dict[str, Counter] = field(default_factory=dict)
    na: Counter = field(default_factory=Counter)
    not_run: Counter = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)

    def count(self, case: str, status: int) -> None:
        self.requests[case] += 1
        self.statuses.setdefault(case, Counter())[status] += 1


def out_of_scope(route: Route, body: Body | None, objects: dict) -> list[tuple]:
    """(request, the same with nonexistent objects, their values, the twin's values, "object"
    or "filter") for each out-of-scope case of a route for a principal: the objects it names
    in its path and body together, and each object filter of a list on its own."""
    out = objects["out"]
    if not out:
        return []
    cases = []
    kinds = [kind_of(route, p.name) for p in flat_params(route.dependant, "path")]
    named = [k for k in [*kinds, *(body.uses if body else ())] if k in UNKNOWN]
    if named:
        out_objects = {**objects["in"], **{k: out[k] for k in named}}
        twin_objects = {**objects["in"], **{k: UNKNOWN[k] for k in named}}
        out_body = twin_body = None
        if body is not None:
            if body.valid is None:
                raise Unfillable(
                    f"{route}: names an object but BODIES in "
                    f"tests/reliability/test_access_matrix.py has no valid body for it"
                )
            out_body, twin_body = body.valid(out_objects), body.valid(twin_objects)
        cases.append(
            (
                build(route, out_objects, body=out_body),
                build(route, twin_objects, body=twin_body),
                [out[k] for k in named],
                [UNKNOWN[k] for k in named],
                "object",
            )
        )
    if not route.mutating:
        for param in flat_params(route.dependant, "query"):
            kind = QUERY_OBJECTS.get(param.name)
            if kind is not None:
                cases.append(
                    (
                        build(route, objects["in"], params={param.name: out[kind]}),
                        build(route, objects["in"], params={param.name: UNKNOWN[kind]}),
                        [out[kind]],
                        [UNKNOWN[kind]],
                        "filter",
                    )
                )
    return cases


class Matrix:
    """Sends the cases and keeps the tally: requests and statuses per case, the n/a and the
    requests not run, and every unexpected answer."""

    def __init__(self, client, world: World):
        # A 500 is an answer to count, not an exception that ends the run.
        self.client = TestClient(client.app, raise_server_exceptions=False)
        self.world = world
        self.requests: Counter = Counter()
        self.statuses: dict[str, Counter] = {}
        self.na: Counter = Counter()
        self.not_run: Counter = Counter()
        self.not_run_routes: Counter = Counter()
        self.unexpected: list[str] = []
        self.unfillable: list[str] = []

    def send(self, case, principal, request, token, allowed: set[int]):
        response = request.send(self.client, token)
        self.requests[case] += 1
        self.statuses.setdefault(case, Counter())[response.status_code] += 1
        problems = []
        if response.status_code not in allowed:
            problems.append(f"got {response.status_code}, expected {sorted(allowed)}")
        if response.status_code == 404 and error_of(response) != "NotFound":
            problems.append("a 404 that is not the API's JSON NotFound")
        if response.status_code == 401 and response.headers.get("www-authenticate") != "Bearer":
            problems.append("a 401 without WWW-Authenticate: Bearer")
        secrets = self.world.names if principal is None else self.world.secrets.get(principal, [])
        sent = request.text()
        leaked = [s for s in secrets if str(s) in response.text and str(s) not in sent]
        if leaked:
            problems.append(f"names what is not the caller's: {leaked}")
        if problems:
            self.fail(case, principal, request.route, "; ".join(problems), request, response)
        return response

    def fail(self, case, principal, route, problem, request, response) -> None:
        self.unexpected.append(
            f"{case} {principal or 'no token'} {route}: {problem} — sent {request.path} "
            f"{request.params or ''} {request.body or ''} — answered {response.text[:300]}"
        )

    def run(self, routes: list[Route], cases: tuple[str, ...]) -> None:
        for route in routes:
            try:
                self.run_route(route, cases)
            except Unfillable as exc:
                self.unfillable.append(str(exc))

    def run_route(self, route: Route, cases: tuple[str, ...]) -> None:
        world = self.world
        body = body_of(route)
        invalid = body.invalid if body else {}
        guards = role_guards(route.dependant)
        refused = {422} if route.key in PUBLIC else {401}
        if "no_token" in cases:
            request = build(route, world.objects["admin"]["in"], body=invalid)
            self.send("no_token", None, request, None, refused)
        for principal in PRINCIPALS:
            objects = world.objects[principal]
            request = build(route, objects["in"], body=invalid)
            bad = {"expired": world.expired, "tampered": world.tampered}
            if "revoked" in cases:
                bad["revoked"] = {p: world.tokens["revoked"] for p in PRINCIPALS}
            for case, tokens in bad.items():
                if case in cases:
                    self.send(case, principal, request, tokens[principal], refused)
            token = world.tokens[principal]
            may = admitted(principal, guards)
            if "in_scope" in cases:
                if not route.mutating:
                    self.send("in_scope", principal, request, token, {200} if may else {403})
                elif body is not None:
                    self.send("in_scope", principal, request, token, {422} if may else {403})
                elif not may:
                    self.send("in_scope", principal, request, token, {403})
                else:
                    self.not_run["in_scope"] += 1
                    self.not_run_routes[str(route)] += 1
            if "out_of_scope" in cases:
                pairs = out_of_scope(route, body, objects)
                if not pairs:
                    self.na["out_of_scope"] += 1
                for out, twin, out_values, twin_values, how in pairs:
                    if how == "filter":
                        allowed = {200} if may else {403}
                    else:
                        allowed = {403, 404}
                    answer = self.send("out_of_scope", principal, out, token, allowed)
                    other = self.send("out_of_scope", principal, twin, token, allowed)
                    if normalized(answer, out_values) != normalized(other, twin_values):
                        self.fail(
                            "out_of_scope",
                            principal,
                            route,
                            f"told apart from a nonexistent object ({other.status_code} "
                            f"{other.text[:200]})",
                            out,
                            answer,
                        )

    def summary(self, routes: list[Route], skipped: dict[str, str]) -> list[str]:
        methods = Counter(r.method for r in routes)
        lines = [
            f"access matrix: {len(routes)} routes ("
            + ", ".join(f"{m} {n}" for m, n in sorted(methods.items()))
            + f") × {len(PRINCIPALS)} principals × {len(CASES)} cases (no_token: once per "
            "route; out_of_scope: each request and its nonexistent twin)",
            f"  {'case':13} {'requests':>8} {'n/a':>5} {'not run':>8}  statuses",
        ]
        for case in CASES:
            if case in skipped:
                lines.append(f"  {case:13} skipped: {skipped[case]}")
                continue
            if not self.requests[case] and not self.na[case] and not self.not_run[case]:
                continue
            statuses = ", ".join(
                f"{s}×{n}" for s, n in sorted(self.statuses.get(case, Counter()).items())
            )
            lines.append(
                f"  {case:13} {self.requests[case]:8} {self.na[case]:5} "
                f"{self.not_run[case]:8}  {statuses}"
            )
        if self.not_run_routes:
            lines.append(
                "  in_scope not run (no body to fail validation; would change the state): "
                + ", ".join(f"{r} ×{n}" for r, n in sorted(self.not_run_routes.items()))
            )
        total = sum(self.requests.values())
        lines.append(
            f"access matrix: {total:,} requests, {len(self.unexpected)} unexpected, "
            f"{len(self.unfillable)} routes the tables cannot fill"
        )
        return lines


def revocation_route(routes: list[Route]) -> Route | None:
    return next(
        (
            r
            for r in routes
            if r.method == "DELETE" and r.path.startswith(f"{PREFIX}/api-tokens/{{")
        ),
        None,
    )


def check(matrix: Matrix) -> None:
    problems = [*matrix.unfillable, *matrix.unexpected]
    assert not problems, f"{len(problems)} unexpected:\n" + "\n".join(problems)


def test_routes_are_enumerated_as_served(api_app):
    """The enumeration sees what the app serves: every operation of /openapi.json (a FastAPI
    that hides included routers from `app.routes` must not leave the matrix empty)."""
    routes = {(r.method, r.path) for r in api_routes(api_app)}
    documented = {
        (method.upper(), path)
        for path, operations in api_app.openapi()["paths"].items()
        if path.startswith(PREFIX + "/")
        for method in operations
    }
    assert documented and documented - PROBES <= routes, sorted(documented - PROBES - routes)


def test_access_matrix(client, db, figures):
    world = build_world(client, db)
    routes = api_routes(client.app)
    assert len(routes) >= 40, routes
    matrix = Matrix(client, world)
    matrix.run(routes, tuple(c for c in CASES if c != "revoked"))
    revoked = "see test_revoked_api_token_is_refused_everywhere"
    skipped = {"revoked": revoked if revocation_route(routes) else REVOCATION}
    figures.extend(matrix.summary(routes, skipped))
    check(matrix)


def test_revoked_api_token_is_refused_everywhere(client, db, figures):
    routes = api_routes(client.app)
    revoke = revocation_route(routes)
    if revoke is None:
        figures.append(f"access matrix, revoked API token: skipped ({REVOCATION})")
        pytest.skip(REVOCATION)
    world = build_world(client, db)
    revoked = _api_token(client, "matrix-revoked")
    path = revoke.path.replace(revoke.path[revoke.path.rindex("{") :], str(revoked["id"]))
    response = client.delete(path, headers=auth(client, "admin"))
    assert response.status_code in (200, 204), response.text
    world.tokens["revoked"] = revoked["token"]
    matrix = Matrix(client, world)
    matrix.run(routes, ("revoked",))
    figures.extend(matrix.summary(routes, {})[-2:])
    check(matrix)
