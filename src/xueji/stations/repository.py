"""Station queries."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xueji.models import Station, Student, User


def all_stations(session: Session) -> list[Station]:
    return list(session.scalars(select(Station).order_by(Station.code)))


def by_code(session: Session, code: str) -> Station | None:
    return session.scalar(select(Station).where(Station.code == code))


def head_counts(session: Session, station: Station) -> tuple[int, int]:
    """(staff accounts, students) of a station."""
    staff = session.scalar(select(func.count()).where(User.station_id == station.id)) or 0
    students = session.scalar(select(func.count()).where(Student.station_id == station.id)) or 0
    return staff, students
