"""3 在校生日常学籍管理: who may have one, the student's current status, starting them in bulk."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from xueji.definitions.repository import get_definition
from xueji.errors import NotFound, ServiceError
from xueji.instances.context import StepContext
from xueji.models import ProcessDefinition, ProcessInstance, Student
from xueji.process_logic.registry import service
from xueji.students.records import student_in_step

PROCESS = "daily_records"
LEFT = ("退学", "毕业", "结业", "肄业", "入学资格取消")


def _running_for(session, students: list[int], other_than: str | None = None) -> set[int]:
    """Students who have a running 在校生日常学籍管理 instance (besides `other_than`)."""
    return set(
        session.scalars(
            select(ProcessInstance.student_id)
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .where(
                ProcessDefinition.key == PROCESS,
                ProcessInstance.state == "running",
                ProcessInstance.student_id.in_(students),
                ProcessInstance.id != (other_than or ""),
            )
        )
    )


@service("check_enrolled_student")
def check_enrolled_student(step: StepContext, data: dict[str, Any]) -> str:
    """Refuse a second instance for a student, or one for a student who has left; the status."""
    session = step.session
    student = session.get(Student, data.get("student") or 0)
    if student is None:
        raise ServiceError("no such student")
    if student.status in LEFT:
        raise ServiceError(f"the student has left the college ({student.status})")
    if _running_for(session, [student.id], other_than=step.instance_id):
        raise ServiceError("this student's daily records are kept by a running instance already")
    return student.status


@service("student_status")
def student_status(step: StepContext, data: dict[str, Any]) -> str:
    """The status of the instance's student as the record has it now (e.g. after process 4)."""
    instance = step.instance()
    try:
        return student_in_step(step.session, instance.student_id).status
    except LookupError as exc:
        raise ServiceError(str(exc)) from None


@service("student_record_query")
def student_record_query(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """学生学籍信息查询: the record as it is now, and where to read all of it (the records page
    /students/{id} of the web UI, GET /api/v1/students/{id})."""
    instance = step.instance()
    try:
        student = student_in_step(step.session, instance.student_id)
    except LookupError as exc:
        raise ServiceError(str(exc)) from None
    return {
        "student": student.id,
        "name": student.name,
        "student_number": student.student_number,
        "status": student.status,
        "level": student.level,
        "major": student.major,
        "intake_year": student.intake_year,
        "expected_graduation": student.expected_graduation.isoformat()
        if student.expected_graduation
        else None,
        "deferred_season": student.deferred_season,
        "page": f"/students/{student.id}",
        "api": f"/api/v1/students/{student.id}",
    }


@service("student_record_statistics")
def student_record_statistics(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """学生学籍数据统计: the student's station and intake counted by status, and where the full
    statistics are (the web UI's /statistics, GET /api/v1/statistics/students)."""
    instance = step.instance()
    try:
        student = student_in_step(step.session, instance.student_id)
    except LookupError as exc:
        raise ServiceError(str(exc)) from None
    rows = step.session.execute(
        select(Student.status, func.count())
        .where(Student.station_id == student.station_id, Student.intake_year == student.intake_year)
        .group_by(Student.status)
        .order_by(Student.status)
    ).all()
    return {
        "station": student.station.code,
        "intake": student.intake_year,
        "by_status": {status: count for status, count in rows},
        "page": "/statistics",
        "api": f"/api/v1/statistics/students?station={student.station.code}"
        f"&intake={student.intake_year}&group_by=status",
    }


@service("start_daily_records")
def start_daily_records(step: StepContext, data: dict[str, Any], students: list[int]) -> list[str]:
    """Start 在校生日常学籍管理 for each enrolled student without a running one; the new ids.

    For processes that register students (e.g. at the end of 新生学籍电子注册).
    """
    session = step.session
    try:
        definition = get_definition(session, PROCESS)
    except NotFound:
        raise ServiceError(f"process {PROCESS!r} is not deployed") from None
    running = _running_for(session, students)
    started = []
    for student_id in students:
        student = session.get(Student, student_id)
        if student is None:
            raise ServiceError(f"no student {student_id}")
        if student_id in running or student.status in LEFT:
            continue
        instance = step.start_process(
            definition,
            {"student": student_id},
            station_id=student.station_id,
            student_id=student_id,
            business_key=student.student_number,
        )
        running.add(student_id)
        started.append(instance.id)
    return started
