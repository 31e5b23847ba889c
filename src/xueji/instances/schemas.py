"""Instance bodies and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from xueji.tasks.schemas import TaskItem


class StartBody(BaseModel):
    business_key: str | None = Field(None, max_length=120)
    variables: dict[str, Any] = Field(default_factory=dict)


class InstanceItem(BaseModel):
    id: str
    key: str
    version: int
    name: str
    state: str
    business_key: str | None
    station: str | None
    student: int | None
    parent_id: str | None
    started_by: str
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None


class InstanceDetail(InstanceItem):
    variables: dict[str, Any]
    active_tasks: list[TaskItem]
    pending_timers: list[dict[str, Any]]
    children: list[str]
    incidents: list[dict[str, Any]] = []


class InstancePage(BaseModel):
    items: list[InstanceItem]
    total: int
    page: int
    per_page: int


class HistoryItem(BaseModel):
    id: int
    at: datetime
    actor: str
    kind: str
    element_id: str | None
    element_name: str | None
    task_id: str | None
    data: dict[str, Any]


class CompleteResult(BaseModel):
    instance: InstanceDetail
    next_tasks: list[TaskItem]


class IncidentItem(BaseModel):
    id: int
    instance_id: str | None
    definition_id: int | None
    element_id: str | None
    message: str
    actor: str
    created_at: datetime
    resolved_at: datetime | None
