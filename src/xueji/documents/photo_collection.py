"""毕业生电子图像采集名单 (a station's students expected to graduate in a year, for the photo
agency's session: each signs beside their name) and 毕业生电子图像采集卡 (one student's card,
filled in as on the ID card, with the frame the photo goes in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table
from sqlalchemy import Select
from sqlalchemy.orm import Session

from xueji.documents import sheets
from xueji.documents.layout import (
    GRID,
    SHADE,
    Kit,
    Letterhead,
    column_widths,
    content_width,
    day,
    station_label,
)
from xueji.models import Student

LIST_HEADER = ["序号", "学号", "姓名", "性别", "身份证号", "层次", "专业", "照片", "本人签字"]
# Who is photographed: the record's students still studying (not 退学, 毕业, …).
STUDYING = ("在籍", "已注册", "休学", "复学")


def graduating(session: Session, students: Select, year: int) -> list[Student]:
    """The students of the caller's scoped query expected to graduate in `year`."""
    query = students.where(
        Student.expected_graduation >= date(year, 1, 1),
        Student.expected_graduation <= date(year, 12, 31),
        Student.status.in_(STUDYING),
    )
    return sorted(
        session.scalars(query), key=lambda s: (s.station.code, s.student_number or "", s.id)
    )


@dataclass(frozen=True)
class CollectionList:
    head: Letterhead
    rows: list[list[str]]
    totals: list[str]


def collection_list(
    year: int, station: str | None, students: list[Student], id_number
) -> CollectionList:
    rows = [
        [str(n), s.student_number or "", s.name, s.gender, id_number(s), s.level, s.major,
         s.photo_status, ""]
        for n, s in enumerate(students, start=1)
    ]  # fmt: skip
    return CollectionList(
        Letterhead("毕业生电子图像采集名单", station, f"{year}年预计毕业　共 {len(students)} 人"),
        rows,
        [f"合计 {len(rows)} 人"] + [""] * (len(LIST_HEADER) - 1),
    )


def collection_list_pdf(kit: Kit, data: CollectionList) -> bytes:
    width = content_width()
    widths = column_widths([12, 28, 20, 12, 40, 14, 0, 16, 22], width)
    story: list[Flowable] = kit.heading_for(data.head)
    story.append(kit.p("采集时间：____________　　采集地点：________________________"))
    story.append(Spacer(1, 2 * mm))
    story += kit.closing_table(
        LIST_HEADER,
        data.rows,
        widths,
        [Spacer(1, 6 * mm), kit.seal_boxes(["函授站", "新华图片社"], width)],
        totals=data.totals,
        span_totals=True,
        row_height=9 * mm,
        centered=(0, 1, 3, 5, 7),
    )
    return kit.render(data.head, story)


def collection_list_xlsx(college: str, data: CollectionList) -> bytes:
    return sheets.workbook(
        college,
        data.head.title,
        LIST_HEADER,
        data.rows,
        subtitle=" ".join(filter(None, [data.head.station, data.head.subtitle])),
        totals=data.totals,
        widths=[6, 16, 10, 6, 21, 8, 16, 8, 12],
    )


def card(kit: Kit, student: Student, id_number: str) -> bytes:
    head = Letterhead(
        "毕业生电子图像采集卡", station_label(student.station.name, student.station.code)
    )
    width = content_width()
    pairs = [
        ("姓名", student.name),
        ("性别", student.gender),
        ("出生日期", day(student.birth_date)),
        ("身份证号", id_number),
        ("民族", student.ethnicity or ""),
        ("学号", student.student_number or ""),
        ("层次", student.level),
        ("专业", student.major),
        ("学习形式", student.study_mode),
        ("预计毕业", day(student.expected_graduation)),
    ]
    photo_width = 45 * mm
    rows = [[kit.p(label), kit.p(value), ""] for label, value in pairs]
    rows[0][2] = kit.p("照片粘贴处\n（二寸，蓝底）", kit.cell_center)
    table = Table(
        rows,
        colWidths=[26 * mm, width - 26 * mm - photo_width, photo_width],
        rowHeights=[9 * mm] * len(rows),
    )
    table.setStyle(
        kit.grid(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, GRID),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (0, -1), SHADE),
                ("SPAN", (2, 0), (2, len(rows) - 1)),
            ]
        )
    )
    story: list[Flowable] = [
        *kit.heading_for(head),
        table,
        Spacer(1, 4 * mm),
        kit.p("拍摄方式：□统一拍摄　□自行散拍"),
        Spacer(1, 2 * mm),
        kit.p("本人已核对以上信息，与身份证一致。"),
        Spacer(1, 10 * mm),
        kit.p("本人签字：____________　______年____月____日", kit.right),
    ]
    return kit.render(head, story)
