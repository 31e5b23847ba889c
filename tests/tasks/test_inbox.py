"""GET /tasks at volume: search, every filter and sort on the server, keyset cursors, counts
per tab, and 422 for what it does not know (never ignored)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.helpers import auth, complete, deploy_processes, only_task
from tests.processes.test_status_change import FORM, PAST_TERM
from xueji import clock
from xueji.db.session import session_scope
from xueji.models import Student, UserTask

# (student, kind of application, business key)
APPLICATIONS = [
    ("stu1001", "休学", "YD-1"),
    ("stu1002", "退学", "YD-2"),
    ("stu2001", "休学", "YD-3"),
    ("stu1004", "退学", "YD-4"),
]


def inbox(client, username, expect=200, **params):
    response = client.get("/api/v1/tasks", params=params, headers=auth(client, username))
    assert response.status_code == expect, response.text
    return response.json()


def names(client, username="admin", **params) -> list[str]:
    return [t["student_name"] for t in inbox(client, username, **params)["items"]]


def problems(client, username="admin", path="/tasks", **params) -> list[str]:
    response = client.get(f"/api/v1{path}", params=params, headers=auth(client, username))
    assert response.status_code == 422, response.text
    return [p["field"] for p in response.json()["detail"]]


@pytest.fixture
def cases(client, db):
    deploy_processes(client, "status_change")
    for username, kind, key in APPLICATIONS:
        body = {
            "business_key": key,
            "variables": {"kind": kind, "reason": "工作调动", "effective_term": PAST_TERM},
        }
        started = client.post(
            "/api/v1/process-definitions/status_change/start",
            json=body,
            headers=auth(client, username),
        )
        assert started.status_code == 201, started.text
    # 张伟's application goes on to his station; the others wait for their students.
    complete(client, "stu1001", only_task(client, "stu1001"), FORM)
    with db.db.reader() as session:
        yang = session.scalar(select(Student).where(Student.name == "杨帆"))
        return {"yang_no": yang.student_number, "yang_id": yang.id_number}


def test_each_task_carries_the_summary_its_process_defines(client, cases):
    [task] = inbox(client, "station1")["items"]
    assert task["summary"] == f"休学 · {PAST_TERM} · 张伟 (S01 郑州函授站)"
    assert (task["kind"], task["student_name"], task["station_name"]) == (
        "休学",
        "张伟",
        "郑州函授站",
    )
    [own] = inbox(client, "stu1004")["items"]
    assert own["summary"] == f"退学 · {PAST_TERM} · 杨帆 (S01 郑州函授站)"
    assert own["student_no"] == cases["yang_no"]


def test_search_finds_name_student_number_id_number_and_business_key(client, cases):
    assert names(client, q="张伟") == ["张伟"]
    assert names(client, q=cases["yang_no"]) == ["杨帆"]
    assert names(client, q=cases["yang_id"].lower()) == ["杨帆"]
    assert names(client, q="YD-3") == ["刘洋"]
    assert names(client, business_key="YD-3") == ["刘洋"] and names(client, business_key="YD") == []
    assert names(client, q="100%") == []  # LIKE's wildcards are searched as written
    assert names(client, "station1", q="刘洋") == []  # search stays within the scope


def test_filters_by_process_step_station_kind_role_and_assignment(client, cases):
    assert sorted(names(client, kind="退学")) == ["杨帆", "王芳"]
    assert names(client, station="S02") == ["刘洋"]
    assert names(client, "station1", station="S01") == ["张伟"]
    # another station's tasks stay out of reach, as a station that does not exist
    assert names(client, "station1", station="S02") == names(client, station="S99") == []
    station_step = inbox(client, "station1")["items"][0]
    assert names(client, step=station_step["element_id"]) == ["张伟"]
    assert names(client, step=station_step["name"]) == ["张伟"]
    assert names(client, role="函授站") == names(client, role="station") == ["张伟"]
    assert len(names(client, role="student")) == 3
    assert len(names(client, process_key="status_change")) == 4
    assert names(client, process_key="thesis") == []
    claimed = client.post(
        f"/api/v1/tasks/{station_step['id']}/claim", headers=auth(client, "station1")
    )
    assert claimed.status_code == 200, claimed.text
    assert names(client, "station1", assignee="me") == ["张伟"]
    assert names(client, "station1", unassigned="true") == []


def test_due_before_overdue_and_the_counts_of_the_tabs(client, db, cases):
    now = clock.now()
    assert names(client, due_before=(now + timedelta(days=1)).isoformat()) == []
    assert len(names(client, due_before=(now + timedelta(days=9)).date().isoformat())) == 4
    with session_scope(db.db.writer) as session:
        session.execute(
            update(UserTask)
            .where(UserTask.subject_name == "王芳")
            .values(due_at=now - timedelta(days=1))
        )
    assert names(client, overdue="true") == ["王芳"]
    counts = client.get("/api/v1/tasks/counts", headers=auth(client, "admin")).json()
    assert counts == {
        "all": 4,
        "mine": 0,
        "unassigned": 4,
        "overdue": 1,
        "process_keys": ["status_change"],
    }
    narrowed = client.get(
        "/api/v1/tasks/counts", params={"kind": "休学"}, headers=auth(client, "admin")
    )
    assert narrowed.json()["all"] == 2 and narrowed.json()["overdue"] == 0
    own = client.get("/api/v1/tasks/counts", headers=auth(client, "station1")).json()
    assert own["all"] == 1
    none = client.get("/api/v1/tasks/counts", headers=auth(client, "stu1002")).json()
    assert (none["all"], none["process_keys"]) == (1, ["status_change"])
    assert client.get("/api/v1/tasks/counts", headers=auth(client, "stu1003")).json() == {
        "all": 0,
        "mine": 0,
        "unassigned": 0,
        "overdue": 0,
        "process_keys": [],
    }


def test_sorts_and_cursor_pages_give_the_same_order(client, db, cases):
    now = clock.now()
    dues = {"张伟": 3, "王芳": 1, "刘洋": 4, "杨帆": 2}
    with session_scope(db.db.writer) as session:
        for name, days in dues.items():
            session.execute(
                update(UserTask)
                .where(UserTask.subject_name == name)
                .values(due_at=now + timedelta(days=days))
            )
    by_due = sorted(dues, key=dues.get)
    assert names(client, sort="due") == names(client, sort="due_at") == by_due
    assert names(client, sort="-due") == by_due[::-1]
    assert names(client, sort="student") == sorted(dues)
    assert names(client, sort="-student") == sorted(dues, reverse=True)
    created = names(client, sort="created")
    assert names(client, sort="-created") == created[::-1] and names(client) == created
    for sort in ("due", "-due", "student", "-created"):
        seen, cursor = [], None
        while True:
            params = {"sort": sort, "per_page": 1, **({"cursor": cursor} if cursor else {})}
            page = inbox(client, "admin", **params)
            seen += [t["student_name"] for t in page["items"]]
            assert (page["total"] is None) == (cursor is not None)
            if not (cursor := page["next_cursor"]):
                break
        assert seen == names(client, sort=sort), sort
    page2 = inbox(client, "admin", sort="due", per_page=2, page=2)
    assert [t["student_name"] for t in page2["items"]] == by_due[2:] and page2["total"] == 4


def test_unknown_parameters_sort_keys_and_bad_values_are_422(client, cases):
    assert problems(client, colour="red", size="9") == ["colour", "size"]
    assert problems(client, station_code="S01") == ["station_code"]
    assert problems(client, sort="colour") == ["sort"]
    assert problems(client, sort="-") == ["sort"]
    assert problems(client, cursor="not-a-cursor") == ["cursor"]
    assert problems(client, role="janitor") == ["role"]
    assert problems(client, assignee="station2") == ["assignee"]
    assert problems(client, due_before="soon") == ["due_before"]
    # the counts and the export take the same filters, and refuse the same way
    assert problems(client, path="/tasks/counts", page="2") == ["page"]
    assert problems(client, path="/exports/tasks", cursor="x") == ["cursor"]
    assert problems(client, path="/exports/tasks", sort="colour") == ["sort"]
