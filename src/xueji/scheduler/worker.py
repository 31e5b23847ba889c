"""The worker: claims due timers atomically and advances their instances, one commit each;
then delivers webhooks and runs the queued import jobs (imports/jobs.py, claimed the same way).

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
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from xueji import clock
from xueji.db.conflicts import is_transient
from xueji.db.session import session_scope
from xueji.errors import ConcurrentChange, XuejiError
from xueji.events.webhooks import deliver_due
from xueji.history.service import record_event
from xueji.imports.jobs import run_due as run_import_jobs
from xueji.instances.flows import TOP, context_for, finish_step
from xueji.instances.incidents import record_incident
from xueji.instances.repository import lock
from xueji.instances.steps import load_workflow, run_step, step_guard
from xueji.models import ProcessInstance, Timer, WorkerHeartbeat
from xueji.models.states import InstanceState, TimerState
from xueji.runtime import Runtime

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BATCH = 100
# A timer whose step fails is tried again after 1, 4, 16, 64 minutes; the fifth failure marks
# it `failed` with one incident, which an administrator may retry.
MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=1)


def retry_delay(attempts: int) -> timedelta:
    return FIRST_RETRY * 4 ** (attempts - 1)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@dataclass
class RunReport:
    claimed: int = 0
    fired: int = 0
    failed: int = 0
    delivered: int = 0
    undelivered: int = 0
    imports: int = 0


def claim_due(runtime: Runtime, worker: str, now: datetime, limit: int = BATCH) -> list[Timer]:
    """Claim up to `limit` due timers for `worker`; claimed rows are this worker's alone."""
    with session_scope(runtime.db.writer) as session:
        due = (
            select(Timer.id)
            .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
            .where(
                Timer.state == TimerState.PENDING,
                Timer.due_at <= now,
                or_(Timer.retry_at.is_(None), Timer.retry_at <= now),
                or_(Timer.claimed_by.is_(None), Timer.claim_expires_at < now),
                # A suspended instance's timers wait until it is resumed.
                ProcessInstance.state == InstanceState.RUNNING,
            )
            .order_by(Timer.due_at, Timer.id)
            .limit(limit)
        )
        if not runtime.db.is_sqlite:
            due = due.with_for_update(of=Timer, skip_locked=True)
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
    """Advance the timer's instance; True when it fired. Commits on its own; a failed step
    is rolled back and the timer retried later (see MAX_ATTEMPTS)."""
    try:
        with session_scope(runtime.db.writer) as session:
            instance = lock(session, timer.instance_id)
            row = session.get(Timer, timer.id, populate_existing=True)
            if row is None or row.state != TimerState.PENDING or row.claimed_by != worker:
                return False  # fired with another timer of its instance, or taken over
            if instance.state != InstanceState.RUNNING:
                row.claimed_by = row.claim_expires_at = None
                return False  # suspended since the claim: it waits for the resume
            with step_guard(instance, "system:timer"):
                workflow = load_workflow(runtime, session, instance)
                context = context_for(session, runtime, instance, "system:timer", TOP)
                outcome = run_step(
                    session,
                    runtime,
                    instance,
                    context,
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
    except ConcurrentChange:  # met a concurrent step (a broken deadlock): not an attempt
        log.info("timer %s met a concurrent change; it fires on a later pass", timer.id)
        _release(runtime, timer)
        return False
    except XuejiError as exc:
        _failed(runtime, timer, exc.detail, getattr(exc, "incident", None))
        return False
    except Exception as exc:  # a database error outside any step: the same rule
        if is_transient(exc):  # the same, met at the commit
            log.info("timer %s met a concurrent change; it fires on a later pass", timer.id)
            _release(runtime, timer)
            return False
        log.exception("timer %s failed", timer.id)
        _failed(runtime, timer, f"{type(exc).__name__}: {exc}", None)
        return False


def _release(runtime: Runtime, timer: Timer) -> None:
    """Give the claim back, so that the next pass (of any worker) fires the timer."""
    with session_scope(runtime.db.writer) as session:
        row = session.get(Timer, timer.id, populate_existing=True)
        if row is not None and row.state == TimerState.PENDING:
            row.claimed_by = row.claim_expires_at = None


def _failed(runtime: Runtime, timer: Timer, reason: object, incident: dict | None) -> None:
    """Count a failed attempt: retry with backoff, or, after the last one, mark the timer
    failed with one incident."""
    message = reason.get("message", str(reason)) if isinstance(reason, dict) else str(reason)
    with session_scope(runtime.db.writer) as session:
        row = session.get(Timer, timer.id, populate_existing=True)
        if row is None or row.state != TimerState.PENDING:
            return
        row.attempts += 1
        row.last_error = message[:2000]
        row.claimed_by = row.claim_expires_at = None
        now = clock.now()
        if row.attempts < MAX_ATTEMPTS:
            row.retry_at = now + retry_delay(row.attempts)
            return
        row.state, row.retry_at = TimerState.FAILED, None
        instance_id = row.instance_id
        definition_id = session.scalar(
            select(ProcessInstance.definition_id).where(ProcessInstance.id == instance_id)
        )
    record_incident(
        runtime.db,
        {
            "instance_id": instance_id,
            "definition_id": (incident or {}).get("definition_id", definition_id),
            "element_id": (incident or {}).get("element_id") or timer.element_id,
            "message": f"定时事件连续 {MAX_ATTEMPTS} 次执行失败：{message}",
            "actor": "system:timer",
            "data": {"kind": "timer_failed", "timer_id": timer.id, "attempts": MAX_ATTEMPTS},
        },
    )


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
        report.imports = run_import_jobs(runtime, worker, moment)
    return report


# Heartbeats of workers not heard of for this long are removed (restarts leave one per pid).
HEARTBEAT_KEPT = timedelta(days=1)


def beat(runtime: Runtime, worker: str) -> None:
    """Note that `worker` finished a pass (what /api/v1/health/ready looks at)."""
    now = clock.now()
    with session_scope(runtime.db.writer) as session:
        row = session.get(WorkerHeartbeat, worker)
        if row is None:
            session.add(WorkerHeartbeat(worker=worker, beat_at=now))
        else:
            row.beat_at = now
        session.execute(
            delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - HEARTBEAT_KEPT)
        )


def run_forever(runtime: Runtime, stop: threading.Event, poll_seconds: float) -> None:
    """Poll for due timers (and queued work) until `stop` is set; a heartbeat after every pass
    that worked."""
    worker = worker_name()
    while not stop.is_set():
        try:
            run_once(runtime, worker=worker)
            beat(runtime, worker)
        except Exception:  # keep the worker alive; the next poll retries
            log.exception("worker pass failed")
        _pause(runtime, stop, poll_seconds)


def _pause(runtime: Runtime, stop: threading.Event, seconds: float) -> None:
    """Wait `seconds`, less when stopped or woken (work queued in this process)."""
    deadline = time.monotonic() + seconds
    while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
        if runtime.wake.wait(min(left, 0.25)):
            runtime.wake.clear()
            return
