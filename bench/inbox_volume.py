"""The inbox at volume: open tasks of one station (and completed ones beside them) written in
bulk SQL straight into the service's database, then `GET /tasks` timed as that station's
user, on the first page and the last."""

from __future__ import annotations

import math
import time
from contextlib import closing

import httpx
from load import login, p95
from sqlalchemy import Engine, create_engine, text

PER_INSTANCE = 100  # seeded tasks per seeded instance
PAGE = 50


def _numbers(engine: Engine, first: int, last: int) -> tuple[str, str, str]:
    """(FROM clause of the numbers first..last as `g(n)`, timestamp of n seconds, text of n)."""
    if engine.dialect.name == "sqlite":
        source = (
            f"(WITH RECURSIVE g(n) AS (SELECT {first} UNION ALL SELECT n + 1 FROM g"
            f" WHERE n < {last}) SELECT n FROM g) AS g"
        )
        return source, "datetime('2026-01-01', '+' || g.n || ' seconds')", "CAST(g.n AS TEXT)"
    source = f"generate_series({first}, {last}) AS g(n)"
    return (
        source,
        "(timestamptz '2026-01-01 00:00:00+00' + g.n * interval '1 second')",
        "CAST(g.n AS TEXT)",
    )


def seed(engine: Engine, start: int, count: int, state: str) -> None:
    """Tasks start+1 … start+count of station S01's role `station`, in `state`, each
    PER_INSTANCE of them in one (seeded, never-run) instance of the bench process."""
    if count <= 0:
        return
    with engine.begin() as conn:
        definition_id, station_id = conn.execute(
            text(
                "SELECT d.id, s.id FROM process_definitions d, stations s"
                " WHERE d.key = 'bench_ten_steps' AND s.code = 'S01'"
            )
        ).one()
        first_instance = start // PER_INSTANCE + 1
        last_instance = (start + count - 1) // PER_INSTANCE + 1
        source, at, n = _numbers(engine, first_instance, last_instance)
        conn.execute(
            text(
                "INSERT INTO process_instances (id, definition_id, definition_key, station_id,"
                " state, engine_state, variables, version, started_by, started_at, updated_at)"
                f" SELECT 'seed-{state}-' || {n}, :definition, 'bench_ten_steps', :station,"
                f" 'running', '{{}}', '{{}}', 1, 'seed', {at}, {at} FROM {source}"
            ),
            {"definition": definition_id, "station": station_id},
        )
        source, at, n = _numbers(engine, start + 1, start + count)
        instance = f"'seed-{state}-' || CAST((g.n - 1) / {PER_INSTANCE} + 1 AS TEXT)"
        done = f"{at}" if state == "completed" else "NULL"
        conn.execute(
            text(
                "INSERT INTO user_tasks (id, instance_id, element_id, name, role, station_id,"
                " form, state, escalation_level, created_at, completed_at, version)"
                f" SELECT 'seed-{state}-task-' || {n}, {instance}, 't1', '第1步', 'station',"
                f" :station, 'bench_note.schema.json', '{state}', 0, {at}, {done}, 1"
                f" FROM {source}"
            ),
            {"station": station_id},
        )
    if engine.dialect.name != "sqlite":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE user_tasks"))
            conn.execute(text("ANALYZE process_instances"))


def timed_pages(client: httpx.Client, rounds: int) -> tuple[float, float, int]:
    """(p95 ms of the first page, p95 ms of the last page, total) of the caller's inbox."""
    total = client.get("/tasks", params={"per_page": PAGE}).json()["total"]
    last = max(1, math.ceil(total / PAGE))
    first_ms, last_ms = [], []
    for _ in range(rounds):
        for page, into in ((1, first_ms), (last, last_ms)):
            began = time.perf_counter()
            client.get("/tasks", params={"page": page, "per_page": PAGE}).raise_for_status()
            into.append((time.perf_counter() - began) * 1000)
    return p95(first_ms), p95(last_ms), total


def label(count: int) -> str:
    return f"{count // 1000}k" if count >= 1000 else str(count)


def inbox(url: str, database_url: str, small: int, large: int, completed: int, rounds: int):
    """inbox_p95_ms_<small>, _<large>, inbox_last_page_p95_ms_<large>, inbox_growth_ratio."""
    engine = create_engine(database_url)
    try:
        seed(engine, 0, small, "ready")
        with closing(login(url)) as client:
            small_p95, _last, seen_small = timed_pages(client, rounds)
            seed(engine, small, large - small, "ready")
            seed(engine, 0, completed, "completed")
            large_p95, last_p95, seen_large = timed_pages(client, rounds)
    finally:
        engine.dispose()
    return {
        f"inbox_p95_ms_{label(small)}": small_p95,
        f"inbox_p95_ms_{label(large)}": large_p95,
        f"inbox_last_page_p95_ms_{label(large)}": last_p95,
        "inbox_growth_ratio": max(large_p95, last_p95) / small_p95,
        "inbox_open_tasks_seen": [seen_small, seen_large],
    }
