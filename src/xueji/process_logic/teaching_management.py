"""10 教学管理: the term's courses, the marked grades (阅卷评定成绩) and the make-up sittings
(学期补考, 毕业清考, 最后一次补考) as official results, the counts the progress rules (DMN
teaching_progress) read for one student (pool 学生学业进度), and what they decide: 留级,
肄业 or 结业; the graduating students who write a thesis (process 9).

What a failed course is stays the one rule of xueji.students.grades.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.errors import ServiceError
from xueji.instances.context import StepContext
from xueji.models import (
    Course,
    Grade,
    Student,
)
from xueji.process_logic.registry import service
from xueji.students.grades import failed_courses, is_failed, standing_grades
from xueji.students.records import set_status, student_in_step

# Students who still study (may sit exams, write a thesis).
STUDYING = ("在籍", "已注册")


PASS_MARK = 60


CONCLUSIONS = ("结业", "肄业")


# The kind of Grade row each stage's grade sheet writes.
STAGE_KIND = {"学期": "考试", "学期补考": "补考", "毕业清考": "清考", "最后一次补考": "补考"}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def station_students(session: Session, station_id: int, ids: list[int]) -> dict[int, Student]:
    """The students `ids` of the station, refusing anyone else's."""
    if len(set(ids)) != len(ids):
        raise ServiceError("名单中有重复的学生")
    found = {
        s.id: s
        for s in session.scalars(
            select(Student).where(Student.id.in_(ids), Student.station_id == station_id)
        )
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise ServiceError(f"学生 {missing} 不是本函授站的学生")
    return found


def repeat_year(
    step: StepContext,
    session: Session,
    student: Student,
    *,
    reason: str | None,
    details: dict[str, Any],
) -> None:
    """留级: status 留级 with its history row, and the student joins the next intake."""
    details = {**details, "intake_year": [student.intake_year, student.intake_year + 1]}
    student.intake_year += 1
    set_status(
        session,
        student,
        "留级",
        actor=step.actor,
        instance_id=step.instance_id,
        kind="留级",
        reason=reason,
        details=details,
    )


@service("teaching_repeat_year")
def teaching_repeat_year(step: StepContext, data: dict[str, Any], reason: str | None = None) -> str:
    """留级 of the instance's student (a thesis failed or not admitted to the defence)."""
    session = step.session
    student = student_in_step(session, step.instance().student_id)
    repeat_year(step, session, student, reason=reason, details={"process": "毕业设计（论文）"})
    session.flush()
    return student.status


@service("teaching_term_courses")
def teaching_term_courses(
    step: StepContext, data: dict[str, Any], courses: list[dict[str, Any]]
) -> list[dict]:
    """The term's courses from the college's course list, each marked 抽考 or not."""
    session = step.session
    codes = [c["code"] for c in courses]
    if len(set(codes)) != len(codes):
        raise ServiceError("学期任务表中有重复的课程")
    known = {c.code: c for c in session.scalars(select(Course).where(Course.code.in_(codes)))}
    missing = [code for code in codes if code not in known]
    if missing:
        raise ServiceError(f"课程 {'、'.join(missing)} 不在学院教学计划中")
    return [
        {"code": c["code"], "name": known[c["code"]].name, "sampled": bool(c.get("sampled"))}
        for c in courses
    ]


def _write_grade(
    step: StepContext,
    session: Session,
    stage: str,
    term: str,
    student_id: int,
    course: Course,
    entry: dict,
) -> None:
    attempt = 0
    if stage != "学期":
        attempt = 1 + (
            session.scalar(
                select(func.coalesce(func.max(Grade.attempt), 0)).where(
                    Grade.student_id == student_id, Grade.course_id == course.id
                )
            )
            or 0
        )
    row = session.scalar(
        select(Grade).where(
            Grade.student_id == student_id,
            Grade.course_id == course.id,
            Grade.term == term,
            Grade.attempt == attempt,
        )
    )
    if row is None:
        row = Grade(student_id=student_id, course_id=course.id, term=term, attempt=attempt)
        session.add(row)
    score = None if entry.get("absent") else entry.get("score")
    row.kind = STAGE_KIND[stage]
    row.score = score
    row.passed = score is not None and score >= PASS_MARK
    # The progress rules act on these grades at once (留级, 肄业, 结业 change the record), so
    # they are the college's record of the result, not a provisional entry: official, like 8's.
    row.official = True
    row.instance_id = step.instance_id
    row.recorded_by = step.actor
    row.recorded_at = clock.now()


def _named(student: Student) -> str:
    return f"{student.name}（{student.student_number or student.id}）"


@service("teaching_record_grades")
def teaching_record_grades(
    step: StepContext, data: dict[str, Any], grades: list[dict[str, Any]]
) -> dict[str, Any]:
    """Write the term's grade sheet (阅卷评定成绩) as Grade rows, attempt 0."""
    session = step.session
    station_id = step.station_id()
    term_codes = {c["code"] for c in data["term_courses"]}
    codes = {g["course"] for g in grades}
    courses = {c.code: c for c in session.scalars(select(Course).where(Course.code.in_(codes)))}
    station_students(session, station_id, sorted({g["student"] for g in grades}))
    for entry in grades:
        if entry["course"] not in term_codes:
            raise ServiceError(f"课程 {entry['course']} 不在本学期任务表中")
        course = courses[entry["course"]]
        _write_grade(step, session, "学期", data["term"], entry["student"], course, entry)
    session.flush()
    return {"stage": "学期", "recorded": len(grades)}


@service("teaching_progress_roster")
def teaching_progress_roster(step: StepContext, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The students graded this term at the station who still study, each with the term's
    courses: one 学生学业进度 per student."""
    session = step.session
    codes = [c["code"] for c in data["term_courses"]]
    ids = session.scalars(
        select(Grade.student_id)
        .join(Student, Student.id == Grade.student_id)
        .join(Course, Course.id == Grade.course_id)
        .where(
            Grade.term == data["term"],
            Grade.attempt == 0,
            Grade.official.is_(True),
            Course.code.in_(codes),
            Student.station_id == step.station_id(),
            Student.status.in_(STUDYING),
        )
        .distinct()
        .order_by(Grade.student_id)
    ).all()
    return [{"id": i, "term_courses": codes} for i in ids]


def _student_of(step: StepContext) -> Student:
    student = step.session.get(Student, step.instance().student_id or 0)
    if student is None:
        raise ServiceError("本流程没有所属学生")
    return student


def _failed_now(session: Session, student_id: int, codes: list[str] | None) -> dict[str, Grade]:
    """The student's failed courses by code (the records' one rule), of `codes` when given."""
    failed = failed_courses(session, [student_id])[student_id]
    return {g.course.code: g for g in failed if codes is None or g.course.code in codes}


@service("teaching_count_failed")
def teaching_count_failed(step: StepContext, data: dict[str, Any], stage: str) -> dict[str, Any]:
    """One student's counts as the decision table reads them: failed and counted courses (the
    term's courses after the term's exams, where a course without a result is failed, as 缺考
    is; every course with a result at 毕业清考 and after), and how many of the failed ones the
    student never sat (no score: 缺考, or no result at all)."""
    session = step.session
    student = _student_of(step)
    if stage == "学期":
        codes = data["student"]["term_courses"]
        term_courses = dict(
            session.execute(select(Course.id, Course.code).where(Course.code.in_(codes))).all()
        )
        standing = standing_grades(session, [student.id], term_courses)[student.id]
        failed = sorted(
            code
            for course_id, code in term_courses.items()
            if course_id not in standing or is_failed(standing[course_id])
        )
        absent = sum(
            1
            for course_id, code in term_courses.items()
            if code in failed and (course_id not in standing or standing[course_id].score is None)
        )
        total = len(term_courses)
    else:
        standing = standing_grades(session, [student.id])[student.id]
        failing = [g for g in standing.values() if is_failed(g)]
        failed = sorted(g.course.code for g in failing)
        absent = sum(1 for g in failing if g.score is None)
        total = len(standing)
    return {
        "student": student.id,
        "stage": stage,
        "failed": len(failed),
        "total": max(total, 1),
        "absent": absent,
        "courses": failed,
    }


@service("teaching_makeup_sheet")
def teaching_makeup_sheet(
    step: StepContext, data: dict[str, Any], stage: str
) -> list[dict[str, Any]]:
    """The make-up sheet of the instance's student: one line per failed course (学期补考: of
    the term's courses), for the station to give each its score or 缺考."""
    student = _student_of(step)
    term_codes = data["student"]["term_courses"] if stage == "学期补考" else None
    return [{"course": code} for code in sorted(_failed_now(step.session, student.id, term_codes))]


@service("teaching_record_makeup")
def teaching_record_makeup(
    step: StepContext, data: dict[str, Any], stage: str, grades: list[dict[str, Any]]
) -> dict[str, Any]:
    """A make-up sitting of the instance's student (学期补考: the term's failed courses; 毕业清考,
    最后一次补考: any failed course), each result a further attempt on the record."""
    session = step.session
    student = _student_of(step)
    term_codes = data["student"]["term_courses"] if stage == "学期补考" else None
    failed = _failed_now(session, student.id, term_codes)
    codes = [g["course"] for g in grades]
    if len(set(codes)) != len(codes):
        raise ServiceError("成绩登记表中有重复的课程")
    for entry in grades:
        if entry["course"] not in failed:
            raise ServiceError(
                f"{_named(student)}的课程 {entry['course']} 没有不及格记录，不参加{stage}"
            )
        course = failed[entry["course"]].course
        _write_grade(step, session, stage, data["term"], student.id, course, entry)
    session.flush()
    return {"stage": stage, "recorded": len(grades)}


@service("teaching_repeat")
def teaching_repeat(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """留级 by the progress rules: the status with its history row, the next intake."""
    session = step.session
    student = _student_of(step)
    item = data["progress_item"]
    repeat_year(
        step,
        session,
        student,
        reason=f"{item['stage']}：不及格课程 {item['failed']}/{item['total']} 门",
        details={"term": data.get("term"), "failed_courses": item["courses"]},
    )
    session.flush()
    return {"student": student.id, "outcome": "留级", "courses": item["courses"]}


@service("teaching_conclude")
def teaching_conclude(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """肄、结业: 结业 or 肄业 as the progress rules decided, on the record with its reason."""
    session = step.session
    student = _student_of(step)
    outcome, item = data["progress"], data["progress_item"]
    if outcome not in CONCLUSIONS:
        raise ServiceError(f"学业进度规则给出了 {outcome!r}，不是肄业或结业")
    student.conclusion = outcome
    set_status(
        session,
        student,
        outcome,
        actor=step.actor,
        instance_id=step.instance_id,
        kind=outcome,
        reason=f"{item['stage']}后不及格课程 {item['failed']}/{item['total']} 门"
        + (f"，其中 {item['absent']} 门未参加考核" if item["absent"] else ""),
        details={"term": data.get("term"), "failed_courses": item["courses"]},
    )
    session.flush()
    return {"student": student.id, "outcome": outcome, "courses": item["courses"]}


@service("teaching_thesis_students")
def teaching_thesis_students(
    step: StepContext, data: dict[str, Any], candidates: list[int]
) -> list[int]:
    """The graduating students who still study: they write the 毕业设计（论文）."""
    session = step.session
    return list(
        session.scalars(
            select(Student.id)
            .where(Student.id.in_(candidates), Student.status.in_(STUDYING))
            .order_by(Student.id)
        )
    )
