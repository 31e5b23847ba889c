"""What the jobs page lists: timers waiting or failed, deliveries not done, open incidents."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji.models import Incident, Timer, WebhookDelivery
from xueji.models.states import TimerState

LIMIT = 500


def waiting_timers(session: Session) -> list[Timer]:
    """Pending timers (soonest first), then failed ones."""
    return list(
        session.scalars(
            select(Timer)
            .where(Timer.state.in_((TimerState.PENDING, TimerState.FAILED)))
            .order_by(Timer.state.desc(), Timer.due_at, Timer.id)
            .limit(LIMIT)
        )
    )


def open_deliveries(session: Session) -> list[WebhookDelivery]:
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.state.in_(("pending", "failed")))
            .order_by(WebhookDelivery.id)
            .limit(LIMIT)
        )
    )


def open_incidents(session: Session) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident)
            .where(Incident.resolved_at.is_(None))
            .order_by(Incident.id)
            .limit(LIMIT)
        )
    )
