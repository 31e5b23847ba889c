"""One engine step and everything it writes (state, inbox rows, history), in one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from xueji import clock
from xueji.deadlines import due_at
from xueji.definitions.repository import dependency_documents
from xueji.engine import serializer
from xueji.engine.runner import StepError, StepOutcome
from xueji.engine.timers import pending_timers
from xueji.errors import Conflict, EngineStepFailed
from xueji.history.service import record_event
from xueji.models import ProcessDefinition, ProcessInstance, Timer, UserTask
from xueji.service_tasks import StepContext, _current

if TYPE_CHECKING:
    from xueji.runtime import Runtime


def specs_for(runtime: Runtime, session: Session, definition: ProcessDefinition):
    return runtime.specs.get(definition, lambda d: dependency_documents(session, d))


def new_workflow(runtime: Runtime, session: Session, definition: ProcessDefinition) -> BpmnWorkflow:
    spec, subprocess_specs = specs_for(runtime, session, definition)
    return runtime.runner.new_workflow(spec, subprocess_specs)


def load_workflow(runtime: Runtime, session: Session, instance: ProcessInstance) -> BpmnWorkflow:
    spec, subprocess_specs = specs_for(runtime, session, instance.definition)
    workflow = serializer.loads(
        instance.engine_state, instance.definition_id, spec, subprocess_specs
    )
    return runtime.runner.attach(workflow)


def run_step(
    session: Session,
    runtime: Runtime,
    instance: ProcessInstance,
    actor: str,
    step: Callable[[], StepOutcome],
) -> StepOutcome:
    """Run an engine step with services bound to this transaction; failures become 422."""
    token = _current.set(StepContext(session, instance.id, actor, runtime))
    try:
        return step()
    except StepError as exc:
        where = exc.element_name or exc.element_id or "the process"
        raise EngineStepFailed(
            {
                "element_id": exc.element_id,
                "element_name": exc.element_name,
                "message": f"{where}: {exc.reason}",
            },
            incident={
                # A failed first step takes its new instance with it.
                "instance_id": instance.id if instance.engine_state else None,
                "definition_id": instance.definition_id,
                "element_id": exc.element_id,
                "message": exc.reason,
                "actor": actor,
            },
        ) from exc
    finally:
        _current.reset(token)


def instance_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    ready = workflow.get_tasks(state=TaskState.READY)
    task = ready[0] if ready else workflow.last_task
    data = dict(task.data) if task is not None else dict(workflow.task_tree.data)
    return serializer_safe(data)


def serializer_safe(data: dict[str, Any]) -> dict[str, Any]:
    """Task data as plain JSON (dates as ISO strings) for the variables column."""
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


def sync_timers(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow, now) -> None:
    """Make the timer rows of an instance what the engine waits for: new ones pending, gone
    ones fired (when due) or cancelled."""
    waiting = {task_id: (element_id, due) for task_id, element_id, due in pending_timers(workflow)}
    rows = {
        row.task_id: row
        for row in session.scalars(
            select(Timer).where(Timer.instance_id == instance.id, Timer.state == "pending")
        )
    }
    for task_id, row in rows.items():
        if task_id in waiting:
            row.due_at = waiting[task_id][1]
        else:
            row.state = "fired" if row.due_at <= now else "cancelled"
            row.fired_at = now if row.state == "fired" else None
            row.claimed_by = row.claim_expires_at = None
    for task_id, (element_id, due) in waiting.items():
        if task_id not in rows:
            session.add(
                Timer(
                    instance_id=instance.id,
                    task_id=task_id,
                    element_id=element_id,
                    due_at=due,
                    state="pending",
                )
            )


def save_state(
    session: Session,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    outcome: StepOutcome,
    actor: str,
    *,
    completed_task: UserTask | None = None,
    form_data: dict[str, Any] | None = None,
) -> list[UserTask]:
    """Persist the workflow after a step and bring the inbox and history in line with it."""
    now = clock.now()
    if completed_task is not None:
        completed_task.state = "completed"
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
            data=serializer_safe(form_data or {}),
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
    open_rows = {
        row.id: row
        for row in session.scalars(
            select(UserTask).where(UserTask.instance_id == instance.id, UserTask.state == "ready")
        )
    }
    for row_id, row in open_rows.items():
        if row_id not in ready_ids:
            row.state, row.completed_at = "cancelled", now
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
    created = []
    variables = instance_data(workflow)
    for task in outcome.ready:
        if task.id in open_rows:
            continue
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
            state="ready",
            created_at=now,
            due_at=due_at(task.due, variables, now),
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
    instance.engine_state = serializer.dumps(workflow, instance.definition_id)
    instance.variables = variables
    instance.updated_at = now
    if outcome.finished and instance.state == "running":
        instance.state, instance.ended_at = "completed", now
        record_event(session, instance.id, actor, "instance_completed", at=now)
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(
            "the process instance was changed by someone else; reload and retry"
        ) from None
    return created
