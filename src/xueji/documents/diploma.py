"""毕业证书: the certificate of a graduate whose number (ZSBH) has been assigned (7), with the
photo, the dates of study, the certificate number and the head of the college (XZXM)."""

from __future__ import annotations

import io

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Image, Paragraph, Spacer, Table

from xueji.documents.layout import GRID, Kit, Letterhead, content_width, station_label
from xueji.documents.student_card import PHOTO_TYPES
from xueji.models import Student, Upload
from xueji.uploads.service import content_of
from xueji.uploads.storage import storage_for


def file_stem(student: Student) -> str:
    return f"毕业证书_{student.certificate_number}_{student.name}"


def render(kit: Kit, student: Student, photo: Upload | None, president: str) -> bytes:
    head = Letterhead("毕业证书", station_label(student.station.name, student.station.code))
    width = content_width(wide=True)
    text = ParagraphStyle("diploma", parent=kit.body, fontSize=15, leading=28)
    big = ParagraphStyle("big", parent=kit.title, fontSize=32, leading=40, alignment=TA_CENTER)
    birth = student.birth_date
    graduated = student.graduated_on
    start = student.enrolled_on
    sentence = (
        f"学生　{student.name}　，性别{student.gender}，"
        + (f"{birth.year}年{birth.month}月{birth.day}日生，" if birth else "")
        + (f"于{start.year}年{start.month}月至" if start else "")
        + (f"{graduated.year}年{graduated.month}月" if graduated else "")
        + f"在本校{student.major}专业（{student.level}）{student.study_mode}学习，"
        "修完教学计划规定的全部课程，成绩合格，准予毕业。"
    )
    picture: Flowable = (
        Image(
            io.BytesIO(content_of(photo, storage_for(kit.settings))),
            width=33 * mm,
            height=45 * mm,
            kind="bound",
        )
        if photo is not None and photo.content_type in PHOTO_TYPES
        else kit.p("照片", kit.cell_center)
    )
    body = Table(
        [[picture, Paragraph(sentence, text)]],
        colWidths=[45 * mm, width - 45 * mm],
        rowHeights=[60 * mm],
    )
    body.setStyle(
        kit.grid(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BOX", (0, 0), (0, 0), 0.5, GRID),
                ("LEFTPADDING", (1, 0), (1, 0), 10 * mm),
            ]
        )
    )
    issued = f"{graduated.year}年{graduated.month}月{graduated.day}日" if graduated else ""
    foot = Table(
        [
            [kit.p(f"证书编号：{student.certificate_number}"), kit.p(f"校（院）长：{president}")],
            [kit.p(f"学号：{student.student_number or ''}"), kit.p(f"{kit.college}（盖章）")],
            ["", kit.p(issued)],
        ],
        colWidths=[width / 2, width / 2],
    )
    foot.setStyle(kit.grid([("FONTSIZE", (0, 0), (-1, -1), 11)]))
    story: list[Flowable] = [
        Paragraph("毕　业　证　书", big),
        Spacer(1, 8 * mm),
        body,
        Spacer(1, 10 * mm),
        foot,
    ]
    return kit.render(head, story, wide=True)
