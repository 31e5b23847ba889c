"""2 新生学籍电子注册 through the REST API along every branch, and the records afterwards."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.helpers import (
    auth,
    complete,
    deploy_processes,
    history_kinds,
    only_task,
    tasks_of,
)
from xueji import clock
from xueji.db.session import session_scope
from xueji.models import Admission, Major, Station, StatusChange, Student, Upload
from xueji.students import registration_file as rf
from xueji.students.id_numbers import check_digit
from xueji.students.national_files import read_dbf

YEAR = 2032


def id_number(digits17: str) -> str:
    return digits17 + check_digit(digits17)


# exam number -> (name, gender, ID number, level, major, major code, years, station)
ADMITTED = {
    "32410102110001": ("甲一", "男", id_number("41010220010101123"), "专科", "会计", "630302", "2.5", "S01"),
    "32410102110002": ("乙二", "女", id_number("41010220020202234"), "本科", "汉语言文学", "050101", "5", "S01"),
    "32410102150003": ("丙三", "男", id_number("41010219960303345"), "专升本", "计算机科学与技术", "080901", "2.5", "S01"),
    "32410302110004": ("丁四", "女", id_number("41030220010404456"), "专科", "会计", "630302", "2.5", "S02"),
}  # fmt: skip
A, B, C, OTHER_STATION = ADMITTED
S01_BATCH = [A, B, C]
FORMER_COLLEGE = "原专科院校：河南职业技术学院；专科毕业证书编号：127901202006001234"


@pytest.fixture
def processes(client, db):
    """The diagram, the majors, the admissions list, and A checked in already (process 1)."""
    deploy_processes(client, "enrollment_registration")
    with session_scope(db.db.writer) as session:
        stations = {s.code: s.id for s in session.scalars(select(Station))}
        for exam_number, (
            name,
            gender,
            idn,
            level,
            major,
            code,
            years,
            station,
        ) in ADMITTED.items():
            if (
                session.scalar(select(Major).where(Major.code == code, Major.level == level))
                is None
            ):
                session.add(Major(code=code, name=major, level=level, years=years))
            session.add(
                Admission(
                    exam_number=exam_number,
                    name=name,
                    gender=gender,
                    id_number=idn,
                    level=level,
                    major=major,
                    station_id=stations[station],
                    intake_year=YEAR,
                )
            )
        name, gender, idn, level, major, *_ = ADMITTED[A]
        session.add(
            Student(
                station_id=stations["S01"],
                exam_number=A,
                name=name,
                gender=gender,
                id_number=idn,
                level=level,
                major=major,
                intake_year=YEAR,
                ethnicity="回族",
                political_status="中共党员",
                status="在籍",
                created_at=clock.now(),
            )
        )


def full_row(exam_number, **changes):
    name, gender, idn, level, major, code, years, _station = ADMITTED[exam_number]
    return {
        "KSH": exam_number,
        "XH": "",
        "XM": name,
        "XB": gender,
        "CSRQ": idn[6:14],
        "SFZH": idn,
        "ZZMM": "群众",
        "MZ": "汉族",
        "ZYDM": code,
        "ZYMC": major,
        "CC": rf.national_level(level),
        "XZ": years,
        "XXXS": "函授",
        "RXRQ": f"{YEAR}0301",
        "FY": "",
        "XSH": "S01",
        "BH": "",
        "YJBYRQ": "",
        "BZ": FORMER_COLLEGE if level == "专升本" else "",
        **changes,
    }


def start(client, username="station1"):
    response = client.post(
        "/api/v1/process-definitions/enrollment_registration/start",
        json={"variables": {"year": YEAR}},
        headers=auth(client, username),
    )
    assert response.status_code == 201, response.text
    return response.json()


def station_task(client, name):
    task = only_task(client, "station1")
    assert task["name"] == name
    return task


def task_data(client, username, task):
    return client.get(f"/api/v1/tasks/{task['id']}", headers=auth(client, username)).json()["data"]


def download(client, upload_id, username="station1"):
    response = client.get(f"/api/v1/uploads/{upload_id}/content", headers=auth(client, username))
    assert response.status_code == 200, response.text
    return response.content


def sheet_rows(content):
    sheet = load_workbook(io.BytesIO(content)).active
    return [
        [cell if cell is not None else "" for cell in row]
        for row in sheet.iter_rows(values_only=True)
    ]


def upload(client, content, username="station1"):
    response = client.post(
        "/api/v1/uploads",
        files={"file": ("新生.xlsx", content, rf.XLSX_TYPE)},
        headers=auth(client, username),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def enter_rows(client, rows, task_name="函授站按照学院提供的新生学籍注册标准库录入新生信息"):
    complete(client, "station1", station_task(client, task_name), {"source": "rows", "rows": rows})


def self_check(client, outcome="correct", **extra):
    task = station_task(client, "自行校验新生学籍电子注册信息")
    problems = task_data(client, "station1", task)["check"]["problems"]
    complete(client, "station1", task, {"outcome": outcome, **extra})
    return problems


def submit(client):
    task = station_task(client, "新生学籍注册信息上报")
    assert task["due_at"] == f"{YEAR}-03-25T15:59:59Z"
    complete(client, "station1", task, {"contact": "王老师", "phone": "0371-66666666"})


def college_review(client, outcome="correct", **extra):
    task = only_task(client, "registrar")
    assert task["name"] == "学院按照招生录取库审核新生学籍电子注册信息"
    problems = task_data(client, "registrar", task)["audit"]["problems"]
    complete(client, "registrar", task, {"outcome": outcome, **extra})
    return problems


def correction_data(client):
    return task_data(
        client, "station1", station_task(client, "函授站核实、补充、修改学籍电子注册信息")
    )


def compile_numbers(client):
    task = only_task(client, "registrar")
    assert task["name"].startswith("汇总新生学籍电子注册信息")
    assert task["due_at"] == f"{YEAR}-04-15T15:59:59Z"
    complete(client, "registrar", task, {"confirmed": True})
    task = only_task(client, "registrar")
    assert task["name"] == "从学院学籍管理系统导出新生学籍信息上网注册"
    data = task_data(client, "registrar", task)
    complete(client, "registrar", task, {"submitted_on": f"{YEAR}-04-20"})
    return data


def records(db):
    with db.db.reader() as session:
        students = {
            s.exam_number: s
            for s in session.scalars(select(Student).where(Student.exam_number.in_(ADMITTED)))
        }
        changes = list(
            session.scalars(
                select(StatusChange)
                .where(StatusChange.student_id.in_([s.id for s in students.values()]))
                .order_by(StatusChange.id)
            )
        )
        session.expunge_all()
    return students, changes


def test_the_college_provides_a_template_prefilled_from_the_admissions_list(client, db, processes):
    instance = start(client)
    entry = station_task(client, "函授站按照学院提供的新生学籍注册标准库录入新生信息")
    assert tasks_of(client, "station2") == []
    template = task_data(client, "station1", entry)["template"]
    assert template["count"] == 3
    header, *rows = sheet_rows(download(client, template["upload"]))
    assert header == list(rf.COLUMNS)
    by_exam = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert sorted(by_exam) == S01_BATCH  # the S02 candidate is not in S01's template
    assert (by_exam[A]["MZ"], by_exam[A]["ZZMM"]) == ("回族", "中共党员")  # from A's record
    assert by_exam[B]["ZYDM"] == "050101" and by_exam[B]["XZ"] == "5"
    assert by_exam[C]["CC"] == "本科" and by_exam[C]["XSH"] == "郑州函授站"
    assert by_exam[B]["CSRQ"] == ADMITTED[B][2][6:14]
    with db.db.reader() as session:
        stored = session.get(Upload, template["upload"])
        assert stored.generated and stored.instance_id == instance["id"]
    # the station fills in what the admissions list does not know, and uploads it again
    filled = [
        {**by_exam[k], "ZZMM": by_exam[k]["ZZMM"] or "群众", "MZ": by_exam[k]["MZ"] or "汉族",
         "RXRQ": f"{YEAR}0301", "BZ": FORMER_COLLEGE if k == C else ""}
        for k in S01_BATCH
    ]  # fmt: skip
    complete(
        client,
        "station1",
        entry,
        {"source": "upload", "upload": upload(client, rf.write_rows(filled))},
    )
    assert self_check(client) == []
    submit(client)
    assert ("element_completed", "provide_template") in history_kinds(client, instance["id"])


def test_self_check_problems_send_the_station_back_to_correct_them(client, db, processes):
    start(client)
    wrong_check_digit = "1" if ADMITTED[B][2][-1] != "1" else "2"
    rows = [
        full_row(A, CSRQ="20010102"),
        full_row(B, MZ="火星族", SFZH=ADMITTED[B][2][:17] + wrong_check_digit),
        full_row(C, BZ=""),
        full_row(C),
    ]
    complete(
        client,
        "station1",
        station_task(client, "函授站按照学院提供的新生学籍注册标准库录入新生信息"),
        {"source": "upload", "upload": upload(client, rf.write_rows(rows))},
    )
    # "correct" is refused while the checks found problems, with the reason; nothing moves
    task = station_task(client, "自行校验新生学籍电子注册信息")
    refused = complete(client, "station1", task, {"outcome": "correct"}, expect=422)
    assert refused["error"] == "ServiceError" and refused["detail"]["code"] == "ProblemsFound"
    assert refused["detail"]["message"].startswith("系统校验发现 6 处问题，不能选择“正确”")
    assert station_task(client, "自行校验新生学籍电子注册信息")["id"] == task["id"]
    problems = self_check(client, "wrong", reason="按校验结果修改")
    found = {(p["row"], p["column"]) for p in problems}
    assert found == {(1, "CSRQ"), (2, "MZ"), (2, "SFZH"), (3, "ZYDM"), (4, "KSH"), (4, "SFZH")}
    hint = next(p["message"] for p in problems if p["column"] == "ZYDM")
    assert "专升本须在备注（BZ）填写" in hint
    data = correction_data(client)
    header, *lines = sheet_rows(download(client, data["check"]["file"]))
    assert header[-1] == "问题" and "CSRQ" in lines[0][-1] and lines[3][-1].count("重复") == 2
    complete(
        client,
        "station1",
        station_task(client, "函授站核实、补充、修改学籍电子注册信息"),
        {"source": "rows", "rows": [full_row(A), full_row(B, MZ="汉族"), full_row(C)]},
    )
    task = station_task(client, "自行校验新生学籍电子注册信息")
    assert task_data(client, "station1", task)["check"]["problems"] == []
    complete(client, "station1", task, {"outcome": "wrong"}, expect=422)  # reason required
    complete(client, "station1", task, {"outcome": "wrong", "reason": "再核对一遍电话"})
    enter_rows(
        client, [full_row(A), full_row(B), full_row(C)], "函授站核实、补充、修改学籍电子注册信息"
    )
    assert self_check(client) == []
    submit(client)
    assert only_task(client, "registrar")["name"] == "学院按照招生录取库审核新生学籍电子注册信息"


def test_rows_that_differ_from_the_admissions_list_go_back_to_the_station(client, db, processes):
    instance = start(client)
    enter_rows(client, [full_row(A), full_row(B, XM="乙三"), full_row(C)])
    assert self_check(client) == []  # the station cannot see the admissions list
    submit(client)
    task = only_task(client, "registrar")
    refused = complete(client, "registrar", task, {"outcome": "correct"}, expect=422)
    assert refused["detail"]["message"].startswith("比对招生录取库发现 1 处问题")
    problems = college_review(client, "wrong", reason="与招生录取库不一致", wrong_rows=[])
    assert [(p["KSH"], p["column"], p["message"]) for p in problems] == [
        (B, "XM", "与招生录取库不一致（录取库：乙二）")
    ]
    feedback = correction_data(client)["feedback"]
    assert feedback["source"] == "学院审核" and feedback["rows"] == problems
    enter_rows(
        client, [full_row(A), full_row(B), full_row(C)], "函授站核实、补充、修改学籍电子注册信息"
    )
    self_check(client)
    submit(client)
    task = only_task(client, "registrar")
    complete(client, "registrar", task, {"outcome": "wrong", "reason": "缺少照片"}, expect=422)
    assert (
        college_review(
            client, "wrong", reason="缺少照片", wrong_rows=[{"KSH": C, "reason": "未交照片"}]
        )
        == []
    )
    feedback = correction_data(client)["feedback"]
    assert feedback["reason"] == "缺少照片"
    assert [(r["row"], r["KSH"], r["XM"], r["message"]) for r in feedback["rows"]] == [
        (3, C, "丙三", "未交照片")
    ]
    enter_rows(
        client, [full_row(A), full_row(B), full_row(C)], "函授站核实、补充、修改学籍电子注册信息"
    )
    self_check(client)
    submit(client)
    college_review(client)
    assert only_task(client, "registrar")["name"].startswith("汇总新生学籍电子注册信息")
    kinds = history_kinds(client, instance["id"])
    assert kinds.count(("element_completed", "college_feedback")) == 2


def test_registration_ends_with_every_student_registered_with_a_stable_number(
    client, db, processes
):
    instance = start(client)
    with db.db.reader() as session:
        checked_in = session.scalar(select(Student.id).where(Student.exam_number == A))
    enter_rows(client, [full_row(k) for k in S01_BATCH])
    self_check(client)
    submit(client)
    college_review(client)
    first = compile_numbers(client)
    numbers = {n["KSH"]: n["XH"] for n in first["numbers"]["numbers"]}
    assert numbers == {A: f"{YEAR}00110001", B: f"{YEAR}00120001", C: f"{YEAR}00130001"}
    header, *lines = sheet_rows(download(client, first["export"]["upload"], "registrar"))
    exported = {line[0]: dict(zip(header, line, strict=True)) for line in lines}
    assert {k: v["XH"] for k, v in exported.items()} == numbers
    assert exported[C]["CC"] == "本科" and exported[C]["BZ"] == FORMER_COLLEGE
    assert exported[A]["MZ"] == "汉族"  # the registration row is the record now
    # … and the same file as DBF, as the national site takes it: same columns, same rows
    columns, dbf_rows = read_dbf(download(client, first["export"]["dbf_upload"], "registrar"))
    assert columns == header == list(rf.COLUMNS)
    assert {r["KSH"]: r for r in dbf_rows} == {
        k: {c: str(v) for c, v in line.items()} for k, line in exported.items()
    }

    chsi = only_task(client, "chsi")
    assert chsi["name"] == "教育部网络中心审核上网注册信息"
    assert chsi["due_at"] == f"{YEAR}-04-30T15:59:59Z"
    complete(client, "chsi", chsi, {"outcome": "rejected", "reason": "照片不合格"}, expect=422)
    complete(
        client,
        "chsi",
        chsi,
        {
            "outcome": "rejected",
            "reason": "照片不合格",
            "failed_rows": [{"KSH": B, "reason": "姓名含生僻字"}],
        },
    )
    feedback = correction_data(client)["feedback"]
    assert feedback["source"] == "教育部网络中心"
    assert [(r["KSH"], r["message"]) for r in feedback["rows"]] == [(B, "姓名含生僻字")]
    students, changes = records(db)
    assert {s.status for s in students.values()} == {"在籍"} and changes == []

    enter_rows(
        client,
        [full_row(A), full_row(B, ZZMM="共青团员"), full_row(C)],
        "函授站核实、补充、修改学籍电子注册信息",
    )
    self_check(client)
    submit(client)
    college_review(client)
    second = compile_numbers(client)
    assert {n["KSH"]: n["XH"] for n in second["numbers"]["numbers"]} == numbers
    done = complete(client, "chsi", only_task(client, "chsi"), {"outcome": "approved"})
    assert done["instance"]["state"] == "completed"

    students, changes = records(db)
    assert sorted(students) == S01_BATCH
    assert students[A].id == checked_in  # the checked-in record, brought up to date
    for exam_number, student in students.items():
        assert student.status == "已注册" and student.student_number == numbers[exam_number]
        assert re.fullmatch(r"\d{12}", student.student_number)
    assert students[B].political_status == "共青团员"
    assert students[C].level == "专升本" and students[C].remarks == FORMER_COLLEGE
    assert str(students[A].enrolled_on) == f"{YEAR}-03-01"
    assert [(c.to_status, c.kind, c.instance_id) for c in changes] == [
        ("已注册", "新生学籍注册", instance["id"])
    ] * 3
    kinds = history_kinds(client, instance["id"])
    assert kinds.count(("element_completed", "assign_numbers")) == 2
    assert ("element_completed", "chsi_feedback") in kinds and kinds[-1] == (
        "instance_completed",
        None,
    )


def test_the_registration_file_round_trips_in_the_national_layout():
    rows = [full_row(A), full_row(C, SFZH="11010519491231002x", CSRQ=19491231)]
    read = rf.read_rows(rf.write_rows(rows))
    assert read == [rf.normalize_row(r) for r in rows]
    assert read[1]["SFZH"] == "11010519491231002X" and read[1]["CSRQ"] == "19491231"
    assert rf.row_problems(read) == []
    assert rf.level_of(read[1]) == "专升本" and rf.level_of(read[0]) == "专科"
    with pytest.raises(rf.RegistrationFileError, match="missing"):
        rf.read_rows(rf.table_xlsx("x", ["姓名"], [["甲"]]))
    with pytest.raises(rf.RegistrationFileError):
        rf.read_rows(b"not a spreadsheet")
