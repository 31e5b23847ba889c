"""1 新生入学报到: the student's record and account are created when the station opens the
check-in (status 在籍 from then on; 入学资格取消 when the review refuses); the status card is
checked against the admissions list (招生录取库); 新生编班 gives the class, its roster and the
station's check-in statistics; finishing records the dated 在籍 row with the class.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.service import create_user, one_time_password
from xueji.db.rows import must_get
from xueji.errors import ServiceError
from xueji.instances.context import StepContext
from xueji.models import (
    Admission,
    Major,
    SchoolClass,
    Station,
    Student,
    Upload,
    User,
    UserTask,
)
from xueji.process_logic.documents import store_document
from xueji.process_logic.registry import service
from xueji.students import registration_file as rf
from xueji.students.id_numbers import birth_date, id_number_problem
from xueji.students.records import find_major, set_status, student_in_step

PHOTO_TYPES = ("image/jpeg", "image/png")


CARD_FIELDS = {
    "name": "姓名",
    "gender": "性别",
    "id_number": "身份证号",
    "level": "层次",
    "major": "专业",
}


def _attach_student(step: StepContext, session: Session, student: Student) -> None:
    """Make the instance, and its open tasks, about this student: the student's tasks are
    offered to the student only then (tasks created later copy the instance's student)."""
    instance = step.instance()
    instance.student_id = student.id
    session.execute(
        update(UserTask).where(UserTask.instance_id == instance.id).values(student_id=student.id)
    )


def _checkin_student(step: StepContext, session: Session) -> Student:
    return student_in_step(session, step.instance().student_id)


UNLISTED_FIELDS = ("name", "gender", "id_number", "level", "major")


class _Unlisted:
    """A candidate who reports with an admission notice the station's admissions list does not
    have (无录取信息): the data the station took from the notice and the ID card."""

    def __init__(self, data: dict[str, Any], exam_number: str, station: Station) -> None:
        missing = [CARD_FIELDS[f] for f in UNLISTED_FIELDS if not data.get(f)]
        if missing:
            raise ServiceError(
                f"{station.name}的招生录取库中没有考生号 {exam_number}；无录取信息的考生请按"
                f"录取通知书和身份证填写{'、'.join(missing)}"
            )
        self.exam_number = exam_number
        self.name = data["name"].strip()
        self.gender = data["gender"]
        self.id_number = data["id_number"].strip().upper()
        self.level = data["level"]
        self.major = data["major"].strip()
        self.intake_year = data["year"]
        if problem := id_number_problem(self.id_number):
            raise ServiceError(problem)


@service("open_checkin")
def open_checkin(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """Open the check-in of a candidate of the station: the student record (在籍) and the
    student's account (username = exam number, a random one-time password in the step's data
    as `initial_password` for the station to hand over, to be replaced at first login). A
    candidate the admissions list does not have (无录取信息) is checked in from the data the
    station typed; the qualification check then cannot be 正确 until the provincial
    admissions office has confirmed the admission."""
    session = step.session
    exam_number = data["exam_number"].strip()
    station = step.station()
    found = session.scalar(select(Admission).where(Admission.exam_number == exam_number))
    admission: Admission | _Unlisted
    if found is not None and found.station_id != station.id:
        raise ServiceError(f"{station.name}的招生录取库中没有考生号 {exam_number}")
    if found is None:
        admission = _Unlisted(data, exam_number, station)
    else:
        admission = found
    if admission.intake_year != data["year"]:
        raise ServiceError(f"考生 {exam_number} 是 {admission.intake_year} 年录取的")
    existing = session.scalar(
        select(Student).where(
            or_(Student.exam_number == exam_number, Student.id_number == admission.id_number)
        )
    )
    if existing is not None:
        raise ServiceError(f"考生 {exam_number} 已有学籍记录（{existing.status}）")
    if session.scalar(select(User.id).where(User.username == exam_number)) is not None:
        raise ServiceError(f"用户名 {exam_number} 已被使用")
    major = find_major(session, admission.level, name=admission.major)
    if major is None:
        raise ServiceError(f"专业库中没有{admission.level}专业“{admission.major}”")
    initial_password = one_time_password()
    user = create_user(
        session,
        exam_number,
        initial_password,
        admission.name,
        ["student"],
        station.code,
        must_change_password=True,
    )
    student = Student(
        user_id=user.id,
        station_id=station.id,
        exam_number=exam_number,
        name=admission.name,
        gender=admission.gender,
        birth_date=None
        if id_number_problem(admission.id_number)
        else birth_date(admission.id_number),
        id_number=admission.id_number,
        level=admission.level,
        major=admission.major,
        major_id=major.id,
        intake_year=admission.intake_year,
        status="在籍",
        created_at=clock.now(),
    )
    session.add(student)
    session.flush()
    _attach_student(step, session, student)
    return {
        "student": student.id,
        "username": exam_number,
        "initial_password": initial_password,
        "name": admission.name,
        "gender": admission.gender,
        "id_number": admission.id_number,
        "level": admission.level,
        "major": admission.major,
        "station": station.code,
        "intake_year": admission.intake_year,
        "admitted": found is not None,
    }


@service("confirm_admission_check")
def confirm_admission_check(step: StepContext, data: dict[str, Any]) -> bool:
    """正确 needs an admission row: without one (无录取信息) the station asks the admissions
    office (有误). True when the candidate is on the list."""
    student = _checkin_student(step, step.session)
    listed = (
        step.session.scalar(
            select(Admission.id).where(Admission.exam_number == student.exam_number)
        )
        is not None
    )
    if data.get("outcome") == "correct" and not listed:
        raise ServiceError("招生录取库中没有该考生（无录取信息），请选择有误，向当地招生部门查询")
    return listed


@service("record_confirmed_admission")
def record_confirmed_admission(step: StepContext, data: dict[str, Any]) -> bool:
    """当地省级招生部门审核 通过 for a candidate with no admission row: the office confirmed the
    admission, so the row is added to the admissions list from the record (the check follows
    again). Nothing changes for a candidate who is on the list. True when a row was added."""
    session = step.session
    student = _checkin_student(step, session)
    if session.scalar(select(Admission.id).where(Admission.exam_number == student.exam_number)):
        return False
    session.add(
        Admission(
            exam_number=student.exam_number,
            name=student.name,
            gender=student.gender,
            id_number=student.id_number,
            level=student.level,
            major=student.major,
            station_id=student.station_id,
            intake_year=student.intake_year,
        )
    )
    session.flush()
    return True


@service("cancel_admission")
def cancel_admission(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """The review refused: the record is marked 入学资格取消, with the reviewer's reason."""
    student = _checkin_student(step, step.session)
    set_status(
        step.session,
        student,
        "入学资格取消",
        actor=step.actor,
        instance_id=step.instance_id,
        kind="入学资格复查",
        reason=data.get("reason"),
        details={"cause": data.get("cause")},
    )
    step.session.flush()
    return {"status": student.status}


@service("save_status_card")
def save_status_card(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """Keep the 学籍卡 on the record. Its name, gender, ID number, level and major must be the
    admissions list's (which the station re-checked; the record takes them from there)."""
    session = step.session
    student = _checkin_student(step, session)
    admission = session.scalar(
        select(Admission).where(Admission.exam_number == student.exam_number)
    )
    if admission is None:
        raise ServiceError(f"招生录取库中已没有考生号 {student.exam_number}")
    card = {**data, "id_number": data["id_number"].upper()}
    wrong = [
        title for field, title in CARD_FIELDS.items() if card[field] != getattr(admission, field)
    ]
    if wrong:
        raise ServiceError("学籍卡的" + "、".join(wrong) + "与录取信息不一致")
    if date.fromisoformat(card["birth_date"]) != birth_date(card["id_number"]):
        raise ServiceError("出生日期与身份证号中的出生日期不一致")
    photo = session.get(Upload, card["photo"])
    if photo is None or photo.student_id != student.id or photo.content_type not in PHOTO_TYPES:
        raise ServiceError(f"上传编号 {card['photo']} 不是本人上传的照片（JPEG 或 PNG）")
    major = find_major(session, admission.level, name=admission.major)
    for field in ("name", "gender", "id_number", "level", "major"):
        setattr(student, field, card[field])
    student.major_id = major.id if major else student.major_id
    student.birth_date = date.fromisoformat(card["birth_date"])
    student.ethnicity = card["ethnicity"]
    student.political_status = card["political_status"]
    student.address = card["address"]
    student.phone = card["phone"]
    student.work_unit = card.get("work_unit")
    student.photo_upload_id = photo.id
    if student.level == "专升本":
        student.remarks = (
            f"原专科院校：{card['former_college']}；专科毕业证书编号：{card['diploma_number']}"
        )
    student.updated_at = clock.now()
    session.flush()
    return {"student": student.id}


def _class_of(session: Session, student: Student) -> SchoolClass:
    """The class of the student's station, intake and major; a new one when there is none."""
    found = session.scalar(
        select(SchoolClass).where(
            SchoolClass.station_id == student.station_id,
            SchoolClass.intake_year == student.intake_year,
            SchoolClass.major_id == student.major_id,
        )
    )
    if found is not None:
        return found
    station = must_get(session, Station, student.station_id, "station")
    major = must_get(session, Major, student.major_id, "major")
    number = 1 + (
        session.scalar(
            select(func.count())
            .select_from(SchoolClass)
            .where(
                SchoolClass.station_id == student.station_id,
                SchoolClass.intake_year == student.intake_year,
            )
        )
        or 0
    )
    code = f"{station.code}-{student.intake_year}-{number:02d}"
    while session.scalar(select(SchoolClass.id).where(SchoolClass.code == code)) is not None:
        number += 1
        code = f"{station.code}-{student.intake_year}-{number:02d}"
    school_class = SchoolClass(
        code=code,
        name=f"{student.intake_year}级{major.name}（{major.level}）班",
        station_id=student.station_id,
        major_id=major.id,
        intake_year=student.intake_year,
    )
    session.add(school_class)
    session.flush()
    return school_class


ROSTER_HEADER = (
    "序号", "考生号", "姓名", "性别", "身份证号", "出生日期", "民族", "政治面貌", "层次", "专业",
    "函授站", "班号", "联系电话", "学籍状态",
)  # fmt: skip


STATISTICS_HEADER = ("层次", "专业", "录取人数", "已报到", "入学资格取消", "未报到", "报到率")


def _roster(session: Session, school_class: SchoolClass, station: Station) -> bytes:
    """班级学籍注册名单: the class's students."""
    students = session.scalars(
        select(Student)
        .where(Student.class_id == school_class.id, Student.status != "入学资格取消")
        .order_by(Student.exam_number, Student.id)
    )
    rows = [
        (
            index,
            s.exam_number,
            s.name,
            s.gender,
            s.id_number,
            s.birth_date,
            s.ethnicity,
            s.political_status,
            s.level,
            s.major,
            station.name,
            school_class.code,
            s.phone,
            s.status,
        )
        for index, s in enumerate(students, 1)
    ]
    return rf.table_xlsx(f"{school_class.name}学籍注册名单", ROSTER_HEADER, rows)


def _statistics(session: Session, station: Station, intake_year: int) -> bytes:
    """新生报到情况统计表: per level and major, admitted, checked in, cancelled, not yet."""
    admissions = session.execute(
        select(Admission.level, Admission.major, Student.status, Student.class_id)
        .outerjoin(Student, Student.exam_number == Admission.exam_number)
        .where(Admission.station_id == station.id, Admission.intake_year == intake_year)
        .order_by(Admission.level, Admission.major)
    ).all()
    counts: dict[tuple[str, str], Counter] = {}
    for level, major, status, class_id in admissions:
        count = counts.setdefault((level, major), Counter())
        count["admitted"] += 1
        if status == "入学资格取消":
            count["cancelled"] += 1
        elif status is not None and class_id is not None:
            count["reported"] += 1
    total = sum(counts.values(), Counter())
    rows = []
    for (level, major), c in [*counts.items(), (("合计", ""), total)]:
        missing = c["admitted"] - c["reported"] - c["cancelled"]
        rate = f"{c['reported'] / c['admitted']:.0%}" if c["admitted"] else ""
        rows.append((level, major, c["admitted"], c["reported"], c["cancelled"], missing, rate))
    return rf.table_xlsx(f"{intake_year}级新生报到情况统计表", STATISTICS_HEADER, rows)


@service("assign_class")
def assign_class(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """新生编班, then the class roster and the station's check-in statistics as XLSX."""
    session = step.session
    student = _checkin_student(step, session)
    school_class = _class_of(session, student)
    student.class_id = school_class.id
    session.flush()
    station = must_get(session, Station, student.station_id, "station")
    year = student.intake_year
    return {
        "class_code": school_class.code,
        "class_name": school_class.name,
        "roster_upload": store_document(
            step,
            f"班级学籍注册名单_{school_class.code}.xlsx",
            _roster(session, school_class, station),
            station.id,
        ),
        "statistics_upload": store_document(
            step,
            f"新生报到情况统计表_{station.code}_{year}.xlsx",
            _statistics(session, station, year),
            station.id,
        ),
    }


@service("finish_checkin")
def finish_checkin(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """新生入学、报到工作完毕: the dated 在籍 row (entry date = the day the student reported)."""
    student = _checkin_student(step, step.session)
    student.enrolled_on = date.fromisoformat(data["reported_on"])
    set_status(
        step.session,
        student,
        "在籍",
        actor=step.actor,
        instance_id=step.instance_id,
        kind="新生报到",
        effective_on=student.enrolled_on,
        details={"class": data["class_documents"]["class_code"]},
    )
    step.session.flush()
    return {"status": student.status, "enrolled_on": student.enrolled_on.isoformat()}
