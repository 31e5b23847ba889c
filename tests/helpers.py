"""Plain helper functions for tests: log in, deploy, start, find tasks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select

from bench.service import postgres_database  # noqa: F401  (the suite's fixtures import it from here)
from xueji import clock
from xueji.db.session import session_scope
from xueji.models import Station, UserTask

FIXTURES = Path(__file__).parent / "fixtures"
# The benchmark's ten-task process and its one-field form (bench/fixtures).
BENCH = Path(__file__).resolve().parents[1] / "bench" / "fixtures"


def token(client, username: str, password: str = "demo") -> str:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def auth(client, username: str) -> dict[str, str]:
    """Bearer header of a user with the demo password, logging in once per run and database:
    an access token holds only the username and is checked against the user's current row,
    so it stays good while the user exists (test accounts come back with the same name)."""
    runtime = getattr(getattr(client.app, "state", None), "runtime", None)
    key = (runtime.secret_key, str(runtime.db.engine.url)) if runtime else id(client)
    if (key, username) not in _tokens:
        _tokens[key, username] = token(client, username)
    return {"Authorization": f"Bearer {_tokens[key, username]}"}


_tokens: dict[tuple, str] = {}


def deploy_bench(client) -> dict:
    """Deploy the benchmark's ten-task process (`bench_ten_steps`) and its form."""
    return deploy(client, *((p.name, p.read_bytes()) for p in sorted(BENCH.iterdir())))


def add_open_tasks(runtime, instance_id: str, count: int, kind_of=lambda n: None) -> None:
    """`count` open tasks of S01's station role in one instance, written in bulk SQL, one
    second apart from now (ids bulk-00000 …; `kind_of(n)` their kind)."""
    now = clock.now()
    with session_scope(runtime.db.writer) as session:
        station = session.scalar(select(Station.id).where(Station.code == "S01"))
        session.execute(
            insert(UserTask),
            [
                {
                    "id": f"bulk-{n:05d}",
                    "instance_id": instance_id,
                    "element_id": "t1",
                    "name": "第1步",
                    "role": "station",
                    "station_id": station,
                    "state": "ready",
                    "kind": kind_of(n),
                    "created_at": now + timedelta(seconds=n),
                    "version": 1,
                }
                for n in range(count)
            ],
        )


def deploy(client, *names_or_files, expect: int = 201):
    files = []
    for item in names_or_files:
        if isinstance(item, tuple):
            files.append(("files", item))
        else:
            path = FIXTURES / item
            files.append(("files", (path.name, path.read_bytes())))
    response = client.post("/api/v1/deployments", files=files, headers=auth(client, "admin"))
    assert response.status_code == expect, response.text
    return response.json()


def tasks_of(client, username: str, **params) -> list[dict]:
    response = client.get("/api/v1/tasks", params=params, headers=auth(client, username))
    assert response.status_code == 200, response.text
    return response.json()["items"]


ROOT = Path(__file__).resolve().parents[1]


def deploy_processes(client, *keys: str):
    """Deploy processes/<key>.bpmn (and .dmn) for each key, with every form in forms/."""
    files = [("files", (p.name, p.read_bytes())) for p in sorted((ROOT / "forms").glob("*.json"))]
    for key in keys:
        for suffix in (".dmn", ".bpmn"):
            path = ROOT / "processes" / f"{key}{suffix}"
            if path.exists():
                files.append(("files", (path.name, path.read_bytes())))
    response = client.post("/api/v1/deployments", files=files, headers=auth(client, "admin"))
    assert response.status_code == 201, response.text
    return response.json()


def complete(client, username: str, task: dict, data: dict, expect: int = 200) -> dict:
    response = client.post(
        f"/api/v1/tasks/{task['id']}/complete", json={"data": data}, headers=auth(client, username)
    )
    assert response.status_code == expect, response.text
    return response.json()


def only_task(client, username: str, **params) -> dict:
    items = tasks_of(client, username, **params)
    assert len(items) == 1, items
    return items[0]


def student_id(client, username: str) -> int:
    me = client.get("/api/v1/me", headers=auth(client, username)).json()
    return me["student"]


def history_kinds(client, instance_id: str, username: str = "admin") -> list[tuple[str, str]]:
    response = client.get(
        f"/api/v1/process-instances/{instance_id}/history", headers=auth(client, username)
    )
    assert response.status_code == 200, response.text
    return [(h["kind"], h["element_id"]) for h in response.json()]


FIRST_PASSWORD = "first-login-pass"


def checked_in_student_headers(client, exam_number: str) -> dict[str, str]:
    """Bearer header of a student account made by check-in (process 1): logged in with the
    one-time password the station was shown (the check-in's `initial_password`), replaced
    at this first login as the student must; later calls log in with the new password."""
    response = client.post(
        "/api/v1/auth/token", data={"username": exam_number, "password": FIRST_PASSWORD}
    )
    if response.status_code == 200:
        return {"Authorization": f"Bearer {response.json()['access_token']}"}
    admin = auth(client, "admin")
    listed = client.get(
        "/api/v1/process-instances",
        params={"key": "enrollment_checkin", "per_page": 200},
        headers=admin,
    )
    assert listed.status_code == 200, listed.text
    password = next(
        found["initial_password"]
        for item in listed.json()["items"]
        for found in _dicts(
            client.get(f"/api/v1/process-instances/{item['id']}", headers=admin).json()
        )
        if found.get("username") == exam_number and "initial_password" in found
    )
    logged_in = client.post(
        "/api/v1/auth/token", data={"username": exam_number, "password": password}
    )
    assert logged_in.status_code == 200, logged_in.text
    assert logged_in.json()["must_change_password"] is True
    headers = {"Authorization": f"Bearer {logged_in.json()['access_token']}"}
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": password, "new_password": FIRST_PASSWORD},
        headers=headers,
    )
    assert changed.status_code == 204, changed.text
    return headers


def _dicts(value):
    """Every dict inside a JSON value (the check-in's result sits in the case's data)."""
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from _dicts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _dicts(inner)
