"""A student's standing result in a course, and what a failed course is: the one rule that
8 成绩管理 (makeup rosters, sheets, transcripts), 10 教学管理 (the progress rules' counts, 清考)
and 7 毕业生学历电子注册 (成绩审核) all read.

The rule:

- Only official grades count — those entered into the college's records (`Grade.official`).
  A score a station has entered that the college has not audited and recorded is not a result
  yet (8: 学院审核, then 录入学院管理信息系统); if it counted, a student could be sent to a
  makeup, held back (留级) or deferred at graduation (缓验) on a score the college may still
  send back.
- A course's standing result is an official 免修 / 免试 if there is one: the college has
  decided the student need not sit the course, and no later row undoes that decision.
- Otherwise it is the latest official attempt, ordered by term (the year, then 春 before 秋 —
  never by string order, which depends on the database collation), then by attempt number,
  then by id. Term comes first because attempt numbers restart at 0 when a student who repeats
  the year (留级) sits the course again in a later term; the latest result is what the record
  says now, so a passed makeup (补考, 清考) clears an earlier fail.
- A course is failed when its standing result is neither passed nor an exemption. A course
  without any official grade has no standing result: it is not failed here (callers that
  know a student had to sit it, such as 10's term check, decide what a missing result means).

Nothing here commits; it only reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji.models import Grade

EXEMPTIONS = ("免修", "免试")
MAKEUPS = ("补考", "清考")
PASS_MARK = 60
SEASONS = {"春": 0, "秋": 1}


def term_order(term: str) -> tuple[int, int]:
    """'2027-春' → (2027, 0), '2027-秋' → (2027, 1)."""
    year, _, season = term.partition("-")
    if not year.isdigit() or season not in SEASONS:
        raise ValueError(f"unknown term {term!r} (expected e.g. 2027-春)")
    return int(year), SEASONS[season]


def attempt_order(grade: Grade) -> tuple[int, int, int, int]:
    """The order of a student's attempts at one course, oldest first."""
    return (*term_order(grade.term), grade.attempt, grade.id)


def is_exemption(grade: Grade) -> bool:
    return grade.kind in EXEMPTIONS


def standing_grade(rows: Iterable[Grade]) -> Grade | None:
    """The result that stands among one student's grades of one course (see the module
    docstring); unofficial rows are ignored, so None when there is no official grade."""
    official = [g for g in rows if g.official]
    exemptions = [g for g in official if is_exemption(g)]
    candidates = exemptions or official
    return max(candidates, key=attempt_order) if candidates else None


def is_failed(standing: Grade) -> bool:
    """Whether a standing result (from `standing_grade`) is a failed course."""
    return not (standing.passed or is_exemption(standing))


def official_grades(
    session: Session, student_ids: Iterable[int], course_ids: Iterable[int] | None = None
) -> dict[tuple[int, int], list[Grade]]:
    """The students' official grades by (student, course), oldest attempt first."""
    ids = list(student_ids)
    if not ids:
        return {}
    query = select(Grade).where(Grade.student_id.in_(ids), Grade.official.is_(True))
    if course_ids is not None:
        query = query.where(Grade.course_id.in_(list(course_ids)))
    by_pair: dict[tuple[int, int], list[Grade]] = defaultdict(list)
    for grade in sorted(session.scalars(query), key=attempt_order):
        by_pair[(grade.student_id, grade.course_id)].append(grade)
    return dict(by_pair)


def standing_grades(
    session: Session, student_ids: Iterable[int], course_ids: Iterable[int] | None = None
) -> dict[int, dict[int, Grade]]:
    """Per student (every one asked for), the standing result of each course that has one."""
    ids = list(student_ids)
    standing: dict[int, dict[int, Grade]] = {i: {} for i in ids}
    for (student_id, course_id), rows in official_grades(session, ids, course_ids).items():
        grade = standing_grade(rows)
        if grade is not None:
            standing[student_id][course_id] = grade
    return standing


def failed_courses(
    session: Session, student_ids: Iterable[int], course_ids: Iterable[int] | None = None
) -> dict[int, list[Grade]]:
    """Per student (every one asked for), the standing results that are fails, by course code;
    only the courses `course_ids` when given."""
    return {
        student_id: sorted(
            (g for g in courses.values() if is_failed(g)), key=lambda g: g.course.code
        )
        for student_id, courses in standing_grades(session, student_ids, course_ids).items()
    }


def failed_course_names(session: Session, student_id: int) -> list[str]:
    """Names of the student's failed courses, sorted."""
    return sorted(g.course.name for g in failed_courses(session, [student_id])[student_id])


def next_attempt(previous: list[Grade]) -> int:
    """The attempt number of a new grade after a student's `previous` ones of the course."""
    return max(g.attempt for g in previous) + 1 if previous else 0


def passed(kind: str, score: float | None) -> bool:
    return kind in EXEMPTIONS or (score is not None and score >= PASS_MARK)


def entry_problem(name: str, course_name: str, previous: list[Grade], term: str, kind: str):
    """Why a new grade of `kind` in `term` may not be entered after the student's official
    `previous` grades of the course (process 8's entries and the grade-sheet import), or None.
    """
    standing = standing_grade(previous)
    if standing is not None and is_exemption(standing):
        return f"{name}的《{course_name}》已{standing.kind}，不需登录成绩"
    if kind in MAKEUPS:
        if standing is None:
            return f"{name}的《{course_name}》没有不及格成绩，不能{kind}"
        if not is_failed(standing):
            return f"{name}的《{course_name}》已及格，不需{kind}"
    elif any(g.term == term for g in previous):
        return f"{name}的《{course_name}》已有 {term} 的成绩"
    return None
