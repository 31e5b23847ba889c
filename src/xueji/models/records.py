"""Stations and the student record (学籍). The processes issue extends the record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xueji.db.base import Base


class Station(Base):
    """A correspondence station (函授站)."""

    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class Student(Base):
    __tablename__ = "students"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    gender: Mapped[str] = mapped_column(String(2))
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    level: Mapped[str] = mapped_column(String(10))
    major: Mapped[str] = mapped_column(String(80))
    intake_year: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="在籍")
    student_number: Mapped[str | None] = mapped_column(String(15), unique=True)
    created_at: Mapped[datetime]

    station: Mapped[Station] = relationship(lazy="joined")
    user = relationship("User", lazy="joined")
