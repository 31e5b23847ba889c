"""Deadlines with consequences: the service a task's deadline timer calls.

Each user task with a due date carries a non-interrupting boundary timer that fires at the
deadline and once more a reminder period later (xueji.deadlines.deadline_cycle). Its path
calls `escalate_overdue`, which looks at the instance's open tasks: one past its due date is
marked overdue and escalated to its role and the registrar; a reminder follows once per
period, at most twice in all. Each escalation is a history line and an event
(task.overdue, task.escalated), so inboxes and integrations see it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from xueji import clock
from xueji.deadlines import _duration
from xueji.errors import ServiceError
from xueji.history.service import record_event
from xueji.instances.context import StepContext
from xueji.models import UserTask
from xueji.process_logic.registry import service

MAX_LEVEL = 2


@service("escalate_overdue")
def escalate_overdue(
    step: StepContext, data: dict[str, Any], reminder: str | None = None
) -> dict[str, Any]:
    """Mark the instance's overdue tasks and escalate each once per reminder period."""
    session, now = step.session, clock.now()
    period = _duration(reminder or step.settings.reminder_period)
    if period is None:
        raise ServiceError(f"提醒周期 {reminder!r} 不是 ISO 8601 期间 (e.g. P7D)")
    escalated = []
    for task in session.scalars(
        select(UserTask).where(
            UserTask.instance_id == step.instance_id,
            UserTask.state == "ready",
            UserTask.due_at.is_not(None),
            UserTask.due_at <= now,
        )
    ):
        due = task.due_at
        assert due is not None  # the query asked for tasks with a due date
        due_level = min(MAX_LEVEL, 1 + int((now - due) / period))
        if task.escalation_level >= due_level:
            continue
        if task.overdue_at is None:
            task.overdue_at = now
            record_event(
                session,
                task.instance_id,
                "system:deadline",
                "task_overdue",
                element_id=task.element_id,
                element_name=task.name,
                task_id=task.id,
                data={"due_at": due.isoformat()},
                at=now,
            )
        task.escalation_level = due_level
        record_event(
            session,
            task.instance_id,
            "system:deadline",
            "task_escalated",
            element_id=task.element_id,
            element_name=task.name,
            task_id=task.id,
            data={
                "level": due_level,
                "to": sorted({task.role or "admin", "registrar"}),
                "assignee": task.assignee,
                "due_at": due.isoformat(),
            },
            at=now,
        )
        escalated.append(task.element_id)
    return {"escalated": escalated}
