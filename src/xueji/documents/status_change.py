"""学籍异动审批表: the application and every signing step of a 学籍异动 case, filled from the
case's data (each review's `sign_<step>` record: signer, time, outcome, opinion) and, for the
steps that are not reviews (报教育厅审核备案, 修改学籍), from the history of who completed them."""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji.documents.layout import (
    GRID,
    SHADE,
    Kit,
    Letterhead,
    Signature,
    content_width,
    day,
    station_label,
)
from xueji.forms.signatures import variable
from xueji.models import HistoryEvent, ProcessInstance, SchoolClass, Station, Student, User

KEY = "status_change"
OUTCOMES = {"approved": "通过", "rejected": "未通过"}
# The reviews, in the order the diagram runs them: element id, the box's label, sealed.
REVIEWS = [
    ("station_review", "函授站意见", True),
    ("college_review", "学院审核意见", True),
    ("leader_sign", "学籍主管领导签批", False),
]


def file_stem(instance: ProcessInstance, student: Student | None) -> str:
    who = f"{student.student_number or student.id}_{student.name}" if student else instance.id[:8]
    return f"学籍异动审批表_{who}"


def render(kit: Kit, session: Session, instance: ProcessInstance, id_number: str | None) -> bytes:
    data = instance.variables or {}
    application = data.get("application") or {}
    student = session.get(Student, instance.student_id) if instance.student_id else None
    station = session.get(Station, instance.station_id) if instance.station_id else None
    kind = application.get("kind") or data.get("kind") or ""
    head = Letterhead(
        "学籍异动审批表",
        station_label(station.name, station.code) if station else None,
        f"异动类别：{kind}　　编号：{instance.business_key or instance.id[:8]}",
    )
    width = content_width()
    story: list[Flowable] = kit.heading_for(head)
    story.append(_student_table(kit, session, student, id_number, data, width))
    story.append(Spacer(1, 3 * mm))
    details = [
        ["异动类别", kind, "生效学期", application.get("effective_term", "")],
        ["异动原因", application.get("reason", ""), "", ""],
    ]
    if application.get("target_major"):
        details.append(["转入专业", application["target_major"], "", ""])
    if application.get("target_station"):
        details.append(["转入函授站", application["target_station"], "", ""])
    for field, change in (application.get("corrections") or {}).items():
        details.append([f"更正：{field}", str(change), "", ""])
    attachments = data.get("attachments") or []
    details.append(["证明材料", f"{len(attachments)} 份" if attachments else "无", "", ""])
    story.append(_grid(kit, details, width))
    story.append(Spacer(1, 3 * mm))
    story.append(kit.signatures(_signatures(session, instance, student, data), width))
    return kit.render(head, story)


def _student_table(
    kit: Kit,
    session: Session,
    student: Student | None,
    id_number: str | None,
    data: dict[str, Any],
    width: float,
) -> Table:
    if student is None:
        return _grid(kit, [["学生", "（学院代为申请）", "", ""]], width)
    school_class = session.get(SchoolClass, student.class_id) if student.class_id else None
    rows = [
        ["姓名", student.name, "学号", student.student_number or ""],
        ["性别", student.gender, "身份证号", id_number or ""],
        ["层次", student.level, "专业", student.major],
        ["班级", school_class.name if school_class else "", "入学年份", str(student.intake_year)],
        ["学籍状态", student.status, "联系电话", data.get("phone") or student.phone or ""],
    ]
    return _grid(kit, rows, width)


def _grid(kit: Kit, rows: list[list[Any]], width: float) -> Table:
    """Label/value pairs, two to a row; a row whose second pair is empty spans the width."""
    label = 24 * mm
    value = (width - 2 * label) / 2
    table = Table([[kit.p(v) for v in row] for row in rows], colWidths=[label, value, label, value])
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (0, -1), SHADE),
    ]
    for index, row in enumerate(rows):
        if row[2] == "" and row[3] == "":
            style.append(("SPAN", (1, index), (3, index)))
        else:
            style.append(("BACKGROUND", (2, index), (2, index), SHADE))
    table.setStyle(kit.grid(style))
    return table


def _signatures(
    session: Session, instance: ProcessInstance, student: Student | None, data: dict[str, Any]
) -> list[Signature]:
    done = _completions(session, instance.id)
    names = _display_names(session, [e.actor for e in done.values()])
    filled = done.get("fill_form")
    rows = [
        Signature(
            "学生申请",
            data.get("statement") or (data.get("application") or {}).get("reason", ""),
            student.name if student else names.get(instance.started_by, instance.started_by),
            day(filled.at if filled else instance.started_at),
        )
    ]
    for element_id, label, seal in REVIEWS:
        signed = data.get(variable(element_id))
        if not signed:
            rows.append(Signature(label, seal=seal))
            continue
        parts = [OUTCOMES.get(signed.get("outcome"), "")] if signed.get("outcome") else []
        parts += [signed[k] for k in ("opinion", "reason") if signed.get(k)]
        rows.append(
            Signature(
                label,
                "；".join(parts),
                signed.get("signer_name") or signed.get("signer", ""),
                day(signed.get("signed_at")),
                seal,
            )
        )
    filing = done.get("province_filing")
    rows.append(
        Signature(
            "教育厅审核备案",
            "；".join(
                text
                for text in (
                    f"备案编号：{data['filing_number']}" if data.get("filing_number") else "",
                    f"报送日期：{data['reported_on']}" if data.get("reported_on") else "",
                )
                if text
            ),
            names.get(filing.actor, filing.actor) if filing else "",
            day(filing.at) if filing else "",
        )
    )
    update = done.get("update_record")
    changes = [
        f"{c.get('field', '')}：{c.get('before')} → {c.get('after', '')}"
        if c.get("before") not in (None, "")
        else f"{c.get('field', '')}：{c.get('after', '')}"
        for c in data.get("change_preview") or []
        if isinstance(c, dict)
    ]
    rows.append(
        Signature(
            "修改学籍",
            ("已按审批结果修改学籍记录。" + "；".join(changes)) if update else "",
            names.get(update.actor, update.actor) if update else "",
            day(update.at) if update else "",
        )
    )
    return rows


def _completions(session: Session, instance_id: str) -> dict[str, HistoryEvent]:
    """The last completion of each user task of the case, by element id."""
    events = session.scalars(
        select(HistoryEvent)
        .where(HistoryEvent.instance_id == instance_id, HistoryEvent.kind == "task_completed")
        .order_by(HistoryEvent.at, HistoryEvent.id)
    )
    return {e.element_id: e for e in events if e.element_id}


def _display_names(session: Session, usernames: list[str]) -> dict[str, str]:
    if not usernames:
        return {}
    rows = session.execute(
        select(User.username, User.display_name).where(User.username.in_(set(usernames)))
    )
    return {username: name for username, name in rows}
