"""Statements, commits and flushes of one completion and of an inbox page (one that is not full,
and a full one, which counts the rest), counted in-process (bench/counting.py) on the real app
over a fresh database with the demo accounts; on PostgreSQL also the exchanges with the server
of a completion and of a page (the driver's BEGIN and COMMIT and the pool's pings included)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from counting import Counted, Exchanges
from fastapi.testclient import TestClient
from service import FIXTURES, ROOT

sys.path[:0] = [str(ROOT / "src")]

from xueji.app import create_app  # noqa: E402
from xueji.config import Settings  # noqa: E402
from xueji.db.migrate import upgrade  # noqa: E402
from xueji.db.session import session_scope  # noqa: E402
from xueji.demo import seed_demo  # noqa: E402
from xueji.wiring import build_runtime  # noqa: E402


def _login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def counts(database_url: str | None) -> tuple[dict[str, int], list[str]]:
    """The figures, and the statements behind them (for --show-sql)."""
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty"
        empty.mkdir()
        settings = Settings(
            database_url=database_url or f"sqlite:///{tmp}/counts.sqlite3",
            data_dir=Path(tmp),
            secret_key="bench-secret-key-0123456789-0123456789",
            processes_dir=empty,
            forms_dir=empty,
            run_worker=False,
            password_hashing="fast",
        )
        runtime = build_runtime(settings)
        upgrade(runtime.db.engine)
        with session_scope(runtime.db.writer) as session:
            seed_demo(session)
        app = create_app(settings, runtime, prepare_on_start=False)
        try:
            with TestClient(app) as client:
                return _count(client, runtime.db.engines, not runtime.db.is_sqlite)
        finally:
            runtime.db.dispose()


def _count(client: TestClient, engines, exchanges: bool) -> tuple[dict[str, int], list[str]]:
    admin, station = _login(client, "admin"), _login(client, "station1")
    files = [
        ("files", (p.name, p.read_bytes()))
        for p in (FIXTURES / "bench_note.schema.json", FIXTURES / "bench_ten_steps.bpmn")
    ]
    client.post("/api/v1/deployments", files=files, headers=admin).raise_for_status()
    started = client.post(
        "/api/v1/process-definitions/bench_ten_steps/start", json={"variables": {}}, headers=station
    )
    started.raise_for_status()
    task_id = started.json()["active_tasks"][0]["id"]
    result: dict[str, int] = {}
    shown = []
    for step in range(3):  # the last one counts: caches are warm, as in a running service
        with Counted(*engines) as completion, Exchanges(*engines if exchanges else ()) as sent:
            done = client.post(
                f"/api/v1/tasks/{task_id}/complete", json={"data": {"note": "好"}}, headers=station
            )
        done.raise_for_status()
        task_id = done.json()["next_tasks"][0]["id"]
        result = {
            "sql_statements_per_complete": len(completion.statements),
            "commits_per_complete": completion.commits,
            "flushes_per_complete": completion.flushes,
        }
        if exchanges:
            result["exchanges_per_complete"] = sent.total
        if step == 2:
            shown.append("complete: " + completion.summary())
            if exchanges:
                shown.append("complete: " + sent.summary())
    with Counted(*engines) as page, Exchanges(*engines if exchanges else ()) as sent:
        client.get("/api/v1/tasks", headers=station).raise_for_status()
    result["sql_statements_per_inbox_page"] = len(page.statements)
    shown.append("inbox page: " + page.summary())
    if exchanges:
        result["exchanges_per_inbox_page"] = sent.total
        shown.append("inbox page: " + sent.summary())
    # a full first page (one of two open tasks) also counts the inbox for its total
    client.post(
        "/api/v1/process-definitions/bench_ten_steps/start", json={"variables": {}}, headers=station
    ).raise_for_status()
    with Counted(*engines) as full:
        client.get("/api/v1/tasks", params={"per_page": 1}, headers=station).raise_for_status()
    result["sql_statements_per_full_inbox_page"] = len(full.statements)
    shown.append("full inbox page: " + full.summary())
    return result, shown
