"""Grade documents: 毕业生个人成绩单 (a graduate's standing results, credits and average,
sealed by the college) and 空白学期成绩单 (a class's roster for one course and term, the
score column left blank for the teacher)."""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    day,
    station_label,
)
from xueji.models import Course, SchoolClass, Station, Student
from xueji.students.grades import is_exemption, standing_grades, term_order

TRANSCRIPT_HEADER = ["序号", "学期", "课程代码", "课程名称", "学分", "成绩", "考核类别"]
PERSON_HEADER = ["姓名", "性别", "身份证号", "入学年份", "毕业日期", "毕结业结论"]
# 一式两份 (the seed's 打印毕业生个人成绩单（两份）→ 学校存档, 交学院学工办): the same
# transcript twice, each copy on pages of its own and labelled on every page.
COPIES = ("第一份：学校存档", "第二份：交学院学工办")


def transcript_file_stem(student: Student) -> str:
    return f"毕业生个人成绩单_{student.student_number or student.id}_{student.name}"


@dataclass(frozen=True)
class Transcript:
    """What a transcript shows: the head, the student's line, a row per course, the totals."""

    head: Letterhead
    person: list[str]
    rows: list[list[str]]
    totals: list[str]


def transcript(session: Session, student: Student, id_number: str) -> Transcript:
    """The graduate's standing result in every course, with the credits earned and the average
    of the scored courses."""
    grades = sorted(
        standing_grades(session, [student.id])[student.id].values(),
        key=lambda g: (term_order(g.term), g.course.code),
    )
    earned = sum(g.course.credits for g in grades if g.passed or is_exemption(g))
    scored = [g.score for g in grades if g.score is not None and not is_exemption(g)]
    average = f"{sum(scored) / len(scored):.1f}" if scored else "—"
    return Transcript(
        Letterhead(
            "毕业生个人成绩单",
            station_label(student.station.name, student.station.code),
            f"{student.name}　学号：{student.student_number or ''}　{student.level}　"
            f"{student.major}",
        ),
        [student.name, student.gender, id_number, str(student.intake_year),
         day(student.graduated_on or student.expected_graduation), student.conclusion or ""],
        [
            [str(n), g.term, g.course.code, g.course.name, f"{g.course.credits:g}",
             "" if g.score is None else f"{g.score:g}", g.kind]
            for n, g in enumerate(grades, start=1)
        ],
        ["合计", "", "", f"共 {len(grades)} 门课程　平均成绩 {average}", f"{earned:g}", "", ""],
    )  # fmt: skip


def transcript_pdf(kit: Kit, data: Transcript) -> bytes:
    """Two copies, the same content, each labelled with whom it is for."""
    heads = [replace(data.head, copy=label) for label in COPIES]
    return kit.render(
        heads[0], kit.copies([(head, _transcript_story(kit, head, data)) for head in heads])
    )


def _transcript_story(kit: Kit, head: Letterhead, data: Transcript) -> list[Flowable]:
    width = content_width()
    story: list[Flowable] = kit.heading_for(head)
    story.append(
        kit.table(
            PERSON_HEADER,
            [data.person],
            [24 * mm, 14 * mm, 44 * mm, 22 * mm, 26 * mm, width - 130 * mm],
            centered=(0, 1, 2, 3, 4, 5),
        )
    )
    story.append(Spacer(1, 4 * mm))
    story.append(
        kit.table(
            TRANSCRIPT_HEADER,
            data.rows,
            [12 * mm, 22 * mm, 24 * mm, width - 132 * mm, 16 * mm, 18 * mm, 40 * mm],
            totals=data.totals,
            centered=(0, 1, 2, 4, 5, 6),
        )
    )
    story.append(Spacer(1, 8 * mm))
    story.append(
        kit.signatures(
            [Signature("学院成绩管理部门", "经核对，以上成绩属实。", seal=True)],
            width,
            height=28 * mm,
        )
    )
    return story


def transcript_xlsx(college: str, data: Transcript) -> bytes:
    """One sheet to edit further: the student's line above the course rows (printed 一式两份)."""
    person = "　".join(f"{k}：{v}" for k, v in zip(PERSON_HEADER, data.person, strict=True))
    return sheets.workbook(
        college,
        data.head.title,
        TRANSCRIPT_HEADER,
        data.rows,
        subtitle=f"{data.head.station}　{person}",
        totals=data.totals,
        widths=[6, 10, 10, 24, 6, 6, 10],
    )


SHEET_HEADER = ["序号", "学号", "姓名", "性别", "平时成绩", "考试成绩", "总评成绩", "备注"]


def blank_sheet_file_stem(school_class: SchoolClass, course: Course, term: str) -> str:
    return f"空白学期成绩单_{school_class.code}_{course.name}_{term}"


@dataclass(frozen=True)
class BlankSheet:
    head: Letterhead
    rows: list[list[str]]
    totals: list[str]


def blank_sheet(
    session: Session, school_class: SchoolClass, students: Select, course: Course, term: str
) -> BlankSheet:
    """The class's students (from the caller's scoped query) for the teacher to fill in."""
    station = session.get(Station, school_class.station_id)
    assert station is not None
    members = list(
        session.scalars(
            students.where(Student.class_id == school_class.id).order_by(
                Student.student_number, Student.id
            )
        )
    )
    return BlankSheet(
        Letterhead(
            "空白学期成绩单",
            station_label(station.name, station.code),
            f"{term}学期　{school_class.name}　"
            f"课程：{course.code} {course.name}（{course.credits:g} 学分）",
        ),
        [[str(n), s.student_number or "", s.name, s.gender, "", "", "", ""]
         for n, s in enumerate(members, start=1)],
        [f"应考 {len(members)} 人，实考 ____ 人，及格 ____ 人，不及格 ____ 人"]
        + [""] * (len(SHEET_HEADER) - 1),
    )  # fmt: skip


def blank_sheet_pdf(kit: Kit, data: BlankSheet) -> bytes:
    width = content_width()
    story: list[Flowable] = kit.heading_for(data.head)
    story.append(
        kit.p("考核方式：□考试　□考查　　　任课教师：____________　　考试日期：____________")
    )
    story.append(Spacer(1, 2 * mm))
    widths = column_widths([12, 32, 24, 12, 24, 24, 24, 0], width)
    story += kit.closing_table(
        SHEET_HEADER,
        data.rows,
        widths,
        [
            Spacer(1, 6 * mm),
            kit.signatures(
                [Signature("任课教师"), Signature("函授站审核", seal=True)], width, height=22 * mm
            ),
        ],
        totals=data.totals,
        span_totals=True,
        row_height=8 * mm,
        centered=(0, 1, 3),
    )
    return kit.render(data.head, story)


def blank_sheet_xlsx(college: str, data: BlankSheet) -> bytes:
    return sheets.workbook(
        college,
        data.head.title,
        SHEET_HEADER,
        data.rows,
        subtitle=f"{data.head.station}　{data.head.subtitle}",
        totals=data.totals,
        widths=[6, 16, 10, 6, 10, 10, 10, 16],
    )
