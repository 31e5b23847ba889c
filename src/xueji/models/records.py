"""The student record (学籍): stations, majors, intakes, classes, students and what happens to
them — status history, grades, theses, photos. Column comments give the national field names
(records.md) that imports and exports use."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xueji.db.base import Base


class Station(Base):
    """A correspondence station (函授站, XSH)."""

    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class Major(Base):
    """A major (专业) at a level; code ZYDM, name ZYMC, years XZ."""

    __tablename__ = "majors"
    __table_args__ = (UniqueConstraint("code", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(80))
    level: Mapped[str] = mapped_column(String(10))  # 专科 | 本科 | 专升本
    years: Mapped[str] = mapped_column(String(5), default="2.5")


class SchoolClass(Base):
    """A class (班级, BH) of one station, intake and major."""

    __tablename__ = "classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    major_id: Mapped[int] = mapped_column(ForeignKey("majors.id"))
    intake_year: Mapped[int]


class Admission(Base):
    """One row of the admissions list (招生录取库) the province sends: who was admitted where."""

    __tablename__ = "admissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_number: Mapped[str] = mapped_column(String(18), unique=True)  # KSH
    name: Mapped[str] = mapped_column(String(40))
    gender: Mapped[str] = mapped_column(String(2))
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    level: Mapped[str] = mapped_column(String(10))
    major: Mapped[str] = mapped_column(String(80))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    intake_year: Mapped[int]


class Student(Base):
    __tablename__ = "students"
    __table_args__ = (Index("ix_students_scope", "station_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    exam_number: Mapped[str | None] = mapped_column(String(18), unique=True)  # KSH
    student_number: Mapped[str | None] = mapped_column(String(15), unique=True)  # XH
    name: Mapped[str] = mapped_column(String(40))  # XM
    gender: Mapped[str] = mapped_column(String(2))  # XB
    birth_date: Mapped[date | None]  # CSRQ
    id_number: Mapped[str] = mapped_column(String(18), unique=True)  # SFZH
    political_status: Mapped[str | None] = mapped_column(String(20))  # ZZMM
    ethnicity: Mapped[str | None] = mapped_column(String(20))  # MZ
    level: Mapped[str] = mapped_column(String(10))  # CC (专科 | 本科 | 专升本)
    major: Mapped[str] = mapped_column(String(80))  # ZYMC
    major_id: Mapped[int | None] = mapped_column(ForeignKey("majors.id"))
    study_mode: Mapped[str] = mapped_column(String(10), default="函授")  # XXXS
    intake_year: Mapped[int]
    enrolled_on: Mapped[date | None]  # RXRQ
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"))  # BH
    expected_graduation: Mapped[date | None]  # YJBYRQ
    remarks: Mapped[str | None] = mapped_column(String(200))  # BZ
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    work_unit: Mapped[str | None] = mapped_column(String(120))
    photo_upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))
    photo_status: Mapped[str] = mapped_column(String(20), default="未采集")
    status: Mapped[str] = mapped_column(String(20), default="在籍")
    graduated_on: Mapped[date | None]  # BYRQ
    certificate_number: Mapped[str | None] = mapped_column(String(18), unique=True)  # ZSBH
    conclusion: Mapped[str | None] = mapped_column(String(10))  # BYJL 毕业 | 结业 | 肄业
    # 缓验 (7): the season the student's graduation was deferred in, e.g. 2028春季, and why;
    # cleared when the student graduates. The student is offered again in later seasons.
    deferred_season: Mapped[str | None] = mapped_column(String(10))
    deferral_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]

    station: Mapped[Station] = relationship(lazy="joined")
    user = relationship("User", lazy="joined")


class StatusChange(Base):
    """One dated change of a student's status (学籍状态), with the instance that made it."""

    __tablename__ = "student_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str | None] = mapped_column(String(20))  # e.g. 休学, 转专业, 个人信息更正
    reason: Mapped[str | None] = mapped_column(String(300))
    effective_on: Mapped[date | None]
    details: Mapped[dict | None] = mapped_column(JSON)
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("process_instances.id"))
    changed_by: Mapped[str] = mapped_column(String(80))
    changed_at: Mapped[datetime]


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    credits: Mapped[float] = mapped_column(default=0)


class Grade(Base):
    """A course result of one term; attempt 0 is the exam, 1… the makeups (补考, 清考)."""

    __tablename__ = "grades"
    __table_args__ = (UniqueConstraint("student_id", "course_id", "term", "attempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    term: Mapped[str] = mapped_column(String(10))  # e.g. 2027-春
    attempt: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(10), default="考试")  # 考试 | 补考 | 清考 | 免修
    score: Mapped[float | None]
    passed: Mapped[bool]
    official: Mapped[bool] = mapped_column(default=False)  # entered into the college's records
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("process_instances.id"))
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime]

    course: Mapped[Course] = relationship(lazy="joined")


class ThesisResult(Base):
    """毕业设计（论文）: advisor, defence eligibility and grade."""

    __tablename__ = "thesis_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    advisor: Mapped[str | None] = mapped_column(String(80))
    eligible: Mapped[bool | None]
    grade: Mapped[str | None] = mapped_column(String(10))  # 优秀 良好 中等 及格 不及格
    passed: Mapped[bool | None]
    excellent: Mapped[bool] = mapped_column(default=False)
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("process_instances.id"))
    recorded_at: Mapped[datetime]


class Sequence(Base):
    """Counters that hand out numbers once (学号 per intake, certificate numbers per year)."""

    __tablename__ = "sequences"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class Upload(Base):
    """A file a user uploaded (photo, scan) or the service generated (roster, sheet)."""

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # The bytes are in the storage under sha256 (xueji.uploads.storage); only rows written
    # before it carry them here.
    content: Mapped[bytes | None]
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"))
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("process_instances.id"))
    generated: Mapped[bool] = mapped_column(default=False)
    uploaded_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]


class Attachment(Base):
    """An upload a case used: named in a form its task, start or message accepted. Whoever
    reads the case reads it; it is refused in another student's case."""

    __tablename__ = "attachments"

    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instances.id"), primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id"), primary_key=True, index=True)
    field: Mapped[str] = mapped_column(String(200))  # the form field that first named it
    attached_by: Mapped[str] = mapped_column(String(80))
    attached_at: Mapped[datetime]
