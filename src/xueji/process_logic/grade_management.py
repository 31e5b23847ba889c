"""8 成绩管理: the term's courses, the generated grade sheets, exemptions, the station's scores
checked and entered as official grades, and the graduates' transcripts.

Attempts count per student and course across terms: the first result is attempt 0, each later
one (补考, 清考) the previous attempt + 1. Which result stands and what a failed course is come
from xueji.students.grades (official grades only); an unofficial row of the same term and
attempt (a station's provisional entry) is made official in place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.db.rows import must_get
from xueji.errors import ServiceError
from xueji.instances.context import StepContext
from xueji.models import Course, Grade, ProcessInstance, Station, Student, Upload
from xueji.process_logic.documents import store_document, upload_content
from xueji.process_logic.registry import service
from xueji.students import grade_sheet, sheet_reading
from xueji.students import row_checks as rc
from xueji.students.grades import (
    MAKEUPS,
    PASS_MARK,
    entry_problem,
    failed_courses,
    is_exemption,
    is_failed,
    next_attempt,
    official_grades,
    passed,
    standing_grades,
    term_order,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STUDYING = ("在籍", "已注册", "留级")
MAX_ERRORS = 20


# Shared look-ups ---------------------------------------------------------------------------


def _term_courses(step: StepContext, session: Session, data: dict[str, Any]) -> dict[str, Course]:
    """The courses of the instance's teaching plan, by code, in plan order. A student's child
    instance reads its caller's plan (batch children inherit plain values, not lists)."""
    plan = data.get("courses")
    if not plan:
        instance = session.get(ProcessInstance, step.instance_id)
        parent = session.get(ProcessInstance, instance.parent_id) if instance else None
        plan = parent.variables.get("courses") if parent else None
    codes = [c["code"] for c in plan or []]
    if not codes:
        raise ServiceError("本流程没有教学计划课程")
    found = {c.code: c for c in session.scalars(select(Course).where(Course.code.in_(codes)))}
    missing = [code for code in codes if code not in found]
    if missing:
        raise ServiceError(f"课程库中没有课程 {', '.join(missing)}")
    return {code: found[code] for code in codes}


def _students(session: Session, ids: Iterable[int]) -> list[Student]:
    ids = list(ids)
    rows = {s.id: s for s in session.scalars(select(Student).where(Student.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def _shown(grade: Grade) -> str | float:
    if is_exemption(grade):
        return grade.kind
    score = grade.score if grade.score is not None else ""
    return int(score) if isinstance(score, float) and score.is_integer() else score


def _term_window(term: str) -> tuple[date, date]:
    """'2027-春' → [2027-03-01, 2027-09-01); '2027-秋' → [2027-09-01, 2028-03-01)."""
    year, season = int(term[:4]), term[5:]
    if season == "春":
        return date(year, 3, 1), date(year, 9, 1)
    return date(year, 9, 1), date(year + 1, 3, 1)


def _graduates(students: list[Student], term: str) -> list[Student]:
    """Students whose expected graduation date (YJBYRQ) falls in this term."""
    start, end = _term_window(term)
    return [s for s in students if s.expected_graduation and start <= s.expected_graduation < end]


@dataclass(frozen=True)
class Entry:
    student_id: int
    course: Course
    score: float | None
    attempt: int
    kind: str


def _write(step: StepContext, session: Session, entry: Entry, term: str) -> Grade:
    """Record one official grade; a provisional row of the same term and attempt is reused."""
    grade = session.scalar(
        select(Grade).where(
            Grade.student_id == entry.student_id,
            Grade.course_id == entry.course.id,
            Grade.term == term,
            Grade.attempt == entry.attempt,
        )
    )
    if grade is None:
        grade = Grade(
            student_id=entry.student_id, course_id=entry.course.id, term=term, attempt=entry.attempt
        )
        session.add(grade)
    grade.kind = entry.kind
    grade.score = entry.score
    grade.passed = passed(entry.kind, entry.score)
    grade.official = True
    grade.instance_id = step.instance_id
    grade.recorded_by = step.actor
    grade.recorded_at = clock.now()
    return grade


def _refuse(errors: list[str]) -> None:
    if errors:
        more = f"（另有 {len(errors) - MAX_ERRORS} 处）" if len(errors) > MAX_ERRORS else ""
        raise ServiceError("；".join(errors[:MAX_ERRORS]) + more)


# 1 将教学计划录入学院管理信息系统 ----------------------------------------------------------


@service("enter_teaching_plan")
def enter_teaching_plan(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """Ensure a Course row for every course of the term's plan (codes are the college's)."""
    session = step.session
    term, year = data["term"], data["year"]
    if not term.startswith(str(year)):
        raise ServiceError(f"学期 {term} 不在 {year} 年")
    codes = [c["code"] for c in data["courses"]]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    _refuse([f"课程代码 {code} 重复" for code in duplicates])
    existing = {c.code: c for c in session.scalars(select(Course).where(Course.code.in_(codes)))}
    errors = []
    for item in data["courses"]:
        course = existing.get(item["code"])
        if course is None:
            session.add(
                Course(code=item["code"], name=item["name"], credits=item.get("credits", 0))
            )
        elif course.name != item["name"]:
            errors.append(f"课程代码 {course.code} 在课程库中是《{course.name}》")
    _refuse(errors)
    session.flush()
    return {"courses": codes}


# 2 空白学期成绩单、空白补考成绩单、毕业班级成绩总表 -----------------------------------------


@service("grade_roster")
def grade_roster(step: StepContext, data: dict[str, Any]) -> list[int]:
    """Ids of the station's studying students this instance is for (makeups: those who still
    fail one of its courses)."""
    session = step.session
    instance = step.instance()
    query = select(Student).where(
        Student.station_id == instance.station_id, Student.status.in_(STUDYING)
    )
    if data.get("major"):
        query = query.where(Student.major == data["major"])
    if data.get("intake_year"):
        query = query.where(Student.intake_year == data["intake_year"])
    order = (Student.student_number.is_(None), Student.student_number, Student.id)
    students = list(session.scalars(query.order_by(*order)))
    if data.get("kind") in MAKEUPS:
        course_ids = [c.id for c in _term_courses(step, session, data).values()]
        failed = failed_courses(session, [s.id for s in students], course_ids)
        students = [s for s in students if failed[s.id]]
    return [s.id for s in students]


STUDENT_COLUMNS = ["序号", "学生编号", "学号", "姓名", "专业"]


def _student_cells(index: int, student: Student) -> list[Any]:
    return [index, student.id, student.student_number or "", student.name, student.major]


def _term_sheet(station: Station, term: str, courses, students) -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for course in courses:
        sheet = workbook.create_sheet(course.code)
        sheet.append([f"{station.name} {term} 学期成绩单 《{course.name}》（{course.code}）"])
        sheet.append([*STUDENT_COLUMNS, "成绩", "备注"])
        for index, student in enumerate(students, 1):
            sheet.append(_student_cells(index, student))
    return workbook


def _makeup_sheet(session: Session, station: Station, term: str, students) -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    by_id = {s.id: s for s in students}
    failed: dict[int, list[Grade]] = defaultdict(list)  # by course id, in roster order
    for grades in failed_courses(session, list(by_id)).values():
        for grade in grades:
            failed[grade.course_id].append(grade)
    for course_id, grades in sorted(failed.items()):
        course = must_get(session, Course, course_id, "course")
        sheet = workbook.create_sheet(course.code)
        sheet.append([f"{station.name} {term} 补考成绩单 《{course.name}》（{course.code}）"])
        sheet.append([*STUDENT_COLUMNS, "原成绩", "补考成绩", "备注"])
        for index, grade in enumerate(grades, 1):
            sheet.append([*_student_cells(index, by_id[grade.student_id]), _shown(grade)])
    if not workbook.worksheets:
        sheet = workbook.create_sheet("补考")
        sheet.append([f"{station.name} {term} 补考成绩单"])
        sheet.append(["本学期无补考学生"])
    return workbook


def _graduation_summary(
    session: Session, station: Station, term: str, courses, graduates
) -> Workbook:
    standing = standing_grades(session, [s.id for s in graduates])
    taken = [cid for by_course in standing.values() for cid in by_course]
    course_ids = list(dict.fromkeys([c.id for c in courses] + taken))
    columns = [must_get(session, Course, cid, "course") for cid in course_ids]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "成绩总表"
    sheet.append([f"{station.name} {term} 毕业班级成绩总表"])
    sheet.append([*STUDENT_COLUMNS, *[c.name for c in columns], "不及格门数"])
    for index, student in enumerate(graduates, 1):
        finals = [standing[student.id].get(c.id) for c in columns]
        cells = [_shown(grade) if grade else "" for grade in finals]
        failing = sum(1 for grade in finals if grade and is_failed(grade))
        sheet.append([*_student_cells(index, student), *cells, failing])
    return workbook


@service("print_blank_grade_sheets")
def print_blank_grade_sheets(step: StepContext, data: dict[str, Any]) -> dict[str, int]:
    """The three sheets sent to the station at the start of term, as generated XLSX uploads."""
    session = step.session
    instance = step.instance()
    station, term = instance.station, data["term"]
    courses = list(_term_courses(step, session, data).values())
    students = _students(session, data.get("students") or [])
    return {
        "term_sheet": store_document(
            step,
            f"空白学期成绩单_{station.code}_{term}.xlsx",
            _term_sheet(station, term, courses, students),
            station.id,
        ),
        "makeup_sheet": store_document(
            step,
            f"空白补考成绩单_{station.code}_{term}.xlsx",
            _makeup_sheet(session, station, term, students),
            station.id,
        ),
        "graduation_summary": store_document(
            step,
            f"毕业班级成绩总表_{station.code}_{term}.xlsx",
            _graduation_summary(session, station, term, courses, _graduates(students, term)),
            station.id,
        ),
    }


# 3 免修、免试申请 (per student) ------------------------------------------------------------


@service("check_exemption_application")
def check_exemption_application(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """Refuse an application for courses outside the term's plan, or already passed."""
    session = step.session
    instance = step.instance()
    if instance.parent_id is None or instance.student_id is None:
        raise ServiceError("免修、免试申请随本学期成绩管理流程办理")
    courses = _term_courses(step, session, data)
    standing = standing_grades(session, [instance.student_id])[instance.student_id]
    errors, seen = [], set()
    for item in data["items"]:
        course = courses.get(item["course"])
        if course is None:
            errors.append(f"课程 {item['course']} 不是本学期（{data['term']}）的课程")
        elif course.code in seen:
            errors.append(f"《{course.name}》重复申请")
        elif course.id in standing and not is_failed(standing[course.id]):
            errors.append(f"《{course.name}》已及格，不需申请")
        seen.add(item["course"])
    _refuse(errors)
    return {"courses": sorted(seen)}


@service("record_exemptions")
def record_exemptions(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """Approved 免修/免试 become official passed grades of the term."""
    session = step.session
    instance = step.instance()
    if instance.student_id is None:
        raise ServiceError("免修、免试申请属于一名学生的流程")
    student_id = instance.student_id
    courses = _term_courses(step, session, data)
    official = official_grades(session, [student_id])
    exempted = []
    for item in data["items"]:
        course = courses[item["course"]]
        previous = official.get((student_id, course.id), [])
        _write(
            step,
            session,
            Entry(student_id, course, None, next_attempt(previous), item["kind"]),
            data["term"],
        )
        exempted.append({"course": course.code, "kind": item["kind"]})
    session.flush()
    return {"student": instance.student_id, "exempted": exempted}


# 4–6 函授站登录考试成绩, 学院审核, 录入学院管理信息系统 ---------------------------------------


def _sheet_problems(
    step: StepContext, session: Session, data: dict[str, Any], lines, found: dict[int, Any]
) -> list[dict]:
    """The uploaded 成绩登记表's rows checked as the `grades` import checks them (each row by
    itself, unique in the file, against the records), then against this instance: its term,
    kind of exam and courses."""
    term, kind = data["term"], data.get("kind") or "考试"
    courses = _term_courses(step, session, data)
    problems = rc.check_rows(
        grade_sheet.COLUMNS, [r for _, r in lines], grade_sheet.UNIQUE, [n for n, _ in lines]
    )
    bad = {p["row"] for p in problems}
    good = [(n, r) for n, r in lines if n not in bad]
    problems += grade_sheet.record_problems(
        session, rc.References(session), good, step.station_id(), found
    )
    for line, row in good:
        if row["XQ"] != term:
            problems.append(rc.problem(line, row, "XQ", f"不是本学期（{term}）"))
        if row["KSLX"] != kind:
            problems.append(rc.problem(line, row, "KSLX", f"本流程登录的是{kind}成绩"))
        if row["KCDM"] not in courses:
            problems.append(rc.problem(line, row, "KCDM", f"不是本学期（{term}）的课程"))
    return sorted(problems, key=lambda p: (p["row"], p["column"] or ""))


@service("load_station_grades")
def load_station_grades(step: StepContext, data: dict[str, Any]) -> dict[str, Any]:
    """The scores the station entered: the rows of the form, or its uploaded 成绩登记表 read
    and checked; a sheet with problems names them (行号, 姓名, 字段, 问题) for a corrected
    upload, and none of its scores go on."""
    session = step.session
    if data.get("source") != "upload":
        return {"source": "rows", "problems": [], "scores": data["scores"]}
    upload = session.get(Upload, data["upload"])
    if upload is None or upload.station_id != step.instance().station_id:
        raise ServiceError(f"本站没有上传编号为 {data['upload']} 的文件")
    try:
        _, lines = sheet_reading.read(
            upload_content(step, upload), upload.file_name, grade_sheet.COLUMNS
        )
    except sheet_reading.FileUnreadable as exc:
        raise ServiceError(f"{upload.file_name}：{exc}") from None
    if not lines:
        raise ServiceError(f"{upload.file_name} 中没有成绩")
    found: dict[int, Any] = {}
    problems = _sheet_problems(step, session, data, lines, found)
    courses = {c.id: c.code for c in _term_courses(step, session, data).values()}
    scores = (
        [
            {
                "student": found[line][0],
                "course": courses[found[line][1]],
                "score": float(row["CJ"]),
            }
            for line, row in lines
        ]
        if not problems
        else []
    )
    return {
        "source": "upload",
        "count": len(lines),
        "problems": problems,
        "columns": grade_sheet.TITLES,
        "scores": scores,
    }


def _checked_scores(step: StepContext, session: Session, data: dict[str, Any]) -> list[Entry]:
    """The station's scores as entries to record, or a refusal naming every problem."""
    instance = step.instance()
    term, kind = data["term"], data.get("kind") or "考试"
    courses = _term_courses(step, session, data)
    # a case started on a version before the upload path (no load_entry step) has only the
    # scores typed in the form
    scores = data["check"]["scores"] if "check" in data else data["scores"]
    students = {s.id: s for s in _students(session, {row["student"] for row in scores})}
    official = official_grades(session, list(students))
    errors, entries, seen = [], [], set()
    for row in scores:
        student, course = students.get(row["student"]), courses.get(row["course"])
        if student is None or student.station_id != instance.station_id:
            errors.append(f"学生编号 {row['student']} 不是本函授站的学生")
            continue
        if course is None:
            errors.append(f"课程 {row['course']} 不是本学期（{term}）的课程")
            continue
        if (student.id, course.id) in seen:
            errors.append(f"{student.name}的《{course.name}》成绩重复")
            continue
        seen.add((student.id, course.id))
        previous = official.get((student.id, course.id), [])
        if problem := entry_problem(student.name, course.name, previous, term, kind):
            errors.append(problem)
            continue
        entries.append(Entry(student.id, course, row["score"], next_attempt(previous), kind))
    _refuse(errors)
    return entries


@service("check_station_grades")
def check_station_grades(step: StepContext, data: dict[str, Any]) -> dict[str, int]:
    """Refuse the station's entry unless every row is its student, a course of the term, new."""
    entries = _checked_scores(step, step.session, data)
    return {
        "entries": len(entries),
        "failed": sum(1 for e in entries if e.score is not None and e.score < PASS_MARK),
    }


@service("record_official_grades")
def record_official_grades(step: StepContext, data: dict[str, Any]) -> dict[str, int]:
    """Write the audited scores as official grades (checked again: time has passed)."""
    session = step.session
    entries = _checked_scores(step, session, data)
    grades = [_write(step, session, entry, data["term"]) for entry in entries]
    session.flush()
    return {"recorded": len(grades), "failed": sum(1 for g in grades if not g.passed)}


# 7 打印毕业生个人成绩单（两份） -----------------------------------------------------------


def _transcript(session: Session, student: Student) -> Workbook:
    standing = standing_grades(session, [student.id])[student.id]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "成绩单"
    sheet.append(["毕业生个人成绩单"])
    sheet.append(["姓名", student.name, "学号", student.student_number or ""])
    sheet.append(["身份证号", student.id_number, "入学年份", student.intake_year])
    sheet.append(["层次", student.level, "专业", student.major, "函授站", student.station.name])
    sheet.append(["学期", "课程代码", "课程名称", "学分", "成绩", "考核方式"])
    finals = sorted(standing.values(), key=lambda g: (term_order(g.term), g.course.code))
    for grade in finals:
        course = grade.course
        row = [grade.term, course.code, course.name, course.credits, _shown(grade), grade.kind]
        sheet.append(row)
    sheet.append([])
    sheet.append(["一式两份：学校存档一份，交学院学工办一份"])
    return workbook


@service("print_graduate_transcripts")
def print_graduate_transcripts(step: StepContext, data: dict[str, Any]) -> list[dict[str, Any]]:
    """One transcript per graduate of the term (two printed copies), as generated uploads."""
    session = step.session
    station_id = step.station_id()
    graduates = _graduates(_students(session, data.get("students") or []), data["term"])
    return [
        {
            "student": student.id,
            "name": student.name,
            "copies": 2,
            "upload": store_document(
                step,
                f"毕业生个人成绩单_{student.student_number or student.id}_{student.name}.xlsx",
                _transcript(session, student),
                station_id,
                student.id,
            ),
        }
        for student in graduates
    ]
