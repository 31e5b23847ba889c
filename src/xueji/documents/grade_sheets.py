"""Grade lists for a makeup and a graduating class: 空白补考成绩单 (the students whose standing
result in a course is a fail, for the makeup's teacher to fill in) and 毕业班级成绩总表 (a
class's standing results, one column per course, with each course's pass count)."""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer
from sqlalchemy import Select
from sqlalchemy.orm import Session

from xueji.documents import sheets
from xueji.documents.layout import (
    Kit,
    Letterhead,
    Signature,
    column_widths,
    content_width,
    station_label,
)
from xueji.models import Course, SchoolClass, Station, Student
from xueji.students.grades import failed_courses, is_exemption, is_failed, standing_grades

MAKEUP_HEADER = ["序号", "学号", "姓名", "性别", "函授站", "原成绩", "补考成绩", "备注"]


def makeup_candidates(
    session: Session, students: Select, course: Course
) -> list[tuple[Student, float | None]]:
    """The students of the caller's scoped query who failed the course (the one rule of
    grades.py), with the failed score, in 函授站 and 学号 order."""
    rows = list(session.scalars(students))
    failed = failed_courses(session, [s.id for s in rows], [course.id])
    found = [(s, failed[s.id][0].score) for s in rows if failed[s.id]]
    return sorted(found, key=lambda pair: (pair[0].station.code, pair[0].student_number or ""))


@dataclass(frozen=True)
class MakeupSheet:
    head: Letterhead
    rows: list[list[str]]
    totals: list[str]


def makeup_sheet(
    course: Course, term: str, station: str | None, candidates: list[tuple[Student, float | None]]
) -> MakeupSheet:
    rows = [
        [str(n), s.student_number or "", s.name, s.gender, s.station.name,
         "" if score is None else f"{score:g}", "", ""]
        for n, (s, score) in enumerate(candidates, start=1)
    ]  # fmt: skip
    return MakeupSheet(
        Letterhead(
            "空白补考成绩单",
            station,
            f"{term}学期补考　课程：{course.code} {course.name}（{course.credits:g} 学分）",
        ),
        rows,
        [f"应补考 {len(rows)} 人，实考 ____ 人，及格 ____ 人"] + [""] * 7,
    )


def makeup_sheet_pdf(kit: Kit, data: MakeupSheet) -> bytes:
    width = content_width()
    story: list[Flowable] = kit.heading_for(data.head)
    story.append(kit.p("补考日期：____________　　任课教师：____________"))
    story.append(Spacer(1, 2 * mm))
    widths = column_widths([12, 30, 24, 12, 30, 18, 20, 0], width)
    story += kit.closing_table(
        MAKEUP_HEADER,
        data.rows,
        widths,
        [
            Spacer(1, 6 * mm),
            kit.signatures(
                [Signature("任课教师"), Signature("学院成绩管理部门", seal=True)],
                width,
                height=22 * mm,
            ),
        ],
        totals=data.totals,
        span_totals=True,
        row_height=8 * mm,
        centered=(0, 1, 3, 5),
    )
    return kit.render(data.head, story)


def makeup_sheet_xlsx(college: str, data: MakeupSheet) -> bytes:
    return sheets.workbook(
        college,
        data.head.title,
        MAKEUP_HEADER,
        data.rows,
        subtitle=" ".join(filter(None, [data.head.station, data.head.subtitle])),
        totals=data.totals,
        widths=[6, 16, 10, 6, 14, 8, 8, 16],
    )


def class_results(
    session: Session, school_class: SchoolClass, students: Select
) -> tuple[list[Student], list[Course], dict[int, dict[int, str]], dict[int, int]]:
    """The class's students, the courses any of them has a result in (by code), each
    student's result per course as printed (score, 免修, 不及格 marked *), and each course's
    pass count."""
    members = list(
        session.scalars(
            students.where(Student.class_id == school_class.id).order_by(
                Student.student_number, Student.id
            )
        )
    )
    standing = standing_grades(session, [s.id for s in members])
    courses = sorted(
        {g.course_id: g.course for row in standing.values() for g in row.values()}.values(),
        key=lambda c: c.code,
    )
    shown: dict[int, dict[int, str]] = {}
    passes = {c.id: 0 for c in courses}
    for student in members:
        shown[student.id] = {}
        for course_id, grade in standing[student.id].items():
            text = (
                grade.kind
                if is_exemption(grade)
                else f"{grade.score:g}"
                if grade.score is not None
                else ""
            )
            if is_failed(grade):
                text += "*"
            else:
                passes[course_id] += 1
            shown[student.id][course_id] = text
    return members, courses, shown, passes


def class_results_head(session: Session, school_class: SchoolClass, count: int) -> Letterhead:
    station = session.get(Station, school_class.station_id)
    assert station is not None
    return Letterhead(
        "毕业班级成绩总表",
        station_label(station.name, station.code),
        f"{school_class.name}　班号：{school_class.code}　共 {count} 人　（* 为不及格）",
    )


def _result_rows(members, courses, shown) -> list[list[str]]:
    return [
        [str(n), s.student_number or "", s.name] + [shown[s.id].get(c.id, "") for c in courses]
        for n, s in enumerate(members, start=1)
    ]


def class_results_pdf(kit: Kit, head: Letterhead, members, courses, shown, passes) -> bytes:
    width = content_width(wide=True)
    fixed = [12, 30, 24]
    each = max(16.0, (width / mm - sum(fixed)) / max(1, len(courses)))
    header = ["序号", "学号", "姓名"] + [f"{c.name}（{c.credits:g}）" for c in courses]
    story: list[Flowable] = kit.heading_for(head)
    story += kit.closing_table(
        header,
        _result_rows(members, courses, shown),
        [w * mm for w in fixed] + [each * mm] * len(courses),
        [Spacer(1, 6 * mm), kit.seal_boxes(["函授站", "学院成绩管理部门"], width)],
        totals=["", "", "及格人数"] + [str(passes[c.id]) for c in courses],
        row_height=8 * mm,
        centered=tuple(range(len(header))),
    )
    return kit.render(head, story, wide=True)


def class_results_xlsx(college: str, head: Letterhead, members, courses, shown, passes) -> bytes:
    return sheets.workbook(
        college,
        head.title,
        ["序号", "学号", "姓名"] + [c.name for c in courses],
        _result_rows(members, courses, shown),
        subtitle=f"{head.station}　{head.subtitle}",
        totals=["", "", "及格人数"] + [passes[c.id] for c in courses],
        widths=[6, 16, 10] + [12] * len(courses),
    )
