"""A suspended instance's open tasks leave the inbox and its counts until it is resumed, by
the flag they carry (UserTask.suspended), so that the inbox's counts read user_tasks alone;
the first page counts its total up to a cap."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, event

from tests.helpers import add_open_tasks, auth, deploy_bench
from xueji.db.session import session_scope
from xueji.models import UserTask
from xueji.tasks.endpoints import TOTAL_CAP, list_tasks


def get(client, path: str, username: str = "station1", **params) -> dict:
    response = client.get(f"/api/v1{path}", params=params, headers=auth(client, username))
    assert response.status_code == 200, response.text
    return response.json()


def post(client, path: str, username: str = "registrar", body: dict | None = None) -> dict:
    response = client.post(f"/api/v1{path}", json=body, headers=auth(client, username))
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture
def case(client) -> dict:
    """A running instance of the bench's ten-task process at S01, business key BK-1, its
    first task (for the station) open."""
    deploy_bench(client)
    return post(
        client,
        "/process-definitions/bench_ten_steps/start",
        "station1",
        {"business_key": "BK-1", "variables": {}},
    )


def seen(client, **params) -> tuple[list[str], int, int]:
    """The station's inbox as GET /tasks and GET /tasks/counts tell it: the page's task ids,
    its total and the counts' `all`."""
    page = get(client, "/tasks", **params)
    counts = get(client, "/tasks/counts", **params)
    return [t["id"] for t in page["items"]], page["total"], counts["all"]


def row(db, task_id: str) -> tuple[bool, int]:
    with db.db.reader() as session:
        task = session.get(UserTask, task_id)
        return task.suspended, task.version


# Filters on columns of user_tasks alone, and on the instance's (which join it).
FILTERS = [{}, {"role": "station"}, {"q": "BK-1"}, {"business_key": "BK-1"}]
FILTERS += [{"process_key": "bench_ten_steps"}]


@pytest.mark.parametrize("params", FILTERS, ids=lambda p: ",".join(p) or "unfiltered")
def test_a_suspended_instance_s_tasks_leave_the_inbox_until_it_is_resumed(client, db, case, params):
    [task] = case["active_tasks"]
    assert seen(client, **params) == ([task["id"]], 1, 1)
    assert get(client, "/tasks/counts")["process_keys"] == ["bench_ten_steps"]
    version = row(db, task["id"])[1]

    post(client, f"/process-instances/{case['id']}/suspend")
    assert seen(client, **params) == ([], 0, 0)
    assert get(client, "/tasks/counts")["process_keys"] == []
    # the flag is an UPDATE of the row like any other: it bumps the version
    assert row(db, task["id"]) == (True, version + 1)

    post(client, f"/process-instances/{case['id']}/resume")
    assert seen(client, **params) == ([task["id"]], 1, 1)
    assert row(db, task["id"]) == (False, version + 2)


def test_a_step_of_a_suspended_instance_makes_its_new_tasks_suspended(client, db, case):
    """A repair moves a suspended case back a step: the task it makes waits like the rest."""
    [first] = case["active_tasks"]
    done = post(client, f"/tasks/{first['id']}/complete", "station1", {"data": {"note": "同意"}})
    [second] = done["next_tasks"]
    post(client, f"/process-instances/{case['id']}/suspend")
    moved = post(client, f"/process-instances/{case['id']}/move", "admin", {"element_id": "t1"})
    [again] = moved["active_tasks"]
    assert again["element_id"] == "t1" and again["id"] != first["id"]
    assert row(db, again["id"])[0] is True
    assert seen(client) == ([], 0, 0)

    post(client, f"/process-instances/{case['id']}/resume")
    assert seen(client) == ([again["id"]], 1, 1)
    assert row(db, second["id"])[0] is True  # cancelled while suspended: no longer open


def test_the_counts_of_a_station_s_inbox_read_user_tasks_alone(client, db, case):
    """GET /tasks' total and GET /tasks/counts count without joining the instances, unless a
    filter is on the instance's columns."""
    counts: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _many):
        if "count(" in statement.lower():
            counts.append(statement)

    for engine in db.db.engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        # a full first page (per_page 1) counts its total; one that is not full needs none
        assert get(client, "/tasks", per_page=1)["total"] == 1
        assert get(client, "/tasks/counts")["all"] == 1
        assert len(counts) == 2, counts
        assert all("process_instances" not in s for s in counts), counts
        counts.clear()
        assert get(client, "/tasks", q="BK-1", per_page=1)["total"] == 1
        [searched] = counts
        assert "JOIN process_instances" in searched
    finally:
        for engine in db.db.engines:
            event.remove(engine, "before_cursor_execute", record)


def test_the_first_page_counts_its_total_up_to_the_cap(client, db, case):
    """Beyond TOTAL_CAP open tasks the first page says TOTAL_CAP and `total_capped`; the
    counts stay exact, and so does a filtered first page below the cap."""
    [task] = case["active_tasks"]
    add_open_tasks(db, case["id"], TOTAL_CAP, kind_of=lambda n: "bulk" if n < 10 else None)
    first = get(client, "/tasks")
    assert (first["total"], first["total_capped"]) == (TOTAL_CAP, True)
    assert first["items"][0]["id"] == task["id"]
    assert get(client, "/tasks/counts")["all"] == TOTAL_CAP + 1
    assert get(client, "/tasks", sort="-created")["total_capped"] is True
    # a cursor page has no total; a page by number counts exactly
    assert get(client, "/tasks", cursor=first["next_cursor"])["total"] is None
    assert get(client, "/tasks", page=2)["total"] == TOTAL_CAP + 1
    narrowed = get(client, "/tasks", kind="bulk")
    assert (narrowed["total"], narrowed["total_capped"]) == (10, False)
    # exactly at the cap it is exact
    with session_scope(db.db.writer) as session:
        session.execute(delete(UserTask).where(UserTask.id == "bulk-00000"))
    assert get(client, "/tasks")["total"] == TOTAL_CAP
    assert get(client, "/tasks")["total_capped"] is False
    # the endpoint's description (OpenAPI) tells the cap
    assert f"{TOTAL_CAP:,}" in (list_tasks.__doc__ or "")
