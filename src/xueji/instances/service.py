"""Starting instances and changing their lifecycle (suspend, resume, terminate)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.principal import Principal
from xueji.definitions.repository import latest_forms
from xueji.engine import serializer
from xueji.errors import Conflict, Forbidden, InvalidInput
from xueji.forms.validation import validate_form
from xueji.history.service import record_event
from xueji.instances.advance import create_instance
from xueji.instances.repository import lock
from xueji.instances.steps import load_workflow
from xueji.models import Form, ProcessDefinition, ProcessInstance, Station, Student, Timer, UserTask

if TYPE_CHECKING:
    from xueji.runtime import Runtime


def may_start(principal: Principal, definition: ProcessDefinition) -> bool:
    return principal.is_admin or (
        definition.start_role is not None and definition.start_role in principal.roles
    )


def form_content(session: Session, definition: ProcessDefinition, name: str | None):
    if not name:
        return None
    form_id = definition.forms.get(name)
    if form_id is not None:
        form = session.get(Form, form_id)
        return form.content if form else None
    form = latest_forms(session).get(name)
    return form.content if form else None


def _scope_of_new_instance(
    session: Session, principal: Principal, variables: dict[str, Any]
) -> tuple[int | None, int | None]:
    """(station_id, student_id) the new instance belongs to: the caller's, or the start form's."""
    if (
        "student" in principal.roles
        and principal.student_id is not None
        and not principal.sees_all_stations
    ):
        student = session.get(Student, principal.student_id)
        return student.station_id, student.id
    student = None
    if variables.get("student") is not None:
        try:
            student = session.get(Student, int(variables["student"]))
        except (TypeError, ValueError):
            student = None
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
) -> ProcessInstance:
    """Start an instance of a definition version and run it to its first wait."""
    if not may_start(principal, definition):
        raise Forbidden(f"your roles may not start {definition.key!r}")
    validate_form(form_content(session, definition, definition.start_form), variables)
    station_id, student_id = _scope_of_new_instance(session, principal, variables)
    return create_instance(
        session,
        runtime,
        definition,
        variables,
        actor=principal.username,
        station_id=station_id,
        student_id=student_id,
        business_key=business_key,
    )


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
    record_event(session, instance.id, principal.username, kind, at=now)
    return instance


def suspend(session: Session, principal: Principal, instance_id: str) -> ProcessInstance:
    return _change_state(
        session, principal, instance_id, {"running"}, "suspended", "instance_suspended"
    )


def resume(session: Session, principal: Principal, instance_id: str) -> ProcessInstance:
    return _change_state(
        session, principal, instance_id, {"suspended"}, "running", "instance_resumed"
    )


def terminate(
    session: Session, runtime: Runtime, principal: Principal, instance_id: str
) -> ProcessInstance:
    instance = _change_state(
        session,
        principal,
        instance_id,
        {"running", "suspended", "error"},
        "terminated",
        "instance_terminated",
    )
    workflow = load_workflow(runtime, session, instance)
    runtime.runner.cancel(workflow)
    instance.engine_state = serializer.dumps(workflow, instance.definition_id)
    instance.ended_at = instance.updated_at
    for row in session.scalars(
        select(UserTask).where(UserTask.instance_id == instance.id, UserTask.state == "ready")
    ):
        row.state, row.completed_at = "cancelled", instance.updated_at
    for timer in session.scalars(
        select(Timer).where(Timer.instance_id == instance.id, Timer.state == "pending")
    ):
        timer.state = "cancelled"
    session.flush()
    return instance
