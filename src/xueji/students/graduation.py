"""Who may graduate in a season, and 缓验 (deferral) kept on the record: the one rule that
7 毕业生学历电子注册 reads for its proposed list (预毕业生名单) and for its self-check.

A student may be registered as a graduate of `year` 春季 (first half of the year) or 秋季
(second half) when

- the record has no certificate number yet (a number is handed out once),
- the status is 已注册 (not 在籍 — not yet electronically registered — nor 休学, 退学, …),
- the record has a 学号, and
- the 预计毕业日期 (YJBYRQ) falls in that season or before it: a student due earlier who has
  not graduated yet (缓验 in an earlier season, or never reported) is proposed again; a student
  due later (a 2027 freshman in a 2028 春季 list) is not.

A deferral (缓验) writes the season and the reason on the record and a dated status-history row
(kind 缓验, the status unchanged); graduating clears the season and reason (the row stays).

Nothing here commits.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from xueji.models import Student
from xueji.students.records import set_status

SEASONS = ("春季", "秋季")


def season_window(year: int, season: str) -> tuple[date, date]:
    """The days on which a graduate of the season is expected to leave."""
    if season not in SEASONS:
        raise ValueError(f"unknown graduation season {season!r}")
    if season == "春季":
        return date(year, 1, 1), date(year, 6, 30)
    return date(year, 7, 1), date(year, 12, 31)


def season_name(year: int, season: str) -> str:
    """e.g. 2028春季, as the record keeps it."""
    season_window(year, season)
    return f"{year}{season}"


def graduation_problem(student: Student, year: int, season: str) -> str | None:
    """Why the student cannot graduate in the season, or None when they may."""
    if student.certificate_number:
        return f"已有毕业证书编号 {student.certificate_number}"
    if student.status != "已注册":
        return f"学籍状态为{student.status}，不能毕业"
    if not student.student_number:
        return "缺少学号（XH）"
    if student.expected_graduation is None:
        return "没有预计毕业日期（YJBYRQ）"
    _, last = season_window(year, season)
    if student.expected_graduation > last:
        return (
            f"预计毕业日期为 {student.expected_graduation.isoformat()}，不能在{year}年{season}毕业"
        )
    return None


def defer_graduation(
    session: Session,
    student: Student,
    *,
    year: int,
    season: str,
    stage: str,
    reason: str,
    actor: str,
    instance_id: str | None,
) -> dict[str, Any]:
    """缓验: the season and reason on the record, with a dated history row."""
    student.deferred_season = season_name(year, season)
    student.deferral_reason = reason[:300]
    set_status(
        session,
        student,
        student.status,
        actor=actor,
        instance_id=instance_id,
        kind="缓验",
        reason=reason[:300],
        details={"season": student.deferred_season, "stage": stage},
    )
    return {"student": student.id, "season": student.deferred_season, "stage": stage}
