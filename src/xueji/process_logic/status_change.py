"""4 学籍异动: apply an approved change to the student's record (step 8)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from xueji.errors import ServiceError
from xueji.instances.context import StepContext
from xueji.models import Major, Station
from xueji.process_logic.registry import service
from xueji.students.id_numbers import birth_date, id_number_problem
from xueji.students.records import set_status, student_in_step

# Fields a 个人信息更正 may change (records.md: they change only through this process).
CORRECTABLE = ("name", "gender", "id_number", "birth_date", "ethnicity", "political_status")
NEW_STATUS = {"休学": "休学", "复学": "已注册", "退学": "退学"}


def _term_start(term: str | None) -> date | None:
    """'2027-春' → 2027-03-01, '2027-秋' → 2027-09-01."""
    if not term or "-" not in term:
        return None
    year, season = term.split("-", 1)
    return date(int(year), 3 if season == "春" else 9, 1)


APPLICATION_FIELDS = (
    "kind",
    "reason",
    "effective_term",
    "target_major",
    "target_station",
    "corrections",
)


@service("keep_status_change_application")
def keep_status_change_application(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """The application as the student made it, kept apart from the reviewers' later fields."""
    return {field: data[field] for field in APPLICATION_FIELDS if field in data}


@service("apply_status_change")
def apply_status_change(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """Change the record as the approved application says, with a dated status history row."""
    data = data.get("application") or data
    session = step.session
    instance = step.instance()
    student = student_in_step(session, instance.student_id)
    kind = data["kind"]
    details: dict[str, Any] = {}
    status = student.status
    if kind in NEW_STATUS:
        status = NEW_STATUS[kind]
    elif kind == "转专业":
        major = session.scalar(
            select(Major).where(Major.name == data["target_major"], Major.level == student.level)
        )
        details = {"major": [student.major, data["target_major"]]}
        student.major = data["target_major"]
        student.major_id = major.id if major else None
    elif kind == "转函授站":
        station = session.scalar(select(Station).where(Station.code == data["target_station"]))
        if station is None:
            raise ServiceError(f"no station {data['target_station']!r}")
        details = {"station": [student.station.code, station.code]}
        student.station_id = station.id
        student.station = station
    elif kind == "个人信息更正":
        for field, value in (data.get("corrections") or {}).items():
            if field not in CORRECTABLE:
                raise ServiceError(f"{field} cannot be corrected by a status change")
            if field == "id_number":
                value = value.upper()
                if problem := id_number_problem(value):
                    raise ServiceError(problem)
                student.birth_date = birth_date(value)
            if field == "birth_date":
                value = date.fromisoformat(value)
            details[field] = [str(getattr(student, field)), str(value)]
            setattr(student, field, value)
    else:
        raise ServiceError(f"unknown kind of status change {kind!r}")
    change = set_status(
        session,
        student,
        status,
        actor=step.actor,
        instance_id=instance.id,
        kind=kind,
        reason=data.get("reason"),
        effective_on=_term_start(data.get("effective_term")),
        details=details,
    )
    session.flush()
    return {"status": student.status, "change_id": change.id, "details": details}
