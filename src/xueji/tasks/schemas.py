"""Task bodies and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from xueji import clock
from xueji.models import UserTask


class TaskItem(BaseModel):
    id: str
    name: str
    element_id: str
    role: str | None
    state: str
    instance_id: str
    process_key: str
    business_key: str | None
    student: int | None
    station: str | None
    due_at: datetime | None
    # Past its due date (by the clock, or marked by its deadline timer), and how many
    # escalations went out (1: at the deadline, 2: the reminder).
    overdue: bool = False
    escalation_level: int = 0
    assignee: str | None
    created_at: datetime
    completed_at: datetime | None = None
    completed_by: str | None = None


class FormOut(BaseModel):
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    ui_schema: dict[str, Any] | None = None

    model_config = {"populate_by_name": True}


class TaskDetail(TaskItem):
    form: FormOut
    data: dict[str, Any]
    documentation: str | None


class TaskPage(BaseModel):
    items: list[TaskItem]
    total: int
    page: int
    per_page: int


class CompleteBody(BaseModel):
    data: dict[str, Any] = Field(default_factory=dict)


class BatchItem(BaseModel):
    id: str
    data: dict[str, Any] = Field(default_factory=dict)


class CompleteBatchBody(BaseModel):
    tasks: list[BatchItem] = Field(min_length=1, max_length=500)


class CompleteBatchResult(BaseModel):
    completed: int
    # The instances the tasks belonged to, in the order first completed.
    instances: list[str]
    # Tasks of those instances that are ready for the caller afterwards.
    next_tasks: list[TaskItem]


class AssignBody(BaseModel):
    username: str


def task_item(task: UserTask) -> TaskItem:
    instance = task.instance
    return TaskItem(
        id=task.id,
        name=task.name,
        element_id=task.element_id,
        role=task.role,
        state=task.state,
        instance_id=task.instance_id,
        process_key=instance.definition.key,
        business_key=instance.business_key,
        student=task.student_id,
        station=task.station.code if task.station else None,
        due_at=task.due_at,
        overdue=task.is_overdue(clock.now()),
        escalation_level=task.escalation_level,
        assignee=task.assignee,
        created_at=task.created_at,
        completed_at=task.completed_at,
        completed_by=task.completed_by,
    )
