"""The inbox at volume: open tasks of one station (and completed ones beside them) written in
bulk SQL straight into the service's database, then `GET /tasks` timed as that station's
user: the first page, one in the middle and the last by keyset cursor, and the last as the
first page of the reversed sort."""

from __future__ import annotations

import time
from contextlib import closing
from datetime import datetime

import httpx
from load import login, p95
from sqlalchemy import Engine, create_engine, text

from xueji.tasks.filters import encode_cursor

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


def _cursor_before(client: httpx.Client, offset: int) -> str:
    """The cursor of the page that starts `offset` rows into the inbox (oldest first): made
    from the row before it, which one offset request finds (outside the timings)."""
    page = client.get("/tasks", params={"page": (offset - 1) // 200 + 1, "per_page": 200})
    row = page.json()["items"][(offset - 1) % 200]
    return encode_cursor([datetime.fromisoformat(row["created_at"]), row["id"]])


def timed_pages(client: httpx.Client, rounds: int) -> tuple[dict[str, float], int]:
    """p95 ms of the caller's inbox by page (the first, with its total; one in the middle and
    the last by cursor; the last as the first of the reversed sort) and how many tasks it
    holds (from GET /tasks/counts: a first page's total stops at the cap, 10,000)."""
    total = client.get("/tasks/counts").json()["all"]
    pages = {
        "first": {},
        "deep": {"cursor": _cursor_before(client, total // 2)},
        "last": {"cursor": _cursor_before(client, max(1, total - PAGE))},
        "reversed": {"sort": "-created"},
    }
    timings: dict[str, list[float]] = {name: [] for name in pages}
    for round_ in range(rounds + 1):  # the first warms the caches, untimed
        for name, params in pages.items():
            began = time.perf_counter()
            page = client.get("/tasks", params={"per_page": PAGE, **params})
            page.raise_for_status()
            if round_:
                timings[name].append((time.perf_counter() - began) * 1000)
            assert len(page.json()["items"]) == min(PAGE, total), (name, page.text)
    return {name: p95(ms) for name, ms in timings.items()}, total


def label(count: int) -> str:
    return f"{count // 1000}k" if count >= 1000 else str(count)


def inbox(url: str, database_url: str, small: int, large: int, completed: int, rounds: int):
    """inbox_p95_ms_<size> (the first page) at both sizes, the deep, last and reversed pages'
    at both, and inbox_growth_ratio: the largest of each page's p95 at the large size over
    its p95 at the small one."""
    engine = create_engine(database_url)
    try:
        seed(engine, 0, small, "ready")
        with closing(login(url)) as client:
            at_small, seen_small = timed_pages(client, rounds)
            seed(engine, small, large - small, "ready")
            seed(engine, 0, completed, "completed")
            at_large, seen_large = timed_pages(client, rounds)
    finally:
        engine.dispose()
    figures = {}
    for size, timings in ((small, at_small), (large, at_large)):
        figures[f"inbox_p95_ms_{label(size)}"] = timings["first"]
        for name in ("deep", "last", "reversed"):
            figures[f"inbox_{name}_page_p95_ms_{label(size)}"] = timings[name]
    growth = {name: at_large[name] / at_small[name] for name in at_small}
    return figures | {
        "inbox_growth_ratio": max(growth.values()),
        # the pages without a total: what the seek into the index costs at depth
        "inbox_cursor_growth_ratio": max(growth["deep"], growth["last"]),
        "inbox_open_tasks_seen": [seen_small, seen_large],
    }
