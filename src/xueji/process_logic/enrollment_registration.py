"""2 新生学籍电子注册: a station's intake in the national registration layout is read, checked,
compared with the admissions list (招生录取库) and audited, entered into the records with a 学号
for every student, exported for the national registration site, and marked 已注册.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.errors import ServiceError
from xueji.instances.context import StepContext
from xueji.models import (
    Admission,
    SchoolClass,
    Station,
    Student,
    Upload,
)
from xueji.process_logic.documents import store_document, upload_content
from xueji.process_logic.registry import service
from xueji.students import national_files as nf
from xueji.students import registration_file as rf
from xueji.students import row_checks as rc
from xueji.students.id_numbers import birth_date, id_number_problem
from xueji.students.numbers import assign_student_number
from xueji.students.records import find_major, set_status


def _template_row(session: Session, admission: Admission, station: Station) -> dict[str, Any]:
    """A row of the standard library, from the admissions list and what the record knows."""
    student = session.scalar(select(Student).where(Student.exam_number == admission.exam_number))
    major = find_major(session, admission.level, name=admission.major)
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
    station = step.station()
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
    return {"upload": store_document(step, name, content, station.id), "count": len(rows)}


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
        rows = rf.read_rows(upload_content(step, upload))
    except rf.RegistrationFileError as exc:
        raise ServiceError(f"{upload.file_name}：{exc}") from None
    if not rows:
        raise ServiceError(f"{upload.file_name} 中没有新生信息")
    return rows


def _record_problems(
    session: Session,
    refs: rc.References,
    index: int,
    row: dict[str, str],
    station: Station,
) -> list[dict]:
    """What is wrong with a row against the records: station, major and level, the students."""
    found = []
    if row["XSH"] and row["XSH"] not in (station.code, station.name):
        found.append(rf.problem(index, row, "XSH", f"不是{station.name}"))
    found += refs.major_problems(index, row, rf.level_of(row))
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
    station = step.station()
    rows = data["rows"]
    problems = rf.row_problems(rows)
    refs = rc.References(session)
    for index, row in enumerate(rows, 1):
        problems += _record_problems(session, refs, index, row, station)
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
        "file": store_document(step, name, content, station.id),
    }


@service("audit_registration_rows")
def audit_registration_rows(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """学院按照招生录取库审核: every row must be an admission of this station and intake, with
    the same name, gender, ID number, level and major."""
    session = step.session
    station = step.station()
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
        problems += rc.admission_problems(index, row, admission, rf.level_of(row))
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
    major = find_major(session, level, code=row["ZYDM"])
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
    station = step.station()
    numbers = []
    for row in data["rows"]:
        student = _enter_record(session, row, station, data["year"])
        numbers.append(
            {"KSH": row["KSH"], "XM": row["XM"], "XH": assign_student_number(session, student)}
        )
    session.flush()
    return {"count": len(numbers), "numbers": numbers}


@service("export_registration")
def export_registration(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """从学院学籍管理系统导出新生学籍信息: the batch from the records, with 学号, as XLSX."""
    session = step.session
    station = step.station()
    rows = [nf.new_student_row(session, s) for s in _batch_students(session, data["rows"])]
    content = rf.write_rows(rows, f"{station.name}{data['year']}级新生学籍注册")
    name = f"新生学籍注册信息_{station.code}_{data['year']}"
    dbf_file = nf.to_dbf(list(nf.NEW_STUDENT_COLUMNS), rows)
    return {
        "upload": store_document(step, f"{name}.xlsx", content, station.id),
        "dbf_upload": store_document(
            step, f"{name}.dbf", dbf_file, station.id, content_type=nf.DBF_TYPE
        ),
        "count": len(rows),
    }


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
