"""Instance bodies and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.principal import Principal
from xueji.events.outcomes import Outcome
from xueji.forms.attachments import attachments_of
from xueji.instances import repository
from xueji.models import ProcessInstance, Upload, UserTask


class TaskItem(BaseModel):
    id: str
    name: str
    element_id: str
    role: str | None
    state: str
    instance_id: str
    process_key: str
    # The definition version and form the task was made with: tasks of one version, element
    # and form are the same decision (and may be completed together with one form).
    definition_version: int = 0
    form_name: str | None = None
    business_key: str | None
    student: int | None
    station: str | None
    # The line the process describes the case with (休学 · 2027-春 · 张伟 (S01 郑州函授站)),
    # the kind of application, whom it is about and the station's name.
    summary: str | None = None
    kind: str | None = None
    student_name: str | None = None
    student_no: str | None = None
    station_name: str | None = None
    due_at: datetime | None
    # Past its due date (by the clock, or marked by its deadline timer), and how many
    # escalations went out (1: at the deadline, 2: the reminder).
    overdue: bool = False
    escalation_level: int = 0
    assignee: str | None
    created_at: datetime
    completed_at: datetime | None = None
    completed_by: str | None = None
    # Bumped by every change of the task (claim, unclaim, assign, complete, overdue marks);
    # send it back with claim or assign to act only on the task as you read it.
    version: int = 0


class MessageResult(BaseModel):
    name: str
    # Instances that were waiting and caught the message.
    delivered: list[str]
    # Instances the message started (when nothing was waiting for it).
    started: list[str]


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
    station_name: str | None = None
    student: int | None
    parent_id: str | None
    started_by: str
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    # The newest review's outcome (审批结果) and its reason, for the case list.
    outcome: Outcome | None = None


class AttachmentItem(BaseModel):
    """An upload the case's forms named (GET /uploads/{id}/content has its bytes)."""

    id: int
    file_name: str
    content_type: str
    size: int


class InstanceDetail(InstanceItem):
    variables: dict[str, Any]
    active_tasks: list[TaskItem]
    pending_timers: list[dict[str, Any]]
    children: list[str]
    incidents: list[dict[str, Any]] = []
    attachments: list[AttachmentItem] = []


class InstancePage(BaseModel):
    items: list[InstanceItem]
    total: int
    page: int
    per_page: int


class HistoryItem(BaseModel):
    id: int
    at: datetime
    actor: str
    # the actor's display name (a person's name, a station's name), None for the system
    actor_name: str | None = None
    kind: str
    element_id: str | None
    element_name: str | None
    task_id: str | None
    data: dict[str, Any]


class NextStep(BaseModel):
    """Where a case waits after a step, whoever works on it: the step, its lane's role, the
    station and the due date."""

    name: str
    role: str | None
    station_name: str | None
    due_at: datetime | None


class CompleteResult(BaseModel):
    instance: InstanceDetail
    # The caller's own tasks of the instance now ready.
    next_tasks: list[TaskItem]
    # Every step the case now waits at (also other people's).
    next_steps: list[NextStep] = Field(default_factory=list)


def next_step(task: UserTask) -> NextStep:
    return NextStep(
        name=task.name,
        role=task.role,
        station_name=task.station.name if task.station else None,
        due_at=task.due_at,
    )


class IncidentItem(BaseModel):
    id: int
    instance_id: str | None
    definition_id: int | None
    element_id: str | None
    message: str
    actor: str
    # kind "child_ended": a caller waiting on a terminated child (child_id, call_task_id).
    data: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    resolved_at: datetime | None


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
        definition_version=instance.definition.version,
        form_name=task.form,
        business_key=instance.business_key,
        student=task.student_id,
        station=task.station.code if task.station else None,
        summary=task.summary,
        kind=task.kind,
        student_name=task.subject_name or (task.student.name if task.student else None),
        student_no=task.student.student_number if task.student else None,
        station_name=task.station.name if task.station else None,
        due_at=task.due_at,
        overdue=task.is_overdue(clock.now()),
        escalation_level=task.escalation_level,
        assignee=task.assignee,
        created_at=task.created_at,
        completed_at=task.completed_at,
        completed_by=task.completed_by,
        version=task.version,
    )


def instance_item(instance: ProcessInstance, outcome: Outcome | None = None) -> InstanceItem:
    return InstanceItem(**_item_fields(instance), outcome=outcome)


def _item_fields(instance: ProcessInstance) -> dict[str, Any]:
    """InstanceItem's fields of an instance (InstanceDetail's too, without a model between)."""
    definition, station = instance.definition, instance.station
    return {
        "id": instance.id,
        "key": definition.key,
        "version": definition.version,
        "name": definition.name,
        "state": instance.state,
        "business_key": instance.business_key,
        "station": station.code if station else None,
        "station_name": station.name if station else None,
        "student": instance.student_id,
        "parent_id": instance.parent_id,
        "started_by": instance.started_by,
        "started_at": instance.started_at,
        "updated_at": instance.updated_at,
        "ended_at": instance.ended_at,
    }


def instance_detail(
    session: Session,
    principal: Principal,
    instance: ProcessInstance,
    *,
    active_tasks: list[UserTask] | None = None,
    children: list[str] | None = None,
    attachments: list[Upload] | None = None,
) -> InstanceDetail:
    """An instance as its reader sees it: the open tasks they may work on, incidents for admins.
    `active_tasks`, `children` and `attachments` when the caller has them already (a step
    just wrote them, or knows there are none)."""
    incidents = []
    if principal.is_admin:
        incidents = [
            {
                "id": i.id,
                "element_id": i.element_id,
                "message": i.message,
                "created_at": i.created_at.isoformat(),
            }
            for i in repository.incidents_of(session, instance.id)
        ]
    return InstanceDetail(
        **_item_fields(instance),
        outcome=None,
        variables=instance.variables,
        active_tasks=[
            task_item(t)
            for t in (
                repository.open_tasks(session, principal, instance.id)
                if active_tasks is None
                else active_tasks
            )
        ],
        pending_timers=[],
        children=repository.child_ids(session, instance.id) if children is None else children,
        incidents=incidents,
        attachments=[
            AttachmentItem(id=u.id, file_name=u.file_name, content_type=u.content_type, size=u.size)
            for u in (attachments_of(session, instance.id) if attachments is None else attachments)
        ],
    )
