"""Writing events: every history line that integrations care about becomes an outbox event,
in the same transaction, with one delivery row per webhook that asked for its type — so no
event is lost, and none is sent for a change that rolled back."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from xueji.db import pending_rows
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

# Active webhooks are read once and shared by every request of the process, not selected
# on every step: at most WEBHOOK_CACHE_SECONDS old. A change made in this process clears
# the cache when its transaction commits; one made by another API process reaches this one
# within WEBHOOK_CACHE_SECONDS (so an event in that window may miss a webhook just
# registered elsewhere, or reach one just removed, whose delivery is then still sent).
WEBHOOK_CACHE_SECONDS = 2.0
_CHANGED = "xueji_webhooks_changed"
# Set once a transaction wrote an event as an ORM object (it had webhook deliveries).
_AS_OBJECTS = "xueji_outbox_as_objects"
OUTBOX = OutboxEvent.__table__
_cache: tuple[float, list[tuple[int, list[str]]]] | None = None
_cache_lock = threading.Lock()


def _active_webhooks(session: Session) -> list[tuple[int, list[str]]]:
    global _cache
    with _cache_lock:
        cached = _cache
    if cached is not None and time.monotonic() - cached[0] < WEBHOOK_CACHE_SECONDS:
        return cached[1]
    read_at = time.monotonic()
    hooks = [
        (hook_id, list(types))
        for hook_id, types in session.execute(
            select(Webhook.id, Webhook.event_types).where(Webhook.active)
        )
    ]
    if not session.info.get(_CHANGED):  # never share what this transaction has not committed
        with _cache_lock:
            _cache = (read_at, hooks)
    return hooks


def clear_webhook_cache() -> None:
    """Read the webhooks afresh at the next event (after a change, or rows deleted in SQL)."""
    global _cache
    with _cache_lock:
        _cache = None


def forget_webhooks(session: Session) -> None:
    """Webhooks were changed in this transaction: read them afresh now, and again for every
    request once it has committed."""
    session.info[_CHANGED] = True
    clear_webhook_cache()


@event.listens_for(Session, "after_commit")
def _changed_webhooks_committed(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        clear_webhook_cache()


@event.listens_for(Session, "after_rollback")
def _changed_webhooks_rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)


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
) -> None:
    """Write one event (and its webhook deliveries) into the caller's transaction."""
    instance = session.get(ProcessInstance, instance_id) if instance_id else None
    if data and "role" in data:  # a new task's role (its row may not be written yet)
        role = data["role"]
    else:
        task = session.get(UserTask, task_id) if task_id else None
        role = task.role if task is not None else None
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
    row = {
        "type": event_type,
        "at": at,
        "instance_id": instance_id,
        "task_id": task_id,
        "station_id": instance.station_id if instance else None,
        "student_id": instance.student_id if instance else None,
        "role": role,
        "payload": payload,
    }
    hooks = [hook_id for hook_id, types in _active_webhooks(session) if event_type in types]
    if not hooks and not session.info.get(_AS_OBJECTS):
        pending_rows.add(session, OUTBOX, row)  # with the step's other rows, in one INSERT
        return
    # Its deliveries refer to the event's id: from here on this transaction's events are ORM
    # objects (those queued before it first), so that their ids keep the order they came in.
    session.info[_AS_OBJECTS] = True
    session.add_all([OutboxEvent(**earlier) for earlier in pending_rows.take(session, OUTBOX)])
    outbox_event = OutboxEvent(**row)
    session.add(outbox_event)
    for hook_id in hooks:  # written with the event in the step's one flush
        session.add(
            WebhookDelivery(
                webhook_id=hook_id, event=outbox_event, state="pending", next_attempt_at=at
            )
        )


@event.listens_for(Session, "after_transaction_end")
def _events_as_rows_again(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_AS_OBJECTS, None)
