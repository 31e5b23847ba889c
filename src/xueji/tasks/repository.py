"""The inbox query: READY tasks of running instances the caller may work on."""

from __future__ import annotations

from sqlalchemy import Select, select

from xueji import clock
from xueji.auth.principal import Principal
from xueji.instances.repository import readable_by as instances_readable_by
from xueji.instances.repository import tasks_readable_by
from xueji.models import ProcessDefinition, ProcessInstance, UserTask
from xueji.models.states import InstanceState, UserTaskState


def inbox_query(principal: Principal) -> Select:
    """READY tasks of running instances the caller may work on, oldest first."""
    query = (
        select(UserTask)
        .join(ProcessInstance, ProcessInstance.id == UserTask.instance_id)
        .where(
            UserTask.state == UserTaskState.READY, ProcessInstance.state == InstanceState.RUNNING
        )
    )
    return tasks_readable_by(principal, query)


def filtered_inbox(
    principal: Principal,
    *,
    process_key: str | None = None,
    instance_id: str | None = None,
    mine: bool = False,
    unassigned: bool = False,
    overdue: bool = False,
) -> Select:
    """The inbox narrowed by the list's filters, oldest first."""
    query = inbox_query(principal)
    if process_key:
        query = query.where(
            ProcessInstance.definition_id.in_(
                select(ProcessDefinition.id).where(ProcessDefinition.key == process_key)
            )
        )
    if instance_id:
        query = query.where(UserTask.instance_id == instance_id)
    if mine:
        query = query.where(UserTask.assignee == principal.username)
    if unassigned:
        query = query.where(UserTask.assignee.is_(None))
    if overdue:
        query = query.where(UserTask.overdue_clause(clock.now()))
    return query.order_by(UserTask.created_at, UserTask.id)


def overdue_tasks(principal: Principal, limit: int = 1000) -> Select:
    """Open tasks past their due date in every running instance the caller may see."""
    instances = instances_readable_by(principal, select(ProcessInstance.id)).where(
        ProcessInstance.state == InstanceState.RUNNING
    )
    return (
        select(UserTask)
        .where(
            UserTask.state == UserTaskState.READY,
            UserTask.instance_id.in_(instances),
            UserTask.overdue_clause(clock.now()),
        )
        .order_by(UserTask.due_at, UserTask.id)
        .limit(limit)
    )
