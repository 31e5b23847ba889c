"""8 成绩管理 through the REST API along every branch, and the grade records afterwards."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import delete, select, update

from tests.helpers import (
    FIXTURES,
    auth,
    complete,
    deploy,
    deploy_processes,
    history_kinds,
    only_task,
    tasks_of,
)
from xueji.db.session import session_scope
from xueji.models import Course, Grade, ProcessInstance, Student, Upload
from xueji.scheduler.worker import run_once
from xueji.spreadsheets import to_bytes
from xueji.uploads.service import content_of
from xueji.uploads.storage import storage_for

COURSES = [
    {"code": "C01", "name": "大学英语", "credits": 4},
    {"code": "C02", "name": "高等数学", "credits": 3},
]
S01_STUDENTS = ("stu1001", "stu1002", "stu1003")


@pytest.fixture
def processes(client):
    deploy_processes(client, "grade_management")


@pytest.fixture
def ids(db):
    """Student ids by username; of S01 only stu1001 (张伟) graduates at the end of 2027-春.
    The term is api.md's three S01 students': the demo's registered graduates beyond them
    (stu1004, stu1005) are on leave (休学), so not in the batch."""
    with session_scope(db.db.writer) as session:
        session.execute(delete(Grade))  # the demo's results aside
        session.execute(
            update(Student).where(Student.name.in_(["杨帆", "黄晓燕"])).values(status="休学")
        )
        session.execute(
            update(Student).values(expected_graduation=date(2030, 1, 10), student_number=None)
        )
        session.execute(
            update(Student)
            .where(Student.name == "张伟")
            .values(expected_graduation=date(2027, 7, 1), student_number="2025010001")
        )
    with db.db.reader() as session:
        return {s.user.username: s.id for s in session.scalars(select(Student))}


def start(client, term="2027-春", kind="考试", courses=COURSES):
    """Academic starts the term for S01 and enters the teaching plan."""
    response = client.post(
        "/api/v1/process-definitions/grade_management/start",
        json={"variables": {"station": "S01", "year": int(term[:4]), "term": term, "kind": kind}},
        headers=auth(client, "academic"),
    )
    assert response.status_code == 201, response.text
    plan = only_task(client, "academic")
    assert plan["name"] == "将教学计划录入学院管理信息系统"
    complete(client, "academic", plan, {"courses": courses})
    return response.json()


def variables(client, instance, username="grades"):
    response = client.get(
        f"/api/v1/process-instances/{instance['id']}", headers=auth(client, username)
    )
    assert response.status_code == 200, response.text
    return response.json()


def take_exams(client, *usernames):
    for username in usernames:
        task = only_task(client, username)
        assert task["name"] == "参加相应课程考核，或免修、免试申请上报学院"
        assert task["due_at"] is not None
        complete(client, username, task, {"choice": "exam"})


def apply_exemption(client, username, course="C02", kind="免修", expect=200):
    basis = "已修同类课程并取得学分"
    return complete(
        client,
        username,
        only_task(client, username),
        {"choice": "exemption", "items": [{"course": course, "kind": kind, "basis": basis}]},
        expect,
    )


def enter(client, ids, rows, expect=200):
    task = only_task(client, "station1")
    assert task["name"] == "函授站登录考试成绩上报学院"
    scores = [{"student": ids[u], "course": c, "score": s} for u, c, s in rows]
    return complete(client, "station1", task, {"scores": scores}, expect)


def grades_of(db, **where):
    with db.db.reader() as session:
        query = select(Grade).join(Course).order_by(Grade.student_id, Course.code, Grade.attempt)
        for field, value in where.items():
            query = query.where(getattr(Grade, field) == value)
        return [
            (g.student_id, g.course.code, g.term, g.attempt, g.kind, g.score, g.passed, g.official)
            for g in session.scalars(query)
        ]


def workbook_text(db, upload_id):
    """Every cell value of a generated upload, opened as a real XLSX workbook."""
    with db.db.reader() as session:
        upload = session.get(Upload, upload_id)
        assert upload.generated and upload.file_name.endswith(".xlsx")
        book = load_workbook(io.BytesIO(content_of(upload, storage_for(db.settings))))
    return {
        sheet.title: [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v]
        for sheet in book.worksheets
    }


def finish(client):
    complete(client, "grades", only_task(client, "grades"), {"archived": True})
    return complete(
        client, "affairs", only_task(client, "affairs"), {"received": True, "received_by": "赵"}
    )


def test_term_with_an_approved_exemption_ends_in_official_grades(client, db, processes, ids):
    instance = start(client)
    with db.db.reader() as session:
        plan = select(Course).where(Course.code.in_(["C01", "C02"]))
        assert {c.code: (c.name, c.credits) for c in session.scalars(plan)} == {
            "C01": ("大学英语", 4),
            "C02": ("高等数学", 3),
        }
    seen = variables(client, instance)
    assert seen["variables"]["students"] == [ids[u] for u in S01_STUDENTS]
    sheets = seen["variables"]["sheets"]
    term_sheet = workbook_text(db, sheets["term_sheet"])
    assert set(term_sheet) == {"C01", "C02"} and "张伟" in term_sheet["C01"]
    assert "刘洋" not in term_sheet["C01"]  # S02's student
    assert "本学期无补考学生" in workbook_text(db, sheets["makeup_sheet"])["补考"]
    summary = workbook_text(db, sheets["graduation_summary"])["成绩总表"]
    assert "张伟" in summary and "王芳" not in summary

    # 免修、免试申请上报学院 → 学院审核 通过 → an official passed grade of kind 免修
    apply_exemption(client, "stu1002")
    review = only_task(client, "registrar")
    assert review["name"] == "学院审核免修、免试申请" and review["student"] == ids["stu1002"]
    complete(client, "registrar", review, {"outcome": "approved"})
    assert grades_of(db) == [(ids["stu1002"], "C02", "2027-春", 0, "免修", None, True, True)]
    with db.db.reader() as session:
        exemption = session.scalar(select(Grade))
        child = session.get(ProcessInstance, exemption.instance_id)
        assert (child.parent_id, child.student_id) == (instance["id"], ids["stu1002"])
    assert tasks_of(client, "station1") == []  # the others have not answered yet
    take_exams(client, "stu1001", "stu1003")
    assert variables(client, instance)["variables"]["exemptions"] == [
        None,
        {"student": ids["stu1002"], "exempted": [{"course": "C02", "kind": "免修"}]},
        None,
    ]

    # 函授站登录考试成绩上报学院 → 学院审核 未通过 → back with the reason → 通过
    rows = [
        ("stu1001", "C01", 85),
        ("stu1001", "C02", 50),
        ("stu1002", "C01", 70),
        ("stu1003", "C01", 40),
        ("stu1003", "C02", 90),
    ]
    enter(client, ids, rows)
    audit = only_task(client, "grades")
    assert audit["name"] == "学院审核"
    complete(client, "grades", audit, {"outcome": "rejected"}, expect=422)
    complete(client, "grades", audit, {"outcome": "rejected", "reason": "张伟高等数学成绩有误"})
    again = only_task(client, "station1")
    detail = client.get(f"/api/v1/tasks/{again['id']}", headers=auth(client, "station1")).json()
    assert again["name"] == "函授站登录考试成绩上报学院"
    assert detail["data"]["reason"] == "张伟高等数学成绩有误"
    assert grades_of(db, kind="考试") == []
    rows[1] = ("stu1001", "C02", 55)
    enter(client, ids, rows)
    complete(client, "grades", only_task(client, "grades"), {"outcome": "approved"})

    exams = grades_of(db, kind="考试")
    assert exams == [
        (ids["stu1001"], "C01", "2027-春", 0, "考试", 85, True, True),
        (ids["stu1001"], "C02", "2027-春", 0, "考试", 55, False, True),
        (ids["stu1002"], "C01", "2027-春", 0, "考试", 70, True, True),
        (ids["stu1003"], "C01", "2027-春", 0, "考试", 40, False, True),
        (ids["stu1003"], "C02", "2027-春", 0, "考试", 90, True, True),
    ]
    with db.db.reader() as session:
        assert {
            g.instance_id for g in session.scalars(select(Grade).where(Grade.kind == "考试"))
        } == {instance["id"]}

    # 打印毕业生个人成绩单（两份）→ 学校存档 and 交学院学工办
    [transcript] = variables(client, instance)["variables"]["transcripts"]
    assert (transcript["student"], transcript["copies"]) == (ids["stu1001"], 2)
    text = workbook_text(db, transcript["upload"])["成绩单"]
    assert {"张伟", "2025010001", "大学英语", "高等数学"} <= set(text)
    assert only_task(client, "affairs")["name"] == "交学院学工办"
    assert only_task(client, "grades")["name"] == "学校存档"
    done = finish(client)
    assert done["instance"]["state"] == "completed"
    kinds = history_kinds(client, instance["id"])
    for element in ("save_plan", "blank_sheets", "check_entry", "record_grades", "transcripts"):
        assert ("element_completed", element) in kinds
    assert kinds.count(("task_completed", "station_entry")) == 2
    assert kinds[-1] == ("instance_completed", None)


def test_plan_with_a_known_code_under_another_name_is_refused(client, db, processes):
    client.post(
        "/api/v1/process-definitions/grade_management/start",
        json={"variables": {"station": "S01", "year": 2027, "term": "2027-春"}},
        headers=auth(client, "academic"),
    )
    plan = only_task(client, "academic")
    clash = [*COURSES, {"code": "C01", "name": "英语"}]
    assert "重复" in str(complete(client, "academic", plan, {"courses": clash}, expect=422))
    with session_scope(db.db.writer) as session:
        session.add(Course(code="C03", name="线性代数", credits=2))
    renamed = [{"code": "C03", "name": "线性代数（二）"}]
    refused = complete(client, "academic", plan, {"courses": renamed}, expect=422)
    assert "课程代码 C03 在课程库中是《线性代数》" in str(refused)
    assert only_task(client, "academic")["id"] == plan["id"]


def test_station_entry_is_refused_unless_its_students_and_the_terms_courses(
    client, db, processes, ids
):
    start(client)
    apply_exemption(client, "stu1002")
    complete(client, "registrar", only_task(client, "registrar"), {"outcome": "approved"})
    take_exams(client, "stu1001", "stu1003")
    for rows, message in (
        ([("stu2001", "C01", 80)], "不在可选的学生中"),  # not among the station's students
        ([("stu1001", "C09", 80)], "不在可选的课程中"),  # not a course of the catalogue
        ([("stu1002", "C02", 80)], "已免修，不需登录成绩"),
        ([("stu1001", "C01", 80), ("stu1001", "C01", 81)], "成绩重复"),
    ):
        refused = enter(client, ids, rows, expect=422)
        assert message in str(refused), refused
    enter(client, ids, [("stu1001", "C01", 101)], expect=422)  # scores are 0–100
    assert grades_of(db, kind="考试") == []
    assert only_task(client, "station1")["name"] == "函授站登录考试成绩上报学院"


def test_station_sees_only_its_own_instances_tasks(client, db, processes, ids):
    start(client)
    assert tasks_of(client, "stu2001") == []  # S02's students are not in S01's batch
    take_exams(client, *S01_STUDENTS)
    task = only_task(client, "station1")
    assert tasks_of(client, "station2") == []
    other = auth(client, "station2")
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=other).status_code == 404
    body = {"data": {"scores": [{"student": ids["stu2001"], "course": "C01", "score": 60}]}}
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", json=body, headers=other)
    assert response.status_code == 404


def test_rejected_exemption_shows_the_reason_and_the_student_takes_the_exam(
    client, db, processes, ids
):
    start(client)
    refused = apply_exemption(client, "stu1001", course="C09", expect=422)
    assert [p["field"] for p in refused["detail"]] == ["items.0.course"]  # not a course at all
    apply_exemption(client, "stu1001", course="C01", kind="免试")
    review = only_task(client, "registrar")
    complete(client, "registrar", review, {"outcome": "rejected"}, expect=422)
    complete(client, "registrar", review, {"outcome": "rejected", "reason": "证书不符合免试条件"})
    [child] = client.get(
        "/api/v1/process-instances",
        params={"key": "grade_management_student", "student": ids["stu1001"]},
        headers=auth(client, "stu1001"),
    ).json()["items"]
    mine = variables(client, child, "stu1001")
    assert mine["state"] == "completed" and mine["variables"]["reason"] == "证书不符合免试条件"
    assert ("element_completed", "take_exam") in history_kinds(client, child["id"])
    assert grades_of(db) == []
    take_exams(client, "stu1002", "stu1003")
    enter(client, ids, [("stu1001", "C01", 66)])
    complete(client, "grades", only_task(client, "grades"), {"outcome": "approved"})
    assert grades_of(db) == [(ids["stu1001"], "C01", "2027-春", 0, "考试", 66, True, True)]


def test_students_who_do_not_answer_in_two_weeks_take_the_exams(client, db, processes, ids):
    instance = start(client)
    take_exams(client, "stu1001")
    assert tasks_of(client, "station1") == []
    report = run_once(db, datetime.now(UTC) + timedelta(days=15))
    assert report.fired == 2
    assert tasks_of(client, "stu1002") == [] and tasks_of(client, "stu1003") == []
    assert only_task(client, "station1")["instance_id"] == instance["id"]


def test_makeup_term_adds_the_next_attempt(client, db, processes, ids):
    first = start(client)
    take_exams(client, *S01_STUDENTS)
    enter(
        client,
        ids,
        [("stu1001", "C01", 85), ("stu1001", "C02", 50), ("stu1002", "C02", 75)],
    )
    complete(client, "grades", only_task(client, "grades"), {"outcome": "approved"})
    finish(client)

    makeup = start(client, term="2027-秋", kind="补考", courses=[COURSES[1]])
    seen = variables(client, makeup)["variables"]
    assert seen["students"] == [ids["stu1001"]]  # the only one who failed 高等数学
    sheet = workbook_text(db, seen["sheets"]["makeup_sheet"])
    assert "张伟" in sheet["C02"] and "50" in sheet["C02"]
    take_exams(client, "stu1001")
    refused = enter(client, ids, [("stu1002", "C02", 90)], expect=422)
    assert "已及格，不需补考" in str(refused)
    enter(client, ids, [("stu1001", "C02", 72)])
    complete(client, "grades", only_task(client, "grades"), {"outcome": "approved"})
    assert grades_of(db, student_id=ids["stu1001"], course_id=course_id(db, "C02")) == [
        (ids["stu1001"], "C02", "2027-春", 0, "考试", 50, False, True),
        (ids["stu1001"], "C02", "2027-秋", 1, "补考", 72, True, True),
    ]
    assert first["id"] != makeup["id"]
    assert finish(client)["instance"]["state"] == "completed"


def course_id(db, code):
    with db.db.reader() as session:
        return session.scalar(select(Course.id).where(Course.code == code))


SHEET_HEADER = ["XH 学号", "XM 姓名", "KCDM 课程代码", "XQ 学期", "KSLX 考试类型", "CJ 成绩"]


def upload_sheet(client, lines):
    """A 成绩登记表 as the station fills it (header, then 学号, 姓名, 课程, 学期, 类型, 成绩)."""
    workbook = Workbook()
    workbook.active.append(SHEET_HEADER)
    for line in lines:
        workbook.active.append(line)
    response = client.post(
        "/api/v1/uploads",
        files={"file": ("成绩登记表.xlsx", to_bytes(workbook), "application/octet-stream")},
        headers=auth(client, "station1"),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_uploaded_grade_sheet_is_checked_like_the_import_and_records_as_typed(
    client, db, processes, ids
):
    numbers = {u: f"202501000{i}" for i, u in enumerate(S01_STUDENTS, 1)}
    with session_scope(db.db.writer) as session:
        for username, number in numbers.items():
            session.execute(
                update(Student).where(Student.id == ids[username]).values(student_number=number)
            )
    with db.db.reader() as session:
        names = {u: session.get(Student, ids[u]).name for u in S01_STUDENTS}
    start(client)
    take_exams(client, *S01_STUDENTS)
    typed = [
        ("stu1001", "C01", 85),
        ("stu1001", "C02", 55),
        ("stu1002", "C01", 70),
        ("stu1003", "C01", 40),
        ("stu1003", "C02", 90),
    ]
    lines = [[numbers[u], names[u], c, "2027-春", "考试", s] for u, c, s in typed]
    bad = [list(line) for line in lines]
    bad[1][3] = "2026-秋"  # sheet line 3: another term
    bad[4][5] = 105  # sheet line 6: not a score
    task = only_task(client, "station1")
    complete(client, "station1", task, {"source": "upload", "upload": upload_sheet(client, bad)})

    again = only_task(client, "station1")
    assert again["name"] == "函授站登录考试成绩上报学院"
    detail = client.get(f"/api/v1/tasks/{again['id']}", headers=auth(client, "station1")).json()
    found = [
        (p["row"], p["XM"], p["column"], p["message"]) for p in detail["data"]["check"]["problems"]
    ]
    assert found == [
        (3, names["stu1001"], "XQ", "不是本学期（2027-春）"),
        (6, names["stu1003"], "CJ", "成绩应为 0 到 100 之间的数"),
    ]
    assert detail["data"]["check"]["scores"] == []
    assert grades_of(db) == []
    assert tasks_of(client, "grades") == []  # nothing went on to the college

    complete(client, "station1", again, {"source": "upload", "upload": upload_sheet(client, lines)})
    complete(client, "grades", only_task(client, "grades"), {"outcome": "approved"})
    assert grades_of(db, kind="考试") == [
        (ids[u], c, "2027-春", 0, "考试", s, s >= 60, True) for u, c, s in typed
    ]


def test_a_case_started_before_the_upload_path_records_its_typed_scores(client, db, processes, ids):
    """A term started on the version before the upload path (no 成绩登记表 check step) runs on
    under today's services: its typed scores are what 学院审核 records."""
    before = (FIXTURES / "grade_management_before_upload.bpmn").read_bytes()
    deploy(client, ("grade_management.bpmn", before))
    instance = start(client)
    assert variables(client, instance)["version"] == 2
    take_exams(client, *S01_STUDENTS)
    enter(client, ids, [("stu1001", "C01", 85), ("stu1003", "C02", 90)])
    complete(client, "grades", only_task(client, "grades"), {"outcome": "approved"})
    assert grades_of(db, kind="考试") == [
        (ids["stu1001"], "C01", "2027-春", 0, "考试", 85, True, True),
        (ids["stu1003"], "C02", "2027-春", 0, "考试", 90, True, True),
    ]
