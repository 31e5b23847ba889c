"""Working on tasks: claim, unclaim, assign, complete (one engine step)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.principal import Principal, principal_from_user
from xueji.auth.roles import Role
from xueji.definitions.repository import form_content
from xueji.documents.links import step_documents
from xueji.engine import serializer
from xueji.engine.runner import TaskNotReady
from xueji.errors import (
    Conflict,
    EngineStepFailed,
    Forbidden,
    FormInvalid,
    InvalidInput,
    NotFound,
    XuejiError,
)
from xueji.forms import attachments, choices
from xueji.forms.schemas import FormOut
from xueji.forms.signatures import signed
from xueji.forms.validation import overwrites
from xueji.history.service import record_event
from xueji.instances.flows import TOP, context_for, finish_step
from xueji.instances.repository import get_readable_task as get_readable
from xueji.instances.repository import lock_by_task, lock_many, may_work_on
from xueji.instances.repository import tasks_readable_by as readable_by
from xueji.instances.schemas import task_item
from xueji.instances.steps import load_workflow, open_tasks, run_step, step_guard
from xueji.models import ProcessInstance, User, UserTask
from xueji.models.states import InstanceState, UserTaskState
from xueji.runtime import Runtime
from xueji.tasks.repository import waiting_steps
from xueji.tasks.schemas import DocumentLink, TaskDetail


@dataclass
class OpenTask:
    """A task about to be worked on, with what the step needs of its instance."""

    task: UserTask
    instance: ProcessInstance  # locked
    open_rows: list[UserTask]  # the instance's open tasks, read after locking it
    open_incidents: bool  # whether the instance has unresolved incidents
    attachments: bool  # whether the instance's forms named uploads


class Completed(NamedTuple):
    """What a completion leaves: the instance, its open tasks (oldest first) the caller may
    work on and all of them (whoever's), and whether it may have attachments."""

    instance: ProcessInstance
    next_tasks: list[UserTask]
    waiting: list[UserTask]
    attachments: bool


def _open_task(
    session: Session, principal: Principal, task_id: str, version: int | None = None
) -> OpenTask:
    """The task, its instance (locked) and the instance's open tasks as they are now that it
    is locked, or 404/409 when the task cannot be worked on now, or when `version` (the one
    the caller read) is given and the task has changed since."""
    locked = lock_by_task(session, principal, task_id)
    instance = locked.instance
    open_rows = open_tasks(session, instance)
    task = next((row for row in open_rows if row.id == task_id), None)
    if task is None:  # not open any more: read it for the answer
        task = get_readable(session, principal, task_id)
        session.refresh(task)
    if task.state != UserTaskState.READY:
        raise Conflict(f"the task is already {task.state}")
    if instance.state != InstanceState.RUNNING:
        raise Conflict(f"the process instance is {instance.state}")
    if version is not None and version != task.version:
        raise Conflict(
            f"the task changed since you read it (version {version}, now {task.version}; "
            f"assignee: {task.assignee or 'none'})"
        )
    return OpenTask(task, instance, open_rows, locked.open_incidents, locked.attachments)


def claim(
    session: Session, principal: Principal, task_id: str, version: int | None = None
) -> UserTask:
    """Take a task nobody holds (claiming one's own again changes nothing)."""
    opened = _open_task(session, principal, task_id, version)
    task, instance = opened.task, opened.instance
    if task.assignee == principal.username:
        return task
    if task.assignee is not None:
        raise Conflict(f"the task is claimed by {task.assignee}")
    task.assignee = principal.username
    record_event(
        session,
        instance.id,
        principal.username,
        "task_claimed",
        element_id=task.element_id,
        element_name=task.name,
        task_id=task.id,
    )
    session.flush()  # the answer carries the new version
    return task


def unclaim(
    session: Session, principal: Principal, task_id: str, version: int | None = None
) -> UserTask:
    opened = _open_task(session, principal, task_id, version)
    task, instance = opened.task, opened.instance
    if task.assignee is None:
        return task
    if task.assignee != principal.username and not principal.has_role(Role.REGISTRAR):
        raise Conflict(f"the task is claimed by {task.assignee}")
    task.assignee = None
    record_event(
        session,
        instance.id,
        principal.username,
        "task_unclaimed",
        element_id=task.element_id,
        element_name=task.name,
        task_id=task.id,
    )
    session.flush()  # the answer carries the new version
    return task


def assign(
    session: Session,
    principal: Principal,
    task_id: str,
    username: str,
    version: int | None = None,
) -> UserTask:
    """Give a task to a user who could work on it (registrars, admins, or the task's role).

    Without `version` only a task nobody holds. A task someone holds (the caller included:
    they may not know that it was just assigned to them) needs the `version` the caller
    read, which must still be the task's: they saw whom they take it from. Then the caller
    may hand on a task they hold, and registrars (and admins) may take it from anyone."""
    opened = _open_task(session, principal, task_id, version)
    task, instance = opened.task, opened.instance
    if not (principal.has_role(Role.REGISTRAR) or task.role in principal.roles):
        raise Forbidden("only registrars or holders of the task's role may assign it")
    if task.assignee is not None:
        if task.assignee != principal.username and not principal.has_role(Role.REGISTRAR):
            raise Conflict(f"the task is claimed by {task.assignee}")
        if version is None:
            raise Conflict(
                f"the task is assigned to {task.assignee}; to re-assign it, send the task's "
                f"version (now {task.version})"
            )
    user = session.scalar(select(User).where(User.username == username, User.is_active))
    target = principal_from_user(session, user) if user else None
    if target is None or session.scalar(readable_by(target).where(UserTask.id == task.id)) is None:
        raise InvalidInput(
            [{"field": "username", "message": f"{username!r} cannot work on this task"}]
        )
    task.assignee = username
    record_event(
        session,
        instance.id,
        principal.username,
        "task_assigned",
        element_id=task.element_id,
        element_name=task.name,
        task_id=task.id,
        data={"assignee": username},
    )
    session.flush()  # the answer carries the new version
    return task


def complete(
    session: Session, runtime: Runtime, principal: Principal, task_id: str, data: dict[str, Any]
) -> Completed:
    """Complete a task with its form's data and advance the instance, all in one transaction."""
    opened = _open_task(session, principal, task_id)
    task, instance, open_rows = opened.task, opened.instance, opened.open_rows
    if task.assignee not in (None, principal.username):
        raise Conflict(f"the task is claimed by {task.assignee}")
    schema = form_content(session, instance.definition, task.form, runtime.specs)
    data = choices.prepare(session, principal, schema, data, instance.station_id, instance.id)
    attached = attachments.attach(session, principal, schema, data, instance)
    data = signed(schema, data, principal, task.element_id, task.name, clock.now())
    with step_guard(instance, principal.username):
        workflow = load_workflow(runtime, session, instance)
        if schema is None and (
            problems := overwrites(data, runtime.runner.task_data(workflow, task.id))
        ):
            raise FormInvalid(problems)
        context = context_for(session, runtime, instance, principal.username, TOP)
        try:
            outcome = run_step(
                session,
                runtime,
                instance,
                context,
                lambda: runtime.runner.complete(workflow, task.id, data),
            )
        except TaskNotReady:
            raise Conflict(
                "the process instance has moved on; this task is no longer open"
            ) from None
        except EngineStepFailed as exc:
            if exc.incident is not None:  # what an administrator's retry or skip redoes
                redo = {"task_id": task.id, "data": serializer.plain(data)}
                exc.incident["data"] = {"retry": redo}
            raise
        created = finish_step(
            session,
            runtime,
            instance,
            workflow,
            outcome,
            principal.username,
            completed_task=task,
            form_data=data,
            open_rows=open_rows,
            open_incidents=opened.open_incidents,
        )
    if outcome.calls or outcome.thrown:  # the cascade may have changed the instance's tasks
        ready = waiting_steps(session, instance.id)
    else:  # the rows the step kept open and the ones it created
        ready = [row for row in open_rows if row.state == UserTaskState.READY] + created
    waiting = sorted(ready, key=lambda t: (t.created_at, t.id))
    return Completed(
        instance,
        [row for row in waiting if may_work_on(principal, row)],
        waiting,
        opened.attachments or attached,
    )


def complete_batch(
    session: Session,
    runtime: Runtime,
    principal: Principal,
    items: list[tuple[str, dict[str, Any]]],
) -> tuple[list[str], list[UserTask]]:
    """Complete many tasks, each exactly as `complete` would, all or none, in one transaction.

    Every task is looked up (404 naming the first one out of reach) and every form checked
    (422 listing all problems, each with its item's index) before anything changes.
    Returns the ids of the instances the tasks belonged to and the caller's ready tasks in them.
    """
    tasks = []
    for index, (task_id, _data) in enumerate(items):
        try:
            tasks.append(get_readable(session, principal, task_id))
        except NotFound as exc:
            raise NotFound({"index": index, "task_id": task_id, "message": exc.detail}) from None
    problems, seen = [], set()
    for index, (task, (task_id, data)) in enumerate(zip(tasks, items, strict=True)):
        if task_id in seen:
            problems.append(
                {"index": index, "task_id": task_id, "field": "id", "message": "listed twice"}
            )
        seen.add(task_id)
        schema = form_content(session, task.instance.definition, task.form)
        _data, found = choices.checked(
            session, principal, schema, data, task.instance.station_id, task.instance_id
        )
        for problem in found:
            problems.append({"index": index, "task_id": task_id, **problem})
    if problems:
        raise FormInvalid(problems)
    # Lock every instance up front in one order (children before their callers): two
    # batches over the same instances, or a batch and single completions, cannot then wait
    # on each other.
    lock_many(session, {task.instance_id for task in tasks})
    instances: list[str] = []
    for index, (task_id, data) in enumerate(items):
        try:
            instance = complete(session, runtime, principal, task_id, data).instance
        except XuejiError as exc:
            _name_item(exc, index, task_id)
            raise
        if instance.id not in instances:
            instances.append(instance.id)
    next_tasks = list(
        session.scalars(
            readable_by(principal)
            .where(UserTask.instance_id.in_(instances), UserTask.state == UserTaskState.READY)
            .order_by(UserTask.created_at, UserTask.id)
        )
    )
    return instances, next_tasks


def _name_item(exc: XuejiError, index: int, task_id: str) -> None:
    """Say which item of a batch failed, keeping the error (and any incident) as it is."""
    if isinstance(exc.detail, dict):
        exc.detail = {"index": index, "task_id": task_id, **exc.detail}
    else:
        exc.detail = {"index": index, "task_id": task_id, "message": exc.detail}


def task_detail(
    session: Session, runtime: Runtime, principal: Principal, task: UserTask
) -> TaskDetail:
    """A task with its form as the caller sees it (choices filled in for them, fields the
    session decides left out), the data it shows (the engine's, while it is open) and its
    documentation."""
    definition = task.instance.definition
    data, documentation = task.instance.variables, None
    if task.state == UserTaskState.READY:
        workflow = load_workflow(runtime, session, task.instance)
        data = runtime.runner.task_data(workflow, task.id)
        documentation = next(
            (t.documentation for t in runtime.runner.ready_tasks(workflow) if t.id == task.id), None
        )
    schema, ui_schema = choices.resolve(
        session,
        principal,
        form_content(session, definition, task.form),
        form_content(session, definition, task.ui_form),
        task.instance.station_id,
    )
    form = FormOut(schema=schema, ui_schema=ui_schema)
    return TaskDetail(
        **task_item(task).model_dump(),
        form=form,
        data=serializer.plain(data or {}),
        documentation=documentation,
        documents=[
            DocumentLink(**link)
            for link in step_documents(
                definition.key,
                task.element_id,
                task.instance_id,
                task.instance.student_id,
                data or {},
            )
        ],
    )
