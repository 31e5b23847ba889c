"""The files the college and the stations import: their columns (which are also the empty
templates'), who may import them, what each row is checked against in the records, and how the
valid rows are written — in bulk, one statement per table, inside the caller's transaction.

The checks of a row by itself are xueji.students.row_checks, the same the process steps use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.principal import Principal
from xueji.auth.roles import Role
from xueji.models import Admission, Grade, StatusChange, Student
from xueji.process_logic import graduation_registration as graduation
from xueji.students import grade_sheet, grades
from xueji.students import registration_file as rf
from xueji.students import row_checks as rc
from xueji.students.row_checks import Column, problem

Row = dict[str, str]
# (sheet line, row) pairs
Lines = Sequence[tuple[int, Row]]


@dataclass
class Context:
    """What one import's checks and writes share: the caller and the records' references."""

    session: Session
    principal: Principal
    refs: rc.References
    # Filled by the checks for the write (e.g. a row's student id), by sheet line.
    found: dict[int, Any] = field(default_factory=dict)

    def own_station_problems(self, line: int, row: Row, column: str = "XSH") -> list[dict]:
        """A station imports only for itself."""
        station = self.refs.station(row.get(column, ""))
        if self.principal.sees_all_stations or station is None:
            return []
        if station.id != self.principal.station_id:
            return [problem(line, row, column, "只能导入本函授站的数据")]
        return []


@dataclass(frozen=True)
class Kind:
    key: str
    title: str  # the template's Chinese name, also its file name
    columns: tuple[Column, ...]
    unique: tuple[str, ...]  # columns (or col+col) unique within the file
    roles: tuple[str, ...]
    check: Callable[[Context, Lines], list[dict]]
    write: Callable[[Context, Lines], int]


def _column_set(session: Session, column) -> set[str]:
    return {value for value in session.scalars(select(column)) if value}


# --- 招生录取库 -------------------------------------------------------------------------

ADMISSION_COLUMNS = (
    Column("KSH", "考生号", required=True, max_length=18),
    Column("XM", "姓名", required=True, max_length=40),
    Column("XB", "性别", required=True, codes=rf.GENDERS),
    Column("SFZH", "身份证号", required=True, kind="id_number"),
    Column("CC", "层次", required=True, codes=rf.LEVELS),
    Column("ZYDM", "专业代码", max_length=20),
    Column("ZYMC", "专业名称", required=True, max_length=80),
    Column("XSH", "函授站", required=True),
    Column("NJ", "年级", required=True, kind="year"),
)


def _check_admissions(ctx: Context, lines: Lines) -> list[dict]:
    known_numbers = _column_set(ctx.session, Admission.exam_number)
    known_ids = _column_set(ctx.session, Admission.id_number)
    found = []
    for line, row in lines:
        found += ctx.refs.station_problems(line, row)
        found += ctx.refs.major_problems(line, row, row["CC"])
        if row["KSH"] in known_numbers:
            found.append(problem(line, row, "KSH", "招生录取库中已有此考生号"))
        if row["SFZH"] in known_ids:
            found.append(problem(line, row, "SFZH", "招生录取库中已有此身份证号"))
    return found


def _write_admissions(ctx: Context, lines: Lines) -> int:
    values = [
        {
            "exam_number": row["KSH"],
            "name": row["XM"],
            "gender": row["XB"],
            "id_number": row["SFZH"],
            "level": row["CC"],
            "major": row["ZYMC"],
            "station_id": ctx.refs.stations[row["XSH"]].id,
            "intake_year": int(row["NJ"]),
        }
        for _, row in lines
    ]
    if values:
        ctx.session.execute(Admission.__table__.insert(), values)
    return len(values)


# --- 新生学籍注册标准库 -----------------------------------------------------------------


def _check_registration(ctx: Context, lines: Lines) -> list[dict]:
    session = ctx.session
    admissions = {a.exam_number: a for a in session.scalars(select(Admission))}
    students = _column_set(session, Student.exam_number)
    id_numbers = _column_set(session, Student.id_number)
    numbers = _column_set(session, Student.student_number)
    found = []
    for line, row in lines:
        found += ctx.refs.station_problems(line, row)
        found += ctx.own_station_problems(line, row)
        level = rf.level_of(row)
        found += ctx.refs.major_problems(line, row, level)
        admission = admissions.get(row["KSH"])
        if admission is None:
            found.append(problem(line, row, "KSH", "招生录取库中没有此考生号"))
        else:
            found += rc.admission_problems(line, row, admission, level)
            station = ctx.refs.station(row["XSH"])
            if station is not None and admission.station_id != station.id:
                found.append(problem(line, row, "XSH", "与招生录取库中的函授站不一致"))
        if row["KSH"] in students:
            found.append(problem(line, row, "KSH", "该考生已在学籍库中"))
        if row["SFZH"] in id_numbers:
            found.append(problem(line, row, "SFZH", "学籍库中已有此身份证号"))
        if row["XH"] and not ctx.principal.sees_all_stations:
            found.append(problem(line, row, "XH", "学号由学院编制，请留空"))
        elif row["XH"] and row["XH"] in numbers:
            found.append(problem(line, row, "XH", "学籍库中已有此学号"))
    return found


def _write_registration(ctx: Context, lines: Lines) -> int:
    now = clock.now()
    values = []
    for _, row in lines:
        level = rf.level_of(row)
        major = ctx.refs.major(level, code=row["ZYDM"])
        enrolled = rc.parse_yyyymmdd(row["RXRQ"])
        values.append(
            {
                "station_id": ctx.refs.stations[row["XSH"]].id,
                "exam_number": row["KSH"],
                "student_number": row["XH"] or None,
                "name": row["XM"],
                "gender": row["XB"],
                "birth_date": rc.parse_yyyymmdd(row["CSRQ"]),
                "id_number": row["SFZH"],
                "political_status": row["ZZMM"],
                "ethnicity": row["MZ"],
                "level": level,
                "major": row["ZYMC"],
                "major_id": major.id if major else None,
                "study_mode": row["XXXS"],
                "intake_year": enrolled.year if enrolled else now.year,
                "enrolled_on": enrolled,
                "expected_graduation": rc.parse_yyyymmdd(row["YJBYRQ"]),
                "remarks": row["BZ"] or None,
                "photo_status": "未采集",
                "status": "已注册" if row["XH"] else "在籍",
                "created_at": now,
            }
        )
    if values:
        ctx.session.execute(Student.__table__.insert(), values)
    return len(values)


# --- 毕业生学历注册标准库 ---------------------------------------------------------------

# The whole 毕业生学历注册标准库 as process 7 writes it (the new-student columns, then the
# graduate's), so that its file comes back in; only the graduate's key columns are required.
GRADUATE_COLUMNS = tuple(
    dataclasses.replace(c, required=c.key in ("XH", "XM", "SFZH")) for c in rf.SPEC
) + (
    Column("BYRQ", "毕业日期", required=True, kind="date"),
    Column("ZSBH", "毕（结）业证书编号", required=True, kind="certificate"),
    Column("BYJL", "毕结业结论", required=True, codes=("毕业", "结业", "肄业")),
    Column("XZXM", "校（院）长姓名", max_length=40),
    Column("ZP", "照片", max_length=60),
)
assert tuple(c.key for c in GRADUATE_COLUMNS) == graduation.REGISTER_COLUMNS
GRADUATING = ("已注册",)


def _check_graduates(ctx: Context, lines: Lines) -> list[dict]:
    session = ctx.session
    wanted = {row["XH"] for _, row in lines if row["XH"]}
    students = {
        s.student_number: s
        for s in session.scalars(select(Student).where(Student.student_number.is_not(None)))
        if s.student_number in wanted
    }
    certificates = {
        number: student_id
        for number, student_id in session.execute(
            select(Student.certificate_number, Student.id).where(
                Student.certificate_number.is_not(None)
            )
        )
    }
    found = []
    for line, row in lines:
        student = students.get(row["XH"])
        if student is None:
            found.append(problem(line, row, "XH", "学籍库中没有此学号"))
            continue
        if not ctx.principal.sees_all_stations and student.station_id != ctx.principal.station_id:
            found.append(problem(line, row, "XH", "不是本函授站的学生"))
            continue
        ctx.found[line] = (student.id, student.status)
        if row["XM"] and row["XM"] != student.name:
            found.append(problem(line, row, "XM", f"与学籍库不一致（学籍库：{student.name}）"))
        if row["SFZH"] and row["SFZH"] != student.id_number:
            found.append(problem(line, row, "SFZH", "与学籍库中的身份证号不一致"))
        if student.status not in GRADUATING:
            found.append(problem(line, row, "XH", f"学籍状态为{student.status}，不能办理毕业"))
        graduated_on = rc.parse_yyyymmdd(row["BYRQ"])
        if reason := graduation.certificate_problem(row["ZSBH"], graduated_on, student.level):
            found.append(problem(line, row, "ZSBH", reason))
        holder = certificates.get(row["ZSBH"])
        if holder is not None and holder != student.id:
            found.append(problem(line, row, "ZSBH", "此证书编号已被其他学生使用"))
    return found


def _write_graduates(ctx: Context, lines: Lines) -> int:
    now = clock.now()
    session = ctx.session
    before = dict(ctx.found[line] for line, _ in lines)  # student id → status
    values = [
        {
            "id": ctx.found[line][0],
            "graduated_on": rc.parse_yyyymmdd(row["BYRQ"]),
            "certificate_number": row["ZSBH"],
            "conclusion": row["BYJL"],
            "status": row["BYJL"],
            "updated_at": now,
        }
        for line, row in lines
    ]
    if not values:
        return 0
    session.execute(update(Student), values)
    session.execute(
        insert(StatusChange),
        [
            {
                "student_id": v["id"],
                "from_status": before.get(v["id"]),
                "to_status": v["status"],
                "kind": "毕业生学历注册",
                "effective_on": v["graduated_on"],
                "changed_by": ctx.principal.username,
                "changed_at": now,
            }
            for v in values
        ],
    )
    return len(values)


# --- 成绩登记表 -------------------------------------------------------------------------


def _check_grades(ctx: Context, lines: Lines) -> list[dict]:
    station_id = None if ctx.principal.sees_all_stations else ctx.principal.station_id
    return grade_sheet.record_problems(ctx.session, ctx.refs, lines, station_id, ctx.found)


def _write_grades(ctx: Context, lines: Lines) -> int:
    now = clock.now()
    official = ctx.principal.sees_all_stations  # a station's entries wait for the college
    values = []
    for line, row in lines:
        student_id, course_id, attempt = ctx.found[line]
        score = float(row["CJ"]) if row["CJ"] else None
        values.append(
            {
                "student_id": student_id,
                "course_id": course_id,
                "term": row["XQ"],
                "attempt": attempt,
                "kind": row["KSLX"],
                "score": score,
                "passed": grades.passed(row["KSLX"], score),
                "official": official,
                "recorded_by": ctx.principal.username,
                "recorded_at": now,
            }
        )
    if values:
        ctx.session.execute(Grade.__table__.insert(), values)
    return len(values)


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind(
            "admissions",
            "招生录取库",
            ADMISSION_COLUMNS,
            ("KSH", "SFZH"),
            (Role.REGISTRAR,),
            _check_admissions,
            _write_admissions,
        ),
        Kind(
            "registration",
            "新生学籍注册标准库",
            rf.SPEC,
            rf.UNIQUE,
            (Role.REGISTRAR, Role.STATION),
            _check_registration,
            _write_registration,
        ),
        Kind(
            "graduates",
            "毕业生学历注册标准库",
            GRADUATE_COLUMNS,
            ("XH", "SFZH", "ZSBH"),
            (Role.REGISTRAR,),
            _check_graduates,
            _write_graduates,
        ),
        Kind(
            "grades",
            "成绩登记表",
            grade_sheet.COLUMNS,
            grade_sheet.UNIQUE,
            (Role.GRADES, Role.REGISTRAR, Role.STATION),
            _check_grades,
            _write_grades,
        ),
    )
}
