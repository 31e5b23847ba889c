"""Student queries, scoped to the records a caller may read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from xueji.auth.principal import Principal, scope_filter
from xueji.errors import NotFound
from xueji.models import Station, Student


def readable_by(principal: Principal, query: Select | None = None) -> Select:
    """Students the caller may see: all for college-wide roles, else own station or self."""
    query = query if query is not None else select(Student)
    clause = scope_filter(principal, Student.station_id, Student.id)
    return query if clause is None else query.where(clause)


def get_readable(session: Session, principal: Principal, student_id: int) -> Student:
    student = session.scalar(readable_by(principal).where(Student.id == student_id))
    if student is None:
        raise NotFound(f"no student {student_id}")
    return student


@dataclass(frozen=True)
class StudentFilters:
    """Query filters shared by the student list and the statistics."""

    station: str | None = None
    level: str | None = None
    major: str | None = None
    intake: int | None = None
    status: str | None = None

    def apply(self, query: Select) -> Select:
        """The query narrowed by every filter given."""
        if self.station:
            query = query.where(
                Student.station_id
                == select(Station.id).where(Station.code == self.station).scalar_subquery()
            )
        if self.level:
            query = query.where(Student.level == self.level)
        if self.major:
            query = query.where(Student.major == self.major)
        if self.intake is not None:
            query = query.where(Student.intake_year == self.intake)
        if self.status:
            query = query.where(Student.status == self.status)
        return query
