"""GET /documents/…: the documents the offices print, generated from the record when asked,
scoped like the records (a station its own students and classes, a student their own)."""

from __future__ import annotations

from collections.abc import Callable
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


def _document(
    runtime: AppRuntime,
    fmt: str,
    stem: str,
    fallback: str,
    pdf: Callable[[Kit], bytes],
    xlsx: Callable[[str], bytes] | None = None,
) -> Response:
    """Every endpoint's last step: the document as `fmt` (made by `pdf(kit)`, or by
    `xlsx(college name)`), an attachment named `stem.fmt` in Chinese (RFC 5987) with the ASCII
    `fallback.fmt` for old clients."""
    if fmt == "xlsx":
        assert xlsx is not None
        content, media = xlsx(runtime.settings.college_name), XLSX
    else:
        content, media = pdf(_kit(runtime)), PDF
    return Response(
        content,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{fallback}.{fmt}"; '
            f"filename*=UTF-8''{quote(f'{stem}.{fmt}')}",
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
    shown = _id_number(principal)(student)
    return _document(
        runtime,
        "pdf",
        student_card.file_stem(student),
        f"student-card-{student.id}",
        lambda kit: student_card.render(kit, session, student, shown),
    )


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
    return _document(
        runtime,
        "pdf",
        status_change.file_stem(instance, student),
        f"status-change-{instance.id[:8]}",
        lambda kit: status_change.render(kit, session, instance, id_number),
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
    return _document(
        runtime,
        format,
        roster.file_stem,
        f"class-roster-{class_id}",
        lambda kit: rosters.class_roster_pdf(kit, roster, cells),
        lambda college: rosters.class_roster_xlsx(college, roster, cells),
    )


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
    return _document(
        runtime,
        format,
        f"预毕业生验印名单_{year}{season}{chosen.suffix}",
        f"seal-verification-{year}",
        lambda kit: rosters.seal_list_pdf(kit, head, students, shown),
        lambda college: rosters.seal_list_xlsx(college, head, students, shown),
    )


@router.get("/transcript/{student_id}", response_class=Response, responses=FILE)
def transcript(
    student_id: RowId,
    session: DbSession,
    principal: CurrentUser,
    runtime: AppRuntime,
    format: Format = "pdf",
) -> Response:
    """毕业生个人成绩单 of one student: standing results, credits, average; as PDF in two
    copies (学校存档, 交学院学工办), each on pages of its own, or as XLSX."""
    student = get_readable_student(session, principal, student_id)
    data = transcripts.transcript(session, student, _id_number(principal)(student))
    return _document(
        runtime,
        format,
        transcripts.transcript_file_stem(student),
        f"transcript-{student.id}",
        lambda kit: transcripts.transcript_pdf(kit, data),
        lambda college: transcripts.transcript_xlsx(college, data),
    )


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
    format: Format = "pdf",
) -> Response:
    """空白学期成绩单: a class's roster for one course and term, scores left blank."""
    school_class = _readable_class(session, principal, class_id)
    row = _course(session, course)
    data = transcripts.blank_sheet(session, school_class, readable_by(principal), row, term)
    return _document(
        runtime,
        format,
        transcripts.blank_sheet_file_stem(school_class, row, term),
        f"grade-sheet-{class_id}-{course}",
        lambda kit: transcripts.blank_sheet_pdf(kit, data),
        lambda college: transcripts.blank_sheet_xlsx(college, data),
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
    format: Format = "pdf",
) -> Response:
    """空白补考成绩单: the students who failed a course, for the makeup's teacher."""
    row = _course(session, course)
    chosen = _station_of(session, principal, station)
    candidates = grade_sheets.makeup_candidates(session, chosen.apply(readable_by(principal)), row)
    data = grade_sheets.makeup_sheet(row, term, chosen.label, candidates)
    return _document(
        runtime,
        format,
        f"空白补考成绩单_{row.name}_{term}{chosen.suffix}",
        f"makeup-sheet-{course}",
        lambda kit: grade_sheets.makeup_sheet_pdf(kit, data),
        lambda college: grade_sheets.makeup_sheet_xlsx(college, data),
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
    return _document(
        runtime,
        format,
        f"毕业班级成绩总表_{school_class.code}",
        f"class-grades-{class_id}",
        lambda kit: grade_sheets.class_results_pdf(kit, head, members, courses, shown, passes),
        lambda college: grade_sheets.class_results_xlsx(
            college, head, members, courses, shown, passes
        ),
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
    return _document(
        runtime,
        format,
        f"新生报到情况统计表_{intake}{own.suffix}",
        f"checkin-{intake}",
        lambda kit: checkin_statistics.pdf(kit, head, rows),
        lambda college: checkin_statistics.xlsx(college, head, rows),
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
    president = runtime.settings.college_president
    return _document(
        runtime,
        "pdf",
        diploma.file_stem(student),
        f"diploma-{student.id}",
        lambda kit: diploma.render(kit, student, photo, president),
    )


@router.get("/photo-collection", response_class=Response, responses=FILE, dependencies=OFFICES)
def photo_collection_list(
    session: DbSession,
    principal: CurrentUser,
    runtime: AppRuntime,
    year: Annotated[int, Query(ge=1900, le=2999, description="Expected graduation year")],
    station: Annotated[str | None, Query(max_length=20, description="Station code")] = None,
    format: Format = "pdf",
) -> Response:
    """毕业生电子图像采集名单: a year's graduating students, to sign at the photo session."""
    chosen = _station_of(session, principal, station)
    students = photo_collection.graduating(session, chosen.apply(readable_by(principal)), year)
    data = photo_collection.collection_list(year, chosen.label, students, _id_number(principal))
    return _document(
        runtime,
        format,
        f"毕业生电子图像采集名单_{year}{chosen.suffix}",
        f"photo-collection-{year}",
        lambda kit: photo_collection.collection_list_pdf(kit, data),
        lambda college: photo_collection.collection_list_xlsx(college, data),
    )


@router.get("/photo-card/{student_id}", response_class=Response, responses=FILE)
def photo_card(
    student_id: RowId, session: DbSession, principal: CurrentUser, runtime: AppRuntime
) -> Response:
    """毕业生电子图像采集卡 of one student, to fill in and bring to the photo session."""
    student = get_readable_student(session, principal, student_id)
    shown = _id_number(principal)(student)
    return _document(
        runtime,
        "pdf",
        f"毕业生电子图像采集卡_{student.student_number or student.id}_{student.name}",
        f"photo-card-{student.id}",
        lambda kit: photo_collection.card(kit, student, shown),
    )
