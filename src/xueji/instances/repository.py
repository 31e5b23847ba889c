"""Instance and user-task queries, scoped to what a caller may read or work on."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    false,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from xueji.auth.principal import Principal, scope_filter
from xueji.auth.roles import COLLEGE_WIDE, Role
from xueji.errors import NotFound
from xueji.models import (
    Attachment,
    HistoryEvent,
    Incident,
    ProcessDefinition,
    ProcessInstance,
    Station,
    User,
    UserTask,
)
from xueji.models.states import UserTaskState

# The names of the caller's station and student record in scoped task queries.
SCOPE_STATION, SCOPE_STUDENT = "scope_station", "scope_student"


def readable_by(principal: Principal, query: Select | None = None) -> Select:
    """Instances the caller may see: everything for college-wide roles, else own station/self."""
    query = query if query is not None else select(ProcessInstance)
    clause = scope_filter(principal, ProcessInstance.station_id, ProcessInstance.student_id)
    return query if clause is None else query.where(clause)


def get_readable(session: Session, principal: Principal, instance_id: str) -> ProcessInstance:
    instance = session.scalar(readable_by(principal).where(ProcessInstance.id == instance_id))
    if instance is None:
        raise NotFound(f"no process instance {instance_id!r}")
    return instance


def lock(session: Session, instance_id: str) -> ProcessInstance:
    """The instance row, locked for this transaction (PostgreSQL; SQLite has one writer)."""
    instance = session.scalar(
        select(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .with_for_update(of=ProcessInstance)
        .execution_options(populate_existing=True)
    )
    if instance is None:
        raise NotFound(f"no process instance {instance_id!r}")
    return instance


@dataclass(frozen=True)
class Locked:
    """A task's instance, locked, and what a step on it may skip looking up."""

    instance: ProcessInstance
    open_incidents: bool  # it has unresolved incidents
    attachments: bool  # its forms named uploads


def lock_by_task(session: Session, principal: Principal, task_id: str) -> Locked:
    """The instance of a task the caller may work on, locked, with whether it has open
    incidents and attachments, in one statement; 404 when there is no such task or it is
    not theirs."""
    shape = (principal.roles, principal.station_id is None, principal.student_id is None)
    row = session.execute(
        _lock_statement(shape, principal),
        {
            "task_id": task_id,
            SCOPE_STATION: principal.station_id,
            SCOPE_STUDENT: principal.student_id,
        },
    ).first()
    if row is None:
        raise NotFound(f"no task {task_id!r}")
    return Locked(row[0], bool(row[1]), bool(row[2]))


_LOCK_STATEMENTS: dict[tuple, Select] = {}


def _lock_statement(shape: tuple, principal: Principal) -> Select:
    """lock_by_task's statement for callers of one shape (roles, and whether they have a
    station and a student record), built once (building and keying it cost more than
    running it); the caller's station, student and the task are its parameters."""
    statement = _LOCK_STATEMENTS.get(shape)
    if statement is None:
        task_instance = tasks_readable_by(principal, select(UserTask.instance_id)).where(
            UserTask.id == bindparam("task_id")
        )
        open_incidents = exists().where(
            Incident.instance_id == ProcessInstance.id, Incident.resolved_at.is_(None)
        )
        attachments = exists().where(Attachment.instance_id == ProcessInstance.id)
        statement = (
            select(ProcessInstance, open_incidents.label("incidents"), attachments.label("files"))
            .where(ProcessInstance.id == task_instance.scalar_subquery())
            .with_for_update(of=ProcessInstance)
            .execution_options(populate_existing=True)
        )
        _LOCK_STATEMENTS[shape] = statement
    return statement


def lock_many(session: Session, instance_ids: set[str]) -> None:
    """Lock several instances in the one order every step keeps: a child before its caller
    (a step ending a child locks the child, then wakes the caller; terminating locks the
    descendants first), deepest first, then by id."""
    parents: dict[str, str | None] = {}
    wanted = set(instance_ids)
    while wanted:
        rows = session.execute(
            select(ProcessInstance.id, ProcessInstance.parent_id).where(
                ProcessInstance.id.in_(sorted(wanted))
            )
        ).all()
        parents.update({row.id: row.parent_id for row in rows})
        wanted = {row.parent_id for row in rows if row.parent_id} - set(parents)

    def depth(instance_id: str) -> int:
        steps, parent = 0, parents.get(instance_id)
        while parent is not None:
            steps, parent = steps + 1, parents.get(parent)
        return steps

    for instance_id in sorted(instance_ids, key=lambda i: (-depth(i), i)):
        lock(session, instance_id)


def tasks_readable_by(principal: Principal, query: Select | None = None) -> Select:
    """Tasks offered to a role the caller holds, within that role's scope (admins: all)."""
    query = query if query is not None else select(UserTask)
    if principal.is_admin:
        return query
    scopes: list[ColumnElement[bool]] = []
    wide = sorted(principal.roles & COLLEGE_WIDE)
    if wide:
        scopes.append(UserTask.role.in_([_role(role) for role in wide]))
    # The caller's station and student are named parameters, so that a statement built for
    # one caller serves every caller with the same roles (`lock_by_task`, the inbox's pages).
    for role in sorted(principal.roles & {Role.STATION, Role.ADVISOR}):
        if principal.station_id is not None:
            station = bindparam(SCOPE_STATION, principal.station_id, type_=Integer)
            scopes.append(and_(UserTask.role == _role(role), UserTask.station_id == station))
    if Role.STUDENT in principal.roles and principal.student_id is not None:
        student = bindparam(SCOPE_STUDENT, principal.student_id, type_=Integer)
        scopes.append(and_(UserTask.role == _role(Role.STUDENT), UserTask.student_id == student))
    return query.where(or_(*scopes) if scopes else false())


def _role(role: str) -> ColumnElement[str]:
    """A role in the SQL itself: statements kept per set of roles hold no other value."""
    return literal(role, literal_execute=True)


def may_work_on(principal: Principal, task: UserTask) -> bool:
    """tasks_readable_by's rule for a row in hand (the rows a step just wrote)."""
    if principal.is_admin or task.role in principal.roles & COLLEGE_WIDE:
        return True
    if task.role in principal.roles & {Role.STATION, Role.ADVISOR}:
        return principal.station_id is not None and task.station_id == principal.station_id
    return (
        task.role == Role.STUDENT
        and Role.STUDENT in principal.roles
        and principal.student_id is not None
        and task.student_id == principal.student_id
    )


def get_readable_task(session: Session, principal: Principal, task_id: str) -> UserTask:
    task = session.scalar(tasks_readable_by(principal).where(UserTask.id == task_id))
    if task is None:
        raise NotFound(f"no task {task_id!r}")
    return task


def open_tasks(session: Session, principal: Principal, instance_id: str) -> list[UserTask]:
    """The instance's READY tasks the caller may work on, oldest first."""
    return list(
        session.scalars(
            tasks_readable_by(principal)
            .where(UserTask.instance_id == instance_id, UserTask.state == UserTaskState.READY)
            .order_by(UserTask.created_at, UserTask.id)
        )
    )


def child_ids(session: Session, instance_id: str) -> list[str]:
    return list(
        session.scalars(
            select(ProcessInstance.id)
            .where(ProcessInstance.parent_id == instance_id)
            .order_by(ProcessInstance.call_index, ProcessInstance.id)
        )
    )


def incidents_of(session: Session, instance_id: str) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident).where(Incident.instance_id == instance_id).order_by(Incident.id)
        )
    )


def filtered_instances(
    principal: Principal,
    *,
    key: str | None = None,
    state: str | None = None,
    business_key: str | None = None,
    student: int | None = None,
    station: str | None = None,
    parent: str | None = None,
) -> Select:
    """Instances the caller may see, narrowed by the list's filters, oldest first."""
    query = readable_by(principal).join(ProcessDefinition)
    if key:
        query = query.where(ProcessDefinition.key == key)
    if state:
        query = query.where(ProcessInstance.state == state)
    if business_key:
        # A prefix: "2027-S01-" finds every case of the station's 2027 intake.
        query = query.where(ProcessInstance.business_key.startswith(business_key, autoescape=True))
    if student is not None:
        query = query.where(ProcessInstance.student_id == student)
    if station:
        query = query.where(
            ProcessInstance.station_id
            == select(Station.id).where(Station.code == station).scalar_subquery()
        )
    if parent:
        query = query.where(ProcessInstance.parent_id == parent)
    return query.order_by(ProcessInstance.started_at, ProcessInstance.id)


def history_of(session: Session, instance_id: str) -> list[HistoryEvent]:
    return list(
        session.scalars(
            select(HistoryEvent)
            .where(HistoryEvent.instance_id == instance_id)
            .order_by(HistoryEvent.id)
        )
    )


def display_names(session: Session, usernames: set[str]) -> dict[str, str]:
    """The display names of the users among these usernames (one query)."""
    if not usernames:
        return {}
    rows = session.execute(
        select(User.username, User.display_name).where(User.username.in_(usernames))
    )
    return {username: name for username, name in rows}


def incidents(session: Session, *, open_only: bool = True) -> list[Incident]:
    query = select(Incident).order_by(Incident.id)
    if open_only:
        query = query.where(Incident.resolved_at.is_(None))
    return list(session.scalars(query))
