"""Overdue tasks across roles, for those who supervise deadlines (registrar, leaders, admins)
and for a station's own overview: counts per station and the tasks themselves."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter
from pydantic import BaseModel

from xueji.auth.dependencies import CurrentUser
from xueji.db.dependencies import DbSession
from xueji.instances.schemas import TaskItem, task_item
from xueji.tasks.repository import overdue_tasks as overdue_query

router = APIRouter(tags=["tasks"])


class StationCount(BaseModel):
    station: str | None
    count: int


class OverdueOut(BaseModel):
    counts: list[StationCount]
    total: int
    items: list[TaskItem]


@router.get("/overdue-tasks", response_model=OverdueOut)
def overdue_tasks(session: DbSession, principal: CurrentUser) -> OverdueOut:
    """Open tasks past their due date in every instance the caller may see, whatever their
    role, with a count per station (the registrar's view of missed deadlines)."""
    items = [task_item(task) for task in session.scalars(overdue_query(principal))]
    counts = Counter(item.station for item in items)
    return OverdueOut(
        counts=[
            StationCount(station=s, count=n)
            for s, n in sorted(counts.items(), key=lambda c: c[0] or "")
        ],
        total=len(items),
        items=items,
    )
