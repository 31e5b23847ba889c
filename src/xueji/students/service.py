"""Reading records: search, a student's whole record, statistics (学籍数据统计)."""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from xueji.auth.principal import Principal
from xueji.errors import InvalidInput
from xueji.instances.repository import readable_by as instances_readable_by
from xueji.instances.schemas import instance_item
from xueji.models import (
    Grade,
    Major,
    ProcessInstance,
    SchoolClass,
    Station,
    StatusChange,
    Student,
    ThesisResult,
)
from xueji.students.repository import StudentFilters, readable_by
from xueji.students.schemas import (
    GradeOut,
    StatisticsOut,
    StatusChangeOut,
    StudentDetail,
    StudentItem,
    ThesisOut,
)

# Who works with whole ID numbers; everyone else sees the region and the last four characters.
FULL_ID_NUMBER_ROLES = ("registrar", "station")  # and admin, and the student themself

GROUP_KEYS = {
    "station": Station.code,
    "level": Student.level,
    "major": Student.major,
    "status": Student.status,
    "intake": Student.intake_year,
}


def mask_id_number(id_number: str) -> str:
    """'410102199803151234' → '410102********1234' (region and check part kept)."""
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def sees_id_number(principal: Principal, student: Student) -> bool:
    return principal.has_role(*FULL_ID_NUMBER_ROLES) or principal.student_id == student.id


def list_query(principal: Principal, filters: StudentFilters, q: str | None) -> Select:
    """The student list's query (GET /students and its export): the caller's scope, the
    filters, the search, in id order."""
    query = filters.apply(readable_by(principal))
    if q:
        query = search(principal, query, q)
    return query.order_by(Student.id)


def search(principal: Principal, query: Select, text: str) -> Select:
    """Narrow to students whose name or 学号 contains `text`, or ID number for those who see it."""
    text = text.strip()
    if not text:
        return query
    matches = [
        Student.name.contains(text, autoescape=True),
        Student.student_number.contains(text, autoescape=True),
    ]
    # A masked viewer must not find out whose ID number is whose by searching for it.
    if principal.has_role(*FULL_ID_NUMBER_ROLES, "student"):
        matches.append(Student.id_number.contains(text.upper(), autoescape=True))
    return query.where(or_(*matches))


def student_item(principal: Principal, student: Student) -> StudentItem:
    return StudentItem(
        id=student.id,
        student_number=student.student_number,
        name=student.name,
        gender=student.gender,
        id_number=_id_number(principal, student),
        level=student.level,
        major=student.major,
        intake_year=student.intake_year,
        station=student.station.code,
        station_name=student.station.name,
        status=student.status,
        photo_status=student.photo_status,
    )


def student_detail(session: Session, principal: Principal, student: Student) -> StudentDetail:
    """The whole record, its status history, grades, theses and the caller's view of its
    process instances."""
    major = session.get(Major, student.major_id) if student.major_id else None
    school_class = session.get(SchoolClass, student.class_id) if student.class_id else None
    history = session.scalars(
        select(StatusChange)
        .where(StatusChange.student_id == student.id)
        .order_by(StatusChange.changed_at, StatusChange.id)
    )
    grades = session.scalars(
        select(Grade)
        .where(Grade.student_id == student.id)
        .order_by(Grade.term, Grade.course_id, Grade.attempt)
    )
    theses = session.scalars(
        select(ThesisResult)
        .where(ThesisResult.student_id == student.id)
        .order_by(ThesisResult.recorded_at, ThesisResult.id)
    )
    instances = session.scalars(
        instances_readable_by(principal)
        .where(ProcessInstance.student_id == student.id)
        .order_by(ProcessInstance.started_at, ProcessInstance.id)
    )
    return StudentDetail(
        **student_item(principal, student).model_dump(),
        exam_number=student.exam_number,
        birth_date=student.birth_date,
        political_status=student.political_status,
        ethnicity=student.ethnicity,
        major_id=student.major_id,
        major_code=major.code if major else None,
        years=major.years if major else None,
        study_mode=student.study_mode,
        enrolled_on=student.enrolled_on,
        class_code=school_class.code if school_class else None,
        class_name=school_class.name if school_class else None,
        expected_graduation=student.expected_graduation,
        remarks=student.remarks,
        address=student.address,
        phone=student.phone,
        work_unit=student.work_unit,
        photo_upload_id=student.photo_upload_id,
        graduated_on=student.graduated_on,
        certificate_number=student.certificate_number,
        conclusion=student.conclusion,
        deferred_season=student.deferred_season,
        deferral_reason=student.deferral_reason,
        created_at=student.created_at,
        updated_at=student.updated_at,
        status_history=[_status_change(principal, student, c) for c in history],
        grades=[_grade(g) for g in grades],
        theses=[ThesisOut.model_validate(t, from_attributes=True) for t in theses],
        instances=[instance_item(i) for i in instances.unique()],
    )


def parse_group_by(values: list[str]) -> list[str]:
    """Group keys from `station,level` (or repeated parameters), in order, once each."""
    keys: list[str] = []
    for value in values:
        for key in (k.strip() for k in value.split(",")):
            if not key or key in keys:
                continue
            if key not in GROUP_KEYS:
                raise InvalidInput(
                    [
                        {
                            "field": "group_by",
                            "message": f"cannot group by {key!r}; "
                            f"choose from {', '.join(GROUP_KEYS)}",
                        }
                    ]
                )
            keys.append(key)
    return keys


def statistics(
    session: Session, principal: Principal, keys: list[str], filters: StudentFilters
) -> StatisticsOut:
    """Counts of the students the caller may see, grouped by `keys` (none: one row)."""
    columns = [GROUP_KEYS[key] for key in keys]
    query = (
        select(*(c.label(k) for k, c in zip(keys, columns, strict=True)), func.count(Student.id))
        .select_from(Student)
        .join(Station, Station.id == Student.station_id)
    )
    query = filters.apply(readable_by(principal, query))
    if columns:
        query = query.group_by(*columns)
    # Sorted here: database collations order Chinese differently; code points are stable.
    rows = [
        {**dict(zip(keys, values, strict=True)), "count": count}
        for *values, count in sorted(session.execute(query), key=lambda row: tuple(row)[:-1])
    ]
    codes = {r["station"] for r in rows} if "station" in keys else set()
    names = select(Station.code, Station.name).where(Station.code.in_(codes))
    return StatisticsOut(
        group_by=keys,
        rows=rows,
        total=sum(r["count"] for r in rows),
        station_names={code: name for code, name in session.execute(names)} if codes else {},
    )


def _id_number(principal: Principal, student: Student) -> str:
    if sees_id_number(principal, student):
        return student.id_number
    return mask_id_number(student.id_number)


def _status_change(principal: Principal, student: Student, change: StatusChange) -> StatusChangeOut:
    out = StatusChangeOut.model_validate(change, from_attributes=True)
    # A 个人信息更正 keeps the old and new ID numbers in its details.
    if out.details and "id_number" in out.details and not sees_id_number(principal, student):
        out.details = {
            **out.details,
            "id_number": [
                mask_id_number(v) if isinstance(v, str) else v for v in out.details["id_number"]
            ],
        }
    return out


def _grade(grade: Grade) -> GradeOut:
    return GradeOut(
        id=grade.id,
        course_code=grade.course.code,
        course_name=grade.course.name,
        credits=grade.course.credits,
        term=grade.term,
        attempt=grade.attempt,
        kind=grade.kind,
        score=grade.score,
        passed=grade.passed,
        official=grade.official,
        instance_id=grade.instance_id,
        recorded_at=grade.recorded_at,
    )
