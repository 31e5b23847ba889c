"""The worker: claims due timers atomically and advances their instances, one commit each.

Any number of workers (in `xueji serve` or standalone `xueji worker`) may share a PostgreSQL
database: a claim is a conditional UPDATE of rows locked with SKIP LOCKED, so each due timer
goes to one worker, and a claim whose worker died expires after `LEASE` and is taken over.
SQLite has one writer at a time, so there the claim is the same UPDATE inside BEGIN IMMEDIATE.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update

from xueji import clock
from xueji.db.session import session_scope
from xueji.errors import EngineStepFailed
from xueji.events.webhooks import deliver_due
from xueji.history.service import record_event
from xueji.instances.advance import finish_step
from xueji.instances.repository import lock
from xueji.instances.steps import load_workflow, run_step
from xueji.models import Timer

if TYPE_CHECKING:
    from xueji.runtime import Runtime

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BATCH = 100


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@dataclass
class RunReport:
    claimed: int = 0
    fired: int = 0
    failed: int = 0
    delivered: int = 0
    undelivered: int = 0


def claim_due(runtime: Runtime, worker: str, now: datetime, limit: int = BATCH) -> list[Timer]:
    """Claim up to `limit` due timers for `worker`; claimed rows are this worker's alone."""
    with session_scope(runtime.db.writer) as session:
        due = (
            select(Timer.id)
            .where(
                Timer.state == "pending",
                Timer.due_at <= now,
                or_(Timer.claimed_by.is_(None), Timer.claim_expires_at < now),
            )
            .order_by(Timer.due_at, Timer.id)
            .limit(limit)
        )
        if not runtime.db.is_sqlite:
            due = due.with_for_update(skip_locked=True)
        ids = list(session.scalars(due))
        if not ids:
            return []
        session.execute(
            update(Timer)
            .where(Timer.id.in_(ids))
            .values(claimed_by=worker, claim_expires_at=now + LEASE)
        )
        return list(
            session.scalars(select(Timer).where(Timer.id.in_(ids)).order_by(Timer.due_at, Timer.id))
        )


def fire(runtime: Runtime, timer: Timer, worker: str) -> bool:
    """Advance the timer's instance; True when it fired. Commits on its own."""
    try:
        with session_scope(runtime.db.writer) as session:
            instance = lock(session, timer.instance_id)
            row = session.get(Timer, timer.id, populate_existing=True)
            if row is None or row.state != "pending" or row.claimed_by != worker:
                return False  # fired with another timer of its instance, or taken over
            if instance.state != "running":
                return False  # a suspended instance's timers wait for it to resume
            workflow = load_workflow(runtime, session, instance)
            outcome = run_step(
                session,
                runtime,
                instance,
                "system:timer",
                lambda: runtime.runner.fire_timers(workflow),
            )
            record_event(
                session,
                instance.id,
                "system:timer",
                "timer_fired",
                element_id=row.element_id,
                data={"due_at": row.due_at.isoformat()},
            )
            finish_step(session, runtime, instance, workflow, outcome, "system:timer")
            return True
    except EngineStepFailed as exc:
        if exc.incident:
            runtime.record_incident(exc.incident)
        return False


def run_once(runtime: Runtime, now: datetime | None = None, worker: str | None = None) -> RunReport:
    """Fire everything due at `now` (default: the clock), then return."""
    worker = worker or worker_name()
    report = RunReport()
    moment = now or clock.now()
    with clock.at(moment):
        while True:
            claimed = claim_due(runtime, worker, moment)
            if not claimed:
                break
            report.claimed += len(claimed)
            for timer in claimed:
                if fire(runtime, timer, worker):
                    report.fired += 1
                else:
                    report.failed += 1
            if len(claimed) < BATCH:
                break
        report.delivered, report.undelivered = deliver_due(runtime, worker, moment)
    return report


def run_forever(runtime: Runtime, stop: threading.Event, poll_seconds: float) -> None:
    """Poll for due timers until `stop` is set."""
    while not stop.is_set():
        try:
            run_once(runtime)
        except Exception:  # keep the worker alive; the next poll retries
            log.exception("worker pass failed")
        stop.wait(poll_seconds)
