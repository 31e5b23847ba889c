"""学籍卡: one student's record on one page, with the photo the college keeps for them, the
status changes and the standing results, and the seals of the station and the college."""

from __future__ import annotations

import io

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Image, Spacer, Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji.documents.layout import GRID, SHADE, Kit, Letterhead, content_width, day, station_label
from xueji.models import SchoolClass, StatusChange, Student, Upload
from xueji.students.grades import standing_grades, term_order
from xueji.uploads.service import content_of
from xueji.uploads.storage import storage_for

PHOTO_TYPES = ("image/jpeg", "image/png")


def file_stem(student: Student) -> str:
    return f"学籍卡_{student.student_number or student.exam_number or student.id}_{student.name}"


def render(kit: Kit, session: Session, student: Student, id_number: str) -> bytes:
    """The card's PDF; `id_number` as the caller may see it (masked or whole)."""
    head = Letterhead("学生学籍卡", station_label(student.station.name, student.station.code))
    width = content_width()
    story: list[Flowable] = [*kit.heading_for(head), _record(kit, session, student, id_number)]
    story += kit.section("学籍异动记录")
    changes = list(
        session.scalars(
            select(StatusChange)
            .where(StatusChange.student_id == student.id)
            .order_by(StatusChange.changed_at, StatusChange.id)
        )
    )
    story.append(
        kit.table(
            ["日期", "类别", "原状态", "新状态", "原因"],
            [
                [day(c.effective_on or c.changed_at), c.kind or "", c.from_status or "",
                 c.to_status, c.reason or ""]
                for c in changes
            ]
            or [["", "无", "", "", ""]],
            [25 * mm, 25 * mm, 22 * mm, 22 * mm, width - 94 * mm],
            centered=(0, 1, 2, 3),
        )
    )  # fmt: skip
    story += kit.section("课程成绩")
    grades = sorted(
        standing_grades(session, [student.id])[student.id].values(),
        key=lambda g: (term_order(g.term), g.course.code),
    )
    story.append(
        kit.table(
            ["学期", "课程代码", "课程名称", "学分", "成绩", "类别"],
            [
                [g.term, g.course.code, g.course.name, f"{g.course.credits:g}",
                 "" if g.score is None else f"{g.score:g}", g.kind]
                for g in grades
            ]
            or [["", "", "无", "", "", ""]],
            [22 * mm, 24 * mm, width - 104 * mm, 16 * mm, 18 * mm, 24 * mm],
            centered=(0, 1, 3, 4, 5),
        )
    )  # fmt: skip
    story += [Spacer(1, 6 * mm), kit.seal_boxes(["函授站", "学院学籍管理部门"], width)]
    return kit.render(head, story)


def _record(kit: Kit, session: Session, student: Student, id_number: str) -> Table:
    school_class = session.get(SchoolClass, student.class_id) if student.class_id else None
    pairs = [
        ("姓名", student.name, "性别", student.gender),
        ("出生日期", day(student.birth_date), "民族", student.ethnicity or ""),
        ("身份证号", id_number, "政治面貌", student.political_status or ""),
        ("考生号", student.exam_number or "", "学号", student.student_number or ""),
        ("层次", student.level, "专业", student.major),
        ("学习形式", student.study_mode, "入学年份", f"{student.intake_year}"),
        ("入学日期", day(student.enrolled_on), "预计毕业", day(student.expected_graduation)),
        ("班级", school_class.name if school_class else "", "学籍状态", student.status),
    ]
    rows: list[list] = [[kit.p(v) for v in row] + [""] for row in pairs]
    wide = [
        ("工作单位", student.work_unit or ""),
        ("联系电话", student.phone or ""),
        ("通讯地址", student.address or ""),
        ("备注", student.remarks or ""),
    ]
    for label, value in wide:
        rows.append([kit.p(label), kit.p(value), "", "", ""])
    rows[0][4] = _photo(kit, session, student)
    width = content_width()
    photo_width = 36 * mm
    label = 20 * mm
    value = (width - photo_width - 2 * label) / 2
    table = Table(rows, colWidths=[label, value, label, value, photo_width])
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("SPAN", (4, 0), (4, len(pairs) - 1)),
        ("ALIGN", (4, 0), (4, 0), "CENTER"),
        ("BACKGROUND", (0, 0), (0, -1), SHADE),
        ("BACKGROUND", (2, 0), (2, len(pairs) - 1), SHADE),
    ]
    for index in range(len(pairs), len(rows)):
        style.append(("SPAN", (1, index), (4, index)))
    table.setStyle(kit.grid(style))
    return table


def _photo(kit: Kit, session: Session, student: Student) -> Flowable:
    """The stored photo (33 × 45 mm, a 2-inch ID photo), else an empty frame saying 照片."""
    upload = session.get(Upload, student.photo_upload_id) if student.photo_upload_id else None
    if upload is not None and upload.content_type in PHOTO_TYPES:
        return Image(
            io.BytesIO(content_of(upload, storage_for(kit.settings))),
            width=30 * mm,
            height=40 * mm,
            kind="bound",
        )
    return kit.p("照片", kit.cell_center)
