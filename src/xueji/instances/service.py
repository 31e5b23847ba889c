"""Starting instances and changing their lifecycle (suspend, resume, terminate)."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.principal import Principal
from xueji.auth.roles import Role
from xueji.definitions.auth import may_start
from xueji.definitions.repository import form_content
from xueji.errors import Conflict, Forbidden, InvalidInput, NotFound
from xueji.forms import attachments, choices
from xueji.history.service import record_event
from xueji.instances import flows
from xueji.instances.repository import lock
from xueji.models import (
    Incident,
    ProcessDefinition,
    ProcessInstance,
    Station,
    Student,
    Timer,
    UserTask,
)
from xueji.models.states import UNFINISHED, InstanceState, TimerState, UserTaskState
from xueji.paging import MAX_ID
from xueji.runtime import Runtime


def _scope_of_new_instance(
    session: Session, principal: Principal, variables: dict[str, Any]
) -> tuple[int | None, int | None]:
    """(station_id, student_id) the new instance belongs to: the caller's, or the start form's."""
    if (
        Role.STUDENT in principal.roles
        and principal.student_id is not None
        and not principal.sees_all_stations
    ):
        own = session.get(Student, principal.student_id)
        if own is None:
            raise Forbidden("your student record is missing")
        return own.station_id, own.id
    student = None
    if variables.get("student") is not None:
        try:
            wanted = int(variables["student"])
        except (TypeError, ValueError):
            wanted = 0
        # (beyond MAX_ID PostgreSQL's INTEGER column cannot even be compared with it)
        student = session.get(Student, wanted) if 0 < wanted <= MAX_ID else None
        if student is None:
            raise InvalidInput([{"field": "student", "message": "no such student"}])
    station_id = student.station_id if student else None
    if not principal.sees_all_stations:
        if principal.station_id is None:
            raise Forbidden("you belong to no station")
        if student is not None and student.station_id != principal.station_id:
            raise InvalidInput([{"field": "student", "message": "no such student"}])
        station_id = principal.station_id
    elif station_id is None and variables.get("station"):
        station_id = session.scalar(select(Station.id).where(Station.code == variables["station"]))
        if station_id is None:
            raise InvalidInput([{"field": "station", "message": "no such station"}])
    return station_id, student.id if student else None


def start_instance(
    session: Session,
    runtime: Runtime,
    principal: Principal,
    definition: ProcessDefinition,
    business_key: str | None,
    variables: dict[str, Any],
) -> tuple[ProcessInstance, bool]:
    """Start an instance of a definition version and run it to its first wait; and whether
    its start form named uploads (its attachments)."""
    if not may_start(principal, definition):
        raise Forbidden(f"your roles may not start {definition.key!r}")
    schema = form_content(session, definition, definition.start_form)
    variables = choices.prepare(session, principal, schema, variables)
    station_id, student_id = _scope_of_new_instance(session, principal, variables)
    instance = flows.create_instance(
        session,
        runtime,
        definition,
        variables,
        actor=principal.username,
        station_id=station_id,
        student_id=student_id,
        business_key=business_key,
    )
    attached = attachments.attach(session, principal, schema, variables, instance)
    return instance, attached


def _change_state(
    session: Session,
    principal: Principal,
    instance_id: str,
    allowed: set[str],
    new_state: str,
    kind: str,
) -> ProcessInstance:
    instance = lock(session, instance_id)
    if instance.state not in allowed:
        raise Conflict(f"the instance is {instance.state}; it cannot be {new_state}")
    now = clock.now()
    instance.state, instance.updated_at = new_state, now
    # The open tasks carry the instance's suspension (UserTask.suspended), in one UPDATE
    # that bumps their versions like every change of a task row.
    session.execute(
        update(UserTask)
        .where(UserTask.instance_id == instance.id, UserTask.state == UserTaskState.READY)
        .values(suspended=new_state == InstanceState.SUSPENDED, version=UserTask.version + 1)
        .execution_options(synchronize_session="fetch")
    )
    record_event(session, instance.id, principal.username, kind, at=now)
    return instance


def suspend(session: Session, principal: Principal, instance_id: str) -> ProcessInstance:
    return _change_state(
        session,
        principal,
        instance_id,
        {InstanceState.RUNNING},
        InstanceState.SUSPENDED,
        "instance_suspended",
    )


def resume(session: Session, principal: Principal, instance_id: str) -> ProcessInstance:
    return _change_state(
        session,
        principal,
        instance_id,
        {InstanceState.SUSPENDED},
        InstanceState.RUNNING,
        "instance_resumed",
    )


def _lock_for_terminate(session: Session, instance_id: str) -> ProcessInstance:
    """Lock an instance to terminate it: its unfinished descendants first, deepest first.

    A step that ends a child locks the child, then its caller (flows._child_finished), and
    terminating locks each child it ends: locking the caller before its children would wait
    on such a step while it waits on us (a deadlock on PostgreSQL, a 500 for one of the two).
    """
    levels: list[list[str]] = []
    parents = [instance_id]
    while parents:
        parents = list(
            session.scalars(
                select(ProcessInstance.id)
                .where(ProcessInstance.parent_id.in_(parents))
                .where(ProcessInstance.state.in_(UNFINISHED))
                .order_by(ProcessInstance.id)
            )
        )
        levels.append(parents)
    for level in reversed(levels):
        if level:
            session.execute(
                select(ProcessInstance.id)
                .where(ProcessInstance.id.in_(level))
                .order_by(ProcessInstance.id)
                .with_for_update()
            )
    return lock(session, instance_id)


def terminate(
    session: Session, runtime: Runtime, principal: Principal, instance_id: str
) -> ProcessInstance:
    """End an instance and its running children; a child's caller gets an incident."""
    instance = _lock_for_terminate(session, instance_id)
    if instance.state not in UNFINISHED:
        raise Conflict(f"the instance is {instance.state}; it cannot be terminated")
    flows.terminate(session, runtime, instance, principal.username)
    return instance


ChildAction = Literal["retry", "skip", "terminate_caller"]


def resolve_incident(
    session: Session,
    runtime: Runtime,
    principal: Principal,
    incident_id: int,
    action: ChildAction | Literal["dismiss"],
    outputs: dict[str, Any] | None = None,
) -> Incident:
    """An administrator's answer to an incident.

    For a timer that failed its last attempt: `retry` sets it pending again (the next worker
    pass fires it). For a caller whose child was terminated: `retry` starts the child again
    with its inputs, `skip` counts it as done with `outputs`, `terminate_caller` ends the
    caller (and its other children). Any incident may be `dismiss`ed (resolved, nothing run)."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    if incident.resolved_at is not None:
        raise Conflict("the incident is resolved already")
    data = dict(incident.data or {})
    if action == "retry" and data.get("kind") == "timer_failed":
        timer = session.get(Timer, data["timer_id"])
        if timer is None or timer.state != TimerState.FAILED:
            raise Conflict("the timer is no longer failed")
        timer.fire_again()
    elif action != "dismiss":
        if data.get("kind") != "child_ended":
            raise InvalidInput(
                [{"field": "action", "message": f"{action!r} applies to a terminated child only"}]
            )
        child = lock(session, data["child_id"])
        if action == "retry":
            data["replacement"] = flows.retry_child(session, runtime, child, principal.username).id
        elif action == "skip":
            flows.skip_child(session, runtime, child, outputs or {}, principal.username)
        else:
            caller = _lock_for_terminate(session, child.parent_id or "")
            if caller.state in UNFINISHED:
                flows.terminate(session, runtime, caller, principal.username)
    incident.resolved_at = clock.now()
    incident.data = {**data, "resolved_by": principal.username, "action": action}
    session.flush()
    return incident
