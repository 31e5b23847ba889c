"""学籍数据统计 as a cross table: 函授站 × 层次 × 专业 down, 学籍状态 across, for one 年级 or
all, within the caller's scope (a station counts only its own students)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xueji.auth.principal import Principal
from xueji.models import Station, Student
from xueji.students.records import STATUSES
from xueji.students.repository import StudentFilters, readable_by
from xueji.students.schemas import CrossRowOut, CrossTableOut

LEVELS = ("专科", "本科", "专升本")


def _order(values: tuple[str, ...], value: str) -> tuple[int, str]:
    return (values.index(value) if value in values else len(values), value)


def cross_table(session: Session, principal: Principal, filters: StudentFilters) -> CrossTableOut:
    """Counts by station, level and major (rows) and status (columns), with totals."""
    query = (
        select(
            Station.code, Station.name, Student.level, Student.major, Student.status, func.count()
        )
        .select_from(Student)
        .join(Station, Station.id == Student.station_id)
        .group_by(Station.code, Station.name, Student.level, Student.major, Student.status)
    )
    counts: dict[tuple[str, str, str, str], dict[str, int]] = defaultdict(dict)
    for code, name, level, major, status, count in session.execute(
        filters.apply(readable_by(principal, query))
    ):
        counts[code, name, level, major][status] = count
    statuses = sorted(
        {status for row in counts.values() for status in row}, key=lambda s: _order(STATUSES, s)
    )
    # Sorted here: database collations order Chinese differently; code points are stable.
    keys = sorted(counts, key=lambda k: (k[0], _order(LEVELS, k[2]), k[3]))
    rows = [
        CrossRowOut(
            station=code,
            station_name=name,
            level=level,
            major=major,
            counts=counts[code, name, level, major],
            total=sum(counts[code, name, level, major].values()),
        )
        for code, name, level, major in keys
    ]
    totals = {s: sum(r.counts.get(s, 0) for r in rows) for s in statuses}
    return CrossTableOut(
        intake=filters.intake,
        statuses=statuses,
        rows=rows,
        totals=totals,
        total=sum(totals.values()),
    )
