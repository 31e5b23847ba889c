"""GET /documents/…: the documents the offices print, generated from the record when asked,
scoped like the records (a station its own students and classes, a student their own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import Select, false, null, select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.dependencies import CurrentUser, require_roles
from xueji.auth.principal import Principal, scope_filter
from xueji.auth.roles import COLLEGE_WIDE, Role
from xueji.db.dependencies import DbSession
from xueji.deadlines import BEIJING
from xueji.documents import (
    checkin_statistics,
    diploma,
    grade_sheets,
    photo_collection,
    rosters,
    status_change,
    student_card,
    transcripts,
)
from xueji.documents.layout import Kit, station_label
from xueji.errors import Conflict, NotFound
from xueji.instances.repository import get_readable as get_readable_instance
from xueji.models import Course, SchoolClass, Station, Student, Upload
from xueji.paging import RowId
from xueji.runtime import AppRuntime
from xueji.students.graduation import SEASONS
from xueji.students.repository import get_readable as get_readable_student
from xueji.students.repository import readable_by
from xueji.students.service import mask_id_number, sees_id_number

router = APIRouter(prefix="/documents", tags=["documents"])

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {PDF: {}, XLSX: {}}, "description": "The document"},
    404: {"description": "Nothing of that id, or not yours to see"},
    503: {"description": "The CJK font for PDFs is missing (XUEJI_PDF_FONT)"},
}
# A list of many students (a class, a season, a station) is the college's or a station's,
# never a student's: a student is refused it (403), as by the role of a process lane.
OFFICES = [Depends(require_roles(*sorted(COLLEGE_WIDE), Role.STATION, Role.ADVISOR))]
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


@router.get(
    "/class-roster/{class_id}", response_class=Response, responses=FILE, dependencies=OFFICES
)
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
    dependencies=OFFICES,
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
    chosen = _station_of(session, principal, station)
    students = rosters.graduates(session, chosen.apply(readable_by(principal)), year, season)
    head = rosters.seal_list_head(year, season, chosen.label, len(students))
    shown = _id_number(principal)
    if format == "xlsx":
        content = rosters.seal_list_xlsx(runtime.settings.college_name, head, students, shown)
    else:
        content = rosters.seal_list_pdf(_kit(runtime), head, students, shown)
    return _file(
        content,
        f"预毕业生验印名单_{year}{season}{chosen.suffix}.{format}",
        f"seal-verification-{year}.{format}",
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


@router.get(
    "/blank-grade-sheet/{class_id}", response_class=Response, responses=FILE, dependencies=OFFICES
)
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


@dataclass(frozen=True)
class StationFilter:
    """The station a list is narrowed to: one asked for, else a station user's own."""

    station: Station | None
    unknown: bool = False  # a code that names no station the caller sees: an empty list

    def apply(self, query: Select) -> Select:
        if self.unknown:
            return query.where(false())
        if self.station is not None:
            return query.where(Student.station_id == self.station.id)
        return query

    @property
    def label(self) -> str | None:
        if self.unknown:
            return "（无此函授站）"
        return station_label(self.station.name, self.station.code) if self.station else None

    @property
    def suffix(self) -> str:
        return f"_{self.station.code}" if self.station and not self.unknown else ""


def _station_of(session: Session, principal: Principal, code: str | None) -> StationFilter:
    # Like any list's filter, another station's code shows what a code of no station shows.
    if code:
        station = session.scalar(select(Station).where(Station.code == code))
        if station is None or not (
            principal.sees_all_stations or station.id == principal.station_id
        ):
            return StationFilter(None, unknown=True)
        return StationFilter(station)
    if principal.station_id is not None and not principal.sees_all_stations:
        return StationFilter(session.get(Station, principal.station_id))
    return StationFilter(None)


def _course(session: Session, code: str) -> Course:
    row = session.scalar(select(Course).where(Course.code == code))
    if row is None:
        raise NotFound(f"no course {code}")
    return row


@router.get("/makeup-sheet", response_class=Response, responses=FILE, dependencies=OFFICES)
def makeup_sheet(
    session: DbSession,
    principal: CurrentUser,
    runtime: AppRuntime,
    course: Annotated[str, Query(max_length=20, description="Course code, e.g. ZY401")],
    term: Annotated[str, Query(pattern=r"^\d{4}-(春|秋)$", description="Term, e.g. 2027-春")],
    station: Annotated[str | None, Query(max_length=20, description="Station code")] = None,
) -> Response:
    """空白补考成绩单: the students who failed a course, for the makeup's teacher; as PDF."""
    row = _course(session, course)
    chosen = _station_of(session, principal, station)
    candidates = grade_sheets.makeup_candidates(session, chosen.apply(readable_by(principal)), row)
    content = grade_sheets.makeup_sheet(_kit(runtime), row, term, chosen.label, candidates)
    return _file(
        content,
        f"空白补考成绩单_{row.name}_{term}{chosen.suffix}.pdf",
        f"makeup-sheet-{course}.pdf",
    )


@router.get(
    "/class-grades/{class_id}", response_class=Response, responses=FILE, dependencies=OFFICES
)
def class_grades(
    class_id: RowId,
    session: DbSession,
    principal: CurrentUser,
    runtime: AppRuntime,
    format: Format = "pdf",
) -> Response:
    """毕业班级成绩总表: a class's standing results, a column per course, pass counts."""
    school_class = _readable_class(session, principal, class_id)
    members, courses, shown, passes = grade_sheets.class_results(
        session, school_class, readable_by(principal)
    )
    head = grade_sheets.class_results_head(session, school_class, len(members))
    if format == "xlsx":
        content = grade_sheets.class_results_xlsx(
            runtime.settings.college_name, head, members, courses, shown, passes
        )
    else:
        content = grade_sheets.class_results_pdf(
            _kit(runtime), head, members, courses, shown, passes
        )
    return _file(
        content,
        f"毕业班级成绩总表_{school_class.code}.{format}",
        f"class-grades-{class_id}.{format}",
    )


@router.get("/checkin-statistics", response_class=Response, responses=FILE, dependencies=OFFICES)
def checkin_statistics_document(
    session: DbSession,
    principal: CurrentUser,
    runtime: AppRuntime,
    intake: Annotated[int, Query(ge=1900, le=2999, description="Intake year")],
    format: Format = "pdf",
) -> Response:
    """新生报到情况统计表 of an intake: admitted, checked in, not, and the rate."""
    rows = checkin_statistics.counts(session, principal, intake)
    own = _station_of(session, principal, None)
    head = checkin_statistics.head(intake, own.label)
    if format == "xlsx":
        content = checkin_statistics.xlsx(runtime.settings.college_name, head, rows)
    else:
        content = checkin_statistics.pdf(_kit(runtime), head, rows)
    return _file(
        content, f"新生报到情况统计表_{intake}{own.suffix}.{format}", f"checkin-{intake}.{format}"
    )


@router.get(
    "/diploma/{student_id}",
    response_class=Response,
    responses={**FILE, 409: {"description": "No certificate number assigned yet"}},
)
def diploma_pdf(
    student_id: RowId, session: DbSession, principal: CurrentUser, runtime: AppRuntime
) -> Response:
    """毕业证书 of a graduate whose certificate number has been assigned; as PDF."""
    student = get_readable_student(session, principal, student_id)
    if not student.certificate_number:
        raise Conflict(f"{student.name}尚未编制毕业证书编号，不能打印毕业证书")
    photo = session.get(Upload, student.photo_upload_id) if student.photo_upload_id else None
    content = diploma.render(_kit(runtime), student, photo, runtime.settings.college_president)
    return _file(content, diploma.file_name(student), f"diploma-{student.id}.pdf")


@router.get("/photo-collection", response_class=Response, responses=FILE, dependencies=OFFICES)
def photo_collection_list(
    session: DbSession,
    principal: CurrentUser,
    runtime: AppRuntime,
    year: Annotated[int, Query(ge=1900, le=2999, description="Expected graduation year")],
    station: Annotated[str | None, Query(max_length=20, description="Station code")] = None,
) -> Response:
    """毕业生电子图像采集名单: a year's graduating students, to sign at the photo session."""
    chosen = _station_of(session, principal, station)
    students = photo_collection.graduating(session, chosen.apply(readable_by(principal)), year)
    content = photo_collection.collection_list(
        _kit(runtime), year, chosen.label, students, _id_number(principal)
    )
    return _file(
        content,
        f"毕业生电子图像采集名单_{year}{chosen.suffix}.pdf",
        f"photo-collection-{year}.pdf",
    )


@router.get("/photo-card/{student_id}", response_class=Response, responses=FILE)
def photo_card(
    student_id: RowId, session: DbSession, principal: CurrentUser, runtime: AppRuntime
) -> Response:
    """毕业生电子图像采集卡 of one student, to fill in and bring to the photo session."""
    student = get_readable_student(session, principal, student_id)
    content = photo_collection.card(_kit(runtime), student, _id_number(principal)(student))
    return _file(
        content,
        f"毕业生电子图像采集卡_{student.student_number or student.id}_{student.name}.pdf",
        f"photo-card-{student.id}.pdf",
    )
