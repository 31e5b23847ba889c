"""4 学籍异动: the application checked against the student's status and open applications,
the change shown before it is made (修改前 → 修改后), and made on its effective date.

- Conflicts are refused when the student applies (StatusChangeConflict, with a stable code):
  休学 while already 休学, 复学 while not 休学, a second open application of the same kind,
  and 休学 and 复学 open at once. An application is open while its instance has not ended —
  including an approved one waiting for its effective date.
- The change takes effect at the start of its 生效学期 (春 → 03-01, 秋 → 09-01, Beijing time):
  the registrar confirms 修改学籍 on a table of what will change, then the instance waits for
  that day (a timer) or, when it has passed, changes the record at once. The change itself is
  computed again on the day from the record as it is then (`planned_change`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.deadlines import BEIJING
from xueji.errors import ServiceError, StatusChangeConflict
from xueji.instances.context import StepContext
from xueji.models import Major, ProcessDefinition, ProcessInstance, Station, Student
from xueji.models.states import UNFINISHED
from xueji.process_logic.registry import service
from xueji.students.id_numbers import birth_date, id_number_problem
from xueji.students.records import set_status, student_in_step

# Fields a 个人信息更正 may change (records.md: they change only through this process).
CORRECTABLE = ("name", "gender", "id_number", "birth_date", "ethnicity", "political_status")
LABELS = {
    "status": "学籍状态",
    "major": "专业",
    "station": "函授站",
    "name": "姓名",
    "gender": "性别",
    "id_number": "身份证号",
    "birth_date": "出生日期",
    "ethnicity": "民族",
    "political_status": "政治面貌",
}
NEW_STATUS = {"休学": "休学", "复学": "已注册", "退学": "退学"}
OPPOSITE = {"休学": "复学", "复学": "休学"}

APPLICATION_FIELDS = (
    "kind",
    "reason",
    "effective_term",
    "target_major",
    "target_station",
    "corrections",
)


def term_start(term: str | None) -> date | None:
    """'2027-春' → 2027-03-01, '2027-秋' → 2027-09-01."""
    if not term or "-" not in term:
        return None
    year, season = term.split("-", 1)
    return date(int(year), 3 if season == "春" else 9, 1)


def _kind_of(variables: dict[str, Any] | None) -> str | None:
    variables = variables or {}
    return (variables.get("application") or {}).get("kind") or variables.get("kind")


def open_applications(session: Session, student_id: int, but: str) -> list[tuple[str, str]]:
    """(instance id, kind) of the student's other 学籍异动 applications that have not ended."""
    rows = session.execute(
        select(ProcessInstance.id, ProcessInstance.variables)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(
            ProcessDefinition.key == "status_change",
            ProcessInstance.student_id == student_id,
            ProcessInstance.state.in_(UNFINISHED),
            ProcessInstance.id != but,
        )
        .order_by(ProcessInstance.started_at, ProcessInstance.id)
    ).all()
    return [(i, kind) for i, variables in rows if (kind := _kind_of(variables))]


def conflict(student: Student, kind: str, others: list[tuple[str, str]]) -> None:
    """Refuse an application that conflicts with the record or with an open application."""
    for _instance_id, other in others:
        if other == kind:
            raise StatusChangeConflict(
                f"{student.name}已有一份未办结的{kind}申请，不能重复申请",
                code="duplicate_application",
            )
        if OPPOSITE.get(kind) == other:
            raise StatusChangeConflict(
                f"{student.name}有一份未办结的{other}申请，不能同时申请{kind}",
                code="suspension_and_resumption",
            )
    if kind == "休学" and student.status == "休学":
        raise StatusChangeConflict(
            f"{student.name}已休学，不能再申请休学", code="already_suspended"
        )
    if kind == "复学" and student.status != "休学":
        raise StatusChangeConflict(
            f"{student.name}的学籍状态为{student.status}，未休学，不能申请复学",
            code="not_suspended",
        )


@service("keep_status_change_application")
def keep_status_change_application(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """The application as the student made it, kept apart from the reviewers' later fields;
    refused when it conflicts with the student's status or open applications."""
    instance = step.instance()
    application = {f: data[f] for f in APPLICATION_FIELDS if f in data}
    if instance.student_id is not None and "kind" in application:
        student = student_in_step(step.session, instance.student_id)
        others = open_applications(step.session, student.id, instance.id)
        conflict(student, application["kind"], others)
    return application


@dataclass
class PlannedChange:
    """What a change does to the record: the new status and each field's before → after."""

    status: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    major: Major | None = None
    station: Station | None = None


def planned_change(
    session: Session, student: Student, application: dict[str, Any]
) -> PlannedChange:
    """The change the application makes to the record as it is now."""
    kind = application["kind"]
    plan = PlannedChange(status=NEW_STATUS.get(kind, student.status))
    if kind in NEW_STATUS:
        pass
    elif kind == "转专业":
        target = application["target_major"]
        plan.major = session.scalar(
            select(Major).where(Major.name == target, Major.level == student.level)
        )
        plan.fields["major"] = (student.major, target)
    elif kind == "转函授站":
        plan.station = session.scalar(
            select(Station).where(Station.code == application["target_station"])
        )
        if plan.station is None:
            raise ServiceError(f"没有代码为 {application['target_station']} 的函授站")
        plan.fields["station"] = (student.station.code, plan.station.code)
    elif kind == "个人信息更正":
        for name, value in (application.get("corrections") or {}).items():
            if name not in CORRECTABLE:
                raise ServiceError(f"{name} 不能通过学籍异动更正")
            if name == "id_number":
                value = value.upper()
                if problem := id_number_problem(value):
                    raise ServiceError(problem)
            if name == "birth_date":
                value = date.fromisoformat(value)
            plan.fields[name] = (getattr(student, name), value)
        if "id_number" in plan.fields and "birth_date" not in plan.fields:
            new = birth_date(plan.fields["id_number"][1])
            if new != student.birth_date:
                plan.fields["birth_date"] = (student.birth_date, new)
    else:
        raise ServiceError(f"unknown kind of status change {kind!r}")
    return plan


def _shown(value: Any) -> str:
    return "" if value is None else str(value)


@service("preview_status_change")
def preview_status_change(step: StepContext, data: dict[str, Any]) -> list[dict[str, str]]:
    """The table the registrar confirms at 修改学籍: each field's 修改前 → 修改后, and the
    day the change takes effect."""
    application = data.get("application") or data
    student = student_in_step(step.session, step.instance().student_id)
    plan = planned_change(step.session, student, application)
    rows = [
        {"field": LABELS[name], "before": _shown(before), "after": _shown(after)}
        for name, (before, after) in plan.fields.items()
    ]
    rows.insert(0, {"field": LABELS["status"], "before": student.status, "after": plan.status})
    effective = term_start(application.get("effective_term"))
    rows.append(
        {"field": "生效日期", "before": "", "after": effective.isoformat() if effective else "即时"}
    )
    return rows


@service("status_change_effective_at")
def status_change_effective_at(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """When the change takes effect: the start of its 生效学期 in Beijing time, and whether
    that moment has come (then it is made at once)."""
    application = data.get("application") or data
    day = term_start(application.get("effective_term"))
    moment = (
        datetime.combine(day, datetime.min.time(), BEIJING) if day else clock.now()
    ).astimezone(BEIJING)
    return {"at": moment.isoformat(), "due": moment <= clock.now()}


@service("apply_status_change")
def apply_status_change(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """Change the record as the approved application says, with a dated status history row."""
    application = data.get("application") or data
    session = step.session
    instance = step.instance()
    student = student_in_step(session, instance.student_id)
    plan = planned_change(session, student, application)
    details: dict[str, Any] = {}
    for name, (before, after) in plan.fields.items():
        if name == "major":
            student.major = after
            student.major_id = plan.major.id if plan.major else None
        elif name == "station":
            student.station_id = plan.station.id  # type: ignore[union-attr]
            student.station = plan.station  # type: ignore[assignment]
        else:
            setattr(student, name, after)
        details[name] = [str(before), str(after)]
    if "id_number" in plan.fields and "birth_date" in details:
        # an ID number carries the birth date: that follows without a row of its own
        details.pop("birth_date")
    change = set_status(
        session,
        student,
        plan.status,
        actor=step.actor,
        instance_id=instance.id,
        kind=application["kind"],
        reason=application.get("reason"),
        effective_on=term_start(application.get("effective_term")),
        details=details,
    )
    session.flush()
    return {"status": student.status, "change_id": change.id, "details": details}
