"""What the applicants and stations are told about their cases, read from the events the
service emits: a review's outcome (审批结果, api.md's outcome ids) and its reason, from each
`task.completed` whose form had an `outcome`, and a case that ended."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji.models import OutboxEvent

# api.md's outcome ids in the seed's words.
OUTCOME_NAMES = {
    "approved": "通过",
    "rejected": "未通过",
    "correct": "正确",
    "wrong": "有误",
    "passed": "及格",
    "failed": "不及格",
    "unified": "统一拍摄",
    "individual": "未统一拍摄",
    "photo_wrong": "照片有误",
    "other_wrong": "其他信息有误",
    "deferred": "缓验",
}
# Outcomes that send a case back or refuse it (their reason is required, api.md).
NEGATIVE = {"rejected", "wrong", "failed", "photo_wrong", "other_wrong", "deferred"}
ENDINGS = {"instance.completed": "已办结", "instance.terminated": "已终止"}
NOTIFIED = ("task.completed", *ENDINGS)


class Outcome(BaseModel):
    """One thing that happened to a case: a review's outcome, or its end."""

    id: int
    at: datetime
    type: str
    instance_id: str | None
    process_key: str | None
    business_key: str | None
    student: int | None
    station: str | None
    # The step that decided (its name), who decided and what, in ids and in Chinese.
    step: str | None = None
    actor: str
    outcome: str | None = None
    outcome_name: str | None = None
    negative: bool = False
    reason: str | None = None


def outcome_of(event: OutboxEvent) -> Outcome | None:
    """The event as an outcome, or None when it tells nothing of one."""
    payload: dict[str, Any] = event.payload or {}
    data = payload.get("data") or {}
    outcome = data.get("outcome") if event.type == "task.completed" else None
    if event.type == "task.completed" and outcome not in OUTCOME_NAMES:
        return None
    reason = data.get("reason") if isinstance(data.get("reason"), str) else None
    return Outcome(
        id=event.id,
        at=event.at,
        type=event.type,
        instance_id=event.instance_id,
        process_key=payload.get("process_key"),
        business_key=payload.get("business_key"),
        student=payload.get("student"),
        station=payload.get("station"),
        step=payload.get("element_name"),
        actor=payload.get("actor") or "",
        outcome=outcome,
        outcome_name=OUTCOME_NAMES.get(outcome) if outcome else ENDINGS.get(event.type),
        negative=outcome in NEGATIVE or event.type == "instance.terminated",
        reason=reason,
    )


def outcomes(events: Iterable[OutboxEvent]) -> list[Outcome]:
    return [found for event in events if (found := outcome_of(event)) is not None]


def latest_outcomes(session: Session, instance_ids: list[str]) -> dict[str, Outcome]:
    """The newest review outcome of each of these instances (one query for a page)."""
    events = session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.instance_id.in_(instance_ids), OutboxEvent.type == "task.completed")
        .order_by(OutboxEvent.id)
    )
    return {found.instance_id: found for found in outcomes(events) if found.instance_id}
