"""Webhooks (admin) and the server-sent-events stream of what the caller may see."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from xueji import clock
from xueji.audit.dependencies import Audited
from xueji.auth.dependencies import AdminUser, CurrentUser
from xueji.auth.principal import Principal, scope_filter
from xueji.db.dependencies import DbSession
from xueji.errors import NotFound
from xueji.events.outcomes import NOTIFIED, Outcome, outcomes
from xueji.events.schemas import WebhookIn, WebhookOut
from xueji.events.service import forget_webhooks
from xueji.models import OutboxEvent, Webhook
from xueji.paging import MAX_ID, RowId
from xueji.runtime import AppRuntime

router = APIRouter(tags=["events"])


def _out(hook: Webhook, secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        id=hook.id,
        url=hook.url,
        event_types=hook.event_types,
        active=hook.active,
        created_by=hook.created_by,
        created_at=hook.created_at,
        secret=secret,
    )


@router.post(
    "/webhooks",
    dependencies=[Audited("webhook.create")],
    status_code=201,
    response_model=WebhookOut,
)
def create_webhook(body: WebhookIn, principal: AdminUser, session: DbSession) -> WebhookOut:
    """Register a URL for signed events of the given types; the secret is shown once."""
    secret = body.secret or secrets.token_urlsafe(32)
    hook = Webhook(
        url=body.url,
        secret=secret,
        event_types=body.event_types,
        active=True,
        created_by=principal.username,
        created_at=clock.now(),
    )
    session.add(hook)
    session.flush()
    forget_webhooks(session)
    return _out(hook, secret)


@router.get("/webhooks", response_model=list[WebhookOut])
def list_webhooks(principal: AdminUser, session: DbSession) -> list[WebhookOut]:
    """Registered webhooks (without their secrets)."""
    return [_out(h) for h in session.scalars(select(Webhook).order_by(Webhook.id))]


@router.delete(
    "/webhooks/{webhook_id}",
    dependencies=[Audited("webhook.delete")],
    status_code=204,
    responses={404: {"description": "No such webhook"}},
)
def delete_webhook(webhook_id: RowId, principal: AdminUser, session: DbSession) -> None:
    """Stop sending to a webhook (its delivery log is kept)."""
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound(f"no webhook {webhook_id}")
    hook.active = False
    forget_webhooks(session)


def visible_events(principal: Principal):
    """Events about instances the caller may read (the same scope as every other read)."""
    clause = scope_filter(principal, OutboxEvent.station_id, OutboxEvent.student_id)
    query = select(OutboxEvent)
    return query if clause is None else query.where(clause)


# The newest events the notification area looks through (most are not outcomes).
NOTIFICATION_WINDOW = 500


@router.get("/notifications", response_model=list[Outcome])
def notifications(
    principal: CurrentUser,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[Outcome]:
    """The newest outcomes of reviews (审批结果 and reason) and ends of the cases the caller
    may see, newest first, leaving out what the caller decided themself."""
    events = session.scalars(
        visible_events(principal)
        .where(OutboxEvent.type.in_(NOTIFIED))
        .order_by(OutboxEvent.id.desc())
        .limit(NOTIFICATION_WINDOW)
    )
    found = [o for o in outcomes(events) if o.actor != principal.username]
    return found[:limit]


def _format(event: OutboxEvent) -> str:
    data = json.dumps(dict(event.payload, id=event.id), ensure_ascii=False)
    return f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n"


@router.get(
    "/events/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(
    principal: CurrentUser,
    runtime: AppRuntime,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="Send events after this id")
    ] = None,
    wait: Annotated[float | None, Query(ge=0, le=3600, description="Close after seconds")] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-sent events (task.created, task.completed, instance.completed, …) the caller may
    see; resumes after `Last-Event-ID` or `after`; with `wait=0` sends what is there and ends.
    The stream also ends when the server shuts down (clients reconnect with Last-Event-ID)."""
    cursor = after
    if cursor is None and last_event_id and last_event_id.isdigit():
        cursor = int(last_event_id)
    query = visible_events(principal)

    def newest() -> int:
        with runtime.db.reader() as session:
            return (
                session.scalar(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()).limit(1)) or 0
            )

    def fetch(since: int) -> list[tuple[int, str]]:
        with runtime.db.reader() as session:
            rows = session.scalars(
                query.where(OutboxEvent.id > since).order_by(OutboxEvent.id).limit(500)
            )
            return [(row.id, _format(row)) for row in rows]

    async def events():
        since = cursor if cursor is not None else await run_in_threadpool(newest)
        deadline = None if wait is None else asyncio.get_running_loop().time() + wait
        quiet = 0
        while True:
            batch = await run_in_threadpool(fetch, since)
            for event_id, text in batch:
                since = event_id
                yield text
            if deadline is not None and asyncio.get_running_loop().time() >= deadline:
                return
            if runtime.stopping.is_set():  # the server is shutting down: end the stream
                return
            quiet = 0 if batch else quiet + 1
            if quiet and quiet % 15 == 0:
                yield ": keep-alive\n\n"
            await asyncio.sleep(1.0)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
