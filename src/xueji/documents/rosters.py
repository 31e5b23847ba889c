"""Lists of students as the college prints them for a station: 班级学籍注册名单 (a class, for
the students to check and sign) and 预毕业生验印名单 (the season's graduates, grouped by
年级, 层次, 专业 and 函授站, for each to verify their printed data and photo)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import groupby

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer
from sqlalchemy import Select
from sqlalchemy.orm import Session

from xueji.documents import sheets
from xueji.documents.layout import Kit, Letterhead, column_widths, content_width, day, station_label
from xueji.models import SchoolClass, Station, Student
from xueji.students.graduation import graduation_problem, season_name, season_window


@dataclass(frozen=True)
class Roster:
    """A list's students and its letterhead, shared by its PDF and its XLSX."""

    head: Letterhead
    students: list[Student]
    file_stem: str


def _gender_total(students: list[Student]) -> str:
    counts = Counter(s.gender for s in students)
    return f"合计 {len(students)} 人（男 {counts.get('男', 0)} 人，女 {counts.get('女', 0)} 人）"


# -- 班级学籍注册名单 ------------------------------------------------------------------------

CLASS_HEADER = ["序号", "学号", "姓名", "性别", "出生日期", "身份证号", "层次", "专业",
                "学习形式", "入学日期", "学籍状态", "学生签字"]  # fmt: skip


def class_roster(
    session: Session, school_class: SchoolClass, students: Select, id_number
) -> tuple[Roster, list[list[str]]]:
    """The class's students (from the caller's scoped query) in 学号 order, and their rows."""
    station = session.get(Station, school_class.station_id)
    assert station is not None
    rows = list(
        session.scalars(
            students.where(Student.class_id == school_class.id).order_by(
                Student.student_number, Student.id
            )
        )
    )
    head = Letterhead(
        "班级学籍注册名单",
        station_label(station.name, station.code),
        f"{school_class.name}　班号：{school_class.code}　{school_class.intake_year}级",
    )
    cells = [
        [str(n), s.student_number or "", s.name, s.gender, day(s.birth_date), id_number(s),
         s.level, s.major, s.study_mode, day(s.enrolled_on), s.status, ""]
        for n, s in enumerate(rows, start=1)
    ]  # fmt: skip
    return Roster(head, rows, f"班级学籍注册名单_{school_class.code}"), cells


def class_roster_pdf(kit: Kit, roster: Roster, cells: list[list[str]]) -> bytes:
    width = content_width(wide=True)
    widths = column_widths([12, 30, 26, 12, 22, 42, 14, 0, 18, 22, 18, 20], width)
    story: list[Flowable] = kit.heading_for(roster.head)
    story += kit.closing_table(
        CLASS_HEADER,
        cells,
        widths,
        [Spacer(1, 6 * mm), kit.seal_boxes(["函授站", "学院学籍管理部门"], width)],
        totals=[_gender_total(roster.students)] + [""] * (len(CLASS_HEADER) - 1),
        span_totals=True,
        row_height=9 * mm,
        centered=(0, 1, 3, 4, 6, 8, 9, 10),
    )
    return kit.render(roster.head, story, wide=True)


def class_roster_xlsx(college: str, roster: Roster, cells: list[list[str]]) -> bytes:
    return sheets.workbook(
        college,
        roster.head.title,
        CLASS_HEADER,
        cells,
        subtitle=f"{roster.head.station}　{roster.head.subtitle}",
        totals=[_gender_total(roster.students)],
        widths=[6, 16, 10, 6, 12, 21, 8, 16, 9, 12, 9, 12],
    )


# -- 预毕业生验印名单 ------------------------------------------------------------------------

SEAL_HEADER = ["序号", "学号", "姓名", "性别", "身份证号", "预计毕业", "照片", "本人签字"]
GROUP_HEADER = ["年级", "层次", "专业", "函授站"]


def graduates(session: Session, students: Select, year: int, season: str) -> list[Student]:
    """The season's graduates among the students of the caller's scoped query, by the one rule
    of graduation.py, in the list's order: 年级, 层次, 专业, 函授站, 学号."""
    _, last = season_window(year, season)
    query = students.where(
        Student.status == "已注册",
        Student.certificate_number.is_(None),
        Student.expected_graduation <= last,
    )
    rows = [s for s in session.scalars(query) if graduation_problem(s, year, season) is None]
    return sorted(rows, key=_group_key_and_number)


def _group(s: Student) -> tuple[int, str, str, str]:
    return (s.intake_year, s.level, s.major, s.station.code)


def _group_key_and_number(s: Student) -> tuple:
    return (*_group(s), s.student_number or "", s.id)


def seal_list_head(year: int, season: str, station: str | None, count: int) -> Letterhead:
    return Letterhead(
        "预毕业生验印名单",
        station,
        f"{season_name(year, season)}毕业　共 {count} 人",
    )


def _seal_row(n: int, s: Student, id_number) -> list[str]:
    return [str(n), s.student_number or "", s.name, s.gender, id_number(s),
            day(s.expected_graduation), s.photo_status, ""]  # fmt: skip


def seal_list_pdf(kit: Kit, head: Letterhead, students: list[Student], id_number) -> bytes:
    width = content_width()
    widths = column_widths([12, 28, 24, 12, 40, 22, 14, 0], width)
    story: list[Flowable] = kit.heading_for(head)
    groups = [list(members) for _, members in groupby(students, key=_group)]
    ending = [
        Spacer(1, 3 * mm),
        kit.p(f"总计 {len(students)} 人", kit.heading),
        Spacer(1, 4 * mm),
        kit.seal_boxes(["函授站", "学院学籍管理部门"], width),
    ]
    if not groups:
        story += [kit.p("本季无预毕业生。", kit.body), *ending]
    for index, group in enumerate(groups):
        first = group[0]
        story += kit.section(
            f"{first.intake_year}级　{first.level}　{first.major}　{first.station.name}"
            f"（共 {len(group)} 人）"
        )
        options: dict = {
            "totals": [f"小计 {len(group)} 人"] + [""] * (len(SEAL_HEADER) - 1),
            "span_totals": True,
            "row_height": 9 * mm,
            "centered": (0, 1, 3, 5, 6),
        }
        rows = [_seal_row(n, s, id_number) for n, s in enumerate(group, start=1)]
        columns = widths
        if index == len(groups) - 1:
            story += kit.closing_table(SEAL_HEADER, rows, columns, ending, **options)
        else:
            story.append(kit.table(SEAL_HEADER, rows, columns, **options))
    return kit.render(head, story)


def seal_list_xlsx(college: str, head: Letterhead, students: list[Student], id_number) -> bytes:
    rows = [
        [*_group(s)[:3], s.station.name, *_seal_row(n, s, id_number)[1:]]
        for n, s in enumerate(students, start=1)
    ]
    return sheets.workbook(
        college,
        head.title,
        GROUP_HEADER + SEAL_HEADER[1:],
        rows,
        subtitle=f"{head.station or '全院'}　{head.subtitle}",
        totals=[f"总计 {len(students)} 人"],
        widths=[8, 8, 16, 14, 16, 10, 6, 21, 12, 8, 12],
    )
