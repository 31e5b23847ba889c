"""5 电子图像采集: the graduating cohort of a station, the collection roster for 新华图片社,
each student's photo collected (统一拍摄 or not), and 6 started 40 days later.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.definitions.repository import get_definition
from xueji.errors import NotFound, ServiceError
from xueji.instances.context import StepContext
from xueji.models import Major, Station, Student, Upload
from xueji.process_logic.registry import service
from xueji.uploads.service import store_generated
from xueji.uploads.storage import storage_for

COLLECTED = "已采集"


VERIFIED = "已校对"


# Students still studying: they graduate with their cohort.
ENROLLED = ("在籍", "已注册", "留级")


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


ROSTER_COLUMNS = (
    "序号",
    "学号 XH",
    "姓名 XM",
    "性别 XB",
    "身份证号 SFZH",
    "层次 CC",
    "专业 ZYMC",
    "学生签字",
)


def graduation_year(student: Student, major_years: str | None) -> int | None:
    """The year a student is expected to graduate.

    The recorded 预计毕业日期 (YJBYRQ) wins; without one, the intake year plus the major's
    length rounded up (a 2.5-year programme entered in spring 2025 ends in January 2028).
    None when neither is known: such a student is on no list until the registrar records it.
    """
    if student.expected_graduation is not None:
        return student.expected_graduation.year
    try:
        years = Decimal(major_years) if major_years else None
    except InvalidOperation:
        return None
    return student.intake_year + math.ceil(years) if years else None


def _station(session: Session, code: str) -> Station:
    station = session.scalar(select(Station).where(Station.code == code))
    if station is None:
        raise ServiceError(f"no station {code!r}")
    return station


def photo_student(session: Session, student_id: int) -> Student:
    student = session.get(Student, student_id)
    if student is None:
        raise ServiceError(f"no student {student_id}")
    return student


def _students_in_order(session: Session, ids: list[int]) -> list[Student]:
    rows = {s.id: s for s in session.scalars(select(Student).where(Student.id.in_(ids)))}
    missing = [i for i in ids if i not in rows]
    if missing:
        raise ServiceError(f"no students {missing}")
    return [rows[i] for i in ids]


def set_photo(session: Session, student: Student, status: str, upload_id: int | None) -> None:
    if upload_id is not None:
        upload = session.get(Upload, upload_id)
        if upload is None or upload.student_id not in (None, student.id):
            raise ServiceError(f"upload {upload_id} is not a file of this student")
        if not upload.content_type.startswith("image/"):
            raise ServiceError(f"upload {upload_id} is not a photo (JPEG or PNG)")
        student.photo_upload_id = upload.id
    student.photo_status = status
    student.updated_at = clock.now()
    session.flush()


@service("photo_collection_list")
def photo_collection_list(
    step: StepContext, data: dict[str, Any], station: str, year: int
) -> list[int]:
    """Ids of the station's enrolled students expected to graduate in `year`, by 学号."""
    session = step.session
    station_row = _station(session, station)
    rows = session.execute(
        select(Student, Major.years)
        .outerjoin(Major, Major.id == Student.major_id)
        .where(Student.station_id == station_row.id, Student.status.in_(ENROLLED))
    ).all()
    graduates = [s for s, years in rows if graduation_year(s, years) == int(year)]
    if not graduates:
        raise ServiceError(f"no enrolled students of station {station} graduate in {year}")
    graduates.sort(key=lambda s: (s.student_number is None, s.student_number or "", s.id))
    return [s.id for s in graduates]


@service("photo_collection_roster")
def photo_collection_roster(step: StepContext, data: dict[str, Any], students: list[int]) -> int:
    """The printed list students sign at the collection (XLSX); returns its upload id."""
    session = step.session
    station = _station(session, data["station"])
    book = Workbook()
    sheet = book.active
    sheet.title = "采集名单"
    sheet.append([f"{station.name} {data['year']} 年毕业生电子图像采集名单"])
    sheet.append(
        [
            f"采集时间：{data.get('collection_date', '')}",
            f"地点：{data.get('collection_place', '')}",
        ]
    )
    sheet.append(list(ROSTER_COLUMNS))
    for number, student in enumerate(_students_in_order(session, students), start=1):
        sheet.append(
            [
                number,
                student.student_number or "",
                student.name,
                student.gender,
                student.id_number,
                student.level,
                student.major,
                "",
            ]
        )
    return store_generated(
        session,
        storage_for(step.settings),
        f"毕业生电子图像采集名单_{station.code}_{data['year']}.xlsx",
        book,
        instance_id=step.instance_id,
        actor=step.actor,
        station_id=station.id,
    )


@service("photo_collected")
def photo_collected(step: StepContext, data: dict[str, Any], student: int) -> dict[str, Any]:
    """Mark the student's photo 已采集, with the photo's upload when one was handed in."""
    session = step.session
    row = photo_student(session, student)
    set_photo(session, row, COLLECTED, data.get("photo_upload"))
    return {"student": row.id, "mode": data["outcome"], "photo_upload": row.photo_upload_id}


@service("photo_verification_start")
def photo_verification_start(step: StepContext, data: dict[str, Any]) -> str:
    """Start 6 电子图像校对 for the same station, year and students; returns its instance id."""
    session = step.session
    collection = step.instance()
    try:
        definition = get_definition(session, "photo_verification")
    except NotFound:
        raise ServiceError("process photo_verification is not deployed") from None
    verification = step.start_process(
        definition,
        {
            "station": data["station"],
            "year": data["year"],
            "students": data["students"],
            "collection": step.instance_id,
        },
        station_id=collection.station_id,
        student_id=None,
        business_key=collection.business_key,
    )
    return verification.id
