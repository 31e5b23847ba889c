"""1 新生入学报到 and 2 新生学籍电子注册: the student record from admission to 已注册.

Process 1 creates the student's record and account when the station opens the check-in
(status 在籍 from then on; 入学资格取消 when the review refuses), and records the dated
在籍 row with the class when the check-in is complete. Process 2 reads a station's intake in
the national registration layout, checks it, compares it with the admissions list (招生录取库),
enters it into the records with a 学号 for every student, and marks them 已注册.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.service import create_user
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
from xueji.process_logic.registry import service
from xueji.students import registration_file as rf
from xueji.students.id_numbers import birth_date, id_number_problem
from xueji.students.numbers import assign_student_number
from xueji.students.records import set_status, student_in_step
from xueji.uploads.service import store_generated

PHOTO_TYPES = ("image/jpeg", "image/png")
CARD_FIELDS = {
    "name": "姓名",
    "gender": "性别",
    "id_number": "身份证号",
    "level": "层次",
    "major": "专业",
}


# Shared ----------------------------------------------------------------------------------


def _instance_station(step: StepContext, session: Session) -> Station:
    """The station the instance belongs to (a college-wide starter names it in the form)."""
    station_id = step.instance().station_id
    if station_id is None:
        raise ServiceError("请在开始时填写函授站代码（station）")
    return must_get(session, Station, station_id, "station")


def _store(
    step: StepContext, session: Session, file_name: str, content: bytes, station_id: int
) -> int:
    """Keep a generated XLSX document of this step's instance; its upload id."""
    return store_generated(
        session,
        file_name,
        content,
        instance_id=step.instance_id,
        actor=step.actor,
        station_id=station_id,
    )


def _major(
    session: Session, level: str, *, code: str | None = None, name: str | None = None
) -> Major | None:
    query = select(Major).where(Major.level == level)
    query = query.where(Major.code == code) if code else query.where(Major.name == name)
    return session.scalar(query)


# 1 新生入学报到 ------------------------------------------------------------------------------


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


@service("open_checkin")
def open_checkin(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """Open the check-in of an admitted candidate of the station: the student record (在籍)
    and the student's account (username = exam number, password = last 6 of the ID number)."""
    session = step.session
    exam_number = data["exam_number"].strip()
    station = _instance_station(step, session)
    admission = session.scalar(select(Admission).where(Admission.exam_number == exam_number))
    if admission is None or admission.station_id != station.id:
        raise ServiceError(f"{station.name}的招生录取库中没有考生号 {exam_number}")
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
    major = _major(session, admission.level, name=admission.major)
    if major is None:
        raise ServiceError(f"专业库中没有{admission.level}专业“{admission.major}”")
    user = create_user(
        session,
        exam_number,
        admission.id_number[-6:],
        admission.name,
        ["student"],
        station.code,
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
        "name": admission.name,
        "gender": admission.gender,
        "id_number": admission.id_number,
        "level": admission.level,
        "major": admission.major,
        "station": station.code,
        "intake_year": admission.intake_year,
    }


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
    major = _major(session, admission.level, name=admission.major)
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
        "roster_upload": _store(
            step,
            session,
            f"班级学籍注册名单_{school_class.code}.xlsx",
            _roster(session, school_class, station),
            station.id,
        ),
        "statistics_upload": _store(
            step,
            session,
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


# 2 新生学籍电子注册 --------------------------------------------------------------------------


def _template_row(session: Session, admission: Admission, station: Station) -> dict[str, Any]:
    """A row of the standard library, from the admissions list and what the record knows."""
    student = session.scalar(select(Student).where(Student.exam_number == admission.exam_number))
    major = _major(session, admission.level, name=admission.major)
    school_class = (
        session.get(SchoolClass, student.class_id) if student and student.class_id else None
    )
    born = None if id_number_problem(admission.id_number) else birth_date(admission.id_number)
    return {
        "KSH": admission.exam_number,
        "XH": student.student_number if student else "",
        "XM": admission.name,
        "XB": admission.gender,
        "CSRQ": student.birth_date if student and student.birth_date else born,
        "SFZH": admission.id_number,
        "ZZMM": student.political_status if student else "",
        "MZ": student.ethnicity if student else "",
        "ZYDM": major.code if major else "",
        "ZYMC": admission.major,
        "CC": rf.national_level(admission.level),
        "XZ": major.years if major else "",
        "XXXS": student.study_mode if student else "函授",
        "RXRQ": student.enrolled_on if student else None,
        "XSH": station.name,
        "BH": school_class.code if school_class else "",
        "YJBYRQ": student.expected_graduation if student else None,
        "BZ": student.remarks if student else "",
    }


@service("registration_template")
def registration_template(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """学院提供的新生学籍注册标准库: the station's admitted candidates of the intake, prefilled
    from the admissions list and the check-in records, as XLSX."""
    session = step.session
    station = _instance_station(step, session)
    year = data["year"]
    admissions = session.scalars(
        select(Admission)
        .outerjoin(Student, Student.exam_number == Admission.exam_number)
        .where(
            Admission.station_id == station.id,
            Admission.intake_year == year,
            or_(Student.id.is_(None), Student.status != "入学资格取消"),
        )
        .order_by(Admission.exam_number)
    ).all()
    rows = [_template_row(session, admission, station) for admission in admissions]
    content = rf.write_rows(rows, f"{station.name}{year}级新生")
    name = f"新生学籍注册标准库_{station.code}_{year}.xlsx"
    return {"upload": _store(step, session, name, content, station.id), "count": len(rows)}


@service("load_registration_rows")
def load_registration_rows(step: StepContext, data: dict[str, Any]) -> list[dict[str, str]]:
    """The rows the station entered: its uploaded XLSX file, or the rows of the form."""
    session = step.session
    if data["source"] != "upload":
        return [rf.normalize_row(row) for row in data["rows"]]
    upload = session.get(Upload, data["upload"])
    if upload is None or upload.station_id != step.instance().station_id:
        raise ServiceError(f"本站没有上传编号为 {data['upload']} 的文件")
    try:
        rows = rf.read_rows(upload.content)
    except rf.RegistrationFileError as exc:
        raise ServiceError(f"{upload.file_name}：{exc}") from None
    if not rows:
        raise ServiceError(f"{upload.file_name} 中没有新生信息")
    return rows


def _record_problems(
    session: Session, index: int, row: dict[str, str], station: Station
) -> list[dict]:
    """What is wrong with a row against the records: station, major and level, the students."""
    found = []
    if row["XSH"] and row["XSH"] not in (station.code, station.name):
        found.append(rf.problem(index, row, "XSH", f"不是{station.name}"))
    level = rf.level_of(row)
    major = _major(session, level, code=row["ZYDM"]) if row["ZYDM"] else None
    if row["ZYDM"] and major is None:
        hint = ""
        if level == "本科" and _major(session, "专升本", code=row["ZYDM"]):
            hint = "；专升本须在备注（BZ）填写原专科院校和专科毕业证书编号"
        found.append(rf.problem(index, row, "ZYDM", f"专业库中没有{level}专业 {row['ZYDM']}{hint}"))
    elif major is not None and row["ZYMC"] != major.name:
        found.append(rf.problem(index, row, "ZYMC", f"专业代码 {major.code} 是“{major.name}”"))
    student = session.scalar(select(Student).where(Student.exam_number == row["KSH"]))
    if student is not None:
        if student.station_id != station.id:
            found.append(rf.problem(index, row, "KSH", "该考生属于其他函授站"))
        elif student.status != "在籍":
            found.append(rf.problem(index, row, "KSH", f"学籍状态为{student.status}，不能注册"))
    if row["XH"] and (student is None or row["XH"] != student.student_number):
        found.append(rf.problem(index, row, "XH", "学号由学院编制，请留空"))
    other = session.scalar(
        select(Student).where(Student.id_number == row["SFZH"], Student.exam_number.is_not(None))
    )
    if row["SFZH"] and other is not None and other.exam_number != row["KSH"]:
        found.append(rf.problem(index, row, "SFZH", f"已是考生 {other.exam_number} 的身份证号"))
    return found


@service("check_registration_rows")
def check_registration_rows(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """自行校验: every row checked by itself and against the records; the rows with their
    problems as an XLSX file to correct and upload again."""
    session = step.session
    station = _instance_station(step, session)
    rows = data["rows"]
    problems = rf.row_problems(rows)
    for index, row in enumerate(rows, 1):
        problems += _record_problems(session, index, row, station)
    problems.sort(key=lambda p: p["row"])
    notes: dict[int, list[str]] = {}
    for p in problems:
        notes.setdefault(p["row"], []).append(f"{p['column']} {p['message']}")
    content = rf.write_rows(
        rows, "校验结果", ["；".join(notes.get(i, [])) for i in range(1, len(rows) + 1)]
    )
    name = f"新生学籍注册信息校验结果_{station.code}_{data['year']}.xlsx"
    return {
        "count": len(rows),
        "problems": problems,
        "file": _store(step, session, name, content, station.id),
    }


AUDITED = {"XM": "name", "XB": "gender", "SFZH": "id_number", "ZYMC": "major"}


@service("audit_registration_rows")
def audit_registration_rows(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """学院按照招生录取库审核: every row must be an admission of this station and intake, with
    the same name, gender, ID number, level and major."""
    session = step.session
    station = _instance_station(step, session)
    problems = []
    for index, row in enumerate(data["rows"], 1):
        admission = session.scalar(select(Admission).where(Admission.exam_number == row["KSH"]))
        if admission is None:
            problems.append(rf.problem(index, row, "KSH", "招生录取库中没有此考生号"))
            continue
        if admission.station_id != station.id or admission.intake_year != data["year"]:
            problems.append(
                rf.problem(index, row, "KSH", f"不是{station.name}{data['year']}年录取的考生")
            )
        for column, field in AUDITED.items():
            if row[column] != getattr(admission, field):
                problems.append(
                    rf.problem(
                        index,
                        row,
                        column,
                        f"与招生录取库不一致（录取库：{getattr(admission, field)}）",
                    )
                )
        if rf.level_of(row) != admission.level:
            problems.append(
                rf.problem(index, row, "CC", f"与招生录取库不一致（录取库：{admission.level}）")
            )
    return {"count": len(data["rows"]), "problems": problems}


@service("registration_feedback")
def registration_feedback(
    step: StepContext,
    data: dict[str, Any],
    source: str,
    reason: str,
    problems: list[dict],
    marked: list[dict],
) -> dict[str, Any]:
    """学籍注册信息反馈函授站: the wrong rows (found by the comparison, or named by the
    reviewer) for the station to correct."""
    names = {row["KSH"]: (index, row) for index, row in enumerate(data["rows"], 1)}
    rows = list(problems)
    for item in marked:
        index, row = names.get(item["KSH"], (0, {"KSH": item["KSH"]}))
        rows.append(rf.problem(index, row, None, item["reason"]))
    return {"source": source, "reason": reason, "rows": rows}


def _enter_record(session: Session, row: dict[str, str], station: Station, year: int) -> Student:
    """录入学院学籍管理信息系统: the row's student record, created or brought up to date."""
    student = session.scalar(select(Student).where(Student.exam_number == row["KSH"]))
    if student is None:
        student = session.scalar(select(Student).where(Student.id_number == row["SFZH"]))
    level = rf.level_of(row)
    major = _major(session, level, code=row["ZYDM"])
    school_class = session.scalar(
        select(SchoolClass).where(
            SchoolClass.code == row["BH"], SchoolClass.station_id == station.id
        )
    )
    now = clock.now()
    if student is None:
        student = Student(station_id=station.id, status="在籍", created_at=now)
    student.exam_number = row["KSH"]
    student.name = row["XM"]
    student.gender = row["XB"]
    student.birth_date = rf.parse_yyyymmdd(row["CSRQ"])
    student.id_number = row["SFZH"]
    student.political_status = row["ZZMM"]
    student.ethnicity = row["MZ"]
    student.level = level
    student.major = row["ZYMC"]
    student.major_id = major.id if major else None
    student.study_mode = row["XXXS"]
    student.intake_year = year
    student.enrolled_on = rf.parse_yyyymmdd(row["RXRQ"])
    student.class_id = school_class.id if school_class else student.class_id
    student.expected_graduation = rf.parse_yyyymmdd(row["YJBYRQ"]) or student.expected_graduation
    student.remarks = row["BZ"] or student.remarks
    student.updated_at = now
    session.add(student)
    session.flush()
    return student


def _batch_students(session: Session, rows: list[dict[str, str]]) -> list[Student]:
    students = []
    for row in rows:
        student = session.scalar(select(Student).where(Student.exam_number == row["KSH"]))
        if student is None:
            raise ServiceError(f"考生 {row['KSH']} 还没有录入学院学籍管理信息系统")
        students.append(student)
    return students


@service("assign_registration_numbers")
def assign_registration_numbers(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """Enter the batch into the records and give every student a 学号 (kept once given)."""
    session = step.session
    station = _instance_station(step, session)
    numbers = []
    for row in data["rows"]:
        student = _enter_record(session, row, station, data["year"])
        numbers.append(
            {"KSH": row["KSH"], "XM": row["XM"], "XH": assign_student_number(session, student)}
        )
    session.flush()
    return {"count": len(numbers), "numbers": numbers}


def _export_row(session: Session, student: Student, station: Station) -> dict[str, Any]:
    major = session.get(Major, student.major_id) if student.major_id else None
    school_class = session.get(SchoolClass, student.class_id) if student.class_id else None
    return {
        "KSH": student.exam_number,
        "XH": student.student_number,
        "XM": student.name,
        "XB": student.gender,
        "CSRQ": student.birth_date,
        "SFZH": student.id_number,
        "ZZMM": student.political_status,
        "MZ": student.ethnicity,
        "ZYDM": major.code if major else "",
        "ZYMC": student.major,
        "CC": rf.national_level(student.level),
        "XZ": major.years if major else "",
        "XXXS": student.study_mode,
        "RXRQ": student.enrolled_on,
        "XSH": station.name,
        "BH": school_class.code if school_class else "",
        "YJBYRQ": student.expected_graduation,
        "BZ": student.remarks,
    }


@service("export_registration")
def export_registration(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """从学院学籍管理系统导出新生学籍信息: the batch from the records, with 学号, as XLSX."""
    session = step.session
    station = _instance_station(step, session)
    rows = [_export_row(session, s, station) for s in _batch_students(session, data["rows"])]
    content = rf.write_rows(rows, f"{station.name}{data['year']}级新生学籍注册")
    name = f"新生学籍注册信息_{station.code}_{data['year']}.xlsx"
    return {"upload": _store(step, session, name, content, station.id), "count": len(rows)}


@service("finish_registration")
def finish_registration(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """新生学籍电子注册完毕: every student of the batch is 已注册 (dated, with the 学号)."""
    session = step.session
    students = _batch_students(session, data["rows"])
    for student in students:
        if not student.student_number:
            raise ServiceError(f"考生 {student.exam_number} 还没有学号")
        set_status(
            session,
            student,
            "已注册",
            actor=step.actor,
            instance_id=step.instance_id,
            kind="新生学籍注册",
            details={"student_number": student.student_number},
        )
    session.flush()
    return {"registered": len(students)}
