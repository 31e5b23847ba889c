"""Delivering events to webhooks: signed, retried with backoff, every attempt logged.

Signature: header `X-Xueji-Signature: sha256=<hex>`, the HMAC-SHA256 with the webhook's secret
of `<timestamp>.<body>`, where `<timestamp>` is the header `X-Xueji-Timestamp` (Unix seconds).
Receivers recompute it and refuse timestamps older than a few minutes (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import or_, select, update

from xueji.db.session import session_scope
from xueji.models import OutboxEvent, Webhook, WebhookDelivery

if TYPE_CHECKING:
    from xueji.runtime import Runtime

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)
TIMEOUT_SECONDS = 10.0


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: 10 s, 20 s, 40 s … at most one hour."""
    return timedelta(seconds=min(10 * 2 ** (attempts - 1), 3600))


def _claim(runtime: Runtime, worker: str, now: datetime, limit: int = 50) -> list[int]:
    with session_scope(runtime.db.writer) as session:
        due = (
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.state == "pending",
                WebhookDelivery.next_attempt_at <= now,
                or_(WebhookDelivery.claimed_by.is_(None), WebhookDelivery.claim_expires_at < now),
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
        if not runtime.db.is_sqlite:
            due = due.with_for_update(skip_locked=True)
        ids = list(session.scalars(due))
        if ids:
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(ids))
                .values(claimed_by=worker, claim_expires_at=now + LEASE)
            )
        return ids


def _send(
    url: str, secret: str, event_type: str, delivery_id: int, payload: dict, now: datetime
) -> tuple[int | None, str | None]:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "X-Xueji-Event": event_type,
        "X-Xueji-Delivery": str(delivery_id),
        "X-Xueji-Timestamp": timestamp,
        "X-Xueji-Signature": signature(secret, timestamp, body),
    }
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, response.text[:500]


def deliver_due(runtime: Runtime, worker: str, now: datetime) -> tuple[int, int]:
    """Send every due delivery once; (delivered, failed for now) counts."""
    delivered = failed = 0
    for delivery_id in _claim(runtime, worker, now):
        with runtime.db.reader() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            hook = session.get(Webhook, delivery.webhook_id)
            event = session.get(OutboxEvent, delivery.event_id)
            target = (hook.url, hook.secret, event.type, dict(event.payload, id=event.id))
        status, error = _send(target[0], target[1], target[2], delivery_id, target[3], now)
        with session_scope(runtime.db.writer) as session:
            row = session.get(WebhookDelivery, delivery_id)
            row.attempts += 1
            row.last_status, row.last_error = status, error
            row.claimed_by = row.claim_expires_at = None
            if error is None:
                row.state, row.delivered_at = "delivered", now
                delivered += 1
            else:
                failed += 1
                if row.attempts >= MAX_ATTEMPTS:
                    row.state = "failed"
                else:
                    row.next_attempt_at = now + backoff(row.attempts)
                log.warning("webhook delivery %s failed (%s): %s", delivery_id, status, error)
    return delivered, failed
