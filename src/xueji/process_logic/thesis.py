"""9 毕业设计（论文）: the cohort's roster and advisors, each student's result (通过, 推迟答辩
or 留级), and the thesis transcript.
"""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from sqlalchemy import select

from xueji import clock
from xueji.errors import ServiceError
from xueji.instances.context import StepContext
from xueji.models import (
    Role,
    Student,
    ThesisResult,
    User,
)
from xueji.process_logic.registry import service
from xueji.process_logic.teaching_management import STUDYING, station_students
from xueji.students.records import student_in_step
from xueji.uploads.service import store_generated
from xueji.uploads.storage import storage_for

# Students who still study (may sit exams, write a thesis).


@service("thesis_roster")
def thesis_roster(step: StepContext, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The cohort's students as the assignment form lists them; all must study at this station."""
    session = step.session
    station_id = step.station_id()
    ids = [int(i) for i in data.get("students") or []]
    students = station_students(session, station_id, ids)
    leaving = [s.name for s in students.values() if s.status not in STUDYING]
    if leaving:
        raise ServiceError(f"{'、'.join(leaving)} 不在读，不能参加毕业设计（论文）")
    return [
        {"id": s.id, "name": s.name, "student_number": s.student_number}
        for s in (students[i] for i in ids)
    ]


@service("thesis_assignments")
def thesis_assignments(step: StepContext, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every student of the roster in one group with one advisor of this station."""
    session = step.session
    station_id = step.station_id()
    roster = {row["id"]: row for row in data.get("roster") or []}
    assignments = data.get("assignments") or []
    assigned = [a["student"] for a in assignments]
    if sorted(assigned) != sorted(roster):
        raise ServiceError("分组名单须包含名单中的每个学生，且每人一次")
    advisors = set(
        session.scalars(
            select(User.username).where(
                User.station_id == station_id,
                User.is_active.is_(True),
                User.roles.any(Role.key == "advisor"),
            )
        )
    )
    unknown = sorted({a["advisor"] for a in assignments} - advisors)
    if unknown:
        raise ServiceError(f"{'、'.join(unknown)} 不是本函授站的指导教师")
    return [
        {
            "id": a["student"],
            "name": roster[a["student"]]["name"],
            "advisor": a["advisor"],
            "group": a["group"],
            "title": a["title"],
        }
        for a in assignments
    ]


@service("thesis_record_result")
def thesis_record_result(step: StepContext, data: dict[str, Any], eligible: bool) -> dict[str, Any]:
    """The student's ThesisResult row, and what follows: 通过, 推迟答辩 or 留级."""
    session = step.session
    student = student_in_step(session, step.instance().student_id)
    given = data.get("student")
    assignment: dict[str, Any] = given if isinstance(given, dict) else {}
    passed = eligible and data.get("outcome") == "passed"
    if not eligible:  # the college decides, on the station's report
        outcome = data["decision"]
    else:
        outcome = "通过" if passed else "留级"
    row = session.scalar(
        select(ThesisResult).where(
            ThesisResult.student_id == student.id, ThesisResult.instance_id == step.instance_id
        )
    )
    if row is None:
        row = ThesisResult(student_id=student.id, instance_id=step.instance_id)
        session.add(row)
    row.title = data.get("title") or assignment.get("title")
    row.advisor = assignment.get("advisor")
    row.eligible = eligible
    row.grade = data.get("grade") if eligible else None
    row.passed = passed if eligible else None
    row.excellent = bool(passed and data.get("excellent"))
    row.recorded_at = clock.now()
    session.flush()
    return {
        "student": student.id,
        "outcome": outcome,
        "grade": row.grade,
        "excellent": row.excellent,
        "thesis_result": row.id,
    }


@service("thesis_transcript")
def thesis_transcript(step: StepContext, data: dict[str, Any]) -> int:
    """The cohort's 毕业设计（论文）成绩单 as an XLSX upload; returns its id."""
    session = step.session
    instance = step.instance()
    assignments = {a["id"]: a for a in data.get("students") or []}
    results = [r for r in data.get("results") or [] if r]
    students = {
        s.id: s
        for s in session.scalars(
            select(Student).where(Student.id.in_([r["student"] for r in results]))
        )
    }
    book = Workbook()
    sheet = book.active
    sheet.title = "毕业设计（论文）成绩单"
    sheet.append(["学号", "姓名", "分组", "指导教师", "题目", "成绩", "优秀", "结论"])
    for result in results:
        student, assignment = students[result["student"]], assignments.get(result["student"], {})
        sheet.append(
            [
                student.student_number,
                student.name,
                assignment.get("group"),
                assignment.get("advisor"),
                assignment.get("title"),
                result.get("grade"),
                "是" if result.get("excellent") else "",
                result["outcome"],
            ]
        )
    return store_generated(
        session,
        storage_for(step.settings),
        f"毕业设计（论文）成绩单-{data.get('year', '')}.xlsx",
        book,
        instance_id=instance.id,
        actor=step.actor,
        station_id=instance.station_id,
    )
