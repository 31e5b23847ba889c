"""The 成绩登记表 (grade sheet): its columns and the checks of its rows against the records —
what the `grades` import and process 8's station entry (an uploaded sheet) both run.

A row may be entered when its student is in the records (of the station, when a station sends
it), its course is in the course table and process 8's rule (grades.entry_problem) allows the
attempt; a row already recorded and waiting for the college's audit is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji.models import Grade, Student
from xueji.students import grades
from xueji.students import row_checks as rc
from xueji.students.row_checks import Column, problem

Row = dict[str, str]
Lines = Sequence[tuple[int, Row]]

KINDS = ("考试", "补考", "清考", "免修")
COLUMNS = (
    Column("XH", "学号", required=True, max_length=15),
    Column("XM", "姓名", required=True, max_length=40),
    Column("KCDM", "课程代码", required=True, max_length=20),
    Column("XQ", "学期", required=True, kind="term"),
    Column("KSLX", "考试类型", required=True, codes=KINDS),
    Column("CJ", "成绩", kind="score"),
)
UNIQUE = ("XH+KCDM+XQ",)
TITLES = {c.key: c.label for c in COLUMNS}


def record_problems(
    session: Session,
    refs: rc.References,
    lines: Lines,
    station_id: int | None,
    found: dict[int, Any],
) -> list[dict]:
    """The rows against the records (only the station's students unless `station_id` is
    None); `found` gets each good line's (student id, course id, attempt)."""
    wanted = {row["XH"] for _, row in lines if row["XH"]}
    students = {
        s.student_number: s
        for s in session.scalars(select(Student).where(Student.student_number.is_not(None)))
        if s.student_number in wanted
    }
    official = grades.official_grades(session, [s.id for s in students.values()])
    recorded = set(
        session.execute(select(Grade.student_id, Grade.course_id, Grade.term, Grade.attempt))
    )
    problems = []
    for line, row in lines:
        problems += refs.course_problems(line, row, "KCDM")
        if row["KSLX"] != "免修" and not row["CJ"]:
            problems.append(problem(line, row, "CJ", "必填项为空（免修以外须填成绩）"))
        student = students.get(row["XH"])
        if student is None:
            problems.append(problem(line, row, "XH", "学籍库中没有此学号"))
            continue
        if station_id is not None and student.station_id != station_id:
            problems.append(problem(line, row, "XH", "不是本函授站的学生"))
            continue
        if row["XM"] != student.name:
            problems.append(problem(line, row, "XM", f"与学籍库不一致（学籍库：{student.name}）"))
        course = refs.courses.get(row["KCDM"])
        if course is None:
            continue
        previous = official.get((student.id, course.id), [])
        if reason := grades.entry_problem(
            student.name, course.name, previous, row["XQ"], row["KSLX"]
        ):
            problems.append(problem(line, row, "KCDM", reason))
            continue
        attempt = grades.next_attempt(previous)
        if (student.id, course.id, row["XQ"], attempt) in recorded:
            problems.append(problem(line, row, "KCDM", "此成绩已登记，待学院审核"))
            continue
        found[line] = (student.id, course.id, attempt)
    return problems
