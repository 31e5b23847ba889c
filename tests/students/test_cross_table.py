"""学籍数据统计交叉表: 函授站 × 层次 × 专业 × 学籍状态 of the demo records, with a 年级 filter,
scoped like the records, and as XLSX."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.helpers import auth, student_id
from xueji.db.session import session_scope
from xueji.models import Student
from xueji.students.records import set_status

S01 = "郑州函授站"
S02 = "洛阳函授站"


def cross(client, username, expect=200, **params):
    response = client.get(
        "/api/v1/students/statistics/cross", params=params, headers=auth(client, username)
    )
    assert response.status_code == expect, response.text
    return response.json()


def rows_of(body) -> list[tuple]:
    return [
        (
            r["station_name"],
            r["level"],
            r["major"],
            *(r["counts"].get(s, 0) for s in body["statuses"]),
        )
        for r in body["rows"]
    ]


def test_cross_table_counts_the_demo_records(db, client):
    with session_scope(db.db.writer) as session:
        set_status(session, session.get(Student, student_id(client, "stu2001")), "休学", actor="t")
    body = cross(client, "registrar")
    assert body["statuses"] == ["在籍", "已注册", "休学"]
    assert rows_of(body) == [
        (S01, "专科", "会计", 1, 1, 0),
        (S01, "本科", "汉语言文学", 1, 1, 0),
        (S01, "专升本", "计算机科学与技术", 1, 0, 0),
        (S02, "专科", "护理", 0, 1, 1),
        (S02, "本科", "工商管理", 1, 0, 0),
    ]
    assert body["totals"] == {"在籍": 4, "已注册": 3, "休学": 1} and body["total"] == 8
    assert [r["total"] for r in body["rows"]] == [2, 2, 1, 2, 1]
    by_year = cross(client, "registrar", intake=2025)
    assert by_year["intake"] == 2025 and by_year["total"] == 5
    assert rows_of(by_year) == [
        (S01, "专科", "会计", 1, 1, 0),
        (S01, "本科", "汉语言文学", 1, 0, 0),
        (S02, "专科", "护理", 0, 1, 1),
    ]


def test_a_station_counts_only_its_own_students(client):
    own = cross(client, "station1")
    assert {r["station"] for r in own["rows"]} == {"S01"} and own["total"] == 5
    assert cross(client, "station1", station="S02")["rows"] == []
    assert cross(client, "stu2002")["total"] == 1
    assert cross(client, "registrar", intake=1800, expect=422)["error"] == "InvalidInput"


def test_cross_table_as_xlsx_with_a_total_row(client):
    response = client.get(
        "/api/v1/exports/statistics/students/cross",
        params={"intake": 2025},
        headers=auth(client, "station1"),
    )
    assert response.status_code == 200, response.text
    assert "%E5%AD%A6%E7%B1%8D" in response.headers["content-disposition"]  # 学籍…
    book = load_workbook(io.BytesIO(response.content))
    assert [list(r) for r in book.active.iter_rows(values_only=True)] == [
        ["函授站", "层次", "专业", "在籍", "已注册", "合计"],
        [S01, "专科", "会计", 1, 1, 2],
        [S01, "本科", "汉语言文学", 1, 0, 1],
        ["合计", None, None, 2, 1, 3],
    ]


def test_grouped_by_station_the_statistics_name_each_station(client):
    body = client.get(
        "/api/v1/statistics/students",
        params={"group_by": "station"},
        headers=auth(client, "registrar"),
    ).json()
    assert body["station_names"] == {"S01": S01, "S02": S02}
