"""Writing events: every history line that integrations care about becomes an outbox event,
in the same transaction, with one delivery row per webhook that asked for its type — so no
event is lost, and none is sent for a change that rolled back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji.models import OutboxEvent, ProcessInstance, UserTask, Webhook, WebhookDelivery

EVENT_TYPES = (
    "task.created",
    "task.assigned",
    "task.completed",
    "task.overdue",
    "task.escalated",
    "instance.started",
    "instance.completed",
    "instance.terminated",
    "instance.failed",
)

# history kind -> event type
FROM_HISTORY = {
    "task_created": "task.created",
    "task_claimed": "task.assigned",
    "task_assigned": "task.assigned",
    "task_completed": "task.completed",
    "task_overdue": "task.overdue",
    "task_escalated": "task.escalated",
    "instance_started": "instance.started",
    "instance_completed": "instance.completed",
    "instance_terminated": "instance.terminated",
    "step_failed": "instance.failed",
}

_WEBHOOKS = "xueji_active_webhooks"


def _active_webhooks(session: Session) -> list[tuple[int, list[str]]]:
    # Looked up once per transaction: events come in bursts within one step.
    if _WEBHOOKS not in session.info:
        session.info[_WEBHOOKS] = [
            (hook.id, hook.event_types)
            for hook in session.scalars(select(Webhook).where(Webhook.active))
        ]
    return session.info[_WEBHOOKS]


def forget_webhooks(session: Session) -> None:
    session.info.pop(_WEBHOOKS, None)


def emit(
    session: Session,
    event_type: str,
    at: datetime,
    *,
    instance_id: str | None,
    task_id: str | None = None,
    actor: str,
    element_id: str | None = None,
    element_name: str | None = None,
    data: dict[str, Any] | None = None,
) -> OutboxEvent:
    """Write one event (and its webhook deliveries) into the caller's transaction."""
    instance = session.get(ProcessInstance, instance_id) if instance_id else None
    task = session.get(UserTask, task_id) if task_id else None
    role = task.role if task is not None else (data or {}).get("role")
    payload = {
        "type": event_type,
        "at": at.isoformat(),
        "actor": actor,
        "instance_id": instance_id,
        "process_key": instance.definition.key if instance else None,
        "business_key": instance.business_key if instance else None,
        "station": instance.station.code if instance and instance.station else None,
        "student": instance.student_id if instance else None,
        "task_id": task_id,
        "element_id": element_id,
        "element_name": element_name,
        "role": role,
        "data": data or {},
    }
    event = OutboxEvent(
        type=event_type,
        at=at,
        instance_id=instance_id,
        task_id=task_id,
        station_id=instance.station_id if instance else None,
        student_id=instance.student_id if instance else None,
        role=role,
        payload=payload,
    )
    session.add(event)
    hooks = [hook_id for hook_id, types in _active_webhooks(session) if event_type in types]
    if hooks:
        session.flush()
        for hook_id in hooks:
            session.add(
                WebhookDelivery(
                    webhook_id=hook_id, event_id=event.id, state="pending", next_attempt_at=at
                )
            )
    return event
