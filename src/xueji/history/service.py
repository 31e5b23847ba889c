"""Writing history lines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from xueji import clock
from xueji.db import pending_rows
from xueji.events.service import FROM_HISTORY, emit
from xueji.models import HistoryEvent

HISTORY = HistoryEvent.__table__


def record_event(
    session: Session,
    instance_id: str,
    actor: str,
    kind: str,
    *,
    element_id: str | None = None,
    element_name: str | None = None,
    task_id: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """One history line (and the outbox event it stands for), written with the session's
    next statement or commit (`xueji.db.pending_rows`)."""
    at = at or clock.now()
    pending_rows.add(
        session,
        HISTORY,
        {
            "instance_id": instance_id,
            "at": at,
            "actor": actor,
            "kind": kind,
            "element_id": element_id,
            "element_name": element_name,
            "task_id": task_id,
            "data": data or {},
        },
    )
    event_type = FROM_HISTORY.get(kind)
    if event_type is not None:
        emit(
            session,
            event_type,
            at,
            instance_id=instance_id,
            task_id=task_id,
            actor=actor,
            element_id=element_id,
            element_name=element_name,
            data=data,
        )
