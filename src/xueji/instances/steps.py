"""One engine step and everything it writes (state, inbox rows, timers, history), in the
request's one transaction. The cascades that follow a step (children, callers, messages) are
run by xueji.instances.flows."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.exc import StaleDataError

from xueji import clock
from xueji.db import pending_rows
from xueji.db.conflicts import CONCURRENT_CHANGE, is_transient
from xueji.deadlines import due_at
from xueji.definitions.repository import dependency_documents
from xueji.engine import serializer
from xueji.engine.calls import has_call_activities
from xueji.engine.runner import StepError, StepOutcome, Workflow
from xueji.engine.scripting import ServiceCrashed
from xueji.engine.timers import has_timer_events, pending_timers
from xueji.errors import (
    ConcurrentChange,
    Conflict,
    EngineStepFailed,
    InvalidInput,
    ServiceError,
    StepCrashed,
    XuejiError,
)
from xueji.history.service import record_event
from xueji.instances.context import StepContext
from xueji.instances.incidents import resolve_succeeded
from xueji.instances.repository import child_ids
from xueji.instances.summaries import task_summary
from xueji.models import ProcessDefinition, ProcessInstance, Timer, UserTask
from xueji.models.states import InstanceState, TimerState, UserTaskState
from xueji.runtime import Describe, Runtime

log = logging.getLogger(__name__)

LOST_UPDATE = "the process instance was changed by someone else; reload and retry"
# The most one instance's stored state (its data and task tree) may take.
MAX_STATE_BYTES = 16 * 2**20


def specs_for(runtime: Runtime, session: Session, definition: ProcessDefinition) -> Any:
    return runtime.specs.get(definition, lambda d: dependency_documents(session, d))


def children_of(session: Session, runtime: Runtime, instance: ProcessInstance) -> list[str]:
    """The ids of an instance's children (not looked up when its diagrams call nothing)."""
    spec, subprocess_specs = specs_for(runtime, session, instance.definition)
    return child_ids(session, instance.id) if has_call_activities(spec, subprocess_specs) else []


def new_workflow(runtime: Runtime, session: Session, definition: ProcessDefinition) -> Workflow:
    spec, subprocess_specs = specs_for(runtime, session, definition)
    return runtime.runner.new_workflow(spec, subprocess_specs)


def load_workflow(runtime: Runtime, session: Session, instance: ProcessInstance) -> Workflow:
    spec, subprocess_specs = specs_for(runtime, session, instance.definition)
    workflow = serializer.loads(
        instance.engine_state, instance.definition_id, spec, subprocess_specs
    )
    return runtime.runner.attach(workflow)


def _incident_base(instance: ProcessInstance, actor: str) -> dict[str, Any]:
    """What an incident needs, read before the step: after a failed flush the row is gone."""
    return {
        # A failed first step takes its new instance with it.
        "instance_id": instance.id if instance.engine_state else None,
        "definition_id": instance.definition_id,
        "actor": actor,
    }


@contextmanager
def step_guard(instance: ProcessInstance, actor: str) -> Iterator[None]:
    """Around a whole step and its cascade: a lost update is a 409; an unexpected error (a bug
    of ours, a database error) is a StepCrashed with an incident from values read before."""
    base = _incident_base(instance, actor)
    try:
        yield
    except StaleDataError:
        raise Conflict(LOST_UPDATE) from None
    except XuejiError:
        raise
    except Exception as exc:
        element = exc.element_id if isinstance(exc, ServiceCrashed) else None
        cause = exc.__cause__ if isinstance(exc, ServiceCrashed) and exc.__cause__ else exc
        if is_transient(cause):  # met a concurrent step: a conflict to retry, not a crash
            raise ConcurrentChange(CONCURRENT_CHANGE) from exc
        log.exception("step of instance %s crashed", base["instance_id"] or "(new)")
        raise StepCrashed(
            {"message": "unexpected error in a step; nothing was changed"},
            incident={
                **base,
                "element_id": element,
                "message": f"{type(cause).__name__}: {cause}",
            },
        ) from exc


def run_step(
    session: Session,
    runtime: Runtime,
    instance: ProcessInstance,
    context: StepContext,
    step: Callable[[], StepOutcome],
) -> StepOutcome:
    """Run an engine step with services bound to this step's context.

    A diagram's failure is a 422 with its element and an incident; a business rule's refusal
    (a service's XuejiError) reaches the caller as the service raised it."""
    base = _incident_base(instance, context.actor)
    try:
        with runtime.runner.bound(context):
            return step()
    except StepError as exc:
        if isinstance(exc.refusal, ServiceError):
            detail = {
                "element_id": exc.element_id,
                "element_name": exc.element_name,
                "message": exc.reason,  # the service's own sentence, nothing around it
            }
            if exc.refusal.code is not None:
                detail["code"] = exc.refusal.code
            # The refusal's own class, so that its stable `error` name reaches the client.
            raise type(exc.refusal)(detail, code=exc.refusal.code) from None
        if exc.refusal is not None:
            raise exc.refusal from None
        where = exc.element_name or exc.element_id or "the process"
        raise EngineStepFailed(
            {
                "element_id": exc.element_id,
                "element_name": exc.element_name,
                "message": f"{where}: {exc.reason}",
            },
            incident={**base, "element_id": exc.element_id, "message": exc.reason},
        ) from exc


def sync_timers(
    session: Session, instance: ProcessInstance, workflow: Workflow, now: datetime
) -> None:
    """Make the timer rows of an instance what the engine waits for: new ones pending, gone
    ones fired (when due) or cancelled."""
    if not has_timer_events(workflow):
        return  # no timer in its diagrams, so no timer rows either
    waiting = {task_id: (element_id, due) for task_id, element_id, due in pending_timers(workflow)}
    rows = {
        row.task_id: row
        for row in session.scalars(
            select(Timer).where(Timer.instance_id == instance.id, Timer.state == TimerState.PENDING)
        )
    }
    for task_id, row in rows.items():
        if task_id in waiting:
            row.due_at = waiting[task_id][1]
        else:
            row.state = TimerState.FIRED if row.due_at <= now else TimerState.CANCELLED
            row.fired_at = now if row.state == TimerState.FIRED else None
            row.claimed_by = row.claim_expires_at = None
    for task_id, (element_id, due) in waiting.items():
        if task_id not in rows:
            session.add(
                Timer(
                    instance_id=instance.id,
                    task_id=task_id,
                    element_id=element_id,
                    due_at=due,
                    state=TimerState.PENDING,
                )
            )


# An instance's open tasks as they are now (built once: it runs on every claim and step).
_OPEN_TASKS = (
    select(UserTask)
    .where(UserTask.instance_id == bindparam("instance_id"), UserTask.state == UserTaskState.READY)
    .options(lazyload(UserTask.instance))  # the instance is in hand (the caller's, locked)
    .execution_options(populate_existing=True)
)


def open_tasks(session: Session, instance: ProcessInstance) -> list[UserTask]:
    """The instance's READY task rows, read afresh."""
    return list(session.scalars(_OPEN_TASKS, {"instance_id": instance.id}))


def cancel_open_tasks(
    session: Session,
    instance: ProcessInstance,
    actor: str,
    keep=(),
    rows: list[UserTask] | None = None,
) -> None:
    """Cancel the instance's open user tasks (but `keep`), each with its history line;
    `rows` when the caller has them already."""
    now = clock.now()
    for row in open_tasks(session, instance) if rows is None else rows:
        if row.id in keep:
            continue
        row.state, row.completed_at = UserTaskState.CANCELLED, now
        record_event(
            session,
            instance.id,
            actor,
            "task_cancelled",
            element_id=row.element_id,
            element_name=row.name,
            task_id=row.id,
            at=now,
        )


def save_state(
    session: Session,
    instance: ProcessInstance,
    workflow: Workflow,
    outcome: StepOutcome,
    actor: str,
    *,
    completed_task: UserTask | None = None,
    form_data: dict[str, Any] | None = None,
    open_rows: list[UserTask] | None = None,
    open_incidents: bool = True,
    describe: Describe | None = None,
) -> list[UserTask]:
    """Persist the workflow after a step and bring the inbox and history in line with it
    (new tasks carry the case's summary as `describe`, the process's, gives it).

    `open_rows`: the instance's READY rows, when the caller read them after locking it;
    `open_incidents=False` when it knows the instance has none (none to resolve then).
    Everything is written by the one flush at the end (no autoflush in between: the rows of
    a step would otherwise go out in several round trips, split by its SELECTs), then its
    history lines and outbox events, one INSERT each (`xueji.db.pending_rows`)."""
    if open_rows is None:
        open_rows = open_tasks(session, instance)
    with session.no_autoflush:
        created = _write_step(
            session,
            instance,
            workflow,
            outcome,
            actor,
            completed_task,
            form_data,
            open_rows,
            describe,
        )
        if open_incidents:
            done = [e.element_id for e in outcome.completed]
            if completed_task is not None:
                done.append(completed_task.element_id)
            resolve_succeeded(session, instance.id, done)
        try:
            session.flush()
        except StaleDataError:
            raise Conflict(LOST_UPDATE) from None
        pending_rows.write(session)
    return created


def _write_step(
    session: Session,
    instance: ProcessInstance,
    workflow: Workflow,
    outcome: StepOutcome,
    actor: str,
    completed_task: UserTask | None,
    form_data: dict[str, Any] | None,
    open_rows: list[UserTask],
    describe: Describe | None,
) -> list[UserTask]:
    now = clock.now()
    open_rows = [row for row in open_rows if row is not completed_task]
    if completed_task is not None:
        completed_task.state = UserTaskState.COMPLETED
        completed_task.completed_at = now
        completed_task.completed_by = actor
        completed_task.data = form_data
        record_event(
            session,
            instance.id,
            actor,
            "task_completed",
            element_id=completed_task.element_id,
            element_name=completed_task.name,
            task_id=completed_task.id,
            data=serializer.plain(form_data or {}),
            at=now,
        )
    for element in outcome.completed:
        record_event(
            session,
            instance.id,
            actor,
            "element_completed",
            element_id=element.element_id,
            element_name=element.name,
            task_id=element.task_id,
            data={"type": element.kind},
            at=now,
        )

    ready_ids = {task.id for task in outcome.ready}
    open_ids = {row.id for row in open_rows}
    cancel_open_tasks(session, instance, actor, keep=ready_ids, rows=open_rows)
    created = []
    variables = outcome.data
    summary = None
    for task in outcome.ready:
        if task.id in open_ids:
            continue
        summary = summary or task_summary(session, describe, instance, variables)
        row = UserTask(
            id=task.id,
            instance_id=instance.id,
            element_id=task.element_id,
            name=task.name,
            role=instance.definition.lanes.get(task.lane) if task.lane else None,
            station_id=instance.station_id,
            student_id=instance.student_id,
            form=task.form,
            ui_form=task.ui_form,
            state=UserTaskState.READY,
            suspended=instance.state == InstanceState.SUSPENDED,
            created_at=now,
            due_at=due_at(task.due, variables, now),
            **summary,
        )
        session.add(row)
        created.append(row)
        record_event(
            session,
            instance.id,
            actor,
            "task_created",
            element_id=task.element_id,
            element_name=task.name,
            task_id=task.id,
            data={"role": row.role},
            at=now,
        )

    sync_timers(session, instance, workflow, now)
    state = serializer.dumps(workflow, instance.definition_id)
    if len(state) > MAX_STATE_BYTES:
        raise InvalidInput(
            [
                {
                    "field": "",
                    "message": f"流程数据超过 {MAX_STATE_BYTES // 2**20} MiB，无法保存"
                    f" (the case's data would take {len(state):,} bytes; at most"
                    f" {MAX_STATE_BYTES:,} are kept per instance)",
                }
            ]
        )
    instance.engine_state = state
    instance.variables = variables
    instance.updated_at = now
    if outcome.finished and instance.state == InstanceState.RUNNING:
        instance.state, instance.ended_at = InstanceState.COMPLETED, now
        record_event(session, instance.id, actor, "instance_completed", at=now)
    return created
