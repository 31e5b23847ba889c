"""7 毕业生学历电子注册: pre-graduate lists, the review inputs of the deferral rules (缓验),
and the graduates' records with their certificate numbers.

`year` is the graduation year: the year of 毕业日期 and of the certificate number. 春季
graduates leave in its first half, 秋季 graduates in its second half (deadlines in the diagram).

Certificate number (毕（结）业证书编号, records.md), 18 digits `IIIII T YYYY LL NNNNNN`:
INSTITUTION_CODE, EDUCATION_TYPE 5 (成人高等教育), graduation year, level (05 本科 — 专升本 is
本科 — or 06 专科), and a 6-digit sequence within the college and year from the counter
`certificate_number:<year>`. A number is handed out once and never reused.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select

from xueji.errors import ServiceError
from xueji.instances.context import StepContext
from xueji.models import (
    Major,
    SchoolClass,
    Station,
    Student,
    User,
)
from xueji.process_logic.documents import store_document
from xueji.process_logic.registry import service
from xueji.students import national_files as nf
from xueji.students.grades import failed_course_names
from xueji.students.graduation import defer_graduation, graduation_problem
from xueji.students.records import next_number, set_status

# National code of the college (学校代码); one college runs one xueji, so it is a constant.
INSTITUTION_CODE = "10475"
EDUCATION_TYPE = "5"  # 成人高等教育
LEVEL_CODES = {"本科": "05", "专升本": "05", "专科": "06"}
PHOTO_OK = "已校对"  # set by 6 电子图像校对
# 毕业日期 unless the registrar gives one: January for 春季, July for 秋季 graduates.
GRADUATION_DAY = {"春季": (1, 10), "秋季": (7, 1)}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# 毕业生学历注册标准库 (records.md): the new-student columns plus the graduate's.
REGISTER_COLUMNS = (
    "KSH", "XH", "XM", "XB", "CSRQ", "SFZH", "ZZMM", "MZ", "ZYDM", "ZYMC", "CC", "XZ", "XXXS",
    "RXRQ", "FY", "XSH", "BH", "YJBYRQ", "BZ", "BYRQ", "ZSBH", "BYJL", "XZXM", "ZP",
)  # fmt: skip


def _ymd(day: date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


def _students(session, ids: list[int]) -> list[Student]:
    rows = {s.id: s for s in session.scalars(select(Student).where(Student.id.in_(ids)))}
    missing = [i for i in ids if i not in rows]
    if missing:
        raise ServiceError(f"学籍系统中没有学生 {missing[0]}")
    return [rows[i] for i in ids]


def _register_row(session, student: Student, president: str = "") -> list[str]:
    """One row of the 毕业生学历注册标准库 in REGISTER_COLUMNS order."""
    major = session.get(Major, student.major_id) if student.major_id else None
    school_class = session.get(SchoolClass, student.class_id) if student.class_id else None
    return [
        student.exam_number or "",
        student.student_number or "",
        student.name,
        student.gender,
        _ymd(student.birth_date),
        student.id_number,
        student.political_status or "",
        student.ethnicity or "",
        major.code if major else "",
        student.major,
        "本科" if student.level == "专升本" else student.level,
        major.years if major else "",
        student.study_mode,
        _ymd(student.enrolled_on),
        "",
        student.station.name,
        school_class.code if school_class else "",
        _ymd(student.expected_graduation),
        student.remarks or "",
        _ymd(student.graduated_on),
        student.certificate_number or "",
        student.conclusion or "",
        president if student.certificate_number else "",
        f"{student.id_number}.jpg",
    ]


def _store_xlsx(step: StepContext, session, file_name: str, title: str, header, rows) -> int:
    """Keep a generated spreadsheet as an upload of this instance; its id."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    return store_document(step, file_name, book, step.instance().station_id)


def _file_name(step: StepContext, session, what: str, data: dict[str, Any]) -> str:
    station = session.get(Station, step.instance().station_id)
    return f"{what}_{station.code}_{data['year']}{data['season']}.xlsx"


def _starting_station(step: StepContext, session, data: dict[str, Any]) -> int:
    """The station of an instance in its start step, before its row exists: the starting
    station user's, or the one a college-wide starter named in the start form."""
    user = session.scalar(select(User).where(User.username == step.actor))
    if user is not None and user.station_id is not None:
        return user.station_id
    station = session.scalar(select(Station).where(Station.code == data.get("station")))
    if station is None:
        raise ServiceError("请在发起时填写函授站代码（station）")
    return station.id


@service("graduation_candidates")
def graduation_candidates(step: StepContext, data: dict[str, Any]) -> list[int]:
    """Ids of the station's students who may graduate in the season (students.graduation):
    those expected in it, and those due earlier who have not graduated (缓验 before)."""
    session = step.session
    year, season = int(data["year"]), data["season"]
    registered = session.scalars(
        select(Student)
        .where(
            Student.station_id == _starting_station(step, session, data),
            Student.status == "已注册",
            Student.certificate_number.is_(None),
        )
        .order_by(Student.student_number, Student.id)
    )
    return [s.id for s in registered if graduation_problem(s, year, season) is None]


def _removed(data: dict[str, Any]) -> dict[int, str]:
    """The students the station took off the list, with its reason for each."""
    return {int(r["student"]): r["reason"] for r in data.get("removed") or []}


@service("graduation_check")
def graduation_check(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """The automated checks of the station's list: each student's problem, if any."""
    session = step.session
    station_id = step.instance().station_id
    year, season = int(data["year"]), data["season"]
    removed = _removed(data)
    still_listed = sorted(set(removed) & set(data["students"]))
    if still_listed:
        raise ServiceError(f"已移出名单的学生 {still_listed} 仍在名单中，请从名单中删除")
    # the list as last checked, or else as the college proposed it (students.graduation)
    previous = (data.get("check") or {}).get("students") or data.get("proposed") or []
    unexplained = sorted(set(previous) - set(data["students"]) - set(removed))
    if unexplained:
        raise ServiceError(f"从名单中删除的学生 {unexplained} 须在“移出名单的学生”中注明原因")
    found = session.scalars(select(Student).where(Student.id.in_(data["students"])))
    rows = {s.id: s for s in found}
    problems, deferred_before = [], []
    for student_id in data["students"]:
        student = rows.get(student_id)
        if student is None or student.station_id != station_id:
            # another station's record is not shown, not even whether it exists
            problems.append({"student": student_id, "name": "", "problem": "不是本函授站的学生"})
        elif problem := graduation_problem(student, year, season):
            problems.append({"student": student_id, "name": student.name, "problem": problem})
        elif student.deferred_season:
            deferred_before.append(
                {
                    "student": student_id,
                    "name": student.name,
                    "season": student.deferred_season,
                    "reason": student.deferral_reason,
                }
            )
    mine = [rows[i] for i in data["students"] if i in rows and rows[i].station_id == station_id]
    upload = _store_xlsx(
        step,
        session,
        _file_name(step, session, "毕业生学历注册标准库", data),
        "毕业生学历注册标准库",
        REGISTER_COLUMNS,
        [_register_row(session, s) for s in mine],
    )
    return {
        "count": len(data["students"]),
        "students": list(data["students"]),
        "problems": problems,
        "deferred_before": deferred_before,
        "upload": upload,
    }


def _defer(
    step: StepContext, data: dict[str, Any], student: Student, stage: str, reason: str
) -> dict[str, Any]:
    return defer_graduation(
        step.session,
        student,
        year=int(data["year"]),
        season=data["season"],
        stage=stage,
        reason=reason,
        actor=step.actor,
        instance_id=step.instance_id,
    )


@service("graduation_stamp_roster")
def graduation_stamp_roster(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """预毕业生验印名单 ordered by 年级, 层次, 专业, 函授站, for the grade staff to sign."""
    session = step.session
    students = sorted(
        _students(session, data["students"]),
        key=lambda s: (s.intake_year, s.level, s.major, s.station.code, s.student_number or ""),
    )
    header = ("年级", "层次", "专业", "函授站", "学号", "姓名", "身份证号", "验印")
    rows = [
        [s.intake_year, s.level, s.major, s.station.name, s.student_number, s.name, s.id_number, ""]
        for s in students
    ]
    upload = _store_xlsx(
        step, session, _file_name(step, session, "预毕业生验印名单", data), "验印名单", header, rows
    )
    return {"upload": upload, "count": len(rows)}


@service("graduation_review_inputs")
def graduation_review_inputs(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """The inputs of the deferral rules (graduation_deferral.dmn) from the student's record."""
    session = step.session
    [student] = _students(session, [data["student"]])
    failed = failed_course_names(session, student.id)
    return {
        "failed_courses": len(failed),
        "failed_course_names": failed,
        "photo_status": student.photo_status,
        "photo_ok": student.photo_status == PHOTO_OK,
    }


@service("graduation_confirm_review")
def graduation_confirm_review(step: StepContext, data: dict[str, Any], stage: str) -> None:
    """Refuse a reviewer's 通过 where the deferral rules defer the student at this stage."""
    if data["outcome"] == "approved" and data.get("deferral_stage") == stage:
        raise ServiceError(
            f"按缓验规则该生{stage}未通过（{data.get('deferral_reason')}），请选择未通过并填写原因"
        )


@service("graduation_register_list")
def graduation_register_list(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """毕业生学历电子注册名单: the reviewed students not deferred, as XLSX, and the deferrals,
    each written on the record (缓验, with the season and reason). A student the station took
    off the list who could have graduated this season is deferred too; one who could not
    (not registered, due later) is only off the list."""
    session = step.session
    year, season = int(data["year"]), data["season"]
    reviews = {r["student"]: r for r in data.get("reviews") or [] if r}
    graduates: list[int] = []
    deferrals: list[dict[str, Any]] = []
    station_id = step.instance().station_id
    removed = []
    for student_id, reason in _removed(data).items():
        student = session.get(Student, student_id)
        if student is None or student.station_id != station_id:
            continue
        due = graduation_problem(student, year, season) is None
        removed.append({"student": student_id, "reason": reason, "deferred": due})
        if due:
            _defer(step, data, student, "函授站自行校验", reason)
            deferrals.append({"student": student_id, "stage": "函授站自行校验", "reason": reason})
    for student_id in data["students"]:
        review = reviews.get(student_id)
        if review is None:  # the student's review ended without a result (terminated)
            deferrals.append({"student": student_id, "stage": "审核未完成", "reason": "未完成审核"})
        elif review["deferred"]:
            deferrals.append(
                {"student": student_id, "stage": review["stage"], "reason": review["reason"]}
            )
        else:
            graduates.append(student_id)
    for deferral in deferrals:
        if deferral["stage"] != "函授站自行校验":
            [student] = _students(session, [deferral["student"]])
            _defer(step, data, student, deferral["stage"], deferral["reason"])
    rows = [_register_row(session, s) for s in _students(session, graduates)]
    file_name = _file_name(step, session, "毕业生学历电子注册名单", data)
    upload = _store_xlsx(step, session, file_name, "毕业生学历注册", REGISTER_COLUMNS, rows)
    dbf_file = nf.to_dbf(
        REGISTER_COLUMNS, [dict(zip(REGISTER_COLUMNS, r, strict=True)) for r in rows]
    )
    dbf_upload = store_document(
        step,
        file_name.removesuffix(".xlsx") + ".dbf",
        dbf_file,
        step.instance().station_id,
        content_type=nf.DBF_TYPE,
    )
    return {
        "upload": upload,
        "dbf_upload": dbf_upload,
        "graduates": graduates,
        "deferrals": deferrals,
        "removed": removed,
    }


@service("graduation_province_deferral")
def graduation_province_deferral(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """The students the province did not pass are deferred (缓验); the others stay graduates."""
    register = data["register"]
    reasons = {r["student"]: r["reason"] for r in data["rejected"]}
    unknown = sorted(set(reasons) - set(register["graduates"]))
    if unknown:
        raise ServiceError(f"学生 {unknown} 不在毕业生学历电子注册名单中")
    for student in _students(step.session, sorted(reasons)):
        _defer(step, data, student, "省教育厅审核", reasons[student.id])
    return {
        **register,
        "graduates": [s for s in register["graduates"] if s not in reasons],
        "deferrals": register["deferrals"]
        + [{"student": s, "stage": "省教育厅审核", "reason": r} for s, r in reasons.items()],
    }


def certificate_number(session, year: int, level: str) -> str:
    """The next certificate number of the year; each is handed out once."""
    sequence = next_number(session, f"certificate_number:{year}")
    if sequence > 999_999:
        raise ServiceError(f"{year} 年的毕业证书编号已用完")
    return f"{INSTITUTION_CODE}{EDUCATION_TYPE}{year:04d}{LEVEL_CODES[level]}{sequence:06d}"


def certificate_problem(number: str, graduated_on: date | None, level: str) -> str | None:
    """Why a certificate number (18 digits) is not this college's for a graduate of this level
    and graduation date, or None."""
    if not (len(number) == 18 and number.isdigit()):
        return "证书编号应为 18 位数字"
    if number[:6] != INSTITUTION_CODE + EDUCATION_TYPE:
        return f"证书编号应以本院代码和成人高等教育类别 {INSTITUTION_CODE}{EDUCATION_TYPE} 开头"
    if graduated_on is not None and number[6:10] != f"{graduated_on.year:04d}":
        return f"证书编号第 7–10 位应为毕业年份 {graduated_on.year}"
    if level in LEVEL_CODES and number[10:12] != LEVEL_CODES[level]:
        return f"证书编号第 11–12 位应为{level}的层次代码 {LEVEL_CODES[level]}"
    return None


def _graduated_on(data: dict[str, Any]) -> date:
    year = int(data["year"])
    if not data.get("graduated_on"):
        return date(year, *GRADUATION_DAY[data["season"]])
    day = date.fromisoformat(data["graduated_on"])
    if day.year != year:
        raise ServiceError(f"毕业日期 {day} 不在毕业年份 {year} 年内")
    return day


@service("graduation_graduate")
def graduation_graduate(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """毕业: status, 毕业日期, 毕业结论 and a new certificate number for each graduate."""
    session = step.session
    graduated_on = _graduated_on(data)
    graduated, skipped = [], []
    for student in _students(session, data["register"]["graduates"]):
        if student.status != "已注册":  # e.g. 退学 by a status change since the review
            skipped.append({"student": student.id, "reason": f"学籍状态为{student.status}"})
            continue
        student.graduated_on = graduated_on
        student.conclusion = "毕业"
        student.deferred_season = student.deferral_reason = None
        student.certificate_number = certificate_number(session, graduated_on.year, student.level)
        set_status(
            session,
            student,
            "毕业",
            actor=step.actor,
            instance_id=step.instance_id,
            kind="毕业",
            effective_on=graduated_on,
            details={"certificate_number": student.certificate_number},
        )
        graduated.append({"student": student.id, "certificate_number": student.certificate_number})
    session.flush()
    # 学生离校: 3 在校生日常学籍管理 archives the status card of each graduate.
    for item in graduated:
        step.send_message(
            "学生离校",
            {"student": item["student"]},
            {"reason": "毕业", "left_on": graduated_on.isoformat()},
        )
    return {"graduated_on": graduated_on.isoformat(), "students": graduated, "skipped": skipped}


@service("graduation_certificate_list")
def graduation_certificate_list(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """毕业证书发放清单 for 学工办: the graduates with their certificate numbers, as XLSX."""
    session = step.session
    ids = [g["student"] for g in data["graduated"]["students"]]
    rows = [_register_row(session, s, data["president"]) for s in _students(session, ids)]
    upload = _store_xlsx(
        step,
        session,
        _file_name(step, session, "毕业证书发放清单", data),
        "毕业证书",
        REGISTER_COLUMNS,
        rows,
    )
    return {"upload": upload, "count": len(rows)}
