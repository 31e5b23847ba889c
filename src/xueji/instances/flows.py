"""The cascades that follow engine steps, in one place: starting an instance, finishing a step
(starting the children its call activities wait for, waking a caller whose last child ended,
delivering the messages it threw), sending messages, and terminating.

Everything runs in the caller's transaction. A cascade is a chain of links (a start, a
caller woken, a message delivered); it may be at most MAX_DEPTH links deep, so that two
diagrams that start or message each other are refused with the chain they formed instead of
recursing until Python gives up.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.principal import Principal
from xueji.definitions.repository import get_definition
from xueji.engine import serializer
from xueji.engine.messages import catch_message, waiting_elements
from xueji.engine.runner import StepOutcome, ThrownMessage, Workflow
from xueji.errors import BusinessKeyInUse, CascadeTooDeep, Forbidden, NotFound, ServiceError
from xueji.forms.attachments import attach
from xueji.history.service import record_event
from xueji.instances import correlation as corr
from xueji.instances.context import StepContext
from xueji.instances.incidents import add_incident
from xueji.instances.repository import lock
from xueji.instances.schemas import MessageResult
from xueji.instances.steps import (
    cancel_open_tasks,
    load_workflow,
    new_workflow,
    run_step,
    save_state,
    step_guard,
)
from xueji.models import HistoryEvent, ProcessDefinition, ProcessInstance, Student, Timer, UserTask
from xueji.models.states import UNFINISHED, InstanceState, TimerState
from xueji.runtime import Runtime

MAX_DEPTH = 8
# session.info key: calls whose children are being started in this transaction.
_STARTING = "xueji_starting_calls"


@dataclass(frozen=True)
class Cascade:
    """The links that led to the step at hand, outermost first."""

    links: tuple[str, ...] = ()

    def then(self, link: str) -> Cascade:
        chain = (*self.links, link)
        if len(chain) > MAX_DEPTH:
            raise CascadeTooDeep(
                {
                    "message": f"流程之间的连锁启动或消息超过 {MAX_DEPTH} 层，已拒绝："
                    + " → ".join(chain),
                    "chain": list(chain),
                    "limit": MAX_DEPTH,
                }
            )
        return Cascade(chain)


TOP = Cascade()


def context_for(
    session: Session, runtime: Runtime, instance: ProcessInstance, actor: str, cascade: Cascade
) -> StepContext:
    return StepContext(
        session=session,
        instance_id=instance.id,
        actor=actor,
        settings=runtime.settings,
        start=partial(_start_from_step, session, runtime, actor, cascade),
        send=partial(_send_from_step, session, runtime, instance, actor, cascade),
    )


def _send_from_step(
    session: Session,
    runtime: Runtime,
    sender: ProcessInstance,
    actor: str,
    cascade: Cascade,
    name: str,
    correlation: dict[str, Any],
    payload: dict[str, Any],
) -> None:
    _deliver_thrown(
        session, runtime, sender, ThrownMessage(name, payload), actor, cascade, correlation
    )


def _start_from_step(
    session: Session,
    runtime: Runtime,
    actor: str,
    cascade: Cascade,
    definition: ProcessDefinition,
    variables: dict[str, Any],
    *,
    station_id: int | None,
    student_id: int | None,
    business_key: str | None,
) -> ProcessInstance:
    return create_instance(
        session,
        runtime,
        definition,
        variables,
        actor=actor,
        station_id=station_id,
        student_id=student_id,
        business_key=business_key,
        cascade=cascade,
    )


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
    cascade: Cascade = TOP,
) -> ProcessInstance:
    """A new instance of a definition version, run to its first wait."""
    cascade = cascade.then(f"start {definition.key}")
    if parent is None and business_key is not None:
        business_key_free(session, definition.key, business_key)
    now = clock.now()
    instance = ProcessInstance(
        id=str(uuid.uuid4()),
        definition_id=definition.id,
        definition_key=definition.key,
        definition=definition,
        business_key=business_key,
        station_id=station_id,
        student_id=student_id,
        parent_id=parent.id if parent else None,
        parent_task_id=parent_task_id,
        call_index=call_index,
        state=InstanceState.RUNNING,
        engine_state="",
        started_by=actor,
        started_at=now,
        updated_at=now,
    )
    with step_guard(instance, actor):
        workflow = new_workflow(runtime, session, definition)
        # The row exists before the first step, so that services run by it can refer to it.
        session.add(instance)
        try:
            session.flush()
        except IntegrityError as exc:  # a start of the same key committed meanwhile
            if "business_key" not in str(exc.orig):
                raise
            raise BusinessKeyInUse(
                {
                    "message": f"业务编号“{business_key}”已被本流程未结束的案件使用"
                    f" (business key {business_key!r} was taken at the same moment)",
                    "business_key": business_key,
                }
            ) from None
        context = context_for(session, runtime, instance, actor, cascade)
        outcome = run_step(
            session, runtime, instance, context, lambda: runtime.runner.start(workflow, variables)
        )
        started: dict[str, Any] = {
            "key": definition.key,
            "version": definition.version,
            "business_key": business_key,
            "parent_id": instance.parent_id,
        }
        if parent is not None:
            started["inputs"] = serializer.plain(variables)  # what a retry starts again with
        record_event(session, instance.id, actor, "instance_started", data=started, at=now)
        # A new instance has no open tasks and no incidents yet: none to read.
        finish_step(
            session,
            runtime,
            instance,
            workflow,
            outcome,
            actor,
            cascade=cascade,
            open_rows=[],
            open_incidents=False,
        )
    return instance


def business_key_free(session: Session, key: str, business_key: str) -> None:
    """Refuse a business key an unfinished case of the process has (the partial unique
    index uq_process_instances_business_key settles two starts at the same moment)."""
    existing = session.scalar(
        select(ProcessInstance).where(
            ProcessInstance.definition_key == key,
            ProcessInstance.business_key == business_key,
            ProcessInstance.parent_id.is_(None),
            ProcessInstance.state.in_(UNFINISHED),
        )
    )
    if existing is not None:
        raise BusinessKeyInUse(
            {
                "message": f"业务编号“{business_key}”已被本流程未结束的案件使用"
                f" (business key {business_key!r} is in use by instance {existing.id})",
                "instance_id": existing.id,
                "business_key": business_key,
                "state": existing.state,
            }
        )


def finish_step(
    session: Session,
    runtime: Runtime,
    instance: ProcessInstance,
    workflow: Workflow,
    outcome: StepOutcome,
    actor: str,
    *,
    cascade: Cascade = TOP,
    **task_args: Any,
) -> list[UserTask]:
    """Persist a step (see save_state), then start children, wake a waiting caller, and
    deliver the messages the step threw to other instances."""
    describe = runtime.summaries.get(instance.definition.key)
    created = save_state(
        session, instance, workflow, outcome, actor, describe=describe, **task_args
    )
    for request in outcome.calls:
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
                if student is not None and instance.station_id not in (None, student.station_id):
                    # A station's case reaches its own students only, whatever a form listed.
                    raise ServiceError(
                        {
                            "element_id": request.element_id,
                            "element_name": None,
                            "message": f"学生 {student.name}"
                            f"（{student.student_number or student.id}）不属于本流程的函授站",
                        }
                    )
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
                    cascade=cascade,
                )
        finally:
            starting.discard(request.task_id)
        if not _any_unfinished_child(session, instance.id, request.task_id):
            _wake_caller(session, runtime, instance.id, request.task_id, actor, cascade)
    for message in outcome.thrown:
        _deliver_thrown(session, runtime, instance, message, actor, cascade)
    if instance.state == InstanceState.COMPLETED and instance.parent_id is not None:
        _child_finished(session, runtime, instance, actor, cascade)
    return created


def _student_of(inputs: dict[str, Any]) -> int | None:
    """A batch item names its student as {"student": id} (or is the id itself)."""
    for key in ("student", "student_id"):
        value = inputs.get(key)
        if isinstance(value, int):
            return value
        if isinstance(value, dict) and isinstance(value.get("id"), int):
            return value["id"]
    return None


def _child_finished(
    session: Session, runtime: Runtime, child: ProcessInstance, actor: str, cascade: Cascade
) -> None:
    if child.parent_task_id in session.info.get(_STARTING, ()):
        return  # the caller is still starting this call's children; it checks when done
    assert child.parent_id is not None and child.parent_task_id is not None
    # Lock the caller first: siblings finishing at the same time then count one after the
    # other, so exactly one of them sees none left and wakes the caller.
    lock(session, child.parent_id)
    if not _any_unfinished_child(session, child.parent_id, child.parent_task_id):
        _wake_caller(session, runtime, child.parent_id, child.parent_task_id, actor, cascade)


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


# Ended children whose data the caller takes: completed ones, and ones an administrator
# skipped (their data is what the administrator gave).
_OUTPUT_STATES = (InstanceState.COMPLETED, InstanceState.SKIPPED)


def _wake_caller(
    session: Session,
    runtime: Runtime,
    parent_id: str,
    task_id: str,
    actor: str,
    cascade: Cascade,
) -> None:
    parent = lock(session, parent_id)
    if parent.state != InstanceState.RUNNING:
        return
    children = session.execute(
        select(ProcessInstance.variables, ProcessInstance.state)
        .where(ProcessInstance.parent_id == parent_id, ProcessInstance.parent_task_id == task_id)
        .order_by(ProcessInstance.call_index)
    ).all()
    if any(state == InstanceState.TERMINATED for _variables, state in children):
        return  # an open incident on the caller says what an administrator may do
    cascade = cascade.then(f"wake {parent.definition.key}")
    outputs = [variables for variables, state in children if state in _OUTPUT_STATES]
    workflow = load_workflow(runtime, session, parent)
    context = context_for(session, runtime, parent, actor, cascade)
    outcome = run_step(
        session,
        runtime,
        parent,
        context,
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
    finish_step(session, runtime, parent, workflow, outcome, actor, cascade=cascade)


# --- messages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Message:
    """A message on its way: who sends it, what it is, and the cascade it is part of."""

    principal: Principal
    name: str
    correlation: dict[str, Any]
    payload: dict[str, Any]
    cascade: Cascade
    # Sent from outside (POST /messages): its upload ids are checked and attached as a
    # task's; a message one instance throws to another carries what its step wrote.
    outside: bool = False

    @property
    def sender(self) -> Principal | None:
        """Whose uploads the payload may name: the sender's, for a message from outside."""
        return self.principal if self.outside else None


def send_message(
    session: Session,
    runtime: Runtime,
    principal: Principal,
    name: str,
    correlation: dict[str, Any],
    payload: dict[str, Any],
    *,
    check_roles: bool = True,
    cascade: Cascade = TOP,
) -> MessageResult:
    """Deliver message `name` to the matching waiting instances, or start processes with it."""
    correlation = corr.normalised(correlation)
    catches = corr.catches_of(session, name)
    if not catches:
        raise NotFound(corr.nothing(name, correlation))
    sendable = [c for c in catches if not check_roles or corr.may_send(principal, c)]
    if not sendable:
        raise Forbidden(f"your roles may not send the message {name!r}")
    message = _Message(principal, name, correlation, payload, cascade, outside=check_roles)
    usable = [c for c in sendable if set(c.catch.correlation) <= set(correlation)]
    delivered = _deliver(session, runtime, message, [c for c in usable if not c.catch.start])
    started: list[str] = []
    if not delivered:
        starts = [c for c in usable if c.catch.start and c.latest]
        started = _start_by_message(session, runtime, message, starts)
    if not delivered and not started:
        raise NotFound(corr.nothing(name, correlation))
    return MessageResult(name=name, delivered=delivered, started=started)


def _deliver_thrown(
    session: Session,
    runtime: Runtime,
    sender: ProcessInstance,
    message: ThrownMessage,
    actor: str,
    cascade: Cascade,
    correlation: dict[str, Any] | None = None,
) -> None:
    """A message one instance throws (or a service of its step sends, with the correlation
    it names), delivered in its step's transaction with the sender's scope."""
    name = message.name
    body = message.payload if isinstance(message.payload, dict) else {"value": message.payload}
    if correlation is None:
        correlation = corr.thrown_correlation(session, sender, name)
    try:
        result = send_message(
            session,
            runtime,
            corr.sender_principal(sender),
            name,
            correlation,
            body,
            check_roles=False,
            cascade=cascade.then(f"message {name} from {sender.definition.key}"),
        )
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


def _deliver(
    session: Session, runtime: Runtime, message: _Message, waiting: list[corr.Catch]
) -> list[str]:
    """Catch the message in every matching waiting instance; their ids."""
    elements: dict[int, dict[str, corr.Catch]] = {}
    for candidate in waiting:
        elements.setdefault(candidate.definition.id, {})[candidate.catch.element_id] = candidate
    if not elements:
        return []
    # Lock in id order, so that two messages for the same instances cannot deadlock.
    targets: list[tuple[str, corr.Catch]] = []
    for instance_id in corr.candidates(
        session, message.principal, message.correlation, set(elements)
    ):
        instance = lock(session, instance_id)
        if instance.state != InstanceState.RUNNING or not corr.matches(
            instance, message.correlation
        ):
            continue
        workflow = load_workflow(runtime, session, instance)
        here = elements[instance.definition_id]
        caught = [e for e in waiting_elements(workflow, message.name) if e in here]
        if caught:
            targets.append((instance_id, here[caught[0]]))
    corr.validate_payload(session, message.sender, message.payload, targets)
    return [
        instance_id
        for instance_id, target in targets
        if _catch_in(session, runtime, message, instance_id, target)
    ]


def _catch_in(
    session: Session, runtime: Runtime, message: _Message, instance_id: str, target: corr.Catch
) -> bool:
    """One engine step: the instance catches the message and runs on; False if it moved on."""
    # Reload: delivering to an earlier target may have advanced this one (a caller woken).
    instance = lock(session, instance_id)
    workflow = load_workflow(runtime, session, instance)
    if instance.state != InstanceState.RUNNING or not waiting_elements(workflow, message.name):
        return False
    actor = message.principal.username
    cascade = message.cascade.then(f"catch {message.name} in {instance.definition.key}")
    record_event(
        session,
        instance.id,
        actor,
        "message_received",
        element_id=target.catch.element_id,
        element_name=target.catch.element_name,
        data={
            "name": message.name,
            "correlation": message.correlation,
            "payload": message.payload,
        },
    )
    if message.outside:
        schema = corr.catch_form(session, target)
        attach(session, message.principal, schema, message.payload, instance, prefix="payload.")
    with step_guard(instance, actor):
        context = context_for(session, runtime, instance, actor, cascade)
        outcome = run_step(
            session,
            runtime,
            instance,
            context,
            partial(catch_message, runtime.runner, workflow, message.name, message.payload),
        )
        finish_step(session, runtime, instance, workflow, outcome, actor, cascade=cascade)
    return True


def _start_by_message(
    session: Session, runtime: Runtime, message: _Message, starts: list[corr.Catch]
) -> list[str]:
    """Start each process whose message start event catches the message; the new ids."""
    if not starts:
        return []
    scope = corr.new_scope(session, message.principal, message.correlation)
    if scope is None:
        return []
    station, student = scope
    corr.validate_payload(session, message.sender, message.payload, [(None, t) for t in starts])
    variables: dict[str, Any] = {}
    if student is not None:
        variables["student"] = student.id
    if station is not None:
        variables["station"] = station.code
    started = []
    for target in starts:
        instance = create_instance(
            session,
            runtime,
            target.definition,
            dict(variables),
            actor=message.principal.username,
            station_id=station.id if station else None,
            student_id=student.id if student else None,
            business_key=message.correlation.get("business_key"),
            cascade=message.cascade,
        )
        _catch_in(session, runtime, message, instance.id, target)
        started.append(instance.id)
    return started


# --- ending instances -----------------------------------------------------------------------


def terminate(
    session: Session,
    runtime: Runtime,
    instance: ProcessInstance,
    actor: str,
    *,
    cascade: Cascade = TOP,
) -> None:
    """End an unfinished instance and its unfinished children: open tasks cancelled (each with
    a history line), timers cancelled. A terminated child's caller gets an incident (see
    `child_ended`), so that it never waits silently."""
    cascade = cascade.then(f"terminate {instance.definition.key}")
    now = clock.now()
    instance.state, instance.updated_at, instance.ended_at = InstanceState.TERMINATED, now, now
    record_event(session, instance.id, actor, "instance_terminated", at=now)
    workflow = load_workflow(runtime, session, instance)
    runtime.runner.cancel(workflow)
    instance.engine_state = serializer.dumps(workflow, instance.definition_id)
    cancel_open_tasks(session, instance, actor)
    for timer in session.scalars(
        select(Timer).where(
            Timer.instance_id == instance.id,
            Timer.state.in_((TimerState.PENDING, TimerState.FAILED)),
        )
    ):
        timer.state = TimerState.CANCELLED
        timer.claimed_by = timer.claim_expires_at = None
    children = session.scalars(
        select(ProcessInstance.id)
        .where(ProcessInstance.parent_id == instance.id, ProcessInstance.state.in_(UNFINISHED))
        .order_by(ProcessInstance.id)
    ).all()
    for child_id in children:
        terminate(session, runtime, lock(session, child_id), actor, cascade=cascade)
    session.flush()
    if instance.parent_id is not None and not cascade.links[:-1]:
        child_ended(session, instance, actor)


def child_ended(session: Session, child: ProcessInstance, actor: str) -> None:
    """A child of a waiting call was terminated: the caller gets an open incident that an
    administrator resolves by retrying the child, skipping it with outputs, or terminating
    the caller (xueji.instances.service.resolve_child_incident)."""
    assert child.parent_id is not None
    caller = lock(session, child.parent_id)
    if caller.state not in UNFINISHED:
        return
    add_incident(
        session,
        {
            "instance_id": caller.id,
            "definition_id": caller.definition_id,
            "element_id": None,
            "message": f"子流程“{child.definition.name}”已终止，调用方在等待："
            "请重试、跳过或终止本流程",
            "actor": actor,
            "data": {
                "kind": "child_ended",
                "child_id": child.id,
                "call_task_id": child.parent_task_id,
                "child_state": child.state,
            },
        },
    )


def skip_child(
    session: Session,
    runtime: Runtime,
    child: ProcessInstance,
    outputs: dict[str, Any],
    actor: str,
) -> None:
    """Count an ended child as done with `outputs`; wake its caller if it was the last."""
    assert child.parent_id is not None and child.parent_task_id is not None
    child.variables = {**(child.variables or {}), **outputs}
    child.state = InstanceState.SKIPPED
    record_event(session, child.id, actor, "instance_skipped", data={"outputs": outputs})
    _child_finished(session, runtime, child, actor, TOP)


def retry_child(
    session: Session, runtime: Runtime, child: ProcessInstance, actor: str
) -> ProcessInstance:
    """Start the child's call again, as a new child with the same inputs; the old one is
    counted as replaced (skipped without outputs of its own)."""
    assert child.parent_id is not None
    caller = lock(session, child.parent_id)
    started = session.scalar(
        select(HistoryEvent.data).where(
            HistoryEvent.instance_id == child.id, HistoryEvent.kind == "instance_started"
        )
    )
    inputs = (started or {}).get("inputs", {})
    definition = get_definition(session, child.definition.key)
    child.state = InstanceState.REPLACED
    record_event(session, child.id, actor, "instance_replaced")
    return create_instance(
        session,
        runtime,
        definition,
        inputs,
        actor=actor,
        station_id=child.station_id,
        student_id=child.student_id,
        business_key=child.business_key,
        parent=caller,
        parent_task_id=child.parent_task_id,
        call_index=child.call_index,
    )
