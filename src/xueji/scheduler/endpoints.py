"""Operations (admin): pending timers, webhook deliveries that failed, open incidents; retry."""

from __future__ import annotations

from fastapi import APIRouter

from xueji import clock
from xueji.audit.dependencies import Audited
from xueji.auth.dependencies import AdminUser
from xueji.db.dependencies import DbSession
from xueji.errors import Conflict, NotFound
from xueji.models import Incident, Timer, WebhookDelivery
from xueji.models.states import TimerState
from xueji.paging import RowId
from xueji.scheduler import repository

router = APIRouter(prefix="/jobs", tags=["operations"])

NOT_FOUND = {404: {"description": "No such job"}}


@router.get("")
def list_jobs(principal: AdminUser, session: DbSession) -> dict:
    """Pending timers, undelivered webhook events, and incidents not yet resolved."""
    timers = repository.waiting_timers(session)
    deliveries = repository.open_deliveries(session)
    incidents = repository.open_incidents(session)
    return {
        "timers": [
            {
                "id": t.id,
                "instance_id": t.instance_id,
                "element_id": t.element_id,
                "due_at": t.due_at,
                "state": t.state,
                "attempts": t.attempts,
                "retry_at": t.retry_at,
                "last_error": t.last_error,
                "claimed_by": t.claimed_by,
            }
            for t in timers
        ],
        "deliveries": [
            {
                "id": d.id,
                "webhook_id": d.webhook_id,
                "event_id": d.event_id,
                "state": d.state,
                "attempts": d.attempts,
                "next_attempt_at": d.next_attempt_at,
                "last_status": d.last_status,
                "last_error": d.last_error,
            }
            for d in deliveries
        ],
        "incidents": [
            {
                "id": i.id,
                "instance_id": i.instance_id,
                "element_id": i.element_id,
                "message": i.message,
                "created_at": i.created_at,
            }
            for i in incidents
        ],
    }


@router.post(
    "/deliveries/{delivery_id}/retry", dependencies=[Audited("delivery.retry")], responses=NOT_FOUND
)
def retry_delivery(delivery_id: RowId, principal: AdminUser, session: DbSession) -> dict:
    """Try a failed (or waiting) delivery again at the worker's next pass."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id}")
    if delivery.state == "delivered":
        raise Conflict("it was delivered already")
    delivery.state, delivery.next_attempt_at = "pending", clock.now()
    delivery.claimed_by = delivery.claim_expires_at = None
    return {"id": delivery.id, "state": delivery.state}


@router.post("/timers/{timer_id}/retry", dependencies=[Audited("timer.retry")], responses=NOT_FOUND)
def retry_timer(timer_id: RowId, principal: AdminUser, session: DbSession) -> dict:
    """Fire a pending or failed timer at the next worker pass (a failed one gets its attempts
    back)."""
    timer = session.get(Timer, timer_id)
    if timer is None or timer.state not in (TimerState.PENDING, TimerState.FAILED):
        raise NotFound(f"no pending or failed timer {timer_id}")
    timer.fire_again()
    return {"id": timer.id, "state": timer.state}


@router.post(
    "/incidents/{incident_id}/resolve",
    dependencies=[Audited("incident.resolve")],
    responses=NOT_FOUND,
)
def resolve_incident(incident_id: RowId, principal: AdminUser, session: DbSession) -> dict:
    """Mark an incident as dealt with."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    incident.resolved_at = incident.resolved_at or clock.now()
    return {"id": incident.id, "resolved_at": incident.resolved_at}
