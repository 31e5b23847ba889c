"""GET /tasks by keyset cursor: every page a seek into a partial index of open tasks (the
plan the database makes for a station user's deep page), open tasks without a due date as
their own segment after the dated ones, and a walk in either direction sees each task once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, select

from tests.helpers import auth, deploy_bench
from xueji import clock
from xueji.db.session import session_scope
from xueji.models import ProcessDefinition, ProcessInstance, Station, UserTask

OPEN = 61  # the station's open tasks: a third without a due date, dates and names shared


@pytest.fixture
def open_tasks(client, db) -> list[dict]:
    """S01's open station tasks (as inserted), beside ones it must not see: completed ones,
    another station's, and one of a suspended instance."""
    deploy_bench(client)
    now = clock.now().replace(microsecond=0)
    with session_scope(db.db.writer) as session:
        definition = session.scalar(
            select(ProcessDefinition).where(ProcessDefinition.key == "bench_ten_steps")
        )
        stations = dict(session.execute(select(Station.code, Station.id)).tuples().all())
        instances = [
            {
                "id": f"i-{state}",
                "definition_id": definition.id,
                "definition_key": definition.key,
                "state": state,
                "engine_state": "{}",
                "variables": {},
                "started_by": "test",
                "started_at": now,
                "updated_at": now,
            }
            for state in ("running", "suspended")
        ]
        session.execute(insert(ProcessInstance), instances)

        def task(n: int, **values) -> dict:
            return {
                "id": f"t-{n:03d}",
                "instance_id": "i-running",
                "element_id": "t1",
                "name": "第1步",
                "role": "station",
                "station_id": stations["S01"],
                "state": "ready",
                "created_at": now - timedelta(hours=n % 7),
                "due_at": None if n % 3 == 0 else now + timedelta(days=n % 5),
                "subject_name": None if n % 4 == 0 else f"学生{n % 6}",
                "version": 1,
            } | values

        mine = [task(n) for n in range(OPEN)]
        others = [
            *(task(n, state="completed", completed_at=now) for n in range(100, 110)),
            *(task(n, station_id=stations["S02"]) for n in range(200, 205)),
            # written as suspending writes it: the instance's open tasks marked suspended
            task(300, instance_id="i-suspended", suspended=True),
        ]
        session.execute(insert(UserTask), [*mine, *others])
    return mine


def _order(tasks: list[dict], sort: str) -> list[str]:
    """The ids in the inbox's order: by the sort value then id, rows without one last."""
    column = {"due": "due_at", "created": "created_at", "student": "subject_name"}
    key, descending = column[sort.removeprefix("-")], sort.startswith("-")
    dated = sorted(
        (t for t in tasks if t[key] is not None),
        key=lambda t: (t[key], t["id"]),
        reverse=descending,
    )
    undated = sorted(
        (t for t in tasks if t[key] is None), key=lambda t: t["id"], reverse=descending
    )
    return [t["id"] for t in dated + undated]


def _page(client, username="station1", **params) -> dict:
    response = client.get("/api/v1/tasks", params=params, headers=auth(client, username))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("per_page", [7, 20])
def test_a_walk_by_cursor_sees_every_task_once_in_either_direction(client, open_tasks, per_page):
    for sort in ("due", "-due", "created", "-created", "student", "-student"):
        seen, cursor, pages = [], None, 0
        while True:
            after = {"cursor": cursor} if cursor else {}
            page = _page(client, sort=sort, per_page=per_page, **after)
            assert page["total"] == (OPEN if cursor is None else None)
            seen += [t["id"] for t in page["items"]]
            pages += 1
            if not (cursor := page["next_cursor"]):
                break
        assert seen == _order(open_tasks, sort), sort
        assert len(set(seen)) == OPEN and pages == OPEN // per_page + 1
    # The last page of a sort is the first of the reversed one; rows without a due date stay
    # last both ways, so -due starts from the last dated ones.
    for sort, rows in (("created", open_tasks), ("due", [t for t in open_tasks if t["due_at"]])):
        last = _page(client, sort=f"-{sort}", per_page=per_page)["items"]
        assert [t["id"] for t in last] == _order(rows, sort)[::-1][:per_page]


def _plan(db, statement: str, parameters) -> str:
    """The database's plan of a statement as it ran; PostgreSQL told that a sort or a table
    scan costs most, so that on a table this small it still shows whether it can seek."""
    with db.db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(row[-1] for row in rows)
        for setting in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
            connection.exec_driver_sql(f"SET LOCAL {setting} = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize(
    ("username", "sort"),
    [("station1", "due"), ("station1", "-due"), ("station1", "-created"), ("admin", "created")],
)
def test_a_deep_page_is_a_range_of_a_partial_index(client, db, open_tasks, username, sort):
    dated = [t for t in open_tasks if t["due_at"] is not None]
    first = _page(client, username, sort=sort, per_page=len(dated) // 2)
    ran: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        if "FROM user_tasks" in statement and "LIMIT" in statement:
            ran.append((statement, parameters))

    for engine in db.db.engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        assert _page(client, username, sort=sort, per_page=5, cursor=first["next_cursor"])["items"]
    finally:
        for engine in db.db.engines:
            event.remove(engine, "before_cursor_execute", record)
    assert len(ran) == 1  # the page came from the dated segment alone
    plan = _plan(db, *ran[0])
    key = sort.removeprefix("-")
    # A station's inbox is entered at its role and station and the cursor at once.
    index, scope = f"ix_user_tasks_open_scoped_{key}", "role=? AND station_id=? AND "
    if username == "admin":
        index, scope = f"ix_user_tasks_open_{key}", ""
    column, operator = f"{key}_at", "<" if sort.startswith("-") else ">"
    if db.db.engine.dialect.name == "sqlite":
        assert f"SEARCH user_tasks USING INDEX {index} ({scope}" in plan, plan
        assert f"({column},id){operator}(?,?))" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
    else:
        # PostgreSQL chooses between the two partial indexes by its statistics; either way
        # the cursor is the index's condition.
        assert re.search(rf"using ix_user_tasks_open_(scoped_)?{key} on user_tasks", plan), plan
        assert f"ROW({column}, (id)::text) {operator} ROW(" in plan, plan
        assert "Sort" not in plan and "Filter: (ROW" not in plan, plan
