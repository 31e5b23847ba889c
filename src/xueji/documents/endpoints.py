"""GET /documents/…: the documents the offices print, generated from the record when asked,
scoped like the records (a station its own students and classes, a student their own)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Response
from sqlalchemy import null, select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.dependencies import CurrentUser
from xueji.auth.principal import Principal, scope_filter
from xueji.db.dependencies import DbSession
from xueji.deadlines import BEIJING
from xueji.documents import rosters, status_change, student_card, transcripts
from xueji.documents.layout import Kit
from xueji.errors import NotFound
from xueji.instances.repository import get_readable as get_readable_instance
from xueji.models import Course, SchoolClass, Station, Student
from xueji.paging import RowId
from xueji.runtime import AppRuntime
from xueji.students.graduation import SEASONS
from xueji.students.repository import get_readable as get_readable_student
from xueji.students.repository import readable_by
from xueji.students.service import mask_id_number, sees_id_number

router = APIRouter(prefix="/documents", tags=["documents"])

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE = {
    200: {"content": {PDF: {}, XLSX: {}}, "description": "The document"},
    404: {"description": "Nothing of that id, or not yours to see"},
    503: {"description": "The CJK font for PDFs is missing (XUEJI_PDF_FONT)"},
}
Format = Annotated[Literal["pdf", "xlsx"], Query(description="pdf (to print) or xlsx (to edit)")]


def _kit(runtime: AppRuntime) -> Kit:
    return Kit(runtime.settings, clock.now().astimezone(BEIJING).date())


def _file(content: bytes, name: str, fallback: str) -> Response:
    """The document as an attachment named in Chinese (RFC 5987), with an ASCII fallback."""
    media = PDF if name.endswith(".pdf") else XLSX
    return Response(
        content,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{fallback}"; '
            f"filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def _id_number(principal: Principal):
    def shown(student: Student) -> str:
        if sees_id_number(principal, student):
            return student.id_number
        return mask_id_number(student.id_number)

    return shown


def _readable_class(session: Session, principal: Principal, class_id: int) -> SchoolClass:
    # A class belongs to a station, never to one student: a student reads no class's list.
    clause = scope_filter(principal, SchoolClass.station_id, null())
    query = select(SchoolClass).where(SchoolClass.id == class_id)
    school_class = session.scalar(query if clause is None else query.where(clause))
    if school_class is None:
        raise NotFound(f"no class {class_id}")
    return school_class


@router.get("/student-card/{student_id}", response_class=Response, responses=FILE)
def student_card_pdf(
    student_id: RowId, session: DbSession, principal: CurrentUser, runtime: AppRuntime
) -> Response:
    """学籍卡 of one student (with the photo the college keeps), as PDF."""
    student = get_readable_student(session, principal, student_id)
    content = student_card.render(_kit(runtime), session, student, _id_number(principal)(student))
    return _file(content, student_card.file_name(student), f"student-card-{student.id}.pdf")


@router.get("/status-change/{instance_id}", response_class=Response, responses=FILE)
def status_change_pdf(
    instance_id: str, session: DbSession, principal: CurrentUser, runtime: AppRuntime
) -> Response:
    """学籍异动审批表 of one 学籍异动 case, every signing step filled from the case, as PDF."""
    instance = get_readable_instance(session, principal, instance_id)
    if instance.definition.key != status_change.KEY:
        raise NotFound(f"no 学籍异动 case {instance_id}")
    student = session.get(Student, instance.student_id) if instance.student_id else None
    id_number = _id_number(principal)(student) if student else None
    content = status_change.render(_kit(runtime), session, instance, id_number)
    return _file(
        content,
        status_change.file_name(instance, student),
        f"status-change-{instance.id[:8]}.pdf",
    )


@router.get("/class-roster/{class_id}", response_class=Response, responses=FILE)
def class_roster(
    class_id: RowId,
    session: DbSession,
    principal: CurrentUser,
    runtime: AppRuntime,
    format: Format = "pdf",
) -> Response:
    """班级学籍注册名单 of one class, as PDF or XLSX."""
    school_class = _readable_class(session, principal, class_id)
    roster, cells = rosters.class_roster(
        session, school_class, readable_by(principal), _id_number(principal)
    )
    if format == "xlsx":
        content = rosters.class_roster_xlsx(runtime.settings.college_name, roster, cells)
    else:
        content = rosters.class_roster_pdf(_kit(runtime), roster, cells)
    return _file(content, f"{roster.file_stem}.{format}", f"class-roster-{class_id}.{format}")


@router.get(
    "/seal-verification",
    response_class=Response,
    responses={**FILE, 422: {"description": "An unknown season or station"}},
)
def seal_verification(
    session: DbSession,
    principal: CurrentUser,
    runtime: AppRuntime,
    year: Annotated[int, Query(ge=1900, le=2999, description="Graduation year")],
    season: Annotated[Literal["春季", "秋季"], Query(description="春季 or 秋季")],
    station: Annotated[str | None, Query(max_length=20, description="Station code")] = None,
    format: Format = "pdf",
) -> Response:
    """预毕业生验印名单 of a graduation season, grouped by 年级, 层次, 专业 and 函授站."""
    assert season in SEASONS
    query = readable_by(principal)
    chosen = None
    if station:
        chosen = session.scalar(select(Station).where(Station.code == station))
        if chosen is None:
            raise NotFound(f"no station {station}")
        query = query.where(Student.station_id == chosen.id)
    elif principal.station_id is not None and not principal.sees_all_stations:
        chosen = session.get(Station, principal.station_id)
    students = rosters.graduates(session, query, year, season)
    head = rosters.seal_list_head(year, season, chosen, len(students))
    shown = _id_number(principal)
    if format == "xlsx":
        content = rosters.seal_list_xlsx(runtime.settings.college_name, head, students, shown)
    else:
        content = rosters.seal_list_pdf(_kit(runtime), head, students, shown)
    where = f"_{chosen.code}" if chosen else ""
    return _file(
        content,
        f"预毕业生验印名单_{year}{season}{where}.{format}",
        f"seal-verification-{year}{where}.{format}",
    )


@router.get("/transcript/{student_id}", response_class=Response, responses=FILE)
def transcript_pdf(
    student_id: RowId, session: DbSession, principal: CurrentUser, runtime: AppRuntime
) -> Response:
    """毕业生个人成绩单 of one student: standing results, credits, average; as PDF."""
    student = get_readable_student(session, principal, student_id)
    content = transcripts.transcript(
        _kit(runtime), session, student, _id_number(principal)(student)
    )
    return _file(content, transcripts.transcript_file_name(student), f"transcript-{student.id}.pdf")


@router.get("/blank-grade-sheet/{class_id}", response_class=Response, responses=FILE)
def blank_grade_sheet(
    class_id: RowId,
    session: DbSession,
    principal: CurrentUser,
    runtime: AppRuntime,
    course: Annotated[str, Query(max_length=20, description="Course code, e.g. GG001")],
    term: Annotated[str, Query(pattern=r"^\d{4}-(春|秋)$", description="Term, e.g. 2027-春")],
) -> Response:
    """空白学期成绩单: a class's roster for one course and term, scores left blank; as PDF."""
    school_class = _readable_class(session, principal, class_id)
    row = session.scalar(select(Course).where(Course.code == course))
    if row is None:
        raise NotFound(f"no course {course}")
    content = transcripts.blank_sheet(
        _kit(runtime), session, school_class, readable_by(principal), row, term
    )
    return _file(
        content,
        transcripts.blank_sheet_file_name(school_class, row, term),
        f"grade-sheet-{class_id}-{course}.pdf",
    )
