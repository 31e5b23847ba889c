"""10 教学管理: the term's courses, the marked grades (阅卷评定成绩, 毕业清考, 最后一次补考)
as official results, the counts the progress rules (DMN teaching_progress) read, and what they
decide: 学期补考, 留级, 结业; the graduating students who write a thesis (process 9).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.db.rows import must_get
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


# Students who still study (may sit exams, write a thesis).
STUDYING = ("在籍", "已注册")


PASS_MARK = 60


OUTCOMES = ("合格", "学期补考", "留级", "最后一次补考", "结业")


# The kind of Grade row each stage's grade sheet writes.
STAGE_KIND = {"学期": "考试", "毕业清考": "清考", "最后一次补考": "补考"}


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


def _failed_codes(session: Session, student_id: int) -> list[str]:
    """Codes of the student's failed courses (xueji.students.grades)."""
    return [g.course.code for g in failed_courses(session, [student_id])[student_id]]


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
    # The progress rules act on these grades at once (留级, 结业 change the record), so they are
    # the college's record of the result, not a provisional entry: official, like 8's.
    row.official = True
    row.instance_id = step.instance_id
    row.recorded_by = step.actor
    row.recorded_at = clock.now()


def _judged(session: Session, data: dict[str, Any], stage: str, station_id: int) -> list[int]:
    """The students a stage judges: after the term's exams those graded in it, at 毕业清考
    those who do not repeat the year, at the 最后一次补考 those 毕业清考 sent to it."""
    results = data.get("progress_results") or {}
    if stage == "毕业清考":
        return results["学期"]["合格"] + results["学期"]["学期补考"]
    if stage == "最后一次补考":
        return results["毕业清考"]["最后一次补考"]
    return sorted(
        set(
            session.scalars(
                select(Grade.student_id)
                .join(Student, Student.id == Grade.student_id)
                .join(Course, Course.id == Grade.course_id)
                .where(
                    Grade.term == data["term"],
                    Grade.attempt == 0,
                    Grade.official.is_(True),
                    Course.code.in_([c["code"] for c in data["term_courses"]]),
                    Student.station_id == station_id,
                )
            )
        )
    )


@service("teaching_record_grades")
def teaching_record_grades(
    step: StepContext, data: dict[str, Any], stage: str, grades: list[dict[str, Any]]
) -> dict[str, Any]:
    """Write a stage's grade sheet as Grade rows: the term's exams (attempt 0) or, at 毕业清考
    and the 最后一次补考, a further attempt at a course the student has not passed."""
    session = step.session
    station_id = step.station_id()
    term_codes = {c["code"] for c in data["term_courses"]}
    codes = {g["course"] for g in grades}
    courses = {c.code: c for c in session.scalars(select(Course).where(Course.code.in_(codes)))}
    station_students(session, station_id, sorted({g["student"] for g in grades}))
    judged = [] if stage == "学期" else _judged(session, data, stage, station_id)
    for entry in grades:
        student_id, code = entry["student"], entry["course"]
        if stage == "学期" and code not in term_codes:
            raise ServiceError(f"课程 {code} 不在本学期任务表中")
        if stage != "学期":
            if student_id not in judged:
                raise ServiceError(f"学生 {student_id} 不参加{stage}")
            if code not in _failed_codes(session, student_id):
                raise ServiceError(f"学生 {student_id} 的课程 {code} 没有不及格记录")
        _write_grade(step, session, stage, data["term"], student_id, courses[code], entry)
    session.flush()
    return {"stage": stage, "recorded": len(grades)}


@service("teaching_count_failed")
def teaching_count_failed(
    step: StepContext, data: dict[str, Any], stage: str
) -> dict[str, dict[str, Any]]:
    """Each judged student's failed and counted courses, as the decision table reads them:
    the term's courses after the term's exams (a term course without a result is failed, as
    缺考 is), every course with a result at 毕业清考 and after. What failed means is the
    records' one rule (xueji.students.grades), which 7 and 8 read too."""
    session = step.session
    station_id = step.station_id()
    judged = _judged(session, data, stage, station_id)
    if stage == "学期":
        term_courses = dict(
            session.execute(
                select(Course.id, Course.code).where(
                    Course.code.in_([c["code"] for c in data["term_courses"]])
                )
            ).all()
        )
        standing = standing_grades(session, judged, term_courses)
        counted = [
            (
                i,
                sorted(
                    code
                    for course_id, code in term_courses.items()
                    if course_id not in standing[i] or is_failed(standing[i][course_id])
                ),
                len(term_courses),
            )
            for i in judged
        ]
    else:
        standing = standing_grades(session, judged)
        counted = [
            (
                i,
                sorted(g.course.code for g in standing[i].values() if is_failed(g)),
                len(standing[i]),
            )
            for i in judged
        ]
    # Keyed by student: the multi-instance decision then writes its outcomes by the same keys.
    return {
        str(i): {
            "student": i,
            "stage": stage,
            "failed": len(failed),
            "total": total,
            "courses": failed,
        }
        for i, failed, total in counted
        if total
    }


@service("teaching_apply_progress")
def teaching_apply_progress(
    step: StepContext,
    data: dict[str, Any],
    stage: str,
    inputs: dict[str, dict],
    outcomes: dict[str, str],
) -> dict[str, Any]:
    """Apply the decision table's outcome for each student: 留级 and 结业 change the record,
    学期补考 and 最后一次补考 are listed with their courses. Returns the results so far, by
    stage."""
    session = step.session
    summary: dict[str, Any] = {"students": [], **{o: [] for o in OUTCOMES}, "courses": {}}
    for key, item in inputs.items():
        # `outcomes` may hold earlier stages' keys too: only this stage's students count.
        outcome = outcomes.get(key)
        if outcome not in OUTCOMES:
            raise ServiceError(f"学业进度规则给出了未知的处理 {outcome!r}")
        student = must_get(session, Student, item["student"], "student")
        reason = f"{stage}：不及格课程 {item['failed']}/{item['total']} 门"
        details = {"term": data.get("term"), "failed_courses": item["courses"]}
        if outcome == "留级":
            repeat_year(step, session, student, reason=reason, details=details)
        elif outcome == "结业":
            student.conclusion = "结业"
            set_status(
                session,
                student,
                "结业",
                actor=step.actor,
                instance_id=step.instance_id,
                kind="结业",
                reason=reason,
                details=details,
            )
        summary["students"].append(student.id)
        summary[outcome].append(student.id)
        if item["courses"]:
            summary["courses"][str(student.id)] = item["courses"]
    session.flush()
    return {**(data.get("progress_results") or {}), stage: summary}


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
