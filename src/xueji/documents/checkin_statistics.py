"""新生报到情况统计表: for an intake, per 函授站, 层次 and 专业, how many the admissions list
(招生录取库) admitted, how many checked in (a record with their 考生号 that was not refused),
how many did not, and the rate; totals per station and for the whole list."""

from __future__ import annotations

from collections import defaultdict
from itertools import groupby

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer
from sqlalchemy import null, select
from sqlalchemy.orm import Session

from xueji.auth.principal import Principal, scope_filter
from xueji.documents import sheets
from xueji.documents.layout import Kit, Letterhead, column_widths, content_width
from xueji.models import Admission, Station, Student

HEADER = ["函授站", "层次", "专业", "录取人数", "报到人数", "未报到人数", "报到率"]
REFUSED = "入学资格取消"

Row = tuple[str, str, str, int, int]  # station, level, major, admitted, checked in


def counts(session: Session, principal: Principal, intake: int) -> list[Row]:
    """The intake's admissions in the caller's scope, counted per station, level and major."""
    query = (
        select(Station.name, Admission.level, Admission.major, Student.status)
        .select_from(Admission)
        .join(Station, Station.id == Admission.station_id)
        .outerjoin(Student, Student.exam_number == Admission.exam_number)
        .where(Admission.intake_year == intake)
    )
    # an admission is a station's row, never a student's own
    clause = scope_filter(principal, Admission.station_id, null())
    if clause is not None:
        query = query.where(clause)
    tally: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for station, level, major, status in session.execute(query):
        tally[station, level, major][0] += 1
        if status is not None and status != REFUSED:
            tally[station, level, major][1] += 1
    return [(*key, admitted, checked) for key, (admitted, checked) in sorted(tally.items())]


def _rate(admitted: int, checked: int) -> str:
    return f"{checked / admitted * 100:.1f}%" if admitted else "—"


def _rows(rows: list[Row]) -> list[list[str]]:
    out: list[list[str]] = []
    for station, members in groupby(rows, key=lambda r: r[0]):
        group = list(members)
        for _, level, major, admitted, checked in group:
            out.append([station, level, major, str(admitted), str(checked),
                        str(admitted - checked), _rate(admitted, checked)])  # fmt: skip
        admitted, checked = sum(r[3] for r in group), sum(r[4] for r in group)
        out.append([f"{station} 小计", "", "", str(admitted), str(checked),
                    str(admitted - checked), _rate(admitted, checked)])  # fmt: skip
    return out


def _totals(rows: list[Row]) -> list[str]:
    admitted, checked = sum(r[3] for r in rows), sum(r[4] for r in rows)
    return ["合计", "", "", str(admitted), str(checked), str(admitted - checked),
            _rate(admitted, checked)]  # fmt: skip


def head(intake: int, station: str | None) -> Letterhead:
    return Letterhead("新生报到情况统计表", station, f"{intake}级新生")


def pdf(kit: Kit, letterhead: Letterhead, rows: list[Row]) -> bytes:
    width = content_width()
    widths = column_widths([34, 16, 0, 22, 22, 24, 20], width)
    story: list[Flowable] = kit.heading_for(letterhead)
    story += kit.closing_table(
        HEADER,
        _rows(rows),
        widths,
        [Spacer(1, 6 * mm), kit.seal_boxes(["函授站", "学院学籍管理部门"], width)],
        totals=_totals(rows),
        centered=(1, 3, 4, 5, 6),
    )
    return kit.render(letterhead, story)


def xlsx(college: str, letterhead: Letterhead, rows: list[Row]) -> bytes:
    return sheets.workbook(
        college,
        letterhead.title,
        HEADER,
        _rows(rows),
        subtitle=f"{letterhead.station or '全院'}　{letterhead.subtitle}",
        totals=_totals(rows),
        widths=[18, 8, 18, 10, 10, 10, 10],
    )
