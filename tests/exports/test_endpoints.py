"""Exports: each list and statistic as XLSX and CSV, scoped and filtered like the list itself,
and the national registration files as XLSX and DBF, read back and compared."""

from __future__ import annotations

import csv
import io
from datetime import date
from urllib.parse import quote

from openpyxl import load_workbook
from sqlalchemy import update

from tests.helpers import auth, complete, deploy_processes, only_task
from tests.processes.test_status_change import FORM, apply
from xueji.db.session import session_scope
from xueji.models import Student
from xueji.students.national_files import GRADUATE_COLUMNS, NEW_STUDENT_COLUMNS, read_dbf
from xueji.students.registration_file import COLUMNS

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
S02_NAMES = {"刘洋", "陈静", "马超"}


def get(client, username, path, expect=200, **params):
    response = client.get(f"/api/v1{path}", params=params, headers=auth(client, username))
    assert response.status_code == expect, response.text
    return response


def sheet(response) -> list[list]:
    assert response.headers["content-type"] == XLSX_TYPE
    book = load_workbook(io.BytesIO(response.content))
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def csv_rows(response) -> list[list[str]]:
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Chinese
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def file_name(response) -> str:
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    return disposition.split("filename*=UTF-8''")[1]


def listed(client, username, **params) -> list[dict]:
    body = get(client, username, "/students", per_page=100, **params).json()
    return body["items"]


def test_student_list_export_is_scoped_and_filtered_like_the_list(client):
    for username, params in (("station1", {}), ("registrar", {}), ("registrar", {"intake": 2026})):
        header, *rows = sheet(get(client, username, "/exports/students", **params))
        assert header[:4] == ["学号", "姓名", "性别", "身份证号"]
        items = listed(client, username, **params)
        assert [(r[0], r[1], r[3]) for r in rows] == [
            (i["student_number"], i["name"], i["id_number"]) for i in items
        ]
    station1 = {r[1] for r in sheet(get(client, "station1", "/exports/students"))[1:]}
    assert station1 and not station1 & S02_NAMES
    # a student exports their own row only
    assert [r[1] for r in sheet(get(client, "stu1001", "/exports/students"))[1:]] == ["张伟"]
    # CSV: the same rows, UTF-8 with a BOM, a stable Chinese file name
    response = get(client, "registrar", "/exports/students", format="csv", intake=2026)
    header, *rows = csv_rows(response)
    assert header[1] == "姓名" and {r[1] for r in rows} == {"李娜", "陈静"}
    assert file_name(response) == quote("学生名单_2026级.csv")
    assert file_name(get(client, "station1", "/exports/students")) == quote("学生名单.xlsx")


def test_a_name_is_never_a_formula(client, db):
    with session_scope(db.db.writer) as session:
        session.execute(update(Student).where(Student.name == "张伟").values(name="=1+1"))
    rows = csv_rows(get(client, "station1", "/exports/students", format="csv"))
    assert "'=1+1" in {r[1] for r in rows}
    book = load_workbook(io.BytesIO(get(client, "station1", "/exports/students").content))
    cells = [row[1] for row in book.active.iter_rows(min_row=2)]
    assert {c.data_type for c in cells} == {"s"} and "=1+1" in {c.value for c in cells}


def test_task_export_is_the_inbox(client):
    deploy_processes(client, "status_change")
    for student in ("stu1001", "stu2001"):
        apply(client, student, kind="休学")
        complete(client, student, only_task(client, student), FORM)
    for username, station in (("station1", "郑州函授站"), ("station2", "洛阳函授站")):
        inbox = get(client, username, "/tasks").json()["items"]
        header, *rows = sheet(get(client, username, "/exports/tasks"))
        assert header == [
            "任务",
            "摘要",
            "流程",
            "业务编号",
            "函授站",
            "处理人",
            "创建时间",
            "截止时间",
            "是否逾期",
        ]  # noqa: E501
        assert [r[0] for r in rows] == [t["name"] for t in inbox] and len(rows) == 1
        assert rows[0][4] == station and rows[0][8] == "否"
        assert rows[0][1] == inbox[0]["summary"] and rows[0][1].startswith("休学 · ")
    response = get(client, "station1", "/exports/tasks", format="csv", process_key="status_change")
    assert len(csv_rows(response)) == 2
    assert file_name(response) == quote("待办任务_status_change.csv")
    assert sheet(get(client, "station1", "/exports/tasks", process_key="thesis"))[1:] == []
    get(client, "station1", "/exports/tasks", expect=422, assignee="station2")
    named = get(client, "station1", "/exports/tasks", format="csv", kind="休学", q="张伟")
    assert file_name(named) == quote("待办任务_休学_张伟.csv") and len(csv_rows(named)) == 2
    refused = get(client, "station1", "/exports/tasks", expect=422, colour="red").json()
    assert [p["field"] for p in refused["detail"]] == ["colour"]


def test_statistics_export_has_the_counts_and_a_total(client):
    stats = get(client, "registrar", "/statistics/students", group_by="station,status").json()
    response = get(client, "registrar", "/exports/statistics/students", group_by="station,status")
    header, *rows = sheet(response)
    assert header == ["函授站", "学籍状态", "人数"]
    assert rows[-1] == ["合计", None, stats["total"]]
    names = {"S01": "郑州函授站", "S02": "洛阳函授站"}
    assert rows[:-1] == [[names[r["station"]], r["status"], r["count"]] for r in stats["rows"]]
    assert file_name(response) == quote("学籍数据统计_按函授站、学籍状态.xlsx")
    own = sheet(get(client, "station1", "/exports/statistics/students", group_by="station"))
    assert [r[0] for r in own[1:]] == ["郑州函授站", "合计"]
    get(client, "registrar", "/exports/statistics/students", expect=422, group_by="colour")


def test_new_student_registration_file_round_trips_as_xlsx_and_dbf(client):
    header, *xlsx_rows = sheet(get(client, "registrar", "/exports/registration/new"))
    assert header == list(NEW_STUDENT_COLUMNS) == list(COLUMNS)
    response = get(client, "registrar", "/exports/registration/new", format="dbf")
    assert response.headers["content-type"] == "application/x-dbf"
    assert file_name(response) == quote("新生学籍注册.dbf")
    columns, dbf_rows = read_dbf(response.content)
    assert columns == header
    assert [list(r.values()) for r in dbf_rows] == [
        ["" if v is None else str(v) for v in row] for row in xlsx_rows
    ]
    registered = {i["name"] for i in listed(client, "registrar") if i["student_number"]}
    assert {r["XM"] for r in dbf_rows} == registered and "马超" in registered
    zhang = next(r for r in dbf_rows if r["XM"] == "杨帆")
    assert zhang["XSH"] == "郑州函授站" and len(zhang["SFZH"]) == 18 and zhang["CSRQ"].isdigit()
    # scoped: station1's file has no S02 student; a student may not fetch the file
    _, own = read_dbf(get(client, "station1", "/exports/registration/new", format="dbf").content)
    assert own and not {r["XM"] for r in own} & S02_NAMES
    get(client, "stu1001", "/exports/registration/new", expect=403)


def test_graduate_registration_file_round_trips(client, db):
    with session_scope(db.db.writer) as session:
        session.execute(
            update(Student)
            .where(Student.name == "张伟")
            .values(
                status="毕业",
                conclusion="毕业",
                graduated_on=date(2028, 1, 15),
                certificate_number="104625202806000001",
            )
        )
    response = get(client, "station1", "/exports/registration/graduates", format="dbf")
    columns, rows = read_dbf(response.content)
    assert columns == list(GRADUATE_COLUMNS) and columns[-5:] == [
        "BYRQ",
        "ZSBH",
        "BYJL",
        "XZXM",
        "ZP",
    ]  # noqa: E501
    [row] = rows
    assert (row["XM"], row["BYRQ"], row["ZSBH"], row["BYJL"]) == (
        "张伟",
        "20280115",
        "104625202806000001",
        "毕业",
    )
    assert row["ZP"] == row["SFZH"] + ".jpg"
    header, xlsx_row = sheet(get(client, "station1", "/exports/registration/graduates"))
    assert header == columns and [str(v or "") for v in xlsx_row] == list(row.values())
    assert (
        read_dbf(get(client, "station2", "/exports/registration/graduates", format="dbf").content)[
            1
        ]
        == []
    )  # noqa: E501
