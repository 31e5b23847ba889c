"""After every engine step: save it, start the children its call activities wait for, and wake
the caller when the last child of a call ends — all inside the step's transaction."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.definitions.repository import get_definition
from xueji.engine.calls import pending_calls
from xueji.engine.runner import StepOutcome
from xueji.errors import NotFound
from xueji.history.service import record_event
from xueji.instances.repository import lock
from xueji.instances.steps import load_workflow, new_workflow, run_step, save_state
from xueji.models import ProcessDefinition, ProcessInstance, Student, UserTask

if TYPE_CHECKING:
    from xueji.runtime import Runtime

UNFINISHED = ("running", "suspended", "error")
# session.info key: calls whose children are being started in this transaction.
_STARTING = "xueji_starting_calls"


def finish_step(
    session: Session,
    runtime: Runtime,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    outcome: StepOutcome,
    actor: str,
    **task_args,
) -> list[UserTask]:
    """Persist a step (see save_state), then start children, wake a waiting caller, and
    deliver the messages the step threw to other instances."""
    thrown = [
        e for e in workflow.get_events() if isinstance(e.event_definition, MessageEventDefinition)
    ]
    # Marks the calls as started in the workflow, so it comes before the state is saved.
    requests = pending_calls(workflow)
    created = save_state(session, instance, workflow, outcome, actor, **task_args)
    for request in requests:
        definition = get_definition(session, request.called_element)
        record_event(
            session,
            instance.id,
            actor,
            "call_started",
            element_id=request.element_id,
            data={"called": request.called_element, "children": len(request.inputs)},
        )
        # Children that end in their first step must not wake the caller before their
        # siblings exist: the caller is woken (at most) once, after all are started.
        starting = session.info.setdefault(_STARTING, set())
        starting.add(request.task_id)
        try:
            for index, inputs in enumerate(request.inputs):
                student = session.get(Student, _student_of(inputs) or instance.student_id or 0)
                create_instance(
                    session,
                    runtime,
                    definition,
                    inputs,
                    actor=actor,
                    station_id=student.station_id if student else instance.station_id,
                    student_id=student.id if student else None,
                    business_key=instance.business_key,
                    parent=instance,
                    parent_task_id=request.task_id,
                    call_index=index,
                )
        finally:
            starting.discard(request.task_id)
        if not _any_unfinished_child(session, instance.id, request.task_id):
            _wake_caller(session, runtime, instance.id, request.task_id, actor)
    for event in thrown:
        _deliver_thrown(session, runtime, instance, event, actor)
    if instance.state == "completed" and instance.parent_id is not None:
        _child_finished(session, runtime, instance, actor)
    return created


def _deliver_thrown(
    session: Session, runtime: Runtime, sender: ProcessInstance, event, actor: str
) -> None:
    from xueji.messages.service import send_thrown  # it builds on this module

    name = event.event_definition.name
    try:
        result = send_thrown(session, runtime, sender, name, event.payload)
    except NotFound as exc:  # kept in the history, never dropped without a trace
        record_event(
            session,
            sender.id,
            actor,
            "message_unmatched",
            data={"name": name, "detail": exc.detail},
        )
        return
    record_event(
        session,
        sender.id,
        actor,
        "message_sent",
        data={"name": name, "delivered": result.delivered, "started": result.started},
    )


def _student_of(inputs: dict[str, Any]) -> int | None:
    """A batch item names its student as {"student": id} (or is the id itself)."""
    for key in ("student", "student_id"):
        value = inputs.get(key)
        if isinstance(value, int):
            return value
        if isinstance(value, dict) and isinstance(value.get("id"), int):
            return value["id"]
    return None


def create_instance(
    session: Session,
    runtime: Runtime,
    definition: ProcessDefinition,
    variables: dict[str, Any],
    *,
    actor: str,
    station_id: int | None,
    student_id: int | None,
    business_key: str | None,
    parent: ProcessInstance | None = None,
    parent_task_id: str | None = None,
    call_index: int | None = None,
) -> ProcessInstance:
    """A new instance of a definition version, run to its first wait."""
    now = clock.now()
    instance = ProcessInstance(
        id=str(uuid.uuid4()),
        definition_id=definition.id,
        definition=definition,
        business_key=business_key,
        station_id=station_id,
        student_id=student_id,
        parent_id=parent.id if parent else None,
        parent_task_id=parent_task_id,
        call_index=call_index,
        state="running",
        engine_state="",
        started_by=actor,
        started_at=now,
        updated_at=now,
    )
    workflow = new_workflow(runtime, session, definition)
    # The row exists before the first step, so that services run by it can refer to it.
    session.add(instance)
    session.flush()
    outcome = run_step(
        session, runtime, instance, actor, lambda: runtime.runner.start(workflow, variables)
    )
    record_event(
        session,
        instance.id,
        actor,
        "instance_started",
        data={
            "key": definition.key,
            "version": definition.version,
            "business_key": business_key,
            "parent_id": instance.parent_id,
        },
        at=now,
    )
    finish_step(session, runtime, instance, workflow, outcome, actor)
    return instance


def _child_finished(session: Session, runtime: Runtime, child: ProcessInstance, actor: str) -> None:
    # Lock the caller first: siblings finishing at the same time then count one after the
    # other, so exactly one of them sees none left and wakes the caller.
    if child.parent_task_id in session.info.get(_STARTING, ()):
        return  # the caller is still starting this call's children; it checks when done
    lock(session, child.parent_id)
    if not _any_unfinished_child(session, child.parent_id, child.parent_task_id):
        _wake_caller(session, runtime, child.parent_id, child.parent_task_id, actor)


def _any_unfinished_child(session: Session, parent_id: str, task_id: str) -> bool:
    """Whether a child of the call still runs: one index seek, whatever the batch's size."""
    session.flush()
    return (
        session.scalar(
            select(ProcessInstance.id)
            .where(
                ProcessInstance.parent_task_id == task_id,
                ProcessInstance.state.in_(UNFINISHED),
                ProcessInstance.parent_id == parent_id,
            )
            .limit(1)
        )
        is not None
    )


def _wake_caller(
    session: Session, runtime: Runtime, parent_id: str, task_id: str, actor: str
) -> None:
    parent = lock(session, parent_id)
    if parent.state != "running":
        return
    children = session.execute(
        select(ProcessInstance.variables, ProcessInstance.state)
        .where(ProcessInstance.parent_id == parent_id, ProcessInstance.parent_task_id == task_id)
        .order_by(ProcessInstance.call_index)
    ).all()
    outputs = [variables for variables, state in children if state == "completed"]
    workflow = load_workflow(runtime, session, parent)
    outcome = run_step(
        session,
        runtime,
        parent,
        actor,
        lambda: runtime.runner.complete_call(workflow, task_id, outputs),
    )
    record_event(
        session,
        parent.id,
        actor,
        "call_completed",
        element_id=outcome.completed[0].element_id if outcome.completed else None,
        task_id=task_id,
        data={"children": len(children), "completed": len(outputs)},
    )
    finish_step(session, runtime, parent, workflow, outcome, actor)
