"""学籍数据统计: counts grouped by station, level, major, status, intake — within scope."""

from __future__ import annotations

from tests.helpers import auth, student_id
from xueji.db.session import session_scope
from xueji.models import Student
from xueji.students.records import set_status


def statistics(client, username, expect=200, **params):
    response = client.get(
        "/api/v1/statistics/students", params=params, headers=auth(client, username)
    )
    assert response.status_code == expect, response.text
    return response.json()


def test_counts_grouped_by_station_and_level(client):
    body = statistics(client, "registrar", group_by="station,level")
    assert body["group_by"] == ["station", "level"]
    assert body["rows"] == [
        {"station": "S01", "level": "专升本", "count": 1},
        {"station": "S01", "level": "专科", "count": 2},
        {"station": "S01", "level": "本科", "count": 2},
        {"station": "S02", "level": "专科", "count": 2},
        {"station": "S02", "level": "本科", "count": 1},
    ]
    assert body["total"] == 8


def test_station_counts_only_its_own_students(client):
    body = statistics(client, "station1", group_by="station")
    assert body["rows"] == [{"station": "S01", "count": 5}] and body["total"] == 5
    assert statistics(client, "station1", station="S02")["total"] == 0
    assert statistics(client, "stu2002", group_by="intake")["rows"] == [
        {"intake": 2026, "count": 1}
    ]


def test_group_by_intake_and_status_after_a_change(db, client):
    with session_scope(db.db.writer) as session:
        set_status(session, session.get(Student, student_id(client, "stu2001")), "休学", actor="t")
    body = statistics(client, "leader", group_by=["intake", "status"])
    assert body["rows"] == [
        {"intake": 2023, "status": "已注册", "count": 1},
        {"intake": 2025, "status": "休学", "count": 1},
        {"intake": 2025, "status": "在籍", "count": 2},
        {"intake": 2025, "status": "已注册", "count": 2},
        {"intake": 2026, "status": "在籍", "count": 2},
    ]
    filtered = statistics(client, "registrar", group_by="major", station="S01", intake=2025)
    assert filtered["rows"] == [
        {"major": "会计", "count": 2},
        {"major": "汉语言文学", "count": 1},
    ]


def test_no_grouping_is_one_total_row(client):
    assert statistics(client, "academic") == {
        "group_by": [],
        "rows": [{"count": 8}],
        "total": 8,
        "station_names": {},
    }
    assert statistics(client, "academic", group_by="level,,level")["group_by"] == ["level"]


def test_unknown_group_is_422_naming_it(client):
    body = statistics(client, "registrar", expect=422, group_by="station,colour")
    assert body["error"] == "InvalidInput"
    [problem] = body["detail"]
    assert problem["field"] == "group_by" and "'colour'" in problem["message"]


def test_unauthenticated_is_401(client):
    assert client.get("/api/v1/statistics/students").status_code == 401
