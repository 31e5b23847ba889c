"""Student record responses: list items, the full record, statistics."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from xueji.instances.schemas import InstanceItem


class StudentItem(BaseModel):
    id: int
    student_number: str | None = Field(description="学号 (XH), once registered")
    name: str
    gender: str
    id_number: str = Field(
        description="身份证号; digits 7-14 are masked unless the caller is the student, "
        "registrar, admin or station staff"
    )
    level: str
    major: str
    intake_year: int
    station: str = Field(description="Station code, e.g. S01")
    station_name: str
    status: str
    photo_status: str


class StudentPage(BaseModel):
    items: list[StudentItem]
    total: int
    page: int
    per_page: int


class StatusChangeOut(BaseModel):
    id: int
    from_status: str | None
    to_status: str
    kind: str | None
    reason: str | None
    effective_on: date | None
    details: dict[str, Any] | None
    instance_id: str | None
    changed_by: str
    changed_at: datetime


class GradeOut(BaseModel):
    id: int
    course_code: str
    course_name: str
    credits: float
    term: str
    attempt: int
    kind: str
    score: float | None
    passed: bool
    official: bool
    instance_id: str | None
    recorded_at: datetime


class ThesisOut(BaseModel):
    id: int
    title: str | None
    advisor: str | None
    eligible: bool | None
    grade: str | None
    passed: bool | None
    excellent: bool
    instance_id: str | None
    recorded_at: datetime


class StudentDetail(StudentItem):
    """The whole record (national field names in the descriptions) and what happened to it."""

    exam_number: str | None = Field(description="考生号 KSH")
    birth_date: date | None = Field(description="出生日期 CSRQ")
    political_status: str | None = Field(description="政治面貌 ZZMM")
    ethnicity: str | None = Field(description="民族 MZ")
    major_id: int | None
    major_code: str | None = Field(description="专业代码 ZYDM")
    years: str | None = Field(description="学制 XZ")
    study_mode: str = Field(description="学习形式 XXXS")
    enrolled_on: date | None = Field(description="入学日期 RXRQ")
    class_code: str | None = Field(description="班号 BH")
    class_name: str | None
    expected_graduation: date | None = Field(description="预计毕业日期 YJBYRQ")
    remarks: str | None = Field(description="备注 BZ")
    address: str | None
    phone: str | None
    work_unit: str | None
    photo_upload_id: int | None
    graduated_on: date | None = Field(description="毕业日期 BYRQ")
    certificate_number: str | None = Field(description="毕（结）业证书编号 ZSBH")
    conclusion: str | None = Field(description="毕结业结论 BYJL")
    deferred_season: str | None = Field(
        description="缓验: the graduation season the student was deferred in (e.g. 2028春季)"
    )
    deferral_reason: str | None = Field(description="缓验原因")
    created_at: datetime
    updated_at: datetime | None
    status_history: list[StatusChangeOut]
    grades: list[GradeOut]
    theses: list[ThesisOut]
    instances: list[InstanceItem] = Field(description="Process instances about this student")


class StatisticsOut(BaseModel):
    group_by: list[str]
    rows: list[dict[str, str | int | None]] = Field(
        description="One row per group: the group's values and `count`"
    )
    total: int
    station_names: dict[str, str] = Field(
        description="Grouped by station: the name of each station code in the rows"
    )


class CrossRowOut(BaseModel):
    station: str = Field(description="Station code")
    station_name: str
    level: str
    major: str
    counts: dict[str, int] = Field(description="Students by 学籍状态 (statuses with none left out)")
    total: int


class CrossTableOut(BaseModel):
    """函授站 × 层次 × 专业 down, 学籍状态 across."""

    intake: int | None = Field(description="The 年级 (intake year) counted, or null for all")
    statuses: list[str] = Field(description="The columns: every status counted, in records order")
    rows: list[CrossRowOut]
    totals: dict[str, int] = Field(description="Per status, over all rows")
    total: int
