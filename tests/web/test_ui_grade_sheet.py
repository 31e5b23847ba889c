"""Process 8 (成绩管理) for a station's grade sheet of 60 students × 8 courses in the browser:
the 成绩登记表 uploaded in 函授站登录考试成绩上报学院, one bad cell refused and shown in the
paged table of problems (行号 / 姓名 / 字段 / 问题), the corrected sheet uploaded again, and on to
学院审核, whose approval records the 480 grades."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, insert, select

from tests.helpers import auth, complete, deploy_processes, only_task
from tests.web.ui import login, screenshot
from xueji import clock
from xueji.db.session import session_scope
from xueji.models import Grade, Station, Student
from xueji.scheduler.worker import run_once
from xueji.spreadsheets import to_bytes
from xueji.students.id_numbers import check_digit

STUDENTS, INTAKE, TERM = 60, 2031, "2027-春"
COURSES = [{"code": f"G12C{i}", "name": f"课程{i}", "credits": 2} for i in range(1, 9)]
BAD_LINE = 100  # the sheet line (header = 1) whose score is not one


def _student(station_id: int, index: int) -> dict:
    digits = f"4101022003{index % 12 + 1:02d}{index % 28 + 1:02d}{index:03d}"
    return {
        "station_id": station_id,
        "name": f"考生{index:02d}",
        "gender": "男" if index % 2 else "女",
        "id_number": digits + check_digit(digits),
        "level": "专科",
        "major": "会计",
        "intake_year": INTAKE,
        "student_number": f"G12{index:05d}",
        "expected_graduation": date(2030, 1, 10),
        "status": "在籍",
        "created_at": clock.now(),
    }


@pytest.fixture
def station_entry(client, db):
    """60 students of S01 (the intake of 2031), the term started with 8 courses and every
    student's two weeks to apply for exemptions run out: the station's entry is ready."""
    deploy_processes(client, "grade_management")
    with session_scope(db.db.writer) as session:
        station = session.scalar(select(Station).where(Station.code == "S01"))
        session.execute(insert(Student), [_student(station.id, i) for i in range(1, 61)])
    variables = {"station": "S01", "year": 2027, "term": TERM, "intake_year": INTAKE}
    response = client.post(
        "/api/v1/process-definitions/grade_management/start",
        json={"variables": variables},
        headers=auth(client, "academic"),
    )
    assert response.status_code == 201, response.text
    complete(client, "academic", only_task(client, "academic"), {"courses": COURSES})
    assert run_once(db, datetime.now(UTC) + timedelta(days=15)).fired == STUDENTS
    return client


def _sheet(path, bad: bool = False):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["XH 学号", "XM 姓名", "KCDM 课程代码", "XQ 学期", "KSLX 考试类型", "CJ 成绩"])
    for index in range(1, STUDENTS + 1):
        for course in COURSES:
            score = 40 + (index * 7 + int(course["code"][-1])) % 61
            sheet.append(
                [f"G12{index:05d}", f"考生{index:02d}", course["code"], TERM, "考试", score]
            )
    if bad:
        sheet.cell(row=BAD_LINE, column=6, value="九十")
    path.write_bytes(to_bytes(workbook))
    return str(path)


def _upload_and_submit(page, file):
    """On the station's task page: upload the sheet in the form and submit."""
    page.get_by_role("radio", name="上传成绩登记表").check()
    # the field says, and the file chooser offers, what a spreadsheet field takes
    assert page.inner_text("[data-testid=upload-takes]") == "XLSX 表格"
    assert page.get_attribute("#root_upload", "accept").startswith(".xlsx")
    page.set_input_files("#root_upload", file)
    page.wait_for_selector(".uploads a:has-text('成绩登记表')")
    page.click("button:has-text('提交')")
    page.wait_for_selector("text=已提交：函授站登录考试成绩上报学院")


def test_a_60_by_8_grade_sheet_is_refused_for_one_cell_and_corrected_by_upload(
    page, db, station_entry, tmp_path
):
    login(page, "station1")
    page.click("[data-testid=task-row] >> text=函授站登录考试成绩上报学院")
    _upload_and_submit(page, _sheet(tmp_path / "成绩登记表.xlsx", bad=True))

    # back at the station's step: the one bad cell shown by row, name, field and reason
    page.click("[data-testid=task-row] >> text=函授站登录考试成绩上报学院")
    summary = page.locator("[data-testid=batch-summary]")
    summary.wait_for()
    assert "1 行有问题" in summary.inner_text()
    [line] = page.locator(".batch-rows tbody tr").all()
    cells = [c.inner_text() for c in line.locator("td").all()]
    index = (BAD_LINE - 2) // len(COURSES) + 1
    assert cells[0] == str(BAD_LINE) and cells[2] == f"考生{index:02d}"
    assert cells[3] == "成绩" and cells[4] == "成绩应为 0 到 100 之间的数"
    screenshot(page, "grade_sheet_problem")
    assert only_task(station_entry, "station1")["name"] == "函授站登录考试成绩上报学院"
    with db.db.reader() as session:
        written = session.scalar(select(func.count(Grade.id)).where(Grade.term == TERM))
    assert written == 0

    _upload_and_submit(page, _sheet(tmp_path / "成绩登记表（修改后）.xlsx"))
    audit = only_task(station_entry, "grades")
    assert audit["name"] == "学院审核"
    complete(station_entry, "grades", audit, {"outcome": "approved"})
    with db.db.reader() as session:
        recorded = session.scalar(
            select(func.count(Grade.id)).where(Grade.term == TERM, Grade.official.is_(True))
        )
    assert recorded == STUDENTS * len(COURSES)
