"""Repairing a case (administrators only, each action audited): start an element it has
passed again (its later steps cancelled), set or correct a variable, retry or skip the step
that failed, and the other answers to an incident."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.principal import Principal
from xueji.definitions.repository import form_content
from xueji.engine import repair, serializer
from xueji.engine.runner import TaskNotReady, instance_data
from xueji.errors import Conflict, FormInvalid, InvalidInput, NotFound
from xueji.history.service import record_event
from xueji.instances import service as instances
from xueji.instances.flows import TOP, context_for, finish_step
from xueji.instances.repository import lock
from xueji.instances.steps import load_workflow, run_step, step_guard
from xueji.models import Incident, ProcessInstance, UserTask
from xueji.models.states import UNFINISHED, UserTaskState
from xueji.operations.audit_hooks import audited
from xueji.operations.schemas import IncidentActionName
from xueji.runtime import Runtime

VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _running(session: Session, instance_id: str) -> ProcessInstance:
    instance = lock(session, instance_id)
    if instance.state not in UNFINISHED:
        raise Conflict(f"the instance is {instance.state}; only an unfinished case is repaired")
    return instance


def move(
    session: Session,
    runtime: Runtime,
    principal: Principal,
    request: Request | None,
    instance_id: str,
    element_id: str,
) -> ProcessInstance:
    """Start `element_id` again from its latest run; the steps after it are cancelled."""
    instance = _running(session, instance_id)
    children = session.scalar(
        select(ProcessInstance.id).where(
            ProcessInstance.parent_id == instance.id, ProcessInstance.state.in_(UNFINISHED)
        )
    )
    if children is not None:
        raise Conflict("the case waits for running children; terminate them first")
    with step_guard(instance, principal.username):
        workflow = load_workflow(runtime, session, instance)
        before = repair.active_element_ids(workflow)
        context = context_for(session, runtime, instance, principal.username, TOP)
        try:
            outcome = run_step(
                session,
                runtime,
                instance,
                context,
                lambda: repair.reset_to(runtime.runner, workflow, element_id),
            )
        except repair.ElementNotReached:
            raise InvalidInput(
                [
                    {
                        "field": "element_id",
                        "message": f"本案件尚未办理过环节 {element_id!r}，无法退回到该环节"
                        " (only an element the case has passed can be started again)",
                    }
                ]
            ) from None
        record_event(
            session,
            instance.id,
            principal.username,
            "instance_moved",
            element_id=element_id,
            data={"cancelled": before},
        )
        finish_step(session, runtime, instance, workflow, outcome, principal.username)
        audited(
            session,
            principal,
            request,
            "instance.repair.move",
            f"instance:{instance.id}",
            {"active": before},
            {"active": repair.active_element_ids(workflow), "started": element_id},
            instance_id=instance.id,
        )
    return instance


def _field_problems(session: Session, instance: ProcessInstance, name: str, value: Any):
    """The value checked by every form of the definition that declares the field."""
    problems = []
    for form_name in sorted(instance.definition.forms or {}):
        schema = form_content(session, instance.definition, form_name) or {}
        field = (schema.get("properties") or {}).get(name)
        if not isinstance(field, dict):
            continue
        validator = Draft202012Validator(field, format_checker=FormatChecker())
        for error in validator.iter_errors(value):
            where = ".".join([name, *(str(p) for p in error.absolute_path)])
            problems.append({"field": where, "message": f"{form_name}: {error.message[:300]}"})
    return problems


def set_variable(
    session: Session,
    runtime: Runtime,
    principal: Principal,
    request: Request | None,
    instance_id: str,
    name: str,
    value: Any,
) -> ProcessInstance:
    """Set or correct a variable of an unfinished case, checked like task data: a value that
    can be stored, and valid for every form field of that name."""
    if not VARIABLE_NAME.fullmatch(name) or name == "typename":
        raise InvalidInput(
            [{"field": "name", "message": "a variable name is a Python identifier (≤ 64)"}]
        )
    try:
        serializer.check_data({name: value}, max_bytes=runtime.settings.max_request_bytes)
    except serializer.UnsafeData as exc:
        raise InvalidInput([{"field": name, "message": str(exc)}]) from None
    instance = _running(session, instance_id)
    if problems := _field_problems(session, instance, name, value):
        raise FormInvalid(problems)
    with step_guard(instance, principal.username):
        workflow = load_workflow(runtime, session, instance)
        before = (instance.variables or {}).get(name)
        if repair.set_variable(workflow, name, value) == 0:
            raise Conflict("the case has no active step whose data could be changed")
        now = clock.now()
        instance.engine_state = serializer.dumps(workflow, instance.definition_id)
        instance.variables = instance_data(workflow)
        instance.updated_at = now
        after = serializer.plain({name: value})[name]
        _correct_failed_steps(session, instance.id, name, after)
        record_event(
            session,
            instance.id,
            principal.username,
            "variable_set",
            data={"name": name, "before": before, "after": after},
            at=now,
        )
        audited(
            session,
            principal,
            request,
            "instance.repair.set_variable",
            f"instance:{instance.id}",
            {name: before},
            {name: after},
            instance_id=instance.id,
        )
        session.flush()
    return instance


def _correct_failed_steps(session: Session, instance_id: str, name: str, value: Any) -> None:
    """A corrected variable is also what a retry of the instance's failed steps submits."""
    for incident in session.scalars(
        select(Incident).where(Incident.instance_id == instance_id, Incident.resolved_at.is_(None))
    ):
        redo = (incident.data or {}).get("retry")
        if redo and name in (redo.get("data") or {}):
            incident.data = {
                **incident.data,
                "retry": {**redo, "data": {**redo["data"], name: value}},
            }


def _rerun_failed_step(
    session: Session,
    runtime: Runtime,
    principal: Principal,
    incident: Incident,
    action: str,
) -> None:
    """Redo the task completion that failed (kept in the incident), running the failing
    element (`retry`) or completing it without running it (`skip`)."""
    trigger = (incident.data or {}).get("retry")
    if not trigger or incident.instance_id is None:
        raise InvalidInput(
            [{"field": "action", "message": f"{action!r}: this incident kept no step to redo"}]
        )
    instance = _running(session, incident.instance_id)
    task = session.get(UserTask, trigger["task_id"])
    if task is None or task.state != UserTaskState.READY:
        raise Conflict("the failed step's task is no longer open")
    element_id = incident.element_id
    data = trigger.get("data") or {}
    with step_guard(instance, principal.username):
        workflow = load_workflow(runtime, session, instance)
        context = context_for(session, runtime, instance, principal.username, TOP)

        def step():
            if action == "retry":
                return runtime.runner.complete(workflow, task.id, data)
            assert element_id is not None
            return repair.skip(runtime.runner, workflow, element_id, task.id, data)

        try:
            outcome = run_step(session, runtime, instance, context, step)
        except (TaskNotReady, repair.ElementNotReached):
            raise Conflict("the case has moved on; the failed step cannot be redone") from None
        record_event(
            session,
            instance.id,
            principal.username,
            f"step_{'retried' if action == 'retry' else 'skipped'}",
            element_id=element_id,
            data={"incident": incident.id},
        )
        finish_step(
            session,
            runtime,
            instance,
            workflow,
            outcome,
            principal.username,
            completed_task=task,
            form_data=data,
        )


def resolve(
    session: Session,
    runtime: Runtime,
    principal: Principal,
    request: Request | None,
    incident_id: int,
    action: IncidentActionName,
    outputs: dict[str, Any],
) -> Incident:
    """Answer an incident: a failed step is retried or skipped here; a failed timer or a
    terminated child as instances.service does; any may be dismissed."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    before = {"resolved_at": None, "data": dict(incident.data or {})}
    if action in ("retry", "skip") and "retry" in (incident.data or {}):
        if incident.resolved_at is not None:
            raise Conflict("the incident is resolved already")
        _rerun_failed_step(session, runtime, principal, incident, action)
        incident.resolved_at = clock.now()
        incident.data = {**(incident.data or {}), "resolved_by": principal.username}
        incident.data["action"] = action
        session.flush()
    else:
        incident = instances.resolve_incident(
            session,
            runtime,
            principal,
            incident_id,
            action,
            outputs,
        )
    names = {"retry": "instance.repair.retry", "skip": "instance.repair.skip"}
    audited(
        session,
        principal,
        request,
        names.get(action, "incident.resolve"),
        f"incident:{incident.id}",
        before,
        {"resolved_at": str(incident.resolved_at), "action": action},
        instance_id=incident.instance_id,
    )
    return incident
