"""The one rule of a failed course (xueji.students.grades), and the processes that read it
agreeing about the same student: 7 成绩审核, 8's makeup roster and sheet, 10's progress counts."""

from __future__ import annotations

import io
import itertools
import uuid
from collections.abc import Iterator

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.instances.context import StepContext
from xueji.models import (
    Course,
    Deployment,
    Grade,
    ProcessDefinition,
    ProcessInstance,
    Station,
    Student,
    Upload,
)
from xueji.process_logic.grade_management import grade_roster, print_blank_grade_sheets
from xueji.process_logic.graduation_registration import graduation_review_inputs
from xueji.process_logic.teaching_management import teaching_count_failed
from xueji.students.grades import (
    failed_course_names,
    failed_courses,
    standing_grade,
    term_order,
)
from xueji.students.id_numbers import check_digit
from xueji.uploads.service import content_of
from xueji.uploads.storage import storage_for


@pytest.fixture
def session(db) -> Iterator[Session]:
    """One transaction, rolled back at the end, as an engine step would see the records."""
    session = db.db.writer()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


_serials = itertools.count(101)


def create_student(session: Session, station: str = "S01", name: str = "周成") -> Student:
    digits = f"41010219980101{next(_serials):03d}"
    student = Student(
        station_id=session.scalar(select(Station.id).where(Station.code == station)),
        name=name,
        gender="男",
        id_number=digits + check_digit(digits),
        level="专科",
        major="会计",
        intake_year=2025,
        status="已注册",
        created_at=clock.now(),
    )
    session.add(student)
    session.flush()
    return student


def create_course(session: Session, code: str, name: str) -> Course:
    course = Course(code=code, name=name, credits=3)
    session.add(course)
    session.flush()
    return course


def add_grade(
    session: Session,
    student: Student,
    course: Course,
    term: str,
    attempt: int,
    passed: bool,
    *,
    official: bool = True,
    kind: str | None = None,
) -> Grade:
    kind = kind or ("考试" if attempt == 0 else "补考")
    grade = Grade(
        student_id=student.id,
        course_id=course.id,
        term=term,
        attempt=attempt,
        kind=kind,
        score=None if kind in ("免修", "免试") else (75 if passed else 40),
        passed=passed,
        official=official,
        recorded_by="grades" if official else "station1",
        recorded_at=clock.now(),
    )
    session.add(grade)
    session.flush()
    return grade


def failed_codes(session: Session, student: Student) -> list[str]:
    return [g.course.code for g in failed_courses(session, [student.id])[student.id]]


# The rule on its own --------------------------------------------------------------------------


def test_a_passed_makeup_clears_an_earlier_fail(session):
    student = create_student(session)
    course = create_course(session, "R01", "高等数学")
    add_grade(session, student, course, "2026-春", 0, False)
    assert failed_codes(session, student) == ["R01"]
    makeup = add_grade(session, student, course, "2026-秋", 1, True)
    assert failed_codes(session, student) == []
    assert standing_grade(session.scalars(select(Grade))) is makeup


def test_the_latest_official_attempt_stands_even_after_an_earlier_pass(session):
    """A student who repeats the year (留级) sits the course again at attempt 0 of a later
    term: that later result is the one that stands, though its attempt number is lower."""
    student = create_student(session)
    course = create_course(session, "R01", "大学英语")
    add_grade(session, student, course, "2026-春", 0, False)
    add_grade(session, student, course, "2026-春", 1, True)
    retake = add_grade(session, student, course, "2027-春", 0, False)
    assert failed_codes(session, student) == ["R01"]
    assert standing_grade(session.scalars(select(Grade))) is retake


def test_an_unofficial_later_score_does_not_count(session):
    student = create_student(session)
    failed = create_course(session, "R01", "高等数学")
    add_grade(session, student, failed, "2026-秋", 0, False)
    # the station's makeup score, not yet audited and entered by the college
    add_grade(session, student, failed, "2027-春", 1, True, official=False)
    # and an unaudited fail alone is no failed course either
    provisional = create_course(session, "R02", "大学英语")
    add_grade(session, student, provisional, "2027-春", 0, False, official=False)
    assert failed_codes(session, student) == ["R01"]
    assert failed_course_names(session, student.id) == ["高等数学"]
    unofficial = session.scalars(select(Grade).where(Grade.official.is_(False))).all()
    assert standing_grade(unofficial) is None


def test_spring_comes_before_autumn_and_years_before_seasons(session):
    terms = ["2027-秋", "2026-秋", "2027-春", "2026-春"]
    assert sorted(terms, key=term_order) == ["2026-春", "2026-秋", "2027-春", "2027-秋"]
    with pytest.raises(ValueError, match="2027-夏"):
        term_order("2027-夏")

    student = create_student(session)
    autumn_fail = create_course(session, "R01", "管理学原理")
    spring_fail = create_course(session, "R02", "会计学基础")
    # Written newest first, so that neither the ids nor the attempt numbers give the order.
    add_grade(session, student, autumn_fail, "2027-秋", 0, False)
    add_grade(session, student, autumn_fail, "2027-春", 2, True)
    add_grade(session, student, spring_fail, "2027-春", 1, False)
    add_grade(session, student, spring_fail, "2026-秋", 3, True)
    assert failed_codes(session, student) == ["R01", "R02"]


def test_an_exemption_stands_whatever_comes_before_or_after_it(session):
    student = create_student(session)
    after_fail = create_course(session, "R01", "大学英语")
    add_grade(session, student, after_fail, "2026-秋", 0, False)
    add_grade(session, student, after_fail, "2027-春", 1, True, kind="免修")
    before_sheet = create_course(session, "R02", "计算机应用基础")
    exemption = add_grade(session, student, before_sheet, "2026-秋", 0, True, kind="免试")
    add_grade(session, student, before_sheet, "2027-春", 1, False)  # a station's sheet row
    assert failed_codes(session, student) == []
    rows = session.scalars(select(Grade).where(Grade.course_id == before_sheet.id))
    assert standing_grade(rows) is exemption


def test_failed_courses_keys_every_student_and_filters_courses(session):
    first, second = create_student(session, name="周成"), create_student(session, name="吴桐")
    math, english = create_course(session, "R01", "高等数学"), create_course(session, "R02", "英语")
    for student in (first, second):
        add_grade(session, student, math, "2026-秋", 0, student is first)
    add_grade(session, first, english, "2026-秋", 0, False)
    everything = failed_courses(session, [first.id, second.id])
    assert {sid: [g.course.code for g in rows] for sid, rows in everything.items()} == {
        first.id: ["R02"],
        second.id: ["R01"],
    }
    only_math = failed_courses(session, [first.id, second.id], [math.id])
    assert (only_math[first.id], [g.course.code for g in only_math[second.id]]) == ([], ["R01"])
    assert failed_courses(session, []) == {}


# The processes agree -------------------------------------------------------------------------


def step_at(db, session: Session, station_id: int, student_id: int | None = None) -> StepContext:
    """A step of an instance of the station (and student), as the engine hands it to a
    service task."""
    now = clock.now()
    deployment = Deployment(deployed_by="admin", deployed_at=now, files=[])
    session.add(deployment)
    session.flush()
    definition = ProcessDefinition(
        key=f"rule_probe_{uuid.uuid4().hex[:8]}",
        version=1,
        name="规则核对（测试）",
        file_name="rule_probe.bpmn",
        xml="<definitions/>",
        content_hash="0" * 64,
        deployment_id=deployment.id,
        deployed_by="admin",
        deployed_at=now,
    )
    session.add(definition)
    session.flush()
    instance = ProcessInstance(
        id=str(uuid.uuid4()),
        definition_id=definition.id,
        definition_key=definition.key,
        station_id=station_id,
        student_id=student_id,
        state="running",
        engine_state="{}",
        variables={},
        started_by="grades",
        started_at=now,
        updated_at=now,
    )
    session.add(instance)
    session.flush()

    def no_calls(*_args, **_kwargs):
        raise AssertionError("the services under test start no processes")

    return StepContext(session, instance.id, "grades", db.settings, no_calls)


def test_graduation_grade_management_and_teaching_agree_on_one_student(db, session):
    """The same record read by 7 成绩审核, 8's makeup roster and sheet, and 10's 毕业清考
    counts gives the same failed courses. Each old copy of the rule gave a different answer
    here: 7 took the unofficial pass of 高等数学, 8 and 10 the early pass of 大学英语, and 10
    the unofficial score too."""
    student = create_student(session)
    math = create_course(session, "R01", "高等数学")
    english = create_course(session, "R02", "大学英语")
    management = create_course(session, "R03", "管理学原理")
    accounting = create_course(session, "R04", "会计学基础")
    # official fail; the station's makeup pass is not yet audited → failed
    add_grade(session, student, math, "2026-秋", 0, False)
    add_grade(session, student, math, "2027-春", 1, True, official=False)
    # passed, then failed again after repeating the year → failed
    add_grade(session, student, english, "2026-春", 0, True)
    add_grade(session, student, english, "2027-春", 0, False)
    # failed, passed at the makeup → not failed
    add_grade(session, student, management, "2026-春", 0, False)
    add_grade(session, student, management, "2026-秋", 1, True)
    # failed, then exempted → not failed
    add_grade(session, student, accounting, "2026-秋", 0, False)
    add_grade(session, student, accounting, "2027-春", 1, True, kind="免修")
    expected = {"R01", "R02"}
    names = {c.code: c.name for c in (math, english, management, accounting)}
    step = step_at(db, session, student.station_id)

    # 7 毕业生学历电子注册: the grade staff's review inputs
    review = graduation_review_inputs(step, {"student": student.id})
    assert {code for code, name in names.items() if name in review["failed_course_names"]} == (
        expected
    )
    assert review["failed_courses"] == len(expected)

    # 8 成绩管理: a makeup term for each course lists the student exactly for the failed ones
    for code in names:
        plan = {"kind": "补考", "courses": [{"code": code, "name": names[code]}]}
        on_roster = student.id in grade_roster(step, plan)
        assert on_roster == (code in expected), code
    # … and the blank makeup sheet has one sheet per failed course
    plan = [{"code": code, "name": name} for code, name in names.items()]
    sheets = print_blank_grade_sheets(
        step, {"term": "2027-秋", "courses": plan, "students": [student.id]}
    )
    upload = session.get(Upload, sheets["makeup_sheet"])
    content = content_of(upload, storage_for(step.settings))
    assert set(load_workbook(io.BytesIO(content)).sheetnames) == expected

    # 10 教学管理: the counts the progress rules read at 毕业清考 (the student's 学生学业进度)
    own = step_at(db, session, student.station_id, student.id)
    counted = teaching_count_failed(own, {}, "毕业清考")
    assert set(counted["courses"]) == expected
    assert (counted["failed"], counted["total"]) == (2, 4)
